"""Data of the report tests: scenario paths, hostile strings and the hand-written hostile logs.

A uniquely named module (not conftest) so that test modules of other folders never shadow it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data-samples"
ARTIFACTS = REPO / "test-artifacts"
VNET = "insights-logs-flowlogflowevent"
NSG = "insights-logs-networksecuritygroupflowevent"
CREATED = "2024-05-02T09:00:00Z"


def scenario_path(name: str) -> Path:
    path = SAMPLES / name
    if not (path / "expected.json").is_file():
        pytest.fail(f"data-samples/{name} is missing: run `make samples`", pytrace=False)
    return path


def read(paths: list[Path]) -> pd.DataFrame:
    from flowkit import read_flow_logs

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the samples have no damage: any warning is a bug
        return read_flow_logs([str(p) for p in paths] if len(paths) > 1 else str(paths[0]), progress=False)


#: Hostile strings planted in hand-written logs (rule names, resource IDs, blob names).
SCRIPT = "<script>window.__pwned=1</script>"
ONERROR = "\"><img src=x onerror=\"window.__pwned=2\">"
JS_URL = "javascript:window.__pwned=3"
LONG = "A" * 10_000


def hostile_vnet_record(rule: str, acl_id: str, mac: str = "000D3A00AB01") -> dict[str, Any]:
    """One VNet flow log v4 record (RFC 5737 addresses) whose rule and aclID are ``rule`` and ``acl_id``."""
    tuples = [
        "1714557600000,192.0.2.10,198.51.100.20,50001,443,6,O,B,NX,0,0,0,0",
        "1714557660000,192.0.2.10,198.51.100.20,50001,443,6,O,E,NX,5,500,4,4000",
        "1714557620000,203.0.113.9,192.0.2.10,40001,22,6,I,D,NX,0,0,0,0",
    ]
    return {
        "time": "2024-05-01T10:01:59.1234567Z",
        "flowLogVersion": 4,
        "flowLogGUID": "66aa66aa-6a6a-4b4b-8c8c-7d7d7d7d7d7d",
        "macAddress": mac,
        "category": "FlowLogFlowEvent",
        "flowLogResourceID": "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000009/RESOURCEGROUPS/NETWORKWATCHERRG/"
                             "PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/FL-TEST",
        "targetResourceID": "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg/providers/"
                            "Microsoft.Network/virtualNetworks/vnet-test",
        "operationName": "FlowLogFlowEvent",
        "flowRecords": {"flows": [{"aclID": acl_id, "flowGroups": [{"rule": rule, "flowTuples": tuples}]}]},
    }


def write_hostile_logs(tmp_path: Path) -> Path:
    """Write the hostile logs under ``tmp_path/logs`` and return that folder."""
    records = [
        hostile_vnet_record(SCRIPT, "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/"
                                    f"networkSecurityGroups/{ONERROR}"),
        hostile_vnet_record(JS_URL + "'\"", "/subscriptions/y/" + LONG, mac="000D3A00AB02"),
        hostile_vnet_record("UserRule_" + LONG, SCRIPT, mac="000D3A00AB03"),
    ]
    folder = tmp_path / "logs" / f"x{SCRIPT.replace('/', '_')}'\"{JS_URL.replace('/', '_')}"
    folder.mkdir(parents=True)
    (folder / "PT1H.json").write_text(json.dumps({"records": records}))
    # and one damaged tuple, so the quarantine (blob name, raw text) is on the page too
    bad = hostile_vnet_record("UserRule_ok", "nsg")
    bad["flowRecords"]["flows"][0]["flowGroups"][0]["flowTuples"].append(f"bad,{SCRIPT},{ONERROR}")
    damaged = folder / "m=00"
    damaged.mkdir()
    (damaged / "PT1H.json").write_text(json.dumps({"records": [bad]}))
    return tmp_path / "logs"
