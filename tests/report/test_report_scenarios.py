"""Reports built from each data-samples scenario hold the expected verdicts and numbers (HTML and XLSX read back)."""

from __future__ import annotations

import json

import pytest

from report_pages import fact, html_counts, html_findings, html_load_reports, xlsx_finding, xlsx_sheets

ACL_DATA = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-FLOWKIT-DEMO/providers/"
            "Microsoft.Network/networkSecurityGroups/nsg-snet-data")


@pytest.fixture(scope="module")
def written(scenario_reports, tmp_path_factory):
    """name -> (html text, xlsx sheets, expected) for each scenario."""
    out = {}
    for name, (report, expected) in scenario_reports.items():
        folder = tmp_path_factory.mktemp(name)
        page = report.write(folder / "findings.html").read_text(encoding="utf-8")
        sheets = xlsx_sheets(report.write(folder / "findings.xlsx"))
        out[name] = (page, sheets, expected)
    return out


def _load_numbers(expected):
    t = expected["totals"]
    return {"files": str(t["files"]), "records": str(t["records"]), "tuples": str(t["tuples"]),
            "rows": str(t["tuples"]), "quarantined": "0"}


@pytest.mark.parametrize("name", ["connectivity", "nsg-vs-vnet", "encryption"])
def test_load_report_numbers(written, name):
    page, sheets, expected = written[name]
    (lr,) = html_load_reports(page)
    want = _load_numbers(expected)
    assert {k: lr[k] for k in want} == want
    load = {r[0]: r[1] for r in sheets["Load report 1"] if r and r[0]}
    assert {k: str(load[k]) for k in want} == want


def test_connectivity_html(written):
    page, _, expected = written["connectivity"]
    found = html_findings(page)
    assert [(f["title"], f["verdict"], f["severity"]) for f in found] == [
        ("Denied traffic", "retry-storm", "medium"),
        ("Connectivity 10.10.1.4 -> 10.10.3.4 port 1433", "denied", "high"),
        ("Connectivity 10.10.2.4 -> 10.10.3.5 TCP port 6379", "lost-in-transit", "high"),
        ("Connectivity 10.10.1.5 -> 10.10.2.5 port 8080", "no-reply", "medium"),
        ("Connectivity 10.10.1.4 -> 198.51.100.10 port 443", "ok", "info"),
        ("Connectivity 10.10.1.4 -> 10.10.9.9 port 443", "not-observed", "low"),
        ("Top talkers (by ip)", "top-talkers", "info"),
    ]
    assert html_counts(page) == {"critical": 0, "high": 2, "medium": 2, "low": 1, "info": 2}
    by_key = {(d["src"], d["dst"], d["port"]): d for d in expected["diagnoses"]}
    for f in found[1:6]:
        src, _, dst, *_rest = f["title"].split()[1:]
        port = int(f["title"].split()[-1])
        want = by_key[(src, dst, port)]
        assert f["verdict"] == want["verdict"]
        assert fact(f["facts"]["where"]) == (want["where"] if want["where"] else "")
        assert f["facts"]["rule"] == (want["rule"] or "")
    denied = found[1]
    assert denied["facts"]["rule"] == "UserRule_DenyWebToSql" and denied["facts"]["acl_id"] == ACL_DATA
    assert denied["facts"]["attempts"] == "30" and denied["facts"]["evidence_rows"] == "90"
    assert denied["tables"]["tuples"] == 90 and "db-01" in denied["summary"]
    storms = fact(found[0]["facts"]["storms"])
    assert [(s["src_ip"], s["dst_ip"], s["dst_port"], s["attempts"]) for s in storms] == [
        ("192.0.2.66", "10.10.1.4", 22, 40)]
    # 30 web-01 -> db-01 attempts + 60 scanner attempts, in 1 + 16 groups
    assert (found[0]["facts"]["attempts"], found[0]["facts"]["groups"]) == ("90", "17")


def test_connectivity_xlsx(written):
    _, sheets, _ = written["connectivity"]
    summary = sheets["Summary"]
    header = summary.index(["finding", "severity", "verdict", "title", "sheet"])
    rows = summary[header + 1:]
    assert [(r[1], r[2]) for r in rows] == [("medium", "retry-storm"), ("high", "denied"), ("high", "lost-in-transit"),
                                            ("medium", "no-reply"), ("info", "ok"), ("low", "not-observed"),
                                            ("info", "top-talkers")]
    assert all(len(r[4]) <= 31 and r[4] in sheets for r in rows)
    denied = xlsx_finding(sheets[rows[1][4]])
    assert denied["head"]["verdict"] == "denied"
    assert denied["facts"]["rule"] == "UserRule_DenyWebToSql" and denied["facts"]["acl_id"] == ACL_DATA
    assert denied["facts"]["where"] == "destination-inbound" and denied["facts"]["attempts"] == 30
    assert len(denied["tables"]["tuples"]) == 90  # every row, not the 20 shown in HTML
    assert {r["decision"] for r in denied["tables"]["tuples"]} == {"allow", "deny"}
    storm = xlsx_finding(sheets[rows[0][4]])
    table = storm["tables"]["denied"]
    assert len(table) == 17
    assert [(r["src_ip"], r["dst_port"], r["attempts"]) for r in table if r["retry_storm"]] == [("192.0.2.66", 22, 40)]
    lost = xlsx_finding(sheets[rows[2][4]])
    assert (lost["facts"]["verdict"], lost["facts"]["where"], lost["facts"]["evidence_rows"]) == (
        "lost-in-transit", "in-transit", 120)


def test_nsg_vs_vnet(written):
    page, sheets, expected = written["nsg-vs-vnet"]
    (f,) = html_findings(page)
    t = expected["totals"]
    assert (f["verdict"], f["severity"]) == ("ready", "low")
    got = {k: fact(f["facts"][k]) for k in ("matched", "nsg_only", "vnet_only", "outside_window",
                                           "decision_mismatch", "counter_mismatch", "explained")}
    assert got == {"matched": t["by_class"]["matched"], "nsg_only": t["by_class"]["nsg-only"],
                   "vnet_only": t["by_class"]["vnet-only"], "outside_window": t["by_class"]["outside-window"],
                   "decision_mismatch": t["decision_mismatch_keys"], "counter_mismatch": t["counter_mismatch_keys"],
                   "explained": t["by_cause"]}
    assert f["tables"]["keys"] == t["keys"] == 57
    (name,) = [n for n in sheets if n.startswith("01 ")]
    sheet = xlsx_finding(sheets[name])
    assert json.loads(sheet["facts"]["explained"]) == t["by_cause"]
    assert sheet["facts"]["matched"] == 40 and sheet["facts"]["coverage"] == pytest.approx(40 / 41)
    keys = sheet["tables"]["keys"]
    assert len(keys) == 57
    by_class = {}
    for k in keys:
        by_class[k["class"]] = by_class.get(k["class"], 0) + 1
    assert by_class == t["by_class"]


def test_encryption(written):
    page, sheets, expected = written["encryption"]
    (f,) = html_findings(page)
    assert (f["verdict"], f["severity"]) == ("dropped", "high")
    assert fact(f["facts"]["by_state"]) == expected["totals"]["flows_by_encryption"]
    assert fact(f["facts"]["dropped"]) == expected["dropped"]["flows"] == 30
    assert fact(f["facts"]["unsupported_macs"]) == expected["unsupported_macs"] == ["000D3A000404"]
    assert fact(f["facts"]["flows"]) == expected["totals"]["flows"] == 60
    assert f["tables"]["dropped"] == 30
    (name,) = [n for n in sheets if n.startswith("01 ")]
    sheet = xlsx_finding(sheets[name])
    by_state = {r["state"]: r["flows"] for r in sheet["tables"]["by_state"]}
    assert by_state == expected["totals"]["flows_by_encryption"]
    assert len(sheet["tables"]["dropped"]) == 30 and len(sheet["tables"]["flows"]) == 60
    assert "<img" in page and "data:image/png;base64," in page  # the hourly trend is embedded
