"""NSG v2 tuples the scenarios' generator writes for inbound TCP under user-defined rules.

Microsoft's NSG flow logs overview ("Non-default inbound TCP rules"): an NSG enforces
user-defined inbound TCP rules statelessly, so such flows never end for it and their byte and
packet counts are not recorded. Every other case is logged as before.
"""

from __future__ import annotations

import random

import pytest

from flowkit.synth.emit import DAY_MS, HOUR_MS, emit
from flowkit.synth.estate import NsgFlowLog
from flowkit.synth.flows import TCP, UDP, Sighting, make_flow

MAC = "000D3A0000E1"
START = DAY_MS + 10 * HOUR_MS + 5_000


def _written(direction: str, protocol: int, rule: str, *, allowed: bool = True, version: int = 2):
    """(tuple texts, what emit tallied, the flow's planned C/E counters) of one flow at one NSG."""
    peer, nic = "203.0.113.7", "192.0.2.4"
    src, dst = (peer, nic) if direction == "I" else (nic, peer)
    flow = make_flow(random.Random(3), src, 50000, dst, 443, protocol, start_ms=START,
                     end_ms=START + 7 * 60_000, rate=(5.0, 200, 4.0, 900))
    flow.sightings.append(Sighting("nsg", "nsg-e", MAC, direction, rule, allowed))
    out = emit([flow], [NsgFlowLog("nsg-e", "sys", frozenset({MAC}), (10,), version)], seed=0)
    (records,) = out.blobs.values()
    texts = [t for r in records for g in r["properties"]["flows"] for t in g["flows"][0]["flowTuples"]]
    return texts, out.logged[(0, 0)], [c for _, _, c in flow.events[1:]]


def test_inbound_tcp_under_a_user_rule_has_zero_counters_and_no_end() -> None:
    texts, logged, planned = _written("I", TCP, "UserRule_AllowHttpsInbound")
    assert [t.split(",", 7)[7] for t in texts] == ["A,B,,,,", "A,C,0,0,0,0", "A,C,0,0,0,0"]
    assert [(state, counters) for _, state, counters in logged] == [("B", None), ("C", (0, 0, 0, 0)),
                                                                    ("C", (0, 0, 0, 0))]
    assert all(sum(c) > 0 for c in planned)  # the flow did carry traffic


@pytest.mark.parametrize("direction, protocol, rule", [
    pytest.param("I", TCP, "DefaultRule_AllowVnetInBound", id="inbound TCP, default rule"),
    pytest.param("O", TCP, "UserRule_AllowHttpsOutbound", id="outbound TCP, user rule"),
])
def test_other_tcp_keeps_its_counters_and_its_end(direction: str, protocol: int, rule: str) -> None:
    texts, logged, planned = _written(direction, protocol, rule)
    assert [t.split(",")[8] for t in texts] == ["B", "C", "E"]
    assert [tuple(map(int, t.split(",")[9:])) for t in texts[1:]] == planned
    assert [c for _, _, c in logged] == [None, *planned]


def test_inbound_udp_under_a_user_rule_keeps_its_end_with_zero_counters() -> None:
    texts, _, _ = _written("I", UDP, "UserRule_AllowSyslog")
    assert [t.split(",", 7)[7] for t in texts] == ["A,B,,,,", "A,C,0,0,0,0", "A,E,0,0,0,0"]


def test_a_denied_inbound_tcp_flow_is_one_begin_tuple() -> None:
    texts, _, _ = _written("I", TCP, "UserRule_DenyHttps", allowed=False)
    assert texts == [f"{START // 1000},203.0.113.7,192.0.2.4,50000,443,T,I,D,B,,,,"]


def test_nsg_v1_inbound_tcp_under_a_user_rule_is_unchanged() -> None:
    texts, _, _ = _written("I", TCP, "UserRule_AllowHttpsInbound", version=1)
    assert texts == [f"{START // 1000},203.0.113.7,192.0.2.4,50000,443,T,I,A"]
