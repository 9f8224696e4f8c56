"""Text output never sends the terminal a control character that came from the logs."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest

from flowkit.cli import main
from flowkit.cli.diagnose import write_text
from flowkit.findings import Finding
from tests.blobs import T0_MS, blob, vnet_record

#: What must not reach a terminal: C0 controls, DEL and C1 controls.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
RULE = "R\x1b[31mRED"
TUPLES = [f"{T0_MS + 1000},192.0.2.10,198.51.100.20,40000,443,6,O,B,NX,0,0,0,0",
          f"{T0_MS + 1000},192.0.2.10\x1b]0;pwned\x07\x1b[2J,198.51.100.20,40000,443,6,O,B,NX,0,0,0,0"]


def _controls(text: str) -> list[str]:
    """Control characters in ``text`` other than the line feeds that end lines."""
    return CONTROL.findall(text.replace("\n", ""))


@pytest.fixture
def hostile_log(tmp_path):
    path = tmp_path / "esc\x1b[2J.json"  # a file name is log-derived text too
    path.write_bytes(blob([vnet_record([("a", RULE, TUPLES)], mac="000D3A000101")]))
    return path


def test_inspect_text_escapes_the_quarantined_tuple_and_the_blob_name(hostile_log, capsys):
    assert main(["inspect", str(hostile_log)]) == 0
    out = capsys.readouterr().out
    assert _controls(out) == []
    line = [x for x in out.splitlines() if x.startswith("  invalid-address at ")][0]
    assert line == (f"  invalid-address at {hostile_log.parent}/esc\\x1b[2J.json, record 0, tuple 1: "
                    f"{T0_MS + 1000},192.0.2.10\\x1b]0;pwned\\x07\\x1b[2J,198.51.100.20,40000,443,6,O,B,NX,0,0,0,0")


def test_inspect_json_is_escaped_by_json(hostile_log, capsys):
    assert main(["inspect", str(hostile_log), "--json"]) == 0
    out = capsys.readouterr().out
    assert _controls(out) == [] and json.loads(out)["problems"] == {"invalid-address": 1}


@pytest.mark.filterwarnings("ignore::flowkit.errors.FlowkitDataWarning")
def test_diagnose_text_escapes_the_rule_name(hostile_log, capsys):
    assert main(["diagnose", str(hostile_log), "--src", "192.0.2.10", "--dst", "198.51.100.20"]) == 0
    out = capsys.readouterr().out
    assert _controls(out) == []
    assert "R\\x1b[31mRED" in out  # shown, visibly
    assert main(["diagnose", str(hostile_log), "--src", "192.0.2.10", "--dst", "198.51.100.20", "--json"]) == 0
    out = capsys.readouterr().out
    assert _controls(out) == [] and json.loads(out)["verdict"] == "ok"


@pytest.mark.filterwarnings("ignore::flowkit.errors.FlowkitDataWarning")
def test_encryption_text_has_no_control_characters(hostile_log, capsys):
    assert main(["encryption", str(hostile_log)]) == 0
    assert _controls(capsys.readouterr().out) == []


def test_write_text_escapes_every_part_of_a_finding(capsys):
    # compare and encryption print through write_text too
    evil = "x\x1b[2J\x07\x9b1m\x7f\ry"
    finding = Finding(title=f"T {evil}", verdict="ok", summary=f"line 1 {evil}\nline 2",
                      evidence={"t": pd.DataFrame({"rule": pd.Categorical([evil, "plain"]), "n": [1, 2]})},
                      notes=[f"note {evil}"])
    write_text(finding, ["t"])
    out = capsys.readouterr().out
    assert _controls(out) == []
    escaped = "x\\x1b[2J\\x07\\x9b1m\\x7f\\ry"
    assert out.splitlines()[0] == f"T {escaped}"
    assert f"line 1 {escaped}\nline 2\n" in out  # a summary keeps its own lines
    assert f"Note: note {escaped}" in out
    table = out[out.index("t (2 row(s)):"):].splitlines()[1:4]
    assert [line.split() for line in table] == [["rule", "n"], [escaped, "1"], ["plain", "2"]]


@pytest.mark.parametrize("text, lines, want", [
    pytest.param("R\x1b[31mRED", False, "R\\x1b[31mRED", id="esc"),
    pytest.param("\x00\x07\x08\x7f\x80\x9b\x9f", False, "\\x00\\x07\\x08\\x7f\\x80\\x9b\\x9f", id="c0-del-c1"),
    pytest.param("a\nb\tc\rd", False, "a\\nb\\tc\\rd", id="one-line"),
    pytest.param("a\nb\tc\rd", True, "a\nb\tc\\rd", id="lines"),
    pytest.param("10.0.0.4 → é ü ✓ \xa0", False, "10.0.0.4 → é ü ✓ \xa0", id="printable-unchanged"),
])
def test_printable(text, lines, want):
    from flowkit.cli.output import printable

    assert printable(text, lines=lines) == want


def test_printable_frame_keeps_numbers_and_times():
    from flowkit.cli.output import printable_frame

    frame = pd.DataFrame({"t": pd.to_datetime(["2024-05-01T10:00Z"]), "x": [0.1234567], "s": ["a\x1b"]})
    assert printable_frame(frame).to_string(index=False) == frame.assign(s=["a\\x1b"]).to_string(index=False)


def test_warnings_shown_by_the_command_are_escaped(monkeypatch, tmp_path):
    # flowkit follow warns with a blob's name when it reads a replaced blob again
    import flowkit.sources.azure as azure

    class Source:
        def follow(self, **kwargs):
            warnings.warn("flowkit: blob x\x1b[2J.json was replaced; reading it again from the start")
            return iter(())

    monkeypatch.setattr(azure.AzureBlobSource, "from_url", classmethod(lambda cls, url, **kw: Source()))
    with pytest.warns(UserWarning) as caught:
        assert main(["follow", "azure://acct/c", "--checkpoint", str(tmp_path / "cp.json"), "--once"]) == 0
    assert [str(w.message) for w in caught] == \
        ["flowkit: blob x\\x1b[2J.json was replaced; reading it again from the start"]
