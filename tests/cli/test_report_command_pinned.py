"""``flowkit report``: an output whose suffix names no format is refused in the command line's terms."""

from __future__ import annotations

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
