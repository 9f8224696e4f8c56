"""The filter panel's text boxes read: times, addresses, ports, and the values a column holds.

Each reader raises a :class:`ValueError` whose message names the box and says how to write
the value; the panel shows it and keeps its previous selection until the box is fixed.

Examples
--------
>>> parse_ports(" 443, 8000 - 8100")
'443,8000-8100'
>>> parse_addresses("source", "192.0.2.1, 198.51.100.0/24")
['192.0.2.1', '198.51.100.0/24']
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from flowkit.errors import ArgumentError
from flowkit.filters import check_addresses, check_ports
from flowkit.sources.times import ambiguous_date, epoch_time, has_date, relative_time, text_timestamp

__all__ = ["present_values", "has_date", "parse_time", "parse_addresses", "parse_ports", "as_text"]

def present_values(series: pd.Series) -> list[str]:
    """Category values that occur in ``series``, in category order (sorted when not categorical).

    Examples
    --------
    >>> present_values(pd.Series(pd.Categorical(["deny"], categories=["allow", "deny"])))
    ['deny']
    """
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return sorted(str(v) for v in series.dropna().unique())
    codes = series.cat.codes.to_numpy()
    seen = pd.unique(codes[codes >= 0])
    cats = series.cat.categories
    return [str(cats[i]) for i in sorted(seen)]


def parse_time(name: str, text: str, day: str = "2024-05-01") -> pd.Timestamp | None:
    """The UTC time a box holds, None when empty; ``day`` is the date its error message suggests.

    Examples
    --------
    >>> parse_time("start", "2024-05-01T12:30+02:00")
    Timestamp('2024-05-01 10:30:00+0000', tz='UTC')
    >>> parse_time("start", " ") is None
    True
    """
    if not text.strip():
        return None
    text = text.strip()
    try:
        now = relative_time(text)
    except ArgumentError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if now is not None:
        return now
    if (epoch := epoch_time(text)) is not None:  # a tuple's timestamp, pasted
        return epoch
    ts = text_timestamp(text)  # as to_utc reads it
    if ts is None:
        raise ValueError(f"{name}: cannot read {text!r} as a time (use 2024-05-01T10:15Z)")
    if readings := ambiguous_date(text):
        raise ValueError(f"{name}: {text!r} could be {readings[0]} or {readings[1]}, so it is not applied: "
                         f"write the date year first, as {readings[1]}T{ts:%H:%M}Z")
    if not has_date(text):
        raise ValueError(f"{name}: {text!r} has no full date, so it is not applied (it would read as today): "
                         f"write the day too, as {day}T{ts:%H:%M}Z")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_addresses(name: str, text: str) -> list[str] | None:
    """The addresses and CIDR blocks a box holds (comma or space separated), None when empty.

    Examples
    --------
    >>> parse_addresses("destination", "2001:db8::1 203.0.113.0/24")
    ['2001:db8::1', '203.0.113.0/24']
    """
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    return check_addresses(name, parts) if parts else None  # an ArgumentError is a ValueError


def parse_ports(text: str) -> str | None:
    """The ports box as ``filter_flows`` takes it (``443,8000-8100``), None when empty: read by
    :func:`flowkit.filters.check_ports`, so the box accepts and refuses what ``filter_flows`` does.

    Examples
    --------
    >>> parse_ports("8100-8000")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: ports: '8100-8000' runs backwards, so no port is in it (use 8000-8100)
    """
    return check_ports(text)


def as_text(value: Any) -> str:
    """An initial filter value as a box shows it (lists comma separated, times in UTC).

    Examples
    --------
    >>> as_text([22, 443]), as_text(pd.Timestamp("2024-05-01T10:00Z")), as_text(None)
    ('22,443', '2024-05-01T10:00:00Z', '')
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, range)):
        return ",".join(str(v) for v in value)
    if isinstance(value, pd.Timestamp):  # isoformat keeps the fraction of a second, which strftime dropped
        return value.tz_convert("UTC").tz_localize(None).isoformat() + "Z" if value.tzinfo else value.isoformat()
    return str(value)
