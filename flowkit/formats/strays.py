"""Tuple strings that stand outside every flow-tuple array of a blob.

A blob can hold records that are not flow records (a capitalised ``Records`` wrapper,
a misspelled ``flows``, an NSG event record), or flow records with a misspelled key inside
(``flowGroup``, ``flowTuple``): their tuple strings would be neither a row nor quarantined. For a blob with such a record, the tuple strings of the whole text are
counted against those of its flow-tuple arrays and of its damaged parts; the rest are
strays, to be quarantined. Only strings shaped like a flow tuple count (an epoch number, then
an address or seven more fields): the rule conditions of an NSG event record
(``"sourceIP":"0.0.0.0/0,0.0.0.0/0"``, ``"protocols":"6,17"``) are not tuples.

Examples
--------
>>> from flowkit.formats.framing import frame_records
>>> data = b'{"records":[{"category":"X","Flows":["1714557600,192.0.2.1,10.0.0.4,1,2,T,I,A"]}]}'
>>> stray_tuples(data, frame_records(data))
['1714557600,192.0.2.1,10.0.0.4,1,2,T,I,A']
"""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from flowkit.formats.framing import Framed, tuple_strings
from flowkit.formats.records import Record

__all__ = ["stray_tuples"]


def _arrays(rec: Record) -> Iterator[bytes]:
    """The raw ``flowTuples`` arrays the decoder reads in one record: a VNet record's (a
    record with ``flowRecords`` is read as VNet, whatever else it holds), else an NSG record's."""
    if rec.flowRecords is not None:
        for acl in rec.flowRecords.flows or ():
            for group in acl.flowGroups or ():
                yield bytes(group.flowTuples)
    elif rec.properties is not None and rec.properties.flows is not None:
        for rule in rec.properties.flows:
            for group in rule.flows or ():
                yield bytes(group.flowTuples)


def stray_tuples(data: bytes, framed: Framed) -> list[str]:
    """Tuple strings of ``data`` in no flow-tuple array and in no damaged part, in text order.

    Parameters
    ----------
    data : bytes
        The blob as read.
    framed : Framed
        What :func:`flowkit.formats.framing.frame_records` made of it.
    """
    accounted = Counter(t for _, rec in framed.records for raw in _arrays(rec) for t in tuple_strings(raw))
    accounted.update(t for damage in framed.damage for t in damage.tuples)
    strays = []
    for t in tuple_strings(data):
        if accounted[t] > 0:
            accounted[t] -= 1
        else:
            strays.append(t)
    return strays
