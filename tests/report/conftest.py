"""Fixtures of the report tests: the data-samples scenarios read once, their reports, a hostile log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from report_data import CREATED, NSG, VNET, read, scenario_path, write_hostile_logs


@pytest.fixture(scope="session")
def scenario_reports() -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (Report, expected.json) for each scenario, built with the headless investigations."""
    from flowkit.inventory import read_inventory
    from flowkit.report import Report, investigate

    out = {}
    conn = scenario_path("connectivity")
    flows = read([conn / VNET])
    pairs = [("10.10.1.4", "10.10.3.4", 1433, None), ("10.10.2.4", "10.10.3.5", 6379, "tcp"),
             ("10.10.1.5", "10.10.2.5", 8080, None), ("10.10.1.4", "198.51.100.10", 443, None),
             ("10.10.1.4", "10.10.9.9", 443, None)]
    inv = read_inventory(conn / "nics.json")
    findings = investigate(flows, ["connectivity", "talkers"], pairs=pairs, inventory=inv, progress=False)
    out["connectivity"] = (Report(findings, title="connectivity", flows=flows, created=CREATED, max_rows=20),
                           json.loads((conn / "expected.json").read_text()))
    nv = scenario_path("nsg-vs-vnet")
    flows = read([nv / NSG, nv / VNET])
    findings = investigate(flows, ["compare"], progress=False)
    out["nsg-vs-vnet"] = (Report(findings, title="nsg-vs-vnet", flows=flows, created=CREATED),
                          json.loads((nv / "expected.json").read_text()))
    enc = scenario_path("encryption")
    flows = read([enc / VNET])
    findings = investigate(flows, ["encryption"], progress=False)
    out["encryption"] = (Report(findings, title="encryption", flows=flows, created=CREATED),
                         json.loads((enc / "expected.json").read_text()))
    return out


@pytest.fixture()
def hostile_logs(tmp_path: Path) -> Path:
    """A folder of hand-written VNet logs whose rule names, aclIDs and blob names carry markup and scripts."""
    return write_hostile_logs(tmp_path)
