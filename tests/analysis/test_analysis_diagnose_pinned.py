"""diagnose(): exact verdicts, facts and summaries, as a network engineer reads them.

Pins the wording and every fact of each verdict path (hand-written NSG v1/v2 and VNet
rows), and the defects found by mutation testing: counts of denials at both ends, a
multi-day logged-NIC table, IPv6 spelled another way, ICMP and other protocols.
"""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.analysis.diagnose import diagnose, logged_nics
from flowkit.inventory import inventory_from_records
from flowkit_frames import APP, DB, DB_MAC, WEB, WEB_MAC, frame, tuple_row

NSG_DATA = ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
            "nsg-data")
T0 = "2024-05-01 10:00:00Z"
INV = inventory_from_records([{"mac": WEB_MAC, "ip": WEB, "vm": "web-01"},
                              {"mac": DB_MAC, "ip": DB, "vm": "db-01"}])


def _sent(mac: str = WEB_MAC, direction: str = "outbound", **kw) -> list[dict]:
    """A B tuple, then a C tuple: 4 packets sent, none received."""
    return [tuple_row(0, src=WEB, dst=DB, dport=1433, direction=direction, state="B", mac=mac, **kw),
            tuple_row(1, src=WEB, dst=DB, dport=1433, direction=direction, state="C", counters=(4, 240, 0, 0),
                      mac=mac, **kw)]


_HEALTHY_AT_DB = [tuple_row(30, src=APP, dst=DB, sport=40000, dport=1433, direction="inbound", state="E",
                            counters=(3, 300, 3, 900), mac=DB_MAC)]
_SENT_SPAN = "between 2024-05-01 10:00:00Z and 2024-05-01 10:01:00Z"


def _facts(f) -> dict:
    return {k: v for k, v in f.facts.items() if k != "reason"}


def test_denied_at_the_destination_every_fact_and_word():
    deny = tuple_row(0.5, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", acl_id=NSG_DATA, mac=DB_MAC)
    f = diagnose(frame(_sent() + [deny]), WEB, DB, port=1433, protocol="tcp")
    assert f.title == "Connectivity 10.10.1.4 -> 10.10.3.4 TCP port 1433"
    assert list(f.facts) == ["verdict", "rule", "acl_id", "where", "reason", "evidence_rows", "nsg", "attempts"]
    assert _facts(f) == {"verdict": "denied", "rule": "UserRule_DenyWebToSql", "acl_id": NSG_DATA,
                         "where": "destination-inbound", "evidence_rows": 3, "nsg": "nsg-data", "attempts": 1}
    assert f.facts["reason"] == f.summary == (
        "TCP port 1433 traffic from 10.10.1.4 to 10.10.3.4 was denied at the destination NIC, inbound "
        f"(000D3A000301) by rule UserRule_DenyWebToSql of NSG nsg-data (aclID {NSG_DATA}): 1 denied attempt(s) "
        "at 2024-05-01 10:00:30Z. The source NIC let it out (allowed outbound); "
        "it was dropped on arrival. 2 other tuple(s) of this traffic were allowed.")


def test_denied_at_the_source_says_so():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=22, direction="outbound", decision="deny", state="D",
                      rule="UserRule_DenySshOut", acl_id="acl-guid")]
    f = diagnose(frame(rows), WEB, DB, port=22, inventory=INV)
    assert (f.verdict, f.facts["where"], f.facts["nsg"]) == ("denied", "source-outbound", None)
    assert f.summary == (
        "Port 22 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) was denied at the source NIC, outbound "
        "(000D3A000101 (web-01)) by rule UserRule_DenySshOut (aclID acl-guid): 1 denied attempt(s) "
        f"at {T0}.")


def test_denied_at_both_ends_counts_each_place_apart():
    # Real data: an inbound rule at db-01 denied the first three attempts; then someone added
    # an outbound rule at web-01, which denied the next two. The verdict names the source
    # rule: it must not claim the three inbound denials as its own.
    rows = [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=22, direction="inbound", decision="deny",
                      state="D", rule="UserRule_DenyIn", mac=DB_MAC) for m in (0, 1, 2)]
    rows += [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=22, direction="outbound", decision="deny",
                       state="D", rule="UserRule_DenyOut", mac=WEB_MAC) for m in (10, 11)]
    f = diagnose(frame(rows), WEB, DB, port=22)
    assert (f.verdict, f.facts["where"], f.facts["rule"], f.facts["attempts"]) == (
        "denied", "source-outbound", "UserRule_DenyOut", 2)
    assert f.summary == (
        "Port 22 traffic from 10.10.1.4 to 10.10.3.4 was denied at the source NIC, outbound (000D3A000101) by "
        "rule UserRule_DenyOut (aclID acl-guid): 2 denied attempt(s) between 2024-05-01 10:10:00Z and "
        "2024-05-01 10:11:00Z. 3 other attempt(s) were dropped at the destination NIC, inbound, between "
        "2024-05-01 10:00:00Z and 2024-05-01 10:02:00Z.")


def test_encryption_dropped_at_the_destination_every_word():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B"),
            tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                      encryption="NX_NOT_ACCEPTED", rule="unspecified", acl_id="unspecified", mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433, inventory=INV)
    assert _facts(f) == {"verdict": "encryption-dropped", "rule": "unspecified", "acl_id": "unspecified",
                         "where": "destination-inbound", "evidence_rows": 2, "attempts": 1,
                         "encryption": ["NX_NOT_ACCEPTED"]}
    assert f.summary == (
        "Port 1433 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) was dropped for not being encrypted "
        "(NX_NOT_ACCEPTED: VNet encryption enforcement is 'drop unencrypted' and one end cannot encrypt) at "
        f"the destination NIC, inbound (000D3A000301 (db-01)): 1 attempt(s) at {T0}. Rule and "
        "aclID are 'unspecified' / 'unspecified': no NSG rule is involved. The source NIC let it out (allowed "
        "outbound); it was dropped on arrival. 1 other tuple(s) of this traffic were allowed.")


def test_ok_both_ends_every_word():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="E", counters=(5, 500, 4, 400)),
            tuple_row(0, src=WEB, dst=DB, dport=1433, state="E", counters=(5, 500, 4, 400), direction="inbound",
                      mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433, inventory=INV)
    assert _facts(f) == {"verdict": "ok", "rule": None, "acl_id": None, "where": None, "evidence_rows": 2,
                         "packets_sent": 5, "packets_received": 4}
    assert f.summary == (
        "Port 1433 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) flowed both ways: seen outbound at the "
        "source NIC and inbound at the destination NIC, 5 packet(s) sent, 4 received, "
        f"at {T0}.")


def test_ok_at_the_destination_without_counters_every_word():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state=None, log_type="nsg", version=1, direction="inbound",
                      mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert _facts(f) == {"verdict": "ok", "rule": None, "acl_id": None, "where": None, "evidence_rows": 1,
                         "replies_confirmed": False}
    assert f.summary == (
        "Port 1433 traffic from 10.10.1.4 to 10.10.3.4 was allowed and reached the destination NIC (seen inbound "
        f"at the destination NIC) at {T0}; NSG v1 logs carry no counters, so replies cannot be "
        "confirmed.")


def test_ok_at_the_source_without_usable_counters_every_word():
    rows = [tuple_row(0, src=WEB, dst=APP, dport=514, proto=17, state="C", counters=(0, 0, 0, 0), log_type="nsg")]
    f = diagnose(frame(rows), WEB, APP, port=514, protocol="udp")
    assert _facts(f) == {"verdict": "ok", "rule": None, "acl_id": None, "where": None, "evidence_rows": 1,
                         "replies_confirmed": False}
    assert f.summary == (
        f"UDP port 514 traffic from 10.10.1.4 to 10.10.2.4 was allowed and left the source NIC at {T0}"
        "; NSG v2 counts TCP packets only, and the destination is not the address of any NIC in these logs, "
        "so replies cannot be confirmed.")


def test_no_reply_at_the_destination_every_word():
    f = diagnose(frame(_sent() + _sent(mac=DB_MAC, direction="inbound")), WEB, DB, port=1433)
    assert _facts(f) == {"verdict": "no-reply", "rule": None, "acl_id": None, "where": "destination",
                         "evidence_rows": 4, "packets_sent": 4, "packets_received": 0}
    assert f.summary == (
        "Port 1433 traffic from 10.10.1.4 to 10.10.3.4 reached the destination NIC (seen outbound at the source "
        "NIC and inbound at the destination NIC) but nothing came back: 4 packet(s) sent, 0 received, "
        f"{_SENT_SPAN}. The destination accepted the packets at the network level; check that a service listens "
        "on the port and that the host firewall answers.")


def test_no_reply_at_the_source_every_word():
    f = diagnose(frame(_sent()), WEB, DB)
    assert f.title == "Connectivity 10.10.1.4 -> 10.10.3.4"
    assert _facts(f) == {"verdict": "no-reply", "rule": None, "acl_id": None, "where": "source",
                         "evidence_rows": 2, "packets_sent": 4, "packets_received": 0}
    assert f.summary == (
        f"Traffic from 10.10.1.4 to 10.10.3.4 left the source NIC (4 packet(s) sent, 0 received, {_SENT_SPAN}) "
        "but nothing came back. The destination is not the address of any NIC in these logs, so whether it "
        "arrived cannot be told from these logs.")


def test_lost_in_transit_every_word():
    f = diagnose(frame(_sent() + _HEALTHY_AT_DB), WEB, DB, port=1433, inventory=INV)
    assert _facts(f) == {"verdict": "lost-in-transit", "rule": None, "acl_id": None, "where": "in-transit",
                         "evidence_rows": 2, "packets_received": 0, "destination_macs": [DB_MAC],
                         "packets_sent": 4}
    assert f.summary == (
        "Port 1433 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) was allowed and sent at the source NIC "
        f"(4 packet(s) sent, 0 received, {_SENT_SPAN}) but never seen at the destination NIC 000D3A000301 "
        "(db-01), which was logged in the same hour(s) (10:00). Something between them dropped it: a route "
        "(UDR), a network virtual appliance or a firewall. But the destination NIC logged nothing within 10 "
        "minutes of these attempts (its tuples: none before, next at 2024-05-01 10:30:00Z): if its VM was "
        "stopped then, that explains it as well.")


def test_a_destination_nic_logged_only_by_its_own_outbound_traffic_counts_as_logged():
    # db-01 sent a backup to app-01 that hour: its NIC was logged (outbound), so web-01's
    # packets that never arrived were lost on the way.
    backup = [tuple_row(40, src=DB, dst=APP, sport=40000, dport=445, state="E", counters=(9, 900, 9, 900),
                        mac=DB_MAC)]
    f = diagnose(frame(_sent() + backup), WEB, DB, port=1433)
    assert (f.verdict, f.facts["destination_macs"]) == ("lost-in-transit", [DB_MAC])


def test_not_observed_every_word():
    rows = [tuple_row(0, src=WEB, dst=APP, state="B")]  # web-01 logged, by its outbound traffic only
    f = diagnose(frame(rows), WEB, DB, port=1433, inventory=INV)
    assert list(f.facts) == ["verdict", "rule", "acl_id", "where", "reason", "evidence_rows", "logged_macs"]
    assert _facts(f) == {"verdict": "not-observed", "rule": None, "acl_id": None, "where": None,
                         "evidence_rows": 0, "logged_macs": [WEB_MAC]}
    assert f.summary == (
        "No tuple of port 1433 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) in the logs. 10.10.1.4 is a "
        "logged NIC (000D3A000101); 10.10.3.4 is not the address of any logged NIC. Logged NICs (MAC): "
        "000D3A000101 (web-01).")


def test_an_ipv6_address_spelled_another_way_is_named_as_the_table_spells_it():
    a, b = "2001:db8::4", "2001:db8:1::5"
    inv = inventory_from_records([{"mac": WEB_MAC, "ip": a, "vm": "web6"}, {"mac": DB_MAC, "ip": b, "vm": "db6"}])
    rows = [tuple_row(0, src=a, dst=b, dport=443, state="E", counters=(3, 300, 3, 300))]
    f = diagnose(frame(rows), "2001:DB8:0::4", "2001:db8:1:0:0::5", port=443, inventory=inv)
    assert f.verdict == "ok"
    assert f.title == "Connectivity 2001:db8::4 -> 2001:db8:1::5 port 443"
    assert f.summary.startswith("Port 443 traffic from 2001:db8::4 (web6) to 2001:db8:1::5 (db6) flowed both ways")


@pytest.mark.parametrize("protocol, service", [
    pytest.param(1, "ICMP port 0", id="icmp"),
    pytest.param(58, "ICMPv6 port 0", id="icmpv6"),
    pytest.param(47, "protocol 47 port 0", id="gre"),
    pytest.param("udp", "UDP port 0", id="udp"),
])
def test_protocols_other_than_tcp_and_udp_are_named(protocol, service):
    rows = [tuple_row(0, src=WEB, dst=DB, sport=0, dport=0, proto=1, state="E", counters=(4, 240, 4, 240))]
    f = diagnose(frame(rows), WEB, DB, port=0, protocol=protocol)
    assert f.title == f"Connectivity 10.10.1.4 -> 10.10.3.4 {service}"
    assert f" {service} traffic from 10.10.1.4 to 10.10.3.4 " in f" {f.summary}"


def test_icmp_echo_with_port_0_flows_both_ways():
    rows = [tuple_row(0, src=WEB, dst=DB, sport=0, dport=0, proto=1, state="E", counters=(4, 240, 4, 240))]
    f = diagnose(frame(rows), WEB, DB, port=0, protocol=1)
    assert (f.verdict, f.facts["packets_sent"], f.facts["packets_received"]) == ("ok", 4, 4)
    assert f.summary == (f"ICMP port 0 traffic from 10.10.1.4 to 10.10.3.4 flowed both ways: seen outbound at "
                         f"the source NIC, 4 packet(s) sent, 4 received, at {T0}.")


def test_logged_nics_lists_an_hour_once_over_several_days():
    rows = [tuple_row(0), tuple_row(24 * 60), tuple_row(24 * 60 + 70)]
    t = logged_nics(frame(rows))
    assert t.to_dict("records") == [{
        "mac": WEB_MAC, "vm": None, "addresses": WEB, "log_types": "vnet",
        "first_seen": pd.Timestamp("2024-05-01T10:00:00Z"), "last_seen": pd.Timestamp("2024-05-02T11:10:00Z"),
        "tuples": 3, "hours": "10:00,11:00"}]


def test_evidence_observations_and_tuples_exactly():
    # web-01's VNet log (B, then C updates of two flows), db-01's NSG v1 log (no state, no
    # counters, the NSG named by its resource ID) and db-01's VNet log (no rule, no aclID).
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B"),
            tuple_row(1, src=WEB, dst=DB, dport=1433, state="C", counters=(4, 240, 0, 0)),
            tuple_row(2, src=WEB, dst=DB, sport=50001, dport=1433, state="C", counters=(2, 120, 1, 60)),
            tuple_row(0.5, src=WEB, dst=DB, dport=1433, direction="inbound", state=None, mac=DB_MAC,
                      log_type="nsg", version=1, resource_id=NSG_DATA),
            tuple_row(0.5, src=WEB, dst=DB, dport=1433, direction="inbound", state="C", mac=DB_MAC, encryption=None,
                      rule=None, acl_id=None, counters=(1, 2, 3, 4))]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert list(f.evidence) == ["observations", "tuples", "sessions", "logged_nics"]
    at = [pd.Timestamp(t) for t in ("2024-05-01T10:00:00Z", "2024-05-01T10:00:30Z", "2024-05-01T10:00:30Z",
                                    "2024-05-01T10:01:00Z", "2024-05-01T10:02:00Z")]
    assert f.evidence["observations"].to_dict("list") == {
        "mac": [WEB_MAC, DB_MAC, DB_MAC, WEB_MAC], "log_type": ["vnet", "nsg", "vnet", "vnet"],
        "direction": ["outbound", "inbound", "inbound", "outbound"], "decision": ["allow"] * 4,
        "state": ["B", "-", "C", "C"], "encryption": ["NX", "-", "-", "NX"],
        "rule": ["DefaultRule_AllowVnetOutBound", "DefaultRule_AllowVnetOutBound", "-",
                 "DefaultRule_AllowVnetOutBound"],
        "acl_id": ["acl-guid", NSG_DATA, "/SUBSCRIPTIONS/X/FLOWLOGS/FL", "acl-guid"],
        "first_seen": [at[0], at[1], at[2], at[3]], "last_seen": [at[0], at[1], at[2], at[4]],
        "tuples": [1, 1, 1, 2], "src_ports": [1, 1, 1, 2], "packets_sent": [0, 0, 1, 6],
        "bytes_sent": [0, 0, 2, 360], "packets_received": [0, 0, 3, 1], "bytes_received": [0, 0, 4, 60]}
    assert f.evidence["observations"]["packets_sent"].dtype == "int64"
    tuples = f.evidence["tuples"]
    assert list(tuples.columns) == [
        "flow_time", "mac", "log_type", "direction", "decision", "state", "encryption", "src_ip", "src_port",
        "dst_ip", "dst_port", "protocol", "packets_sent", "bytes_sent", "packets_received", "bytes_received",
        "rule", "acl_id", "resource_id", "blob"]
    assert tuples["flow_time"].tolist() == [at[0], at[1], at[2], at[3], at[4]]  # in time order
    assert tuples.index.tolist() == [0, 1, 2, 3, 4]
    assert len(f.evidence["sessions"]) == 4


def test_evidence_in_a_window_is_that_of_the_window():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B"),
            tuple_row(90, src=WEB, dst=DB, dport=1433, state="E", counters=(3, 300, 3, 300)),
            tuple_row(90, src=APP, dst=WEB, state="B", direction="inbound", mac=WEB_MAC)]
    f = diagnose(frame(rows), WEB, DB, start="2024-05-01T11:00Z")
    assert (f.verdict, f.facts["evidence_rows"], len(f.evidence["tuples"])) == ("ok", 1, 1)
    assert f.evidence["logged_nics"][["mac", "addresses", "tuples", "hours"]].to_dict("records") == [
        {"mac": WEB_MAC, "addresses": WEB, "tuples": 2, "hours": "11:00"}]


def test_module_exports():
    import flowkit.analysis.diagnose as module

    assert module.__all__ == ["diagnose", "VERDICTS", "logged_nics"]


def test_nothing_logged_at_all_says_none():
    from flowkit.schema import empty_frame

    f = diagnose(empty_frame(), WEB, DB, port=1433)
    assert (f.verdict, f.facts["logged_macs"]) == ("not-observed", [])
    assert f.summary == (  # not "neither end is a logged NIC": nothing was read at all
        "No tuple of port 1433 traffic from 10.10.1.4 to 10.10.3.4: the flows given hold no tuple at all. Nothing "
        "can be said about the connection: check the path, the time window (the logs' hours) and the log type "
        "that were read.")


def test_a_vnet_d_tuple_is_a_denial_even_without_a_decision():
    # VNet flow logs carry no allow/deny field: state D says it (a frame built by hand, or
    # exported by another tool, may leave decision empty).
    row = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", state="D", rule="UserRule_DenyWebToSql",
                    mac=DB_MAC)
    row["decision"] = None
    f = diagnose(frame([row]), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"], f.facts["rule"]) == ("denied", "destination-inbound", "UserRule_DenyWebToSql")
    obs = f.evidence["observations"]  # a tuple with no decision is still an observation
    assert (len(obs), obs["state"].iloc[0], int(obs["tuples"].iloc[0])) == (1, "D", 1)


def test_an_observation_without_acl_or_resource_shows_a_dash():
    row = tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", acl_id=None)
    row["resource_id"] = None
    obs = diagnose(frame([row]), WEB, DB, port=1433).evidence["observations"]
    assert obs[["state", "encryption", "rule", "acl_id"]].to_dict("records") == [
        {"state": "B", "encryption": "NX", "rule": "DefaultRule_AllowVnetOutBound", "acl_id": "-"}]


def test_lost_in_transit_over_two_hours_and_denials_at_a_replaced_nic_list_each():
    rows = _sent() + [tuple_row(70, src=WEB, dst=DB, sport=50001, dport=1433, state="C", counters=(2, 120, 0, 0))]
    rows += _HEALTHY_AT_DB + [tuple_row(80, src=APP, dst=DB, sport=40001, dport=1433, direction="inbound",
                                        state="E", counters=(3, 300, 3, 900), mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert f.verdict == "lost-in-transit"
    assert "never seen at the destination NIC 000D3A000301, which was logged in the same hour(s) (10:00, 11:00)." \
        in f.summary
    # db-01's NIC was replaced at 11:00 (a redeploy): both NICs denied it.
    new_mac = "000D3A000399"
    deny = [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=1433, direction="inbound", decision="deny",
                      state="D", rule="UserRule_DenyWebToSql", mac=mac) for m, mac in ((0, DB_MAC), (70, new_mac))]
    f = diagnose(frame(deny), WEB, DB, port=1433)
    assert "at the destination NIC, inbound (000D3A000301, 000D3A000399) by rule" in f.summary


def test_lost_in_transit_to_an_address_on_two_nics_and_without_counters_every_word():
    new_mac = "000D3A000399"
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state=None, log_type="nsg", version=1)]
    # Both NICs logged within 10 minutes of the attempt: no note that the destination was quiet.
    rows += [tuple_row(10, src=APP, dst=DB, sport=40000, dport=1433, direction="inbound", state="E",
                       counters=(3, 300, 3, 900), mac=mac) for mac in (DB_MAC, new_mac)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert _facts(f) == {"verdict": "lost-in-transit", "rule": None, "acl_id": None, "where": "in-transit",
                         "evidence_rows": 1, "packets_received": 0, "destination_macs": [DB_MAC, new_mac],
                         "replies_confirmed": False}
    assert f.summary == (
        f"Port 1433 traffic from 10.10.1.4 to 10.10.3.4 was allowed and sent at the source NIC at {T0}"
        " (no packet counts: NSG v1 logs carry no counters) but never seen at the destination NIC "
        "000D3A000301, 000D3A000399, which was logged in the same hour(s) (10:00). Something between them "
        "dropped it: a route (UDR), a network virtual appliance or a firewall.")


def test_not_observed_lists_every_logged_nic_in_mac_order():
    # db-01's tuple comes first in the file; NICs are listed by MAC, whatever the row order.
    rows = [tuple_row(0, src=APP, dst=DB, direction="inbound", mac=DB_MAC), tuple_row(1, src=WEB, dst=APP)]
    f = diagnose(frame(rows), WEB, "10.10.9.9", port=443)
    assert f.facts["logged_macs"] == [WEB_MAC, DB_MAC]
    assert f.summary.endswith("Logged NICs (MAC): 000D3A000101, 000D3A000301.")
    assert logged_nics(frame(rows))["mac"].tolist() == [WEB_MAC, DB_MAC]


def test_a_frame_without_counters_says_so():
    from flowkit.schema import coerce

    f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:00:00Z"], "src_ip": [WEB], "dst_ip": [DB],
                             "src_port": [50000], "dst_port": [1433], "protocol": [6], "direction": ["outbound"],
                             "decision": ["allow"], "mac": [WEB_MAC], "log_type": ["vnet"]}))
    d = diagnose(f, WEB, DB, port=1433)
    assert (d.verdict, d.facts["replies_confirmed"]) == ("ok", False)
    assert "; the logs carry no counters, and the destination" in d.summary


def test_an_nsg_resource_id_in_capitals_names_the_nsg_whole():
    # NSG flow logs write the NSG's resource ID in capitals; a name may end in X.
    nsg_id = "/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-BOX/"
    rows = [tuple_row(0, src=WEB, dst=DB, dport=445, direction="outbound", decision="deny", state="B",
                      rule="UserRule_DenySmb", log_type="nsg", resource_id=nsg_id)]
    f = diagnose(frame(rows), WEB, DB, port=445)
    assert (f.facts["nsg"], f.facts["acl_id"]) == ("NSG-BOX", nsg_id)
    assert f"by rule UserRule_DenySmb of NSG NSG-BOX (aclID {nsg_id}): 1 denied attempt(s)" in f.summary


def test_not_observed_when_only_the_destination_is_logged_every_word():
    f = diagnose(frame(_HEALTHY_AT_DB), WEB, DB, port=1433)
    assert f.summary == (
        "No tuple of port 1433 traffic from 10.10.1.4 to 10.10.3.4 in the logs. 10.10.1.4 is not the address of "
        "any logged NIC; 10.10.3.4 is a logged NIC (000D3A000301). Logged NICs (MAC): 000D3A000301.")


def test_one_denial_at_a_whole_second_and_999_ms_later_is_one_attempt():
    # The NSG flow log times it 10:00:00, the VNet flow log 10:00:00.999: one attempt.
    nsg = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="B",
                    rule="UserRule_DenyWebToSql", mac=DB_MAC, log_type="nsg", resource_id=NSG_DATA)
    vnet = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", mac=DB_MAC)
    vnet["flow_time"] += pd.Timedelta(milliseconds=999)
    assert diagnose(frame([nsg, vnet]), WEB, DB, port=1433).facts["attempts"] == 1


def test_every_reason_for_missing_counters_is_given():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state=None, log_type="nsg", version=1),
            tuple_row(0, src=WEB, dst=DB, sport=50001, dport=1433, state="B")]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert ("; NSG v1 logs carry no counters; the logs hold only flow-begin (B) tuples (counters come with C "
            "and E tuples), and the destination") in f.summary


def test_observations_at_one_time_and_nic_are_in_log_type_order_whatever_the_row_order():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", log_type=lt) for lt in ("vnet", "nsg")]
    obs = diagnose(frame(rows), WEB, DB, port=1433).evidence["observations"]
    assert obs["log_type"].tolist() == ["nsg", "vnet"]


def test_not_observed_names_both_nics_of_an_address_that_moved():
    # Both VMs were redeployed at 11:00: each address is on an old and a new NIC.
    web_new, db_new = "000D3A000199", "000D3A000399"
    rows = [tuple_row(m, src=WEB, dst=APP, mac=mac) for m, mac in ((0, WEB_MAC), (70, web_new))]
    rows += [tuple_row(m, src=APP, dst=DB, direction="inbound", mac=mac) for m, mac in ((0, DB_MAC), (70, db_new))]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert ("10.10.1.4 is a logged NIC (000D3A000101, 000D3A000199); 10.10.3.4 is a logged NIC "
            "(000D3A000301, 000D3A000399).") in f.summary


def _udp_sent(mac: str = WEB_MAC, direction: str = "outbound") -> list[dict]:
    return [tuple_row(0, src=WEB, dst=DB, dport=514, proto=17, direction=direction, state="B", mac=mac),
            tuple_row(1, src=WEB, dst=DB, dport=514, proto=17, direction=direction, state="C",
                      counters=(4, 240, 0, 0), mac=mac)]


def test_udp_without_a_reply_says_one_way_udp_is_normal():
    f = diagnose(frame(_udp_sent() + _udp_sent(mac=DB_MAC, direction="inbound")), WEB, DB, port=514,
                 protocol="udp")
    assert (f.verdict, f.facts["where"]) == ("no-reply", "destination")
    assert f.summary == (
        "UDP port 514 traffic from 10.10.1.4 to 10.10.3.4 reached the destination NIC (seen outbound at the "
        "source NIC and inbound at the destination NIC) but nothing came back: 4 packet(s) sent, 0 received, "
        f"{_SENT_SPAN}. The destination accepted the packets at the network level; check that a service listens "
        "on the port and that the host firewall answers. UDP expects no reply: for one-way traffic (syslog, "
        "SNMP traps, NetFlow export) this is normal.")
    at_source = diagnose(frame(_udp_sent()), WEB, DB, port=514)
    assert at_source.summary.endswith(
        "so whether it arrived cannot be told from these logs. UDP expects no reply: for one-way traffic "
        "(syslog, SNMP traps, NetFlow export) this is normal.")


def test_tcp_and_udp_together_without_a_reply_get_no_udp_note():
    rows = _sent() + [dict(r, dst_port=1433) for r in _udp_sent()]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["evidence_rows"], f.facts["packets_sent"]) == ("no-reply", 4, 8)
    assert "UDP" not in f.summary


@pytest.mark.parametrize("healthy_minutes, note", [
    pytest.param((42,), " (its tuples: none before, next at 2024-05-01 10:42:00Z)", id="next-only"),
    pytest.param((18, 45), " (its tuples: last at 2024-05-01 10:18:00Z, next at 2024-05-01 10:45:00Z)",
                 id="both"),
    pytest.param((19,), " (its tuples: last at 2024-05-01 10:19:00Z, none after)", id="last-only"),
    pytest.param((41,), None, id="ten-minutes-after-the-last-attempt"),
    pytest.param((20,), None, id="ten-minutes-before-the-first"),
    pytest.param((30.5,), None, id="between-the-attempts"),
])
def test_lost_in_transit_says_when_the_destination_nic_was_quiet_around_the_attempts(healthy_minutes, note):
    # web-01 sends at 10:30 and 10:31; db-01 logged in that hour, at the minutes given.
    rows = [tuple_row(30, src=WEB, dst=DB, dport=1433, state="B"),
            tuple_row(31, src=WEB, dst=DB, dport=1433, state="C", counters=(4, 240, 0, 0))]
    rows += [tuple_row(m, src=APP, dst=DB, sport=40000, dport=1433, direction="inbound", state="E",
                       counters=(3, 300, 3, 900), mac=DB_MAC) for m in healthy_minutes]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert f.verdict == "lost-in-transit"
    tail = "a route (UDR), a network virtual appliance or a firewall."
    if note is None:
        assert f.summary.endswith(tail)
    else:
        assert f.summary.endswith(f"{tail} But the destination NIC logged nothing within 10 minutes of these "
                                  f"attempts{note}: if its VM was stopped then, that explains it as well.")


def test_nothing_read_or_nothing_in_the_window_is_said_as_such_not_as_unlogged_ends():
    """A window that misses the logs (``start="yesterday"`` on last year's files) leaves no tuple:
    the verdict says the flows hold none there, and when they run, instead of calling both
    ends "not the address of any logged NIC"."""
    import flowkit
    from flowkit.schema import empty_frame
    from flowkit_frames import SAMPLES

    flows = flowkit.read_flow_logs(SAMPLES / "connectivity")
    missed = diagnose(flows, "10.10.2.4", "10.10.3.5", 6379, start="2030-01-01")
    assert (missed.verdict, missed.facts["logged_macs"]) == ("not-observed", [])
    assert missed.summary == (
        "No tuple of port 6379 traffic from 10.10.2.4 to 10.10.3.5: the flows given hold no tuple at all in "
        "the window (they run from 2024-05-01 10:00:07Z to 2024-05-01 11:58:44Z). Nothing can be said about "
        "the connection: check the path, the time window (the logs' hours) and the log type that were read.")
    empty = diagnose(empty_frame(), "192.0.2.1", "198.51.100.2")
    assert empty.summary.startswith("No tuple of traffic from 192.0.2.1 to 198.51.100.2: the flows given hold "
                                    "no tuple at all. Nothing can be said")


def test_an_avnm_denial_says_the_rule_is_not_in_an_nsg():
    """A security admin rule of Azure Virtual Network Manager denies SMB out (only VNet flow logs
    see it): the engineer must look in AVNM, not in the NICs' NSGs, where the rule is not."""
    avnm = "DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"
    rows = [tuple_row(0, src=WEB, dst="198.51.100.200", dport=445, direction="outbound", decision="deny",
                      state="D", rule=avnm, acl_id="7c1e3a52-9d40-4f8b-b1a6-2e5d9c0f4a17")]
    f = diagnose(frame(rows), WEB, "198.51.100.200", port=445, inventory=INV)
    assert (f.verdict, f.facts["where"], f.facts["rule"], f.facts["nsg"]) == ("denied", "source-outbound", avnm, None)
    assert f.summary == (
        "Port 445 traffic from 10.10.1.4 (web-01) to 198.51.100.200 was denied at the source NIC, outbound "
        f"(000D3A000101 (web-01)) by rule {avnm} (aclID 7c1e3a52-9d40-4f8b-b1a6-2e5d9c0f4a17), a security "
        "admin rule of Azure Virtual Network Manager (evaluated before the NSGs: look for it there, not in an "
        f"NSG): 1 denied attempt(s) at {T0}.")


def test_not_observed_says_when_the_other_direction_is_in_the_logs():
    """db-01 -> web-01:1433 asked for, web-01 -> db-01:1433 logged (the client opens the connection):
    still not-observed, and the reason points at the swap instead of leaving the engineer to guess."""
    deny = tuple_row(0.5, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", acl_id=NSG_DATA, mac=DB_MAC)
    flows = frame(_sent() + [deny])
    f = diagnose(flows, DB, WEB, port=1433, inventory=INV)
    assert (f.verdict, f.facts["logged_macs"]) == ("not-observed", [WEB_MAC, DB_MAC])
    assert f.summary == (
        "No tuple of port 1433 traffic from 10.10.3.4 (db-01) to 10.10.1.4 (web-01) in the logs. 10.10.3.4 is a "
        "logged NIC (000D3A000301); 10.10.1.4 is a logged NIC (000D3A000101). Logged NICs (MAC): "
        "000D3A000101 (web-01), 000D3A000301 (db-01). 3 tuple(s) of port 1433 traffic from 10.10.1.4 (web-01) "
        "to 10.10.3.4 (db-01) are in the logs: the source is the end that opens the connection; were source "
        "and destination swapped?")
    assert "swapped" not in diagnose(flows, DB, WEB, port=22, inventory=INV).summary  # another port: no hint


def test_not_observed_says_when_the_pair_and_port_are_logged_over_another_protocol():
    """``--protocol udp`` on TCP-only traffic said only that no tuple matched: the reason now says the pair
    and port are in the logs over TCP. Without a protocol asked, or for a port nobody used, no hint."""
    deny = tuple_row(0.5, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", acl_id=NSG_DATA, mac=DB_MAC)
    flows = frame(_sent() + [deny])
    f = diagnose(flows, WEB, DB, port=1433, protocol="udp", inventory=INV)
    assert f.verdict == "not-observed"
    assert f.summary.endswith(
        "Logged NICs (MAC): 000D3A000101 (web-01), 000D3A000301 (db-01). 3 tuple(s) from 10.10.1.4 (web-01) to "
        "10.10.3.4 (db-01) port 1433 are in the logs over TCP: was the protocol the one meant?")
    assert "protocol the one meant" not in diagnose(flows, WEB, DB, port=22, protocol="udp", inventory=INV).summary
    assert diagnose(flows, WEB, DB, port=1433, protocol="tcp", inventory=INV).verdict != "not-observed"


def test_logged_nics_are_listed_by_mac_whatever_the_order_the_reader_met_them():
    """Found by tests/analysis/test_analysis_properties.py: the table, facts["logged_macs"] and the
    not-observed summary listed NICs in the order of the mac column's categories (the order the
    reader met the blobs), so one set of logs read in another order gave another text."""
    rows = frame([tuple_row(0, src=DB, dst=APP, mac=DB_MAC), tuple_row(1, src=WEB, dst=APP, mac=WEB_MAC)])
    met_db_first = rows.assign(mac=rows["mac"].cat.set_categories([DB_MAC, WEB_MAC]))
    assert logged_nics(met_db_first)["mac"].tolist() == [WEB_MAC, DB_MAC]
    f = diagnose(met_db_first, WEB, "10.10.9.9")
    assert f.facts["logged_macs"] == [WEB_MAC, DB_MAC]
    assert f.summary.endswith(f"Logged NICs (MAC): {WEB_MAC}, {DB_MAC}.")


def test_the_evidence_tuples_of_one_moment_are_listed_by_value_whatever_the_read_order():
    # The source NIC's and the destination NIC's tuples of one minute, met in either order
    # (their blobs listed one way or the other): one table, the source's outbound tuple first.
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", state="B", mac=DB_MAC),
            tuple_row(0, src=WEB, dst=DB, dport=1433, direction="outbound", state="B", mac=WEB_MAC)]
    tables = [diagnose(frame(order), WEB, DB, 1433).evidence["tuples"] for order in (rows, rows[::-1])]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0][["mac", "direction"]].astype(str).values.tolist() == [[WEB_MAC, "outbound"], [DB_MAC, "inbound"]]


@pytest.mark.parametrize("state, why", [
    ("NX_SW_NOT_READY", "while the host's networking software was not ready to encrypt (NX_SW_NOT_READY: the VM "
                        "starting, restarting or redeployed, or an update on its host; it should pass, and "
                        "Microsoft asks for a report if it lasts)"),
    ("NX_NOT_SUPPORTED", "because the host's networking stack cannot discover encryption, so no encryption "
                         "session was set up (NX_NOT_SUPPORTED: Microsoft asks for a report)")])
def test_a_flow_the_host_could_not_encrypt_is_encryption_dropped_not_no_reply(state, why):
    # Microsoft's VNet flow logs overview: in both states the packet is dropped. The reader made
    # the tuples allowed, and diagnose said no-reply ("check that a service listens").
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", encryption=state, rule="unspecified",
                      acl_id="unspecified"),
            tuple_row(1, src=WEB, dst=DB, dport=1433, state="C", encryption=state, rule="unspecified",
                      acl_id="unspecified", counters=(3, 180, 0, 0))]
    f = diagnose(frame(rows), WEB, DB, port=1433, inventory=INV)
    assert (f.verdict, f.facts["where"], f.facts["encryption"], f.facts["attempts"]) == (
        "encryption-dropped", "source-outbound", [state], 2)
    assert f.summary == (
        f"Port 1433 traffic from 10.10.1.4 (web-01) to 10.10.3.4 (db-01) was dropped {why} at the source NIC, "
        f"outbound ({WEB_MAC} (web-01)): 2 attempt(s) between 2024-05-01 10:00:00Z and 2024-05-01 10:01:00Z. "
        "Rule and aclID are 'unspecified' / 'unspecified': no NSG rule is involved.")


def test_a_rule_denying_every_attempt_is_not_hidden_behind_one_dropped_while_the_vm_restarted():
    # 10:00: the sender's VM restarting drops one attempt (NX_SW_NOT_READY, a drop since today);
    # from 10:05 an NSG rule denies each of ten. diagnose said encryption-dropped, 1 attempt,
    # "no NSG rule is involved", and never named the rule.
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", encryption="NX_SW_NOT_READY",
                      rule="unspecified", acl_id="unspecified", sport=40000)]
    rows += [tuple_row(5 + i, src=WEB, dst=DB, dport=1433, state="D", decision="deny", encryption="NX",
                       rule="UserRule_DenySql", acl_id="nsg-web", sport=40001 + i) for i in range(10)]
    f = diagnose(frame(rows), WEB, DB, port=1433, inventory=INV)
    assert (f.verdict, f.facts["rule"], f.facts["where"], f.facts["attempts"]) == (
        "denied", "UserRule_DenySql", "source-outbound", 10)
    assert f.summary.endswith(
        "10 denied attempt(s) between 2024-05-01 10:05:00Z and 2024-05-01 10:14:00Z. 1 other attempt(s) were "
        "dropped by VNet encryption (NX_SW_NOT_READY) at 2024-05-01 10:00:00Z.")
    # alone, the drop is still the verdict
    alone = diagnose(frame(rows[:1]), WEB, DB, port=1433, inventory=INV)
    assert (alone.verdict, alone.facts["encryption"]) == ("encryption-dropped", ["NX_SW_NOT_READY"])


# --- Microsoft's NSG flow logs overview, "Non-default inbound TCP rules": "Flows affected by
# non-default inbound rules become non-terminating. Additionally, byte and packet counts aren't
# recorded for these flows." Zero counters there are no evidence that nothing came back.

_CLIENT, _SERVER, _SERVER_MAC = "198.51.100.17", "192.0.2.4", "000D3A0000D4"


def _inbound_nsg(rule: str, counters: tuple[int, int, int, int]) -> list[dict]:
    return [tuple_row(0, src=_CLIENT, dst=_SERVER, sport=61771, dport=3389, direction="inbound", state="B",
                      rule=rule, mac=_SERVER_MAC, log_type="nsg"),
            tuple_row(1, src=_CLIENT, dst=_SERVER, sport=61771, dport=3389, direction="inbound", state="C",
                      counters=counters, rule=rule, mac=_SERVER_MAC, log_type="nsg")]


def test_inbound_tcp_allowed_by_a_user_rule_with_zero_counters_is_not_called_no_reply():
    f = diagnose(frame(_inbound_nsg("UserRule_allow-rdp", (0, 0, 0, 0))), src=_CLIENT, dst=_SERVER, port=3389)
    assert f.verdict == "ok"
    assert f.facts["replies_confirmed"] is False
    assert f.summary == (
        "Port 3389 traffic from 198.51.100.17 to 192.0.2.4 was allowed and reached the destination NIC "
        "(seen inbound at the destination NIC) between 2024-05-01 10:00:00Z and 2024-05-01 10:01:00Z; "
        "NSG flow logs record no packet counts for inbound TCP flows allowed by a non-default rule "
        "(their counters are 0), so replies cannot be confirmed.")


@pytest.mark.parametrize("rule, counters, verdict", [
    pytest.param("DefaultRule_AllowVnetInBound", (0, 0, 0, 0), "no-reply", id="default-rule-counts-are-recorded"),
    pytest.param("UserRule_allow-rdp", (4, 240, 0, 0), "no-reply", id="recorded-counts-are-used"),
    pytest.param("UserRule_allow-rdp", (4, 240, 3, 180), "ok", id="replies-seen"),
])
def test_inbound_tcp_counters_that_were_recorded_still_decide(rule, counters, verdict):
    f = diagnose(frame(_inbound_nsg(rule, counters)), src=_CLIENT, dst=_SERVER, port=3389)
    assert f.verdict == verdict
    assert f.facts.get("replies_confirmed", True) is True



@pytest.mark.parametrize("log_type, version, avnm", [("vnet", None, True), ("nsg", 2, False)])
def test_only_a_vnet_flow_logs_rule_can_be_an_avnm_security_admin_rule(log_type, version, avnm):
    """A rule named without DefaultRule_/UserRule_ is a security admin rule in a VNet flow log; an
    NSG flow log only ever names its NSG's rules, whatever a converted or hand-made log calls them."""
    rows = [tuple_row(0, src="198.51.100.9", dst=DB, dport=3389, direction="inbound", decision="deny",
                      state="D" if log_type == "vnet" else "B", rule="BlockRdpFromInternet", mac=DB_MAC,
                      log_type=log_type, version=version)]
    f = diagnose(frame(rows), src="198.51.100.9", dst=DB, port=3389)
    assert f.verdict == "denied" and f.facts["rule"] == "BlockRdpFromInternet"
    assert ("security admin rule of Azure Virtual Network Manager" in f.summary) is avnm
