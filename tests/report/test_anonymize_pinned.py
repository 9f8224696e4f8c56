"""Pinned behaviour of the anonymiser (flowkit/report/anonymize.py): one pseudonym per value, nothing left over."""

from __future__ import annotations

import ipaddress

import pandas as pd
import pytest

from flowkit.analysis.compare import is_avnm_rule
from flowkit.findings import Finding
from flowkit.report import Anonymizer, Report

KEY = "pinned-key-1"
SUB = "00000000-0000-0000-0000-000000000001"
NSG_ID = (f"/subscriptions/{SUB}/resourceGroups/rg-payroll/providers/Microsoft.Network/"
          "networkSecurityGroups/nsg-payroll")
AVNM_GUID = "d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"


def _nsg_id(anon: Anonymizer) -> str:
    return (f"/subscriptions/{anon.guid(SUB)}/resourceGroups/{anon.name('rg-payroll')}/providers/"
            f"Microsoft.Network/networkSecurityGroups/{anon.name('nsg-payroll')}")


def test_resource_id_before_a_colon_keeps_the_colon_and_its_pseudonym():
    anon = Anonymizer(KEY)
    assert anon.text(f"denied by {NSG_ID}: rule X") == f"denied by {_nsg_id(anon)}: rule X"
    assert anon.text(f"{NSG_ID}:") == f"{_nsg_id(anon)}:"
    anon.scan(f"{NSG_ID}: x")
    assert dict(anon.known) == {"rg-payroll": anon.name("rg-payroll"), "nsg-payroll": anon.name("nsg-payroll")}


def test_resource_id_with_a_query_has_its_last_name_replaced():
    anon = Anonymizer(KEY)
    assert anon.text(f"GET {NSG_ID}?api-version=2023-09-01") == f"GET {_nsg_id(anon)}?api-version=2023-09-01"
    assert anon.text(f"{NSG_ID}#frag") == f"{_nsg_id(anon)}#frag"
    anon.scan(f"{NSG_ID}?api-version=2023-09-01")
    assert "nsg-payroll" in anon.known


def test_security_admin_rule_keeps_its_guid_suffix():
    anon = Anonymizer(KEY)
    rule = f"DenyHighRiskPorts_{AVNM_GUID}"
    pseudo = anon.rule(rule)
    assert pseudo == f"{anon.name('DenyHighRiskPorts')}_{anon.guid(AVNM_GUID)}"
    assert is_avnm_rule(pseudo) and not is_avnm_rule(anon.rule("UserRule_AllowWeb"))
    anon.learn_frame(pd.DataFrame({"rule": [rule, "UserRule_AllowWeb"]}))
    assert anon.frame(pd.DataFrame({"rule": [rule]}))["rule"].tolist() == [pseudo]
    assert anon.text(f"denied by {rule}.") == f"denied by {pseudo}."


def test_a_bare_security_admin_rule_name_stays_a_security_admin_rule_once_anonymised():
    anon = Anonymizer(KEY)
    pseudo = anon.rule("BlockHighRiskTCPPortsFromInternet")
    assert pseudo == anon.name("BlockHighRiskTCPPortsFromInternet") and is_avnm_rule(pseudo)
    assert anon.rule("DefaultRule_DenyAllInBound") == "DefaultRule_DenyAllInBound"


def test_name_of_a_non_text_axis_is_anonymised():
    anon = Anonymizer(KEY)
    anon.learn_names(["web-01"])
    frame = pd.DataFrame({80: [1], 443: [2]}, index=pd.RangeIndex(1, name="web-01"))
    frame.columns.name = "192.0.2.7"
    out = anon.frame(frame)
    assert (out.index.name, out.columns.name) == (anon.name("web-01"), anon.ip("192.0.2.7"))
    assert list(out.columns) == [80, 443] and list(out.index) == [0]


def test_all_zero_guid_stays():
    zero = "00000000-0000-0000-0000-000000000000"
    anon = Anonymizer(KEY)
    assert anon.guid(zero.upper()) == zero
    assert anon.text(f'etag W/"{zero}", id {SUB}') == f'etag W/"{zero}", id {anon.guid(SUB)}'


@pytest.mark.parametrize("column", ["peer_vm", "backend_nic", "spoke_subnet", "edge_nsgs", "NSG", "Src_VM"])
def test_name_columns_by_suffix_replace_short_names_as_whole_fields(column):
    anon = Anonymizer(KEY)
    frame = pd.DataFrame({column: ["ok", "db;ok"], "verdict": ["ok", "db ok"]})
    anon.learn_frame(frame)
    out = anon.frame(frame)
    db, ok = anon.name("db"), anon.name("ok")
    assert out.to_dict("list") == {column: [ok, f"{db};{ok}"], "verdict": ["ok", f"{db} ok"]}


def test_one_character_and_digit_names_are_replaced_only_as_whole_fields():
    anon = Anonymizer(KEY)
    frame = pd.DataFrame({"vm": ["q", "42"], "note": ["q and 42", "x"]})
    anon.learn_frame(frame)
    assert dict(anon.known) == {"q": anon.name("q"), "42": anon.name("42")}
    assert anon.frame(frame).to_dict("list") == {"vm": [anon.name("q"), anon.name("42")], "note": ["q and 42", "x"]}


def test_pseudonyms_are_stable_across_versions():
    # Reports anonymised months apart with one key must name the same estate alike: these values are pinned.
    anon = Anonymizer(KEY)
    assert (anon.name("web-01"), anon.name("WEB-01"), anon.rule("UserRule_AllowWeb")) == (
        "res-979fa9b831", "res-979fa9b831", "UserRule_res-ada437858b")
    assert (anon.mac("000D3A000101"), anon.guid(SUB)) == ("02B440EB872E", "df65899a-f59d-e963-62df-76d4b913e6a2")
    assert [anon.ip(a) for a in ("10.10.1.4", "192.0.2.7", "2001:db8::7", "fd00::1")] == [
        "10.58.158.126", "194.94.55.90", "2001:db8:76f9:9ae6:5e80:7f69:3d22:e98e",
        "fd40:6694:d8e6:eba2:afda:3d09:9b7e:9a71"]


def test_cells_and_facts_holding_lists_tuples_dicts_and_address_objects():
    frame = pd.DataFrame({"vm": [["web-01", "ok"], ("db",)],
                          "peer": [ipaddress.ip_address("192.0.2.4"), ipaddress.ip_network("198.51.100.0/24")],
                          "seen": [{"192.0.2.4": 3}, None]})
    finding = Finding("t", "ok", evidence={"e": frame}, facts={"peer": ipaddress.ip_address("203.0.113.9")})
    report = Report([finding]).anonymize(KEY)
    anon = Anonymizer(KEY)
    name, ip = anon.name, anon.ip
    assert report.findings[0].evidence["e"].to_dict("list") == {
        "vm": [[name("web-01"), name("ok")], (name("db"),)],
        "peer": [ipaddress.ip_address(ip("192.0.2.4")), ipaddress.ip_network(ip("198.51.100.0/24"))],
        "seen": [{ip("192.0.2.4"): 3}, None]}
    assert report.findings[0].facts == {"peer": ipaddress.ip_address(ip("203.0.113.9"))}
    page = report.to_markdown()
    assert [s for s in ("192.0.2.4", "198.51.100.", "203.0.113.9", "web-01") if s in page] == []


def test_separated_macs_in_text():
    anon = Anonymizer(KEY)
    mac = anon.mac("000D3A000101")
    assert anon.text("NIC 00-0D-3A-00-01-01 and 00:0d:3a:00:01:01.") == f"NIC {mac} and {mac}."


def test_names_learned_after_text_was_rewritten_are_replaced_too():
    anon = Anonymizer(KEY)
    assert anon.text("web-01 is up") == "web-01 is up"
    anon.learn_names(["web-01"])
    assert anon.text("web-01 is up") == f"{anon.name('web-01')} is up"


def test_learn_names_skips_what_is_no_text():
    anon = Anonymizer(KEY)
    anon.learn_names([None, 3, float("nan"), "web-01"])
    assert list(anon.known) == ["web-01"]


def test_mac_of_digits_named_once_is_replaced_everywhere():
    digits = "123456789012"  # no leading zero: a MAC only where something says so
    finding = Finding(f"NIC {digits}", "ok", summary=f"macAddress={digits}", notes=["bytes 987654321098"])
    out = Report([finding]).anonymize(KEY).findings[0]
    mac = Anonymizer(KEY).mac(digits)
    assert (out.title, out.summary, out.notes) == (f"NIC {mac}", f"macAddress={mac}", ["bytes 987654321098"])


def test_storage_url_before_a_comma_keeps_its_names():
    anon = Anonymizer(KEY)
    assert anon.text("from https://contosopay.blob.core.windows.net/archive, then") == (
        f"from https://{anon.name('contosopay')}.blob.core.windows.net/{anon.name('archive')}, then")


def test_resource_ids_in_an_index_teach_their_names():
    frame = pd.DataFrame({"flows": [3]}, index=pd.Index([NSG_ID], name="acl"))
    finding = Finding("t", "ok", summary="nsg-payroll denies", evidence={"by_acl": frame})
    out = Report([finding]).anonymize(KEY).findings[0]
    anon = Anonymizer(KEY)
    assert out.summary == f"{anon.name('nsg-payroll')} denies"
    assert list(out.evidence["by_acl"].index) == [_nsg_id(anon)]


def test_labels_of_an_axis_not_named_for_names_are_not_learned_as_names():
    frame = pd.DataFrame({"attempts": [30], "vm": ["web-01"]}, index=pd.Index(["retries"], name="metric"))
    out = Report([Finding("t", "ok", summary="30 attempts, 2 retries", evidence={"e": frame})]).anonymize(KEY)
    anon = Anonymizer(KEY)
    assert out.findings[0].summary == "30 attempts, 2 retries"
    assert out.findings[0].evidence["e"].to_dict("list") == {"attempts": [30], "vm": [anon.name("web-01")]}


def test_short_names_as_labels_of_a_name_axis_are_replaced_whole():
    frame = pd.DataFrame({"ok": [1, 2]}, index=pd.Index(["ok", "q"], name="vm"))  # a VM named "ok", a column "ok"
    frame.columns.name = "metric"
    out = Report([Finding("t", "ok", evidence={"e": frame})]).anonymize(KEY).findings[0].evidence["e"]
    anon = Anonymizer(KEY)
    assert list(out.index) == [anon.name("ok"), anon.name("q")] and out.index.name == "vm"
    assert list(out.columns) == ["ok"] and out.columns.name == "metric"


def test_rule_names_as_labels_of_a_rule_axis_are_learned():
    frame = pd.DataFrame({"UserRule_AllowWeb": [3], "DefaultRule_DenyAllInBound": [1]})
    frame.columns.name = "rule"  # as an unstack("rule") leaves it
    finding = Finding("t", "ok", summary="UserRule_AllowWeb allowed 3", evidence={"by_rule": frame})
    out = Report([finding]).anonymize(KEY).findings[0]
    rule = Anonymizer(KEY).rule("UserRule_AllowWeb")
    assert out.summary == f"{rule} allowed 3"
    assert list(out.evidence["by_rule"].columns) == [rule, "DefaultRule_DenyAllInBound"]


def test_names_of_a_short_form_blob_path_are_learned():
    finding = Finding("t", "ok", summary="flow log fl-payroll in rg-pay",
                      notes=[f"blob {SUB}_RG-PAY/NETWORKWATCHER_EASTUS_FL-PAYROLL/y=2024/PT1H.json"])
    out = Report([finding]).anonymize(KEY).findings[0]
    anon = Anonymizer(KEY)
    assert out.summary == f"flow log {anon.name('fl-payroll')} in {anon.name('rg-pay')}"
    assert out.notes == [f"blob {anon.guid(SUB)}_{anon.name('RG-PAY')}/{anon.name('NETWORKWATCHER_EASTUS')}_"
                         f"{anon.name('FL-PAYROLL')}/y=2024/PT1H.json"]


def test_names_ending_in_capitals_before_punctuation():
    anon = Anonymizer(KEY)
    assert anon.text(f"{SUB}_RG-X/NW_FL-X: denied") == (
        f"{anon.guid(SUB)}_{anon.name('rg-x')}/{anon.name('nw')}_{anon.name('fl-x')}: denied")
    assert anon.text(f"/subscriptions/{SUB}/resourceGroups/RG-X: denied") == \
        f"/subscriptions/{anon.guid(SUB)}/resourceGroups/{anon.name('rg-x')}: denied"
    assert anon.text("see https://contosopay.blob.core.windows.net/ARCHIVEX, then") == (
        f"see https://{anon.name('contosopay')}.blob.core.windows.net/{anon.name('archivex')}, then")


def test_names_learned_from_text_and_facts_keep_their_whole_form():
    finding = Finding("rg-x, fl-x and UserRule_OnlyHere", "ok", summary=f"/subscriptions/{SUB}/resourceGroups/RG-X: no",
                      facts={"rule": "UserRule_OnlyHere"}, notes=[f"{SUB}_RG-Y/NW_FL-X: seen"])
    out = Report([finding]).anonymize(KEY).findings[0]
    anon = Anonymizer(KEY)
    rule = anon.rule("UserRule_OnlyHere")
    assert rule.startswith("UserRule_res-")
    assert (out.title, out.facts) == (f"{anon.name('rg-x')}, {anon.name('fl-x')} and {rule}", {"rule": rule})


def test_longest_learned_name_wins():
    anon = Anonymizer(KEY)
    anon.learn_names(["web", "web.prod"])
    assert anon.text("web.prod and web.") == f"{anon.name('web.prod')} and {anon.name('web')}."


@pytest.mark.parametrize("key", [5, 12345678, 3.5, ["k"]])
def test_a_key_that_is_not_text_or_bytes_is_refused_not_turned_into_zero_bytes(key):
    """``bytes(5)`` is five zero bytes: ``Anonymizer(5)`` anonymised with a key anyone can guess.
    (helper U noticed)"""
    from flowkit.report.anonymize import Anonymizer

    with pytest.raises(TypeError, match="the anonymisation key must be text or bytes, not "):
        Anonymizer(key)
    assert Anonymizer(b"k").ip("192.0.2.1") == Anonymizer("k").ip("192.0.2.1")
