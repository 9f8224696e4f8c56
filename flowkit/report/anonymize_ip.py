"""Keyed pseudonyms of IP addresses: a pure function of (key, address) that keeps classes and subnets.

Each address class is permuted onto itself, so distinct addresses (and distinct
subnets) stay distinct, private addresses stay private and the pseudonym of an
address never depends on what else a report holds:

- private IPv4 blocks (``10/8``, ``172.16/12``, ``192.168/16``, ``100.64/10``,
  ``169.254/16``) each onto themselves, prefix-preserving (Crypto-PAn style:
  two addresses sharing an ``n``-bit prefix share one after, and no more);
- public IPv4 onto public IPv4: a keyed permutation of the public ``/24``
  networks (prefix-preserving, with cycle-walking out of the private and kept
  blocks), then of the host byte. Distinct ``/24`` stay distinct; a pseudonym
  can be somebody's real public address. Shared prefixes are kept exactly for
  prefixes of ``/16`` or longer (the blocks walked out of are ``/16`` or wider);
- the limit of cycle-walking: in the class holding a kept address (public IPv4
  for 168.63.129.16, ``169.254/16`` for 169.254.169.254), the one address whose
  pseudonym would have been that kept address is walked on, and lands outside its
  ``/24``;
- IPv6 unique local (``fc00::/8``, ``fd00::/8``) and link-local (``fe80::/64``,
  the rest of ``fe80::/10``) each onto themselves; IPv4-mapped ``::ffff:a.b.c.d`` as its IPv4 address;
  every other IPv6 address into ``2001:db8::/32`` (RFC 3849), prefix-preserving
  below ``/32`` (two different addresses meet with a chance of 2**-96);
- kept as they are: Azure's platform addresses (168.63.129.16,
  169.254.169.254), ``0.0.0.0/8``, loopback, multicast, ``240.0.0.0/4``,
  ``::`` and ``ff00::/8``. No other address is ever mapped onto a kept one.

A pseudonym is an address like any other, so it can be the same text as some
other, real, address of the report; in an anonymised report every address is a
pseudonym, so that text there only ever means the pseudonym.

Examples
--------
>>> pseudo = AddressPseudonyms(b"k")
>>> a, b = pseudo.ip("10.10.1.4"), pseudo.ip("10.10.1.5")
>>> a.startswith("10.") and a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0]
True
>>> pseudo.ip("168.63.129.16"), pseudo.ip("::ffff:192.0.2.1").startswith("::ffff:")
('168.63.129.16', True)
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Callable

__all__ = ["AddressPseudonyms", "KEPT_ADDRESSES", "parse_address"]

#: Addresses that stay as they are (Azure platform addresses, unspecified, loopback, broadcast).
KEPT_ADDRESSES = frozenset({"168.63.129.16", "169.254.169.254", "0.0.0.0", "255.255.255.255", "127.0.0.1",
                            "::", "::1"})

_Net = tuple[int, int]  # (network as int, prefix length)


def _nets(*cidrs: str) -> tuple[_Net, ...]:
    return tuple((int(n.network_address), n.prefixlen) for n in map(ipaddress.ip_network, cidrs))


_V4_PRIVATE = _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
_V4_KEPT = _nets("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4")
_V6_PRIVATE = _nets("fc00::/8", "fd00::/8", "fe80::/64", "fe80::/10")
_V6_KEPT = _nets("::/128", "::1/128", "ff00::/8")
_V6_MAPPED = 0xFFFF << 32
_DOC_V6 = int(ipaddress.IPv6Address("2001:db8::"))
_KEPT_V4 = frozenset(int(ipaddress.ip_address(a)) for a in KEPT_ADDRESSES if "." in a)


def _within(value: int, net: _Net, width: int) -> bool:
    base, plen = net
    return value >> (width - plen) == base >> (width - plen)


def _public_24(net24: int) -> bool:
    """True when the ``/24`` numbered ``net24`` is public (in no private or kept block)."""
    return not any(_within(net24 << 8, net, 32) for net in _V4_PRIVATE + _V4_KEPT)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from text, also IPv4 written with leading zeros (``010.000.000.004``); None if not one.

    Examples
    --------
    >>> parse_address("010.000.000.004"), parse_address("300.1.1.1")
    (IPv4Address('10.0.0.4'), None)
    """
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdecimal() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))
    return None


class AddressPseudonyms:
    """The address half of :class:`~flowkit.report.anonymize.Anonymizer` (see the module notes).

    Parameters
    ----------
    key : bytes
        The secret key (HMAC-SHA256 is keyed with it).

    Examples
    --------
    >>> AddressPseudonyms(b"k").ip("10.20.1.0/24").endswith(".0/24")
    True
    """

    def __init__(self, key: bytes) -> None:
        self._key = bytes(key)
        self._bits: dict[tuple[str, int, int], int] = {}
        self._done: dict[str, str] = {}

    # -- keyed permutations --------------------------------------------------------------
    def _bit(self, family: str, depth: int, prefix: int) -> int:
        k = (family, depth, prefix)
        bit = self._bits.get(k)
        if bit is None:
            msg = f"pp-{family}-{depth}\x00{prefix}".encode("utf-8")
            bit = self._bits[k] = hmac.digest(self._key, msg, "sha256")[0] & 1
        return bit

    def _preserve(self, family: str, value: int, bits: int, start: int = 0) -> int:
        """Bits ``start..bits-1`` of a prefix-preserving keyed permutation of a ``bits``-bit number."""
        out = 0
        for i in range(start, bits):
            bit = (value >> (bits - 1 - i)) & 1
            out = (out << 1) | (bit ^ self._bit(family, i, value >> (bits - i)))
        return out

    @staticmethod
    def _walk(step: Callable[[int], int], value: int, avoid: Callable[[int], bool]) -> int:
        """Cycle-walking: a permutation of a set restricted to the part ``avoid`` rejects."""
        out = step(value)
        while avoid(out):
            out = step(out)
        return out

    def _block(self, family: str, value: int, net: _Net, width: int, avoid: Callable[[int], bool]) -> int:
        """``value`` permuted within ``net`` (prefix-preserving), walking past what ``avoid`` rejects."""
        base, plen = net
        host = width - plen
        mask = (1 << host) - 1

        def step(v: int) -> int:
            return base | self._preserve(f"{family}/{base:x}/{plen}", v & mask, host)

        return self._walk(step, value, avoid)

    def v4(self, value: int) -> int:
        """Pseudonym of an IPv4 address given as an int (see the module notes)."""
        if value in _KEPT_V4 or any(_within(value, net, 32) for net in _V4_KEPT):
            return value
        for net in _V4_PRIVATE:
            if _within(value, net, 32):
                return self._block("v4", value, net, 32, _KEPT_V4.__contains__)

        def net24(n: int) -> int:
            return self._walk(lambda m: self._preserve("v4pub", m, 24), n, lambda m: not _public_24(m))

        def step(v: int) -> int:
            return (net24(v >> 8) << 8) | self._preserve("v4pub-host", v, 32, 24)

        return self._walk(step, value, _KEPT_V4.__contains__)

    def v6(self, value: int) -> int:
        """Pseudonym of an IPv6 address given as an int (see the module notes)."""
        if any(_within(value, net, 128) for net in _V6_KEPT):
            return value
        if value >> 32 == 0xFFFF:
            return _V6_MAPPED | self.v4(value & 0xFFFFFFFF)
        for i, net in enumerate(_V6_PRIVATE):
            if _within(value, net, 128):  # fe80::/10 walks past fe80::/64, a block of its own
                return self._block("v6", value, net, 128,
                                   lambda v, inner=_V6_PRIVATE[:i]: any(_within(v, n, 128) for n in inner))
        return _DOC_V6 | self._preserve("v6", value, 128, 32)

    # -- text ---------------------------------------------------------------------------------
    def ip(self, value: str) -> str:
        """Pseudonym of an address or ``address/prefix``; text that is no address is returned unchanged.

        A prefix too long for the address (``192.0.2.1/33``) is kept as it is
        written; IPv4-mapped IPv6 keeps its ``::ffff:`` form.

        Examples
        --------
        >>> p = AddressPseudonyms(b"k")
        >>> p.ip("192.0.2.1/33") == p.ip("192.0.2.1") + "/33", p.ip("not an address")
        (True, 'not an address')
        """
        text = str(value)
        done = self._done.get(text)
        if done is None:
            done = self._done[text] = self._ip(text)
        return done

    def _ip(self, text: str) -> str:
        head, sep, plen = text.partition("/")
        addr = parse_address(head)
        if addr is None:
            return text
        mapped4: ipaddress.IPv4Address | None = None
        if addr.version == 4:
            out: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(self.v4(int(addr)))
            shown = str(out)
        else:
            out = ipaddress.IPv6Address(self.v6(int(addr)))
            mapped4 = out.ipv4_mapped if int(addr) >> 32 == 0xFFFF else None
            shown = f"::ffff:{mapped4}" if mapped4 is not None else str(out)
        if not sep:
            return shown
        if not plen.isdecimal() or int(plen) > out.max_prefixlen:
            return f"{shown}/{plen}"  # not a prefix: keep what is written
        n = int(plen)
        if mapped4 is not None and n >= 96:
            return f"::ffff:{ipaddress.IPv4Network(f'{mapped4}/{n - 96}', strict=False).network_address}/{n}"
        return str(ipaddress.ip_network(f"{out}/{n}", strict=False))
