"""Tuple strings outside every flow-tuple array: each is quarantined exactly once, never twice and
never lost, when it shares its text with tuples that are rows or already quarantined (pinned by
mutation testing)."""

from __future__ import annotations

import json

from flowkit.read import decode_to_frame
from tests.blobs import NSG_ID, NSG_V2_TUPLES, VNET_TUPLES, blob, nsg_record, vnet_record


def test_a_tuple_both_in_a_flow_record_and_in_a_non_flow_record_is_a_row_and_one_quarantine_entry():
    # duplicates exist in real data: the flow record holds the tuple twice (two rows); the
    # non-flow record's copy is the one stray, matched by count, not by value alone
    flow = vnet_record([("acl", "r", [VNET_TUPLES[0], VNET_TUPLES[0]])])
    event = {"time": "2024-05-01T10:00:00Z", "category": "X", "Flows": [VNET_TUPLES[0]]}
    frame, report = decode_to_frame(blob([flow, event]), "dup.json")
    assert (report.tuples, report.rows, report.quarantined) == (3, 2, 1) and report.consistent
    assert report.quarantine[["record", "tuple", "reason", "raw"]].values.tolist() == [
        [1, 0, "not-a-flow-record", VNET_TUPLES[0]]]
    assert frame["src_port"].tolist() == [50002, 50002]


def test_a_tuple_in_a_damaged_record_is_quarantined_once_when_another_record_is_not_a_flow_record():
    event = json.dumps({"time": "2024-05-01T10:00:00Z", "category": "X", "Flows": [VNET_TUPLES[1]]})
    damaged = '{"time":"2024-05-01T10:00:00Z","flowRecords":{"flows":[' + json.dumps(VNET_TUPLES[2]) + ' oops]}}'
    data = ('{"records":[' + event + "," + damaged + "]}").encode()
    frame, report = decode_to_frame(data, "dmg.json")
    assert (report.records, report.tuples, report.rows, report.quarantined) == (2, 2, 0, 2) and report.consistent
    assert report.quarantine[["record", "tuple", "reason", "raw"]].values.tolist() == [
        [1, 0, "invalid-record", VNET_TUPLES[2]], [0, 0, "not-a-flow-record", VNET_TUPLES[1]]]
    assert [(p.reason, p.record) for p in report.problems] == [("invalid-record", 1), ("not-a-flow-record", 0)]


def test_the_rule_conditions_of_an_nsg_event_record_are_not_counted_as_tuples():
    # as Azure writes them: address lists "0.0.0.0/0,0.0.0.0/0", protocols "6,17", port lists
    conditions = {"protocols": "6,17", "sourcePortRange": "0-65535", "destinationPortRange": "80,443,8080,8443",
                  "sourceIP": "0.0.0.0/0,0.0.0.0/0", "destinationIP": "10.0.0.4,10.0.0.5"}
    event = {"time": "2024-05-01T10:00:00Z", "systemId": "00000000-0000-0000-0000-0000000000aa",
             "category": "NetworkSecurityGroupEvent", "resourceId": NSG_ID,
             "operationName": "NetworkSecurityGroupEvents",
             "properties": {"vnetResourceGuid": "{00000000-0000-0000-0000-000000000000}", "subnetPrefix": "10.0.0.0/24",
                            "macAddress": "00-0D-3A-00-00-01", "primaryIPv4Address": "10.0.0.4",
                            "ruleName": "UserRule_HTTP", "direction": "In", "priority": 340, "type": "allow",
                            "conditions": conditions}}
    frame, report = decode_to_frame(blob([event, nsg_record({"A": NSG_V2_TUPLES[:2]})]), "e.json")
    assert (report.records, report.tuples, report.rows, report.quarantined) == (2, 2, 2, 0) and report.consistent
    assert [(p.reason, p.record) for p in report.problems] == [("not-a-flow-record", 0)]


def test_a_misplaced_tuple_with_a_garbled_address_is_still_quarantined():
    # an epoch number and seven more fields make a tuple, whatever its address field holds
    garbled = "1714557600,not-an-ip,10.0.0.4,50000,443,T,I,A"
    short = "1714557600,not-an-ip,10.0.0.4"  # three fields: not a tuple shape (a list of values)
    event = {"time": "2024-05-01T10:00:00Z", "category": "X", "Flows": [garbled, short]}
    frame, report = decode_to_frame(blob([event, nsg_record({"A": NSG_V2_TUPLES[:1]})]), "g.json")
    assert (report.tuples, report.rows, report.quarantined) == (2, 1, 1) and report.consistent
    assert report.quarantine[["record", "reason", "raw"]].values.tolist() == [[0, "not-a-flow-record", garbled]]


def test_a_damaged_nsg_event_record_quarantines_no_rule_condition_as_a_tuple():
    # cut in the middle: its text is scanned for tuple strings, and conditions are none
    event = json.dumps({"time": "2024-05-01T10:00:00Z", "category": "NetworkSecurityGroupEvent",
                        "properties": {"conditions": {"protocols": "6,17", "sourceIP": "0.0.0.0/0,0.0.0.0/0"}}})
    flow = json.dumps(nsg_record({"A": NSG_V2_TUPLES[:1]}))
    data = ('{"records":[' + flow + "," + event[:-20]).encode()
    frame, report = decode_to_frame(data, "cut.json")
    assert (report.records, report.tuples, report.rows, report.quarantined) == (2, 1, 1, 0) and report.consistent
    assert [p.reason for p in report.problems] == ["truncated-record"]
