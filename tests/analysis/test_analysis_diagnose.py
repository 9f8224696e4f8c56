"""diagnose(): every verdict on hand-written frames, and the edge cases."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.analysis.diagnose import VERDICTS, diagnose, logged_nics
from flowkit_frames import APP, APP_MAC, DB, DB_MAC, INTERNET, WEB, WEB_MAC, frame, tuple_row

NSG_DATA = ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
            "nsg-data")


def _healthy_at_db(minute: float = 0) -> list[dict]:
    """Other traffic that proves db-01's NIC is logged in that hour."""
    return [tuple_row(minute, src=APP, dst=DB, sport=40000, dport=1433, direction="inbound", state="E",
                      counters=(3, 300, 3, 900), mac=DB_MAC, rule="UserRule_AllowAppToSql")]


def _sent_no_reply(mac: str = WEB_MAC, direction: str = "outbound", minute: float = 0,
                   **kw) -> list[dict]:
    return [tuple_row(minute, src=WEB, dst=DB, dport=1433, direction=direction, state="B", mac=mac, **kw),
            tuple_row(minute + 1, src=WEB, dst=DB, dport=1433, direction=direction, state="C",
                      counters=(4, 240, 0, 0), mac=mac, **kw)]


def test_denied_at_destination_inbound():
    rows = _sent_no_reply() + [tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny",
                                         state="D", rule="UserRule_DenyWebToSql", acl_id=NSG_DATA, mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert f.verdict == "denied"
    assert (f.facts["rule"], f.facts["acl_id"], f.facts["where"], f.facts["nsg"]) == (
        "UserRule_DenyWebToSql", NSG_DATA, "destination-inbound", "nsg-data")
    assert f.facts["evidence_rows"] == 3
    assert f.severity == "high"
    assert "let it out" in f.summary


def test_denied_at_source_outbound_in_nsg_log_names_the_nsg():
    rows = [tuple_row(0, src=WEB, dst=INTERNET, dport=445, direction="outbound", decision="deny", state="B",
                      rule="UserRule_DenySmbOut", log_type="nsg", resource_id=NSG_DATA)]
    f = diagnose(frame(rows), WEB, INTERNET, port=445, protocol="tcp")
    assert (f.verdict, f.facts["where"], f.facts["rule"], f.facts["acl_id"]) == (
        "denied", "source-outbound", "UserRule_DenySmbOut", NSG_DATA)
    assert f.title == "Connectivity 10.10.1.4 -> 198.51.100.10 TCP port 445"


def test_source_outbound_wins_when_denied_at_both_ends():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=22, direction="outbound", decision="deny", state="D",
                      rule="UserRule_DenyOut", mac=WEB_MAC),
            tuple_row(0, src=WEB, dst=DB, dport=22, direction="inbound", decision="deny", state="D",
                      rule="UserRule_DenyIn", mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=22)
    assert (f.facts["where"], f.facts["rule"]) == ("source-outbound", "UserRule_DenyOut")


def test_encryption_dropped():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, direction="outbound", decision="deny", state="D",
                      encryption="NX_NOT_ACCEPTED", rule="unspecified", acl_id="unspecified")]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["rule"], f.facts["acl_id"], f.facts["where"]) == (
        "encryption-dropped", "unspecified", "unspecified", "source-outbound")
    assert "NX_NOT_ACCEPTED" in f.summary


def test_lost_in_transit_when_destination_nic_logged_that_hour():
    f = diagnose(frame(_sent_no_reply() + _healthy_at_db(30)), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"]) == ("lost-in-transit", "in-transit")
    assert f.facts["destination_macs"] == [DB_MAC]
    assert f.facts["packets_sent"] == 4


def test_one_end_only_with_unlogged_destination_is_not_lost_in_transit():
    f = diagnose(frame(_sent_no_reply()), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"]) == ("no-reply", "source")
    assert "cannot be told" in f.summary


def test_destination_logged_in_another_hour_only_is_not_lost_in_transit():
    f = diagnose(frame(_sent_no_reply(minute=0) + _healthy_at_db(90)), WEB, DB, port=1433)
    assert f.verdict == "no-reply"


def test_destination_known_from_inventory_but_not_logged_is_not_lost():
    from flowkit.inventory import inventory_from_records

    inv = inventory_from_records([{"mac": DB_MAC, "ip": DB, "vm": "db-01"}])
    f = diagnose(frame(_sent_no_reply()), WEB, DB, port=1433, inventory=inv)
    assert f.verdict == "no-reply"
    assert "db-01" in f.summary


def test_no_reply_at_destination():
    rows = _sent_no_reply() + _sent_no_reply(mac=DB_MAC, direction="inbound")
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"], f.severity) == ("no-reply", "destination", "medium")


def test_no_reply_seen_only_at_destination():
    f = diagnose(frame(_sent_no_reply(mac=DB_MAC, direction="inbound")), WEB, DB)
    assert (f.verdict, f.facts["where"]) == ("no-reply", "destination")


def test_ok_when_replies_seen():
    rows = [tuple_row(0, src=WEB, dst=INTERNET, dport=443, state="B"),
            tuple_row(1, src=WEB, dst=INTERNET, dport=443, state="E", counters=(5, 500, 4, 4000))]
    f = diagnose(frame(rows), WEB, INTERNET, port=443)
    assert (f.verdict, f.facts["where"], f.facts["packets_received"], f.severity) == ("ok", None, 4, "info")


def test_nsg_v1_without_counters_is_ok_but_unconfirmed():
    rows = [tuple_row(0, src=WEB, dst=APP, state=None, log_type="nsg", version=1),
            tuple_row(0, src=WEB, dst=APP, state=None, log_type="nsg", version=1, direction="inbound", mac=APP_MAC)]
    f = diagnose(frame(rows), WEB, APP)
    assert f.verdict == "ok" and f.facts["replies_confirmed"] is False


def test_nsg_v2_udp_zero_counters_do_not_mean_no_reply():
    rows = [tuple_row(0, src=WEB, dst=APP, dport=514, proto=17, state="C", counters=(0, 0, 0, 0), log_type="nsg")]
    f = diagnose(frame(rows), WEB, APP, port=514, protocol="udp")
    assert f.verdict == "ok"


def test_not_observed_says_which_macs_were_logged():
    f = diagnose(frame(_healthy_at_db()), WEB, "10.10.9.9", port=443)
    assert f.verdict == "not-observed"
    assert f.facts["logged_macs"] == [DB_MAC]
    assert DB_MAC in f.summary and "not the address of any logged NIC" in f.summary
    assert list(f.evidence) == ["logged_nics"]


def test_window_limits_what_is_looked_at():
    rows = _sent_no_reply(minute=0) + [tuple_row(200, src=WEB, dst=DB, dport=1433, state="E",
                                                 counters=(1, 60, 1, 60))]
    assert diagnose(frame(rows), WEB, DB, end="2024-05-01T11:00Z").verdict == "no-reply"
    assert diagnose(frame(rows), WEB, DB, start="2024-05-01T11:00Z").verdict == "ok"
    assert diagnose(frame(rows), WEB, DB, port=1433, protocol="udp").verdict == "not-observed"


def test_evidence_tables_and_json():
    import json

    f = diagnose(frame(_sent_no_reply() + _healthy_at_db(30)), WEB, DB)
    assert set(f.evidence) == {"observations", "tuples", "sessions", "logged_nics"}
    assert len(f.evidence["tuples"]) == f.facts["evidence_rows"] == 2
    json.dumps(f.to_dict())
    assert "lost-in-transit" in f._repr_html_()


def test_every_verdict_has_a_severity():
    assert set(VERDICTS) == {"denied", "encryption-dropped", "lost-in-transit", "no-reply", "ok", "not-observed"}


def test_logged_nics_table():
    t = logged_nics(frame(_sent_no_reply() + _healthy_at_db(70)))
    assert t["mac"].tolist() == [WEB_MAC, DB_MAC] or t["mac"].tolist() == sorted([WEB_MAC, DB_MAC])
    row = t[t["mac"] == DB_MAC].iloc[0]
    assert (row["addresses"], row["hours"], int(row["tuples"])) == (DB, "11:00", 1)


@pytest.mark.parametrize("rows", [[], _healthy_at_db()])
def test_empty_or_unrelated(rows):
    from flowkit.schema import empty_frame

    flows = frame(rows) if rows else empty_frame()
    assert diagnose(flows, WEB, DB).verdict == "not-observed"


def _healthy_at_db_nsg_v1(minute: float = 0) -> list[dict]:
    return [tuple_row(minute, src=APP, dst=DB, sport=40000, dport=1433, direction="inbound", state=None,
                      mac=DB_MAC, log_type="nsg", version=1)]


def test_lost_in_transit_needs_no_counters_nsg_v1():
    rows = [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=1433, state=None, log_type="nsg", version=1)
            for m in range(3)]
    f = diagnose(frame(rows + _healthy_at_db_nsg_v1(30)), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"], f.facts["destination_macs"]) == ("lost-in-transit", "in-transit", [DB_MAC])
    assert f.facts["replies_confirmed"] is False and "packets_sent" not in f.facts
    assert "(no packet counts: NSG v1 logs carry no counters)" in f.summary


def test_lost_in_transit_with_only_begin_tuples_at_the_source():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B")]
    f = diagnose(frame(rows + _healthy_at_db(30)), WEB, DB, port=1433)
    assert f.verdict == "lost-in-transit"
    assert "only flow-begin (B) tuples" in f.summary and "NSG" not in f.summary


def test_unconfirmed_when_the_destination_saw_it_without_counters():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B"),
            tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", direction="inbound", mac=DB_MAC)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["replies_confirmed"]) == ("ok", False)
    assert "reached the destination NIC" in f.summary


def test_packets_are_counted_once_per_flow_not_once_per_observer():
    both_ends = [tuple_row(1, src=WEB, dst=DB, dport=1433, state="E", counters=(5, 500, 4, 400)),
                 tuple_row(1, src=WEB, dst=DB, dport=1433, state="E", counters=(5, 500, 4, 400),
                           direction="inbound", mac=DB_MAC),
                 tuple_row(2, src=WEB, dst=DB, sport=50001, dport=1433, state="E", counters=(2, 200, 1, 100))]
    f = diagnose(frame(both_ends), WEB, DB, port=1433)
    assert (f.verdict, f.facts["packets_sent"], f.facts["packets_received"]) == ("ok", 7, 5)
    assert "7 packet(s) sent, 5 received" in f.summary


def test_packets_of_two_nsgs_at_one_nic_are_counted_once():
    subnet, nic = NSG_DATA, NSG_DATA.replace("nsg-data", "nsg-nic")
    rows = [tuple_row(1, src=WEB, dst=DB, dport=1433, state="E", counters=(6, 600, 0, 0), log_type="nsg",
                      resource_id=r) for r in (subnet, nic)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["packets_sent"]) == ("no-reply", 6)


def test_drop_time_range_is_that_of_the_drops():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="E", encryption="NX_HW_NOT_SUPPORTED",
                      counters=(3, 300, 3, 300)),
            *[tuple_row(60 + m, src=WEB, dst=DB, sport=51000 + m, dport=1433, decision="deny", state="D",
                        encryption="NX_NOT_ACCEPTED", rule="unspecified", acl_id="unspecified") for m in (0, 5)]]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert f.verdict == "encryption-dropped" and f.facts["attempts"] == 2
    assert "2 attempt(s) between 2024-05-01 11:00:00Z and 2024-05-01 11:05:00Z" in f.summary


ACL_GUID = "7c6f2b4e-1d2a-4c1b-9a57-0f3e8d6b2a10"


def test_vnet_denial_by_acl_guid_names_no_nsg_and_counts_each_attempt():
    # A VNet flow log row: aclID is a GUID and resource_id the flow log, not an NSG.
    rows = [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=1433, direction="inbound", decision="deny",
                      state="D", rule="UserRule_DenyWebToSql", acl_id=ACL_GUID, mac=DB_MAC) for m in (0, 1, 2)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"], f.facts["rule"], f.facts["acl_id"], f.facts["nsg"]) == (
        "denied", "destination-inbound", "UserRule_DenyWebToSql", ACL_GUID, None)
    assert f.facts["attempts"] == 3
    assert f"by rule UserRule_DenyWebToSql (aclID {ACL_GUID}): 3 denied attempt(s)" in f.summary
    assert "of NSG" not in f.summary
    # Nothing was logged at the source NIC: the summary must not claim it let the traffic out.
    assert "let it out" not in f.summary and "other tuple(s)" not in f.summary


def test_denial_seen_at_both_ends_counts_one_attempt_per_source_port_and_time():
    rows = [tuple_row(m, src=WEB, dst=DB, sport=50000 + m, dport=1433, direction=d, decision="deny", state="D",
                      rule="UserRule_Deny", mac=mac) for m in (0, 1, 2, 3)
            for d, mac in (("outbound", WEB_MAC), ("inbound", DB_MAC))]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["where"], f.facts["attempts"]) == ("denied", "source-outbound", 4)


def test_denial_without_a_rule_name_reports_none():
    rows = [tuple_row(0, src=WEB, dst=INTERNET, dport=445, direction="outbound", decision="deny", state="B",
                      rule=None, log_type="nsg", resource_id=NSG_DATA)]
    f = diagnose(frame(rows), WEB, INTERNET, port=445)
    assert (f.verdict, f.facts["rule"], f.facts["acl_id"], f.facts["nsg"]) == ("denied", None, NSG_DATA, "nsg-data")


@pytest.mark.parametrize("rows, verdict", [
    pytest.param(_sent_no_reply() + _healthy_at_db(30), "lost-in-transit", id="lost"),
    pytest.param(_sent_no_reply() + _sent_no_reply(mac=DB_MAC, direction="inbound"), "no-reply", id="at-destination"),
    pytest.param(_sent_no_reply(), "no-reply", id="at-source"),
])
def test_no_reply_and_lost_facts_say_nothing_was_received(rows, verdict):
    f = diagnose(frame(rows), WEB, DB)
    assert (f.verdict, f.facts["packets_sent"], f.facts["packets_received"]) == (verdict, 4, 0)


def test_no_reply_explains_why_the_destination_cannot_tell():
    unknown = diagnose(frame(_sent_no_reply()), WEB, DB, port=1433)
    assert "The destination is not the address of any NIC in these logs" in unknown.summary
    other_hour = diagnose(frame(_sent_no_reply(minute=0) + _healthy_at_db(90)), WEB, DB, port=1433)
    assert "The destination was not logged while the source sent" in other_hour.summary


def test_source_only_nsg_v1_to_an_unlogged_destination_is_unconfirmed():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state=None, log_type="nsg", version=1)]
    f = diagnose(frame(rows), WEB, DB, port=1433)
    assert (f.verdict, f.facts["replies_confirmed"]) == ("ok", False)
    assert "left the source NIC" in f.summary and "NSG v1 logs carry no counters" in f.summary


def test_nsg_v2_begin_tuples_are_not_blamed_on_nsg_v1():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, state="B", log_type="nsg")]
    f = diagnose(frame(rows + _healthy_at_db(30)), WEB, DB, port=1433)
    assert f.verdict == "lost-in-transit"
    assert "(no packet counts: the logs hold only flow-begin (B) tuples" in f.summary
    assert "NSG v1" not in f.summary


def test_destination_nic_known_from_inventory_and_logged_that_hour_is_lost_in_transit():
    from flowkit.inventory import inventory_from_records

    # db-01's NIC is logged in that hour, but only for its second address: the inventory
    # ties 10.10.3.4 to that NIC.
    inv = inventory_from_records([{"mac": DB_MAC, "ip": DB, "vm": "db-01"}])
    other = [tuple_row(30, src=APP, dst="10.10.3.5", sport=40000, dport=1433, direction="inbound", state="E",
                       counters=(3, 300, 3, 900), mac=DB_MAC)]
    f = diagnose(frame(_sent_no_reply() + other), WEB, DB, port=1433, inventory=inv)
    assert (f.verdict, f.facts["destination_macs"]) == ("lost-in-transit", [DB_MAC])
    assert f"{DB_MAC} (db-01)" in f.summary
    assert diagnose(frame(_sent_no_reply() + other), WEB, DB, port=1433).verdict == "no-reply"


def test_an_inventory_without_the_destination_is_not_an_error():
    from flowkit.inventory import inventory_from_records

    inv = inventory_from_records([{"mac": WEB_MAC, "ip": WEB, "vm": "web-01"}])
    f = diagnose(frame(_sent_no_reply()), WEB, DB, port=1433, inventory=inv)
    assert (f.verdict, f.facts["where"]) == ("no-reply", "source")
    assert "web-01" in f.summary
    missing = diagnose(frame(_sent_no_reply()), WEB, "10.10.9.9", inventory=inv)
    assert missing.verdict == "not-observed"


def test_logged_nics_lists_every_address_log_type_and_hour():
    rows = [tuple_row(0, src=WEB, dst=APP, state="B", log_type="nsg"),
            tuple_row(0, src=WEB, dst=APP, state="B", direction="inbound", mac=APP_MAC),
            tuple_row(75, src=WEB, dst=APP, state="B", direction="inbound", mac=APP_MAC, log_type="nsg")]
    t = logged_nics(frame(rows)).set_index("mac")
    assert t.loc[WEB_MAC, ["addresses", "log_types", "hours"]].tolist() == [WEB, "nsg", "10:00"]
    assert t.loc[APP_MAC, ["addresses", "log_types", "hours"]].tolist() == [APP, "nsg,vnet", "10:00,11:00"]
    assert (int(t.loc[WEB_MAC, "tuples"]), int(t.loc[APP_MAC, "tuples"])) == (1, 2)


def test_one_denial_in_nsg_seconds_and_vnet_milliseconds_is_one_attempt():
    # The NIC's NSG flow log (whole seconds) and the VNet flow log (milliseconds) both log
    # one denial during a migration; a retry one second later is a second attempt.
    vnet = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", acl_id=ACL_GUID, mac=DB_MAC)
    vnet["flow_time"] += pd.Timedelta(milliseconds=606)
    nsg = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="B",
                    rule="UserRule_DenyWebToSql", mac=DB_MAC, log_type="nsg", resource_id=NSG_DATA)
    f = diagnose(frame([vnet, nsg]), WEB, DB, port=1433)
    assert (f.verdict, f.facts["attempts"]) == ("denied", 1)
    retry = {**vnet, "flow_time": vnet["flow_time"] + pd.Timedelta(seconds=1)}
    assert diagnose(frame([vnet, nsg, retry]), WEB, DB, port=1433).facts["attempts"] == 2


def test_a_denial_logged_by_two_logs_names_the_same_rule_whatever_the_row_order():
    # The NSG flow log and the VNet flow log name the denying rule each their own way, once
    # each: a tie, broken by the alphabetically smallest (rule, ACL), as denied_summary does.
    vnet = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                     rule="UserRule_DenyWebToSql", acl_id=ACL_GUID, mac=DB_MAC)
    nsg = tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="B",
                    rule="UserRule_DenySql", mac=DB_MAC, log_type="nsg", resource_id=NSG_DATA)
    for rows in ([vnet, nsg], [nsg, vnet]):
        f = diagnose(frame(rows), WEB, DB, port=1433)
        assert (f.verdict, f.facts["rule"], f.facts["acl_id"]) == ("denied", "UserRule_DenySql", NSG_DATA)
    # a rule seen more often wins over a smaller name
    again = {**vnet, "flow_time": vnet["flow_time"] + pd.Timedelta(seconds=5)}
    f = diagnose(frame([nsg, vnet, again]), WEB, DB, port=1433)
    assert (f.facts["rule"], f.facts["acl_id"]) == ("UserRule_DenyWebToSql", ACL_GUID)
