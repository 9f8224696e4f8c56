"""Copies of a tuple (the same tuple twice): found exactly, kept as rows, counted once.

FORMATS.md: duplicate tuples exist in real data and must never be dropped silently.
The reader keeps them; the investigations count a copy's counters once, keep it in its
original's session, and say how many copies they met.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from flowkit.analysis import copies
from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.copies import original_rows, repeated_tuples
from flowkit.analysis.counting import counted_values, counters, flow_counters
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.analysis.sessions import flow_sessions, session_summary
from flowkit.read import read_flow_logs
from flowkit_frames import APP, WEB, frame, scenario_dir, tuple_row

COUNTERS = ["packets_sent", "bytes_sent", "packets_received", "bytes_received"]


def _connection(sport=50000, **kw):
    return [tuple_row(0, sport=sport, state="B", **kw),
            tuple_row(5, sport=sport, state="C", counters=(10, 1000, 8, 8000), **kw),
            tuple_row(7, sport=sport, state="E", counters=(2, 200, 1, 100), **kw)]


def test_original_rows_points_each_copy_at_its_first_row():
    a, b = _connection()[1:]
    f = frame([a, b, a, dict(a, blob="PT1H-fragment.json"), b])
    assert original_rows(f).tolist() == [0, 1, 0, 0, 1]
    assert repeated_tuples(f).tolist() == [False, False, True, True, True]


@pytest.mark.parametrize("field, other", [
    ("flow_time", pd.Timestamp("2024-05-01T10:05:00.001Z")), ("src_port", 50001), ("dst_port", 8081),
    ("protocol", 17), ("direction", "inbound"), ("decision", "deny"), ("state", "E"), ("encryption", "X"),
    ("packets_sent", 11), ("bytes_sent", 1001), ("packets_received", 9), ("bytes_received", 8001),
    ("rule", "UserRule_Other"), ("acl_id", "acl-other"), ("mac", "000D3A0000FF"), ("resource_id", "/X/FL2"),
    ("src_ip", "192.0.2.200"), ("dst_ip", "2001:db8::1"),
])
def test_a_row_differing_in_any_field_of_the_tuple_or_its_observer_is_no_copy(field, other):
    c = _connection()[1]
    f = frame([c, dict(c, **{field: other})])
    assert repeated_tuples(f).tolist() == [False, False]


def test_where_a_copy_was_read_from_does_not_make_it_another_tuple():
    c = _connection()[1]
    f = frame([dict(c, blob="a/PT1H.json", version=4), dict(c, blob="a/PT1H-fragment.json", version=4)])
    f["record_time"] = pd.to_datetime(["2024-05-01T10:06:00Z", "2024-05-01T10:07:00Z"], utc=True)
    assert repeated_tuples(f).tolist() == [False, True]


def test_missing_counters_are_not_zero_counters():
    b_nsg = tuple_row(0, state="B", log_type="nsg")  # NSG v2 B: counters missing
    zero = dict(b_nsg, packets_sent=0, bytes_sent=0, packets_received=0, bytes_received=0)
    assert repeated_tuples(frame([b_nsg, zero, b_nsg])).tolist() == [False, False, True]


def test_rows_limits_the_search_and_positions_are_among_those_rows():
    a, b = _connection()[1:]
    f = frame([a, b, a, b])
    assert original_rows(f, np.array([False, True, True, True])).tolist() == [0, 1, 0]


def test_rows_sharing_a_hash_are_still_told_apart_field_by_field(monkeypatch):
    # Every row gets the same hash: the field-by-field step alone must find the copies.
    monkeypatch.setattr(copies, "_row_hashes", lambda arrays, n: np.zeros(n, dtype=np.uint64))
    a, b, c = _connection()
    f = frame([a, b, c, b, a, dict(c, bytes_sent=201)])
    assert original_rows(f).tolist() == [0, 1, 2, 1, 0, 5]


def test_text_columns_find_the_same_copies_as_categories():
    rows = _connection() + _connection()[1:]
    f = frame(rows)
    text = f.astype({c: object for c in f.columns if isinstance(f[c].dtype, pd.CategoricalDtype)})
    assert repeated_tuples(text).tolist() == repeated_tuples(f).tolist() == [False] * 3 + [True] * 2


def test_a_copy_counts_once_in_every_counter_sum():
    rows = _connection()
    f = frame(rows + rows[1:])
    known, values = counted_values(f)
    assert known.tolist() == [False, True, True, False, False]
    assert values["bytes_sent"].tolist() == [1000.0, 200.0]
    assert counters(f)["bytes_received"].tolist() == [0.0, 8000.0, 100.0, 0.0, 0.0]
    assert flow_counters(f, np.zeros(5, dtype=np.int64), 1)["packets_sent"].tolist() == [12.0]


def test_a_copied_e_tuple_stays_in_its_session_and_counts_once():
    rows = _connection()
    s = flow_sessions(frame(rows + [rows[2], rows[1], rows[2]]))
    assert len(s) == 1
    row = s.iloc[0]
    assert (row["state_reached"], row["states"], int(row["tuples"]), int(row["duplicates"])) == \
        ("completed", "BCE", 6, 3)
    assert [int(row[c]) for c in COUNTERS] == [12, 1200, 9, 8100]


def test_duplicate_b_tuples_are_kept_in_one_session():
    rows = [tuple_row(0, state="B"), tuple_row(0, state="B"), tuple_row(1, state="E", counters=(1, 1, 1, 1))]
    s = flow_sessions(frame(rows))
    assert (s["tuples"].tolist(), s["duplicates"].tolist(), s["packets_sent"].tolist()) == ([3], [1], [1])


def test_copies_go_to_their_own_sessions_when_a_port_is_reused():
    # Two connections on one port, one after the other, the second's tuples copied.
    first, second = _connection(), [dict(r, flow_time=r["flow_time"] + pd.Timedelta(minutes=8))
                                     for r in _connection()]
    s = flow_sessions(frame(first + second + second))
    assert s["tuples"].tolist() == [3, 6]
    assert s["duplicates"].tolist() == [0, 3]
    assert s["bytes_sent"].tolist() == [1200, 1200]


def test_session_summary_says_how_many_copies_it_counted_once():
    rows = _connection()
    f = session_summary(frame(rows + rows[1:]))
    assert f.facts == {"sessions": 1, "tuples": 5, "by_state": {"completed": 1}, "retries": 0, "duplicates": 2}
    assert f.summary.endswith("2 tuple(s) were copies of another (the same tuple twice): each was counted once.")
    assert "copies" not in session_summary(frame(rows)).summary


def test_graph_counts_a_copy_in_tuples_but_not_in_bytes():
    rows = _connection()
    once, twice = talker_graph(frame(rows)), talker_graph(frame(rows + rows))
    e1, e2 = once.edges[WEB, APP], twice.edges[WEB, APP]
    assert (e2["tuples"], e1["tuples"]) == (6, 3)
    assert [e2[c] for c in (*COUNTERS, "bytes", "flows")] == [e1[c] for c in (*COUNTERS, "bytes", "flows")] \
        == [12, 1200, 9, 8100, 9300, 1]


def test_compare_sees_no_counter_mismatch_from_a_copied_tuple():
    vnet = _connection()
    nsg = [dict(r, log_type="nsg", encryption=None, acl_id=None, version=2,
                resource_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/"
                            "networkSecurityGroups/nsg-web") for r in vnet]
    nsg[0].update(packets_sent=None, bytes_sent=None, packets_received=None, bytes_received=None)
    facts = compare_nsg_vnet(frame(nsg + nsg[1:]), frame(vnet)).facts
    assert (facts["matched"], facts["counter_mismatch"]) == (1, 0)


@pytest.fixture(scope="module")
def copied_blob(tmp_path_factory):
    """The encryption scenario, one blob of it saved again beside itself (PT1H-fragment.json)."""
    root = tmp_path_factory.mktemp("copied") / "encryption"
    shutil.copytree(scenario_dir("encryption"), root)
    blob = sorted(root.rglob("PT1H.json"))[0]
    shutil.copy(blob, blob.with_name("PT1H-fragment.json"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expected.json and nics.json are not flow logs
        plain, copied = read_flow_logs(str(scenario_dir("encryption"))), read_flow_logs(str(root))
    in_blob = int((copied["blob"].astype(str).str.endswith("PT1H-fragment.json")).sum())
    return plain, copied, in_blob


def test_a_blob_read_twice_keeps_every_row_and_finds_each_copy(copied_blob):
    plain, copied, in_blob = copied_blob
    assert in_blob > 0
    assert len(copied) == len(plain) + in_blob
    assert int(repeated_tuples(copied).sum()) == in_blob


def test_a_blob_read_twice_gives_the_sessions_of_the_blob_read_once(copied_blob):
    plain, copied, in_blob = copied_blob
    once, twice = flow_sessions(plain), flow_sessions(copied)
    assert int(twice["duplicates"].sum()) == in_blob
    assert (twice["tuples"] - twice["duplicates"]).tolist() == once["tuples"].tolist()
    same = [c for c in once.columns if c not in ("tuples", "duplicates")]
    pd.testing.assert_frame_equal(twice[same], once[same])


def test_a_blob_read_twice_gives_the_encryption_audit_of_the_blob_read_once(copied_blob):
    plain, copied, _ = copied_blob
    once, twice = encryption_audit(plain, figures=False), encryption_audit(copied, figures=False)
    assert twice.facts == once.facts
    assert once.facts["bytes_encrypted_share"] is not None


@pytest.mark.parametrize("dropped", ["flow_time", "acl_id", "bytes_received", "resource_id"])
def test_a_frame_without_a_field_of_the_tuple_has_no_copies(dropped):
    # Two tuples a minute apart, otherwise equal: without flow_time they would look like copies.
    a = _connection()[2]
    f = frame([a, dict(a, flow_time=a["flow_time"] + pd.Timedelta(minutes=1), acl_id="acl-other",
                       bytes_received=101, resource_id="/X/FL2")]).drop(columns=dropped)
    f = pd.concat([f, f], ignore_index=True)
    assert repeated_tuples(f).tolist() == [False] * 4
    if dropped != "bytes_received":  # counted_values needs the counters
        assert counted_values(f)[0].tolist() == [True] * 4


def test_text_columns_tell_rows_apart_by_their_text():
    a = _connection()[2]
    f = frame([a, dict(a, rule="UserRule_Other"), a])
    text = f.astype({"rule": object, "mac": object})
    assert repeated_tuples(text).tolist() == [False, False, True]


def test_counters_up_to_the_largest_uint64_are_compared_exactly():
    a = _connection()[2]
    top = 2**64 - 1
    f = frame([dict(a, bytes_sent=top), dict(a, bytes_sent=top - 1), dict(a, bytes_sent=top)])
    assert str(f["bytes_sent"].dtype) == "UInt64"
    assert repeated_tuples(f).tolist() == [False, False, True]
