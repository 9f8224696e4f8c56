"""flowkit compare pinned: the tables its text shows, in order."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from flowkit.cli import main
from flowkit.cli.compare import read_widened
from flowkit.errors import FlowkitDataWarning
from flowkit.sources.times import utc_text
from tests.blobs import T0_MS, T0_S, blob, nsg_record, vnet_record

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
        ("causes", "8"), ("coverage_by_hour", "2"), ("differences", "35")]  # + 6 inbound HTTPS keys
    table = out.split("differences (35 row(s)):\n", 1)[1].splitlines()
    assert table[0].split() == ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "class", "nsg_decision",
                                "vnet_decision", "causes"]
    assert table[2].split() == ["10.10.1.5", "51156", "198.51.100.200", "445", "6", "vnet-only", "NaN", "deny",
                                "avnm-rule"]
    assert len(table) == 1 + 20 + 1 and table[-1] == "… 15 more row(s)"


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
                                "nsg-inbound-tcp-not-counted": 6, "nsg-v2-counts-tcp-only": 2,
                                "subnet-and-nic-nsg": 11}
    # a skew of 0 tolerates none: the key is unexplained, as it should be
    assert main(["compare", "--nsg", path, "--vnet", path, "--start", "2024-05-01T10:00Z",
                 "--end", "2024-05-01T12:00Z", "--max-skew", "0s", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "not-ready"


@pytest.fixture
def logs(tmp_path):
    """One NSG file and one VNet file of 2024-05-01 10:00 to 10:02 UTC, paths outside Azure's layout."""
    nsg, vnet = tmp_path / "nsg.json", tmp_path / "vnet.json"
    nsg.write_bytes(blob([nsg_record({"R1": [f"{T0_S + 5},192.0.2.10,198.51.100.4,50000,443,T,I,A,B,,,,",
                                             f"{T0_S + 95},192.0.2.10,198.51.100.4,50000,443,T,I,A,E,2,120,1,60"]})]))
    vnet.write_bytes(blob([vnet_record([("acl", "R1", [f"{T0_MS + 5000},192.0.2.10,198.51.100.4,50000,443,6,I,B,NX,"
                                                       "0,0,0,0"])])]))
    return nsg, vnet


@pytest.mark.parametrize("window, said", [
    (["--start", "2024-05-01T11:00Z"], "from 2024-05-01 11:00:00Z"),
    (["--start", "2024-05-01T09:00Z", "--end", "2024-05-01T09:30Z", "--max-skew", "10min"],
     "from 2024-05-01 09:00:00Z until 2024-05-01 09:30:00Z"),
    (["--end", "2024-05-01T10:00Z", "--max-skew", "0s"], "until 2024-05-01 10:00:00Z"),
])
def test_no_rows_warning_names_the_window_asked_for_not_the_one_widened_by_max_skew(capsys, recwarn, logs,
                                                                                     window, said):
    """The logs are read max_skew wider than --start/--end; the warning of a read with no row said the
    wider window's edges (10:58 for --start 11:00), times the user never gave."""
    nsg, vnet = logs
    assert main(["compare", "--nsg", str(nsg), "--vnet", str(vnet), "--json", *window]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "no-overlap"
    assert [str(w.message) for w in recwarn if w.category is FlowkitDataWarning] == [
        f"flowkit: no rows {said}: 2 tuple(s) by their time, log type or MAC",
        f"flowkit: no rows {said}: 1 tuple(s) by their time, log type or MAC"]


def test_compare_and_report_warn_a_shell_user_of_the_window_asked_for(logs, tmp_path):
    """As a user runs them (a process of its own: pytest records warnings instead of showing them)."""
    import subprocess
    import sys

    nsg, vnet = logs
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowkit", *args, "--nsg", str(nsg), "--vnet", str(vnet),
                               "--start", "2024-05-01T11:00Z"], capture_output=True, text=True, cwd=repo, timeout=120)

    done = run("compare")
    said = "no rows from 2024-05-01 11:00:00Z"
    assert (done.returncode, done.stderr) == (0, f"flowkit compare: warning: {said}: 2 tuple(s) by their time, log "
                                                 f"type or MAC\nflowkit compare: warning: {said}: 1 tuple(s) by their "
                                                 "time, log type or MAC\n")
    done = run("report", "-o", str(tmp_path / "r.md"), "--no-figures")
    assert (done.returncode, done.stderr) == (0, f"flowkit report: warning: {said}: 3 tuple(s) by their time, log "
                                                 "type or MAC\n")


def test_read_widened_passes_other_warnings_on_as_they_are():
    def read(lo, hi):
        warnings.warn("flowkit: 1 file(s), 1 record(s), 2 tuple(s): 1 row(s), 1 quarantined", FlowkitDataWarning)
        warnings.warn(f"flowkit: no rows from {utc_text(lo)} of log type nsg: no file or blob was found for it",
                      FlowkitDataWarning)
        warnings.warn("something else", RuntimeWarning)
        return lo, hi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = read_widened(read, "2024-05-01T10:00:30Z", None, pd.Timedelta("2min"))
    assert got == (pd.Timestamp("2024-05-01T09:58:30Z"), None)
    assert [(w.category, str(w.message)) for w in caught] == [
        (FlowkitDataWarning, "flowkit: 1 file(s), 1 record(s), 2 tuple(s): 1 row(s), 1 quarantined"),
        (FlowkitDataWarning, "flowkit: no rows from 2024-05-01 10:00:30Z of log type nsg: no file or blob was "
                             "found for it"),
        (RuntimeWarning, "something else")]


def test_read_widened_passes_the_warnings_on_when_the_read_fails():
    def read(lo, hi):
        warnings.warn(f"flowkit: no rows from {utc_text(lo)}: 3 tuple(s) by their time, log type or MAC",
                      FlowkitDataWarning)
        raise OSError("the second log cannot be read")

    with warnings.catch_warnings(record=True) as caught, pytest.raises(OSError, match="the second log"):
        warnings.simplefilter("always")
        read_widened(read, "2024-05-01T10:00Z", None, pd.Timedelta("2min"))
    assert [str(w.message) for w in caught] == [
        "flowkit: no rows from 2024-05-01 10:00:00Z: 3 tuple(s) by their time, log type or MAC"]
