"""Anonymised reports: keyed, consistent pseudonyms; none of the original addresses, MACs or names."""

from __future__ import annotations

import ipaddress
import re

import pandas as pd
import pytest

from flowkit.analysis.ipnet import is_private_ip
from flowkit.findings import Finding
from flowkit.load_report import LoadReport
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
    public = anon.ip("203.0.113.7")  # public stays public (a keyed permutation of the public /24s)
    assert public != "203.0.113.7" and not is_private_ip(public) and not ipaddress.ip_address(public).is_multicast
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
    assert vm.startswith("res-") and g2.title == f"{vm} talks to {Anonymizer(KEY).ip('192.0.2.8')}"
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


# -- hand-written logs: a short-form VNet path, a MAC of decimal digits, a damaged tuple -------------------
SUB = "00000000-0000-0000-0000-000000000001"
DIGIT_MAC = "002248712345"  # Azure's OUI 00-22-48, then decimal digits only
WATCHER_NAMES = ("NETWORKWATCHERRG", "NETWORKWATCHER_EASTUS", "FL-CONTOSO-PAYROLL")


def _short_form_logs(root, tuples):
    """One VNet blob under the short path form ``{SUB}_{RG}/{NW}_{NAME}``, MAC of decimal digits."""
    import json

    from flowkit.sources.layout import vnet_blob_name

    rg, watcher, flow_log = WATCHER_NAMES
    path = root / "insights-logs-flowlogflowevent" / vnet_blob_name(SUB, rg, watcher, flow_log, "2024-05-01T10:00Z",
                                                                    DIGIT_MAC, short=True)
    path.parent.mkdir(parents=True)
    record = {"time": "2024-05-01T10:01:00.0000000Z", "flowLogVersion": 4,
              "flowLogGUID": "66aa66aa-6666-4666-8666-666666666666", "macAddress": DIGIT_MAC,
              "category": "FlowLogFlowEvent",
              "flowLogResourceID": f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{rg}/PROVIDERS/MICROSOFT.NETWORK/"
                                   f"NETWORKWATCHERS/{watcher}/FLOWLOGS/{flow_log}",
              "targetResourceID": f"/subscriptions/{SUB}/resourceGroups/rg-payroll/providers/Microsoft.Network/"
                                  "virtualNetworks/vnet-payroll",
              "operationName": "FlowLogFlowEvent",
              "flowRecords": {"flows": [{"aclID": "00000000-1234-abcd-ef00-c1c2c3c4c5c6",
                                         "flowGroups": [{"rule": "UserRule_AllowWeb", "flowTuples": tuples}]}]}}
    path.write_text(json.dumps({"records": [record]}))
    from flowkit import read_flow_logs

    return read_flow_logs(str(root), progress=False)


GOOD = "1714557660000,10.0.0.4,192.0.2.9,40000,443,6,O,E,NX,3,300,2,200"


def test_short_form_vnet_path_names_replaced(tmp_path):
    from flowkit.sources.layout import parse_blob_path

    flows = _short_form_logs(tmp_path, [GOOD])
    anon = Anonymizer(KEY)
    anon.learn_frame(flows)
    out = anon.frame(flows)
    cells = [str(v).lower() for v in out.to_numpy().ravel()]
    for secret in (*WATCHER_NAMES, SUB, DIGIT_MAC, "rg-payroll", "vnet-payroll"):
        assert not any(secret.lower() in c for c in cells), secret
    meta = parse_blob_path(out["blob"].iloc[0])
    rg, watcher, flow_log = WATCHER_NAMES
    assert (meta.subscription, meta.resource_group, meta.network_watcher, meta.flow_log, meta.mac, meta.short_form) \
        == (anon.guid(SUB), anon.name(rg), anon.name(watcher), anon.name(flow_log), anon.mac(DIGIT_MAC), True)
    # the same pseudonyms as in the long form of the record's resource ID
    assert out["resource_id"].iloc[0].endswith(f"/NETWORKWATCHERS/{anon.name(watcher)}/FLOWLOGS/{anon.name(flow_log)}")
    # a flow-log name with an underscore, once known, is cut where it is
    anon.learn_names(["fl_payroll"])
    assert anon.text(f"x/{SUB}_RG/NetworkWatcher_eastus_fl_payroll/y=2024") == \
        f"x/{anon.guid(SUB)}_{anon.name('RG')}/{anon.name('NetworkWatcher_eastus')}_{anon.name('fl_payroll')}/y=2024"


def test_macs_of_decimal_digits(tmp_path):
    flows = _short_form_logs(tmp_path, [GOOD])
    anon = Anonymizer(KEY)
    anon.learn_frame(flows)
    pseudo = anon.mac(DIGIT_MAC)
    assert re.fullmatch(r"02[0-9A-F]{10}", pseudo)
    assert anon.frame(flows)["mac"].tolist() == [pseudo]
    assert anon.text(f"NIC {DIGIT_MAC} seen") == f"NIC {pseudo} seen"  # known from the mac column
    fresh = Anonymizer(KEY)  # nothing learned: the context says MAC, or the leading zero does
    assert fresh.text(f"macAddress={DIGIT_MAC}/PT1H.json") == f"macAddress={pseudo}/PT1H.json"
    assert fresh.text(f"mac {DIGIT_MAC}") == f"mac {pseudo}"
    assert fresh.text(f"from {DIGIT_MAC}") == f"from {pseudo}"
    assert fresh.text("bytes 123456789012, none 000000000000") == "bytes 123456789012, none 000000000000"
    learned = Anonymizer(KEY)
    learned.learn_frame(pd.DataFrame({"mac": ["123456789012"]}))  # a MAC column holds MACs, whatever the digits
    assert learned.text("NIC 123456789012") == f"NIC {learned.mac('123456789012')}"


def test_quarantined_bogus_prefix_does_not_stop_the_report(tmp_path):
    from flowkit import load_report

    with pytest.warns(Warning, match="1 quarantined"):
        flows = _short_form_logs(tmp_path, [GOOD, "1714557660000,10.0.0.4,192.0.2.1/33,40001,443,6,O,E,NX,3,300,2,200"])
    assert load_report(flows).quarantined == 1
    out = Report([Finding("t", "ok")], flows=flows).anonymize(KEY)
    anon = Anonymizer(KEY)
    assert out.load_reports[0].quarantine["raw"].tolist() == [
        f"1714557660000,{anon.ip('10.0.0.4')},{anon.ip('192.0.2.1')}/33,40001,443,6,O,E,NX,3,300,2,200"]


def test_subnet_names_only_in_column_labels():
    matrix = pd.DataFrame({"src_subnet": ["snet-web", "internet"], "snet-data": [0.5, None], "internet": [1.0, None]})
    matrix.columns.name = "dst_subnet"  # as the encryption audit's unstack("dst_subnet") leaves it
    by_vm = pd.DataFrame({"bytes": [1]}, index=pd.Index(["web-01-secret"], name="vm"))
    out = Report([Finding("Encryption between subnets", "ok", evidence={"subnets": matrix, "by_vm": by_vm})]) \
        .anonymize(KEY)
    anon = Anonymizer(KEY)
    table = out.findings[0].evidence["subnets"]
    assert list(table.columns) == ["src_subnet", anon.name("snet-data"), "internet"]
    assert table["src_subnet"].tolist() == [anon.name("snet-web"), "internet"]
    assert list(out.findings[0].evidence["by_vm"].index) == [anon.name("web-01-secret")]
    page = out.to_markdown() + out.to_html()
    assert "snet-data" not in page and "snet-web" not in page


def test_storage_account_in_sources():
    account, archive = "contosopayrollsa", "contoso-archive"
    loaded = LoadReport(sources=(f"azure: https://{account}.blob.core.windows.net/insights-logs-flowlogflowevent",))
    report = Report([Finding("t", "ok", summary=f"Read from {account}.")], load_reports=[loaded], sources=[
        f"azure://{account}/{archive}/flowLogResourceID=/{SUB}_RG-PAYROLL",
        "azure: http://127.0.0.1:10000/devstoreaccount1/insights-logs-flowlogflowevent"])
    out = report.anonymize(KEY)
    anon = Anonymizer(KEY)
    acct = anon.name(account)
    assert out.sources == [
        f"azure://{acct}/{anon.name(archive)}/flowLogResourceID=/{anon.guid(SUB)}_{anon.name('RG-PAYROLL')}",
        "azure: http://127.0.0.1:10000/devstoreaccount1/insights-logs-flowlogflowevent",
        f"azure: https://{acct}.blob.core.windows.net/insights-logs-flowlogflowevent"]
    assert out.load_reports[0].sources == (out.sources[2],)
    assert out.findings[0].summary == f"Read from {acct}."
    assert account not in out.to_html() and archive not in out.to_markdown()


def test_short_names_replaced_as_whole_names():
    f = Finding("Connectivity to VM db", "ok", summary="db (10.0.0.4) is behind nsg ab; about the lab, ab-test, all ok",
                evidence={"t": pd.DataFrame({"vm": ["db", "ok"], "nsg": ["ab", "ab;nsg-web"],
                                             "dst_vm": ["web-01"] * 2})},
                facts={"vm": "db", "nsgs": ["ab"], "verdict": "ok"})
    g = Report([f]).anonymize(KEY).findings[0]
    anon = Anonymizer(KEY)
    db, ab = anon.name("db"), anon.name("ab")
    assert g.title == f"Connectivity to VM {db}"
    # "ok" is a VM here too, but a common word: replaced in name fields only, never in free text
    assert g.summary == f"{db} ({anon.ip('10.0.0.4')}) is behind nsg {ab}; about the lab, ab-test, all ok"
    assert g.evidence["t"].to_dict("list") == {"vm": [db, anon.name("ok")], "nsg": [ab, f"{ab};{anon.name('nsg-web')}"],
                                               "dst_vm": [anon.name("web-01")] * 2}
    assert g.facts == {"vm": db, "nsgs": [ab], "verdict": "ok"}
