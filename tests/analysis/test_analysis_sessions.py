"""flow_sessions(): stitching, states reached, totals, retries."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.analysis.keys import SESSION_NOTE
from flowkit.analysis.sessions import SESSION_COLUMNS, flow_sessions, session_summary
from flowkit.schema import empty_frame
from flowkit_frames import APP_MAC, INTERNET, SCANNER, WEB, WEB_MAC, frame, tuple_row


def _flow(states_counters, **kw):
    return [tuple_row(m, state=s, counters=c, **kw) for m, s, c in states_counters]


def test_completed_totals_are_sums_of_c_and_e_deltas():
    rows = _flow([(0, "B", (0, 0, 0, 0)), (5, "C", (10, 1000, 8, 8000)), (7, "E", (2, 200, 1, 100))])
    s = flow_sessions(frame(rows))
    assert len(s) == 1
    row = s.iloc[0]
    assert (row["state_reached"], row["states"], int(row["tuples"])) == ("completed", "BCE", 3)
    assert [int(row[c]) for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")] == \
        [12, 1200, 9, 8100]
    assert row["duration"] == pd.Timedelta(minutes=7)
    assert row["first_seen"] == pd.Timestamp("2024-05-01T10:00Z")
    assert list(s.columns) == list(SESSION_COLUMNS)


def test_nsg_b_with_missing_counters_is_not_zero():
    rows = _flow([(0, "B", None), (1, "E", (3, 30, 3, 30))], log_type="nsg")
    s = flow_sessions(frame(rows))
    assert (int(s.loc[0, "packets_sent"]), s.loc[0, "state_reached"]) == (3, "completed")


def test_ongoing_no_reply_denied_unknown():
    rows = (_flow([(0, "B", None), (1, "C", (2, 20, 1, 10))], sport=1)
            + _flow([(0, "B", None), (1, "C", (4, 240, 0, 0))], sport=2)
            + [tuple_row(0, src=SCANNER, dst=WEB, sport=3, dport=22, direction="inbound", decision="deny", state="D")]
            + [tuple_row(0, sport=4, state=None, log_type="nsg", version=1)])
    s = flow_sessions(frame(rows)).sort_values("src_port")
    assert s["state_reached"].astype(str).tolist() == ["ongoing", "no-reply", "denied", "unknown"]
    # D and NSG v1 tuples carry no counters that count: totals are missing, not 0.
    assert s["packets_sent"].isna().tolist() == [False, False, True, True]


def test_each_observer_is_its_own_session():
    rows = (_flow([(0, "B", None), (1, "E", (1, 1, 1, 1))])
            + _flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], direction="inbound", mac=APP_MAC))
    s = flow_sessions(frame(rows))
    assert sorted(s["mac"].astype(str)) == sorted([WEB_MAC, APP_MAC])


def test_port_reuse_after_e_and_idle_gap_start_new_sessions():
    rows = _flow([(0, "B", None), (1, "E", (1, 1, 1, 1)), (3, "B", None), (4, "E", (1, 1, 1, 1)),
                  (30, "B", None), (31, "C", (1, 1, 1, 1))])
    s = flow_sessions(frame(rows))
    assert s["tuples"].tolist() == [2, 2, 2]
    assert flow_sessions(frame(_flow([(0, "C", (1, 1, 1, 1)), (8, "C", (1, 1, 1, 1))])))["tuples"].tolist() == [2]
    assert flow_sessions(frame(_flow([(0, "C", (1, 1, 1, 1)), (8, "C", (1, 1, 1, 1))])),
                         idle_timeout="5min")["tuples"].tolist() == [1, 1]


def test_retries_chain_after_failures_within_window():
    rows = [tuple_row(m, src=SCANNER, dst=WEB, sport=40000 + i, dport=22, direction="inbound", decision="deny",
                      state="D") for i, m in enumerate([0, 1, 2, 10, 11])]
    s = flow_sessions(frame(rows))
    assert s["retry"].tolist() == [False, True, True, False, True]
    assert s["attempt"].tolist() == [1, 2, 3, 1, 2]


def test_a_new_connection_after_a_completed_one_is_not_a_retry():
    rows = (_flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], sport=1)
            + _flow([(1.5, "B", None), (2, "E", (1, 1, 1, 1))], sport=2))
    assert flow_sessions(frame(rows))["retry"].tolist() == [False, False]


def test_empty_and_note():
    s = flow_sessions(empty_frame())
    assert len(s) == 0 and list(s.columns) == list(SESSION_COLUMNS)
    assert s.attrs["note"] == SESSION_NOTE
    assert session_summary(empty_frame()).summary == "0 session(s) from 0 tuple(s): none; 0 retries."


def test_session_summary_counts_one_retry_in_the_singular():
    rows = [tuple_row(m, src=SCANNER, dst=WEB, sport=40000 + m, dport=22, direction="inbound", decision="deny",
                      state="D") for m in (0, 1)]
    assert session_summary(frame(rows)).summary == "2 session(s) from 2 tuple(s): 2 denied; 1 retry."


def test_session_summary_finding_explains_flow_logs():
    rows = _flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], dst=INTERNET, dport=443)
    f = session_summary(frame(rows))
    assert f.facts == {"sessions": 1, "tuples": 2, "by_state": {"completed": 1}, "retries": 0, "duplicates": 0}
    assert "per-minute statistics, not access logs" in f.notes[0]
    assert "not access logs" in f._repr_html_()


@pytest.mark.parametrize("window, retries", [("30s", 0), ("2min", 1)])
def test_retry_window(window, retries):
    rows = [tuple_row(m, sport=p, decision="deny", state="D") for m, p in ((0, 1), (1.5, 2))]
    assert int(flow_sessions(frame(rows), retry_window=window)["retry"].sum()) == retries


NSG_SNET_APP = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/"
                "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-SNET-APP")
NSG_NIC_APP = NSG_SNET_APP.replace("NSG-SNET-APP", "NSG-NIC-APP-01")


def _two_nsgs(states_counters, **kw):
    """The same tuples logged at app-01 inbound by its subnet's NSG and by its NIC's NSG."""
    kw = dict(direction="inbound", mac=APP_MAC, log_type="nsg", **kw)
    return [tuple_row(m, state=s, counters=c, resource_id=nsg, **kw)
            for m, s, c in states_counters for nsg in (NSG_SNET_APP, NSG_NIC_APP)]


def test_subnet_and_nic_nsg_each_stitch_their_own_session():
    rows = _two_nsgs([(0, "B", None), (5, "C", (7, 700, 6, 600)), (6, "E", (3, 300, 2, 200))])
    s = flow_sessions(frame(rows)).sort_values("resource_id")
    assert s["resource_id"].astype(str).tolist() == [NSG_NIC_APP, NSG_SNET_APP]
    assert s["states"].tolist() == ["BCE", "BCE"]
    assert s["tuples"].tolist() == [3, 3]
    assert s["state_reached"].astype(str).tolist() == ["completed", "completed"]
    assert [int(x) for x in s["packets_sent"]] == [10, 10]
    assert [int(x) for x in s["bytes_received"]] == [800, 800]
    assert s["duration"].tolist() == [pd.Timedelta(minutes=6)] * 2
    assert session_summary(frame(rows)).facts["sessions"] == 2


def test_retries_are_chained_per_nsg():
    rows = (_two_nsgs([(0, "B", None), (0.3, "E", (3, 180, 0, 0))], sport=1)
            + _two_nsgs([(1, "B", None), (1.3, "E", (3, 180, 0, 0))], sport=2))
    s = flow_sessions(frame(rows)).sort_values(["resource_id", "first_seen"])
    assert s["resource_id"].astype(str).tolist() == [NSG_NIC_APP, NSG_NIC_APP, NSG_SNET_APP, NSG_SNET_APP]
    assert s["state_reached"].astype(str).tolist() == ["no-reply"] * 4
    assert s["retry"].tolist() == [False, True, False, True]
    assert s["attempt"].tolist() == [1, 2, 1, 2]


def test_nsg_vs_vnet_sessions_per_nsg_match_ground_truth(nsg_vs_vnet):
    nsg, _, expected, _ = nsg_vs_vnet
    s = flow_sessions(nsg)
    flow = s[(s["src_ip"] == "10.10.1.4") & (s["src_port"] == 62512) & (s["dst_ip"] == "10.10.2.4")
             & (s["dst_port"] == 8080)].sort_values("resource_id")
    # One session per NSG: nsg-nic-app-01 and nsg-snet-app at app-01, nsg-snet-web at web-01.
    assert [r.rsplit("/", 1)[1] for r in flow["resource_id"].astype(str)] == [
        "NSG-NIC-APP-01", "NSG-SNET-APP", "NSG-SNET-WEB"]
    assert flow["mac"].astype(str).tolist() == ["000D3A000201", "000D3A000201", "000D3A000101"]
    # nsg-snet-app allows it inbound by a user rule, enforced statelessly: zero C tuples, no E (ongoing);
    # the NIC NSG's default rule and the web NIC's outbound tuples count it and end it.
    assert flow["states"].tolist() == ["BCE", "BC", "BCE"]
    assert flow["state_reached"].astype(str).tolist() == ["completed", "ongoing", "completed"]
    # its zeros are counts the NSG never recorded, not "nothing sent": missing, as NSG v1 counters are
    assert flow["packets_sent"].isna().tolist() == [False, True, False]
    assert [int(x) for x in flow["packets_sent"].dropna()] == [8426, 8426]
    assert int(flow["packets_sent"].sum()) == 16852
    # Every key: its sessions add up to the ground truth (all NSGs counted), one B per session.
    totals = s.assign(p=s["packets_sent"].fillna(0).astype("int64")).groupby(
        [s["src_ip"].astype(str), s["src_port"].astype(int), s["dst_ip"].astype(str), s["dst_port"].astype(int)]
    ).agg(tuples=("tuples", "sum"), packets_sent=("p", "sum"))
    want = {(k["src_ip"], k["src_port"], k["dst_ip"], k["dst_port"]): (k["nsg"]["tuples"], k["nsg"]["packets_sent"])
            for k in expected["keys"] if k["nsg"]}
    assert {k: (int(t), int(p)) for k, (t, p) in totals.iterrows()} == want
    assert len(s) == expected["totals"]["by_log_type"]["nsg"]["tuples_by_state"]["B"] == 63


NSG_DENY_ID = ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
               "nsg-deny")


@pytest.mark.parametrize("state, version", [pytest.param("B", 2, id="nsg-v2-begin"),
                                            pytest.param(None, 1, id="nsg-v1-no-state")])
def test_nsg_deny_decision_without_d_state_is_denied(state, version):
    # NSG flow logs say deny in the decision field; only VNet flow logs have a D state.
    rows = [tuple_row(0, src=SCANNER, dst=WEB, sport=40000, dport=3389, direction="inbound", decision="deny",
                      state=state, log_type="nsg", version=version, resource_id=NSG_DENY_ID)]
    s = flow_sessions(frame(rows))
    assert (s.loc[0, "state_reached"], s.loc[0, "decision"]) == ("denied", "deny")


def test_a_single_session_is_a_first_attempt_not_a_retry():
    rows = [tuple_row(0, src=SCANNER, dst=WEB, sport=40000, dport=22, direction="inbound", decision="deny",
                      state="D")]
    s = flow_sessions(frame(rows))
    assert (s["retry"].tolist(), s["attempt"].tolist()) == ([False], [1])


def test_retry_exactly_one_window_after_the_failure_counts():
    rows = [tuple_row(m, sport=p, decision="deny", state="D") for m, p in ((0, 1), (1, 2), (2.5, 3))]
    s = flow_sessions(frame(rows), retry_window="1min")
    assert s["retry"].tolist() == [False, True, False]
    assert s["attempt"].tolist() == [1, 2, 1]


@pytest.mark.parametrize("reached_rows, severity", [
    pytest.param([tuple_row(0, decision="deny", state="D")], "medium", id="denied-only"),
    pytest.param([tuple_row(0, state="C", counters=(2, 120, 0, 0))], "medium", id="no-reply-only"),
    pytest.param([tuple_row(0, state="E", counters=(2, 120, 2, 120))], "info", id="completed-only"),
])
def test_session_summary_severity(reached_rows, severity):
    assert session_summary(frame(reached_rows)).severity == severity


def test_idle_gap_of_exactly_the_timeout_does_not_split():
    at_timeout = _flow([(0, "C", (1, 1, 1, 1)), (10, "C", (1, 1, 1, 1))])
    assert flow_sessions(frame(at_timeout))["tuples"].tolist() == [2]
    # VNet tuples carry milliseconds: 200 ms over a 5 minute timeout splits.
    just_over = _flow([(0, "C", (1, 1, 1, 1)), (5 + 0.2 / 60, "C", (1, 1, 1, 1))])
    s = flow_sessions(frame(just_over), idle_timeout="5min")
    assert s["tuples"].tolist() == [1, 1]
    assert s.loc[1, "first_seen"] == pd.Timestamp("2024-05-01T10:05:00.200Z")


def test_a_flow_that_only_began_is_ongoing():
    for log_type in ("vnet", "nsg"):
        s = flow_sessions(frame([tuple_row(0, state="B", log_type=log_type)]))
        assert (s.loc[0, "state_reached"], s.loc[0, "states"]) == ("ongoing", "B")
        assert s["packets_sent"].isna().tolist() == [True]


def test_zero_packet_counters_are_not_a_missing_reply():
    rows = _flow([(0, "B", (0, 0, 0, 0)), (1, "E", (0, 0, 0, 0))])
    s = flow_sessions(frame(rows))
    assert s.loc[0, "state_reached"] == "completed"
    assert [int(s.loc[0, c]) for c in ("packets_sent", "packets_received")] == [0, 0]


def test_one_packet_sent_and_none_back_is_no_reply():
    rows = _flow([(0, "B", (0, 0, 0, 0)), (1, "E", (1, 60, 0, 0))])
    s = flow_sessions(frame(rows))
    assert (s.loc[0, "state_reached"], int(s.loc[0, "packets_sent"])) == ("no-reply", 1)
