"""Pinned behaviour of what the anonymiser recognises in text (flowkit/report/anonymize_text.py)."""

from __future__ import annotations

import pytest

from flowkit.findings import Finding
from flowkit.report import Anonymizer, Report
from flowkit.report.anonymize_text import mac_context

KEY = "pinned-key-1"
MAC = "281878123456"  # Microsoft's OUI 28-18-78: decimal digits only, no leading zero
ACCOUNT = "contosopay"
VNET = "insights-logs-flowlogflowevent"
SUB = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize("text", [
    pytest.param('{"macAddress":"%s"}', id="json"),
    pytest.param("{'macAddress': '%s'}", id="python-repr"),
    pytest.param('"mac": "%s"', id="json-mac"),
    pytest.param("macAddress=%s", id="blob-path"),
])
def test_mac_of_digits_named_in_quoted_text(text):
    anon = Anonymizer(KEY)
    assert anon.text(text % MAC) == text % anon.mac(MAC)


def test_quoted_digits_not_named_mac_stay():
    assert Anonymizer(KEY).text('{"bytes": "%s"}' % MAC) == '{"bytes": "%s"}' % MAC
    assert mac_context('{"macAddress": "', 16) and not mac_context('{"bytes": "', 11)


def _sources(source: str) -> tuple[str, str]:
    out = Report([Finding("t", "ok", summary=f"account {ACCOUNT}")], sources=[source]).anonymize(KEY)
    return out.sources[0], out.findings[0].summary


def test_private_endpoint_host_names_its_account():
    anon = Anonymizer(KEY)
    acct = anon.name(ACCOUNT)
    assert _sources(f"azure: https://{ACCOUNT}.privatelink.blob.core.windows.net/{VNET}") == (
        f"azure: https://{acct}.privatelink.blob.core.windows.net/{VNET}", f"account {acct}")


def test_other_dotted_host_names_its_account_and_its_domain():
    anon = Anonymizer(KEY)
    acct, domain = anon.name(ACCOUNT), anon.name("blob.region1.example.com")
    assert _sources(f"azure: https://{ACCOUNT}.blob.region1.example.com:8443/{VNET}/x") == (
        f"azure: https://{acct}.{domain}:8443/{VNET}/x", f"account {acct}")
    for port in (":8443", ""):
        learned = Anonymizer(KEY)
        learned.scan(f"azure: https://{ACCOUNT}.blob.region1.example.com{port}/{VNET}/x")
        assert sorted(learned.known) == ["blob.region1.example.com", ACCOUNT]


@pytest.mark.parametrize("host, address", [
    ("localhost:10000", None), ("azurite:10000", None), ("host.docker.internal:10000", None),
    ("127.0.0.1:10000", "127.0.0.1"), ("192.0.2.10:10000", "192.0.2.10"), ("[::ffff:192.0.2.10]", "::ffff:192.0.2.10")])
def test_emulator_host_keeps_the_account_in_the_path(host, address):
    anon = Anonymizer(KEY)
    shown = host.replace(address, anon.ip(address)) if address else host
    assert _sources(f"azure: http://{host}/{ACCOUNT}/{VNET}") == (
        f"azure: http://{shown}/{anon.name(ACCOUNT)}/{VNET}", f"account {anon.name(ACCOUNT)}")


def test_resource_id_cut_after_a_type_segment():
    anon = Anonymizer(KEY)
    assert anon.text(f"/subscriptions/{SUB}/resourceGroups") == f"/subscriptions/{anon.guid(SUB)}/resourceGroups"
    anon.scan(f"/subscriptions/{SUB}/resourceGroups")
    assert dict(anon.known) == {}
    assert anon.text(f"/subscriptions/{SUB}/resourceGroups/rg-a/providers") == \
        f"/subscriptions/{anon.guid(SUB)}/resourceGroups/{anon.name('rg-a')}/providers"


def test_names_are_learned_only_before_the_first_key_value_segment():
    path = (f"/subscriptions/{SUB}/resourceGroups/rg-a/providers/Microsoft.Network/networkSecurityGroups/nsg-a"
            "/y=2024/m=05/d=01/h=10/m=00/PT1H.json")
    anon = Anonymizer(KEY)
    anon.scan(path)
    assert dict(anon.known) == {"rg-a": anon.name("rg-a"), "nsg-a": anon.name("nsg-a")}
    assert anon.text(path).endswith(f"/{anon.name('nsg-a')}/y=2024/m=05/d=01/h=10/m=00/PT1H.json")


def test_storage_url_keeps_its_masked_query():
    anon = Anonymizer(KEY)
    assert anon.text(f"https://{ACCOUNT}.blob.core.windows.net/{VNET}?REDACTED") == (
        f"https://{anon.name(ACCOUNT)}.blob.core.windows.net/{VNET}?REDACTED")
