"""native_scan: the compiled scanner reads whole VNet and NSG blobs in the common form, and gives up on anything else."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowkit.formats import native_scan
from flowkit.formats.native_scan import KINDS, NEED_ROOM, OK, TABLES, scan_blobs
from tests.blobs import (FLOWLOG_ID, NSG_ID, NSG_V1_TUPLES, NSG_V2_TUPLES, T0_MS, T0_S, TARGET_ID, VNET_TUPLES, blob,
                         nsg_record, vnet_record)

RECORD = vnet_record([("acl-1", "UserRule_A", VNET_TUPLES[:3]), ("acl-2", "UserRule_B", VNET_TUPLES[3:])])
BLOB = blob([RECORD])


def scan(*blobs: bytes, room: int = 1 << 14) -> native_scan.Scanned:
    data = b"".join(blobs)
    bounds = np.cumsum([0, *map(len, blobs)])
    return scan_blobs(np.frombuffer(data, dtype=np.uint8), bounds, room=room)


def values(out: native_scan.Scanned, data: bytes, table: str) -> list[str]:
    j = TABLES.index(table)
    return [data[s:s + n].decode() for s, n in zip(out.starts[j, :out.entries[j]], out.lengths[j, :out.entries[j]])]


def test_the_public_names():
    assert native_scan.__all__ == ["scan_blobs", "warm_up", "Scanned", "TABLES", "KINDS", "OK", "NEED_ROOM"]
    assert KINDS == {1: "nsg1", 2: "nsg2", 4: "vnet4"}


def test_a_blob_as_azure_writes_it_is_read_field_by_field():
    out = scan(BLOB)
    assert (out.status, out.n_records, out.n_groups, out.n_tuples) == (OK, 1, 2, 6)
    assert out.ts.tolist() == [T0_MS + 5123, T0_MS + 65123, T0_MS + 7001, T0_MS + 8002, T0_MS + 9003, T0_MS + 9500]
    assert values(out, BLOB, "src_ip") == ["10.0.0.5", "2001:db8::10"]
    assert out.text_codes[0].tolist() == [0, 0, 0, 1, 0, 0]
    assert values(out, BLOB, "dst_ip") == ["192.0.2.80", "10.0.1.4", "10.0.0.5", "10.0.1.6", "10.0.1.7"]
    assert values(out, BLOB, "encryption") == ["NX", "X", "NX_NOT_ACCEPTED", "NX_HW_NOT_SUPPORTED"]
    assert out.ports.tolist() == [[50002, 50002, 50003, 50004, 50005, 50006], [443, 443, 1433, 22, 1433, 514]]
    assert out.small[0].tolist() == [6, 6, 6, 6, 6, 17]
    assert bytes(out.small[1]) == b"OOOIOO" and bytes(out.small[2]) == b"BECDDC"
    assert out.counters.tolist() == [[0, 3, 10, 0, 0, 4], [0, 767, 2000, 0, 0, 400], [0, 2, 8, 0, 0, 0],
                                     [0, 1580, 4000, 0, 0, 0]]
    assert out.present.all()
    assert out.group_record.tolist() == [0, 0] and out.group_tuples.tolist() == [3, 3]
    assert values(out, BLOB, "rule") == ["UserRule_A", "UserRule_B"] and values(out, BLOB, "acl") == ["acl-1", "acl-2"]
    assert out.group_codes.tolist() == [[0, 1], [0, 1], [-1, -1]]  # VNet groups have no MAC of their own
    assert values(out, BLOB, "mac") == ["000D3A000002"]
    assert values(out, BLOB, "resource") == [FLOWLOG_ID] and values(out, BLOB, "target") == [TARGET_ID]
    assert out.record_blob.tolist() == [0] and out.record_codes.tolist() == [[0], [0], [0]] and out.kind == 4
    assert out.record_time_ns.tolist() == [pd.Timestamp("2024-05-01T10:01:00.5625085Z").value]


def test_blobs_end_to_end_share_their_codes_and_keep_their_blob():
    other = blob([vnet_record([("acl-2", "UserRule_B", VNET_TUPLES[:1])], mac="000D3A000009")])
    out = scan(BLOB, other)
    assert (out.n_records, out.n_groups, out.n_tuples) == (2, 3, 7)
    assert out.record_blob.tolist() == [0, 1] and out.record_codes[0].tolist() == [0, 1]
    assert out.group_codes.tolist() == [[0, 1, 1], [0, 1, 1], [-1, -1, -1]]


def test_empty_counters_are_not_given():
    out = scan(blob([vnet_record([("a", "r", [f"{T0_MS},10.0.0.5,192.0.2.80,1,2,6,O,B,NX,,,7,"])])]))
    assert out.status == OK and out.present[:, 0].tolist() == [False, False, True, False]
    assert out.counters[2, 0] == 7


def test_whitespace_between_tokens_and_keys_in_another_order_are_read():
    pretty = json.dumps({"records": [dict(reversed(list(RECORD.items())))]}, indent=2).encode() + b"\r\n"
    out, plain = scan(pretty), scan(BLOB)
    assert out.status == OK
    assert out.ts.tolist() == plain.ts.tolist() and out.counters.tolist() == plain.counters.tolist()
    assert out.record_time_ns.tolist() == plain.record_time_ns.tolist()


def test_a_group_without_tuples_is_not_kept_nor_its_rule_or_acl_coded():
    rec = vnet_record([("acl-0", "OnlyEmpty", []), ("acl-1", "UserRule_A", VNET_TUPLES[:1])])
    out = scan(blob([rec]))
    data = blob([rec])
    assert (out.status, out.n_groups) == (OK, 1)
    assert values(out, data, "rule") == ["UserRule_A"] and values(out, data, "acl") == ["acl-1"]


def test_no_records_and_no_flows_are_read_as_nothing():
    out = scan(b'{"records":[]}', blob([vnet_record([])]))
    assert (out.status, out.n_records, out.n_groups, out.n_tuples) == (OK, 1, 0, 0)


def test_full_hash_tables_are_grown_and_give_the_same_codes():
    small, large = scan(BLOB, room=2), scan(BLOB)
    assert small.status == OK
    assert small.text_codes.tolist() == large.text_codes.tolist()
    assert small.group_codes.tolist() == large.group_codes.tolist()
    assert [values(small, BLOB, t) for t in TABLES] == [values(large, BLOB, t) for t in TABLES]


def _record(**change):
    rec = dict(RECORD)
    rec.update(change)
    return {k: v for k, v in rec.items() if v is not None}


def _with_tuple(t: str) -> bytes:
    return blob([vnet_record([("a", "r", [t])])])


GOOD = f"{T0_MS},10.0.0.5,192.0.2.80,50002,443,6,O,E,NX,3,767,2,1580"
NOT_COMMON = {
    "an unknown key": blob([_record(extra=1)]),
    "a key given twice": BLOB.replace(b'"category":', b'"category":"x","category":', 1),
    "an escape in a string": BLOB.replace(b"UserRule_A", b"UserRule\\u0041", 1),
    "a byte that is not ASCII": BLOB.replace(b"UserRule_A", "Règle".encode(), 1),
    "version 5": blob([_record(flowLogVersion=5)]),
    "version 04": BLOB.replace(b'"flowLogVersion":4', b'"flowLogVersion":04', 1),
    "version 4.0": BLOB.replace(b'"flowLogVersion":4', b'"flowLogVersion":4.0', 1),
    "version as text": blob([_record(flowLogVersion="4")]),
    "a lower-case MAC": blob([_record(macAddress="000d3a000002")]),
    "a dashed MAC": blob([_record(macAddress="00-0D-3A-00-00-02")]),
    "an empty flow-log resource": blob([_record(flowLogResourceID="")]),
    "no target": blob([_record(targetResourceID=None)]),
    "no time": blob([_record(time=None)]),
    "a null value": blob([_record(targetResourceID=None)]).replace(b'"operationName"', b'"targetResourceID":null,'
                                                                   b'"operationName"', 1),
    "flowGroups before aclID": blob([_record(flowRecords={"flows": [
        {"flowGroups": a["flowGroups"], "aclID": a["aclID"]} for a in RECORD["flowRecords"]["flows"]]})]),
    "text after the blob": BLOB + b"x",
    "two blobs in one file": BLOB + BLOB,
    "a byte-order mark": b"\xef\xbb\xbf" + BLOB,
    "a cut blob": BLOB[:-3],
    "a trailing comma": BLOB.replace(b"]}]}]}}]}", b"]}]}]}},]}"),
    "a tuple with a space": _with_tuple(GOOD.replace("10.0.0.5", " 10.0.0.5")),
    "12 fields": _with_tuple(GOOD.rsplit(",", 1)[0]),
    "14 fields": _with_tuple(GOOD + ",9"),
    "a negative time": _with_tuple("-" + GOOD),
    "a letter in a 13-digit time": _with_tuple(GOOD.replace(str(T0_MS), str(T0_MS)[:-1] + "a")),
    "a 19-digit time": _with_tuple(GOOD.replace(str(T0_MS), "1" * 19)),
    "an empty time": _with_tuple(GOOD.replace(str(T0_MS), "")),
    "port 65536": _with_tuple(GOOD.replace("50002", "65536")),
    "protocol 256": _with_tuple(GOOD.replace(",6,O", ",256,O")),
    "a 20-digit counter": _with_tuple(GOOD.replace(",767,", ",12345678901234567890,")),
    "a two-letter direction": _with_tuple(GOOD.replace(",O,", ",OO,")),
    "an empty address": _with_tuple(GOOD.replace("10.0.0.5", "")),
    "an empty encryption": _with_tuple(GOOD.replace(",NX,", ",,")),
    "a number for a tuple": BLOB.replace(f'"{VNET_TUPLES[0]}"'.encode(), b"42", 1),
    "an empty tuple string": _with_tuple(""),
    "an empty tuple array with a space inside": blob([vnet_record([("acl-0", "OnlyEmpty", []), (
        "acl-1", "UserRule_A", VNET_TUPLES[:1])])]).replace(b'"flowTuples":[]', b'"flowTuples":[ ]', 1),
}


NSG_RECORD = nsg_record({"UserRule_A": NSG_V2_TUPLES[:3], "DefaultRule_DenyAllInBound": NSG_V2_TUPLES[3:]})
NSG_BLOB = blob([NSG_RECORD])


def _nsg(change=None, *, version: int = 2, group_mac: str | None = None, tuples: list[str] | None = None) -> bytes:
    rec = json.loads(json.dumps(nsg_record({"UserRule_A": tuples or (NSG_V2_TUPLES if version == 2 else NSG_V1_TUPLES)},
                                           version=version)))
    if group_mac is not None:
        rec["properties"]["flows"][0]["flows"][0]["mac"] = group_mac
    if change:
        change(rec)
    return blob([rec])


def test_an_nsg_v2_blob_as_azure_writes_it_is_read_field_by_field():
    out = scan(NSG_BLOB)
    assert (out.status, out.kind, out.n_records, out.n_groups, out.n_tuples) == (OK, 2, 1, 2, 4)
    assert out.ts.tolist() == [T0_S + 5, T0_S + 65, T0_S + 95, T0_S + 7]
    assert values(out, NSG_BLOB, "src_ip") == ["192.0.2.10", "203.0.113.9"] and values(out, NSG_BLOB, "dst_ip") == [
        "10.0.0.4"]
    assert out.text_codes.tolist() == [[0, 0, 0, 1], [0, 0, 0, 0], [-1, -1, -1, -1]]  # no encryption
    assert out.ports.tolist() == [[50000, 50000, 50000, 40000], [443, 443, 443, 3389]]
    assert out.small[0].tolist() == [6, 6, 6, 6]  # T
    assert bytes(out.small[1]) == b"IIII" and bytes(out.small[2]) == b"BCEB" and bytes(out.small[3]) == b"AAAD"
    assert out.present.tolist() == [[False, True, True, False]] * 4  # B tuples: counters not given
    assert out.counters[:, 1].tolist() == [12, 3400, 10, 9800]
    assert values(out, NSG_BLOB, "rule") == ["UserRule_A", "DefaultRule_DenyAllInBound"]
    assert values(out, NSG_BLOB, "group_mac") == ["000D3A000001"] and values(out, NSG_BLOB, "acl") == []
    assert out.group_codes.tolist() == [[0, 1], [-1, -1], [0, 0]] and out.group_tuples.tolist() == [3, 1]
    assert values(out, NSG_BLOB, "mac") == ["000D3A000001"] and values(out, NSG_BLOB, "resource") == [NSG_ID]
    assert values(out, NSG_BLOB, "target") == [] and out.record_codes.tolist() == [[0], [0], [-1]]
    assert out.record_time_ns.tolist() == [pd.Timestamp("2024-05-01T10:01:00.1234567Z").value]


def test_an_nsg_v1_blob_is_read_without_state_or_counters():
    data = _nsg(version=1)
    out = scan(data)
    assert (out.status, out.kind, out.n_tuples) == (OK, 1, 3)
    assert out.small[0].tolist() == [6, 17, 6] and bytes(out.small[1]) == b"IOI" and bytes(out.small[3]) == b"AAD"
    assert not out.present.any()


def test_a_group_mac_is_coded_apart_from_the_records_macs():
    out = scan(_nsg(group_mac="000D3A0000F9"))
    assert out.status == OK and out.group_codes[2].tolist() == [0]
    assert values(out, _nsg(group_mac="000D3A0000F9"), "group_mac") == ["000D3A0000F9"]


NSG_NOT_COMMON = {
    "NSG: no record MAC": _nsg(lambda r: r.pop("macAddress")),
    "NSG: a lower-case group MAC": _nsg(group_mac="000d3a000001"),
    "NSG: no group MAC": _nsg(lambda r: r["properties"]["flows"][0]["flows"][0].pop("mac")),
    "NSG: no Version": _nsg(lambda r: r["properties"].pop("Version")),
    "NSG: Version 3": _nsg(lambda r: r["properties"].update(Version=3)),
    "NSG: flows before Version": _nsg(lambda r: r.update(properties={"flows": r["properties"]["flows"], "Version": 2})),
    "NSG: flows before rule": _nsg(lambda r: r["properties"].update(flows=[
        {"flows": f["flows"], "rule": f["rule"]} for f in r["properties"]["flows"]])),
    "NSG: resourceid as documented": _nsg(lambda r: r.update(resourceid=r.pop("resourceId"))),
    "NSG: a VNet key": _nsg(lambda r: r.update(flowLogVersion=4)),
    "NSG: protocol t": _nsg(tuples=[NSG_V2_TUPLES[1].replace(",T,", ",t,")]),
    "NSG: protocol 6": _nsg(tuples=[NSG_V2_TUPLES[1].replace(",T,", ",6,")]),
    "NSG: 8 fields in a v2 record": _nsg(tuples=NSG_V1_TUPLES[:1]),
    "NSG: 13 fields in a v1 record": _nsg(version=1, tuples=NSG_V2_TUPLES[:1]),
    "NSG: two-letter decision": _nsg(tuples=[NSG_V2_TUPLES[1].replace(",A,", ",AA,")]),
    "NSG and VNet in one blob": blob([NSG_RECORD, RECORD]),
    "NSG v1 and v2 in one blob": blob([NSG_RECORD, json.loads(_nsg(version=1))["records"][0]]),
}


def test_nsg_versions_and_vnet_are_not_mixed_across_the_blobs_of_a_batch():
    assert scan(NSG_BLOB, _nsg(version=1)).status < 0 and scan(BLOB, NSG_BLOB).status < 0
    assert scan(NSG_BLOB, _nsg()).status == OK and scan(_nsg(version=1), _nsg(version=1)).status == OK


@pytest.mark.parametrize("case", sorted(NSG_NOT_COMMON))
def test_any_nsg_blob_but_the_common_form_is_left_to_the_general_path(case):
    assert scan(NSG_NOT_COMMON[case]).status < 0


@pytest.mark.parametrize("case", sorted(NOT_COMMON))
def test_anything_but_the_common_form_is_left_to_the_general_path(case):
    assert scan(NOT_COMMON[case]).status < 0


def test_every_not_common_case_differs_from_a_blob_that_is_read():
    assert all(data != BLOB for data in NOT_COMMON.values())
    assert scan(_with_tuple(GOOD)).status == OK


@pytest.mark.parametrize("text", [
    "2024-05-01T10:01:00Z", "2024-05-01T10:01:00.5Z", "2024-05-01T10:01:00.123456789Z", "2000-02-29T23:59:59.9999999Z",
    "1970-01-01T00:00:00Z", "2199-12-31T23:59:59Z"])
def test_record_times_are_read_to_the_nanosecond_as_pandas_reads_them(text):
    out = scan(blob([_record(time=text)]))
    assert out.status == OK and out.record_time_ns.tolist() == [pd.Timestamp(text).value]


@pytest.mark.parametrize("text", [
    "2024-05-01T10:01:00", "2024-05-01 10:01:00Z", "2024-05-01T10:01:00.1234567890Z", "2024-05-01T10:01:00.Z",
    "2023-02-29T10:00:00Z", "2024-04-31T10:00:00Z", "2024-13-01T10:00:00Z", "2024-05-01T24:00:00Z",
    "2024-05-01T10:60:00Z", "2024-05-01T10:00:60Z", "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
    "2024-05-01T10:01:00+00:00", "2024-05-01t10:01:00z", "24-05-01T10:01:00Z", "2024-5-01T10:01:00Z"])
def test_other_record_times_are_left_to_the_general_path(text):
    assert scan(blob([_record(time=text)])).status < 0


@settings(max_examples=200, deadline=None)
@given(when=st.datetimes(min_value=pd.Timestamp("1970-01-01").to_pydatetime(),
                         max_value=pd.Timestamp("2199-12-31").to_pydatetime()),
       digits=st.integers(0, 9), extra=st.integers(0, 999))
def test_any_time_in_the_form_is_read_as_pandas_reads_it(when, digits, extra):
    frac = f"{when.microsecond:06d}{extra:03d}"[:digits]
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"
    out = scan(blob([_record(time=text)]))
    assert out.status == OK
    assert out.record_time_ns.tolist() == [pd.to_datetime(pd.Series([text]), format="ISO8601", utc=True)
                                           .array.as_unit("ns").asi8[0]]


def test_need_room_is_a_status_the_caller_never_sees():
    assert NEED_ROOM not in (OK,) and scan(BLOB, room=1).status == OK


@pytest.mark.parametrize("ts", ["1714557600", "1714557600123", "0001714557600123", "1", "171455760012", "17145576001234"])
def test_tuple_times_of_any_length_up_to_18_digits_are_read(ts):
    out = scan(_with_tuple(GOOD.replace(str(T0_MS), ts)))
    assert out.status == OK and out.ts.tolist() == [int(ts)]
