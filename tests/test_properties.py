"""Property tests: cut, corrupt or reorder any valid blob; flowkit raises only its own errors and loses nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowkit.errors import FlowkitError
from flowkit.read import decode_to_frame
from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, VNET_TUPLES, nsg_record, vnet_record

RECORDS = [
    nsg_record({"A": NSG_V1_TUPLES, "B": NSG_V1_TUPLES[:1]}, version=1),
    nsg_record({"A": NSG_V2_TUPLES}),
    vnet_record([("acl", "r1", VNET_TUPLES[:4]), ("acl2", "r2", VNET_TUPLES[4:])]),
    nsg_record({"C": NSG_V2_TUPLES[1:3]}, mac="000D3A0000AA"),
    vnet_record([("acl", "r3", VNET_TUPLES[1:2])], mac="000D3A0000BB"),
]
BODIES = [json.dumps(r, separators=(",", ":")).encode() for r in RECORDS]
TUPLE_COUNTS = [4, 4, 6, 2, 1]  # tuples per record above
BLOB = b'{"records":[' + b",".join(BODIES) + b"]}"
# byte offset at which each record ends
ENDS = []
_pos = len(b'{"records":[')
for body in BODIES:
    _pos += len(body)
    ENDS.append(_pos)
    _pos += 1

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(data: bytes):
    try:
        return decode_to_frame(data, "p.json")
    except FlowkitError:
        return None


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(BLOB)))
def test_cut_blob_keeps_exactly_the_complete_records(cut):
    frame, report = decode_to_frame(BLOB[:cut], "cut.json")
    complete = sum(n for n, end in zip(TUPLE_COUNTS, ENDS) if end <= cut)
    assert report.rows == len(frame) == complete
    assert report.tuples == report.rows + report.quarantined


@SETTINGS
@given(data=st.data())
def test_corrupted_blob_raises_only_flowkit_errors_and_accounts_for_every_tuple(data):
    blob = bytearray(BLOB)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    out = decode(bytes(blob))
    if out is not None:
        frame, report = out
        assert report.tuples == report.rows + report.quarantined == len(frame) + report.quarantined
        assert report.rows <= sum(TUPLE_COUNTS) + 1


@SETTINGS
@given(data=st.data())
def test_inserted_or_deleted_bytes_never_escape_as_other_errors(data):
    blob = bytearray(BLOB)
    i = data.draw(st.integers(0, len(blob)))
    if data.draw(st.booleans()):
        blob[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        del blob[i:i + data.draw(st.integers(1, 30))]
    out = decode(bytes(blob))
    if out is not None:
        _, report = out
        assert report.consistent


@SETTINGS
@given(order=st.permutations(range(len(BODIES))))
def test_reordered_records_give_the_same_rows(order):
    shuffled = b'{"records":[' + b",".join(BODIES[i] for i in order) + b"]}"
    frame, report = decode_to_frame(shuffled, "r.json")
    reference, _ = decode_to_frame(BLOB, "r.json")
    key = ["flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "state", "mac", "rule"]
    a = frame.astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
    b = reference.astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
    assert report.rows == sum(TUPLE_COUNTS)
    assert a[key].equals(b[key])
    assert a["bytes_sent"].astype("float").fillna(-1).tolist() == b["bytes_sent"].astype("float").fillna(-1).tolist()


@SETTINGS
@given(text=st.binary(max_size=300))
def test_arbitrary_bytes(text):
    out = decode(text)
    if out is not None:
        assert out[1].consistent


OBJECT_STARTS = [i for i, byte in enumerate(BLOB) if byte == ord("{")]
ALL_TUPLES = NSG_V1_TUPLES + NSG_V2_TUPLES + VNET_TUPLES


@SETTINGS
@given(data=st.data())
def test_tuples_under_any_key_of_any_object_are_rows_or_quarantined(data):
    """A key given twice (the first is not read) or a key flowkit does not know, anywhere."""
    at = data.draw(st.sampled_from(OBJECT_STARTS)) + 1
    key = data.draw(st.sampled_from(["flowTuples", "flowGroups", "flows", "flowRecords", "properties", "records",
                                     "rule", "time", "macAddress", "flowTuple", "Flows", "extra"]))
    tuples = data.draw(st.lists(st.sampled_from(ALL_TUPLES), min_size=1, max_size=3))
    value = json.dumps(tuples) if data.draw(st.booleans()) or len(tuples) > 1 else json.dumps(tuples[0])
    blob = BLOB[:at] + f'"{key}":{value},'.encode() + BLOB[at:]
    json.loads(blob)
    out = decode(blob)
    assert out is not None
    frame, report = out
    assert report.consistent and len(frame) == report.rows
    assert report.rows + report.quarantined == sum(TUPLE_COUNTS) + len(tuples)
