"""``flowkit inspect``: its text output line by line, its selections, and its exact error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowkit.cli import inspect as inspect_command
from flowkit.cli import main
from tests.blobs import NSG_V1_TUPLES, blob, nsg_record

LONG = "x" * 150
BAD = [f"{i},2,3" for i in range(6)] + [LONG]  # 7 tuples with the wrong number of fields


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "a.json"  # 3 good NSG v1 tuples at 10:00:05, :06 and :07, then 7 bad ones
    path.write_bytes(blob([nsg_record({"R": NSG_V1_TUPLES + BAD}, version=1)]))
    return path


def _quarantined(path, first: int, last: int) -> list[str]:
    return [f"  wrong-field-count at {path}, record 0, tuple {i + 3}: {i},2,3" for i in range(first, last)]


def test_star_import_gives_register_and_run():
    namespace: dict = {}
    exec("from flowkit.cli.inspect import *", namespace)
    assert namespace["register"] is inspect_command.register and namespace["run"] is inspect_command.run


def test_text_output_line_by_line_shows_five_quarantined_tuples_by_default(log, capsys):
    assert main(["inspect", str(log)]) == 0
    assert capsys.readouterr().out.split("\n") == [
        "files        1 read, 0 listed and skipped by their path (hour, MAC, log type)",
        "records      1",
        "tuples       10",
        "rows         3",
        "quarantined  7",
        "formats      nsg-v1: 3",
        "time range   2024-05-01T10:00:05Z .. 2024-05-01T10:00:07Z",
        "NIC MACs     1",
        "problems",
        "  wrong-field-count: 7",
        *_quarantined(log, 0, 5),
        "",
    ]


def test_text_output_of_a_window_says_what_was_not_selected(log, capsys):
    assert main(["inspect", str(log), "--start", "2024-05-01T10:00:06Z", "--quarantine", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3:8] == ["rows         2", "quarantined  7", "not selected 1 (time window, log type or MAC)",
                          "formats      nsg-v1: 2", "time range   2024-05-01T10:00:06Z .. 2024-05-01T10:00:07Z"]
    assert lines[-2:] == ["  wrong-field-count: 7", *_quarantined(log, 0, 1)]


def test_text_output_when_no_row_is_selected(log, capsys):
    assert main(["inspect", str(log), "--start", "2030-01-01T00:00Z", "--quarantine", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[3:] == [
        "rows         0", "quarantined  7", "not selected 3 (time window, log type or MAC)",
        "formats      none", "time range   none", "NIC MACs     0", "problems", "  wrong-field-count: 7"]


def test_a_quarantined_tuple_is_shown_cut_to_100_characters(log, capsys):
    assert main(["inspect", str(log), "--quarantine", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-7:] == [*_quarantined(log, 0, 6), f"  wrong-field-count at {log}, record 0, tuple 9: {'x' * 100}"]


def test_text_output_lists_every_format_in_order(conformance_dir, capsys):
    assert main(["inspect", str(conformance_dir)]) == 0
    assert "formats      nsg-v1: 1187, nsg-v2: 23, vnet-v4: 29" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("log_type, rows, filtered_out", [("nsg", 3, 0), ("vnet", 0, 3)])
def test_log_type_selects_one_kind_of_log(log, capsys, log_type, rows, filtered_out):
    assert main(["inspect", str(log), "--log-type", log_type, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["rows"], data["filtered_out"], data["quarantined"]) == (rows, filtered_out, 7)


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_an_empty_folder_is_refused_with_one_exact_line(tmp_path, capsys):
    assert _error(capsys, ["inspect", str(tmp_path), "--json"]) == \
        f"flowkit inspect: error: no flow-log files found in local: {tmp_path}\n"


def test_a_cut_record_that_holds_no_tuple_is_refused_with_one_exact_line(tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_bytes(b'{"records":[{"time":"2024-05-01T10:00:00Z","category":"NetworkSecurityGroupFlowEvent","prop')
    assert _error(capsys, ["inspect", str(path), "--json"]) == (
        f"flowkit inspect: error: no flow-log records found in local: {path}: "
        "none of its 1 record(s) could be read as an NSG or VNet flow record (truncated-record: 1); the first: "
        f'{path}, record 0: byte 12: {{"time":"2024-05-01T10:00:00Z","category":"NetworkSecurityGroupFlowEvent","prop\n')


@pytest.mark.parametrize("content, holds", [(b"42\n", "a number (42)"), (b"null", "null (null)"),
                                            (b'\xef\xbb\xbf "PT1H" ', 'a string ("PT1H")'),
                                            (b"true", "true or false (true)")])
def test_a_file_of_one_json_number_string_or_null_is_called_json_that_holds_no_record(tmp_path, capsys,
                                                                                       content, holds):
    """Before, such a file was 'not JSON', which sends the reader looking for the wrong damage."""
    path = tmp_path / "PT1H.json"
    path.write_bytes(content)
    assert _error(capsys, ["inspect", str(path)]) == (
        f"flowkit inspect: error: no flow-log records found in local: {path}: "
        "none of its 1 record(s) could be read as an NSG or VNet flow record (invalid-record: 1); the first: "
        f"{path}, record 0: byte 0: JSON holding only {holds}, where flow-log records should be\n")


def test_a_log_without_records_is_read(tmp_path, capsys):
    path = tmp_path / "e.json"
    path.write_bytes(b'{"records":[]}')
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["files"], data["records"], data["rows"], data["formats"], data["problems"]) == (1, 0, 0, {}, {})


def test_files_skipped_by_their_log_type_are_not_said_to_be_skipped_by_hour_or_mac(capsys):
    # The 12 VNet blobs of the sample are skipped by the log type in their path, not by an hour
    # or a MAC: the line used to say "skipped by their hour/MAC".
    sample = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"
    assert main(["inspect", str(sample), "--log-type", "nsg"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "files        0 read, 12 listed and skipped by their path (hour, MAC, log type)", "records      0"]


def test_a_window_that_misses_the_logs_is_one_warning_line_saying_where_they_are():
    """``--start`` past the logs: inspect's report says 0 read, and one warning line (flowkit's
    own form, no Python source line) says which hours the files found cover; diagnose says it too.
    Run as a user runs it (a process of its own: pytest records warnings instead of showing them)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    samples = str(repo / "data-samples" / "connectivity")
    warning = ("warning: no rows from 2030-01-01 00:00:00Z: 12 file(s) were left out by their path (hour, MAC, "
               "log type); the files found cover 2024-05-01 10:00 to 2024-05-01 12:00 UTC (by the hour in their "
               "path)\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowkit", *args], capture_output=True, text=True,
                              cwd=repo, timeout=120)

    done = run("inspect", samples, "--start", "2030-01-01")
    assert (done.returncode, done.stderr) == (0, f"flowkit inspect: {warning}")
    assert done.stdout.startswith("files        0 read, 12 listed and skipped")
    done = run("diagnose", samples, "--src", "10.10.2.4", "--dst", "10.10.3.5", "--start", "2030-01-01")
    assert (done.returncode, done.stderr) == (0, f"flowkit diagnose: {warning}")
    assert "the flows given hold no tuple at all" in done.stdout


def test_a_quarantine_warning_points_a_shell_user_to_inspect_not_to_a_python_object(tmp_path):
    """A read that quarantines warns "...; see the load report": in Python that is ``flows.attrs``, from a
    shell there is no such thing. ``diagnose`` now names ``flowkit inspect``, which lists each
    quarantined tuple; ``inspect`` itself prints the report, so its warning (if any) names nothing more."""
    import subprocess
    import sys

    log = tmp_path / "PT1H.json"
    log.write_text('{"records":[{"time":"2024-05-01T10:00:52.5625085Z","flowLogVersion":4,"macAddress":"000D3A000001",'
                   '"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":['
                   '"1714557600000,192.0.2.4,192.0.2.10,50000,443,6,O,E,X,3,767,2,1580",'
                   '"1714557600000,192.0.2.4,192.0.2.10,50000,443,6,O,E"]}]}]}}]}', encoding="utf-8")
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowkit", *args], capture_output=True, text=True,
                              cwd=repo, timeout=120)

    done = run("diagnose", str(log), "--src", "192.0.2.4", "--dst", "192.0.2.10")
    assert (done.returncode, done.stderr) == (0, "flowkit diagnose: warning: 1 file(s), 1 record(s), 2 tuple(s): "
                                                 "1 row(s), 1 quarantined (wrong-field-count: 1); `flowkit inspect` "
                                                 "on the same input lists them\n")
    done = run("inspect", str(log))
    assert "see the load report" not in done.stderr and "`flowkit inspect`" not in done.stderr
    assert f"wrong-field-count at {log}, record 0, tuple 1: 1714557600000,192.0.2.4,192.0.2.10,50000,443,6,O,E" \
        in done.stdout
