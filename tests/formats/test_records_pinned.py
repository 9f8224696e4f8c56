"""The record skeleton: outcomes pinned by mutation testing."""

from __future__ import annotations

import json

from flowkit.formats.framing import frame_records

T_NSG = "1717917209,192.0.2.150,198.51.100.10,56292,3389,T,I,D,B,,,,"
T_VNET = "1663146003606,198.51.100.6,203.0.113.180,23956,443,6,O,E,NX,3,767,2,1580"


def test_fields_azure_may_add_at_any_level_do_not_break_a_record() -> None:
    """Unknown keys are ignored on every struct (a new Azure field must not quarantine the record)."""
    nsg = {"time": "2024-06-09T07:14:30Z", "new": 1, "category": "NetworkSecurityGroupFlowEvent",
           "properties": {"Version": 2, "new": 1, "flows": [
               {"rule": "R", "new": 1, "flows": [{"mac": "000D3A8D51B3", "new": 1, "flowTuples": [T_NSG]}]}]}}
    vnet = {"time": "2022-09-14T09:00:52Z", "new": 1, "flowLogVersion": 4, "flowRecords": {"new": 1, "flows": [
        {"aclID": "unspecified", "new": 1, "flowGroups": [{"rule": "R", "new": 1, "flowTuples": [T_VNET]}]}]}}
    for data in (json.dumps({"records": [nsg, vnet], "new": 1}).encode(), json.dumps(nsg).encode()):
        framed = frame_records(data)
        assert framed.damage == []
        records = [r for _, r in framed.records]
        assert bytes(records[0].properties.flows[0].flows[0].flowTuples) == json.dumps([T_NSG]).encode()
        if len(records) > 1:
            assert bytes(records[1].flowRecords.flows[0].flowGroups[0].flowTuples) == json.dumps([T_VNET]).encode()


def test_every_public_name_of_the_module_exists() -> None:
    from flowkit.formats import records

    assert sorted(records.__all__) == sorted(
        ["Record", "Envelope", "RecordList", "NsgTupleGroup", "NsgRule", "NsgProperties", "VnetGroup", "VnetAcl",
         "VnetFlowRecords", "EMPTY_ARRAY", "skeleton_quotes", "record_quotes", "properties_quotes",
         "flow_records_quotes", "acl_quotes", "rule_quotes", "group_quotes"])
    assert all(hasattr(records, name) for name in records.__all__)
