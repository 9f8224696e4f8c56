"""flowkit compare pinned: the tables its text shows, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowkit.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


def test_text_shows_causes_and_coverage_by_hour(capsys):
    path = SAMPLES / "nsg-vs-vnet"
    if not (path / "expected.json").is_file():
        pytest.fail("data-samples/nsg-vs-vnet is missing: run `make samples`")
    assert main(["compare", "--nsg", str(path / "insights-logs-networksecuritygroupflowevent"),
                 "--vnet", str(path / "insights-logs-flowlogflowevent")]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^(\w+) \((\d+) row\(s\)\):$", out, re.MULTILINE) == [("causes", "7"), ("coverage_by_hour", "2")]


@pytest.mark.parametrize("missing", ["--nsg", "--vnet"])
def test_compare_requires_both_logs(capsys, missing):
    paths = {"--nsg": str(SAMPLES / "nsg-vs-vnet"), "--vnet": str(SAMPLES / "nsg-vs-vnet")}
    del paths[missing]
    assert main(["compare", *[x for kv in paths.items() for x in kv]]) == 2
    assert capsys.readouterr().err == f"flowkit compare: error: the following arguments are required: {missing}\n"


def test_compare_without_dask_starts_no_cluster(capsys, monkeypatch):
    import flowkit.cli.compare as compare

    def no_cluster(address):
        raise AssertionError(f"a Dask cluster was started ({address!r})")

    monkeypatch.setattr(compare, "dask_client", no_cluster)
    path = SAMPLES / "nsg-vs-vnet"
    assert main(["compare", "--nsg", str(path / "insights-logs-networksecuritygroupflowevent"),
                 "--vnet", str(path / "insights-logs-flowlogflowevent"), "--json"]) == 0
    assert '"verdict": "ready"' in capsys.readouterr().out
