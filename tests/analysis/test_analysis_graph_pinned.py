"""talker_graph(): node identities and edge counters, pinned on small hand-written frames."""

from __future__ import annotations

import math

import pytest

from flowkit.analysis.graph import talker_graph, top_talkers
from flowkit.errors import FlowkitDataWarning
from flowkit.filters import filter_flows
from flowkit.inventory import inventory_from_records
from flowkit_frames import APP, APP_MAC, DB, INTERNET, SCANNER, WEB, WEB_MAC, frame, tuple_row


def test_a_row_without_a_mac_teaches_no_address_its_nic():
    """10.10.3.5 is seen outbound with no MAC: it stays an address, and no other address
    (10.10.3.4, just before it) is given a NIC it was never seen at."""
    rows = [tuple_row(0, sport=1, src=APP, dst=DB, mac=APP_MAC),
            tuple_row(0, sport=2, src="10.10.3.5", dst=INTERNET, mac=None)]
    G = talker_graph(frame(rows), by="mac")
    assert sorted(G.nodes) == sorted([APP_MAC, DB, "10.10.3.5", INTERNET])
    assert G.nodes[APP_MAC]["ip"] == APP and G.nodes[DB]["mac"] == ""
    assert sorted(G.edges) == sorted([(APP_MAC, DB), ("10.10.3.5", INTERNET)])


def test_flows_denied_by_either_log_count_as_denied():
    """NSG logs say deny in the decision (state B); VNet logs in the state D."""
    rows = [tuple_row(i, sport=40000 + i, src=SCANNER, dst=WEB, dport=22, direction="inbound", decision="deny",
                      state="B", log_type="nsg", rule="DefaultRule_DenyAllInBound") for i in range(2)]
    rows += [tuple_row(0, sport=40005, src=SCANNER, dst=WEB, dport=22, direction="inbound", decision=None,
                       state="D"),
             tuple_row(0, sport=40006, src=SCANNER, dst=WEB, dport=22, direction="inbound", state="B")]
    e = talker_graph(frame(rows)).edges[SCANNER, WEB]
    assert (e["flows"], e["tuples"], e["denied"]) == (4, 4, 3)


def test_an_edge_whose_flows_are_all_encrypted_is_not_unencrypted():
    rows = [tuple_row(0, sport=1, state="E", counters=(1, 100, 1, 100), encryption="X"),
            tuple_row(1, sport=2, state="E", counters=(1, 100, 1, 100), encryption="X"),
            tuple_row(0, sport=3, dst=INTERNET, state="E", counters=(1, 100, 1, 100), log_type="nsg"),
            tuple_row(0, sport=4, dst=DB, state="E", counters=(1, 100, 1, 100), encryption="NX")]
    G = talker_graph(frame(rows))
    assert (G.edges[WEB, APP]["encrypted_share"], G.edges[WEB, APP]["unencrypted"]) == (1.0, False)
    nsg = G.edges[WEB, INTERNET]  # no encryption state known: unknown share, not unencrypted
    assert math.isnan(nsg["encrypted_share"]) and nsg["unencrypted"] is False
    assert (G.edges[WEB, DB]["encrypted_share"], G.edges[WEB, DB]["unencrypted"]) == (0.0, True)


def test_a_node_lists_only_the_addresses_of_the_rows_graphed():
    """A filtered frame keeps the categories of the rows it dropped; the subnet node does not
    list them."""
    rows = [tuple_row(0, sport=1, src=WEB, dst=INTERNET, mac=WEB_MAC),
            tuple_row(0, sport=2, src="10.10.1.5", dst="203.0.113.7", mac="000D3A000102")]
    kept = filter_flows(frame(rows), dst=INTERNET)
    assert "10.10.1.5" in kept["src_ip"].cat.categories  # what makes this case
    G = talker_graph(kept, by="subnet")
    assert sorted(G.nodes(data="ip")) == [("10.10.1.0/24", WEB), ("198.51.100.0/24", INTERNET)]
    assert G.nodes["10.10.1.0/24"]["mac"] == WEB_MAC


def test_by_mac_an_address_goes_to_the_nic_it_was_seen_at_most():
    """10.0.0.4 seen twice at NIC B2 and once at NIC A1 (the smaller MAC): it is B2's."""
    rows = [tuple_row(m, src="10.0.0.4", dst=INTERNET, sport=s, mac=mac, state="E", counters=(1, 10, 1, 10))
            for m, s, mac in [(0, 1, "000D3A0000B2"), (1, 2, "000D3A0000B2"), (2, 3, "000D3A0000A1")]]
    with pytest.warns(FlowkitDataWarning, match="seen at more than one NIC"):
        G = talker_graph(frame(rows), by="mac")
    assert sorted(G.nodes) == ["000D3A0000B2", INTERNET]
    assert G.edges["000D3A0000B2", INTERNET]["flows"] == 3


def test_node_totals_and_top_talkers_peers():
    """WEB starts flows to APP and the internet and answers a scanner: three peers; a node that
    only starts flows answered none, one that only answers started none."""
    rows = [tuple_row(0, sport=1, state="E", counters=(2, 200, 1, 50)),
            tuple_row(0, sport=2, dst=INTERNET, dport=443, state="E", counters=(1, 100, 3, 3000)),
            tuple_row(0, sport=3, dst=INTERNET, dport=443, state="E", counters=(1, 100, 1, 1000)),
            tuple_row(0, sport=40000, src=SCANNER, dst=WEB, dport=22, direction="inbound", decision="deny",
                      state="D")]
    G = talker_graph(frame(rows))
    assert {n: (d["flows_out"], d["flows_in"], d["bytes_out"], d["bytes_in"]) for n, d in G.nodes(data=True)} == {
        WEB: (3, 1, 400, 4050), APP: (0, 1, 50, 200), INTERNET: (0, 2, 4000, 200), SCANNER: (1, 0, 0, 0)}
    top = top_talkers(G, 4).set_index("node")
    assert top["peers"].to_dict() == {WEB: 3, INTERNET: 1, APP: 1, SCANNER: 1}
    assert top.loc[WEB, ["out", "in", "total"]].tolist() == [4450, 0, 4450]  # bytes both ways of the edges it starts


def test_an_inventory_vm_found_by_address_is_kept_when_its_mac_is_not_in_the_inventory():
    inventory = inventory_from_records([{"ip": WEB, "vm": "web-01"}])  # no MAC recorded
    G = talker_graph(frame([tuple_row(0, sport=1, mac=WEB_MAC)]), inventory=inventory)
    assert (G.nodes[WEB]["vm"], G.nodes[WEB]["mac"], G.nodes[APP]["vm"]) == ("web-01", WEB_MAC, "")


def test_a_subnet_node_is_private_when_its_addresses_are():
    rows = [tuple_row(0, sport=1, src=WEB, dst=INTERNET), tuple_row(0, sport=2, src="10.10.1.5", dst="198.51.100.11")]
    G = talker_graph(frame(rows), by="subnet")
    assert dict(G.nodes(data="kind")) == {"10.10.1.0/24": "private", "198.51.100.0/24": "public"}
    assert G.nodes["198.51.100.0/24"]["ip"] == "198.51.100.10,198.51.100.11"


def test_addresses_the_inventory_does_not_list_get_the_subnet_whose_prefix_holds_them():
    inventory = inventory_from_records([
        {"mac": WEB_MAC, "ip": WEB, "vm": "web-01", "subnet": "snet-web", "subnet_prefix": "10.10.1.0/24"},
        {"mac": APP_MAC, "ip": APP, "vm": "app-01", "subnet": "snet-app", "subnet_prefix": "10.10.2.0/24"}])
    rows = [tuple_row(0, sport=1, src="10.10.1.9", dst="10.10.2.9", mac=None),
            tuple_row(0, sport=2, src="10.10.1.9", dst=INTERNET, mac=None)]
    G = talker_graph(frame(rows), inventory=inventory)
    assert dict(G.nodes(data="subnet")) == {"10.10.1.9": "snet-web", "10.10.2.9": "snet-app",
                                            INTERNET: "198.51.100.0/24"}
    S = talker_graph(frame(rows), by="subnet", inventory=inventory)
    assert sorted(S.edges) == [("snet-web", "198.51.100.0/24"), ("snet-web", "snet-app")]


def test_a_flow_seen_unencrypted_in_any_tuple_makes_its_edge_unencrypted():
    # one 5-tuple logged X in one minute and NX_SW_NOT_READY in the next: part of it went unencrypted
    rows = [tuple_row(0, sport=1, state="C", counters=(1, 100, 1, 100), encryption="X"),
            tuple_row(1, sport=1, state="E", counters=(1, 100, 1, 100), encryption="NX_SW_NOT_READY"),
            tuple_row(0, sport=2, state="E", counters=(1, 100, 1, 100), encryption="X")]
    G = talker_graph(frame(rows))
    assert (G.edges[WEB, APP]["flows"], G.edges[WEB, APP]["encrypted_share"], G.edges[WEB, APP]["unencrypted"]) \
        == (2, 0.5, True)


@pytest.mark.parametrize("rule, counted", [("UserRule_AllowHttpsInbound", False), ("DefaultRule_AllowVnetInBound", True)])
def test_nsg_zeros_of_inbound_tcp_under_a_user_rule_are_unknown_traffic_not_none(rule, counted):
    """NSG flow logs record no counts for inbound TCP a user-defined rule allows: 0,0,0,0 there is
    unknown traffic (NaN), as for NSG v1; under a default rule the zeros are counts."""
    rows = [tuple_row(m, src=INTERNET, dst=WEB, dport=443, direction="inbound", state=st, rule=rule,
                      log_type="nsg", version=2, counters=None if st == "B" else (0, 0, 0, 0))
            for m, st in ((0, "B"), (1, "C"))]
    edge = talker_graph(frame(rows)).edges[INTERNET, WEB]
    assert (edge["flows"], edge["flows_counted"]) == (1, int(counted))
    assert math.isnan(edge["bytes"]) is not counted and (not counted or edge["bytes"] == 0)
