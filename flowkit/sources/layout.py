"""The Azure blob layout of flow logs: parse a path into metadata, and build one.

Network Watcher writes one ``PT1H.json`` block blob per hour per NIC:

* NSG: ``resourceId=/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{RG}/PROVIDERS/MICROSOFT.NETWORK/
  NETWORKSECURITYGROUPS/{NSG}/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress={MAC}/PT1H.json``
  (before 2018 without ``macAddress=``; older tools show ``resourceId%3D``);
* VNet: ``flowLogResourceID=/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{RG}/PROVIDERS/
  MICROSOFT.NETWORK/NETWORKWATCHERS/{NW}/FLOWLOGS/{NAME}/y=…/macAddress={MAC}/PT1H.json``
  or the short form ``flowLogResourceID=/{SUB}_{RG}/{NW}_{NAME}/y=…``, where both names may
  hold ``_`` (see :func:`split_short_name`).

Examples
--------
>>> meta = parse_blob_path(nsg_blob_name("SUB", "RG", "NSG1", "2024-05-01T10:00Z", "000D3A000001"))
>>> meta.log_type, meta.nsg, meta.hour.isoformat(), meta.mac
('nsg', 'NSG1', '2024-05-01T10:00:00+00:00', '000D3A000001')
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

import pandas as pd

from flowkit.addresses import is_mac, normalize_mac
from flowkit.schema import LOG_TYPES

__all__ = [
    "BlobMeta",
    "to_window",
    "ambiguous_date",
    "check_selection",
    "NSG_CONTAINER",
    "VNET_CONTAINER",
    "parse_blob_path",
    "nsg_blob_name",
    "vnet_blob_name",
    "to_utc",
    "relative_time",
    "epoch_time",
    "has_date",
    "hour_overlaps",
    "split_short_name",
    "SKEW",
]

NSG_CONTAINER = "insights-logs-networksecuritygroupflowevent"
VNET_CONTAINER = "insights-logs-flowlogflowevent"

#: Tuples in an hourly blob can carry timestamps a little outside that hour (a
#: record written at 10:00:20 holds tuples of 09:59). Blobs are skipped by hour
#: only when the hour, widened by this margin, misses the requested window.
SKEW = pd.Timedelta(minutes=10)

_TIME = r"y=(?P<y>\d{4})/m=(?P<mo>\d{1,2})/d=(?P<d>\d{1,2})/h=(?P<h>\d{1,2})(?:/m=(?P<mi>\d{1,2}))?"
_MAC = r"(?:/macAddress=(?P<mac>[0-9A-Fa-f:-]+))?"
_NSG = re.compile(
    r"resourceId=/SUBSCRIPTIONS/(?P<sub>[^/]+)/RESOURCEGROUPS/(?P<rg>[^/]+)/PROVIDERS/"
    r"MICROSOFT\.NETWORK/NETWORKSECURITYGROUPS/(?P<nsg>[^/]+)/" + _TIME + _MAC,
    re.IGNORECASE,
)
_VNET_LONG = re.compile(
    r"flowLogResourceID=/SUBSCRIPTIONS/(?P<sub>[^/]+)/RESOURCEGROUPS/(?P<rg>[^/]+)/PROVIDERS/"
    r"MICROSOFT\.NETWORK/NETWORKWATCHERS/(?P<nw>[^/]+)/FLOWLOGS/(?P<fl>[^/]+)/" + _TIME + _MAC,
    re.IGNORECASE,
)
_VNET_SHORT = re.compile(
    r"flowLogResourceID=/(?P<sub>[0-9A-Fa-f-]{36})_(?P<rg>[^/]+)/(?P<nwfl>[^/_]+_[^/]+)/" + _TIME + _MAC,
    re.IGNORECASE,
)
#: The name Azure gives a region's watcher, ``NetworkWatcher_<region>`` (a region has no ``_``).
_DEFAULT_WATCHER = re.compile(r"^(NetworkWatcher_[^_/]+)_([^/]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class BlobMeta:
    """What a blob's path says about it. Every field may be None for files not in the layout."""

    log_type: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    nsg: str | None = None
    network_watcher: str | None = None
    flow_log: str | None = None
    hour: pd.Timestamp | None = None
    mac: str | None = None
    short_form: bool = False

    @property
    def resource_id(self) -> str | None:
        """The NSG or flow-log resource ID the path names (upper-case, as Azure writes it)."""
        if self.log_type == "nsg" and self.nsg:
            return (f"/SUBSCRIPTIONS/{self.subscription}/RESOURCEGROUPS/{self.resource_group}"
                    f"/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{self.nsg}").upper()
        if self.log_type == "vnet" and self.flow_log:
            return (f"/SUBSCRIPTIONS/{self.subscription}/RESOURCEGROUPS/{self.resource_group}"
                    f"/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/{self.network_watcher}"
                    f"/FLOWLOGS/{self.flow_log}").upper()
        return None


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
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError):
        ts = None
    else:
        if pd.isna(ts):
            if not isinstance(value, str):
                return None  # a missing value (NaT, NaN): no bound
            ts = None  # the text "NaT" or "nan": not a time anyone meant
        elif not 1 <= ts.year <= 9999:
            ts = None  # "-5" reads as the year -5, which nothing can print
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


#: Epoch numbers below this are seconds, below 1000 times it milliseconds, and so on (as tuples are read).
_EPOCH_SECONDS_BELOW = 10**11


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
    unit = next((u for u, top in scales if abs(number) < _EPOCH_SECONDS_BELOW * top), "ns")
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
    delta = _duration(amount)
    if delta is None:
        from flowkit.errors import ArgumentError

        raise ArgumentError(f"cannot read {amount!r} in {text.strip()!r} as a duration: give e.g. now-2h, "
                            "now-90min or yesterday+6h")
    return base - delta if sign == "-" else base + delta


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


def check_selection(log_type: object = None, mac: object = None) -> None:
    """Refuse a ``log_type`` or ``mac`` no flow log can hold, as :func:`flowkit.filter_flows` does.

    A reader given one would select nothing and return an empty frame, which looks like no
    traffic (``log_type="VNet"`` for ``"vnet"``, a MAC with a digit missing, an empty MAC).
    ``None`` selects everything.

    Raises
    ------
    flowkit.errors.ArgumentError
        When ``log_type`` is not ``"nsg"`` or ``"vnet"``, or ``mac`` is not 12 hex digits once
        ``-``, ``:`` and ``.`` are removed.

    Examples
    --------
    >>> check_selection("vnet", "00-0d-3a-00-01-01")
    >>> check_selection("VNet")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: log_type: 'VNet' is not one of nsg, vnet
    """
    from flowkit.errors import ArgumentError

    if log_type is not None and log_type not in LOG_TYPES:
        raise ArgumentError(f"log_type: {log_type!r} is not one of {', '.join(LOG_TYPES)}")
    if mac is not None and not is_mac(normalize_mac(str(mac))):
        raise ArgumentError(f"mac: {mac!r} is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)")


#: Two far-apart defaults: a date part the text does not give comes out different.
_DEFAULT_DAYS = (datetime(1901, 2, 3), datetime(1902, 4, 5))


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


def hour_overlaps(hour: pd.Timestamp | None, start: pd.Timestamp | None,
                  end: pd.Timestamp | None) -> bool:
    """True when the blob hour (widened by :data:`SKEW`) may hold tuples in [start, end).

    Examples
    --------
    >>> h = to_utc("2024-05-01T10:00Z")
    >>> hour_overlaps(h, to_utc("2024-05-01T11:05Z"), None)
    True
    >>> hour_overlaps(h, to_utc("2024-05-01T12:00Z"), None)
    False
    """
    if hour is None:
        return True
    if start is not None and hour + pd.Timedelta(hours=1) + SKEW <= start:
        return False
    if end is not None and hour - SKEW >= end:
        return False
    return True


def parse_blob_path(path: str) -> BlobMeta:
    """Parse a local path or blob name laid out as Azure writes flow logs.

    Parameters
    ----------
    path : str
        A blob name or file path; anything before ``resourceId=`` or
        ``flowLogResourceID=`` (a container, a folder) is ignored.

    Returns
    -------
    BlobMeta
        Empty (all None) when the path is not in the layout.

    Examples
    --------
    >>> m = parse_blob_path("x/flowLogResourceID=/00000000-0000-0000-0000-000000000001_NWRG/"
    ...                     "NetworkWatcher_eastus_fl1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000001/PT1H.json")
    >>> m.log_type, m.network_watcher, m.flow_log, m.short_form
    ('vnet', 'NetworkWatcher_eastus', 'fl1', True)
    """
    text = unquote(str(path).replace("\\", "/"))
    for regex, log_type, short in ((_NSG, "nsg", False), (_VNET_LONG, "vnet", False),
                                   (_VNET_SHORT, "vnet", True)):
        m = regex.search(text)
        if not m:
            continue
        g = m.groupdict()
        if g.get("nwfl"):
            g["nw"], g["fl"], _ = split_short_name(g["nwfl"])
        try:
            hour = pd.Timestamp(year=int(g["y"]), month=int(g["mo"]), day=int(g["d"]),
                                hour=int(g["h"]), tz="UTC")
        except ValueError:
            hour = None
        return BlobMeta(
            log_type=log_type,
            subscription=g.get("sub"),
            resource_group=g.get("rg"),
            nsg=g.get("nsg"),
            network_watcher=g.get("nw"),
            flow_log=g.get("fl"),
            hour=hour,
            mac=normalize_mac(g.get("mac")),
            short_form=short,
        )
    return BlobMeta()


def split_short_name(segment: str) -> tuple[str, str, bool]:
    """Split the ``{NW}_{NAME}`` segment of a short-form VNet path into watcher and flow log.

    Both names may hold ``_``. A watcher named as Azure names it, ``NetworkWatcher_<region>``
    (a region has no ``_``), ends at the second ``_``: the rest is the flow log, whatever it
    holds. Any other watcher name is taken to end at the first ``_``; the split is then a
    guess, and the third value is False.

    Returns
    -------
    (str, str, bool)
        Watcher, flow log, and whether the split is certain.

    Examples
    --------
    >>> split_short_name("NETWORKWATCHER_EASTUS_MY_FLOWLOG")
    ('NETWORKWATCHER_EASTUS', 'MY_FLOWLOG', True)
    >>> split_short_name("nw-prod_fl_1")
    ('nw-prod', 'fl_1', False)
    """
    m = _DEFAULT_WATCHER.match(segment)
    if m:
        return m.group(1), m.group(2), True
    watcher, _, flow_log = segment.partition("_")
    return watcher, flow_log, False


def _time_part(hour: object) -> str:
    h = to_utc(hour)
    assert h is not None
    return f"y={h.year:04d}/m={h.month:02d}/d={h.day:02d}/h={h.hour:02d}/m=00"


def nsg_blob_name(subscription: str, resource_group: str, nsg: str, hour: object,
                  mac: str | None = None) -> str:
    """Build the blob name Azure uses for an NSG flow log hour (without the container).

    Examples
    --------
    >>> nsg_blob_name("S", "rg", "nsg1", "2024-05-01T10:00Z", "000d3a000001")[:40]
    'resourceId=/SUBSCRIPTIONS/S/RESOURCEGROU'
    """
    name = "resourceId=" + (f"/SUBSCRIPTIONS/{subscription}/RESOURCEGROUPS/{resource_group}"
                            f"/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{nsg}").upper()
    name += "/" + _time_part(hour)
    if mac:
        name += f"/macAddress={normalize_mac(mac)}"
    return name + "/PT1H.json"


def vnet_blob_name(subscription: str, resource_group: str, network_watcher: str, flow_log: str,
                   hour: object, mac: str | None = None, *, short: bool = False) -> str:
    """Build the blob name of a VNet flow log hour, in the long or the short form.

    Examples
    --------
    >>> vnet_blob_name("S", "RG", "NW", "FL", "2024-05-01T10:00Z", "000D3A000001", short=True)
    'flowLogResourceID=/S_RG/NW_FL/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000001/PT1H.json'
    """
    if short:
        name = f"flowLogResourceID=/{subscription}_{resource_group}/{network_watcher}_{flow_log}"
    else:
        name = "flowLogResourceID=" + (f"/SUBSCRIPTIONS/{subscription}/RESOURCEGROUPS/{resource_group}"
                                       f"/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/{network_watcher}"
                                       f"/FLOWLOGS/{flow_log}").upper()
    name += "/" + _time_part(hour)
    if mac:
        name += f"/macAddress={normalize_mac(mac)}"
    return name + "/PT1H.json"
