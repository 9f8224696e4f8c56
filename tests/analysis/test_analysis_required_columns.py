"""An investigation given a frame that is not a flow table (the sessions of flow_sessions, a
finding's evidence, a projection read with ``columns=``) says which columns it lacks, instead of
stopping on a bare KeyError deep inside."""

from __future__ import annotations

import pytest

import flowkit
from flowkit.errors import ArgumentError
from flowkit_frames import frame, tuple_row

CALLS = {
    "flow_sessions": lambda f: flowkit.flow_sessions(f),
    "session_summary": lambda f: flowkit.session_summary(f),
    "talker_graph": lambda f: flowkit.talker_graph(f),
    "encryption_audit": lambda f: flowkit.encryption_audit(f, figures=False),
    "compare_nsg_vnet": lambda f: flowkit.compare_nsg_vnet(f, figures=False),
    "denied_summary": lambda f: flowkit.denied_summary(f),
    "diagnose": lambda f: flowkit.diagnose(f, src="10.10.1.4", dst="10.10.2.4"),
}


@pytest.fixture(scope="module")
def flows():
    return frame([tuple_row(0, state="B"), tuple_row(1, state="E", counters=(1, 100, 1, 100))])


@pytest.mark.parametrize("name", CALLS)
def test_the_sessions_table_given_for_the_flow_table_is_refused_naming_what_it_lacks(flows, name):
    sessions = flowkit.flow_sessions(flows)
    with pytest.raises(ArgumentError) as info:
        CALLS[name](sessions)
    message = str(info.value)
    assert message.startswith(f"{name} reads a flow table (read_flow_logs); this frame lacks its column(s) ")
    lacks = message.rsplit(") ", 1)[1].split(", ")
    assert lacks and all(c in flowkit.COLUMNS and c not in sessions.columns for c in lacks)


@pytest.mark.parametrize("name, column", [
    ("flow_sessions", "acl_id"), ("session_summary", "flow_time"), ("talker_graph", "resource_id"),
    ("encryption_audit", "encryption"), ("compare_nsg_vnet", "rule"), ("diagnose", "packets_received"),
    ("denied_summary", "acl_id"),
])
def test_a_projection_without_a_column_read_is_refused_naming_it(flows, name, column):
    with pytest.raises(ArgumentError) as info:
        CALLS[name](flows.drop(columns=[column]))
    assert str(info.value) == f"{name} reads a flow table (read_flow_logs); this frame lacks its column(s) {column}"


@pytest.mark.parametrize("name, column", [("talker_graph", "flow_time"), ("talker_graph", "acl_id"),
                                          ("encryption_audit", "rule"), ("encryption_audit", "acl_id")])
def test_a_projection_without_a_column_not_read_still_works(flows, name, column):
    CALLS[name](flows.drop(columns=[column]))  # GRAPH_COLUMNS-style projections stay welcome


def test_filter_flows_needs_only_the_columns_of_the_conditions_given(flows):
    ports_only = flows[["dst_port"]]
    assert len(flowkit.filter_flows(ports_only, ports=8080)) == 2
    with pytest.raises(ArgumentError) as info:
        flowkit.filter_flows(ports_only, ports=8080, start="2024-05-01T00:00Z", decision="allow")
    assert str(info.value) == ("filter_flows reads a flow table (read_flow_logs); this frame lacks its column(s) "
                               "flow_time, decision")
