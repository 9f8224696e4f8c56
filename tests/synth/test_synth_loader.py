"""Each committed scenario loads with exactly the tuples its expected.json counts, none quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowkit
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER
from flowkit.synth import SCENARIOS

DATA_SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


@pytest.mark.filterwarnings("ignore::flowkit.FlowkitDataWarning")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_folder_loads_every_tuple(name: str) -> None:
    expected = json.loads((DATA_SAMPLES / name / "expected.json").read_text())
    frame, report = flowkit.read_flow_logs(DATA_SAMPLES / name, with_report=True, progress=False)
    assert len(frame) == report.rows == report.tuples == expected["totals"]["tuples"]
    assert report.quarantined == 0


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_blob_containers_load_with_exact_totals(name: str) -> None:
    expected = json.loads((DATA_SAMPLES / name / "expected.json").read_text())
    folder = DATA_SAMPLES / name
    containers = [folder / c for c in (NSG_CONTAINER, VNET_CONTAINER) if (folder / c).is_dir()]
    frame, report = flowkit.read_flow_logs(containers, with_report=True, progress=False)
    totals = expected["totals"]
    assert (report.files, report.records, report.tuples, len(frame), report.quarantined) == (
        totals["files"], totals["records"], totals["tuples"], totals["tuples"], 0)
    assert not report.problems
    by_type = frame.groupby("log_type", observed=True).size().to_dict()
    assert by_type == {log: v["tuples"] for log, v in totals["by_log_type"].items()}
    states = frame.groupby(["log_type", "state"], observed=True).size()
    for log, v in totals["by_log_type"].items():
        assert {s: int(n) for s, n in states[log].items() if n} == v["tuples_by_state"]
