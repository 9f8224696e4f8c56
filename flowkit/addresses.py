"""Normalising the identifiers that appear in flow logs (MAC addresses, IP addresses).

Examples
--------
>>> normalize_mac("00-0d-3a-8d-51-b3")
'000D3A8D51B3'
>>> canonical_ip("2001:DB8:0:0::9")
'2001:db8::9'
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

__all__ = ["normalize_mac", "is_mac", "canonical_ip", "ipv6_text"]

_SEPARATORS = re.compile(r"[-:.\s]")
_MAC = re.compile(r"^[0-9A-F]{12}$")


@lru_cache(maxsize=4096)
def normalize_mac(value: str | None) -> str | None:
    """Return a MAC address as 12 upper-case hex digits, or None when empty.

    Dashes, colons and dots are removed (``az`` CLI and Traffic Analytics print
    ``00-0D-3A-…``). A value that is not a MAC after that is returned upper-cased
    as it is, so nothing is lost; use :func:`is_mac` to check.

    Examples
    --------
    >>> normalize_mac("000d3a8d51b3")
    '000D3A8D51B3'
    >>> normalize_mac("") is None
    True
    """
    if value is None:
        return None
    text = _SEPARATORS.sub("", str(value)).upper()
    return text or None


def is_mac(value: str | None) -> bool:
    """True when ``value`` is 12 upper-case hex digits (a normalised MAC).

    Examples
    --------
    >>> is_mac("000D3A8D51B3"), is_mac("00-0D")
    (True, False)
    """
    return bool(value) and bool(_MAC.match(value))


@lru_cache(maxsize=4096)
def canonical_ip(value: str) -> str:
    """An address in the one spelling the flow table keeps; other text as it is (stripped).

    IPv6 in RFC 5952 form (lower case, zeros compressed), except that an IPv4-mapped
    address keeps its dotted quad (``::ffff:192.0.2.1``, as the reader writes it; Python
    3.11 would write ``::ffff:c000:201``). IPv4 as it is.

    Examples
    --------
    >>> canonical_ip("::FFFF:192.0.2.1"), canonical_ip("::ffff:c000:201"), canonical_ip(" 192.0.2.1 ")
    ('::ffff:192.0.2.1', '::ffff:192.0.2.1', '192.0.2.1')
    >>> canonical_ip("not an address")
    'not an address'
    """
    text = str(value).strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    return ipv6_text(address) if address.version == 6 else address.compressed


def ipv6_text(address: ipaddress.IPv6Address) -> str:
    """The RFC 5952 text of an IPv6 address; an IPv4-mapped one keeps its dotted quad.

    Examples
    --------
    >>> ipv6_text(ipaddress.IPv6Address("2001:DB8:0:0::9")), ipv6_text(ipaddress.IPv6Address("::ffff:c000:201"))
    ('2001:db8::9', '::ffff:192.0.2.1')
    """
    return f"::ffff:{address.ipv4_mapped}" if address.ipv4_mapped is not None else address.compressed
