"""The JSON skeleton of flow-log records, decoded with msgspec.

Only the skeleton is decoded into Python objects; every ``flowTuples`` array is
kept as raw JSON bytes (:class:`msgspec.Raw`) and parsed later, in bulk, as CSV.
Unknown fields are ignored, so new fields Azure adds do not break reading. A list
whose key is missing is None (not ``[]``), and a missing ``flowTuples`` is
:data:`EMPTY_ARRAY` itself: a misspelled key is told from an empty list.

Every field Azure documents is declared, even those flowkit does not use (``systemId``,
``operationName``, ``flowLogGUID``), so that :func:`skeleton_quotes` can count the quote
characters of a record's skeleton: a blob holding more quotes than its skeletons and its
``flowTuples`` arrays together holds text flowkit did not read (a key given twice, a key it
does not know), and is scanned for tuple strings there.

Examples
--------
>>> import msgspec
>>> rec = msgspec.json.decode(b'{"time":"2024-05-01T10:00:00Z","flowLogVersion":4}', type=Record)
>>> rec.flowLogVersion
4
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import attrgetter
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
    "skeleton_quotes",
    "record_quotes",
    "properties_quotes",
    "flow_records_quotes",
    "acl_quotes",
    "rule_quotes",
    "group_quotes",
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
    systemId: str | None = None        # not used: declared so that skeleton_quotes counts it
    operationName: str | None = None   # idem
    flowLogGUID: str | None = None     # idem
    properties: NsgProperties | None = None
    flowRecords: VnetFlowRecords | None = None
    records: list[Record] | None = None  # a whole blob where a record should be (blobs joined)


class Envelope(Record, forbid_unknown_fields=False):
    """A whole blob ``{"records": [...]}``, or a single record without the wrapper."""


RecordList = list[Record]



def _present(values: list) -> int:
    return len(values) - values.count(None)


def _each(objects: list, name: str) -> list:
    return list(map(attrgetter(name), objects))


#: The record fields not typed ``str | None`` (``time`` first): every other field read holds a string.
NOT_TEXT_FIELDS = ("time", "flowLogVersion", "properties", "flowRecords", "records")
_NOT_TEXT = attrgetter(*NOT_TEXT_FIELDS)


def record_quotes(recs: list[Record]) -> int:
    """Quotes of the records' own fields: every key read and every string value (what
    ``properties``, ``flowRecords`` and ``records`` hold is counted apart).

    Examples
    --------
    >>> import msgspec
    >>> record_quotes([msgspec.json.decode(b'{"time":"t","flowLogVersion":4,"x":"y"}', type=Record)])
    6
    """
    present = _present(list(chain.from_iterable(map(msgspec.structs.astuple, recs))))  # a key's quotes each
    others = list(chain.from_iterable(map(_NOT_TEXT, recs)))  # the fields not typed as text
    times = others[::len(NOT_TEXT_FIELDS)]
    strings = present - _present(others) + sum(map(isinstance, times, repeat(str)))  # a value's quotes each
    return 2 * present + 2 * strings


def properties_quotes(props: list[NsgProperties]) -> int:
    """Quotes of NSG ``properties``: the ``Version`` and ``flows`` keys."""
    return 2 * _present(_each(props, "Version")) + 2 * _present(_each(props, "flows"))


def flow_records_quotes(flow_records: list[VnetFlowRecords]) -> int:
    """Quotes of VNet ``flowRecords``: the ``flows`` key."""
    return 2 * _present(_each(flow_records, "flows"))


def acl_quotes(acls: list[VnetAcl]) -> int:
    """Quotes of VNet ``flowRecords.flows[]`` items: ``aclID`` and its value, the ``flowGroups`` key."""
    return 4 * _present(_each(acls, "aclID")) + 2 * _present(_each(acls, "flowGroups"))


def rule_quotes(rules: list[NsgRule]) -> int:
    """Quotes of NSG ``properties.flows[]`` items: ``rule`` and its value, the ``flows`` key."""
    return 4 * _present(_each(rules, "rule")) + 2 * _present(_each(rules, "flows"))


def group_quotes(names: list[str | None], raws: list[msgspec.Raw]) -> int:
    """Quotes of tuple groups given their ``rule`` (VNet) or ``mac`` (NSG) values and their
    ``flowTuples`` (a missing key is :data:`EMPTY_ARRAY` itself), outside the arrays."""
    missing = sum(r is EMPTY_ARRAY for r in raws) if raws.count(EMPTY_ARRAY) else 0  # == first: in C
    return 4 * _present(names) + 2 * (len(raws) - missing)


def skeleton_quotes(recs: list[Record]) -> int:
    """The quote characters of ``recs``' JSON outside their ``flowTuples`` arrays, as decoded.

    Counts the keys of the fields that were read and the quotes of their string values
    (not what a ``records`` list holds: those records are counted where they are read).
    It never counts more than the text holds; it counts fewer where the text holds what
    was not read (an unknown key, a key given twice, a ``null``, an escaped quote, a
    ``time`` that is not a string). The decoder counts the same pieces from the lists its
    walk over the records builds anyway.

    Examples
    --------
    >>> import msgspec
    >>> text = b'{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[]}}'
    >>> skeleton_quotes([msgspec.json.decode(text, type=Record)]), text.count(b'"')
    (10, 10)
    >>> skeleton_quotes([msgspec.json.decode(b'{"time":"t","extra":"x","macAddress":null}', type=Record)])
    4
    """
    props = list(filter(None, _each(recs, "properties")))
    rules = list(chain.from_iterable(filter(None, _each(props, "flows"))))
    nsg_groups = list(chain.from_iterable(filter(None, _each(rules, "flows"))))
    flow_records = list(filter(None, _each(recs, "flowRecords")))
    acls = list(chain.from_iterable(filter(None, _each(flow_records, "flows"))))
    vnet_groups = list(chain.from_iterable(filter(None, _each(acls, "flowGroups"))))
    return (record_quotes(recs) + properties_quotes(props) + rule_quotes(rules)
            + group_quotes(_each(nsg_groups, "mac"), _each(nsg_groups, "flowTuples"))
            + flow_records_quotes(flow_records) + acl_quotes(acls)
            + group_quotes(_each(vnet_groups, "rule"), _each(vnet_groups, "flowTuples")))
