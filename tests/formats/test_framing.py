"""Golden tests for every framing real files show: each must give exactly the same rows."""

from __future__ import annotations

import json

import pytest

from flowkit.formats.framing import frame_records
from flowkit.read import decode_to_frame
from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, VNET_TUPLES, blob, blocks, nsg_record, vnet_record

RECORDS = {
    "nsg-v1": [nsg_record({"R": NSG_V1_TUPLES}, version=1), nsg_record({"S": NSG_V1_TUPLES[:1]}, version=1)],
    "nsg-v2": [nsg_record({"R": NSG_V2_TUPLES}), nsg_record({"S": NSG_V2_TUPLES[1:]})],
    "vnet-v4": [vnet_record([("a", "r", VNET_TUPLES)]), vnet_record([("b", "s", VNET_TUPLES[:2])])],
}
BOM = b"\xef\xbb\xbf"


def framings(records):
    whole = blob(records)
    pretty = json.dumps({"records": records}, indent=4).encode()
    crlf = b'{"records":[\r\n' + b",\r\n".join(json.dumps(r).encode() for r in records) + b"\r\n]}"
    parts = blocks(records)
    return {
        "whole": whole,
        "bom": BOM + whole,
        "pretty": pretty,
        "pretty-tuples-crlf": pretty.replace(b"\n", b"\r\n"),
        "crlf-between-records": crlf,
        "trailing-comma": whole[:-2] + b",]}",
        "fragment": b"".join(parts[2:-1]),  # ,{...} read from the middle of a growing blob
        "fragment-bom": BOM + b"".join(parts[2:-1]),
        "fragment-with-tail": b"".join(parts[2:]),
        "bare-list": b"[" + b",".join(json.dumps(r).encode() for r in records) + b"]",
    }


@pytest.mark.parametrize("fmt", list(RECORDS))
@pytest.mark.parametrize("framing", list(framings(RECORDS["nsg-v1"])))
def test_every_framing_gives_the_same_rows(fmt, framing):
    records = RECORDS[fmt]
    data = framings(records)[framing]
    frame, report = decode_to_frame(data, "f.json")
    reference, _ = decode_to_frame(blob(records[1:] if framing.startswith("fragment") else records), "f.json")
    assert report.quarantined == 0 and not report.problems
    assert len(frame) == len(reference) > 0
    assert frame.equals(reference)


@pytest.mark.parametrize("fmt", list(RECORDS))
def test_single_record_without_wrapper(fmt):
    rec = RECORDS[fmt][0]
    frame, report = decode_to_frame(json.dumps(rec, indent=2).encode(), "one.json")
    reference, _ = decode_to_frame(blob([rec]), "one.json")
    assert report.records == 1 and frame.equals(reference)


@pytest.mark.parametrize("fmt", list(RECORDS))
def test_truncated_blob_keeps_every_complete_record(fmt):
    records = RECORDS[fmt]
    whole = blob(records)
    second = json.dumps(records[1], separators=(",", ":")).encode()
    cut = whole.index(second) + len(second) // 2  # cut in the middle of the second record
    frame, report = decode_to_frame(whole[:cut], "cut.json")
    reference, _ = decode_to_frame(blob(records[:1]), "cut.json")
    assert frame.equals(reference)
    assert [p.reason for p in report.problems] == ["truncated-record"]
    assert report.consistent
    # tuples seen in the damaged record are accounted for, not dropped silently
    assert report.tuples == report.rows + report.quarantined
    assert set(report.quarantine["reason"]) <= {"truncated-record"}


def test_invalid_record_between_good_ones_is_quarantined_with_its_tuples():
    good = [json.dumps(r, separators=(",", ":")).encode() for r in RECORDS["nsg-v1"]]
    broken = good[0].replace(b'"properties":{', b'"properties":{"Version":"x",', 1).replace(b'"rule":"R"', b'"rule":["R"]', 1)
    data = b'{"records":[' + good[0] + b"," + broken + b"," + good[1] + b"]}"
    frame, report = decode_to_frame(data, "bad.json")
    assert len(frame) == len(NSG_V1_TUPLES) + 1
    assert report.quarantined == len(NSG_V1_TUPLES)
    assert set(report.quarantine["record"]) == {1}
    assert report.consistent


def test_non_objects_in_the_records_array_are_problems_even_with_no_record_around_them():
    only_junk = frame_records(b'{"records":["time","systemId"]}')
    assert only_junk.records == [] and [(d.reason, d.record, d.offset, d.excerpt) for d in only_junk.damage] == [
        ("invalid-record", 0, 12, '"time","systemId"')]
    junk_last = frame_records(b'{"records":[{"time":"a"},"x"]}')
    assert len(junk_last.records) == 1 and [(d.record, d.excerpt) for d in junk_last.damage] == [(1, ',"x"')]
    assert frame_records(b'{"records":[{"time":"a"}, ]}').damage == []  # a trailing comma is not junk
    assert frame_records(b'{"records":[]}').damage == []


def test_not_json_is_a_problem_with_its_tuples():
    framed = frame_records(b"hello")
    assert framed.kind == "not-json" and framed.damage[0].reason == "not-json"


def test_empty_input_has_no_records():
    assert frame_records(b"").records == [] and frame_records(BOM + b"  ").kind == "empty"


def test_garbage_collector_state_is_restored():
    import gc

    from flowkit.formats.framing import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    frame_records(b'{"records":[{"time":"a"}]}')
    assert gc.isenabled()


def test_damage_after_a_joined_blob_is_numbered_after_its_records():
    framed = frame_records(b'{"records":[{"records":[{"time":"a"},{"time":"b"}]},{"time":"c"},{"time":3x},'
                           b'{"time":"d"}]}')
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (1, "b"), (2, "c"), (4, "d")]
    assert [(d.reason, d.record) for d in framed.damage] == [("invalid-record", 3)]
    framed = frame_records(b'{"records":[{"time":"a"}]}{"records":[{"time":"b"},{"time":"c"}]}'
                           b'{"records":[{"time":"d"},{"ti')
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (1, "b"), (2, "c")]
    assert [(d.reason, d.record) for d in framed.damage] == [("truncated-record", 3)]


def test_a_single_record_cut_short_is_a_truncated_record_with_its_tuples():
    rec = json.dumps(nsg_record({"R": NSG_V1_TUPLES[:2]}, version=1)).encode()
    framed = frame_records(rec[:-30])
    assert framed.kind == "record" and framed.records == []
    assert [(d.reason, d.record, d.offset, d.tuples) for d in framed.damage] == [
        ("truncated-record", 0, 0, NSG_V1_TUPLES[:2])]


def test_junk_after_the_last_record_is_quarantined_with_its_tuples():
    data = blob([nsg_record({"R": NSG_V1_TUPLES[:2]}, version=1)]) + b' x["' + NSG_V1_TUPLES[2].encode() + b'"]'
    frame, report = decode_to_frame(data, "junk.json")
    assert len(frame) == 2 and (report.tuples, report.rows, report.quarantined) == (3, 2, 1)
    assert report.quarantine[["record", "reason", "raw"]].values.tolist() == [[1, "invalid-record", NSG_V1_TUPLES[2]]]
    assert [(p.reason, p.record) for p in report.problems] == [("invalid-record", 1)]
    tail = b' x "' + NSG_V1_TUPLES[2].encode() + b'"'  # no bracket after the blob: the tail itself is junk
    framed = frame_records(blob([nsg_record({"R": NSG_V1_TUPLES[:2]}, version=1)]) + tail)
    assert len(framed.records) == 1 and [(d.reason, d.record, d.tuples) for d in framed.damage] == [
        ("invalid-record", 1, NSG_V1_TUPLES[2:])]


def test_junk_between_records_is_quarantined_with_its_tuples_and_numbered_as_a_record():
    framed = frame_records(b'{"records":[{"time":"a"},"' + NSG_V1_TUPLES[0].encode() + b'",{"time":"b"}]}')
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (2, "b")]
    assert [(d.reason, d.record, d.tuples) for d in framed.damage] == [("invalid-record", 1, NSG_V1_TUPLES[:1])]
    framed = frame_records(b'{"records":[{"time":"a"},"x"]}{"records":[{"time":"b"}]}')  # junk, then a blob
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (2, "b")]
    assert [(d.record, d.excerpt) for d in framed.damage] == [(1, ',"x"')]


def test_damage_before_a_joined_blob_keeps_its_index():
    framed = frame_records(b'{"records":[{"time":3x},{"records":[{"time":"a"},{"time":"b"}]},{"time":"c"}]}')
    assert [(i, r.time) for i, r in framed.records] == [(1, "a"), (2, "b"), (3, "c")]
    assert [(d.reason, d.record) for d in framed.damage] == [("invalid-record", 0)]


def test_a_bare_list_cut_short_keeps_every_complete_record():
    framed = frame_records(b'[{"time":"a"},{"time":"b"},{"time":"c"')
    assert framed.kind == "list" and [(i, r.time) for i, r in framed.records] == [(0, "a"), (1, "b")]
    assert [(d.reason, d.record) for d in framed.damage] == [("truncated-record", 2)]
