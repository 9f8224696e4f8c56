"""Whole flow log records (NSG and VNet), with the fields and key order Azure writes.

Examples
--------
>>> rec = vnet_record("2024-05-01T10:00:52.5625085Z", "9f3c…", "000D3A000101",
...                   "/SUBSCRIPTIONS/S/…/FLOWLOGS/FL", "/subscriptions/S/…/virtualNetworks/v",
...                   [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowVnetOutBound", ["t1"])])])
>>> rec["flowRecords"]["flows"][0]["flowGroups"][0]
{'rule': 'DefaultRule_AllowVnetOutBound', 'flowTuples': ['t1']}
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = [
    "NSG_CATEGORY",
    "NSG_OPERATION",
    "VNET_CATEGORY",
    "VNET_OPERATION",
    "nsg_record",
    "vnet_record",
]

NSG_CATEGORY = "NetworkSecurityGroupFlowEvent"
NSG_OPERATION = "NetworkSecurityGroupFlowEvents"
VNET_CATEGORY = "FlowLogFlowEvent"
VNET_OPERATION = "FlowLogFlowEvent"

RuleTuples = tuple[str, Sequence[str]]


def nsg_record(time: str, system_id: str, mac: str, resource_id: str, version: int,
               rules: Sequence[RuleTuples]) -> dict[str, Any]:
    """Return one NSG flow log record.

    Parameters
    ----------
    time : str
        Record time, e.g. from :func:`flowkit.synth.tuples.record_time`.
    system_id : str
        The NSG's system GUID.
    mac : str
        NIC MAC address, 12 upper-case hex digits (used for the record and the inner ``mac``).
    resource_id : str
        NSG resource ID, upper-case as Azure writes it.
    version : {1, 2}
        ``properties.Version``.
    rules : sequence of (rule, tuples)
        One entry per rule, in order; a rule with no tuples gets ``"flows": []``.

    Examples
    --------
    >>> r = nsg_record("2024-05-01T10:00:52.5625085Z", "g", "000D3A000101", "/SUBSCRIPTIONS/S", 2,
    ...                [("DefaultRule_DenyAllInBound", ["1714557600,192.0.2.1,10.10.1.4,4000,22,T,I,D,B,,,,"])])
    >>> r["properties"]["flows"][0]["flows"][0]["mac"], r["properties"]["Version"]
    ('000D3A000101', 2)
    """
    return {
        "time": time,
        "systemId": system_id,
        "macAddress": mac,
        "category": NSG_CATEGORY,
        "resourceId": resource_id,
        "operationName": NSG_OPERATION,
        "properties": {
            "Version": version,
            "flows": [
                {"rule": rule, "flows": [{"mac": mac, "flowTuples": list(tuples)}] if tuples else []}
                for rule, tuples in rules
            ],
        },
    }


def vnet_record(time: str, flow_log_guid: str, mac: str, flow_log_resource_id: str,
                target_resource_id: str,
                acls: Sequence[tuple[str, Sequence[RuleTuples]]]) -> dict[str, Any]:
    """Return one VNet flow log record (``flowLogVersion`` 4).

    Parameters
    ----------
    time : str
        Record time with 7 fractional digits.
    flow_log_guid : str
        The flow log's GUID.
    mac : str
        NIC MAC address, 12 upper-case hex digits.
    flow_log_resource_id : str
        Flow log resource ID, upper-case.
    target_resource_id : str
        What the flow log is enabled on (VNet, subnet or NIC), in ARM case.
    acls : sequence of (aclID, [(rule, tuples), …])
        ``flowRecords.flows`` in order.

    Examples
    --------
    >>> r = vnet_record("t", "g", "000D3A000101", "/FL", "/vnet", [("unspecified", [("unspecified", ["x"])])])
    >>> list(r)[:4], r["flowRecords"]["flows"][0]["aclID"]
    (['time', 'flowLogVersion', 'flowLogGUID', 'macAddress'], 'unspecified')
    """
    return {
        "time": time,
        "flowLogVersion": 4,
        "flowLogGUID": flow_log_guid,
        "macAddress": mac,
        "category": VNET_CATEGORY,
        "flowLogResourceID": flow_log_resource_id,
        "targetResourceID": target_resource_id,
        "operationName": VNET_OPERATION,
        "flowRecords": {
            "flows": [
                {"aclID": acl_id,
                 "flowGroups": [{"rule": rule, "flowTuples": list(tuples)} for rule, tuples in groups]}
                for acl_id, groups in acls
            ]
        },
    }
