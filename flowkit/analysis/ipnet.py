"""Address classes and networks, vectorised over many addresses (IPv4 in numpy,
IPv6 one by one: it is rare in flow logs).

Examples
--------
>>> private_mask(["10.1.2.3", "203.0.113.9"]).tolist()
[True, False]
>>> cidr_labels(["10.1.2.3"]).tolist()
['10.1.2.0/24']
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = ["is_private_ip", "ipv4_ints", "network_mask", "private_mask", "cidr_labels"]

_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
              "169.254.0.0/16", "127.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128")
)


@lru_cache(maxsize=65536)
def is_private_ip(address: str) -> bool:
    """True for private (RFC 1918, RFC 6598, link-local, loopback, ULA) addresses.

    Documentation ranges (RFC 5737, RFC 3849) count as public here, unlike
    :attr:`ipaddress.IPv4Address.is_private`: flowkit's samples use them for
    internet peers.

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.4``) is what its IPv4 address is.

    Examples
    --------
    >>> is_private_ip("10.10.1.4"), is_private_ip("203.0.113.7"), is_private_ip("not an ip")
    (True, False, False)
    >>> is_private_ip("::ffff:10.0.0.4")
    True
    """
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in _PRIVATE_NETS)


def ipv4_ints(addresses: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised IPv4 parsing: ``(is_ipv4, value)`` arrays (value 0 where not IPv4).

    Examples
    --------
    >>> ok, value = ipv4_ints(["10.0.0.1", "2001:db8::1", "300.1.1.1"])
    >>> ok.tolist(), int(value[0])
    ([True, False, False], 167772161)
    """
    text = pd.Series(list(addresses), dtype=object).astype(str)
    ok = text.str.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}").to_numpy(dtype=bool).copy()
    value = np.zeros(len(text), dtype=np.int64)
    if ok.any():
        parts = text[ok].str.split(".", expand=True).astype(np.int64).to_numpy()
        good = (parts <= 255).all(axis=1)
        idx = np.flatnonzero(ok)
        ok[idx[~good]] = False
        value[idx] = (parts[:, 0] << 24) | (parts[:, 1] << 16) | (parts[:, 2] << 8) | parts[:, 3]
        value[~ok] = 0
    return ok, value


def _v4_in(value: np.ndarray, network: ipaddress.IPv4Network) -> np.ndarray:
    mask = (0xFFFFFFFF << (32 - network.prefixlen)) & 0xFFFFFFFF
    return (value & mask) == int(network.network_address)


def network_mask(addresses: Iterable[str], networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
                 ) -> np.ndarray:
    """Index of the first network holding each address (-1 for none); IPv4 vectorised.

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.4``) is in an IPv4 network that holds its
    IPv4 address, as :func:`is_private_ip` reads it, and in an IPv6 network that holds it.

    Examples
    --------
    >>> nets = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("2001:db8::/64")]
    >>> network_mask(["10.0.0.9", "10.0.1.1", "2001:db8::5", "::ffff:10.0.0.7"], nets).tolist()
    [0, -1, 1, 0]
    """
    texts = list(addresses)
    nets = list(networks)
    out = np.full(len(texts), -1, dtype=np.int64)
    if not nets or not texts:
        return out
    ok, value = ipv4_ints(texts)
    for i, net in enumerate(nets):
        if net.version == 4:
            hit = ok & _v4_in(value, net) & (out < 0)
            out[hit] = i
    for j in np.flatnonzero(~ok):
        try:
            ip = ipaddress.ip_address(texts[j])
        except ValueError:
            continue
        mapped = ip.ipv4_mapped if ip.version == 6 else None  # ::ffff:10.0.0.4 is 10.0.0.4, as in is_private_ip
        for i, n in enumerate(nets):
            if (n.version == 6 and ip.version == 6 and ip in n) or (n.version == 4 and mapped is not None
                                                                    and mapped in n):
                out[j] = i
                break
    return out


def private_mask(addresses: Iterable[str], parsed: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """:func:`is_private_ip` for many addresses at once (IPv4 vectorised).

    Examples
    --------
    >>> private_mask(["10.1.2.3", "192.0.2.1", "fd00::1"]).tolist()
    [True, False, True]
    """
    texts = list(addresses)
    ok, value = parsed if parsed is not None else ipv4_ints(texts)
    out = np.zeros(len(texts), dtype=bool)
    for net in _PRIVATE_NETS:
        if net.version == 4:
            out |= ok & _v4_in(value, net)
    for j in np.flatnonzero(~ok):
        out[j] = is_private_ip(texts[j])
    return out


def cidr_labels(addresses: Iterable[str], v4_prefix: int = 24, v6_prefix: int = 64,
                parsed: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The network around each address (``10.0.0.0/24``, ``2001:db8::/64``); text that is
    not an address is returned as it is.

    Examples
    --------
    >>> cidr_labels(["10.1.2.3", "2001:db8::1", "x"]).tolist()
    ['10.1.2.0/24', '2001:db8::/64', 'x']

    An IPv4-mapped IPv6 address is in the IPv4 network around its IPv4 address, written
    in the mapped form:

    >>> cidr_labels(["::ffff:10.1.2.3"]).tolist()
    ['::ffff:10.1.2.0/120']
    """
    texts = list(addresses)
    ok, value = parsed if parsed is not None else ipv4_ints(texts)
    out = np.asarray(texts, dtype=object).copy()
    if ok.any():
        mask = (0xFFFFFFFF << (32 - v4_prefix)) & 0xFFFFFFFF
        net = value[ok] & mask
        octets = [pd.Series((net >> shift) & 255).astype(str) for shift in (24, 16, 8, 0)]
        out[ok] = (octets[0] + "." + octets[1] + "." + octets[2] + "." + octets[3]
                   + f"/{v4_prefix}").to_numpy(dtype=object)
    for j in np.flatnonzero(~ok):
        try:
            ip = ipaddress.ip_address(texts[j])
        except ValueError:
            continue
        if ip.version == 6 and ip.ipv4_mapped is not None:
            net = ipaddress.ip_network(f"{ip.ipv4_mapped}/{v4_prefix}", strict=False)
            out[j] = f"::ffff:{net.network_address}/{v4_prefix + 96}"
            continue
        prefix = v4_prefix if ip.version == 4 else v6_prefix
        out[j] = str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    return out
