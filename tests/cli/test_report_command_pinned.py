"""``flowkit report``: an output whose suffix names no format is refused in the command line's terms."""

from __future__ import annotations

from pathlib import Path

from flowkit.cli import main
from tests.blobs import VNET_TUPLES, blob, vnet_record


def test_an_output_suffix_without_a_format_names_the_option_to_pass(tmp_path, capsys):
    log = tmp_path / "vnet.json"
    log.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    out = tmp_path / "findings.pdf"
    assert main(["report", str(log), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    # The library's message says "pass format=", an argument of Report.write a shell user has no use for.
    assert (captured.out, captured.err) == ("", f"flowkit report: error: cannot tell the format from {str(out)!r}: "
                                                "name a .html, .md or .xlsx file, a folder for CSV, "
                                                "or pass --format html|md|xlsx|csv\n")
    assert not out.exists()


def test_the_format_option_writes_what_the_suffix_cannot_tell(tmp_path, capsys):
    log = tmp_path / "vnet.json"
    log.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    out = tmp_path / "findings.pdf"
    assert main(["report", str(log), "-o", str(out), "--format", "md"]) == 0
    assert out.read_text(encoding="utf-8").startswith("# flowkit report\n")


def test_a_window_at_the_logs_edge_keeps_the_clock_skew_explained_and_the_rest_inside(tmp_path):
    """``report --nsg --vnet --start 11:00Z --end 12:00Z`` read the logs cut at 12:00, so the VNet tuple at
    12:00:03 of the flow the NSG log saw at 11:59:58 was gone and compare said "not-ready" (1 unexplained
    key), where ``flowkit compare`` with the same window says "ready". The report now reads compare's
    max-skew wider; denied traffic, encryption and talkers still count the window's rows only."""
    import json

    import flowkit
    from flowkit.report import investigate

    path = str(Path(__file__).resolve().parents[2] / "data-samples" / "nsg-vs-vnet")
    window = ["--start", "2024-05-01T11:00Z", "--end", "2024-05-01T12:00Z"]
    out = tmp_path / "report.md"
    assert main(["report", "--nsg", path, "--vnet", path, *window, "-o", str(out), "--no-figures"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| `ready` | NSG vs VNet flow logs: migration readiness |" in text
    assert main(["compare", "--nsg", path, "--vnet", path, *window, "--json"]) == 0

    inside = flowkit.read_flow_logs(path, start="2024-05-01T11:00Z", end="2024-05-01T12:00Z")
    wide = flowkit.read_flow_logs(path, start="2024-05-01T10:58Z", end="2024-05-01T12:02Z")
    assert len(wide) > len(inside)  # the margins hold rows: the test would not see a leak otherwise
    expected = investigate(inside, ["connectivity", "encryption", "talkers"], figures=False)
    got = investigate(wide, ["connectivity", "encryption", "talkers"], figures=False,
                              start="2024-05-01T11:00Z", end="2024-05-01T12:00Z")
    assert [(f.verdict, f.summary, json.dumps(f.facts, sort_keys=True, default=str)) for f in got] == \
        [(f.verdict, f.summary, json.dumps(f.facts, sort_keys=True, default=str)) for f in expected]
