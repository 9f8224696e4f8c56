"""Pinned behaviour of flowkit.analysis.sessions found by mutation testing."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from flowkit.analysis.sessions import flow_sessions, session_summary
from flowkit.errors import ArgumentError
from flowkit_frames import frame, tuple_row


def _flow(states_counters, **kw):
    return [tuple_row(m, state=s, counters=c, **kw) for m, s, c in states_counters]


@pytest.mark.parametrize("rows_order", list(itertools.permutations(range(3))),
                         ids=lambda order: "".join("BCE"[i] for i in order))
def test_b_c_and_e_of_the_same_millisecond_are_one_session_whatever_the_row_order(rows_order):
    # A short flow: Azure writes its B and E tuples with the same timestamp (the Microsoft
    # sample has them); a frame sorted by time with an unstable sort may hold E first.
    rows = _flow([(0, "B", (0, 0, 0, 0)), (0, "C", (1, 100, 1, 900)), (0, "E", (3, 705, 4, 4569))])
    s = flow_sessions(frame([rows[i] for i in rows_order]))
    assert s[["states", "state_reached", "tuples"]].astype(object).values.tolist() == [["BCE", "completed", 3]]
    assert int(s.loc[0, "bytes_received"]) == 5469


def test_sessions_are_numbered_in_time_order():
    rows = (_flow([(5, "B", None), (6, "E", (1, 1, 1, 1))], sport=1)
            + _flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], sport=2)
            + _flow([(3, "B", None), (4, "E", (1, 1, 1, 1))], sport=1))
    s = flow_sessions(frame(rows))
    assert s["session"].tolist() == [0, 1, 2]
    assert s["src_port"].tolist() == [2, 1, 1]
    assert s["first_seen"].dt.minute.tolist() == [0, 3, 5]


def test_decision_of_each_session_and_the_summary_title():
    rows = (_flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], sport=1)
            + [tuple_row(2, sport=2, decision="deny", state="D")])
    s = flow_sessions(frame(rows))
    assert s["decision"].astype(object).tolist() == ["allow", "deny"]
    assert s["decision"].cat.categories.tolist() == ["allow", "deny"]
    f = session_summary(frame(rows))
    assert (f.title, f.verdict, f.severity) == ("Flow sessions", "sessions", "medium")
    assert f.summary == "2 session(s) from 3 tuple(s): 1 denied, 1 completed; 0 retries."
    assert list(f.evidence) == ["sessions"] and len(f.evidence["sessions"]) == 2


def test_a_d_tuple_is_denied_even_without_a_deny_decision():
    row = tuple_row(0, state="D", counters=(0, 0, 0, 0))
    row["decision"] = None
    s = flow_sessions(frame([row]))
    assert (s.loc[0, "state_reached"], s.loc[0, "decision"]) == ("denied", "deny")


def test_a_b_after_a_d_begins_a_new_session_and_d_is_listed_among_the_states():
    rows = [tuple_row(0, decision="deny", state="D"), tuple_row(1, state="B"),
            tuple_row(2, state="E", counters=(1, 1, 1, 1))]
    s = flow_sessions(frame(rows))
    assert s[["states", "state_reached"]].astype(object).values.tolist() == [["D", "denied"], ["BE", "completed"]]


def test_summary_names_the_copies_counted_once():
    rows = _flow([(0, "B", None), (1, "E", (1, 1, 1, 1))])
    f = session_summary(frame(rows + [dict(rows[1])]))
    assert f.summary == ("1 session(s) from 3 tuple(s): 1 completed; 0 retries. 1 tuple(s) were copies of "
                         "another (the same tuple twice): each was counted once.")


def test_states_is_text_of_one_dtype_with_or_without_sessions():
    """``states`` lists the states seen in B, C, E, D order; an empty table gives the same dtype
    (it used to be object there and str elsewhere)."""
    from flowkit.schema import empty_frame

    rows = _flow([(0, "D", None), (1, "B", None), (2, "C", (1, 60, 1, 60)), (3, "E", (1, 60, 0, 0))])
    sessions = flow_sessions(frame(rows))
    assert sessions["states"].tolist() == ["D", "BCE"]
    assert flow_sessions(empty_frame())["states"].dtype == sessions["states"].dtype


def test_sessions_of_one_moment_are_numbered_by_their_values_not_by_row_order():
    # Three sessions begin at the same minute: a scan, or one client opening three connections.
    # The same tuples read in any order (blobs listed in another order) give the same table,
    # session numbers included: by first_seen, then 5-tuple, then observer, compared as text.
    rows = (_flow([(0, "B", None), (1, "E", (1, 1, 1, 1))], sport=50002)
            + _flow([(0, "B", None), (2, "E", (2, 2, 2, 2))], sport=50001)
            + _flow([(0, "B", None), (3, "E", (3, 3, 3, 3))], sport=50001, src="192.0.2.10"))
    flows = [rows[0:2], rows[2:4], rows[4:6]]
    orders = [sum((flows[i] for i in order), []) for order in itertools.permutations(range(3))]
    tables = [flow_sessions(frame(order)).astype(str) for order in orders + [rows[::-1]]]
    assert all(t.equals(tables[0]) for t in tables[1:])
    assert tables[0][["session", "src_ip", "src_port"]].values.tolist() == [
        ["0", "10.10.1.4", "50001"], ["1", "10.10.1.4", "50002"], ["2", "192.0.2.10", "50001"]]


def test_which_of_two_sessions_of_one_moment_is_the_retry_does_not_follow_row_order():
    # Two denied attempts at one service in the same minute, from two source ports: the
    # later port is the retry whichever the reader met first.
    rows = [tuple_row(0, sport=40002, decision="deny", state="D"),
            tuple_row(0, sport=40001, decision="deny", state="D")]
    for order in (rows, rows[::-1]):
        s = flow_sessions(frame(order))
        assert s[["src_port", "retry", "attempt"]].values.tolist() == [[40001, False, 1], [40002, True, 2]]


def test_a_copy_counts_in_its_own_sessions_tuples_among_several_sessions():
    # Two sessions; the copy is of the first row of the first one (the reader met the tuple twice).
    a = _flow([(0, "B", None), (1, "E", (1, 10, 1, 20))], src="192.0.2.10", dst="198.51.100.10", sport=1)
    b = _flow([(0, "B", None), (1, "E", (2, 20, 2, 40))], src="192.0.2.10", dst="198.51.100.10", sport=2)
    s = flow_sessions(frame(a + b + [dict(a[0])]))
    assert s[["src_port", "tuples", "duplicates", "packets_sent"]].astype(int).values.tolist() == [
        [1, 3, 1, 1], [2, 2, 0, 2]]


def test_sessions_of_one_moment_order_ports_as_numbers():
    # Ports 9999 and 10000 from one source in one minute: numbers, not text ("10000" < "9999").
    rows = [tuple_row(0, src="192.0.2.10", dst="198.51.100.10", sport=p, state="D", decision="deny")
            for p in (10000, 9999)]
    s = flow_sessions(frame(rows))
    assert s[["session", "src_port"]].values.tolist() == [[0, 9999], [1, 10000]]


def test_sessions_of_one_moment_order_addresses_as_text_whatever_the_category_order():
    rows = [tuple_row(0, src=src, dst="198.51.100.10", sport=40000, state="D", decision="deny")
            for src in ("192.0.2.9", "192.0.2.10", "192.0.2.100")]
    s = flow_sessions(frame(rows))
    assert s["src_ip"].astype(str).tolist() == ["192.0.2.10", "192.0.2.100", "192.0.2.9"]


def test_another_table_is_refused_naming_the_function_given_it():
    sessions = flow_sessions(frame(_flow([(0, "B", None)])))
    with pytest.raises(ArgumentError, match=r"^flow_sessions reads a flow table \(read_flow_logs\); "):
        flow_sessions(sessions)
    with pytest.raises(ArgumentError, match=r"^session_summary reads a flow table \(read_flow_logs\); "):
        session_summary(sessions)


@pytest.mark.parametrize("missing", ["src", "dst"])
def test_a_session_without_an_address_comes_first_among_sessions_of_its_moment(missing):
    rows = [tuple_row(0, **{missing: ip}, sport=40000, state="D", decision="deny")
            for ip in ("192.0.2.9", None)]
    for order in (rows, rows[::-1]):
        s = flow_sessions(frame(order))
        assert s[f"{missing}_ip"].isna().tolist() == [True, False]
        assert s["session"].tolist() == [0, 1]


@pytest.mark.parametrize("rule, direction, counters, missing", [
    pytest.param("UserRule_AllowHttpsInbound", "inbound", (0, 0, 0, 0), True, id="user-rule-inbound-zeros"),
    pytest.param("DefaultRule_AllowVnetInBound", "inbound", (0, 0, 0, 0), False, id="default-rule-zeros-count"),
    pytest.param("UserRule_AllowHttpsInbound", "outbound", (0, 0, 0, 0), False, id="outbound-zeros-count"),
    pytest.param("UserRule_AllowHttpsInbound", "inbound", (3, 300, 2, 900), False, id="recorded-counts"),
])
def test_nsg_zeros_of_inbound_tcp_under_a_user_rule_are_missing_counters_not_nothing_sent(
        rule, direction, counters, missing):
    """NSG flow logs record no counts for inbound TCP a user-defined rule allows (enforced statelessly):
    their C tuples carry 0,0,0,0. Before, the session said 0 packets, as if nothing was sent."""
    rows = [tuple_row(m, direction=direction, state=st, rule=rule, log_type="nsg", version=2,
                      counters=None if st == "B" else counters) for m, st in ((0, "B"), (1, "C"), (2, "C"))]
    s = flow_sessions(frame(rows))
    assert len(s) == 1 and s.loc[0, "states"] == "BC"
    got = [s.loc[0, c] for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")]
    if missing:
        assert all(v is pd.NA for v in got) and s.loc[0, "state_reached"] == "ongoing"
    else:
        assert [int(v) for v in got] == [2 * c for c in counters]
