"""flowkit diagnose (and the helpers compare and encryption share) pinned: every path is read,
the text a person reads, the options it requires, the names it exports."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from flowkit.cli import main
from flowkit.cli.diagnose import write_text
from flowkit.findings import Finding
from tests.blobs import T0_MS, blob, vnet_record

TUPLE = "{t},192.0.2.10,198.51.100.20,{port},443,6,O,B,NX,0,0,0,0"


@pytest.fixture
def two_logs(tmp_path):
    paths = []
    for i in range(2):
        path = tmp_path / f"log{i}.json"
        path.write_bytes(blob([vnet_record([("a", "allow-web", [TUPLE.format(t=T0_MS + 1000 + i, port=40000 + i)])],
                                           mac="000D3A000101")]))
        paths.append(str(path))
    return paths


@pytest.mark.filterwarnings("ignore::flowkit.errors.FlowkitDataWarning")
@pytest.mark.parametrize("command", ["diagnose", "encryption"])
def test_every_path_given_is_read(capsys, two_logs, command):
    ends = ["--src", "192.0.2.10", "--dst", "198.51.100.20"] if command == "diagnose" else []
    assert main([command, *two_logs, *ends, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["evidence_rows" if command == "diagnose" else "flows"] == 2


def _finding(rows: int) -> Finding:
    return Finding(title="T", verdict="ok", summary="S", notes=["N\n\tM"],
                   evidence={"t": pd.DataFrame({"n": range(rows)}), "empty": pd.DataFrame({"n": []})})


def test_text_shows_twenty_rows_and_counts_the_rest(capsys):
    write_text(_finding(21), ["missing", "empty", "t"])
    table = pd.DataFrame({"n": range(20)}).to_string(index=False)
    assert capsys.readouterr().out == (f"T\nverdict: ok (severity info)\n\nS\n\nt (21 row(s)):\n{table}\n"
                                       "… 1 more row(s)\n\nNote: N\n\tM\n")


def test_text_of_a_table_that_fits_has_no_more_line(capsys):
    write_text(_finding(20), ["t", "missing", "empty"])
    table = pd.DataFrame({"n": range(20)}).to_string(index=False)
    assert capsys.readouterr().out == f"T\nverdict: ok (severity info)\n\nS\n\nt (20 row(s)):\n{table}\n\nNote: N\n\tM\n"


@pytest.mark.parametrize("missing", ["--src", "--dst"])
def test_diagnose_requires_both_ends(capsys, two_logs, missing):
    ends = {"--src": "192.0.2.10", "--dst": "198.51.100.20"}
    del ends[missing]
    argv = ["diagnose", two_logs[0], *[x for kv in ends.items() for x in kv]]
    assert main(argv) == 2
    assert capsys.readouterr().err == \
        f"flowkit diagnose: error: the following arguments are required: {missing}\n"


@pytest.mark.parametrize("module, names", [
    pytest.param("flowkit.cli.diagnose", {"register", "run", "load_flows", "load_inventory",
                                          "add_common_arguments", "DIAGNOSE_JSON_FIELDS"}, id="diagnose"),
    pytest.param("flowkit.cli.encryption", {"register", "run", "ENCRYPTION_JSON_FIELDS"}, id="encryption"),
    pytest.param("flowkit.cli.compare", {"register", "run", "compare_on_dask", "COMPARE_JSON_FIELDS"},
                 id="compare"),
])
def test_star_import_gives_the_public_names(module, names):
    scope: dict = {}
    exec(f"from {module} import *", scope)
    assert names <= set(scope)


@pytest.mark.filterwarnings("ignore::flowkit.errors.FlowkitDataWarning")
def test_text_lists_the_logged_nics_only_when_nothing_was_observed(capsys, two_logs):
    assert main(["diagnose", *two_logs, "--src", "192.0.2.10", "--dst", "203.0.113.5"]) == 0
    out = capsys.readouterr().out
    assert "verdict: not-observed" in out and "\nlogged_nics (1 row(s)):\n" in out
    assert main(["diagnose", *two_logs, "--src", "192.0.2.10", "--dst", "198.51.100.20"]) == 0
    out = capsys.readouterr().out
    assert "\nobservations (" in out and "logged_nics" not in out


@pytest.mark.filterwarnings("ignore::flowkit.errors.FlowkitDataWarning")
@pytest.mark.parametrize("protocol", ["UDP", "icmp", "ICMPv6", "tcp"])
def test_diagnose_takes_every_protocol_in_any_case(capsys, two_logs, protocol):
    assert main(["diagnose", *two_logs, "--src", "192.0.2.10", "--dst", "198.51.100.20",
                 "--protocol", protocol, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["evidence_rows"] == (2 if protocol == "tcp" else 0)
