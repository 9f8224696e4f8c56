"""HTML details: tables too large to embed each get their own file beside the page."""

from __future__ import annotations

import pandas as pd
from bs4 import BeautifulSoup

from flowkit.findings import Finding
from flowkit.report import Report, html

from report_data import CREATED


def _soup(page: str) -> BeautifulSoup:
    return BeautifulSoup(page, "html.parser")


def test_large_tables_whose_names_slug_alike_are_written_to_separate_files(tmp_path, monkeypatch):
    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 10)  # every CSV is "too large": written beside the page
    f = Finding("Talkers", "ok", evidence={"by bytes": pd.DataFrame({"n": [1, 2, 3]}),
                                            "by-bytes": pd.DataFrame({"n": [4, 5, 6]})})
    out = Report([f], created=CREATED, max_rows=2).write(tmp_path / "r.html")
    hrefs = [a["href"] for a in _soup(out.read_text()).select("div.fk-table a")]
    assert hrefs == ["./r_files/01-talkers-by-bytes.csv", "./r_files/01-talkers-by-bytes.1.csv"]
    files = tmp_path / "r_files"
    assert (files / "01-talkers-by-bytes.csv").read_bytes().decode("utf-8-sig") == "n\r\n1\r\n2\r\n3\r\n"
    assert (files / "01-talkers-by-bytes.1.csv").read_bytes().decode("utf-8-sig") == "n\r\n4\r\n5\r\n6\r\n"


def _small_report() -> Report:
    from flowkit.load_report import LoadReport, Problem

    quarantine = pd.DataFrame({"blob": ["https://acct.blob.core.windows.net/c/PT1H.json?sv=2022&sig=abc"], "record": [0],
                               "tuple": [1], "reason": ["bad-field"], "raw": ["=x"]})
    load = LoadReport(files=2, files_skipped=1, records=3, tuples=5, rows=4, quarantined=1, filtered_out=0,
                      formats={"vnet-v4": 4}, quarantine=quarantine, sources=("local: logs?sig=s3cr3t",),
                      problems=(Problem("b?sig=zz", "not-json", "d", 3), Problem("c", "not-json", "e")))
    f = Finding("Denied 10.0.0.1", "denied", "high", "flows were denied",
                evidence={"denied": pd.DataFrame({"n": [1, 2, 3], "rule": ["a", "b", "c"]}), "skip": "not a frame"},
                facts={"flows": 3, "rules": ["a", "b"]}, notes=["read with care"],
                figures={"chart": b"\x89PNG", "junk": b"GIF8", "broken": object()})
    return Report([f, Finding("ok", "ok", "critical")], title="T", notes=["context"], load_reports=[load, LoadReport()],
                  created=CREATED, max_rows=2)


def test_page_of_a_small_report():
    soup = _soup(_small_report().to_html())
    counts = {td["data-severity"]: td.get_text() for td in soup.select("table.fk-counts td")}
    assert counts == {"critical": "1", "high": "1", "medium": "0", "low": "0", "info": "0"}
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("table.fk-findings tbody tr")]
    assert rows == [["1", "high", "denied", "Denied 10.0.0.1"], ["2", "critical", "ok", "ok"]]
    badges = [s["style"] for s in soup.select("table.fk-findings span.fk-badge")]
    assert badges == ["background:#c0392b", "background:#7b1e1e"]
    assert [a["href"] for a in soup.select("table.fk-findings a")] == ["#finding-1", "#finding-2"]
    first = soup.find("section", id="finding-1")
    assert first["style"] == "border-left-color:#c0392b"
    assert first.select_one("p.fk-summary").get_text() == "flows were denied"
    assert [i.get_text() for i in first.select("p.fk-muted i")] == ["read with care"]
    assert {td["data-fact"]: td.get_text() for td in first.select("td[data-fact]")} == {"flows": "3", "rules": '["a", "b"]'}
    (table,) = first.select("div.fk-table")
    assert table.find("h4").get_text() == "denied (3 row(s), first 2 shown)"
    assert [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")] == [["1", "a"], ["2", "b"]]
    assert [td.get("class") for td in table.select("tbody tr")[0].find_all("td")] == [["num"], None]
    link = table.find("a", download=True)
    assert link["download"] == "01-denied-10-0-0-1-denied.csv"
    assert link["href"] == "data:text/csv;charset=utf-8;base64,77u/bixydWxlDQoxLGENCjIsYg0KMyxjDQo="
    assert link.parent.get_text() == "1 more row(s): download all 3 rows (CSV)"
    figures = [(f.figcaption.get_text(), f.img["src"] if f.img else f.span.get_text()) for f in first.select("figure")]
    assert figures == [("chart", "data:image/png;base64,iVBORw=="), ("junk", "(figure could not be drawn)"),
                       ("broken", "(figure could not be drawn)")]
    assert soup.find("section", id="finding-2").select("div.fk-table, figure, p.fk-summary") == []
    loads = [{tr.th.get_text(): tr.td.get_text() for tr in t.find_all("tr")} for t in soup.select("table.fk-load-report")]
    assert loads[0] == {"files": "2", "files skipped by their path (hour, MAC, log type)": "1", "records": "3", "tuples": "5",
                        "rows": "4", "quarantined": "1", "not selected": "0", "formats": "vnet-v4 4",
                        "problems": "record:not-json: 2, bad-field: 1"}
    assert loads[1]["formats"] == "none" and "problems" not in loads[1]
    problems = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("table.fk-problems tbody tr")]
    assert problems == [["b?REDACTED", "3", "not-json", "d"], ["c", "", "not-json", "e"]]
    quarantine = soup.select("div.fk-table")[-1]
    assert quarantine.find("h4").get_text() == "quarantined tuples (1 row(s))"
    assert [td.get_text() for td in quarantine.select("tbody td")] == [
        "https://acct.blob.core.windows.net/c/PT1H.json?REDACTED", "0", "1", "bad-field", "=x"]
    assert [c.get_text() for c in soup.select("code.fk-source")] == ["local: logs?REDACTED"]


def test_cells_cut_after_300_characters_and_facts_after_2000():
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"A" * 301: ["B" * 300, "C" * 301]})},
                facts={"at": "D" * 2000, "over": "E" * 2001})
    soup = _soup(Report([f], created=CREATED).to_html())
    assert soup.select_one("div.fk-table th").get_text() == "A" * 300 + " … 1 more character(s), in the CSV"
    assert [td.get_text() for td in soup.select("div.fk-table tbody td")] == [
        "B" * 300, "C" * 300 + " … 1 more character(s), in the CSV"]
    assert soup.select_one('td[data-fact="at"]').get_text() == "D" * 2000
    assert soup.select_one('td[data-fact="over"]').get_text() == "E" * 2000 + " … 1 more character(s), not shown"


def test_table_too_large_to_embed_without_a_folder_says_how_to_keep_it(monkeypatch):
    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 10)
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1, 2, 3]})})
    soup = _soup(Report([f], created=CREATED, max_rows=1).to_html())
    table = soup.select_one("div.fk-table")
    assert table.find("a") is None
    assert table.select("p.fk-muted")[-1].get_text() == (
        "2 more row(s), too many to embed (15 bytes of CSV): write the report to a file, or as XLSX or CSV.")


def test_fragment_for_a_notebook_is_the_report_without_the_page():
    report = Report([Finding("a", "ok")], created=CREATED)
    fragment = html.render_html(report, standalone=False)
    assert fragment.startswith('<div class="fk-report">') and fragment.rstrip().endswith("</style>")
    assert "<html" not in fragment and "Content-Security-Policy" not in fragment and "<title>" not in fragment
    assert report._repr_html_() == fragment
    assert "<!DOCTYPE html>" in report.to_html()


def test_every_severity_has_its_colour_and_count():
    from flowkit.findings import SEVERITIES

    findings = [Finding(s, "ok", s) for s in SEVERITIES] + [Finding("again", "ok", "low")]
    soup = _soup(Report(findings, created=CREATED).to_html())
    assert {s["data-severity"]: s["style"] for s in soup.select("section.fk-finding")} == {
        "info": "border-left-color:#4a6fa5", "low": "border-left-color:#5b8c5a", "medium": "border-left-color:#a86f00",
        "high": "border-left-color:#c0392b", "critical": "border-left-color:#7b1e1e"}
    counts = {td["data-severity"]: td.get_text() for td in soup.select("table.fk-counts td")}
    assert counts == {"critical": "1", "high": "1", "medium": "1", "low": "2", "info": "1"}
    assert html.MAX_EMBED_BYTES == 8 * 1024 * 1024 and html.MAX_CELL_CHARS == 300


def test_csv_of_exactly_the_embed_limit_is_embedded(monkeypatch):
    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 15)  # the CSV below: BOM + "n\r\n1\r\n2\r\n3\r\n"
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1, 2, 3]})})
    link = _soup(Report([f], created=CREATED, max_rows=1).to_html()).select_one("div.fk-table a")
    assert link["href"] == "data:text/csv;charset=utf-8;base64,77u/bg0KMQ0KMg0KMw0K"


def test_download_names_of_long_titles_and_quarantines(tmp_path, monkeypatch):
    from flowkit.load_report import LoadReport

    quarantine = pd.DataFrame({"blob": ["b1", "b2"], "reason": ["bad-field", "bad-field"]})
    f = Finding("Denied " + "X" * 40, "ok", evidence={"e": pd.DataFrame({"n": [1, 2]})})
    report = Report([f], load_reports=[LoadReport(quarantined=2, quarantine=quarantine)], created=CREATED, max_rows=1)
    names = [a["download"] for a in _soup(report.to_html()).select("div.fk-table a")]
    assert names == ["01-denied-" + "x" * 23 + "-e.csv", "load-1-quarantine.csv"]  # the title's slug: 30 characters
    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 10)
    files = tmp_path / "deep" / "er" / "r_files"
    report.to_html(files_dir=files)  # the folder is made with its parents
    assert sorted(p.name for p in files.iterdir()) == ["01-denied-" + "x" * 23 + "-e.csv", "load-1-quarantine.csv"]


def test_a_cut_cell_in_a_table_that_fits_links_the_csv_that_holds_it_whole():
    import base64

    import pandas as pd

    from flowkit.findings import Finding
    from flowkit.report.report import Report

    long_rule = "UserRule_" + "x" * 400
    html = Report([Finding("rules", "ok", evidence={"rules": pd.DataFrame({"rule": [long_rule, "short"]})})],
                  max_rows=5).to_html()
    assert "109 more character(s), in the CSV" in html
    assert "Cells cut above are whole in the CSV: " in html
    uri = html.split('href="data:text/csv;charset=utf-8;base64,')[1].split('"')[0]
    assert long_rule in base64.b64decode(uri).decode("utf-8-sig")
    plain = Report([Finding("rules", "ok", evidence={"rules": pd.DataFrame({"rule": ["short"]})})]).to_html()
    assert "Cells cut above" not in plain and "data:text/csv" not in plain


def test_problems_of_a_load_report_beyond_max_rows_are_said_not_shown(tmp_path):
    import warnings

    from flowkit.read import read_flow_logs
    from flowkit.report.report import Report
    from tests.blobs import VNET_TUPLES, blob, vnet_record

    records = [vnet_record([("acl", "r", VNET_TUPLES[i:i + 1])], mac=f"NOT-A-MAC-{i}") for i in range(3)]
    (tmp_path / "PT1H.json").write_bytes(blob(records))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flows = read_flow_logs(str(tmp_path))
    html = Report(flows=flows, max_rows=2).to_html()
    assert html.split("fk-problems")[1].count("<tr><td>") == 2
    assert "1 more problem(s) not shown (the counts above are whole" in html
    assert "more problem(s) not shown" not in Report(flows=flows, max_rows=3).to_html()
