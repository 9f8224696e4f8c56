"""Golden tests: hand-written blobs of every format decode to exactly these rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from flowkit.errors import QuarantineError
from flowkit.formats.decode import decode_blob
from flowkit.read import decode_to_frame
from flowkit.schema import empty_frame
from flowkit.sources.base import BlobRef
from tests.blobs import (FLOWLOG_ID, NSG_ID, NSG_V1_TUPLES, NSG_V2_TUPLES, T0_MS, T0_S, TARGET_ID,
                         VNET_TUPLES, blob, nsg_record, vnet_record)


def ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def test_nsg_v1_rows_exact():
    frame, report = decode_to_frame(blob([nsg_record({"UserRule_AllowWeb": NSG_V1_TUPLES[:2],
                                                      "DefaultRule_DenyAllInBound": NSG_V1_TUPLES[2:]},
                                                     version=1)]), "v1.json")
    assert report.rows == 3 and report.tuples == 3 and report.quarantined == 0
    assert report.formats == {"nsg-v1": 3}
    first = frame.iloc[0]
    assert first["flow_time"] == ts((T0_S + 5) * 1000)
    assert (first["src_ip"], first["dst_ip"], first["src_port"], first["dst_port"]) == ("192.0.2.10", "10.0.0.4", 50000, 443)
    assert first["protocol"] == 6 and first["direction"] == "inbound" and first["decision"] == "allow"
    assert pd.isna(first["state"]) and pd.isna(first["encryption"])
    for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received"):
        assert frame[c].isna().all(), c  # v1 has no counters: missing, not 0
    assert frame["protocol"].tolist() == [6, 17, 6]
    assert frame["direction"].tolist() == ["inbound", "outbound", "inbound"]
    assert frame["decision"].tolist() == ["allow", "allow", "deny"]
    assert frame["rule"].tolist() == ["UserRule_AllowWeb", "UserRule_AllowWeb", "DefaultRule_DenyAllInBound"]
    assert set(frame["version"]) == {1} and set(frame["log_type"]) == {"nsg"}
    assert set(frame["resource_id"]) == {NSG_ID} and frame["acl_id"].isna().all()
    assert frame["target_resource_id"].isna().all()
    assert set(frame["mac"]) == {"000D3A000001"}
    assert frame["record_time"].iloc[0] == pd.Timestamp("2024-05-01T10:01:00.1234567Z")


def test_nsg_v2_begin_tuples_have_missing_counters():
    frame, report = decode_to_frame(blob([nsg_record({"R": NSG_V2_TUPLES})]), "v2.json")
    assert report.formats == {"nsg-v2": 4}
    assert frame["state"].tolist() == ["B", "C", "E", "B"]
    assert frame["packets_sent"].isna().tolist() == [True, False, False, True]
    assert frame["packets_sent"].iloc[1] == 12 and frame["bytes_sent"].iloc[1] == 3400
    assert frame["packets_received"].iloc[1] == 10 and frame["bytes_received"].iloc[1] == 9800
    assert frame["bytes_received"].iloc[2] == 60
    assert frame["decision"].tolist() == ["allow", "allow", "allow", "deny"]


def test_vnet_v4_rows_exact():
    rec = vnet_record([("00000000-1234-abcd-ef00-c1c2c3c4c5c6", "DefaultRule_AllowInternetOutBound", VNET_TUPLES[:3]),
                       ("unspecified", "unspecified", VNET_TUPLES[3:])])
    frame, report = decode_to_frame(blob([rec]), "vnet.json")
    assert report.formats == {"vnet-v4": 6} and report.quarantined == 0
    assert frame["flow_time"].tolist() == [ts(T0_MS + d) for d in (5123, 65123, 7001, 8002, 9003, 9500)]
    assert frame["state"].tolist() == ["B", "E", "C", "D", "D", "C"]
    assert frame["encryption"].tolist() == ["NX", "NX", "X", "NX", "NX_NOT_ACCEPTED", "NX_HW_NOT_SUPPORTED"]
    # state D, or dropped for being unencrypted, is a deny
    assert frame["decision"].tolist() == ["allow", "allow", "allow", "deny", "deny", "allow"]
    assert frame["protocol"].tolist() == [6, 6, 6, 6, 6, 17]
    assert frame["src_ip"].iloc[3] == "2001:db8::10"
    assert frame["bytes_received"].tolist() == [0, 1580, 4000, 0, 0, 0]  # VNet B/D carry 0s: kept as logged
    assert frame["acl_id"].tolist() == ["00000000-1234-abcd-ef00-c1c2c3c4c5c6"] * 3 + ["unspecified"] * 3
    assert set(frame["resource_id"]) == {FLOWLOG_ID} and set(frame["target_resource_id"]) == {TARGET_ID}
    assert set(frame["version"]) == {4} and set(frame["log_type"]) == {"vnet"}
    assert frame["record_time"].iloc[0] == pd.Timestamp("2024-05-01T10:01:00.5625085Z")
    assert frame["record_time"].iloc[0].nanosecond == 500  # all 7 fractional digits kept


def test_mixed_formats_in_one_blob_and_shared_ip_categories():
    frame, report = decode_to_frame(blob([nsg_record({"R": NSG_V1_TUPLES}, version=1),
                                          nsg_record({"R": NSG_V2_TUPLES}),
                                          vnet_record([("a", "r", VNET_TUPLES)])]), "mixed.json")
    assert report.formats == {"nsg-v1": 3, "nsg-v2": 4, "vnet-v4": 6}
    assert len(frame) == 13
    assert list(frame["src_ip"].cat.categories) == list(frame["dst_ip"].cat.categories)
    assert frame.dtypes.astype(str).to_dict() == empty_frame().dtypes.astype(str).to_dict()


def test_vnet_seconds_timestamps_detected_by_magnitude():
    # a documentation example writes VNet tuples in seconds
    rec = vnet_record([("a", "r", [f"{T0_S},10.0.0.5,192.0.2.80,1,443,6,O,B,NX,0,0,0,0"])])
    frame, _ = decode_to_frame(blob([rec]), "s.json")
    assert frame["flow_time"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00Z")


def test_mac_normalised_and_taken_from_group_then_record_then_path():
    rec = nsg_record({"R": NSG_V1_TUPLES[:1]}, version=1, mac="00-0d-3a-00-00-09")
    frame, _ = decode_to_frame(blob([rec]), "m.json")
    assert frame["mac"].tolist() == ["000D3A000009"]
    rec = vnet_record([("a", "r", VNET_TUPLES[:1])])
    del rec["macAddress"]
    path = ("flowLogResourceID=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW"
            "/FLOWLOGS/FL/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A0000FF/PT1H.json")
    frame, _ = decode_to_frame(blob([rec]), path)
    assert frame["mac"].tolist() == ["000D3A0000FF"]


def test_empty_rule_flows_and_empty_tuple_arrays():
    rec = nsg_record({"R": []})
    rec["properties"]["flows"].append({"rule": "Empty", "flows": []})
    frame, report = decode_to_frame(blob([rec]), "e.json")
    assert len(frame) == 0 and report.records == 1 and report.tuples == 0 and report.consistent


def test_duplicate_tuples_are_kept():
    frame, report = decode_to_frame(blob([nsg_record({"R": [NSG_V1_TUPLES[0]] * 3}, version=1)]), "d.json")
    assert len(frame) == 3 and report.rows == 3


@pytest.mark.parametrize("bad, reason", [
    pytest.param("1714557600,192.0.2.10,10.0.0.4,50000,443,T,I", "wrong-field-count", id="short"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,50000,443,T,I,A,X", "wrong-field-count", id="long"),
    pytest.param("1714557600,192.0.2.300,10.0.0.4,50000,443,T,I,A", "invalid-address", id="bad-ip"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,70000,443,T,I,A", "invalid-src-port", id="port-range"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,5x,443,T,I,A", "invalid-src-port", id="port-text"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,50000,443,Q,I,A", "invalid-protocol", id="protocol"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,50000,443,T,X,A", "invalid-direction", id="direction"),
    pytest.param("1714557600,192.0.2.10,10.0.0.4,50000,443,T,I,Z", "invalid-decision", id="decision"),
    pytest.param("abc,192.0.2.10,10.0.0.4,50000,443,T,I,A", "invalid-timestamp", id="timestamp"),
    pytest.param("", "wrong-field-count", id="empty-string"),
])
def test_bad_nsg_v1_tuple_is_quarantined_with_reason_and_location(bad, reason):
    tuples = [NSG_V1_TUPLES[0], bad, NSG_V1_TUPLES[1]]
    frame, report = decode_to_frame(blob([nsg_record({"R0": [NSG_V1_TUPLES[2]]}, version=1),
                                          nsg_record({"R": tuples}, version=1)]), "q.json")
    assert report.tuples == 4 and report.rows == 3 and report.quarantined == 1
    q = report.quarantine.iloc[0]
    assert (q["blob"], q["record"], q["tuple"], q["reason"], q["raw"]) == ("q.json", 1, 1, reason, bad)
    # the good tuples around it keep their own record's values
    assert frame["rule"].tolist() == ["R0", "R", "R"]
    assert frame["dst_port"].tolist() == [3389, 443, 53]


@pytest.mark.parametrize("bad, reason", [
    pytest.param("1714557600000,10.0.0.5,192.0.2.80,1,443,6,O,Q,NX,0,0,0,0", "invalid-state", id="state"),
    pytest.param("1714557600000,10.0.0.5,192.0.2.80,1,443,6,O,C,YES,0,0,0,0", "invalid-encryption", id="encryption"),
    pytest.param("1714557600000,10.0.0.5,192.0.2.80,1,443,6,O,C,X,-1,0,0,0", "invalid-packets-sent", id="negative"),
    pytest.param("1714557600000,10.0.0.5,192.0.2.80,1,443,6,O,C,X,5000000000,0,0,0", "counter-out-of-range", id="packets-over-uint32"),
    pytest.param("1714557600000,10.0.0.5,192.0.2.80,1,443,300,O,C,X,1,1,1,1", "invalid-protocol", id="protocol-over-255"),
])
def test_bad_vnet_tuple_is_quarantined(bad, reason):
    frame, report = decode_to_frame(blob([vnet_record([("a", "r", [VNET_TUPLES[1], bad])])]), "q.json")
    assert report.rows == 1 and report.quarantine["reason"].tolist() == [reason]
    assert report.quarantine["tuple"].tolist() == [1]


def test_large_bytes_counter_is_kept_exactly():
    big = 9_000_000_000_000  # 9 TB: does not fit 32 bits
    frame, _ = decode_to_frame(blob([vnet_record([("a", "r", [f"{T0_MS},10.0.0.5,192.0.2.80,1,443,6,O,C,X,1,{big},2,{big + 1}"])])]), "b.json")
    assert frame["bytes_sent"].iloc[0] == big and frame["bytes_received"].iloc[0] == big + 1


def test_unknown_future_encryption_reason_is_kept():
    frame, _ = decode_to_frame(blob([vnet_record([("a", "r", [f"{T0_MS},10.0.0.5,192.0.2.80,1,443,6,O,C,NX_SOMETHING_NEW,1,1,1,1"])])]), "n.json")
    assert frame["encryption"].tolist() == ["NX_SOMETHING_NEW"]
    assert list(frame["encryption"].cat.categories[:2]) == ["X", "NX"]


def test_non_string_tuple_elements_are_quarantined():
    rec = vnet_record([("a", "r", [VNET_TUPLES[0]])])
    rec["flowRecords"]["flows"][0]["flowGroups"][0]["flowTuples"].extend([42, None])
    frame, report = decode_to_frame(json.dumps({"records": [rec]}).encode(), "n.json")
    assert len(frame) == 1 and report.quarantine["reason"].tolist() == ["tuple-not-a-string"] * 2
    assert report.quarantine["tuple"].tolist() == [1, 2] and report.consistent


def test_record_without_flows_is_reported_not_silently_skipped():
    frame, report = decode_to_frame(blob([{"time": "2024-05-01T10:00:00Z", "category": "Other"}]), "o.json")
    assert len(frame) == 0 and [p.reason for p in report.problems] == ["not-a-flow-record"]


@pytest.mark.parametrize("version", [1000, -3])
def test_out_of_range_vnet_version_is_reported_and_read_as_v4(version):
    record = vnet_record([("acl", "r", VNET_TUPLES[:2])])
    record["flowLogVersion"] = version
    frame, report = decode_to_frame(blob([record]), "x.json")
    assert report.rows == 2 and frame["version"].tolist() == [4, 4]
    assert [(p.reason, p.record) for p in report.problems] == [("invalid-version", 0)]


@pytest.mark.parametrize("time, detail", [
    ("soon", "time 'soon' is not an ISO 8601 time; its rows have no record_time"),
    ("", "time '' is not an ISO 8601 time; its rows have no record_time"),
    (None, "no time; its rows have no record_time"),
    ("absent", "no time; its rows have no record_time"),
    (1714557660, "time 1714557660 is not a string; its rows have no record_time"),
    ({"at": "10:01"}, 'time {"at":"10:01"} is not a string; its rows have no record_time'),
])
def test_unreadable_record_time_is_reported_and_its_rows_kept(time, detail):
    good = vnet_record([("acl", "r", VNET_TUPLES[:1])])
    bad = vnet_record([("acl", "r", VNET_TUPLES[1:3])])
    if time == "absent":
        del bad["time"]
    else:
        bad["time"] = time
    frame, report = decode_to_frame(blob([good, bad]), "x.json")
    assert report.rows == 3 and report.quarantined == 0 and report.consistent
    assert frame["record_time"].isna().tolist() == [False, True, True]
    assert [(p.blob, p.reason, p.record, p.detail) for p in report.problems] == [
        ("x.json", "invalid-record-time", 1, detail)]


def test_unreadable_record_time_raises_in_strict_mode():
    record = vnet_record([("acl", "r", VNET_TUPLES[:1])])
    record["time"] = "2024-13-45T99:00:00Z"
    with pytest.raises(QuarantineError, match="invalid-record-time") as caught:
        decode_blob(blob([record]), BlobRef("x.json"), strict=True)
    assert (caught.value.blob, caught.value.record) == ("x.json", 0)


@pytest.mark.parametrize("mac, kept", [("ZZ", "ZZ"), ("00-0d-3a", "000D3A"), ("000D3A0000011", "000D3A0000011")])
def test_record_mac_that_is_not_a_mac_is_reported_and_its_rows_kept(mac, kept):
    good = vnet_record([("acl", "r", VNET_TUPLES[:1])])
    bad = vnet_record([("acl", "r", VNET_TUPLES[1:3])], mac=mac)
    frame, report = decode_to_frame(blob([good, bad]), "x.json")
    assert report.rows == 3 and report.quarantined == 0 and report.consistent
    assert frame["mac"].tolist() == ["000D3A000002"] + [kept] * 2
    assert [(p.blob, p.reason, p.record, p.detail) for p in report.problems] == [
        ("x.json", "invalid-mac", 1, f"MAC {kept!r} is not 12 hex digits; its rows keep it")]


def test_nsg_group_mac_that_is_not_a_mac_is_reported_once_per_record():
    record = nsg_record({"A": NSG_V2_TUPLES[:2], "B": NSG_V2_TUPLES[2:]}, mac="000d3a00zz01", record_mac=False)
    frame, report = decode_to_frame(blob([nsg_record({"A": NSG_V2_TUPLES[:1]}), record]), "n.json")
    assert report.rows == 5 and frame["mac"].tolist() == ["000D3A000001"] + ["000D3A00ZZ01"] * 4
    assert [(p.reason, p.record, p.detail) for p in report.problems] == [
        ("invalid-mac", 1, "MAC '000D3A00ZZ01' is not 12 hex digits; its rows keep it")]


def test_dashed_colon_and_empty_macs_are_not_problems():
    records = [vnet_record([("acl", "r", VNET_TUPLES[:1])], mac="00-0d-3a-00-00-02"),
               nsg_record({"A": NSG_V2_TUPLES[:1]}, mac="00:0D:3A:00:00:01"),
               nsg_record({"A": NSG_V2_TUPLES[1:2]}, mac="")]
    records[2]["macAddress"] = "000D3A000003"
    frame, report = decode_to_frame(blob(records), "m.json")
    assert report.problems == () and sorted(frame["mac"]) == ["000D3A000001", "000D3A000002", "000D3A000003"]


def test_mac_that_is_not_a_mac_raises_in_strict_mode():
    with pytest.raises(QuarantineError, match="invalid-mac") as caught:
        decode_blob(blob([vnet_record([("acl", "r", VNET_TUPLES[:1])], mac="ZZ")]), BlobRef("x.json"), strict=True)
    assert (caught.value.blob, caught.value.record) == ("x.json", 0)


def test_blobs_joined_end_to_end_or_listed_give_all_their_records():
    one, two = blob([vnet_record([("acl", "r", VNET_TUPLES[:1])])]), blob([vnet_record([("acl", "r", VNET_TUPLES[1:3])])])
    for data in (one + two, one + b"\r\n" + two, b"[" + one + b"," + two + b"]"):
        frame, report = decode_to_frame(data, "ab.json")
        assert (report.records, report.tuples, report.rows, report.quarantined) == (2, 3, 3, 0), data[:40]
        assert report.problems == () and frame["src_port"].tolist() == [50002, 50002, 50003]


def test_tuples_in_records_that_are_not_flow_records_are_quarantined():
    tuples = VNET_TUPLES[:2]
    data = json.dumps({"Records": [vnet_record([("acl", "r", tuples)])]}).encode()
    frame, report = decode_to_frame(data, "caps.json")
    assert (report.records, report.tuples, report.rows, report.quarantined) == (1, 2, 0, 2) and report.consistent
    assert report.quarantine[["record", "tuple", "reason", "raw"]].values.tolist() == [
        [0, 0, "not-a-flow-record", tuples[0]], [0, 1, "not-a-flow-record", tuples[1]]]
    assert [p.reason for p in report.problems] == ["not-a-flow-record"]


def test_misspelled_flows_in_an_nsg_record_are_not_lost():
    good = nsg_record({"A": NSG_V2_TUPLES[:1]})
    bad = nsg_record({"A": NSG_V2_TUPLES[1:3]})
    bad["properties"]["Flows"] = bad["properties"].pop("flows")
    frame, report = decode_to_frame(blob([good, bad]), "n.json")
    assert (report.tuples, report.rows, report.quarantined) == (3, 1, 2) and report.consistent
    assert report.quarantine["record"].tolist() == [1, 1]
    assert [(p.reason, p.record) for p in report.problems] == [("not-a-flow-record", 1)]


def _misspelled(where: str) -> dict:
    """A flow record (2 tuples) with one key inside it misspelled."""
    if where.startswith("nsg"):
        rec = nsg_record({"A": NSG_V2_TUPLES[1:3]})
        rule = rec["properties"]["flows"][0]
        if where == "nsg-flows":
            rule["flow"] = rule.pop("flows")
        else:
            rule["flows"][0]["flowtuples"] = rule["flows"][0].pop("flowTuples")
        return rec
    rec = vnet_record([("acl", "r", VNET_TUPLES[:2])])
    acl = rec["flowRecords"]["flows"][0]
    if where == "vnet-flows":
        rec["flowRecords"]["flow"] = rec["flowRecords"].pop("flows")
    elif where == "vnet-flowGroups":
        acl["flowGroup"] = acl.pop("flowGroups")
    else:
        acl["flowGroups"][0]["flowTuple"] = acl["flowGroups"][0].pop("flowTuples")
    return rec


@pytest.mark.parametrize("where", ["vnet-flows", "vnet-flowGroups", "vnet-flowTuples", "nsg-flows", "nsg-flowTuples"])
def test_tuples_under_a_misspelled_key_inside_a_flow_record_are_quarantined(where):
    good = vnet_record([("acl", "r", VNET_TUPLES[2:3])], mac="000D3A0000C1")
    frame, report = decode_to_frame(blob([good, _misspelled(where)]), "m.json")
    assert (report.tuples, report.rows, report.quarantined) == (3, 1, 2) and report.consistent
    assert report.quarantine["reason"].tolist() == ["misplaced-tuples"] * 2
    assert report.quarantine["raw"].tolist() == (NSG_V2_TUPLES[1:3] if where.startswith("nsg") else VNET_TUPLES[:2])
    assert [p.reason for p in report.problems] == ["misplaced-tuples"]
    assert "2 tuple string(s) outside every flowTuples array" in report.problems[0].detail
    with pytest.raises(QuarantineError, match="^misplaced-tuples at m.json"):
        decode_blob(blob([good, _misspelled(where)]), BlobRef("m.json"), strict=True)


def test_empty_tuple_lists_are_no_problem():
    empty_rule = nsg_record({"A": []})
    empty_acl = vnet_record([("acl", "r", [])])
    empty_acl["flowRecords"]["flows"].append({"aclID": "b", "flowGroups": []})
    frame, report = decode_to_frame(blob([empty_rule, empty_acl, vnet_record([("acl", "r", VNET_TUPLES[:1])])]),
                                    "e.json")
    assert (report.tuples, report.rows, report.quarantined, report.problems) == (1, 1, 0, ())


def test_an_nsg_event_record_is_not_a_flow_record():
    event = {"time": "2024-05-01T10:00:00Z", "category": "NetworkSecurityGroupEvent", "resourceId": NSG_ID,
             "properties": {"vnetResourceGuid": "{00000000-0000-0000-0000-000000000000}", "type": "block",
                            "direction": "In", "ruleName": "DefaultRule_DenyAllInBound",
                            "conditions": {"destinationPortRange": "0-65535"}}}
    frame, report = decode_to_frame(blob([event, nsg_record({"A": NSG_V2_TUPLES[:2]})]), "e.json")
    assert (report.records, report.tuples, report.rows, report.quarantined) == (2, 2, 2, 0)
    assert [(p.reason, p.record) for p in report.problems] == [("not-a-flow-record", 0)]


def test_vnet_version_zero_is_reported_and_strict_mode_raises():
    record = vnet_record([("acl", "r", VNET_TUPLES[:1])])
    record["flowLogVersion"] = 0
    frame, report = decode_to_frame(blob([record]), "v.json")
    assert frame["version"].tolist() == [4] and [p.reason for p in report.problems] == ["invalid-version"]
    with pytest.raises(QuarantineError, match="invalid-version"):
        decode_blob(blob([record]), BlobRef("v.json"), strict=True)


@pytest.mark.parametrize("version, tuples, read_as", [(3, NSG_V2_TUPLES[:2], 2), (0, NSG_V1_TUPLES[:2], 1)])
def test_unknown_nsg_version_is_reported_and_read_by_field_count(version, tuples, read_as):
    record = nsg_record({"A": tuples}, version=version)
    frame, report = decode_to_frame(blob([record]), "n.json")
    assert report.rows == 2 and frame["version"].tolist() == [read_as, read_as]
    assert [(p.reason, p.detail) for p in report.problems] == [
        ("invalid-version", f"properties.Version {version}; read as {read_as} by its tuples' field count")]


def test_nsg_version_missing_is_read_by_field_count_in_pretty_printed_json():
    record = nsg_record({"A": NSG_V1_TUPLES}, version=1)
    del record["properties"]["Version"]
    frame, report = decode_to_frame(json.dumps({"records": [record]}, indent=2).encode(), "p.json")
    assert (report.rows, report.quarantined, report.problems) == (3, 0, ())
    assert frame["version"].tolist() == [1, 1, 1]


def test_one_ipv6_address_written_two_ways_is_one_address():
    tuples = [t.replace("2001:db8::10", spelling) for t, spelling in
              ((VNET_TUPLES[3], "2001:DB8:0:0:0:0:0:10"), (VNET_TUPLES[3], "2001:0db8::0010"))]
    frame, report = decode_to_frame(blob([vnet_record([("acl", "r", tuples)])]), "v6.json")
    assert report.rows == 2 and frame["src_ip"].tolist() == ["2001:db8::10", "2001:db8::10"]
    assert frame["src_ip"].nunique() == 1


def test_nsg_version_missing_with_a_tuple_array_that_is_not_utf8():
    record = nsg_record({"A": NSG_V1_TUPLES[:1], "B": NSG_V1_TUPLES[1:]}, version=1)
    del record["properties"]["Version"]
    data = json.dumps({"records": [record]}).encode().replace(NSG_V1_TUPLES[0].encode(), b"\x80\x81", 1)
    frame, report = decode_to_frame(data, "u.json")
    assert report.consistent and (report.rows, report.quarantined) == (2, 1)
    assert frame["version"].tolist() == [1, 1]
