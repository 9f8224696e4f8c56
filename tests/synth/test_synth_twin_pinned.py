"""The NSG v2 twin of a VNet blob: inbound TCP allowed by a user-defined rule is not counted
and never ends (Microsoft's "Non-default inbound TCP rules"); everything else as before."""

from __future__ import annotations

import msgspec
import pytest

from flowkit.synth.blobs import blob_bytes
from flowkit.synth.records import vnet_record
from flowkit.synth.twin import nsg_twin, nsg_twin_tuple

IN = "1714557600123,203.0.113.7,192.0.2.4,41000,443"
OUT = "1714557600123,192.0.2.4,198.51.100.20,50000,443"
NSG_IN = "1714557600,203.0.113.7,192.0.2.4,41000,443"
NSG_OUT = "1714557600,192.0.2.4,198.51.100.20,50000,443"
AVNM_ALLOW = "Internet_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"


@pytest.mark.parametrize("vnet, rule, nsg", [
    pytest.param(f"{IN},6,I,C,NX,7,700,3,300", "UserRule_AllowHttpsInbound", f"{NSG_IN},T,I,A,C,0,0,0,0",
                 id="inbound TCP C, user rule: zeros"),
    pytest.param(f"{IN},6,I,E,X,7,700,3,300", "UserRule_AllowHttpsInbound", f"{NSG_IN},T,I,A,C,0,0,0,0",
                 id="inbound TCP E, user rule: a zero C, no end"),
    pytest.param(f"{IN},6,I,B,NX,0,0,0,0", "UserRule_AllowHttpsInbound", f"{NSG_IN},T,I,A,B,,,,",
                 id="inbound TCP B, user rule: empty counters"),
    pytest.param(f"{IN},6,I,D,NX,0,0,0,0", "UserRule_DenyHttps", f"{NSG_IN},T,I,D,B,,,,",
                 id="inbound TCP denied by a user rule"),
    pytest.param(f"{IN},6,I,E,NX,7,700,3,300", "DefaultRule_AllowVnetInBound", f"{NSG_IN},T,I,A,E,7,700,3,300",
                 id="inbound TCP E, default rule: counted"),
    pytest.param(f"{IN},17,I,E,NX,7,700,3,300", "UserRule_AllowDns", f"{NSG_IN},U,I,A,E,0,0,0,0",
                 id="inbound UDP E, user rule: TCP-only zeros, ends"),
    pytest.param(f"{OUT},6,O,E,NX,7,700,3,300", "UserRule_AllowHttpsOut", f"{NSG_OUT},T,O,A,E,7,700,3,300",
                 id="outbound TCP E, user rule: counted"),
])
def test_nsg_twin_tuple_by_rule(vnet: str, rule: str, nsg: str) -> None:
    assert nsg_twin_tuple(vnet, rule) == nsg


def test_twin_of_a_blob_zeroes_user_rule_inbound_tcp_only() -> None:
    vnet = blob_bytes([vnet_record("2024-05-01T10:00:52.5625085Z", "g", "000D3A0000E1", "/FL", "/VNET", [
        ("acl", [("UserRule_AllowHttpsInbound", [f"{IN},6,I,E,NX,7,700,3,300"]),
                 (AVNM_ALLOW, [f"{IN},6,I,E,NX,5,500,2,200"]),  # AVNM-allowed: the NSG's default rule logs it
                 ("UserRule_AllowHttpsOut", [f"{OUT},6,O,C,NX,4,400,1,100"])])])])
    record = msgspec.json.decode(nsg_twin(vnet, "/NSG", "sys"))["records"][0]
    assert [(g["rule"], g["flows"][0]["flowTuples"]) for g in record["properties"]["flows"]] == [
        ("UserRule_AllowHttpsInbound", [f"{NSG_IN},T,I,A,C,0,0,0,0"]),
        ("DefaultRule_AllowVnetInBound", [f"{NSG_IN},T,I,A,E,5,500,2,200"]),
        ("UserRule_AllowHttpsOut", [f"{NSG_OUT},T,O,A,C,4,400,1,100"])]




@pytest.mark.parametrize("rule", [
    pytest.param("BlockHighRiskTCPPortsFromInternet", id="bare, as in Microsoft's AVNM sample"),
    pytest.param("Internet", id="bare, short"),
    pytest.param("DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11", id="NAME_GUID"),
])
def test_a_denial_by_a_security_admin_rule_is_absent_from_the_twin_whatever_its_name(rule: str) -> None:
    """is_avnm_rule takes bare names as security admin rules: the twin must too, or the NSG log
    it writes holds AVNM denials under rule names no NSG has."""
    vnet = blob_bytes([vnet_record("2024-05-01T10:00:52.5625085Z", "g", "000D3A0000E1", "/FL", "/VNET", [
        ("acl", [("DefaultRule_AllowInternetOutBound", [f"{OUT},6,O,E,NX,7,700,3,300"])]),
        ("avnm-acl", [(rule, [f"{IN},6,I,D,NX,0,0,0,0"])])])])
    record = msgspec.json.decode(nsg_twin(vnet, "/NSG", "sys"))["records"][0]
    assert [(g["rule"], g["flows"][0]["flowTuples"]) for g in record["properties"]["flows"]] == [
        ("DefaultRule_AllowInternetOutBound", [f"{NSG_OUT},T,O,A,E,7,700,3,300"])]


def test_the_twin_of_microsofts_avnm_sample_keeps_only_the_nsg_rules_groups(conformance_dir) -> None:
    """Microsoft's VNet flow log sample (read from the shared conformance folder): its AVNM groups
    (BlockHighRiskTCPPortsFromInternet, Internet) deny; only DefaultRule_AllowInternetOutBound is the NSG's."""
    blob = (conformance_dir / "vnet_elastic-sample-testdata.json").read_bytes()
    out = msgspec.json.decode(nsg_twin(blob, "/NSG", "sys"))
    rules = [(g["rule"], len(g["flows"][0]["flowTuples"])) for r in out["records"] for g in r["properties"]["flows"]]
    assert rules == [("DefaultRule_AllowInternetOutBound", 10)]
