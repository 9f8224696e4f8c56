"""Tuple strings that stand outside every flow-tuple array of a blob.

A blob can hold records that are not flow records (a capitalised ``Records`` wrapper,
a misspelled ``flows``, an NSG event record), flow records with a misspelled key inside
(``flowGroup``, ``flowTuple``), a key given twice (only the last is read) or a key flowkit
does not know: their tuple strings would be neither a row nor quarantined. For such a blob,
the flow-tuple arrays that were read are cut out of its text, and the tuple strings of
the rest (a tenth of a blob, say) that are not in a damaged part are strays, to be
quarantined. Only strings shaped like a flow tuple count (an epoch number, then an
address or seven more fields): the rule conditions of an NSG event record
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

import msgspec
import numpy as np
import pyarrow as pa

from flowkit.errors import QuarantineError
from flowkit.formats.framing import Framed, frame_records, tuple_strings
from flowkit.formats.records import EMPTY_ARRAY, Record
from flowkit.load_report import Problem
from flowkit.sources.base import BlobRef

__all__ = ["stray_tuples", "misplaced_tuples", "quote_count"]


def _arrays(rec: Record) -> Iterator[msgspec.Raw]:
    """The raw ``flowTuples`` arrays the decoder reads in one record: a VNet record's (a
    record with ``flowRecords`` is read as VNet, whatever else it holds), else an NSG record's."""
    if rec.flowRecords is not None:
        for acl in rec.flowRecords.flows or ():
            for group in acl.flowGroups or ():
                yield group.flowTuples
    elif rec.properties is not None and rec.properties.flows is not None:
        for rule in rec.properties.flows:
            for group in rule.flows or ():
                yield group.flowTuples


def _outside_arrays(data: bytes, framed: Framed) -> bytes | None:
    """``data`` without the flowTuples arrays that were read, or None when they cannot be placed.

    msgspec decodes a :class:`msgspec.Raw` as a view of the input buffer, so each array's
    place in ``data`` is its address less the buffer's. An array whose memory lies inside
    ``data``'s is a view of it (two live objects cannot share memory); an input decoded
    from a copy, as a fragment is, gives None.
    """
    raws = [raw for _, rec in framed.records for raw in _arrays(rec) if raw is not EMPTY_ARRAY]
    if not raws:
        return data
    base, size = pa.py_buffer(data).address, len(data)
    spans = []
    for raw in raws:
        start = pa.py_buffer(raw).address - base
        end = start + len(raw)
        if not (0 <= start and end <= size):
            return None
        spans.append((start, end))
    spans.sort()
    pieces, at, whole = [], 0, memoryview(data)
    for start, end in spans:
        if start < at:
            return None  # overlapping places: not views of one buffer
        pieces.append(whole[at:start])
        at = end
    pieces.append(whole[at:])
    return b"".join(pieces)


def stray_tuples(data: bytes, framed: Framed) -> list[str]:
    """Tuple strings of ``data`` in no flow-tuple array and in no damaged part, in text order.

    Parameters
    ----------
    data : bytes
        The blob as read.
    framed : Framed
        What :func:`flowkit.formats.framing.frame_records` made of it.
    """
    accounted = Counter(t for damage in framed.damage for t in damage.tuples)
    outside = _outside_arrays(data, framed)
    if outside is None:  # scan everything, and take away the tuples of the arrays read
        outside = data
        accounted.update(t for _, rec in framed.records for raw in _arrays(rec) for t in tuple_strings(bytes(raw)))
    strays = []
    for t in tuple_strings(outside):
        if accounted[t] > 0:
            accounted[t] -= 1
        else:
            strays.append(t)
    return strays


def quote_count(data: bytes) -> int:
    """The quote characters in ``data`` (numpy: about 10 ms per 100 MB).

    Examples
    --------
    >>> quote_count(b'{"a":"b"}')
    4
    """
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 34))


def misplaced_tuples(data: bytes, ref: BlobRef, framed: Framed | None, *, strict: bool
                     ) -> tuple[Problem, list[tuple[str, None, int, str, str]]] | None:
    """The tuple strings of a flow-log blob outside every flowTuples array it was read by, if any.

    Such strings sit under a key flowkit does not read or a misspelled one (``flowTuple``),
    under a key given twice (only the last is read), or beside what was read: each is
    quarantined as ``misplaced-tuples``. ``framed`` is what the blob was framed as (None:
    frame it again). Returns the problem to report and the quarantine entries, or None.

    Examples
    --------
    >>> from flowkit.sources.base import BlobRef
    >>> t = "1714557600,192.0.2.1,10.0.0.4,1,2,T,I,A"
    >>> data = ('{"records":[{"properties":{"flows":[{"rule":"r","flows":[{"flowTuples":["%s"],'
    ...         '"flowTuples":[]}]}]}}]}' % t).encode()
    >>> problem, entries = misplaced_tuples(data, BlobRef("b.json"), None, strict=False)
    >>> problem.reason, entries
    ('misplaced-tuples', [('b.json', None, 0, 'misplaced-tuples', '1714557600,192.0.2.1,10.0.0.4,1,2,T,I,A')])
    """
    strays = stray_tuples(data, framed if framed is not None else frame_records(data))
    if not strays:
        return None
    if strict:
        raise QuarantineError(ref.name, None, 0, "misplaced-tuples", strays[0])
    problem = Problem(ref.name, "misplaced-tuples",
                      f"{len(strays)} tuple string(s) outside every flowTuples array (under a key flowkit "
                      f"does not read, a misspelled flowRecords, flowGroups, flows or flowTuples key, "
                      f"or a key given twice?)", None)
    return problem, [(ref.name, None, i, "misplaced-tuples", raw) for i, raw in enumerate(strays)]
