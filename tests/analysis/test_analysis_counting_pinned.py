"""counting: which rows' counters count, per flow by its busiest observer, and which flows have any."""

from __future__ import annotations

import numpy as np

from flowkit.analysis import counting
from flowkit.analysis.counting import (counted_flows, counted_values, counters, counters_given, flow_counters,
                                       uncounted_inbound_tcp)
from flowkit.schema import empty_frame
from flowkit_frames import frame, tuple_row

COUNTERS = ["packets_sent", "bytes_sent", "packets_received", "bytes_received"]


def test_the_public_names():
    assert counting.__all__ == ["counters", "counted_values", "flow_counters", "counted_flows", "counters_given",
                                "uncounted_inbound_tcp", "unrecorded_rows"]


def test_an_empty_frame_counts_nothing_and_gives_zeros_for_every_flow_asked():
    f = empty_frame()
    none = np.zeros(0, dtype=np.int64)
    c = counters(f)
    assert sorted(c) == sorted([*COUNTERS, "known"]) and all(len(v) == 0 for v in c.values())
    known, values = counted_values(f)
    assert known.tolist() == [] and all(values[n].tolist() == [] for n in COUNTERS)
    assert {n: v.tolist() for n, v in flow_counters(f, none, 2).items()} == {n: [0.0, 0.0] for n in COUNTERS}
    assert counted_flows(f, none, 2).tolist() == [False, False]
    assert counters_given(f).tolist() == []


def test_a_c_or_e_row_with_missing_counters_counts_zero_and_is_not_known():
    """An E tuple whose counter fields are empty adds 0 to the totals and is not a known row; a row
    missing only some counters adds 0 for those (its packets_sent makes it known)."""
    rows = [tuple_row(0, sport=1, state="E", log_type="nsg"),  # all four empty
            dict(tuple_row(0, sport=2, state="C", counters=(4, 40, 2, 20)), bytes_sent=None, bytes_received=None)]
    f = frame(rows)
    c = counters(f)
    assert c["known"].tolist() == [False, True]
    assert [c[n].tolist() for n in COUNTERS] == [[0.0, 4.0], [0.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    known, values = counted_values(f)
    assert known.tolist() == [False, True]
    assert [values[n].tolist() for n in COUNTERS] == [[4.0], [0.0], [2.0], [0.0]]


def test_text_columns_name_the_same_observers_as_categories():
    """Observers of plain-text frames (pd.concat of two reads) are told apart as in categorical ones."""
    rows = [tuple_row(0, sport=1, state="C", counters=(1, 100, 1, 10), mac="000D3A000001"),
            tuple_row(1, sport=1, state="E", counters=(1, 100, 1, 10), mac="000D3A000001"),
            tuple_row(1, sport=1, state="E", counters=(3, 150, 1, 10), mac="000D3A000002")]
    cats = frame(rows)
    text = cats.astype({c: object for c in ("mac", "log_type", "resource_id")})
    fid = np.zeros(3, dtype=np.int64)
    want = {"packets_sent": [3.0], "bytes_sent": [200.0], "packets_received": [2.0], "bytes_received": [20.0]}
    for f in (cats, text):
        assert {n: v.tolist() for n, v in flow_counters(f, fid, 1).items()} == want


def test_vnet_and_nsg_logs_of_one_nic_are_two_observers_even_under_one_resource_id():
    """Observers are (mac, log_type, resource_id): the same flow in a VNet log and an NSG log of one
    NIC is seen twice and counted once, by the busier log, whatever the resource ids say."""
    rows = [tuple_row(0, state="E", counters=(5, 500, 5, 500), resource_id="/x/one"),
            tuple_row(0, state="E", counters=(4, 400, 4, 400), log_type="nsg", resource_id="/x/one")]
    out = flow_counters(frame(rows), np.zeros(2, dtype=np.int64), 1)
    assert [out[n].tolist() for n in COUNTERS] == [[5.0], [500.0], [5.0], [500.0]]


def test_each_counter_is_the_busiest_observers_own_sum_per_flow():
    """Flow 0 seen by three NICs (sums 3, 7 and 5 bytes); flow 1 by one; flow 2 by none."""
    rows = [tuple_row(0, sport=1, state="C", counters=(1, 1, 9, 9), mac="000D3A000001"),
            tuple_row(1, sport=1, state="E", counters=(1, 2, 0, 0), mac="000D3A000001"),
            tuple_row(1, sport=1, state="E", counters=(2, 7, 1, 1), mac="000D3A000002"),
            tuple_row(1, sport=1, state="E", counters=(9, 5, 1, 1), mac="000D3A000003"),
            tuple_row(0, sport=2, state="E", counters=(6, 60, 0, 0), mac="000D3A000002")]
    out = flow_counters(frame(rows), np.array([0, 0, 0, 0, 1]), 3)
    assert out["bytes_sent"].tolist() == [7.0, 60.0, 0.0]
    assert out["packets_sent"].tolist() == [9.0, 6.0, 0.0]
    assert out["bytes_received"].tolist() == [9.0, 0.0, 0.0]


def test_counted_flows_are_those_with_any_counter_given():
    """A flow seen once with zeros has counters; one seen only through empty tuples, or not at all, has none."""
    rows = [tuple_row(0, sport=1, state="B"),                  # VNet B: zeros
            tuple_row(0, sport=2, state="B", log_type="nsg"),  # NSG v2 B: empty
            dict(tuple_row(0, sport=3, state="B", log_type="nsg"), bytes_received=7)]
    f = frame(rows)
    assert counters_given(f).tolist() == [True, False, True]
    assert counted_flows(f, np.array([0, 1, 2]), 4).tolist() == [True, False, True, False]
    assert counted_flows(f, np.array([1, 1, 1]), 2).tolist() == [False, True]


def test_text_states_count_as_categorical_ones():
    """C and E count in a frame whose state column is plain text, B does not."""
    rows = [tuple_row(0, state="B"), tuple_row(1, state="C", counters=(2, 20, 1, 10)),
            tuple_row(2, state="E", counters=(1, 10, 1, 5)), tuple_row(3, state="D", counters=(1, 60, 0, 0))]
    for f in (frame(rows), frame(rows).astype({"state": object})):
        c = counters(f)
        assert c["known"].tolist() == [False, True, True, False]
        assert c["bytes_sent"].tolist() == [0.0, 20.0, 10.0, 0.0]
        known, values = counted_values(f)
        assert known.tolist() == [False, True, True, False]
        assert values["bytes_received"].tolist() == [10.0, 5.0]


def test_no_two_observers_of_one_flow_are_taken_for_one():
    """One flow seen by 32 observers (4 NICs x 2 log types x 4 resource ids), one of them busier:
    the flow's counters are that observer's alone (any two observers merged would sum to more)."""
    rows = [tuple_row(0, state="E", counters=(10, 10, 10, 10), mac=f"000D3A00000{m}", log_type=lt,
                      resource_id=f"/x/{r}")
            for m in range(4) for lt in ("vnet", "nsg") for r in range(4)]
    rows[17].update(packets_sent=15, bytes_sent=15, packets_received=15, bytes_received=15)
    out = flow_counters(frame(rows), np.zeros(len(rows), dtype=np.int64), 1)
    assert [out[n].tolist() for n in COUNTERS] == [[15.0]] * 4


def test_uncounted_inbound_tcp_rows_are_nsg_inbound_tcp_user_rule_rows_with_zero_counters():
    """The rows whose NSG counters were not recorded, read on a categorical and on a text frame."""
    one = dict(src="198.51.100.17", dst="192.0.2.4", dport=3389, direction="inbound", state="C",
               counters=(0, 0, 0, 0), rule="UserRule_AllowRdp", log_type="nsg")
    rows = [one, dict(one, rule="DefaultRule_AllowVnetInBound"), dict(one, counters=(0, 0, 1, 60)),
            dict(one, direction="outbound"), dict(one, proto=17), dict(one, log_type="vnet"),
            dict(one, state="B", counters=None), dict(one, rule="UserRule_AllowRdp_2")]
    f = frame([tuple_row(0, sport=40000 + i, **r) for i, r in enumerate(rows)])
    expected = [True, False, False, False, False, False, False, True]
    for table in (f, f.astype({"rule": str, "log_type": str, "direction": str})):
        c = counters(table)
        zero = np.all([c[n] == 0 for n in COUNTERS], axis=0)
        assert uncounted_inbound_tcp(table, c["known"], zero).tolist() == expected
