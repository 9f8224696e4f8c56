"""flowkit compare pinned: the tables its text shows, in order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowkit.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


def test_text_shows_causes_coverage_by_hour_and_the_differing_keys(capsys):
    """The differing keys (the AVNM-denied flows, say) were only in --json and reports: the text now
    shows them too, in nine columns of the 44 (addresses, ports, class, both decisions, causes)."""
    path = SAMPLES / "nsg-vs-vnet"
    if not (path / "expected.json").is_file():
        pytest.fail("data-samples/nsg-vs-vnet is missing: run `make samples`")
    assert main(["compare", "--nsg", str(path / "insights-logs-networksecuritygroupflowevent"),
                 "--vnet", str(path / "insights-logs-flowlogflowevent")]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^(\w+) \((\d+) row\(s\)\):$", out, re.MULTILINE) == [
        ("causes", "7"), ("coverage_by_hour", "2"), ("differences", "29")]
    table = out.split("differences (29 row(s)):\n", 1)[1].splitlines()
    assert table[0].split() == ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "class", "nsg_decision",
                                "vnet_decision", "causes"]
    assert table[2].split() == ["10.10.1.5", "51156", "198.51.100.200", "445", "6", "vnet-only", "NaN", "deny",
                                "avnm-rule"]
    assert len(table) == 1 + 20 + 1 and table[-1] == "… 9 more row(s)"


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


def test_vnet_logs_given_as_nsg_logs_are_named_as_such_not_as_a_time_gap(capsys):
    """--nsg pointed at a folder of VNet flow logs: the logs share their hours, so the old
    "share no hour" summary was wrong; the summary says the NSG side holds no NSG tuple."""
    path = SAMPLES / "nsg-vs-vnet"
    assert main(["compare", "--nsg", str(path / "insights-logs-flowlogflowevent"),
                 "--vnet", str(path / "insights-logs-flowlogflowevent")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1:4] == [
        "verdict: no-overlap (severity medium)", "",
        "No NSG flow-log tuple among the NSG flows given (the VNet side holds 461): nothing to compare; "
        "NSG flow logs are the blobs under insights-logs-networksecuritygroupflowevent."]


def test_the_common_window_given_explicitly_keeps_the_clock_skew_explained(capsys):
    """--start/--end set to the logs' own common window (10:00-12:00) read the logs cut at 12:00, so
    the VNet tuple at 12:00:03 of the flow the NSG log saw at 11:59:58 was gone: that key turned
    "unexplained" and the verdict "not-ready", where the same command without the bounds (and
    compare_nsg_vnet with them) says "ready". The logs are read max-skew wider than the window."""
    path = str(SAMPLES / "nsg-vs-vnet")
    assert main(["compare", "--nsg", path, "--vnet", path, "--start", "2024-05-01T10:00Z",
                 "--end", "2024-05-01T12:00Z", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["verdict"], got["matched"], got["nsg_only"], got["vnet_only"]) == ("ready", 40, 1, 8)
    assert got["explained"] == {"avnm-rule": 5, "clock-skew": 1, "encryption-drop": 10, "mac-not-logged": 3,
                                "nsg-v2-counts-tcp-only": 2, "subnet-and-nic-nsg": 11}
    # a skew of 0 tolerates none: the key is unexplained, as it should be
    assert main(["compare", "--nsg", path, "--vnet", path, "--start", "2024-05-01T10:00Z",
                 "--end", "2024-05-01T12:00Z", "--max-skew", "0s", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "not-ready"
