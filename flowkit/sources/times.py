"""Times a user gives flowkit: ISO 8601 text, epoch numbers, ``now-2h``, and the window they make.

Every reader, ``filter_flows``, the CLI and the filter panel read ``start``/``end`` through
:func:`to_utc` and :func:`to_window`, so a time means the same everywhere: UTC unless it
carries an offset; an epoch number by its magnitude, as tuple timestamps are read;
``now``/``today``/``yesterday`` in UTC whatever the machine's time zone; a time without its
year, or a date that reads as two days, refused rather than read as pandas would guess.

Examples
--------
>>> [t.isoformat() for t in to_window("2024-05-01T10:00Z", 1714561200)]
['2024-05-01T10:00:00+00:00', '2024-05-01T11:00:00+00:00']
"""

from __future__ import annotations

import numbers
import re
from datetime import datetime

import pandas as pd

from flowkit.schema import EPOCH_SECONDS_BELOW

__all__ = ["to_utc", "to_window", "relative_time", "epoch_time", "text_timestamp", "ambiguous_date", "has_date",
           "unitless_duration"]


def to_utc(value: object) -> pd.Timestamp | None:
    """Parse a time given by a user (str, datetime, Timestamp) as a UTC Timestamp.

    Naive times are taken as UTC. None, NaT and a blank string mean "no time"
    (no bound) and give None. ``now``, ``now-2h``, ``today`` and ``yesterday`` are
    read by :func:`relative_time` (in UTC, whatever this machine's time zone).

    Raises
    ------
    flowkit.errors.ArgumentError
        When ``value`` is not a time (also a ValueError); the message names the value
        and the form expected.

    Examples
    --------
    >>> to_utc("2024-05-01T10:00Z").isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> to_utc("2024-05-01 12:00+02:00").isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> to_utc("") is None
    True
    >>> to_utc(1714557600).isoformat()  # an epoch number, by magnitude: seconds here
    '2024-05-01T10:00:00+00:00'
    >>> to_utc("2024-13-45")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: cannot read '2024-13-45' as a time: give ISO 8601 such as 2024-05-01T10:00Z (UTC unless it has an offset)

    A time of day without its date would read as today (pandas' choice), a window nobody
    meant; it is refused:

    >>> to_utc("10:30")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: '10:30' has no date (it would read as today): give the day too, such as 2024-05-01T10:30Z
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and (now := relative_time(value)) is not None:
        return now
    if (epoch := epoch_time(value)) is not None:
        return epoch
    if isinstance(value, str):
        ts = text_timestamp(value)
    else:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            ts = None
        else:
            if pd.isna(ts):
                return None  # a missing value (NaT, NaN): no bound
    if ts is None:
        from flowkit.errors import ArgumentError

        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ArgumentError(f"cannot read {shown} as a time: give ISO 8601 such as 2024-05-01T10:00Z "
                            "(UTC unless it has an offset)") from None
    if isinstance(value, str) and (readings := ambiguous_date(value)):
        from flowkit.errors import ArgumentError

        raise ArgumentError(f"{value.strip()!r} could be {readings[0]} or {readings[1]}: write the date year "
                            "first, such as 2024-05-01T10:00Z")
    if isinstance(value, str) and not has_date(value):
        from flowkit.errors import ArgumentError

        raise ArgumentError(f"{value.strip()!r} has no date (it would read as today): give the day too, "
                            f"such as 2024-05-01T{ts:%H:%M}Z")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def text_timestamp(text: str) -> pd.Timestamp | None:
    """The time pandas reads in ``text``, or None: none read, ``NaT``/``nan`` (not a time anyone
    meant), or a year nothing can print (``-5`` reads as the year -5).

    Examples
    --------
    >>> text_timestamp(" 2024-05-01T10:00Z ").isoformat(), text_timestamp("-5"), text_timestamp("nan")
    ('2024-05-01T10:00:00+00:00', None, None)
    """
    try:
        ts = pd.Timestamp(text.strip())
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(ts) or not 1 <= ts.year <= 9999 else ts


def epoch_time(value: object) -> pd.Timestamp | None:
    """An epoch time given as a number, or as text of 9 digits or more, read by its magnitude.

    A tuple's timestamp copied from a log (``1714557600`` seconds, ``1714557600123``
    milliseconds) is what a user pastes; pandas would read a number as nanoseconds
    (1970-01-01 00:00:01.7). Eight digits (``20240501``) are a date, left to pandas.

    Examples
    --------
    >>> epoch_time(1714557600).isoformat(), epoch_time("1714557600123").isoformat()
    ('2024-05-01T10:00:00+00:00', '2024-05-01T10:00:00.123000+00:00')
    >>> epoch_time("20240501") is None, epoch_time(True) is None, epoch_time(float("nan")) is None
    (True, True, True)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) >= 9):
            return None
        number: float = int(text)
    elif isinstance(value, numbers.Real):
        number = float(value) if not isinstance(value, numbers.Integral) else int(value)
        if number != number:  # NaN: no bound, as to_utc says
            return None
    else:
        return None
    scales = (("s", 1), ("ms", 10**3), ("us", 10**6))
    unit = next((u for u, top in scales if abs(number) < EPOCH_SECONDS_BELOW * top), "ns")
    try:
        return pd.Timestamp(number, unit=unit, tz="UTC")
    except (ValueError, OverflowError):
        return None


#: ``now``, ``now-2h``, ``now - 90min``, ``today``, ``yesterday`` (any case).
_RELATIVE = re.compile(r"^\s*(now|today|yesterday)\s*(?:([+-])\s*(\S.*?))?\s*$", re.IGNORECASE)


#: One part of a duration: a number and its unit (``2h``, ``90 min``, ``1.5 days``).
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])\s*",
    re.IGNORECASE)
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def _duration(text: str) -> pd.Timedelta | None:
    """``2h``, ``90min``, ``1d12h``, ``2 weeks`` as a Timedelta; None for anything else."""
    text, at, total = text.strip(), 0, pd.Timedelta(0)
    while at < len(text):
        part = _DURATION_PART.match(text, at)
        if part is None:
            return None
        unit = _UNIT[part[2][0].lower()]
        total += pd.Timedelta(**{unit: float(part[1])})
        at = part.end()
    return total if text else None


def relative_time(text: str, now: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The UTC time of ``now``, ``now-2h``, ``today`` (midnight UTC) or ``yesterday``, else None.

    pandas reads ``now`` and ``today`` as this machine's local clock, which flowkit
    would then take for UTC (an hour off in Berlin, in winter); and its ``today`` is
    the current time, not the start of the day. A duration after ``+`` or ``-`` is
    read by :class:`pandas.Timedelta` (``2h``, ``90min``, ``1d``, ``30s``).

    Raises
    ------
    flowkit.errors.ArgumentError
        When the duration cannot be read or is negative.

    Examples
    --------
    >>> at = pd.Timestamp("2024-05-01T10:30Z")
    >>> relative_time("now-2h", at).isoformat(), relative_time("today", at).isoformat()
    ('2024-05-01T08:30:00+00:00', '2024-05-01T00:00:00+00:00')
    >>> relative_time("yesterday + 6h", at).isoformat()
    '2024-04-30T06:00:00+00:00'
    >>> relative_time("2024-05-01") is None
    True
    """
    match = _RELATIVE.match(text)
    if match is None:
        return None
    word, sign, amount = match[1].lower(), match[2], match[3]
    now = pd.Timestamp.now(tz="UTC") if now is None else now.tz_convert("UTC")
    base = {"now": now, "today": now.normalize(), "yesterday": now.normalize() - pd.Timedelta(days=1)}[word]
    if sign is None:
        return base
    from flowkit.errors import ArgumentError

    try:
        delta = _duration(amount)
        if delta is not None:
            return base - delta if sign == "-" else base + delta
    except (ValueError, OverflowError):  # pandas' OutOfBounds errors: a duration or time past its range
        raise ArgumentError(f"{text.strip()!r} is out of the range of times flowkit can hold "
                            f"({pd.Timestamp.min.year + 1} to {pd.Timestamp.max.year - 1})") from None
    raise ArgumentError(f"cannot read {amount!r} in {text.strip()!r} as a duration: give e.g. now-2h, "
                        "now-90min or yesterday+6h")


def to_window(start: object, end: object) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start`` and ``end`` read by :func:`to_utc`, checked to be a window: ``start`` before ``end``.

    Rows are kept when ``start <= flow_time < end``; a ``start`` at or after ``end``
    keeps nothing, which is never what was meant (the two swapped, a wrong day).

    Raises
    ------
    flowkit.errors.ArgumentError
        When a value is not a time (see :func:`to_utc`; the message starts with ``start:`` or
        ``end:``), or ``start >= end``.

    Examples
    --------
    >>> [t.isoformat() for t in to_window("2024-05-01T10:00Z", "2024-05-01T11:00Z")]
    ['2024-05-01T10:00:00+00:00', '2024-05-01T11:00:00+00:00']
    >>> to_window(None, "2024-05-01")[0] is None
    True
    >>> to_window("2024-05-01T12:00Z", "2024-05-01T10:00Z")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: empty time window: start 2024-05-01T12:00:00+00:00 is not before end 2024-05-01T10:00:00+00:00 (rows are kept when start <= flow_time < end)
    >>> to_window("2024-05-01T10:00Z", "11:00")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: end: '11:00' has no date (it would read as today): give the day too, such as 2024-05-01T11:00Z
    """
    from flowkit.errors import ArgumentError

    bounds = []
    for name, value in (("start", start), ("end", end)):
        try:
            bounds.append(to_utc(value))
        except ArgumentError as exc:  # say which of the two it was
            raise ArgumentError(f"{name}: {exc}") from None
    lo, hi = bounds
    if lo is not None and hi is not None and lo >= hi:
        raise ArgumentError(f"empty time window: start {lo.isoformat()} is not before end {hi.isoformat()} "
                            "(rows are kept when start <= flow_time < end)")
    return lo, hi


#: A date written day-and-month first (``01/05/2024``, ``1.5.24``, ``01-05-2024``).
_DAY_MONTH_FIRST = re.compile(r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])")


def ambiguous_date(text: str) -> tuple[str, str] | None:
    """The two days a date written month or day first could be, when both are dates and differ.

    pandas reads ``01/05/2024`` month first (5 January), where most of the world writes
    1 May that way; a window of the wrong month selects nothing, or the wrong traffic,
    without a word. Such text is refused (:func:`to_utc`, the filter panel). A date only one
    reading allows (``13/05/2024``), or whose readings agree (``05/05/2024``), is not ambiguous.

    Examples
    --------
    >>> ambiguous_date("01/05/2024 10:00")
    ('2024-01-05', '2024-05-01')
    >>> ambiguous_date("13/05/2024"), ambiguous_date("2024/01/05"), ambiguous_date("05.05.2024")
    (None, None, None)
    """
    match = _DAY_MONTH_FIRST.match(text)
    if not match:
        return None
    first, second, year = int(match[1]), int(match[3]), match[4]
    if not (1 <= first <= 12 and 1 <= second <= 12) or first == second:
        return None
    full = int(year) if len(year) == 4 else pd.Timestamp(f"01/01/{year}").year  # pandas' century
    return f"{full:04d}-{first:02d}-{second:02d}", f"{full:04d}-{second:02d}-{first:02d}"


#: Two far-apart defaults: a date part the text does not give comes out different. Leap years, so
#: that ``Feb 29`` (no year) reads with both and is found yearless (1901 refused it: "has a date").
_DEFAULT_DAYS = (datetime(1904, 2, 3), datetime(1908, 4, 5))


def has_date(text: str) -> bool:
    """False when ``text`` gives no year: a time of day alone (``10:30``) or a day without its
    year (``May 1 10:30``).

    pandas reads such text as today's date (or this year): a filter nobody meant. A year
    or a month alone (``2024``, ``2024-06``, ``May 2024``) is a date: pandas reads it as
    its first day. Text the date parser cannot read at all (``now``, epoch numbers) is
    left to pandas.

    Examples
    --------
    >>> has_date("10:30"), has_date("2024-05-01T10:30Z"), has_date("May 1"), has_date("2024-06")
    (False, True, False, True)
    """
    from dateutil import parser

    try:
        first, second = (parser.parse(text, default=d) for d in _DEFAULT_DAYS)
    except (ValueError, OverflowError, TypeError):
        return True
    return first.year == second.year


def utc_text(t: pd.Timestamp) -> str:
    """A UTC time as flowkit's messages write it, to the second.

    Examples
    --------
    >>> utc_text(pd.Timestamp("2024-05-01T10:20:15.5Z"))
    '2024-05-01 10:20:15Z'
    """
    return t.strftime("%Y-%m-%d %H:%M:%S") + "Z"


#: A number without a unit (``120``, ``1.5``, ``1e3``), which pandas reads as nanoseconds.
_BARE_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def unitless_duration(value: object) -> bool:
    """True for a duration given as a number of no unit other than 0 (``120``, ``"120"``, ``2.5``):
    :class:`pandas.Timedelta` reads it as nanoseconds, which is never what a user means.

    Examples
    --------
    >>> unitless_duration("120"), unitless_duration(120), unitless_duration("2min"), unitless_duration(0)
    (True, True, False, False)
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return value != 0
    return isinstance(value, str) and _BARE_NUMBER.fullmatch(value) is not None and float(value) != 0
