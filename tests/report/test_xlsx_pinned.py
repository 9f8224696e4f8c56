"""XLSX and CSV folder details: valid sheet names, no table overwritten by another."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from flowkit.findings import Finding
from flowkit.report import Report
from flowkit.report.xlsx import sheet_names

from report_data import CREATED


def test_sheet_name_cut_to_31_characters_never_ends_in_an_apostrophe():
    assert sheet_names(["x" * 27 + "'abc", "it's'"]) == ["01 " + "x" * 27, "02 it's"]


def test_csv_folder_keeps_tables_whose_names_slug_alike_and_a_table_called_facts(tmp_path):
    f = Finding("Talkers", "ok", facts={"nodes": 2},
                evidence={"by bytes": pd.DataFrame({"n": [1]}), "by-bytes": pd.DataFrame({"n": [2]}),
                          "facts": pd.DataFrame({"n": [3]})})
    out = Report([f], created=CREATED).to_csv_dir(tmp_path / "r")
    text = {p.name: p.read_bytes().decode("utf-8-sig") for p in out.iterdir()}
    assert sorted(text) == ["01-talkers-by-bytes.1.csv", "01-talkers-by-bytes.csv", "01-talkers-facts.1.csv",
                            "01-talkers-facts.csv", "metadata.csv", "summary.csv"]
    assert text["01-talkers-facts.csv"] == "fact,value\r\nnodes,2\r\n"
    assert (text["01-talkers-by-bytes.csv"], text["01-talkers-by-bytes.1.csv"], text["01-talkers-facts.1.csv"]) == (
        "n\r\n1\r\n", "n\r\n2\r\n", "n\r\n3\r\n")
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert summary["files"].tolist() == [
        "01-talkers-facts.csv;01-talkers-by-bytes.csv;01-talkers-by-bytes.1.csv;01-talkers-facts.1.csv"]


def test_neutralised_cell_at_the_limit_is_cut_to_the_excel_limit():
    from flowkit.report.xlsx import MAX_CELL, xlsx_cell

    assert MAX_CELL == 32767
    cell = xlsx_cell("=" + "A" * (MAX_CELL - 1))
    assert len(cell) == 32760 and cell == "'=" + "A" * (MAX_CELL - 22) + " …(truncated)"
    assert xlsx_cell("A" * MAX_CELL) == "A" * MAX_CELL
    assert xlsx_cell("A" * (MAX_CELL + 1)) == "A" * (MAX_CELL - 20) + " …(truncated)"


def _small_report() -> Report:
    from flowkit.load_report import LoadReport, Problem

    quarantine = pd.DataFrame({"blob": ["https://acct.blob.core.windows.net/c/PT1H.json?sv=2022&sig=abc"], "record": [0],
                               "tuple": [1], "reason": ["bad-field"], "raw": ["=x"]})
    load = LoadReport(files=2, files_skipped=1, records=3, tuples=5, rows=4, quarantined=1, filtered_out=0,
                      formats={"vnet-v4": 4}, quarantine=quarantine, sources=("local: logs?sig=s3cr3t",),
                      problems=(Problem("b?sig=zz", "not-json", "d", 3),))
    f = Finding("Denied 10.0.0.1", "denied", "high", "flows were denied",
                evidence={"denied": pd.DataFrame({"n": [1, 2, 3], "rule": ["a", "b", "=c"]}), "skip": "not a frame"},
                facts={"flows": 3, "rules": ["a", "b"]}, notes=["read with care"])
    return Report([f, Finding("ok", "ok", "critical")], title="T", sources=["s?sig=k"], load_reports=[load],
                  created=CREATED, max_rows=2, start="2024-05-01T10:00Z")


def _trimmed(rows):
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    return out


def test_workbook_of_a_small_report_has_every_row(tmp_path):
    from flowkit import __version__
    from openpyxl import load_workbook

    from report_pages import xlsx_sheets

    path = _small_report().to_xlsx(tmp_path / "r.xlsx")
    sheets = {name: _trimmed(rows) for name, rows in xlsx_sheets(path).items()}
    assert list(sheets) == ["Summary", "01 Denied 10.0.0.1", "02 ok", "Load report 1"]
    assert sheets["Summary"] == [
        ["title", "T"], ["flowkit", __version__], ["created", datetime(2024, 5, 2, 9, 0)], ["start", datetime(2024, 5, 1, 10, 0)],
        ["end"], ["anonymized", False], ["source", "s?REDACTED"], ["source", "local: logs?REDACTED"], [],
        ["severity", "findings"], ["critical", 1], ["high", 1], ["medium", 0], ["low", 0], ["info", 0], [],
        ["finding", "severity", "verdict", "title", "sheet"], [1, "high", "denied", "Denied 10.0.0.1", "01 Denied 10.0.0.1"],
        [2, "critical", "ok", "ok", "02 ok"]]
    assert sheets["01 Denied 10.0.0.1"] == [
        ["title", "Denied 10.0.0.1"], ["severity", "high"], ["verdict", "denied"], ["summary", "flows were denied"],
        ["note", "read with care"], [], ["fact", "value"], ["flows", 3], ["rules", '["a", "b"]'], [],
        ["evidence: denied", "3 row(s)"], ["n", "rule"], [1, "a"], [2, "b"], [3, "'=c"]]  # every row, max_rows or not
    assert sheets["02 ok"] == [["title", "ok"], ["severity", "critical"], ["verdict", "ok"], ["summary"]]
    assert sheets["Load report 1"] == [
        ["files", 2], ["files_skipped", 1], ["records", 3], ["tuples", 5], ["rows", 4], ["quarantined", 1],
        ["filtered_out", 0], ["formats", '{"vnet-v4": 4}'], ["problems", '{"bad-field": 1, "record:not-json": 1}'],
        ["start"], ["end"],
        ["sources", '["local: logs?REDACTED"]'], [], ["quarantined tuples"], ["blob", "record", "tuple", "reason", "raw"],
        ["https://acct.blob.core.windows.net/c/PT1H.json?REDACTED", 0, 1, "bad-field", "'=x"]]
    wb = load_workbook(path)
    summary, finding = wb["Summary"], wb["01 Denied 10.0.0.1"]
    assert [c.font.b for c in summary["A"]][:3] == [True, True, True] and summary["B1"].font.b is False
    assert [finding.cell(r, 1).font.b for r in (1, 5, 7, 8, 11, 12, 13)] == [True, True, True, False, True, True, False]
    assert [finding.cell(12, c).font.b for c in (1, 2)] == [True, True]
    assert (summary.column_dimensions["A"].width, summary.column_dimensions["D"].width) == (14, 60)
    assert (finding.column_dimensions["A"].width, finding.column_dimensions["B"].width) == (22, 40)


def test_csv_folder_of_a_small_report(tmp_path):
    from flowkit import __version__

    out = _small_report().to_csv_dir(tmp_path / "r")
    text = {p.name: p.read_bytes().decode("utf-8-sig").replace("\r\n", "\n") for p in out.iterdir()}
    assert text == {
        "01-denied-10-0-0-1-denied.csv": "n,rule\n1,a\n2,b\n3,'=c\n",
        "01-denied-10-0-0-1-facts.csv": 'fact,value\nflows,3\nrules,"[""a"", ""b""]"\n',
        "load-1-quarantine.csv": "blob,record,tuple,reason,raw\n"
                                 "https://acct.blob.core.windows.net/c/PT1H.json?REDACTED,0,1,bad-field,'=x\n",
        "metadata.csv": f"key,value\ntitle,T\nflowkit_version,{__version__}\ncreated,2024-05-02T09:00:00Z\n"
                        "start,2024-05-01T10:00:00Z\nend,\nanonymized,False\nsource,s?REDACTED\n"
                        "source,local: logs?REDACTED\n"
                        "load_report_1.files,2\nload_report_1.files_skipped,1\nload_report_1.records,3\n"
                        "load_report_1.tuples,5\nload_report_1.rows,4\n"
                        "load_report_1.quarantined,1\nload_report_1.filtered_out,0\n"
                        'load_report_1.formats,"{""vnet-v4"": 4}"\n'
                        'load_report_1.problems,"{""bad-field"": 1, ""record:not-json"": 1}"\n'
                        "load_report_1.start,\nload_report_1.end,\n",
        "summary.csv": "finding,severity,verdict,title,summary,files\n"
                       "1,high,denied,Denied 10.0.0.1,flows were denied,"
                       "01-denied-10-0-0-1-facts.csv;01-denied-10-0-0-1-denied.csv\n"
                       "2,critical,ok,ok,,\n"}


def test_csv_folder_made_with_its_parents_or_reused_and_long_titles_cut_to_30(tmp_path):
    from flowkit.report.xlsx import xlsx_cell

    report = Report([Finding("Denied " + "X" * 40, "ok", facts={"vm": {"name": "café-01"}})], created=CREATED)
    target = tmp_path / "deep" / "er" / "r"
    for _ in range(2):  # made the first time, written again into the folder the second
        out = report.to_csv_dir(target)
    stem = "01-denied-" + "x" * 23
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}-facts.csv", "metadata.csv", "summary.csv"]
    assert (out / f"{stem}-facts.csv").read_bytes().decode("utf-8-sig") == 'fact,value\r\nvm,"{""name"": ""café-01""}"\r\n'
    assert xlsx_cell({"vm": "café"}) == '{"vm": "café"}'


def test_workbook_made_with_its_parent_folders(tmp_path):
    from report_pages import xlsx_sheets

    path = Report([Finding("ok", "ok")], created=CREATED).to_xlsx(tmp_path / "a" / "b" / "r.xlsx")
    assert path == tmp_path / "a" / "b" / "r.xlsx" and list(xlsx_sheets(path)) == ["Summary", "01 ok"]


def test_tables_past_the_row_limit_are_cut_and_every_caption_stays_inside_the_sheet(tmp_path, monkeypatch):
    import flowkit.report.xlsx as xlsx
    from report_pages import xlsx_sheets

    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)
    f = Finding("t", "ok", evidence={"big": pd.DataFrame({"n": range(30)}), "small": pd.DataFrame({"n": [7, 8]})})
    rows = _trimmed(xlsx_sheets(Report([f], created=CREATED).to_xlsx(tmp_path / "r.xlsx"))["01 t"])
    # head 4 rows; the first table leaves 3 rows for the second table's gap, caption and header
    assert rows == [["title", "t"], ["severity", "info"], ["verdict", "ok"], ["summary"], [],
                    ["evidence: big", "30 row(s), first 9 in this sheet"], ["n"]] + [[i] for i in range(9)] + [
                    [], ["evidence: small", "2 row(s), first 0 in this sheet"], ["n"]]
    assert len(rows) == 19 <= xlsx.MAX_ROWS


def test_table_that_just_fits_is_written_whole(tmp_path, monkeypatch):
    import flowkit.report.xlsx as xlsx
    from report_pages import xlsx_sheets

    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)
    f = Finding("t", "ok", evidence={"fits": pd.DataFrame({"n": range(12)})})
    rows = _trimmed(xlsx_sheets(Report([f], created=CREATED).to_xlsx(tmp_path / "r.xlsx"))["01 t"])
    assert rows[5:7] == [["evidence: fits", "12 row(s)"], ["n"]] and rows[7:] == [[i] for i in range(12)]
    f = Finding("t", "ok", evidence={"over": pd.DataFrame({"n": range(13)})})
    rows = _trimmed(xlsx_sheets(Report([f], created=CREATED).to_xlsx(tmp_path / "s.xlsx"))["01 t"])
    assert rows[5] == ["evidence: over", "13 row(s), first 12 in this sheet"] and rows[7:] == [[i] for i in range(12)]


def test_quarantine_past_the_row_limit_is_cut(tmp_path, monkeypatch):
    import flowkit.report.xlsx as xlsx
    from flowkit.load_report import LoadReport
    from report_pages import xlsx_sheets

    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)
    quarantine = pd.DataFrame({"blob": ["b"] * 10, "record": range(10), "tuple": [0] * 10, "reason": ["r"] * 10,
                               "raw": ["x"] * 10})
    load = LoadReport(files=1, quarantined=10, quarantine=quarantine)
    rows = _trimmed(xlsx_sheets(Report([], created=CREATED, load_reports=[load]).to_xlsx(tmp_path / "r.xlsx"))["Load report 1"])
    assert rows[12:15] == [[], ["quarantined tuples"], ["blob", "record", "tuple", "reason", "raw"]]
    assert [r[1] for r in rows[15:]] == [0, 1, 2, 3] and len(rows) == 19


def test_table_after_a_whole_table_gets_the_rows_left(tmp_path, monkeypatch):
    import flowkit.report.xlsx as xlsx
    from report_pages import xlsx_sheets

    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)
    f = Finding("t", "ok", evidence={"a": pd.DataFrame({"n": range(8)}), "b": pd.DataFrame({"n": [7, 8]})})
    rows = _trimmed(xlsx_sheets(Report([f], created=CREATED).to_xlsx(tmp_path / "r.xlsx"))["01 t"])
    assert rows[5] == ["evidence: a", "8 row(s)"]
    assert rows[15:] == [[], ["evidence: b", "2 row(s), first 1 in this sheet"], ["n"], [7]]


def test_workbook_times_are_utc_date_times_in_columns_wide_enough(tmp_path):
    """An auditor sorts, filters and subtracts times in Excel: they are date-times (in UTC, the format
    says so), not ISO text; the columns holding them are wide enough not to show ######; the CSV
    folder keeps ISO 8601 text with its Z."""
    from openpyxl import load_workbook

    from flowkit.report.xlsx import TIME_FORMAT

    seen = pd.Series(pd.to_datetime(["2024-05-01T12:15:28.002+02:00", "2024-05-01T10:16:03Z", None], utc=True, format="ISO8601"))
    evidence = {"denied": pd.DataFrame({"first_seen": seen, "n": [1, 2, 3]})}
    report = Report([Finding("Denied", "denied", "high", evidence=evidence,
                             facts={"first": pd.Timestamp("2024-05-01T10:15:28Z"), "n": 2})],
                    created="2024-05-02T09:00Z", start="2024-05-01T10:00Z", end="2024-05-01T12:00Z")
    wb = load_workbook(report.to_xlsx(tmp_path / "r.xlsx"))
    summary, sheet = wb["Summary"], wb["01 Denied"]
    assert [(summary.cell(r, 2).value, summary.cell(r, 2).number_format) for r in (3, 4, 5)] == [
        (datetime(2024, 5, 2, 9, 0), TIME_FORMAT), (datetime(2024, 5, 1, 10, 0), TIME_FORMAT),
        (datetime(2024, 5, 1, 12, 0), TIME_FORMAT)]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[rows.index(["first_seen", "n"]) + 1:] == [
        [datetime(2024, 5, 1, 10, 15, 28, 2000), 1], [datetime(2024, 5, 1, 10, 16, 3), 2], [None, 3]]
    assert [r for r in rows if r[0] == "first"] == [["first", datetime(2024, 5, 1, 10, 15, 28)]]
    header = rows.index(["first_seen", "n"]) + 1
    assert [sheet.cell(header + k, 1).number_format for k in (1, 2)] == [TIME_FORMAT, TIME_FORMAT]
    assert TIME_FORMAT == 'yyyy-mm-dd hh:mm:ss.000 "UTC"'
    assert (sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width) == (29, 40)
    assert summary.column_dimensions["B"].width == 29
    out = report.to_csv_dir(tmp_path / "csv")
    assert (out / "01-denied-denied.csv").read_text("utf-8-sig").splitlines() == [
        "first_seen,n", "2024-05-01T10:15:28.002000Z,1", "2024-05-01T10:16:03Z,2", ",3"]
    assert (out / "01-denied-facts.csv").read_text("utf-8-sig").splitlines() == [
        "fact,value", "first,2024-05-01T10:15:28Z", "n,2"]
