"""denied_summary(): grouping, attempts counted once, storms."""

from __future__ import annotations

import pandas as pd

from flowkit.analysis.denied import DENIED_COLUMNS, denied_summary
from flowkit.schema import empty_frame
from flowkit_frames import DB, DB_MAC, SCANNER, WEB, WEB_MAC, frame, tuple_row


def _scan(n, every_s, port=22, src=SCANNER, **kw):
    return [tuple_row(i * every_s / 60, src=src, dst=WEB, sport=40000 + i, dport=port, direction="inbound",
                      decision="deny", state="D", rule="DefaultRule_DenyAllInBound", **kw) for i in range(n)]


def test_groups_and_storm_threshold():
    rows = _scan(20, 30) + _scan(19, 30, port=3389) + _scan(20, 40, src="192.0.2.7")
    t = denied_summary(frame(rows)).evidence["denied"]
    got = {(r.src_ip, r.dst_port): (r.attempts, r.max_in_window, r.retry_storm) for r in t.itertuples()}
    # 20 attempts every 30 s span 9.5 min (a storm); every 40 s they span 12.7 min: 15 in 10 min.
    assert got == {(SCANNER, 22): (20, 20, True), (SCANNER, 3389): (19, 19, False),
                   ("192.0.2.7", 22): (20, 15, False)}
    assert list(t.columns) == list(DENIED_COLUMNS)


def test_same_denial_seen_twice_counts_once():
    one = _scan(1, 60, mac=WEB_MAC)[0]
    nsg = {**one, "log_type": "nsg", "encryption": None, "acl_id": None, "version": 2,
           "resource_id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n"}
    f = denied_summary(frame([one, nsg]))
    row = f.evidence["denied"].iloc[0]
    assert (int(row["tuples"]), int(row["attempts"]), row["log_types"]) == (2, 1, "nsg,vnet")
    assert f.facts["attempts"] == 1 and f.facts["denied_tuples"] == 2


def test_a_denial_in_nsg_seconds_and_vnet_milliseconds_counts_once():
    """NSG flow logs time tuples in whole seconds, VNet flow logs in milliseconds."""
    one = _scan(1, 60, mac=WEB_MAC)[0]
    vnet = {**one, "flow_time": pd.Timestamp(one["flow_time"]) + pd.Timedelta(milliseconds=606)}
    nsg = {**one, "log_type": "nsg", "encryption": None, "acl_id": None, "version": 2,
           "resource_id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n"}
    later = {**vnet, "flow_time": pd.Timestamp(one["flow_time"]) + pd.Timedelta(seconds=1)}  # a retry
    f = denied_summary(frame([vnet, nsg, later]))
    row = f.evidence["denied"].iloc[0]
    assert (int(row["tuples"]), int(row["attempts"]), int(row["max_in_window"])) == (3, 2, 2)
    assert row["first_seen"] == pd.Timestamp(one["flow_time"])
    assert row["last_seen"] == pd.Timestamp(one["flow_time"]) + pd.Timedelta(seconds=1)


def test_where_and_acl():
    rows = [tuple_row(0, src=WEB, dst=DB, dport=1433, direction="inbound", decision="deny", state="D",
                      rule="UserRule_DenyWebToSql", acl_id="/x/networkSecurityGroups/nsg-data", mac=DB_MAC)]
    row = denied_summary(frame(rows)).evidence["denied"].iloc[0]
    assert (row["where"], row["acl_id"], row["protocol"]) == ("destination-inbound", "/x/networkSecurityGroups/nsg-data", "tcp")
    assert row["first_seen"] == pd.Timestamp("2024-05-01T10:00Z")


def test_no_denied_traffic():
    f = denied_summary(empty_frame())
    assert (f.verdict, f.facts["groups"]) == ("none", 0)
    f = denied_summary(frame([tuple_row(0)]))
    assert f.verdict == "none"


def test_no_denied_evidence_has_the_dtypes_of_a_denied_one():
    empty = denied_summary(empty_frame()).evidence["denied"]
    full = denied_summary(frame(_scan(3, 60))).evidence["denied"]
    assert len(empty) == 0 and len(full) == 1
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_storm_without_a_rule_name_reports_none_not_nan():
    rows = [{**row, "rule": None} for row in _scan(25, 10)]
    f = denied_summary(frame(rows))
    assert f.verdict == "retry-storm" and f.facts["storms"][0]["rule"] is None
    assert f.evidence["denied"]["rule"].isna().all()


def test_finding_verdicts():
    assert denied_summary(frame(_scan(3, 60))).verdict == "denied"
    f = denied_summary(frame(_scan(25, 10)))
    assert (f.verdict, f.severity) == ("retry-storm", "medium")
    assert f.facts["storms"] == [{"src_ip": SCANNER, "dst_ip": WEB, "dst_port": 22, "protocol": "tcp",
                                  "rule": "DefaultRule_DenyAllInBound", "attempts": 25, "max_in_window": 25}]


NSG_ID = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-test"


def _ties():
    # port 22: two aclIDs twice each, the larger name seen first; port 3389: a VNet aclID and
    # an NSG resource ID once each; port 53: four groups of one attempt (two protocols, two rules).
    acl = [tuple_row(i, src=SCANNER, dst=WEB, sport=40000 + i, dport=22, direction="inbound", decision="deny",
                     state="D", rule="DefaultRule_DenyAllInBound", acl_id=name)
           for i, name in enumerate(["acl-zulu", "acl-zulu", "acl-alpha", "acl-alpha"])]
    mixed = [tuple_row(0, src=SCANNER, dst=WEB, dport=3389, direction="inbound", decision="deny", state="D",
                       rule="DefaultRule_DenyAllInBound", acl_id="acl-zulu", log_type=log_type)
             for log_type in ("vnet", "nsg")]
    dns = [tuple_row(0, src=SCANNER, dst=WEB, dport=53, proto=proto, direction="inbound", decision="deny",
                     state="D", rule=rule)
           for proto in (17, 6) for rule in ("UserRule_DenyDns", "DefaultRule_DenyAllInBound")]
    return acl + mixed + dns


def test_acl_ties_and_sort_ties_do_not_depend_on_row_order():
    rows = _ties()
    want = denied_summary(frame(rows)).evidence["denied"]
    acl = dict(zip(want["dst_port"], want["acl_id"]))
    assert (acl[22], acl[3389]) == ("acl-alpha", NSG_ID)  # equally frequent: the smallest name
    assert want.loc[want["dst_port"] == 53, ["protocol", "rule"]].values.tolist() == [
        ["tcp", "DefaultRule_DenyAllInBound"], ["tcp", "UserRule_DenyDns"],
        ["udp", "DefaultRule_DenyAllInBound"], ["udp", "UserRule_DenyDns"]]
    for seed in range(5):
        order = pd.Series(range(len(rows))).sample(frac=1, random_state=seed).tolist()
        shuffled = frame([rows[i] for i in order])  # other row order, other category order
        pd.testing.assert_frame_equal(denied_summary(shuffled).evidence["denied"], want, check_exact=True)
        pd.testing.assert_frame_equal(denied_summary(frame(rows).iloc[order]).evidence["denied"], want,
                                      check_exact=True)


def test_most_frequent_acl_wins_over_a_smaller_name():
    rows = [tuple_row(i, src=SCANNER, dst=WEB, sport=40000 + i, dport=22, direction="inbound", decision="deny",
                      state="D", rule="DefaultRule_DenyAllInBound", acl_id=name)
            for i, name in enumerate(["acl-alpha", "acl-zulu", "acl-zulu"])]
    assert denied_summary(frame(rows)).evidence["denied"].loc[0, "acl_id"] == "acl-zulu"


def test_nsg_denials_are_counted_without_a_d_state():
    # NSG flow logs deny in the decision field: v2 tuples with state B, v1 tuples with no state.
    v2 = [tuple_row(i, src=SCANNER, dst=WEB, sport=40000 + i, dport=3389, direction="inbound", decision="deny",
                    state="B", rule="DefaultRule_DenyAllInBound", log_type="nsg", resource_id=NSG_ID)
          for i in range(3)]
    v1 = [tuple_row(i, src=SCANNER, dst=WEB, sport=41000 + i, dport=445, direction="inbound", decision="deny",
                    state=None, rule="DefaultRule_DenyAllInBound", log_type="nsg", version=1, resource_id=NSG_ID)
          for i in range(2)]
    allowed = [tuple_row(0, src=SCANNER, dst=WEB, sport=42000, dport=443, direction="inbound", state="B",
                         log_type="nsg", resource_id=NSG_ID)]
    f = denied_summary(frame(v2 + v1 + allowed))
    t = f.evidence["denied"]
    assert t[["dst_port", "attempts", "acl_id", "log_types"]].values.tolist() == [
        [3389, 3, NSG_ID, "nsg"], [445, 2, NSG_ID, "nsg"]]
    assert (f.facts["attempts"], f.facts["denied_tuples"]) == (5, 5)


def test_groups_are_ordered_by_attempts_then_source_destination_port():
    s1, s2 = "192.0.2.66", "192.0.2.77"

    def attempts(n, src, dst, port):
        return [tuple_row(i, src=src, dst=dst, sport=40000 + i, dport=port, direction="inbound", decision="deny",
                          state="D", rule="DefaultRule_DenyAllInBound") for i in range(n)]

    rows = (attempts(2, s2, WEB, 22) + attempts(2, s1, DB, 22) + attempts(2, s1, WEB, 3389)
            + attempts(2, s1, WEB, 22) + attempts(5, s2, DB, 22))
    t = denied_summary(frame(rows)).evidence["denied"]
    assert t[["src_ip", "dst_ip", "dst_port", "attempts"]].values.tolist() == [
        [s2, DB, 22, 5], [s1, WEB, 22, 2], [s1, WEB, 3389, 2], [s1, DB, 22, 2], [s2, WEB, 22, 2]]


def test_an_hour_long_storm_window():
    def two(gap_s):
        return [tuple_row(m, src=SCANNER, dst=WEB, sport=40000 + i, dport=22, direction="inbound", decision="deny",
                          state="D") for i, m in enumerate((0, gap_s / 60))]

    within = denied_summary(frame(two(3599)), storm_threshold=2, storm_window="1h")
    assert (within.verdict, within.facts["storms"][0]["max_in_window"]) == ("retry-storm", 2)
    assert "(2 attempts within 60 min)" in within.summary
    apart = denied_summary(frame(two(3600)), storm_threshold=2, storm_window="1h")
    assert (apart.verdict, int(apart.evidence["denied"].loc[0, "max_in_window"])) == ("denied", 1)


def test_source_ports_are_counted_per_group_up_to_the_highest_port():
    rows = [tuple_row(i, src=src, dst=WEB, sport=port, dport=22, direction="inbound", decision="deny", state="D")
            for src in (SCANNER, "192.0.2.77") for i, port in enumerate((65535, 65534, 65535))]
    t = denied_summary(frame(rows)).evidence["denied"]
    assert t[["src_ip", "tuples", "attempts", "src_ports"]].values.tolist() == [
        [SCANNER, 3, 3, 2], ["192.0.2.77", 3, 3, 2]]


def test_a_port_scan_from_one_source_port_has_one_source_port_per_group():
    # A SYN scan of 1500 ports from one fixed source port: 1500 groups, one port each.
    rows = [tuple_row(0, src=SCANNER, dst=WEB, sport=1024, dport=port, direction="inbound", decision="deny",
                      state="D") for port in range(1, 1501)]
    f = denied_summary(frame(rows))
    t = f.evidence["denied"]
    assert (len(t), f.facts["attempts"]) == (1500, 1500)
    assert set(t["src_ports"]) == {1} and set(t["attempts"]) == {1}
