"""Hand-written flow-log records for golden tests (RFC 5737 / RFC 3849 addresses only)."""

from __future__ import annotations

from typing import Any

from flowkit.synth import blob_blocks as blocks  # Azure's block structure: 12-byte head, records, 2-byte tail
from flowkit.synth import blob_bytes as blob  # compact {"records":[...]}, as Azure writes it

__all__ = ["blob", "blocks", "nsg_record", "vnet_record", "NSG_ID", "FLOWLOG_ID", "TARGET_ID", "T0_S", "T0_MS",
           "NSG_V1_TUPLES", "NSG_V2_TUPLES", "VNET_TUPLES"]

NSG_ID = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG-TEST"
          "/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-TEST")
FLOWLOG_ID = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/NETWORKWATCHERRG"
              "/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/FL-TEST")
TARGET_ID = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-TEST"
             "/providers/Microsoft.Network/virtualNetworks/vnet-test")

# 2024-05-01T10:00:00Z
T0_S = 1714557600
T0_MS = T0_S * 1000


def nsg_record(tuples_by_rule: dict[str, list[str]], *, version: int = 2, mac: str = "000D3A000001",
               time: str = "2024-05-01T10:01:00.1234567Z", record_mac: bool = True) -> dict[str, Any]:
    """An NSG flow log record with one MAC group per rule."""
    rec: dict[str, Any] = {
        "time": time, "systemId": "00000000-0000-0000-0000-0000000000aa",
        "category": "NetworkSecurityGroupFlowEvent", "resourceId": NSG_ID,
        "operationName": "NetworkSecurityGroupFlowEvents",
        "properties": {"Version": version, "flows": [
            {"rule": rule, "flows": [{"mac": mac, "flowTuples": tuples}]}
            for rule, tuples in tuples_by_rule.items()]},
    }
    if record_mac:
        rec["macAddress"] = mac
    return rec


def vnet_record(groups: list[tuple[str, str, list[str]]], *, mac: str = "000D3A000002",
                time: str = "2024-05-01T10:01:00.5625085Z") -> dict[str, Any]:
    """A VNet flow log record; groups are (aclID, rule, tuples)."""
    acls: dict[str, list[dict[str, Any]]] = {}
    for acl, rule, tuples in groups:
        acls.setdefault(acl, []).append({"rule": rule, "flowTuples": tuples})
    return {
        "time": time, "flowLogVersion": 4, "flowLogGUID": "00000000-0000-0000-0000-0000000000bb",
        "macAddress": mac, "category": "FlowLogFlowEvent", "flowLogResourceID": FLOWLOG_ID,
        "targetResourceID": TARGET_ID, "operationName": "FlowLogFlowEvent",
        "flowRecords": {"flows": [{"aclID": acl, "flowGroups": gs} for acl, gs in acls.items()]},
    }


NSG_V1_TUPLES = [
    f"{T0_S + 5},192.0.2.10,10.0.0.4,50000,443,T,I,A",
    f"{T0_S + 6},10.0.0.4,198.51.100.7,50001,53,U,O,A",
    f"{T0_S + 7},203.0.113.9,10.0.0.4,40000,3389,T,I,D",
]
NSG_V2_TUPLES = [
    f"{T0_S + 5},192.0.2.10,10.0.0.4,50000,443,T,I,A,B,,,,",
    f"{T0_S + 65},192.0.2.10,10.0.0.4,50000,443,T,I,A,C,12,3400,10,9800",
    f"{T0_S + 95},192.0.2.10,10.0.0.4,50000,443,T,I,A,E,2,120,1,60",
    f"{T0_S + 7},203.0.113.9,10.0.0.4,40000,3389,T,I,D,B,,,,",
]
VNET_TUPLES = [
    f"{T0_MS + 5123},10.0.0.5,192.0.2.80,50002,443,6,O,B,NX,0,0,0,0",
    f"{T0_MS + 65123},10.0.0.5,192.0.2.80,50002,443,6,O,E,NX,3,767,2,1580",
    f"{T0_MS + 7001},10.0.0.5,10.0.1.4,50003,1433,6,O,C,X,10,2000,8,4000",
    f"{T0_MS + 8002},2001:db8::10,10.0.0.5,50004,22,6,I,D,NX,0,0,0,0",
    f"{T0_MS + 9003},10.0.0.5,10.0.1.6,50005,1433,6,O,D,NX_NOT_ACCEPTED,0,0,0,0",
    f"{T0_MS + 9500},10.0.0.5,10.0.1.7,50006,514,17,O,C,NX_HW_NOT_SUPPORTED,4,400,0,0",
]
