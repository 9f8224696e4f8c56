"""compare_nsg_vnet(): classes and every known cause on hand-written frames."""

from __future__ import annotations

import pandas as pd

from flowkit.analysis.compare import CAUSES, compare_nsg_vnet, is_avnm_rule
from flowkit.schema import empty_frame
from flowkit_frames import APP, APP_MAC, DB, DB_MAC, INTERNET, WEB, WEB_MAC, frame, tuple_row

NSG = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
AVNM = "DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"


def _both(minute, sport, *, nsgs=("nsg-snet-web",), vnet_kw=None, nsg_kw=None, counters=(5, 500, 5, 500),
          mac=WEB_MAC, **kw):
    """One flow, B then E, seen by the VNet log and by each named NSG at ``mac``."""
    rows = []
    for state, c in (("B", None), ("E", counters)):
        base = dict(sport=sport, state=state, mac=mac, **kw)
        rows.append(tuple_row(minute + (state == "E"),
                              **{**base, "counters": c if c else (0, 0, 0, 0), **(vnet_kw or {})}))
        for nsg in nsgs:
            rows.append(tuple_row(minute + (state == "E"), **{**base, "log_type": "nsg", "counters": c,
                                                              "resource_id": NSG + nsg, **(nsg_kw or {})}))
    return rows


def _split(rows):
    f = frame(rows)
    return f[f["log_type"] == "nsg"], f[f["log_type"] == "vnet"]


def test_matched_and_subnet_and_nic_nsg():
    rows = _both(0, 1) + _both(10, 2, nsgs=("nsg-snet-app", "nsg-nic-app-01"), mac=APP_MAC, src=WEB, dst=APP,
                              direction="inbound") + _both(70, 3)
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["matched"], f.facts["nsg_only"], f.facts["vnet_only"]) == (3, 0, 0)
    assert f.facts["explained"] == {"subnet-and-nic-nsg": 1}
    assert f.facts["coverage"] == 1.0
    assert (f.verdict, f.severity) == ("ready", "info")
    assert f.facts["window"] == {"start": pd.Timestamp("2024-05-01T10:00Z"), "end": pd.Timestamp("2024-05-01T12:00Z")}


def test_nsg_v2_counts_tcp_only():
    rows = _both(0, 1, proto=17, dport=514, nsg_kw={}, counters=(5, 500, 0, 0))
    for r in rows:
        if r["log_type"] == "nsg" and r["state"] == "E":
            r.update(packets_sent=0, bytes_sent=0, packets_received=0, bytes_received=0)
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["matched"], f.facts["counter_mismatch"], f.facts["explained"]) == (
        1, 1, {"nsg-v2-counts-tcp-only": 1})


def _long_flow(sport, minutes, *, nsg_minutes=None):
    """One TCP flow with a C tuple (5 packets) every 5 minutes, at both logs (NSG ones at ``nsg_minutes``)."""
    rows = []
    for minute in minutes:
        base = dict(sport=sport, state="C", counters=(5, 500, 5, 500))
        rows.append(tuple_row(minute, **base))
        if nsg_minutes is None or minute in nsg_minutes:
            rows.append(tuple_row(minute, **{**base, "log_type": "nsg", "resource_id": NSG + "nsg-snet-web"}))
    return rows


def test_a_flow_cut_by_the_window_differs_in_counters_for_a_known_reason():
    """The NSG log writes its C tuple a second after the VNet log's: a window ending between
    them counts one more C tuple at the VNet side."""
    rows = _long_flow(1, range(0, 60, 5))
    for r in rows:
        if r["log_type"] == "nsg":
            r["flow_time"] = pd.Timestamp(r["flow_time"]) + pd.Timedelta(seconds=1)
    other = _both(0, 2)  # a short flow well inside the window: matched, counters equal
    f = compare_nsg_vnet(*_split(rows + other), start="2024-05-01T10:00Z", end="2024-05-01T10:30:00.500Z",
                         figures=False)
    assert (f.facts["matched"], f.facts["counter_mismatch"]) == (2, 1)
    assert f.facts["explained"] == {"window-edge": 1}
    assert f.verdict == "ready"


def test_a_flow_running_into_an_hour_one_log_did_not_write_differs_for_a_known_reason():
    # The flow runs 10:00-11:55 at the VNet log; the NSG log of that NIC wrote hour 10 and not
    # hour 11 (it logged another NIC then), so the NSG counters stop at 11:00, inside the window.
    rows = _long_flow(1, range(0, 120, 5), nsg_minutes=set(range(0, 60, 5)))
    rows += _both(61, 2, mac=APP_MAC, src=WEB, dst=APP)  # hour 11 is common through another NIC
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["matched"], f.facts["counter_mismatch"]) == (2, 1)
    assert f.facts["explained"] == {"hour-not-logged": 1}


def test_tcp_counter_mismatch_is_unexplained():
    rows = _both(0, 1)
    rows[-1]["packets_sent"] = 99
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["counter_mismatch"], f.facts["explained"]) == (1, {"unexplained": 1})


def test_encryption_drop_is_a_decision_mismatch():
    rows = _both(0, 1, dst=DB, dport=1433, vnet_kw={"decision": "deny", "state": "D", "encryption": "NX_NOT_ACCEPTED",
                                                     "rule": "unspecified", "acl_id": "unspecified"})
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["matched"], f.facts["decision_mismatch"], f.facts["explained"]) == (1, 1, {"encryption-drop": 1})
    assert f.severity == "low"


def test_avnm_rule_vnet_only_and_as_mismatch():
    avnm = [tuple_row(0, sport=7, dst=INTERNET, dport=445, decision="deny", state="D", rule=AVNM, acl_id="guid")]
    rows = _both(0, 1) + avnm
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["vnet_only"], f.facts["explained"]) == (1, {"avnm-rule": 1})
    mismatch = _both(0, 2, vnet_kw={"decision": "deny", "state": "D", "rule": AVNM})
    f = compare_nsg_vnet(*_split(mismatch), figures=False)
    assert (f.facts["decision_mismatch"], f.facts["explained"]) == (1, {"avnm-rule": 1})


def test_mac_not_logged_both_ways():
    vnet_only = [tuple_row(0, sport=9, src=DB, dst="10.10.3.5", dport=6379, mac=DB_MAC)]
    nsg_only = [tuple_row(0, sport=8, src=APP, dst=DB, dport=1433, mac=APP_MAC, log_type="nsg")]
    f = compare_nsg_vnet(*_split(_both(0, 1) + vnet_only + nsg_only), figures=False)
    assert (f.facts["nsg_only"], f.facts["vnet_only"]) == (1, 1)
    assert f.facts["explained"] == {"mac-not-logged": 2}
    assert f.facts["coverage"] == 0.5
    assert f.facts["nsg_only_macs"] == [APP_MAC] and f.facts["vnet_only_macs"] == [DB_MAC]
    # A NIC the new logs miss explains the gap, and is the gap: VNet logs cannot replace NSG logs yet.
    assert (f.verdict, f.severity) == ("not-ready", "high")
    assert (f"Not ready to migrate: 1 NSG-logged key(s) are at NICs the VNet flow logs do not cover "
            f"({APP_MAC}): enable VNet flow logs on them.") in f.summary
    # The other way round (a NIC only the VNet logs cover) is no obstacle.
    g = compare_nsg_vnet(*_split(_both(0, 1) + vnet_only), figures=False)
    assert (g.facts["explained"], g.verdict, g.severity) == ({"mac-not-logged": 1}, "ready", "info")


def test_hour_not_logged_for_one_nic():
    web_both_hours = _both(0, 1) + _both(70, 2)
    gap = [r for r in _both(75, 3, mac=APP_MAC, src=WEB, dst=APP, direction="inbound") if r["log_type"] == "nsg"]
    app_vnet_10 = [tuple_row(5, sport=4, mac=APP_MAC, src=APP, dst=DB, dport=1433)]
    app_nsg_10 = [tuple_row(5, sport=4, mac=APP_MAC, src=APP, dst=DB, dport=1433, log_type="nsg")]
    f = compare_nsg_vnet(*_split(web_both_hours + gap + app_vnet_10 + app_nsg_10), figures=False)
    assert (f.facts["nsg_only"], f.facts["explained"]) == (1, {"hour-not-logged": 1})
    assert f.verdict == "not-ready"
    assert "1 NSG-logged key(s) are in hours the VNet flow logs did not write for their NIC." in f.summary


def test_unexplained_decision_mismatch_is_not_ready():
    rows = _both(0, 1) + _both(5, 2, vnet_kw={"decision": "deny", "state": "D", "rule": "UserRule_DenySql"})
    f = compare_nsg_vnet(*_split(rows), figures=False)
    assert (f.facts["matched"], f.facts["decision_mismatch"], f.facts["explained"]) == (2, 1, {"unexplained": 1})
    assert (f.verdict, f.severity) == ("not-ready", "high")
    assert ("Not ready to migrate: 1 matched key(s) were allowed by one log and denied by the other with no "
            "known cause.") in f.summary


def test_clock_skew_and_outside_window():
    rows = _both(0, 1) + _both(60, 2)
    skewed_nsg = tuple_row(119.97, sport=5, log_type="nsg")            # 11:59:58
    skewed_vnet = tuple_row(120.05, sport=5)                           # 12:00:03, in the 12:00 hour
    later = tuple_row(125, sport=6)                                     # only VNet logged 12:00
    f = compare_nsg_vnet(*_split(rows + [skewed_nsg, skewed_vnet, later]), figures=False)
    assert (f.facts["nsg_only"], f.facts["outside_window"]) == (1, 1)
    assert f.facts["explained"] == {"clock-skew": 1, "hour-not-logged": 1}
    keys = f.evidence["keys"].set_index("src_port")
    assert (keys.loc[5, "class"], keys.loc[6, "class"]) == ("nsg-only", "outside-window")
    tight = compare_nsg_vnet(*_split(rows + [skewed_nsg, skewed_vnet]), max_skew="1s", figures=False)
    assert tight.facts["explained"] == {"unexplained": 1}
    assert tight.verdict == "not-ready" and tight.severity == "high"


def test_explicit_window():
    rows = _both(0, 1) + _both(70, 2)
    f = compare_nsg_vnet(*_split(rows), start="2024-05-01T11:00Z", end="2024-05-01T12:00Z", figures=False)
    assert (f.facts["matched"], f.facts["outside_window"]) == (1, 1)


def test_no_overlap():
    assert compare_nsg_vnet(empty_frame(), empty_frame()).verdict == "no-overlap"
    nsg, _ = _split(_both(0, 1))
    late = frame([tuple_row(300, sport=1)])
    assert compare_nsg_vnet(nsg, late).verdict == "no-overlap"


def test_every_cause_is_described():
    assert set(CAUSES) == {"avnm-rule", "encryption-drop", "subnet-and-nic-nsg", "nsg-v2-counts-tcp-only",
                           "nsg-inbound-tcp-not-counted", "mac-not-logged", "hour-not-logged", "clock-skew",
                           "outside-window", "window-edge", "unexplained"}
    assert is_avnm_rule(AVNM) and not is_avnm_rule("UserRule_DenyAll") and not is_avnm_rule(None)


def test_a_window_one_log_has_no_tuple_in_is_no_overlap():
    """start/end given, and only one log has tuples between them: nothing to compare, no verdict."""
    nsg, vnet = _split(_both(0, 1) + _both(70, 2))
    only_vnet = compare_nsg_vnet(vnet.iloc[:0], vnet, start="2024-05-01T10:00Z", end="2024-05-01T12:00Z",
                                 figures=False)
    assert only_vnet.verdict == "no-overlap" and only_vnet.facts["vnet_rows"] == 4
    assert only_vnet.summary.startswith("No NSG flow-log tuple among the NSG flows given (the VNet side holds 4)")
    late_vnet = compare_nsg_vnet(nsg, vnet[vnet["src_port"] == 2], start="2024-05-01T10:00Z",
                                 end="2024-05-01T11:00Z", figures=False)
    assert late_vnet.verdict == "no-overlap" and late_vnet.facts["nsg_rows"] == 4
    assert "no tuple from 2024-05-01 10:00Z to 2024-05-01 11:00Z" in late_vnet.summary


def test_key_table_has_every_column_in_fixed_dtypes():
    """Ports stay integers (no outside-window key to concatenate), and what one log did not see
    is missing (NA), not False or 0."""
    only_vnet = tuple_row(0.5, sport=7)
    f = compare_nsg_vnet(*_split(_both(0, 1) + [only_vnet]), figures=False)
    assert f.facts["outside_window"] == 0 and (f.facts["matched"], f.facts["vnet_only"]) == (1, 1)
    dtypes = f.evidence["keys"].dtypes.astype(str).to_dict()
    assert (dtypes["src_port"], dtypes["dst_port"], dtypes["protocol"]) == ("int64", "int64", "int64")
    assert (dtypes["nsg_deny"], dtypes["vnet_known"], dtypes["nsg_first"], dtypes["vnet_tuples"]) == (
        "boolean", "boolean", "datetime64[ms, UTC]", "Int64")
    keys = f.evidence["keys"].set_index("src_port")
    assert keys.loc[7, "nsg_deny"] is pd.NA and not keys.loc[7, "vnet_deny"]
    assert keys.loc[7, "nsg_tuples"] is pd.NA and keys.loc[7, "vnet_tuples"] == 1 and keys.loc[1, "nsg_tuples"] == 2


def test_key_table_order_inside_keys_by_key_then_outside_keys():
    rows = (_both(0, 9) + _both(0, 3) + _both(0, 12, src=DB) + [tuple_row(0.5, sport=4)]
            + [tuple_row(125, sport=1)] + [tuple_row(125, sport=2, src=APP)])  # the last two: 12:05, only VNet
    f = compare_nsg_vnet(*_split(rows), start="2024-05-01T10:00Z", end="2024-05-01T11:00Z", figures=False)
    keys = f.evidence["keys"]
    assert list(zip(keys["src_ip"], keys["src_port"], keys["class"])) == [
        (WEB, 3, "matched"), (WEB, 4, "vnet-only"), (WEB, 9, "matched"), (DB, 12, "matched"),
        (WEB, 1, "outside-window"), (APP, 2, "outside-window")]


def test_keys_both_logs_have_before_a_narrower_window_are_outside_window_not_hour_not_logged():
    rows = _both(0, 1) + _both(70, 2)     # one flow at 10:00, one at 11:10, both logs
    f = compare_nsg_vnet(*_split(rows), start="2024-05-01T11:00Z", end="2024-05-01T12:00Z", figures=False)
    assert (f.facts["matched"], f.facts["outside_window"]) == (1, 1)
    assert f.facts["explained"] == {"outside-window": 1}
    keys = f.evidence["keys"].set_index("src_port")
    assert keys.loc[1, "cause"] == "outside-window"
    assert keys.loc[1, "nsg_first"] == pd.Timestamp("2024-05-01T10:00Z")  # times, not epoch milliseconds
    assert str(keys["vnet_last"].dtype) == "datetime64[ms, UTC]"
