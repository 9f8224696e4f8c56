"""Tuple strings in text the skeleton decoder does not read (a key given twice, a key flowkit
does not know, a flow record holding records) are rows or quarantined, never lost: the quote
characters of each blob are counted against its skeletons' and arrays'."""

from __future__ import annotations

import json

import pytest

from flowkit.errors import QuarantineError
from flowkit.formats.decode import decode_blob
from flowkit.formats.framing import frame_records
from flowkit.formats.records import skeleton_quotes
from flowkit.formats.strays import _arrays, _outside_arrays
from flowkit.sources.base import BlobRef
from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, VNET_TUPLES, blob, nsg_record, vnet_record

V0, V1, V2 = VNET_TUPLES[:3]
N0, N1 = NSG_V2_TUPLES[1:3]
VNET = blob([vnet_record([("acl", "rule", [V0])])]).decode()
NSG = blob([nsg_record({"rule": [N0]})]).decode()


def counted(data: bytes) -> int:
    """The quotes the reader accounts for outside the arrays: the framing's and the records' skeletons."""
    framed = frame_records(data)
    return framed.quotes + skeleton_quotes([rec for _, rec in framed.records])


def arrays_quotes(data: bytes) -> int:
    return sum(bytes(raw).count(b'"') for _, rec in frame_records(data).records for raw in _arrays(rec))


def read(text: str, **kw):
    out = decode_blob(text.encode(), BlobRef("u/PT1H.json"), **kw)
    assert out.report.consistent, out.report
    return out


def flow_times(out) -> list[int]:
    """Each row's flow time as its tuple writes it (ms for VNet, s for NSG)."""
    ms = out.table.to_pandas()["flow_time"].astype("int64")
    return [int(v) // 1000 if log == "nsg" else int(v)
            for v, log in zip(ms, out.table.column("log_type").to_pylist())]


def quarantined(out) -> list[tuple[str, str]]:
    q = out.report.quarantine
    return list(zip(q["reason"], q["raw"]))


def test_the_skeleton_count_is_exact_on_every_conformance_file(conformance_dir):
    files = sorted(p for p in conformance_dir.iterdir() if p.suffix in (".json", ".txt"))
    assert len(files) == 5
    for path in files:
        data = path.read_bytes()
        assert counted(data) == data.count(b'"') - arrays_quotes(data), path.name


@pytest.mark.parametrize("text", [VNET, NSG, blob([nsg_record({"r": [N0]}, version=1, record_mac=False)]).decode(),
                                  "," + VNET[len('{"records":['):-2], VNET[len('{"records":['):-2]],
                         ids=["vnet", "nsg-v2", "nsg-v1", "fragment", "single-record"])
def test_the_skeleton_count_is_exact_on_hand_written_records(text):
    data = text.encode()
    assert counted(data) == data.count(b'"') - arrays_quotes(data)


def test_skeleton_quotes_counts_keys_and_string_values_only():
    rec = frame_records(b'{"time":"t","flowLogVersion":4,"macAddress":null,"other":"x"}').records[0][1]
    assert skeleton_quotes([rec]) == 6  # "time":"t" and "flowLogVersion"; null and the unknown key uncounted
    rec = frame_records(b'{"time":5,"properties":{"Version":2,"flows":[{"rule":null,"flows":[{"flowTuples":[]}]}]}}'
                        ).records[0][1]
    assert skeleton_quotes([rec]) == 2 + 2 + 2 + 2 + 2 + 2  # time (a number), properties, Version, flows x2, flowTuples
    text = b'{"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r"},{"rule":"s","flowTuples":[]}]}]}}'
    assert skeleton_quotes([frame_records(text).records[0][1]]) == text.count(b'"') == 20  # a group without flowTuples


@pytest.mark.parametrize("text", [
    pytest.param(b'{"records":[{"records":[{"time":"a"}],"category":"c"},{"time":"b"}]}', id="container"),
    pytest.param(b'{"records":[{"time":"a"}]}{"records":[{"time":"b"}]}', id="blobs-joined"),
    pytest.param(b'[{"records":[{"time":"a"}]},{"time":"b"}]', id="list-of-blobs"),
])
def test_the_count_covers_records_that_were_whole_blobs(text):
    assert counted(text) == text.count(b'"')


@pytest.mark.parametrize("text, rows, lost", [
    pytest.param(VNET.replace(f'"flowTuples":["{V0}"]', f'"flowTuples":["{V1}"],"flowTuples":["{V0}"]'),
                 [V0], [V1], id="flowTuples-twice"),
    pytest.param(VNET.replace('"flowGroups":[', f'"flowGroups":[{{"rule":"r","flowTuples":["{V1}","{V2}"]}}],'
                                                '"flowGroups":['), [V0], [V1, V2], id="flowGroups-twice"),
    pytest.param(VNET.replace('{"records":[', '{"records":[' + json.dumps(
                     vnet_record([("acl", "rule", [V1])]), separators=(",", ":")) + '],"records":['), [V0], [V1],
                 id="records-twice"),
    pytest.param(VNET.replace(f'"flowTuples":["{V0}"]', f'"flowTuples":[],"flowTuple":["{V0}"]'),
                 [], [V0], id="beside-an-empty-flowTuples"),
    pytest.param(VNET.replace(f'"flowTuples":["{V0}"]', f'"flowTuples":["{V0}"],"moreTuples":["{V1}"]'),
                 [V0], [V1], id="beside-a-flowTuples"),
    pytest.param(VNET.replace('"flowGroups":[', f'"extra":["{V2}"],"flowGroups":['), [V0], [V2],
                 id="under-an-acl"),
    pytest.param(VNET.replace('"flowLogVersion":4', f'"flowLogVersion":4,"sample":{{"t":["{V1}"]}}'),
                 [V0], [V1], id="under-a-record"),
    pytest.param(NSG.replace('"properties":{', f'"properties":{{"flows":[{{"rule":"x","flows":[{{"mac":'
                             f'"000D3A000001","flowTuples":["{N1}"]}}]}}]}},"properties":{{'), [N0], [N1],
                 id="nsg-properties-twice"),
    pytest.param(NSG.replace('"mac":"000D3A000001"', f'"mac":"000D3A000001","oldTuples":["{N1}"]'), [N0], [N1],
                 id="nsg-beside-a-flowTuples"),
    pytest.param("," + VNET[len('{"records":['):-2].replace(f'"flowTuples":["{V0}"]',
                 f'"flowTuples":["{V1}"],"flowTuples":["{V0}"]'), [V0], [V1], id="fragment-flowTuples-twice"),
    pytest.param("," + VNET[len('{"records":['):-2].replace(f'"flowTuples":["{V0}"]',
                 f'"flowTuples":["{V0}"],"flowTuples":["{V0}","{V0}"]'), [V0, V0], [V0], id="fragment-copies"),
])
def test_tuples_in_text_that_is_not_read_are_quarantined_as_misplaced(text, rows, lost):
    json.loads("[" + text[1:] + "]" if text.startswith(",") else text)  # JSON: the standard allows a key twice
    out = read(text)
    assert flow_times(out) == [int(t.split(",")[0]) for t in rows]
    assert quarantined(out) == [("misplaced-tuples", t) for t in lost]
    assert out.report.tuples == len(rows) + len(lost)
    [problem] = out.report.problems
    assert problem.reason == "misplaced-tuples" and problem.detail.startswith(f"{len(lost)} tuple string(s) outside")
    with pytest.raises(QuarantineError, match="misplaced-tuples"):
        read(text, strict=True)


@pytest.mark.parametrize("text", [
    pytest.param(VNET.replace('"rule":"rule"', r'"rule":"say \"hi\""'), id="escaped-quotes"),
    pytest.param(VNET.replace('"flowLogVersion":4', '"flowLogVersion":4,"note":"a,b","n":null'),
                 id="unknown-key-and-null"),
    pytest.param(VNET.replace('"flowLogVersion":4', '"flowLogVersion":4,"tags":["6,17","0.0.0.0/0,10.0.0.0/8"]'),
                 id="lists-that-are-not-tuples"),
    pytest.param(NSG.replace('"time":"', '"time":"2024-05-01T10:01:00Z","time":"'), id="time-twice"),
])
def test_text_that_is_not_read_but_holds_no_tuple_loses_nothing_and_says_nothing(text):
    out = read(text)
    assert (out.report.rows, out.report.quarantined, out.report.problems) == (1, 0, ())


def test_a_flow_record_that_holds_records_keeps_its_own_tuples():
    outer = vnet_record([("acl", "rule", [V0])])
    outer["records"] = [vnet_record([("acl", "rule", [V1, V2])], mac="000D3A000003")]
    out = read(blob([outer]).decode())
    assert out.report.rows == 3 and out.report.records == 2 and not out.report.problems
    assert out.table.column("mac").to_pylist() == ["000D3A000002", "000D3A000003", "000D3A000003"]
    assert out.table.column("src_port").to_pylist() == [50002, 50002, 50003]


def test_the_arrays_read_are_cut_out_of_a_blob_before_it_is_scanned():
    data = b'{"records":[{"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["1,a"]},{"flowTuples":[]}]}]}}]}'
    assert _outside_arrays(data, frame_records(data)) == (
        b'{"records":[{"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":},{"flowTuples":}]}]}}]}')
    fragment = b',' + data[len(b'{"records":['):-2]  # decoded from a copy: the arrays cannot be placed
    assert _outside_arrays(fragment, frame_records(fragment)) is None


def test_blobs_that_hold_nothing_unread_are_not_scanned(conformance_dir, monkeypatch):
    """The count is exact on what Azure writes, so no well-formed blob pays for a scan."""
    import flowkit.formats.decode as decode

    scanned = []
    monkeypatch.setattr(decode, "misplaced_tuples", lambda data, ref, *a, **k: scanned.append(ref.name))
    mixed = blob([nsg_record({"r": NSG_V1_TUPLES[:1]}, version=1), nsg_record({"r": [N0, N1]}), vnet_record([("a", "r", [V0])])])
    items = [(p.read_bytes(), BlobRef(p.name)) for p in sorted(conformance_dir.iterdir()) if p.suffix != ".md"]
    items += [(VNET.encode(), BlobRef("v.json")), (NSG.encode(), BlobRef("n.json")), (mixed, BlobRef("m.json")),
              (b"," + VNET.encode()[len(b'{"records":['):-2], BlobRef("f.json"))]
    out = decode.decode_blobs(items)
    assert out.report.rows == 1324 + 1 + 1 + 4 + 1 and out.report.quarantined == 0
    assert scanned == []


def test_every_record_field_but_those_named_holds_text():
    """record_quotes counts a string's quotes for every field read but NOT_TEXT_FIELDS."""
    from flowkit.formats.records import NOT_TEXT_FIELDS, Record

    text_fields = [f for f in Record.__struct_fields__ if f not in NOT_TEXT_FIELDS]
    assert all(Record.__annotations__[f] == "str | None" for f in text_fields) and len(text_fields) == 9
    assert {f: Record.__annotations__[f] for f in NOT_TEXT_FIELDS} == {
        "time": "Any", "flowLogVersion": "int | None", "properties": "NsgProperties | None",
        "flowRecords": "VnetFlowRecords | None", "records": "list[Record] | None"}
