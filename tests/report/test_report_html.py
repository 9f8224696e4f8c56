"""The HTML page: self-contained, escaped, truncated tables with the full CSV attached, metadata."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import jinja2
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from flowkit.findings import Finding
from flowkit.report import Report
from flowkit.report.html import CSP, environment

from report_data import CREATED, JS_URL, LONG, ONERROR, SCRIPT


def _soup(page: str) -> BeautifulSoup:
    return BeautifulSoup(page, "html.parser")


def _external_refs(soup: BeautifulSoup) -> list[str]:
    """Every src/href/action/srcset/poster that is not a data: URI or an in-page #anchor."""
    refs = []
    for tag in soup.find_all(True):
        for attr in ("src", "href", "action", "srcset", "poster", "data", "formaction", "background"):
            value = tag.get(attr)
            if value and not (value.startswith("data:") or value.startswith("#")):
                refs.append(f"{tag.name}[{attr}]={value[:80]}")
    return refs


def test_self_contained_with_csp(scenario_reports):
    report, _ = scenario_reports["encryption"]
    page = report.to_html()
    soup = _soup(page)
    assert soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"] == CSP
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert soup.find("script") is None and soup.find("link") is None and soup.find("iframe") is None
    assert _external_refs(soup) == []
    assert "@import" not in page and "url(" not in page
    imgs = soup.find_all("img")
    assert [i["alt"] for i in imgs] == ["VNet encryption per hour. Axes: hour (UTC), encrypted flows (%). Its numbers are in the table "
                                          "trend."]
    png = base64.b64decode(imgs[0]["src"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_metadata_sources_window_version_created(scenario_reports):
    report, expected = scenario_reports["connectivity"]
    soup = _soup(report.to_html())
    meta = {dt.get_text(): dd for dt, dd in zip(soup.select("dl.fk-meta dt"), soup.select("dl.fk-meta dd"))}
    import flowkit

    assert meta["flowkit"].get_text() == flowkit.__version__
    assert meta["made at"].get_text() == CREATED
    assert [c.get_text() for c in meta["sources"].select("code.fk-source")] == [
        "local: " + str(Path(__file__).resolve().parents[2] / "data-samples/connectivity/insights-logs-flowlogflowevent")]
    # the window is the span of the rows read: first and last tuple of the 10:00 and 11:00 blobs
    start, end = meta["time window"].get_text().replace(" (UTC)", "").split(" to ")
    assert start.startswith("2024-05-01T10:") and end.startswith("2024-05-01T11:")


def test_long_tables_truncated_with_full_csv(scenario_reports):
    report, _ = scenario_reports["connectivity"]  # max_rows=20
    soup = _soup(report.to_html())
    section = soup.find("section", id="finding-2")
    tables = {d.find("h4").contents[0].strip(): d for d in section.select("div.fk-table")}
    tuples = tables["tuples"]
    assert len(tuples.select("tbody tr")) == 20
    link = tuples.find("a", download=True)
    assert link["download"].endswith(".csv") and link["href"].startswith("data:text/csv;charset=utf-8;base64,")
    csv = base64.b64decode(link["href"].split(",", 1)[1]).decode("utf-8-sig")
    full = pd.read_csv(io.StringIO(csv))
    original = report.findings[1].evidence["tuples"]
    assert len(full) == len(original) == 90
    assert full["src_port"].tolist() == original["src_port"].astype(int).tolist()
    assert list(full.columns) == list(original.columns)
    # short tables carry no download link
    assert tables["observations"].find("a") is None


def test_hostile_text_is_escaped(tmp_path):
    evidence = pd.DataFrame({"rule": [SCRIPT, JS_URL, ONERROR, LONG], SCRIPT: [1, 2, 3, 4]})
    f = Finding(title=SCRIPT, verdict=ONERROR, severity="high", summary=JS_URL + " " + ONERROR,
                evidence={SCRIPT: evidence}, facts={SCRIPT: ONERROR, "long": LONG}, notes=[SCRIPT])
    report = Report([f], title=SCRIPT, sources=[f"local: {SCRIPT}"], notes=[ONERROR], created=CREATED)
    page = report.to_html()
    soup = _soup(page)
    assert soup.find("script") is None and soup.find("img") is None  # no element was injected
    assert not re.search(r"<(script|img|iframe|svg|object)\b", page, re.IGNORECASE)
    assert not [t for t in soup.find_all(True) for a in t.attrs if a.lower().startswith("on")]
    assert "javascript:" not in " ".join(str(v) for t in soup.find_all(True) for v in t.attrs.values())
    assert soup.find("h1").get_text() == SCRIPT
    assert soup.select_one("section.fk-finding")["data-verdict"] == ONERROR
    cells = [td.get_text() for td in soup.select("section.fk-finding tbody td")]
    assert SCRIPT in cells and JS_URL in cells and ONERROR in cells
    # a 10,000-character cell is cut on the page; the rest is in the CSV
    long_cell = [c for c in cells if c.startswith("AAAA")][0]
    assert long_cell == "A" * 300 + " … 9700 more character(s), in the CSV"
    assert soup.select_one('td[data-fact="long"]').get_text() == "A" * 2000 + " … 8000 more character(s), not shown"
    assert page.count("A" * 2001) == 0


def test_strict_undefined_and_autoescape():
    env = environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nothing_here }}").render()


def test_quarantine_and_problems_shown(hostile_logs):
    import warnings

    from flowkit import read_flow_logs
    from flowkit.report import investigate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flows = read_flow_logs(str(hostile_logs), progress=False)
    report = Report(investigate(flows, ["connectivity"], progress=False), flows=flows, created=CREATED)
    soup = _soup(report.to_html())
    load = {tr.th.get_text(): tr.td.get_text() for tr in soup.select_one("table.fk-load-report").find_all("tr")}
    assert (load["files"], load["tuples"], load["rows"], load["quarantined"]) == ("2", "13", "12", "1")
    assert load["problems"] == "invalid-characters: 1"
    q = [d for d in soup.select("div.fk-table") if d.find("h4").contents[0].strip() == "quarantined tuples"][0]
    row = [td.get_text() for td in q.select("tbody td")]
    assert row[3] == "invalid-characters" and row[4] == f"bad,{SCRIPT},{ONERROR}"


def test_notebook_fragment_and_empty_report():
    frag = Report([Finding("a", "ok")])._repr_html_()
    assert frag.startswith('<div class="fk-report">') and "<html" not in frag and "<style>" in frag
    page = Report(created=CREATED).to_html()
    assert "No findings." in page and "No load report was attached" in page


def test_write_html_large_table_beside(tmp_path, monkeypatch):
    import flowkit.report.html as html

    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 100)
    frame = pd.DataFrame({"n": range(500)})
    out = Report([Finding("big", "ok", evidence={"rows": frame})], max_rows=5).write(tmp_path / "r.html")
    soup = _soup(out.read_text())
    link = soup.select_one("div.fk-table a")
    assert link["href"] == "./r_files/01-big-rows.csv" and not link.has_attr("download")
    beside = pd.read_csv(tmp_path / "r_files" / "01-big-rows.csv", encoding="utf-8-sig")
    assert beside["n"].tolist() == list(range(500))
    assert "too many to embed" in Report([Finding("big", "ok", evidence={"rows": frame})], max_rows=5).to_html()


def test_link_to_a_table_beside_survives_a_name_with_hash_and_space(tmp_path, monkeypatch):
    import flowkit.report.html as html

    monkeypatch.setattr(html, "MAX_EMBED_BYTES", 100)
    frame = pd.DataFrame({"n": range(500)})
    out = Report([Finding("big", "ok", evidence={"rows": frame})], max_rows=5).write(tmp_path / "week #3 r.html")
    link = _soup(out.read_text()).select_one("div.fk-table a")
    assert link["href"] == "./week%20%233%20r_files/01-big-rows.csv"
    assert (tmp_path / "week #3 r_files" / "01-big-rows.csv").is_file()


def test_xlsx_on_a_full_device_is_an_os_error_and_the_device_stays(tmp_path):
    import os

    if not os.path.exists("/dev/full"):
        pytest.fail("/dev/full is missing on this machine")
    with pytest.raises(OSError) as caught:
        Report([Finding("a", "ok")]).write("/dev/full", format="xlsx")
    assert caught.value.errno == 28  # ENOSPC
    import stat

    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written to, not replaced by a rename
