"""Plan the narrowest blob-name prefixes to list for a log type, time window and filters.

Listing a flow-log container whole costs one call per 5,000 names (hours for millions of
blobs). The layout puts the resource first and the time after it, so flowkit:

1. discovers the resources (subscriptions, resource groups, NSGs or flow logs) level by
   level with delimiter listings, keeping only those the filters allow (a few calls);
2. lists, under each resource, one prefix per hour of the window (``y=/m=/d=/h=``), or one
   per whole day, month or year the window covers, down to ``…/m=00/macAddress={MAC}/``
   when a MAC is asked for.

Both VNet path forms (long ``SUBSCRIPTIONS/…/FLOWLOGS/{NAME}`` and short ``{SUB}_{RG}/{NW}_{NAME}``,
whose names are matched by :meth:`ResourceFilter.allows_short`, the rule listed blobs are kept by
too), NSG paths with and without ``macAddress=``, and roots spelt ``resourceId%3D`` are handled. Hours are chosen with
:func:`flowkit.sources.layout.hour_overlaps`, the rule local reads use.

Examples
--------
>>> from flowkit.sources.layout import to_utc
>>> time_prefixes(to_utc("2024-05-01T10:20Z"), to_utc("2024-05-01T10:40Z"))
['y=2024/m=05/d=01/h=10/']
>>> len(time_prefixes(to_utc("2024-05-01T00:00Z"), to_utc("2024-05-03T00:00Z")))
4
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import unquote

import pandas as pd

from flowkit.addresses import normalize_mac
from flowkit.sources.layout import SKEW, hour_overlaps, split_short_name

__all__ = ["ResourceFilter", "Plan", "resource_prefixes", "time_prefixes", "plan_prefixes",
           "LEGACY_NSG_BEFORE"]

#: ``children(prefix)`` returns the child prefixes (ending in ``/``) a delimiter listing
#: of ``prefix`` finds.
ChildLister = Callable[[str], list[str]]

#: NSG blobs of hours before this have no ``macAddress=`` level; with a MAC filter they
#: are found with one more prefix per hour.
LEGACY_NSG_BEFORE = pd.Timestamp("2019-01-01", tz="UTC")

#: With a MAC filter, windows up to this many hours are listed one hour at a time down to
#: the MAC; longer ones by day/month prefixes filtered by name.
MAX_MAC_HOURS = 24 * 7

_GUID_RG = re.compile(r"^([0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12})_(.+)$")
_ROOTS = {"nsg": "resourceId=/", "vnet": "flowLogResourceID=/"}


@dataclass(frozen=True)
class ResourceFilter:
    """Which resources to read; None means all. Names compare case-insensitively.

    Examples
    --------
    >>> ResourceFilter(nsg="nsg1").allows("nsg", "NSG1")
    True
    """

    subscription: str | None = None
    resource_group: str | None = None
    nsg: str | None = None
    network_watcher: str | None = None
    flow_log: str | None = None

    def allows(self, field_name: str, value: str | None) -> bool:
        """True when ``value`` passes the filter on ``field_name`` (or there is none)."""
        wanted = getattr(self, field_name)
        if wanted is None or value is None:
            return True
        return wanted.casefold() == value.casefold()

    def allows_short(self, segment: str) -> bool:
        """True when a short-form ``{NW}_{NAME}`` segment passes the watcher and flow-log filters.

        The one rule for planning and for filtering listed blobs. When the watcher has
        the name Azure gives it (``NetworkWatcher_<region>``, see
        :func:`flowkit.sources.layout.split_short_name`) the two names are compared whole.
        Otherwise where one ends is unknown: ``flow_log`` must end the segment after a
        ``_``, ``network_watcher`` must begin it before a ``_``, and both together must
        make the whole segment.

        Examples
        --------
        >>> ResourceFilter(flow_log="my_flowlog").allows_short("NETWORKWATCHER_EASTUS_MY_FLOWLOG")
        True
        >>> ResourceFilter(flow_log="flowlog").allows_short("NetworkWatcher_eastus_my_flowlog")
        False
        >>> ResourceFilter(network_watcher="nw_prod").allows_short("NW_PROD_fl1")
        True
        """
        nw, fl = self.network_watcher, self.flow_log
        if nw is None and fl is None:
            return True
        watcher, flow_log, certain = split_short_name(segment)
        if certain:
            return self.allows("network_watcher", watcher) and self.allows("flow_log", flow_log)
        text = segment.casefold()
        if nw is not None and fl is not None:
            return text == f"{nw}_{fl}".casefold()
        if fl is not None:
            return text.endswith("_" + fl.casefold()) and len(text) > len(fl) + 1
        return text.startswith(nw.casefold() + "_") and len(text) > len(nw) + 1


@dataclass(frozen=True)
class Plan:
    """What to list: ``(log_type, prefix)`` pairs, and how many discovery calls were made.

    ``roots`` counts the top folders of the layout found (``resourceId=/``,
    ``flowLogResourceID=/``), ``resources`` the NSG or flow-log folders the filters allow:
    no root means the container (or the user's prefix) is not laid out as Azure writes
    flow logs.
    """

    prefixes: tuple[tuple[str, str], ...]
    discovery_calls: int = 0
    roots: int = 0
    resources: int = 0


def _compatible(prefix: str, user_prefix: str) -> bool:
    return prefix.startswith(user_prefix) or user_prefix.startswith(prefix)


def _segment(child: str, parent: str) -> str:
    return child[len(parent):].rstrip("/")


class _Walker:
    def __init__(self, children: ChildLister, user_prefix: str) -> None:
        self._children = children
        self.user_prefix = user_prefix
        self.calls = 0
        self.roots = 0
        self.found: list[str] = []

    def children(self, prefix: str) -> list[str]:
        self.calls += 1
        return [c for c in self._children(prefix) if _compatible(c, self.user_prefix)]

    def const(self, prefix: str, segment: str) -> list[str]:
        nxt = prefix + segment
        return [nxt] if _compatible(nxt, self.user_prefix) else []


def _roots(w: _Walker, log_type: str) -> list[str]:
    """The top folders of a log type, whatever their case and ``=`` spelling (``resourceId=/``,
    ``RESOURCEID=/``, ``resourceId%3D/`` as older tools wrote it)."""
    wanted = _ROOTS[log_type].casefold()
    if (w.user_prefix and not unquote(w.user_prefix).casefold().startswith(wanted[:-1])
            and "/" in w.user_prefix):
        return []
    found = [c for c in w.children("") if unquote(c).casefold() == wanted]
    w.roots += len(found)
    return found


def _nsg_resources(w: _Walker, f: ResourceFilter) -> list[str]:
    out: list[str] = []
    subs_levels = [s for root in _roots(w, "nsg") for s in w.const(root, "SUBSCRIPTIONS/")]
    for subs in subs_levels:
        for sub in w.children(subs):
            if not f.allows("subscription", _segment(sub, subs)):
                continue
            for rgs in w.const(sub, "RESOURCEGROUPS/"):
                for rg in w.children(rgs):
                    if not f.allows("resource_group", _segment(rg, rgs)):
                        continue
                    for nsgs in w.const(rg, "PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/"):
                        out += [n for n in w.children(nsgs) if f.allows("nsg", _segment(n, nsgs))]
    return out


def _vnet_resources(w: _Walker, f: ResourceFilter) -> list[str]:
    out: list[str] = []
    tops = [(root, top) for root in _roots(w, "vnet") for top in w.children(root)]
    for root, top in tops:
        seg = _segment(top, root)
        if seg.upper() == "SUBSCRIPTIONS":  # long form
            for sub in w.children(top):
                if not f.allows("subscription", _segment(sub, top)):
                    continue
                for rgs in w.const(sub, "RESOURCEGROUPS/"):
                    for rg in w.children(rgs):
                        if not f.allows("resource_group", _segment(rg, rgs)):
                            continue
                        for nws in w.const(rg, "PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"):
                            for nw in w.children(nws):
                                if not f.allows("network_watcher", _segment(nw, nws)):
                                    continue
                                for fls in w.const(nw, "FLOWLOGS/"):
                                    out += [x for x in w.children(fls)
                                            if f.allows("flow_log", _segment(x, fls))]
            continue
        m = _GUID_RG.match(seg)  # short form {SUB}_{RG}/{NW}_{NAME}
        if not m or not (f.allows("subscription", m.group(1)) and f.allows("resource_group", m.group(2))):
            continue
        out += [nwfl for nwfl in w.children(top) if f.allows_short(_segment(nwfl, top))]
    return out


def resource_prefixes(log_type: str, children: ChildLister, filters: ResourceFilter = ResourceFilter(),
                      user_prefix: str = "") -> tuple[list[str], int]:
    """Find the resource folders (ending in ``/``) of one log type that the filters allow.

    Parameters
    ----------
    log_type : {"nsg", "vnet"}
    children : callable
        ``children(prefix)`` returns the child prefixes of a delimiter listing.
    filters : ResourceFilter
    user_prefix : str
        Only prefixes compatible with this one (either starts with the other) are kept.

    Returns
    -------
    (list of str, int)
        The resource prefixes and the number of listing calls made.

    Examples
    --------
    >>> tree = {"": ["resourceId=/"], "resourceId=/SUBSCRIPTIONS/": ["resourceId=/SUBSCRIPTIONS/S/"],
    ...         "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/": ["resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/"],
    ...         "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/":
    ...             ["resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N1/"]}
    >>> prefixes, calls = resource_prefixes("nsg", lambda p: tree.get(p, []))
    >>> prefixes[0].endswith("NETWORKSECURITYGROUPS/N1/"), calls
    (True, 4)
    """
    w = _walk(log_type, children, filters, user_prefix)
    return w.found, w.calls


def _walk(log_type: str, children: ChildLister, filters: ResourceFilter, user_prefix: str) -> _Walker:
    w = _Walker(children, user_prefix)
    w.found = _nsg_resources(w, filters) if log_type == "nsg" else _vnet_resources(w, filters)
    return w


def _hours(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    first = (start - SKEW - pd.Timedelta(hours=1)).floor("h")
    last = (end + SKEW).floor("h")
    hours = pd.date_range(first, last, freq="h")
    return [h for h in hours if hour_overlaps(h, start, end)]


def _hour_prefix(h: pd.Timestamp) -> str:
    return f"y={h.year:04d}/m={h.month:02d}/d={h.day:02d}/h={h.hour:02d}/"


def time_prefixes(start: pd.Timestamp, end: pd.Timestamp, *, compress: bool = True) -> list[str]:
    """The time part of the prefixes covering every hour whose blob may hold tuples in [start, end).

    Whole days, months and years of the window become one prefix each.

    Examples
    --------
    >>> from flowkit.sources.layout import to_utc
    >>> time_prefixes(to_utc("2024-01-01"), to_utc("2025-01-01"))[:2]
    ['y=2023/m=12/d=31/h=23/', 'y=2024/']
    """
    hours = _hours(start, end)
    if not compress:
        return [_hour_prefix(h) for h in hours]
    by_day: dict[tuple[int, int, int], list[pd.Timestamp]] = {}
    for h in hours:
        by_day.setdefault((h.year, h.month, h.day), []).append(h)
    by_month: dict[tuple[int, int], list] = {}
    for (y, mo, d), hs in by_day.items():
        by_month.setdefault((y, mo), []).append((d, hs))
    by_year: dict[int, list] = {}
    for (y, mo), days in by_month.items():
        by_year.setdefault(y, []).append((mo, days))
    out: list[str] = []
    for y, months in by_year.items():
        full_months = []
        for mo, days in months:
            n_days = pd.Timestamp(year=y, month=mo, day=1).days_in_month
            full_days = [len(hs) == 24 for _, hs in days]
            full_months.append(len(days) == n_days and all(full_days))
        if len(months) == 12 and all(full_months):
            out.append(f"y={y:04d}/")
            continue
        for (mo, days), full_month in zip(months, full_months):
            if full_month:
                out.append(f"y={y:04d}/m={mo:02d}/")
                continue
            for d, hs in days:
                if len(hs) == 24:
                    out.append(f"y={y:04d}/m={mo:02d}/d={d:02d}/")
                else:
                    out.extend(_hour_prefix(h) for h in hs)
    return out


def _year_bounds(children: ChildLister, resource: str) -> tuple[int, int] | None:
    years = []
    for child in children(resource + "y="):
        seg = _segment(child, resource)
        if seg[2:].isdigit():
            years.append(int(seg[2:]))
    return (min(years), max(years)) if years else None


def plan_prefixes(log_type: str, children: ChildLister, *, start: pd.Timestamp | None = None,
                  end: pd.Timestamp | None = None, mac: str | None = None,
                  filters: ResourceFilter = ResourceFilter(), user_prefix: str = "") -> Plan:
    """Plan the listing of one log type in one container.

    Parameters
    ----------
    log_type : {"nsg", "vnet"}
    children : callable
        ``children(prefix)`` returns child prefixes of a delimiter listing.
    start, end : pandas.Timestamp or None
        UTC window; an open side is closed at the first or last year found (the hours that
        may hold tuples of the window, by :func:`flowkit.sources.layout.hour_overlaps`, are
        still listed when the other side lies just outside those years).
    mac : str or None
        Normalised MAC; hour prefixes then end in ``m=00/macAddress={MAC}/``.
    filters : ResourceFilter
    user_prefix : str
        A prefix given by the user (``azure://account/container/prefix``).

    Examples
    --------
    >>> from flowkit.sources.layout import to_utc
    >>> root = "flowLogResourceID=/"
    >>> tree = {"": [root], root: [root + "00000000-0000-0000-0000-000000000001_RG/"],
    ...         root + "00000000-0000-0000-0000-000000000001_RG/":
    ...             [root + "00000000-0000-0000-0000-000000000001_RG/NW_fl1/"]}
    >>> plan = plan_prefixes("vnet", lambda p: tree.get(p, []), start=to_utc("2024-05-01T10:20Z"),
    ...                      end=to_utc("2024-05-01T10:30Z"), mac="000D3A000001")
    >>> plan.prefixes[0][1].split("/", 3)[-1]
    'y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000001/'
    """
    counted = _Walker(children, "")
    walked = _walk(log_type, children, filters, user_prefix)
    resources, calls = walked.found, walked.calls
    mac = normalize_mac(mac)
    out: list[tuple[str, str]] = []
    for resource in resources:
        lo, hi = start, end
        if lo is None and hi is None:
            times: list[str] = [""]
        else:
            if lo is None or hi is None:
                bounds = _year_bounds(counted.children, resource)
                if bounds is None:
                    continue
                if lo is None:
                    lo = pd.Timestamp(year=bounds[0], month=1, day=1, tz="UTC")
                if hi is None:
                    hi = pd.Timestamp(year=bounds[1] + 1, month=1, day=1, tz="UTC")
            if start is not None and end is not None and lo >= hi:
                continue  # an empty window; a side closed at the years found is left to hour_overlaps: a
                # start a few minutes after the last year still wants that year's last hour (SKEW)
            hours = _hours(lo, hi)
            if mac and len(hours) <= MAX_MAC_HOURS:
                times = []
                for h in hours:
                    times.append(_hour_prefix(h) + f"m=00/macAddress={mac}/")
                    if log_type == "nsg" and h < LEGACY_NSG_BEFORE:
                        times.append(_hour_prefix(h) + "m=00/PT1H")
            else:
                times = time_prefixes(lo, hi)
        for t in times:
            prefix = resource + t
            if _compatible(prefix, user_prefix):
                out.append((log_type, max(prefix, user_prefix, key=len)))
    return Plan(prefixes=tuple(out), discovery_calls=calls + counted.calls, roots=walked.roots,
                resources=len(resources))


def dedupe(prefixes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop repeated pairs, keeping order."""
    seen: set = set()
    return [p for p in prefixes if not (p in seen or seen.add(p))]
