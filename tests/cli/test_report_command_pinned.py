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


def test_a_report_is_not_written_over_its_own_input(tmp_path, capsys):
    """``-o`` naming the log (or the inventory) read replaced it by the report, and lost the log."""
    log = tmp_path / "vnet.json"
    data = blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])])
    log.write_bytes(data)
    inventory = tmp_path / "nics.csv"
    inventory.write_text("mac,ip,vm\n00-0D-3A-00-00-02,192.0.2.4,web-01\n")
    for output, given in ((f"{tmp_path}/./vnet.json", str(log)), (str(inventory), str(inventory))):
        assert main(["report", str(log), "-o", output, "--format", "md", "--inventory", str(inventory)]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", f"flowkit report: error: cannot write {output}: it is an "
                                                    f"input of this report ({given}); name another output file\n")
    assert log.read_bytes() == data
    assert inventory.read_text() == "mac,ip,vm\n00-0D-3A-00-00-02,192.0.2.4,web-01\n"


def test_an_empty_anonymize_key_is_refused_not_taken_for_no_option(tmp_path, capsys):
    """``--anonymize-key "$KEY"`` with KEY unset wrote every address in clear (exit 0)."""
    log = tmp_path / "vnet.json"
    log.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    out = tmp_path / "r.md"
    for key in ("", " "):
        assert main(["report", str(log), "-o", str(out), "--no-figures", "--anonymize-key", key]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", "flowkit report: error: argument --anonymize-key: the key is "
                                                    "empty (an unset variable?): give a key, or --anonymize alone "
                                                    "for a random one\n")
    assert not out.exists()
    assert main(["report", str(log), "-o", str(out), "--no-figures", "--anonymize-key", "k1"]) == 0
    assert "10.0.0.5" in VNET_TUPLES[0] and "10.0.0.5" not in out.read_text(encoding="utf-8")


def test_a_port_or_protocol_without_a_pair_is_refused_not_ignored(tmp_path, capsys):
    """``--port 443`` without ``--src``/``--dst`` wrote a report that asked no question about port 443."""
    log = tmp_path / "vnet.json"
    log.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    out = tmp_path / "r.md"
    for extra, said in ((["--port", "443"], "--port belongs"),
                        (["--port", "443", "--protocol", "tcp"], "--port and --protocol belong"),
                        (["--protocol", "udp"], "--protocol belongs")):
        assert main(["report", str(log), "-o", str(out), "--no-figures", *extra]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == (
            "", f"flowkit report: error: {said} to a connectivity question: give --src and --dst too\n")
    assert not out.exists()


def test_investigations_naming_none_is_refused_not_a_report_of_nothing(tmp_path, capsys):
    """``--investigations ,`` (or an unset variable) wrote a report of 0 findings, exit 0."""
    log = tmp_path / "vnet.json"
    log.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    out = tmp_path / "r.md"
    for value in (",", "", " , "):
        assert main(["report", str(log), "-o", str(out), "--no-figures", "--investigations", value]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == (
            "", "flowkit report: error: --investigations names no investigation; choose from "
                "connectivity,compare,encryption,talkers\n")
    assert not out.exists()
    # with a question, the connectivity investigation is named by it
    assert main(["report", str(log), "-o", str(out), "--no-figures", "--investigations", "",
                 "--src", "10.0.0.6", "--dst", "203.0.113.17", "--port", "443"]) == 0
    assert out.exists()
