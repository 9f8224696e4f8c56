"""Reports read by people: shares as percentages, protocols by name, counts with separators,
figures described in their alt text, column labels explained; the machine formats keep the values."""

from __future__ import annotations

import base64

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from matplotlib.figure import Figure

from flowkit.findings import Finding
from flowkit.load_report import LoadReport
from flowkit.report import Report
from flowkit.report.present import count, percent, protocol_label

from report_data import CREATED


def _figure():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [40, 60], label="encrypted")
    ax.set_title("Encryption per hour")
    ax.set_ylabel("encrypted flows (%)")
    ax.legend()
    return fig


def _report():
    tuples = pd.DataFrame({"src_ip": ["192.0.2.1", "192.0.2.2"],
                           "protocol": pd.Series([6, 17], dtype="uint8"),
                           "packets_sent": [6761.0, float("nan")],
                           "encrypted_share": [1 / 3, 1.0],
                           "acl_id": ["a", "b"],
                           "hours": ["10:00", "10:00,11:00"]})
    matrix = pd.DataFrame({"src_subnet": ["snet-a"], "snet-b": [0.32]})
    trend = pd.DataFrame({"hour": pd.to_datetime(["2024-05-01T10:00Z"]), "encrypted_share": [0.4]})
    f = Finding("Audit", "partial", "medium", "s",
                evidence={"tuples": tuples, "subnet_matrix": matrix, "trend": trend},
                facts={"flows": 3, "encrypted_share": 1 / 3, "coverage": 40 / 41, "bytes_encrypted_share": None},
                figures={"trend": _figure(), "raw": b"\x89PNG"})
    load = LoadReport(files=1234, files_skipped=0, records=56789, tuples=1234567, rows=1234567, quarantined=0,
                      filtered_out=0, formats={"vnet-v4": 1234567})
    return Report([f], title="T", load_reports=[load], created=CREATED)


TREND_ALT = ("Encryption per hour. Axes: encrypted flows (%). Legend: encrypted. "
             "Its numbers are in the table trend.")


def test_percent_protocol_and_count_texts():
    assert [percent(v) for v in (1 / 3, 40 / 41, 0.0, 1.0, 0.9999, 0.00001, None)] == [
        "33.3 %", "97.6 %", "0.0 %", "100.0 %", "> 99.9 %", "< 0.1 %", ""]
    assert [protocol_label(v) for v in (6, 17, 1, 58, "tcp", 253)] == [
        "TCP (6)", "UDP (17)", "ICMP (1)", "ICMPv6 (58)", "TCP (6)", "253"]
    assert [count(v) for v in (1234567, 12, "x")] == ["1,234,567", "12", "x"]


def test_html_shows_percentages_protocol_names_whole_counters_and_explained_labels():
    soup = BeautifulSoup(_report().to_html(), "html.parser")
    facts = {td["data-fact"]: td.get_text() for td in soup.select("td[data-fact]")}
    assert facts == {"flows": "3", "encrypted_share": "33.3 %", "coverage": "97.6 %", "bytes_encrypted_share": ""}
    tables = soup.select("div.fk-table table")
    assert [th.get_text() for th in tables[0].select("thead th")] == [
        "src_ip", "protocol", "packets_sent", "encrypted_share", "acl_id", "hours (UTC)"]
    assert [[td.get_text() for td in tr.find_all("td")] for tr in tables[0].select("tbody tr")] == [
        ["192.0.2.1", "TCP (6)", "6761", "33.3 %", "a", "10:00"],
        ["192.0.2.2", "UDP (17)", "", "100.0 %", "b", "10:00,11:00"]]
    assert [td.get("class") for td in tables[0].select("tbody tr")[0].find_all("td")] == [
        None, None, ["num"], ["num"], None, None]
    assert tables[0].select("thead th")[4]["title"].startswith("VNet flow logs' aclID of what decided: a GUID")
    assert tables[0].select("thead th")[5]["title"] == "hours with tuples, as HH:00 in UTC"
    assert [td.get_text() for td in tables[1].select("tbody td")] == ["snet-a", "32.0 %"]
    assert [td.get_text() for td in tables[2].select("tbody td")] == ["2024-05-01T10:00:00Z", "40.0 %"]
    assert [img["alt"] for img in soup.select("figure img")] == [TREND_ALT, "Figure 'raw' of Audit."]
    load = {tr.th.get_text(): tr.td.get_text() for tr in soup.select_one("table.fk-load-report").find_all("tr")}
    assert (load["files"], load["records"], load["tuples"], load["rows"]) == ("1,234", "56,789", "1,234,567", "1,234,567")


def test_markdown_shows_percentages_protocol_names_alt_text_and_counts(tmp_path):
    lines = _report().write(tmp_path / "r.md").read_text().splitlines()
    assert "| encrypted\\_share | 33.3 % |" in lines and "| coverage | 97.6 % |" in lines
    assert "| bytes\\_encrypted\\_share |  |" in lines
    i = lines.index("| src\\_ip | protocol | packets\\_sent | encrypted\\_share | acl\\_id | hours (UTC) |")
    assert lines[i + 1: i + 4] == ["|---|---|---:|---:|---|---|",
                                   "| 192.0.2.1 | TCP (6) | 6761 | 33.3 % | a | 10:00 |",
                                   "| 192.0.2.2 | UDP (17) |  | 100.0 % | b | 10:00,11:00 |"]
    assert "| snet-a | 32.0 % |" in lines
    assert f"![{TREND_ALT}](r_files/01-audit-trend.png)" in lines
    assert "![Figure 'raw' of Audit.](r_files/01-audit-raw.png)" in lines
    assert ("1,234 file(s) (0 skipped by their path: hour, MAC, log type), 56,789 record(s), 1,234,567 tuple(s): "
            "1,234,567 row(s), 0 quarantined, 0 not selected.") in lines
    # the CSV beside it keeps the values exact
    csv = (tmp_path / "r_files" / "01-audit-tuples.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert csv[1:] == ["192.0.2.1,6,6761.0,0.3333333333333333,a,10:00", "192.0.2.2,17,,1.0,b,\"10:00,11:00\""]


def test_html_table_download_keeps_exact_values():
    report = _report()
    report.max_rows = 1
    soup = BeautifulSoup(report.to_html(), "html.parser")
    href = soup.select("div.fk-table")[0].find("a", download=True)["href"]
    csv = base64.b64decode(href.split(",", 1)[1]).decode("utf-8-sig").splitlines()
    assert csv[1] == "192.0.2.1,6,6761.0,0.3333333333333333,a,10:00"


def test_xlsx_keeps_exact_shares_shown_as_percentages(tmp_path):
    from openpyxl import load_workbook

    path = _report().to_xlsx(tmp_path / "r.xlsx")
    ws = load_workbook(path)["01 Audit"]
    rows = {r[0].value: r for r in ws.iter_rows() if r and r[0].value is not None}
    assert rows["encrypted_share"][1].value == pytest.approx(1 / 3) and rows["encrypted_share"][1].number_format == "0.0 %"
    assert rows["coverage"][1].value == pytest.approx(40 / 41) and rows["coverage"][1].number_format == "0.0 %"
    assert rows["flows"][1].number_format == "General"
    first = rows["192.0.2.1"]
    assert [c.value for c in first[:6]] == ["192.0.2.1", 6, 6761, pytest.approx(1 / 3), "a", "10:00"]
    assert [c.number_format for c in first[:4]] == ["General", "General", "General", "0.0 %"]
    assert [(c.value, c.number_format) for c in rows["snet-a"][:2]] == [("snet-a", "General"), (0.32, "0.0 %")]


def test_figure_alt_text_never_carries_a_secret():
    fig = Figure()
    ax = fig.subplots()
    ax.set_title("read https://a.blob.core.windows.net/c?sv=1&sig=abc")
    page = Report([Finding("t", "ok", figures={"f": fig})], created=CREATED).to_html()
    (img,) = BeautifulSoup(page, "html.parser").select("figure img")
    assert img["alt"] == "read https://a.blob.core.windows.net/c?REDACTED"
    assert "sig=abc" not in page
