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

import re
from dataclasses import dataclass
from urllib.parse import unquote

import pandas as pd

from flowkit.addresses import is_mac, normalize_mac
from flowkit.schema import LOG_TYPES
# Times a user gives: kept importable from here, where they lived first.
from flowkit.sources.times import ambiguous_date, epoch_time, has_date, relative_time, to_utc, to_window

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
