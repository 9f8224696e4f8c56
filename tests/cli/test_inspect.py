"""``flowkit inspect``: the JSON it prints and its exit status."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flowkit.cli import main
from tests.blobs import NSG_V1_TUPLES, blob, nsg_record


def test_inspect_json_on_conformance_logs(conformance_dir, capsys):
    assert main(["inspect", str(conformance_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {k: data[k] for k in ("files", "records", "tuples", "rows", "quarantined")} == \
        {"files": 4, "records": 35, "tuples": 1239, "rows": 1239, "quarantined": 0}
    assert data["formats"] == {"nsg-v1": 1187, "nsg-v2": 23, "vnet-v4": 29}
    assert data["start"] == "2018-05-30T01:35:23Z" and data["end"] == "2024-06-09T07:55:30Z"
    assert data["problems"] == {}


def test_inspect_reports_problems_with_counts(tmp_path, capsys):
    path = tmp_path / "q.json"
    path.write_bytes(blob([nsg_record({"R": NSG_V1_TUPLES + ["1,2,3"]}, version=1)])[:-40])
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # the record was cut: its 3 complete tuple strings are quarantined, the record is reported
    assert data["rows"] == 0 and data["problems"] == {"truncated-record": 3, "record:truncated-record": 1}
    assert data["tuples"] == data["rows"] + data["quarantined"]


def test_inspect_text_output(conformance_dir, capsys):
    assert main(["inspect", str(conformance_dir / "vnet_msdocs-single-record.json")]) == 0
    out = capsys.readouterr().out
    assert "tuples       10" in out and "vnet-v4: 10" in out


@pytest.mark.parametrize("content, message", [
    (None, "no such file or folder"),
    (b"not json at all", "is not JSON"),
])
def test_inspect_fails_clearly_when_it_cannot_read(tmp_path, content, message):
    path = tmp_path / "x.json"
    if content is not None:
        path.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "flowkit", "inspect", str(path), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_inspect_text_of_a_parquet_dataset_does_not_claim_zero_records(tmp_path, capsys):
    from pathlib import Path

    from flowkit.store.convert import convert

    convert(Path(__file__).resolve().parents[2] / "data-samples" / "encryption", tmp_path / "ds")
    assert main(["inspect", str(tmp_path / "ds")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "records      n/a (a Parquet dataset keeps rows, not records)" in lines
    assert not any(line.startswith("records      0") for line in lines)
    assert main(["inspect", str(tmp_path / "ds"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["records"] is None and data["rows"] == data["tuples"] > 0  # unknown, not zero


def test_output_into_a_closed_pipe_stops_without_a_traceback():
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "data-samples" / "encryption"
    proc = subprocess.Popen([sys.executable, "-m", "flowkit", "inspect", str(samples)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has read enough, before the first line is written
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert b"Traceback" not in err and b"BrokenPipeError" not in err


@pytest.mark.parametrize("files, message", [
    ({}, "no flow-log files found in local: "),
    ({"a.json": b'{"foo": 1}', "b.json": b"[1, 2, 3]"},
     "none of its 2 record(s) could be read as an NSG or VNet flow record (invalid-record: 1, "
     "not-a-flow-record: 1)"),
])
def test_inspect_fails_clearly_when_nothing_is_a_flow_log(tmp_path, files, message, capsys):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert main(["inspect", str(tmp_path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def test_inspect_reads_a_window_that_skips_every_file(tmp_path, capsys):
    (tmp_path / "a.json").write_bytes(blob([nsg_record({"A": NSG_V1_TUPLES}, version=1)]))
    assert main(["inspect", str(tmp_path), "--json", "--start", "2030-01-01T00:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["files"], data["rows"], data["filtered_out"]) == (1, 0, 3)
