"""The JSON skeleton of flow-log records, decoded with msgspec.

Only the skeleton is decoded into Python objects; every ``flowTuples`` array is
kept as raw JSON bytes (:class:`msgspec.Raw`) and parsed later, in bulk, as CSV.
Unknown fields are ignored, so new fields Azure adds do not break reading. A list
whose key is missing is None (not ``[]``), and a missing ``flowTuples`` is
:data:`EMPTY_ARRAY` itself: a misspelled key is told from an empty list.

Examples
--------
>>> import msgspec
>>> rec = msgspec.json.decode(b'{"time":"2024-05-01T10:00:00Z","flowLogVersion":4}', type=Record)
>>> rec.flowLogVersion
4
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "Record",
    "Envelope",
    "RecordList",
    "NsgTupleGroup",
    "NsgRule",
    "NsgProperties",
    "VnetGroup",
    "VnetAcl",
    "VnetFlowRecords",
    "EMPTY_ARRAY",
]

EMPTY_ARRAY = msgspec.Raw(b"[]")


class NsgTupleGroup(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``properties.flows[].flows[]``: the tuples of one MAC under one rule."""

    mac: str | None = None
    flowTuples: msgspec.Raw = EMPTY_ARRAY


class NsgRule(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``properties.flows[]``: one rule and its per-MAC tuple groups (may be empty)."""

    rule: str | None = None
    flows: list[NsgTupleGroup] | None = None  # None: the key is missing (misspelled?); [] is a rule without tuples


class NsgProperties(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``properties`` of an NSG flow log record (``Version`` is capitalised)."""

    Version: int | None = None
    flows: list[NsgRule] | None = None   # None: not a flow record (an NSG event record, say)


class VnetGroup(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``flowRecords.flows[].flowGroups[]``: one rule and its tuples."""

    rule: str | None = None
    flowTuples: msgspec.Raw = EMPTY_ARRAY


class VnetAcl(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``flowRecords.flows[]``: one ACL (aclID) and its rule groups."""

    aclID: str | None = None
    flowGroups: list[VnetGroup] | None = None  # None: the key is missing (misspelled?)


class VnetFlowRecords(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """``flowRecords`` of a VNet flow log record."""

    flows: list[VnetAcl] | None = None  # None: the key is missing (misspelled?)


class Record(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """One record of either format (fields of the other format stay None).

    ``time`` takes any JSON value, so a record whose time is a number or an
    object keeps its tuples; the decoder reports such a time as unreadable.
    """

    time: Any = None
    category: str | None = None
    macAddress: str | None = None
    resourceId: str | None = None
    resourceid: str | None = None
    flowLogVersion: int | None = None
    flowLogResourceID: str | None = None
    targetResourceID: str | None = None
    properties: NsgProperties | None = None
    flowRecords: VnetFlowRecords | None = None
    records: list[Record] | None = None  # a whole blob where a record should be (blobs joined)


class Envelope(Record, forbid_unknown_fields=False):
    """A whole blob ``{"records": [...]}``, or a single record without the wrapper."""


RecordList = list[Record]
