"""Serialise records as Azure's ``PT1H.json`` block blobs.

Azure commits a 12-byte first block ``{"records":[``, then about once a minute
inserts one block per record before the 2-byte last block ``]}``; every block
after the first record starts with a comma. :func:`blob_blocks` returns exactly
those blocks so that a test can commit them one by one and simulate a blob that
grows during its hour; :func:`blob_bytes` is the finished blob.

Examples
--------
>>> blocks = blob_blocks([{"a": 1}, {"b": 2}])
>>> blocks
[b'{"records":[', b'{"a":1}', b',{"b":2}', b']}']
>>> blob_bytes([{"a": 1}, {"b": 2}])
b'{"records":[{"a":1},{"b":2}]}'
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

__all__ = ["HEAD_BLOCK", "TAIL_BLOCK", "encode_record", "blob_blocks", "blob_bytes"]

#: The first block of every blob (12 bytes).
HEAD_BLOCK = b'{"records":['
#: The last block of every blob (2 bytes).
TAIL_BLOCK = b"]}"


def encode_record(record: Mapping[str, Any] | bytes) -> bytes:
    """Return one record as compact JSON bytes (no spaces), keys in insertion order.

    Bytes are passed through unchanged, so pre-encoded records can be mixed in.

    Examples
    --------
    >>> encode_record({"time": "2024-05-01T10:00:52.5625085Z", "flowLogVersion": 4})
    b'{"time":"2024-05-01T10:00:52.5625085Z","flowLogVersion":4}'
    """
    if isinstance(record, bytes):
        return record
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def blob_blocks(records: Iterable[Mapping[str, Any] | bytes]) -> list[bytes]:
    """Return the committed blocks of a blob holding ``records``, in order.

    Parameters
    ----------
    records : iterable of dict or bytes
        Records (dicts are encoded with :func:`encode_record`; bytes are taken as
        already-encoded records).

    Returns
    -------
    list of bytes
        ``[HEAD_BLOCK, record_0, b"," + record_1, …, TAIL_BLOCK]``. Concatenating
        the first ``k + 1`` blocks and the tail gives the blob as it looked after
        ``k`` minutes; every prefix plus the tail is valid JSON.

    Examples
    --------
    >>> [len(b) for b in blob_blocks([])]
    [12, 2]
    >>> blob_blocks([b'{"x":1}', b'{"x":2}'])[2]
    b',{"x":2}'
    """
    blocks = [HEAD_BLOCK]
    for index, record in enumerate(records):
        body = encode_record(record)
        blocks.append(body if index == 0 else b"," + body)
    blocks.append(TAIL_BLOCK)
    return blocks


def blob_bytes(records: Iterable[Mapping[str, Any] | bytes]) -> bytes:
    """Return the finished blob: the concatenation of :func:`blob_blocks`.

    Examples
    --------
    >>> import json
    >>> json.loads(blob_bytes([{"x": 1}]))
    {'records': [{'x': 1}]}
    """
    return b"".join(blob_blocks(records))
