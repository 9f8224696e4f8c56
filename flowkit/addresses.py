"""Normalising the identifiers that appear in flow logs (MAC addresses).

Examples
--------
>>> normalize_mac("00-0d-3a-8d-51-b3")
'000D3A8D51B3'
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["normalize_mac", "is_mac"]

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
