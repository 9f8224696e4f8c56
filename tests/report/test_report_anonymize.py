"""Anonymised reports: keyed, consistent pseudonyms; none of the original addresses, MACs or names."""

from __future__ import annotations

import ipaddress
import re

import pandas as pd
import pytest

from flowkit.findings import Finding
from flowkit.report import Anonymizer, Report

from report_pages import html_findings, xlsx_sheets

KEY = "test-key-\u00e9-1"


def _originals(report: Report) -> dict[str, set[str]]:
    ips, macs = set(), set()
    for f in report.findings:
        for frame in f.evidence.values():
            for col in frame.columns:
                values = {str(v) for v in frame[col].dropna().astype(str)}
                for v in values:
                    ips.update(m.group(0) for m in re.finditer(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])", v))
                    macs.update(m.group(0).upper() for m in re.finditer(r"\b000D3A[0-9A-F]{6}\b", v, re.I))
    return {"ips": ips, "macs": macs}


def _leaks(text: str, originals: dict[str, set[str]], names: set[str]) -> list[str]:
    found = [ip for ip in originals["ips"] if re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d])", text)]
    for mac in originals["macs"]:
        dashed = "-".join(mac[i:i + 2] for i in range(0, 12, 2))
        if re.search(rf"{mac}|{dashed}|{dashed.replace('-', ':')}", text, re.IGNORECASE):
            found.append(mac)
    found += [n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.IGNORECASE)]
    return found


NAMES = {"web-01", "web-02", "app-01", "app-02", "db-01", "cache-01", "nsg-snet-data", "nsg-snet-web", "snet-web",
         "RG-FLOWKIT-DEMO", "00000000-0000-0000-0000-000000000001", "FL-VNET-APP", "UserRule_DenyWebToSql",
         "fl-vnet-app", "vnet-app"}


@pytest.mark.parametrize("name", ["connectivity", "nsg-vs-vnet", "encryption"])
def test_no_original_address_mac_or_name(scenario_reports, tmp_path, name):
    report, _ = scenario_reports[name]
    originals = _originals(report)
    assert len(originals["ips"]) >= 6 and len(originals["macs"]) >= 4
    anon = report.anonymize(KEY)
    html = anon.write(tmp_path / "r.html").read_text()
    md = anon.write(tmp_path / "r.md").read_text() + "".join(
        p.read_text(encoding="utf-8-sig") for p in (tmp_path / "r_files").glob("*.csv"))
    sheets = xlsx_sheets(anon.write(tmp_path / "r.xlsx"))
    cells = "\n".join(str(c) for rows in sheets.values() for r in rows for c in r if c is not None)
    for text in (html, md, cells):
        assert _leaks(text, originals, NAMES) == []
        assert KEY not in text
    assert "Anonymised:" in html
    # verdicts and numbers survive
    assert [f.verdict for f in anon.findings] == [f.verdict for f in report.findings]
    assert [f["verdict"] for f in html_findings(html)] == [f.verdict for f in report.findings]


def test_same_key_same_pseudonyms_other_key_others(scenario_reports):
    report, _ = scenario_reports["connectivity"]
    a, b, c = report.anonymize(KEY), report.anonymize(KEY), report.anonymize("another key")
    assert a.to_html() == b.to_html()
    assert a.findings[1].title == b.findings[1].title != c.findings[1].title
    facts = a.findings[1].facts
    assert facts["attempts"] == 30 and facts["verdict"] == "denied" and facts["where"] == "destination-inbound"
    assert facts["rule"].startswith("UserRule_res-") and "nsg-snet-data" not in facts["acl_id"]
    assert facts["acl_id"].startswith("/subscriptions/") and "/networkSecurityGroups/res-" in facts["acl_id"]
    # one pseudonym per value across findings: the denied tuples name db-01's MAC as the logged NICs do
    tuples, nics = a.findings[1].evidence["tuples"], a.findings[1].evidence["logged_nics"]
    assert set(tuples["mac"].astype(str)) <= set(nics["mac"].astype(str))


def test_pseudonym_forms():
    anon = Anonymizer(KEY)
    web1, web2, db = anon.ip("10.10.1.4"), anon.ip("10.10.1.5"), anon.ip("10.10.3.4")
    assert ipaddress.ip_address(web1) in ipaddress.ip_network("10.0.0.0/8")
    assert ipaddress.ip_network(web1 + "/24", strict=False) == ipaddress.ip_network(web2 + "/24", strict=False)
    assert ipaddress.ip_network(web1 + "/16", strict=False) == ipaddress.ip_network(db + "/16", strict=False)
    assert ipaddress.ip_network(web1 + "/24", strict=False) != ipaddress.ip_network(db + "/24", strict=False)
    assert ipaddress.ip_address(anon.ip("203.0.113.7")) in ipaddress.ip_network("198.18.0.0/15")
    assert ipaddress.ip_address(anon.ip("2001:db8::7")) in ipaddress.ip_network("2001:db8::/32")
    assert anon.ip("2001:db8::7") != "2001:db8::7"
    assert anon.ip("168.63.129.16") == "168.63.129.16"
    assert re.fullmatch(r"02[0-9A-F]{10}", anon.mac("000D3A000101"))
    assert anon.mac("00-0d-3a-00-01-01") == anon.mac("000D3A000101")
    assert anon.text("macAddress=000D3A000101/PT1H.json") == f"macAddress={anon.mac('000D3A000101')}/PT1H.json"
    assert anon.text("1714557600000 bytes 123456789012") == "1714557600000 bytes 123456789012"  # numbers stay
    assert anon.text("at 10:15:00Z, 2024-05-01") == "at 10:15:00Z, 2024-05-01"
    assert re.fullmatch(r"res-[0-9a-f]{10}", anon.name("web-01"))
    assert repr(anon) == "Anonymizer(key=<hidden>)" and KEY not in repr(anon)


def test_names_learned_from_one_finding_replaced_in_all():
    f1 = Finding("Logged NICs", "ok", evidence={"nics": pd.DataFrame({"vm": ["web-01"], "mac": ["000D3A000101"]})})
    f2 = Finding("web-01 talks to 192.0.2.8", "ok", summary="VM web-01 (000d3a000101) is fine.",
                 facts={"nsg": "nsg-prod-web", "rules": ["UserRule_AllowWeb"]})
    anon = Report([f1, f2]).anonymize(KEY)
    g1, g2 = anon.findings
    vm = g1.evidence["nics"]["vm"].iloc[0]
    assert vm.startswith("res-") and g2.title.startswith(vm + " talks to 198.1")
    assert g2.summary == f"VM {vm} ({g1.evidence['nics']['mac'].iloc[0]}) is fine."
    assert g2.facts["nsg"].startswith("res-")


def test_figures_dropped_with_a_note():
    f = Finding("t", "ok", figures={"graph": b"\x89PNG..."})
    (g,) = Report([f]).anonymize(KEY).findings
    assert g.figures == {} and g.notes[-1].startswith("1 figure(s) left out")


def test_random_key_when_none():
    a, b = Anonymizer(), Anonymizer()
    assert a.generated and a.key != b.key and len(a.key) == 32
    assert Anonymizer(a.key).ip("10.1.2.3") == a.ip("10.1.2.3")
