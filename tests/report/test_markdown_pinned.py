"""Markdown details: every table and figure beside the file, nothing dropped without a word."""

from __future__ import annotations

import pandas as pd

from flowkit.findings import Finding
from flowkit.report import Report
from flowkit.report.markdown import md_escape

from report_data import CREATED


def test_tables_whose_names_slug_alike_get_their_own_csv(tmp_path):
    first, second = pd.DataFrame({"n": [1]}), pd.DataFrame({"n": [2]})
    f = Finding("Talkers", "ok", evidence={"by bytes": first, "by-bytes": second})
    out = Report([f], created=CREATED).write(tmp_path / "r.md")
    lines = out.read_text().splitlines()
    files = tmp_path / "r_files"
    assert "All rows: [01-talkers-by-bytes.csv](r_files/01-talkers-by-bytes.csv)" in lines
    assert "All rows: [01-talkers-by-bytes.1.csv](r_files/01-talkers-by-bytes.1.csv)" in lines
    assert (files / "01-talkers-by-bytes.csv").read_bytes().decode("utf-8-sig") == "n\r\n1\r\n"
    assert (files / "01-talkers-by-bytes.1.csv").read_bytes().decode("utf-8-sig") == "n\r\n2\r\n"


def test_figures_whose_names_slug_alike_get_their_own_png(tmp_path):
    f = Finding("Talkers", "ok", figures={"graph a": b"\x89PNG-a", "graph-a": b"\x89PNG-b"})
    out = Report([f], created=CREATED).write(tmp_path / "r.md")
    lines = out.read_text().splitlines()
    assert "![Figure 'graph a' of Talkers.](r_files/01-talkers-graph-a.png)" in lines
    assert "![Figure 'graph-a' of Talkers.](r_files/01-talkers-graph-a.1.png)" in lines
    assert (tmp_path / "r_files" / "01-talkers-graph-a.png").read_bytes() == b"\x89PNG-a"
    assert (tmp_path / "r_files" / "01-talkers-graph-a.1.png").read_bytes() == b"\x89PNG-b"


def test_figure_that_cannot_be_drawn_is_named_not_dropped(tmp_path):
    f = Finding("Talkers", "ok", figures={"broken": object(), "fine": b"\x89PNG"})
    out = Report([f], created=CREATED).write(tmp_path / "r.md")
    lines = out.read_text().splitlines()
    assert "_Figure broken: could not be drawn._" in lines
    assert "![Figure 'fine' of Talkers.](r_files/01-talkers-fine.png)" in lines
    assert sorted(p.name for p in (tmp_path / "r_files").iterdir()) == ["01-talkers-fine.png"]


def test_line_breaks_in_a_verdict_or_source_stay_on_one_line():
    f = Finding("Talkers", "a\r\nb\rc", severity="high")
    text = Report([f], sources=["local: x\ry"], created=CREATED).to_markdown()
    lines = text.splitlines()
    assert "| 1 | high | `a  b c` | Talkers |" in lines
    assert "**Severity:** high · **Verdict:** `a  b c`" in lines
    assert "- source: `local: x y`" in lines


def test_long_cells_cut_at_200_characters_saying_how_many_more():
    from flowkit.report.markdown import md_table

    frame = pd.DataFrame({"rule": ["A" * 250, "B" * 200]})
    assert md_table(frame).splitlines()[2:] == ["| " + "A" * 200 + " … (50 more characters) |", "| " + "B" * 200 + " |"]


def _small_report():
    from flowkit.load_report import LoadReport, Problem

    quarantine = pd.DataFrame({"blob": ["https://acct.blob.core.windows.net/c/PT1H.json?sv=2022&sig=abc"], "record": [0],
                               "tuple": [1], "reason": ["bad-field"], "raw": ["=x"]})
    load = LoadReport(files=2, files_skipped=1, records=3, tuples=5, rows=4, quarantined=1, filtered_out=0,
                      formats={"vnet-v4": 4}, quarantine=quarantine, sources=("local: logs?sig=s3cr3t",),
                      problems=(Problem("b", "not-json", "d"), Problem("c", "not-json", "e")))
    f = Finding("Denied 10.0.0.1", "denied", "high", "- flows were denied",
                evidence={"denied": pd.DataFrame({"n": [1, 2, 3], "rule": ["a", "b", "c"]}), "skip": "not a frame"},
                facts={"flows": 3, "rules": ["a", "b"]}, notes=["read *with* care"], figures={"chart": b"\x89PNG"})
    return Report([f, Finding("ok", "ok")], title="T", notes=["1. context"], load_reports=[load], created=CREATED,
                  max_rows=2, start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")


def test_whole_markdown_of_a_small_report():
    from flowkit import __version__

    assert _small_report().to_markdown() == "\n".join([
        "# T", "", f"_Made by flowkit {md_version(__version__)} at 2024-05-02T09:00:00Z._", "", "1\\. context", "",
        "## Summary", "", "| critical | high | medium | low | info |", "|---:|---:|---:|---:|---:|",
        "| 0 | 1 | 0 | 0 | 1 |", "",
        "| # | severity | verdict | finding |", "|---:|---|---|---|", "| 1 | high | `denied` | Denied 10.0.0.1 |",
        "| 2 | info | `ok` | ok |", "",
        "## 1. Denied 10.0.0.1", "", "**Severity:** high · **Verdict:** `denied`", "", "\\- flows were denied", "",
        "> _read \\*with\\* care_", "", "| fact | value |", "|---|---|", "| flows | 3 |", '| rules | \\["a", "b"\\] |', "",
        "### denied (3 row(s), first 2 shown)", "", "| n | rule |", "|---:|---|", "| 1 | a |", "| 2 | b |", "",
        "_1 more row(s) not shown; write the report to a file (or as XLSX) to keep them._", "",
        "_Figure chart: in the HTML report._", "",
        "## 2. ok", "", "**Severity:** info · **Verdict:** `ok`", "",
        "## How this report was made", "", f"- flowkit {md_version(__version__)}, made at 2024-05-02T09:00:00Z",
        "- time window: 2024-05-01T10:00:00Z to 2024-05-01T11:00:00Z (UTC)", "- source: `local: logs?REDACTED`", "",
        "### Load report 1", "",
        "2 file(s) (1 skipped by their path: hour, MAC, log type), 3 record(s), 5 tuple(s): 4 row(s), 1 quarantined, 0 not selected.", "",
        "Problems: record:not-json: 2, bad-field: 1", "", "Quarantined tuples:", "",
        "| blob | record | tuple | reason | raw |", "|---|---:|---:|---|---|",
        "| https://acct.blob.core.windows.net/c/PT1H.json?REDACTED | 0 | 1 | bad-field | =x |", ""])


def md_version(version: str) -> str:
    from flowkit.report.markdown import md_escape

    return md_escape(version)


def test_anonymised_report_says_so_under_the_title():
    plain = Report([Finding("a", "ok")], created=CREATED).to_markdown().splitlines()
    anonymised = Report([Finding("a", "ok")], created=CREATED).anonymize("k").to_markdown().splitlines()
    assert "Anonymised" not in "\n".join(plain)
    assert anonymised[2] == plain[2][:-1] + (" **Anonymised:** addresses, MACs, GUIDs and resource names are keyed "
                                              "pseudonyms._")


def test_block_escaping_only_where_a_paragraph_starts():
    from flowkit.report.markdown import md_escape

    assert [md_escape(t) for t in ("- a", "1. b", "+ c")] == ["- a", "1. b", "+ c"]
    assert [md_escape(t, block=True) for t in ("- a", "12) b", "  + c", "= d", "x - y")] == [
        "\\- a", "12\\) b", "\\+ c", "\\= d", "x - y"]
    assert [md_escape(t, block=True) for t in ("    not code", "\tnor this", "   - x")] == [
        "not code", "nor this", "\\- x"]  # four blanks would start a code block
    assert md_escape("    kept inline") == "    kept inline"
    f = Finding("1. first", "ok", summary="2. second")
    lines = Report([f], notes=["- note"], created=CREATED).to_markdown().splitlines()
    assert "## 1. 1. first" in lines and "2\\. second" in lines and "\\- note" in lines


def test_report_without_findings_or_sources_says_so():
    lines = Report(created=CREATED).to_markdown().splitlines()
    assert lines[8:13] == ["| 0 | 0 | 0 | 0 | 0 |", "", "No findings.", "", "## How this report was made"]
    assert lines[-2:] == ["- time window: unknown to unknown (UTC)", "- sources: not recorded"]


def test_table_that_fits_has_no_more_rows_line():
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1, 2]}), "empty": pd.DataFrame({"n": []})})
    lines = Report([f], created=CREATED, max_rows=2).to_markdown().splitlines()
    start = lines.index("### e (2 row(s))")
    assert lines[start:start + 10] == ["### e (2 row(s))", "", "| n |", "|---:|", "| 1 |", "| 2 |", "",
                                       "### empty (0 row(s))", "", "| n |"]
    assert lines[start + 10:start + 13] == ["|---:|", "", "## How this report was made"]


def test_files_folder_made_with_its_parents(tmp_path):
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1]})}, figures={"chart": b"\x89PNG"})
    g = Finding("u", "ok", figures={"chart": b"\x89PNG"})
    for finding in (f, g):
        files = tmp_path / finding.title / "deep" / "r_files"
        Report([finding], created=CREATED).to_markdown(files_dir=files)
        assert sorted(p.name for p in files.iterdir()) == (
            ["01-t-chart.png", "01-t-e.csv"] if finding is f else ["01-u-chart.png"])


def test_an_arrow_inside_a_line_stays_as_written_and_one_at_a_paragraph_start_is_escaped():
    # a title reads "10.10.1.4 -> 10.10.3.4" in the Markdown source too, not "-&gt;"
    assert md_escape("Connectivity 10.10.1.4 -> 10.10.3.4 port 1433") == "Connectivity 10.10.1.4 -> 10.10.3.4 port 1433"
    assert md_escape("> not a quote", block=True) == "\\> not a quote"
    assert md_escape("<img src=x onerror=y>") == "&lt;img src=x onerror=y>"  # no tag can open without "<"


def test_files_skipped_by_log_type_or_mac_are_not_called_outside_the_window(tmp_path):
    """A read of one NIC's VNet logs skips 24 of the sample's 27 files by log type and MAC, none by its
    hour: the load report must not say they were outside the window (the CLI's words, used here too)."""
    from pathlib import Path

    import flowkit

    sample = Path(__file__).resolve().parents[2] / "data-samples" / "nsg-vs-vnet"
    flows = flowkit.read_flow_logs(sample, log_type="vnet", mac="000D3A000101")
    out = Report(title="one NIC", flows=flows).write(tmp_path / "r.md")
    lines = Path(out).read_text(encoding="utf-8").splitlines()
    assert ("3 file(s) (24 skipped by their path: hour, MAC, log type), 37 record(s), 51 tuple(s): 51 row(s), "
            "0 quarantined, 0 not selected.") in lines
    assert "outside the window" not in "\n".join(lines)
