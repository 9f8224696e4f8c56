"""Helpers shared by the scale tests (imported by name: ``from scale_helpers import read_json``)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from flowkit.errors import FlowkitDataWarning
from flowkit.sources.local import LocalSource

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data-samples"
SCENARIOS = ("connectivity", "nsg-vs-vnet", "encryption")


def read_json(source: Any, **kwargs: Any) -> pd.DataFrame:
    """The pandas reader, quiet about quarantined tuples (the report is not what is tested here)."""
    from flowkit.read import read_flow_logs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        return read_flow_logs(source, **kwargs)


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes (pandas equality) and values, row by row.

    Category order is not compared: it follows the order blobs were decoded in.
    """
    assert list(left.columns) == list(right.columns)
    assert left.dtypes.equals(right.dtypes), (left.dtypes[left.dtypes != right.dtypes],
                                              right.dtypes[left.dtypes != right.dtypes])
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    for name in left.columns:
        pd.testing.assert_series_equal(left[name], right[name], check_exact=True, check_category_order=False)


def graph_dict(G: Any) -> dict:
    """A graph as comparable data (NaN shares made equal to each other)."""
    def norm(d: dict) -> dict:
        return {k: ("NaN" if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

    return {"graph": dict(G.graph), "nodes": {n: norm(d) for n, d in G.nodes(data=True)},
            "edges": {(u, v): norm(d) for u, v, d in G.edges(data=True)}}


#: Addresses of the denied corpus (RFC 5737 outside, 10.x inside).
SCAN_SRC, STORM_SRC, WEB_IP, APP_IP = "203.0.113.50", "198.51.100.7", "10.1.0.4", "10.1.0.5"
WEB_MAC, APP_MAC = "000D3A00D001", "000D3A00D002"
#: The scan is logged under DENY_ACL first, then as often under OTHER_ACL (alphabetically smaller).
DENY_ACL, OTHER_ACL = "5b2e0c1a-0000-4000-8000-00000000000b", "5b2e0c1a-0000-4000-8000-00000000000a"


def write_denied_corpus(dest: Path, hours: tuple[int, ...] = (10, 11, 12, 13), scan_ports: int = 600) -> Path:
    """VNet blobs (one per NIC and hour) where denied tuples are the vast majority.

    * a port scan: ``SCAN_SRC`` tries ports 1..``scan_ports`` of ``WEB_IP`` every hour
      (every group spans one blob per hour), under ``DENY_ACL`` in the first half of
      the hours and ``OTHER_ACL`` in the second (a tie);
    * a retry storm split across two blobs: ``STORM_SRC`` -> ``WEB_IP``:22 every 30 s
      from 10:55:15 to 11:04:45 (10 attempts in each hour, 20 within 10 minutes);
    * ``APP_IP`` -> ``WEB_IP``:1433 denied at both NICs (outbound at APP, inbound at WEB);
    * a little allowed traffic, APP -> WEB:443 (logged at WEB).
    """
    from flowkit.sources.layout import VNET_CONTAINER, vnet_blob_name
    from flowkit.synth import blob_bytes, record_time, vnet_record, vnet_tuple
    from flowkit.synth.tuples import TCP

    fl, target = "/SUBSCRIPTIONS/S/FLOWLOGS/FL-DENIED", "/subscriptions/s/virtualNetworks/vnet-denied"
    deny_in = "DefaultRule_DenyAllInBound"
    per_minute = -(-scan_ports // 60)
    for hour in hours:
        t0 = int(pd.Timestamp(f"2024-05-01T{hour:02d}:00Z").timestamp()) * 1000
        acl = DENY_ACL if hours.index(hour) < len(hours) // 2 else OTHER_ACL
        blobs: dict[str, list] = {WEB_MAC: [], APP_MAC: []}
        for minute in range(60):
            ms = t0 + minute * 60_000
            scan = [vnet_tuple(ms + 1000 * k, SCAN_SRC, WEB_IP, 50000 + minute, port, TCP, "I", "D", "NX")
                    for k, port in enumerate(range(1 + minute * per_minute,
                                                   1 + min(scan_ports, (minute + 1) * per_minute)))]
            storm = [vnet_tuple(ms + s * 1000, STORM_SRC, WEB_IP, 41000 + s, 22, TCP, "I", "D", "NX")
                     for s in (15, 45) if (hour, minute) >= (10, 55) and (hour, minute) < (11, 5)]
            sql = [(ms + 30_000, 42000 + minute)] if hour == 11 and minute % 2 == 0 else []
            allowed = ([vnet_tuple(ms + 5000, APP_IP, WEB_IP, 43000 + minute, 443, TCP, "I", "B", "NX")]
                       if minute % 10 == 0 else [])
            web_rules = [(deny_in, scan + storm)] if scan or storm else []
            if sql:
                web_rules.append(("UserRule_DenySqlFromApp",
                                  [vnet_tuple(t, APP_IP, WEB_IP, p, 1433, TCP, "I", "D", "NX") for t, p in sql]))
            web = [(acl, web_rules)] if web_rules else []
            if allowed:
                web.append((OTHER_ACL, [("DefaultRule_AllowVnetInBound", allowed)]))
            app = [(DENY_ACL, [("UserRule_DenySqlFromApp",
                                [vnet_tuple(t, APP_IP, WEB_IP, p, 1433, TCP, "O", "D", "NX") for t, p in sql])])] \
                if sql else []
            when = record_time(ms // 1000 + 52, 1234567)
            for mac, flows in ((WEB_MAC, web), (APP_MAC, app)):
                if flows:
                    blobs[mac].append(vnet_record(when, "guid-denied", mac, fl, target, flows))
        for mac, records in blobs.items():
            if records:
                path = dest / VNET_CONTAINER / vnet_blob_name("S", "RG", "NW", "FL-DENIED",
                                                              f"2024-05-01T{hour:02d}:00Z", mac)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(blob_bytes(records))
    return dest


def denied_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A canonical frame of hand-written denied rows (defaults: an inbound VNet denial at 10:00)."""
    from flowkit.schema import coerce

    base = {"flow_time": pd.Timestamp("2024-05-01T10:00Z"), "src_ip": "192.0.2.66", "dst_ip": "10.10.1.4",
            "src_port": 40000, "dst_port": 22, "protocol": 6, "direction": "inbound", "decision": "deny",
            "state": "D", "rule": "DefaultRule_DenyAllInBound", "acl_id": "acl-guid", "mac": "000D3A000101",
            "log_type": "vnet", "resource_id": "/SUBSCRIPTIONS/X/FLOWLOGS/FL"}
    return coerce(pd.DataFrame([{**base, **row} for row in rows]))


class SecretSource(LocalSource):
    """A local source holding a credential, as an Azure source may."""

    def __init__(self, paths, token: str) -> None:
        super().__init__(paths)
        self.token = token

    def __repr__(self) -> str:
        return f"SecretSource(token={self.token!r})"
