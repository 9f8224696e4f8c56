"""FormatGroups: the in-place newline buffer, its structure checks, and the careful fallback."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowkit.formats.groups import FormatGroups, factorize
from flowkit.formats.tuples import parse_tuples
from flowkit.read import decode_to_frame
from tests.blobs import VNET_TUPLES, blob, vnet_record

T1 = "1714557600000,192.0.2.1,198.51.100.2,50000,443,6,O,B,X,,,,"
T2 = "1714557660000,192.0.2.1,198.51.100.2,50000,443,6,O,E,X,3,767,2,1580"


def groups_of(*arrays: bytes) -> FormatGroups:
    g = FormatGroups()
    for k, raw in enumerate(arrays):
        g.add(msgspec.Raw(raw), record=k, rule=f"r{k}")
    return g


def lines(buffer: bytes | bytearray) -> list[bytes]:
    return [line for line in bytes(buffer).split(b"\n") if line]


def test_compact_arrays_become_sparse_lines_in_place():
    g = groups_of(f'["{T1}","{T2}"]'.encode(), b"[]", f'["{T2}"]'.encode())
    built = g.build()
    assert built.sparse
    assert lines(built.buffer) == [T1.encode(), T2.encode(), T2.encode()]
    assert built.counts.tolist() == [2, 1]          # the empty array was dropped
    assert g.record == [0, 2] and g.rule == ["r0", "r2"]
    assert built.first_tuple.tolist() == [0, 0]
    parsed = parse_tuples(built.buffer, "vnet4", n_lines=3, sparse=True)
    assert parsed.bad == [] and parsed.src_port.tolist() == [50000] * 3
    assert parsed.counters["bytes_sent"].to_pylist() == [None, 767, 767]


@pytest.mark.parametrize("raw", [
    b'["1,a", "2,b"]',        # a space after the comma
    b'[ "1,a","2,b"]',        # a space after the bracket
    b'["1,a","2,b" ]',        # a space before the bracket
    b'["1,a",\n"2,b"]',       # pretty-printed
    b'["1,a","",  "2,b"]',    # an empty tuple string
    b'["1,\\u0061","2,b"]',   # an escape
    b'["1,a",5,"2,b"]',       # a number among the strings
])
def test_anything_but_the_compact_form_takes_the_careful_path(raw):
    g = groups_of(raw)
    assert g._build_fast() is None
    built = g.build()
    assert not built.sparse
    assert built.seen == 3 if b'""' in raw or b",5," in raw else built.seen == 2


def test_empty_tuple_string_is_quarantined_not_skipped():
    data = blob([vnet_record([("acl", "r", [VNET_TUPLES[0], "", VNET_TUPLES[1]])])])
    frame, report = decode_to_frame(data, "x.json")
    assert (report.tuples, report.rows, report.quarantined) == (3, 2, 1)
    q = report.quarantine.iloc[0]
    assert (q["tuple"], q["reason"], q["raw"]) == (1, "wrong-field-count", "")


def test_bad_line_in_sparse_buffer_is_located_exactly():
    bad = "1714557600000,192.0.2.1,198.51.100.2,99999,443,6,O,E,X,1,2,3,4"  # port out of range
    data = blob([vnet_record([("acl", "a", [VNET_TUPLES[0]]),
                                ("acl", "b", [VNET_TUPLES[1], bad, VNET_TUPLES[2]])])])
    frame, report = decode_to_frame(data, "x.json")
    assert (report.rows, report.quarantined) == (3, 1)
    q = report.quarantine.iloc[0]
    assert (q["record"], q["tuple"], q["reason"], q["raw"]) == (0, 2, "invalid-src-port", bad)


def test_sparse_buffer_needs_its_line_count():
    with pytest.raises(ValueError, match="n_lines"):
        parse_tuples(b"\n\nx\n", "vnet4", sparse=True)


def test_factorize_keeps_first_seen_order_and_none():
    codes, values = factorize(["b", None, "a", "b"])
    assert codes.dtype == np.int64 and codes.tolist() == [0, -1, 1, 0] and values == ["b", "a"]
    assert factorize([])[1] == []


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12)


@given(arrays=st.lists(st.lists(_TEXT, max_size=5), min_size=1, max_size=6),
       spaced=st.lists(st.booleans(), min_size=6, max_size=6))
@settings(max_examples=300, deadline=None)
def test_built_lines_are_exactly_the_array_elements(arrays, spaced):
    """Whatever the arrays hold and however they are spaced, the buffer's lines are their strings."""
    g = FormatGroups()
    for k, items in enumerate(arrays):
        sep = ", " if spaced[k] else ","
        g.add(msgspec.Raw(("[" + sep.join(json.dumps(i, ensure_ascii=k % 2 == 0) for i in items) + "]").encode()),
              record=k)
    built = g.build()
    kept = [items for items in arrays if items]  # empty arrays hold no tuple
    bad = {(k, i) for k, i, _, _ in built.bad}   # careful path: strings a CSV line cannot hold
    assert built.seen == sum(len(items) for items in kept)
    assert [c + sum(1 for k2, _ in bad if k2 == k) for k, c in enumerate(built.counts.tolist())] == \
        [len(items) for items in kept]
    good = [i.encode() for k, items in enumerate(kept) for n, i in enumerate(items) if (k, n) not in bad]
    if built.sparse:
        assert not bad and all(good)  # the fast path never sees an empty or quoted string
        assert [line for line in bytes(built.buffer).split(b"\n") if line] == good
    else:
        assert (bytes(built.buffer).split(b"\n") if good else []) == good or built.buffer == b""


@pytest.mark.parametrize("value", [VNET_TUPLES[2], {"t": VNET_TUPLES[2]}, 1234, {}, "", 42, None])
def test_flow_tuples_that_are_not_an_array_are_quarantined_whole(value):
    rec = vnet_record([("a", "r", VNET_TUPLES[:2]), ("b", "s", [])])
    rec["flowRecords"]["flows"][1]["flowGroups"][0]["flowTuples"] = value
    frame, report = decode_to_frame(json.dumps({"records": [rec]}).encode(), "s.json")
    assert len(frame) == 2 and (report.tuples, report.quarantined) == (3, 1) and report.consistent
    assert report.quarantine.values.tolist() == [["s.json", 0, 2, "tuples-not-an-array", json.dumps(value)]]
