"""Property tests of the investigations on generated frames: row order, index, categories,
unrelated rows, copies of tuples and the input frame do not change what they say."""

from __future__ import annotations

import networkx as nx
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.diagnose import diagnose
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.analysis.graph_views import top_talkers
from flowkit.analysis.sessions import flow_sessions, session_summary
from flowkit.filters import filter_flows
from tests.flow_strategies import (BASE, HOSTS, INTERNAL, as_joined, distinct_rows, finding_view, flow_frames,
                                   frame_of, plain, recategorised, shuffled, tuple_rows)

# No shrinking: a failing frame of these investigations takes minutes to shrink, and a
# generated one (at most ~30 rows) reads as it is.
SETTINGS = settings(max_examples=20, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: For the tests that run every investigation twice per example.
FEWER = settings(SETTINGS, max_examples=8)

INVESTIGATIONS = {
    "denied_summary": lambda f: finding_view(denied_summary(f)),
    "encryption_audit": lambda f: finding_view(encryption_audit(f, figures=False)),
    "session_summary": lambda f: finding_view(session_summary(f)),
    "compare_nsg_vnet": lambda f: finding_view(compare_nsg_vnet(f, figures=False)),
    "flow_sessions": lambda f: plain(flow_sessions(f)),
}


def graph_view(G: nx.DiGraph) -> tuple:
    return plain((sorted((n, sorted(a.items())) for n, a in G.nodes(data=True)),
                  sorted((u, v, sorted(a.items())) for u, v, a in G.edges(data=True))))


def pairs_of(frame: pd.DataFrame) -> list[tuple[str, str, int | None]]:
    """The (src, dst, port) questions a user asks of ``frame``: its pairs, and one it lacks."""
    asked = {(str(s), str(d), int(p)) for s, d, p in frame[["src_ip", "dst_ip", "dst_port"]].itertuples(index=False)}
    return sorted(asked)[:4] + [("10.0.0.4", "10.0.1.4", None)]


@FEWER
@given(frame=flow_frames(), data=st.data())
def test_investigations_ignore_row_order_index_and_categories(frame, data):
    order = data.draw(st.permutations(range(len(frame))))
    other = recategorised(shuffled(frame, order))
    for name, run in INVESTIGATIONS.items():
        assert run(other) == run(frame), name
    assert graph_view(talker_graph(other)) == graph_view(talker_graph(frame))
    assert graph_view(talker_graph(other, by="subnet")) == graph_view(talker_graph(frame, by="subnet"))
    assert top_talkers(talker_graph(other)).equals(top_talkers(talker_graph(frame)))
    for src, dst, port in pairs_of(frame):
        assert finding_view(diagnose(other, src, dst, port)) == finding_view(diagnose(frame, src, dst, port))


@FEWER
@given(frame=flow_frames(), text=st.booleans())
def test_joined_frames_give_what_read_frames_give(frame, text):
    """Text columns (a pd.concat of frames with other categories) or src_ip and dst_ip coded apart."""
    other = as_joined(frame, text)
    for name, run in INVESTIGATIONS.items():
        assert run(other) == run(frame), name
    assert graph_view(talker_graph(other)) == graph_view(talker_graph(frame))
    for src, dst, port in pairs_of(frame):
        assert finding_view(diagnose(other, src, dst, port)) == finding_view(diagnose(frame, src, dst, port))


@FEWER
@given(frame=flow_frames(min_rows=1))
def test_investigations_leave_their_input_as_it_was(frame):
    before = frame.copy(deep=True)
    for run in INVESTIGATIONS.values():
        run(frame)
    talker_graph(frame)
    for src, dst, port in pairs_of(frame):
        diagnose(frame, src, dst, port)
    filter_flows(frame, src="10.0.0.0/8", decision="deny")
    pd.testing.assert_frame_equal(frame, before)


#: Hosts no question below is about, and their own NICs.
OTHERS = ("10.0.1.4", "203.0.113.30", "2001:db8::5")


@SETTINGS
@given(base=st.lists(tuple_rows(), min_size=1, max_size=15),
       noise=st.lists(tuple_rows(), max_size=15), data=st.data())
def test_rows_about_other_hosts_do_not_change_a_diagnosis(base, noise, data):
    """Tuples between 10.0.0.4 and 10.0.0.5 (or the internet) and tuples between other hosts only,
    logged at those other hosts' NICs: the diagnosis of the first pair keeps its verdict and facts."""
    def about_pair(row):
        return {row["src_ip"], row["dst_ip"]} <= {"10.0.0.4", "10.0.0.5", "192.0.2.10", "198.51.100.20"}

    def unrelated(row):
        return row["src_ip"] in OTHERS and row["dst_ip"] in OTHERS
    base = distinct_rows([r for r in base if about_pair(r)])
    noise = distinct_rows([r for r in noise if unrelated(r)])
    if not base:
        return
    alone = frame_of(base)
    mixed = frame_of(base + noise)
    order = data.draw(st.permutations(range(len(mixed))))
    mixed = shuffled(mixed, order)
    for src, dst, port in pairs_of(alone)[:-1]:
        a, b = diagnose(alone, src, dst, port), diagnose(mixed, src, dst, port)
        facts_a = {k: v for k, v in a.facts.items() if k not in ("logged_macs", "reason")}
        facts_b = {k: v for k, v in b.facts.items() if k not in ("logged_macs", "reason")}
        assert (a.verdict, facts_a) == (b.verdict, facts_b), (src, dst, port)
        assert plain(a.evidence.get("sessions")) == plain(b.evidence.get("sessions"))


@FEWER
@given(rows=st.lists(tuple_rows(), min_size=1, max_size=15), data=st.data())
def test_a_second_reading_of_the_tuples_changes_no_total(rows, data):
    """Every tuple read twice (the blob and a saved fragment of it): copies count once, so the
    numbers of every investigation stay those of one reading."""
    rows = distinct_rows(rows)
    frame = frame_of(rows)
    twice = frame_of(rows + [dict(r, blob="saved/fragment.json") for r in rows])
    twice = shuffled(twice, data.draw(st.permutations(range(len(twice)))))

    once_sessions, twice_sessions = flow_sessions(frame), flow_sessions(twice)
    assert len(twice_sessions) == len(once_sessions)
    for name in ("packets_sent", "bytes_sent", "packets_received", "bytes_received"):
        assert twice_sessions[name].sum() == once_sessions[name].sum(), name
    d1, d2 = denied_summary(frame).facts, denied_summary(twice).facts
    # attempts count once; denied_tuples counts rows, the copies too (as sessions' tuples do)
    assert d2["denied_tuples"] == 2 * d1["denied_tuples"]
    assert ({k: v for k, v in d2.items() if k != "denied_tuples"}
            == {k: v for k, v in d1.items() if k != "denied_tuples"})
    e1, e2 = encryption_audit(frame, figures=False).facts, encryption_audit(twice, figures=False).facts
    assert {k: v for k, v in e2.items() if "cop" not in k} == {k: v for k, v in e1.items() if "cop" not in k}
    c1, c2 = compare_nsg_vnet(frame, figures=False), compare_nsg_vnet(twice, figures=False)
    rows_of = ("nsg_rows", "vnet_rows")  # rows read, the copies too
    assert [c2.facts.get(k) for k in rows_of] == [c1.facts[k] * 2 if k in c1.facts else None for k in rows_of]
    assert (c2.verdict, plain({k: v for k, v in c2.facts.items() if k not in rows_of})) == \
        (c1.verdict, plain({k: v for k, v in c1.facts.items() if k not in rows_of}))
    g1, g2 = talker_graph(frame), talker_graph(twice)
    for u, v, attrs in g1.edges(data=True):
        for name in ("bytes", "packets", "flows", "denied"):
            if name in attrs:
                assert plain(g2.edges[u, v][name]) == plain(attrs[name]), (u, v, name)
    for src, dst, port in pairs_of(frame)[:-1]:
        a, b = diagnose(frame, src, dst, port), diagnose(twice, src, dst, port)
        keep = lambda facts: {k: v for k, v in facts.items() if k not in ("evidence_rows", "reason")}  # noqa: E731
        assert (a.verdict, keep(a.facts)) == (b.verdict, keep(b.facts)), (src, dst, port)


FILTERS = st.fixed_dictionaries({}, optional={
    "src": st.sampled_from(["10.0.0.0/16", "10.0.0.4", ["192.0.2.0/24", "2001:db8::/32"]]),
    "dst": st.sampled_from(["10.0.0.0/8", "198.51.100.20", "2001:db8::5", "2001:DB8:0::5", "2001:db8::/32"]),
    "ports": st.sampled_from([22, "400-1500", [22, 443], range(1024)]),
    "protocol": st.sampled_from(["tcp", "udp", [6, 17]]),
    "direction": st.sampled_from(["inbound", "outbound"]),
    "decision": st.sampled_from(["allow", "deny"]),
    "state": st.sampled_from(["B", ["C", "E"], "D"]),
    "log_type": st.sampled_from(["nsg", "vnet"]),
    "mac": st.sampled_from(["00-0D-3A-00-00-04", "000d3a000005"]),
})


@SETTINGS
@given(frame=flow_frames(), a=FILTERS, b=FILTERS, data=st.data())
def test_filters_compose(frame, a, b, data):
    frame = shuffled(frame, data.draw(st.permutations(range(len(frame)))))
    shared = set(a) & set(b)
    b = {k: v for k, v in b.items() if k not in shared}
    both = filter_flows(frame, **a, **b)
    one_then_other = filter_flows(filter_flows(frame, **a), **b)
    pd.testing.assert_frame_equal(one_then_other, both)
    in_a = set(filter_flows(frame, **a).index)
    in_b = set(filter_flows(frame, **b).index)
    assert set(both.index) == in_a & in_b
    assert list(both.columns) == list(frame.columns)
    assert all(both[c].dtype == frame[c].dtype for c in frame.columns)
    # a joined frame (text columns) keeps the same rows
    assert list(filter_flows(as_joined(frame, text=True), **a, **b).index) == list(both.index)


@SETTINGS
@given(frame=flow_frames(), cuts=st.lists(st.integers(0, 27 * 3600), max_size=3), data=st.data())
def test_time_windows_split_and_rejoined_give_the_same_rows(frame, cuts, data):
    frame = shuffled(frame, data.draw(st.permutations(range(len(frame)))))
    bounds = [BASE] + sorted(BASE + pd.Timedelta(seconds=s) for s in set(cuts)) + [BASE + pd.Timedelta(hours=27)]
    parts = [filter_flows(frame, start=s, end=e) for s, e in zip(bounds[:-1], bounds[1:]) if s < e]
    joined = sorted(i for p in parts for i in p.index)
    assert joined == sorted(filter_flows(frame, start=bounds[0], end=bounds[-1]).index) == sorted(frame.index)
    # the naive and the UTC spelling of one time are one time
    naive = bounds[1].tz_localize(None) if len(bounds) > 2 else None
    if naive is not None and bounds[1] > BASE:
        assert filter_flows(frame, end=naive).index.equals(filter_flows(frame, end=bounds[1]).index)


def test_hosts_of_the_generator_are_documentation_or_private_addresses():
    import ipaddress

    for host in HOSTS:
        ip = ipaddress.ip_address(host)
        assert host in INTERNAL and ip.is_private or any(
            ip in ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                    "2001:db8::/32"))


@SETTINGS
@given(frame=flow_frames(min_rows=1), cut=st.tuples(st.integers(0, 180), st.integers(1, 180)), data=st.data())
def test_a_diagnosis_in_a_window_is_the_diagnosis_of_the_window(frame, cut, data):
    """diagnose(start=, end=) says what diagnose says of the rows filter_flows keeps for that window."""
    start = BASE + pd.Timedelta(minutes=min(cut))
    end = BASE + pd.Timedelta(minutes=max(cut[0] + 1, cut[1]))
    window = filter_flows(frame, start=start, end=end)
    for src, dst, port in pairs_of(frame):
        a, b = diagnose(frame, src, dst, port, start=start, end=end), diagnose(window, src, dst, port)
        assert a.verdict == b.verdict, (src, dst, port)
        if len(window):  # an empty window's summary names the frame's own times
            assert plain(a.facts) == plain(b.facts)
            assert plain(a.evidence) == plain(b.evidence)


@SETTINGS
@given(frame=flow_frames())
def test_sessions_are_each_observers_own(frame):
    """A session is one observer's: the sessions of one NIC's rows are that NIC's sessions."""
    sessions = flow_sessions(frame)
    for mac in INTERNAL.values():
        # the same sessions in the same order; numbered among that NIC's own
        mine = sessions.loc[sessions["mac"].astype(object) == mac].reset_index(drop=True).drop(columns="session")
        theirs = flow_sessions(filter_flows(frame, mac=mac)).drop(columns="session")
        assert plain(theirs) == plain(mine), mac
    assert int(sessions["tuples"].sum()) == len(frame)


@SETTINGS
@given(frame=flow_frames())
def test_totals_add_up(frame):
    denied = denied_summary(frame)
    if len(denied.evidence.get("denied", ())):
        table = denied.evidence["denied"]
        assert int(table["attempts"].sum()) == denied.facts["attempts"] <= denied.facts["denied_tuples"]
        assert int(table["tuples"].sum()) == denied.facts["denied_tuples"]
    assert denied.facts["denied_tuples"] == int(((frame["decision"] == "deny") | (frame["state"] == "D")).sum())
    audit = encryption_audit(frame, figures=False)
    if audit.facts["flows"]:
        assert sum(audit.facts["by_state"].values()) == audit.facts["flows"] == len(audit.evidence["flows"])


@SETTINGS
@given(frame=flow_frames())
def test_compare_takes_one_table_or_the_two_logs_apart(frame):
    nsg, vnet = filter_flows(frame, log_type="nsg"), filter_flows(frame, log_type="vnet")
    both = finding_view(compare_nsg_vnet(frame, figures=False))
    assert finding_view(compare_nsg_vnet(nsg, vnet, figures=False)) == both
    assert finding_view(compare_nsg_vnet(pd.concat([vnet, nsg]), figures=False)) == both


@SETTINGS
@given(frame=flow_frames(), by=st.sampled_from(["ip", "subnet", "mac"]))
def test_graph_node_totals_are_their_edges(frame, by):
    G = talker_graph(frame, by)
    for node, attrs in G.nodes(data=True):
        assert attrs["flows_out"] == sum(G.edges[e]["flows"] for e in G.out_edges(node))
        assert attrs["flows_in"] == sum(G.edges[e]["flows"] for e in G.in_edges(node))
    assert sum(a["flows"] for _, _, a in G.edges(data=True)) >= (len(frame) > 0) * 1
