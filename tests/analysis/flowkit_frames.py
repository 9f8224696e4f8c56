"""Helpers of the investigation tests: hand-written canonical rows, scenario paths.

Imported by name from tests (``from flowkit_frames import tuple_row``); the directory
is on ``sys.path`` through pytest's default (prepend) import mode.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flowkit.schema import coerce

REPO = Path(__file__).resolve().parents[2]
SAMPLES = Path(os.environ.get("FLOWKIT_DATA_SAMPLES", REPO / "data-samples"))
CONFORMANCE = REPO / ".." / "shared" / "conformance"

BASE_TIME = pd.Timestamp("2024-05-01T10:00:00Z")

#: MACs and addresses used by hand-written frames (RFC 5737 for public peers).
WEB, APP, DB = "10.10.1.4", "10.10.2.4", "10.10.3.4"
WEB_MAC, APP_MAC, DB_MAC = "000D3A000101", "000D3A000201", "000D3A000301"
INTERNET = "198.51.100.10"
SCANNER = "192.0.2.66"


def tuple_row(minute: float = 0, *, src: str = WEB, dst: str = APP, sport: int = 50000, dport: int = 8080,
              proto: int = 6, direction: str = "outbound", decision: str = "allow", state: str | None = "B",
              encryption: str | None = "NX", counters: tuple[int, int, int, int] | None = None,
              rule: str = "DefaultRule_AllowVnetOutBound", acl_id: str | None = "acl-guid",
              mac: str = WEB_MAC, log_type: str = "vnet", resource_id: str | None = None,
              version: int | None = None) -> dict[str, Any]:
    """One canonical row; counters (ps, bs, pr, br) default to 0 for VNet B/D and missing for NSG B."""
    if counters is None:
        counters = (0, 0, 0, 0) if log_type == "vnet" else (None, None, None, None)  # type: ignore[assignment]
    ps, bs, pr, br = counters  # type: ignore[misc]
    return {
        "flow_time": BASE_TIME + pd.Timedelta(minutes=minute),
        "src_ip": src, "dst_ip": dst, "src_port": sport, "dst_port": dport, "protocol": proto,
        "direction": direction, "decision": decision, "state": state,
        "encryption": encryption if log_type == "vnet" else None,
        "packets_sent": ps, "bytes_sent": bs, "packets_received": pr, "bytes_received": br,
        "rule": rule, "acl_id": acl_id if log_type == "vnet" else None, "mac": mac,
        "log_type": log_type, "version": version or (4 if log_type == "vnet" else 2),
        "resource_id": resource_id or ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/"
                                       "networkSecurityGroups/nsg-test" if log_type == "nsg"
                                       else "/SUBSCRIPTIONS/X/FLOWLOGS/FL"),
    }


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A canonical frame from rows made by :func:`tuple_row`."""
    return coerce(pd.DataFrame(rows))


def scenario_dir(name: str) -> Path:
    path = SAMPLES / name
    if not (path / "expected.json").is_file():
        pytest.fail(f"data-samples/{name} is missing its expected.json: run `make samples`")
    return path


def read_scenario(name: str, container: str | None = None) -> pd.DataFrame:
    from flowkit.read import read_flow_logs

    path = scenario_dir(name)
    target = path / container if container else path
    with warnings.catch_warnings():
        # The scenario folder also holds expected.json and nics.json (not flow logs).
        warnings.simplefilter("ignore")
        return read_flow_logs(str(target))


