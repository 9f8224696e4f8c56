"""The decoder's Arrow table: its schema, its dictionary columns, and selecting and counting rows.

Every decoded batch is one table of :data:`ARROW_SCHEMA` (the canonical columns of
:mod:`flowkit.schema` as Arrow types); the pandas dtypes follow on conversion.

Examples
--------
>>> import numpy as np
>>> closed_column(np.array([1, -1, 0]), ["inbound", "outbound"]).to_pylist()
['outbound', None, 'inbound']
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flowkit.addresses import normalize_mac
from flowkit.schema import COLUMNS

__all__ = ["ARROW_SCHEMA", "time_range", "blob_order", "count_formats", "select_rows", "ms_bound",
           "dictionary_column", "closed_column", "without_unused_values"]

_OPEN = pa.dictionary(pa.int32(), pa.string())
_CLOSED = pa.dictionary(pa.int8(), pa.string())
#: The canonical table as Arrow types (pandas dtypes follow on conversion).
ARROW_SCHEMA = pa.schema([
    ("flow_time", pa.timestamp("ms", tz="UTC")),
    ("record_time", pa.timestamp("ns", tz="UTC")),
    ("src_ip", _OPEN), ("dst_ip", _OPEN),
    ("src_port", pa.uint16()), ("dst_port", pa.uint16()),
    ("protocol", pa.uint8()),
    ("direction", _CLOSED), ("decision", _CLOSED), ("state", _CLOSED), ("encryption", _CLOSED),
    ("packets_sent", pa.uint32()), ("bytes_sent", pa.uint64()),
    ("packets_received", pa.uint32()), ("bytes_received", pa.uint64()),
    ("rule", _OPEN), ("acl_id", _OPEN), ("mac", _OPEN),
    ("log_type", _CLOSED), ("version", pa.uint8()),
    ("resource_id", _OPEN), ("target_resource_id", _OPEN), ("blob", _OPEN),
])
assert tuple(ARROW_SCHEMA.names) == COLUMNS


def time_range(table: pa.Table) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last ``flow_time`` of the rows (None, None without rows).

    Examples
    --------
    >>> t = pa.table({"flow_time": pa.array([1714557600000, 1714557000000], pa.timestamp("ms", "UTC"))})
    >>> [str(x) for x in time_range(t)]
    ['2024-05-01 09:50:00+00:00', '2024-05-01 10:00:00+00:00']
    """
    if not table.num_rows:
        return None, None
    bounds = pc.min_max(table.column("flow_time"))
    return tuple(pd.Timestamp(bounds[k].value, unit="ms", tz="UTC") for k in ("min", "max"))


def blob_order(table: pa.Table, names: list[str]) -> np.ndarray:
    """Position of each row's blob in the input, for a stable sort back to input order.

    Examples
    --------
    >>> t = pa.table({"blob": pa.array(["b", "a", "b"]).dictionary_encode()})
    >>> blob_order(t, ["a", "b"]).tolist()
    [1, 0, 1]
    """
    position = {name: i for i, name in enumerate(names)}
    column = table.column("blob").combine_chunks()
    lookup = np.array([position[v] for v in column.dictionary.to_pylist()], dtype=np.int64)
    return lookup[column.indices.to_numpy(zero_copy_only=False)]


def count_formats(table: pa.Table) -> dict[str, int]:
    """Rows per format name (``nsg-v1``, ``nsg-v2``, ``vnet-v4``), counted on codes.

    Examples
    --------
    >>> t = pa.table({"log_type": closed_column(np.array([0, 1, 1]), ["nsg", "vnet"]),
    ...               "version": pa.array([2, 4, 4], pa.uint8())})
    >>> count_formats(t)
    {'nsg-v2': 1, 'vnet-v4': 2}
    """
    if table.num_rows == 0:
        return {}
    lt = table.column("log_type").combine_chunks()
    kinds = lt.dictionary.to_pylist()
    key = lt.indices.to_numpy(zero_copy_only=False).astype(np.int64) * 256 + table.column("version").to_numpy()
    counts = np.bincount(key)
    return {f"{kinds[k // 256]}-v{k % 256}": int(counts[k]) for k in np.flatnonzero(counts)}


def ms_bound(ts: pd.Timestamp) -> pa.Scalar:
    """``ts`` rounded up to a whole millisecond, as a ``flow_time`` scalar (``timestamp[ms, UTC]``).

    Counted in ``ts``'s own unit: a bound in year 1 or 9999 (``start="0001-01-01"``) has no
    nanosecond value, and ``ts.value`` raised OverflowError.

    Examples
    --------
    >>> ms_bound(pd.Timestamp("2024-05-01T10:00:00.0015Z")).value, ms_bound(pd.Timestamp("0001-01-01T00:00Z")).value
    (1714557600002, -62135596800000)
    """
    per_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[ts.unit]
    ns = int(ts.asm8.astype(np.int64)) * per_ns  # a Python int: no overflow
    return pa.scalar(-(-ns // 10**6), pa.timestamp("ms", "UTC"))


def select_rows(table: pa.Table, start: pd.Timestamp | None, end: pd.Timestamp | None,
                log_type: str | None, mac: str | None) -> pa.Table:
    """The rows in ``[start, end)`` of ``log_type`` and ``mac`` (each None: no condition).

    Examples
    --------
    >>> t = pa.table({"flow_time": pa.array([1714557600000, 1714561200000], pa.timestamp("ms", "UTC"))})
    >>> select_rows(t, pd.Timestamp("2024-05-01T10:30Z"), None, None, None).num_rows
    1
    """
    if table.num_rows == 0 or (start is None and end is None and log_type is None and mac is None):
        return table
    mask = pa.scalar(True)
    ft = table.column("flow_time")
    # flow_time holds whole milliseconds, so both bounds round up to one: a start of 10:00:00.0015
    # keeps 10:00:00.002 but not .001, an end of 10:00:00.0015 keeps .001 but not .002
    if start is not None:
        mask = pc.and_(mask, pc.greater_equal(ft, ms_bound(start)))
    if end is not None:
        mask = pc.and_(mask, pc.less(ft, ms_bound(end)))
    if log_type is not None:
        mask = pc.and_(mask, pc.equal(pc.cast(table.column("log_type"), pa.string()), log_type))
    if mac is not None:
        mask = pc.and_(mask, pc.equal(pc.cast(table.column("mac"), pa.string()), normalize_mac(mac)))
    mask = pc.fill_null(mask, False)
    return table.filter(mask)


def dictionary_column(codes: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
    """A dictionary column (int32 indices) from int codes (-1: missing) and the values they index.

    Examples
    --------
    >>> dictionary_column(np.array([0, -1, 0]), ["Allow-Web"]).to_pylist()
    ['Allow-Web', None, 'Allow-Web']
    """
    mask = codes < 0 if len(codes) and codes.min() < 0 else None
    indices = pa.array(codes.astype(np.int32, copy=False), type=pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def closed_column(codes: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
    """A dictionary column with int8 indices (a closed set such as the directions); -1: missing.

    Examples
    --------
    >>> closed_column(np.array([0, 1]), ["allow", "deny"]).type
    DictionaryType(dictionary<values=string, indices=int8, ordered=0>)
    """
    mask = codes < 0 if len(codes) and codes.min() < 0 else None
    indices = pa.array(codes.astype(np.int8, copy=False), type=pa.int8(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


_TUPLE_LEVEL = ("src_ip", "dst_ip", "rule", "acl_id")


def without_unused_values(table: pa.Table) -> pa.Table:
    """``table`` with the values no row uses removed from its tuple-level dictionaries, in order.

    A batch that quarantined tuples uses it: the addresses, rule or aclID of a tuple that did not
    become a row then leave no category without rows behind. The record's columns (``mac``,
    ``resource_id``, ``target_resource_id``, ``blob``) keep theirs, as they do for a record that
    logged no flows.

    Examples
    --------
    >>> t = pa.table({"rule": dictionary_column(np.array([1, -1]), ["Quarantined", "Kept"])})
    >>> without_unused_values(t)["rule"].chunk(0).dictionary.to_pylist()
    ['Kept']
    """
    columns = []
    for field, column in zip(table.schema, table.columns):
        if field.name in _TUPLE_LEVEL:
            column = pa.chunked_array([_used_only(c) for c in column.chunks], type=field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def _used_only(chunk: pa.DictionaryArray) -> pa.DictionaryArray:
    n = len(chunk.dictionary)
    codes = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
    used = np.zeros(n + 1, dtype=bool)  # the last slot takes the missing values (-1)
    used[codes] = True
    keep = np.flatnonzero(used[:n])
    if len(keep) == n:
        return chunk
    remap = np.full(n + 1, -1, dtype=np.int32)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    new = remap[codes]
    indices = pa.array(new, type=pa.int32(), mask=new < 0 if (new < 0).any() else None)
    return pa.DictionaryArray.from_arrays(indices, chunk.dictionary.take(pa.array(keep)))
