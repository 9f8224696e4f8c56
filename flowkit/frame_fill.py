"""Arrow tables -> one canonical pandas frame, filled table by table.

The frame's columns are allocated once, at their final size and dtype, and each
Arrow table is copied into its slice and then released. Nothing is concatenated,
no dictionary is unified in Arrow and no column is converted twice: a table's
memory is freed as soon as its rows are in the frame, so a read peaks at about
the Arrow tables plus the part of the frame already filled, not at two or three
frames.

Categories come out in first-appearance order over the tables' dictionaries (the
order :meth:`pyarrow.Table.unify_dictionaries` gives), ``src_ip`` and ``dst_ip``
share one set, and the closed categoricals (direction, decision, state,
encryption, log_type) start with their canonical categories.

Examples
--------
>>> import pyarrow as pa
>>> t = pa.table({"dst_port": pa.array([443, 53], pa.uint16()),
...               "mac": pa.array(["000D3A000001", "000D3A000001"]).dictionary_encode()})
>>> frame = fill_frame([t], ["dst_port", "mac"])
>>> frame["dst_port"].tolist(), list(frame["mac"].cat.categories)
([443, 53], ['000D3A000001'])
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flowkit.schema import DECISIONS, DIRECTIONS, ENCRYPTION_STATES, LOG_TYPES, STATES, dtypes

__all__ = ["fill_frame", "CLOSED_CATEGORIES"]

#: Categoricals with a fixed vocabulary: their categories start with these, in this order.
CLOSED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "direction": DIRECTIONS, "decision": DECISIONS, "state": STATES,
    "encryption": ENCRYPTION_STATES, "log_type": LOG_TYPES,
}
_IPS = ("src_ip", "dst_ip")
#: Threads copying columns into the frame (2 cores on the machine this was tuned on).
FILL_THREADS = 2


def fill_frame(tables: list[pa.Table], columns: Sequence[str]) -> pd.DataFrame:
    """Copy Arrow tables of canonical columns into one pandas frame, releasing each table once copied.

    Parameters
    ----------
    tables : list of pyarrow.Table
        Tables holding at least ``columns``, with the Arrow types of
        :data:`flowkit.formats.decode.ARROW_SCHEMA`. The list is emptied: the
        tables are dropped one by one as their rows reach the frame, so when the
        caller holds no other reference their memory is freed during the fill.
    columns : sequence of str
        Canonical column names, in the order the frame returns them.

    Returns
    -------
    pandas.DataFrame
        ``sum(t.num_rows)`` rows with the canonical dtypes.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"src_ip": pa.array(["192.0.2.1"]).dictionary_encode(),
    ...               "dst_ip": pa.array(["198.51.100.7"]).dictionary_encode()})
    >>> f = fill_frame([t, t], ["src_ip", "dst_ip"])
    >>> len(f), list(f["dst_ip"].cat.categories)
    (2, ['192.0.2.1', '198.51.100.7'])
    """
    types = dtypes()
    names = list(columns)
    n = sum(t.num_rows for t in tables)
    tables[:] = [_dictionary_encoded(t) for t in tables]
    categories = _categories(tables, names)
    columns_out = {name: _Column.allocate(types[name], n, categories.get(name)) for name in names}
    lookups = {name: _lookups(tables, name, categories[name]) for name in categories}
    tables.reverse()
    offset, index = 0, 0
    with ThreadPoolExecutor(max_workers=FILL_THREADS) as pool:  # numpy and Arrow copy without the GIL
        while tables:
            table = tables.pop()

            def fill(name: str, table: pa.Table = table, offset: int = offset, index: int = index) -> None:
                at = offset
                for j, chunk in enumerate(table.column(name).chunks):
                    columns_out[name].fill(chunk, at, lookups[name][index][j] if name in lookups else None)
                    at += len(chunk)

            list(pool.map(fill, names))
            offset += table.num_rows
            index += 1
            del table, fill
            pa.default_memory_pool().release_unused()  # the table's memory goes back to the system now
    return pd.DataFrame({name: columns_out[name].finish() for name in names}, copy=False)


def _dictionary_encoded(table: pa.Table) -> pa.Table:
    """The table with its categorical columns as dictionary arrays (plain text is encoded)."""
    types = dtypes()
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if isinstance(types.get(name), pd.CategoricalDtype) and not pa.types.is_dictionary(column.type):
            table = table.set_column(i, name, pc.dictionary_encode(column))
    return table


def _categories(tables: list[pa.Table], names: list[str]) -> dict[str, pa.Array]:
    """Categories per categorical column, in first-appearance order over the dictionaries."""
    types = dtypes()
    out: dict[str, pa.Array] = {}
    # Both addresses share categories whenever the tables hold both, even if one is returned.
    shared = bool(tables) and all(name in tables[0].column_names for name in _IPS)
    for name in names:
        if not isinstance(types[name], pd.CategoricalDtype):
            continue
        sources = _IPS if shared and name in _IPS else (name,)
        dictionaries = [d for source in sources for d in _dictionaries(tables, source)]
        values = pc.unique(pa.concat_arrays(dictionaries)) if dictionaries else pa.array([], pa.string())
        values = values.drop_null()
        canonical = list(CLOSED_CATEGORIES.get(name, ()))
        if canonical and values.slice(0, len(canonical)).to_pylist() != canonical:
            extra = sorted(set(values.to_pylist()) - set(canonical))
            values = pa.array(canonical + extra, pa.string())
        out[name] = values
    return out


def _dictionaries(tables: list[pa.Table], name: str) -> list[pa.Array]:
    """The distinct dictionaries of a column's chunks (chunks of one batch or row group share one)."""
    out, seen = [], set()
    for table in tables:
        for chunk in table.column(name).chunks:
            key = _dictionary_key(chunk.dictionary)
            if key not in seen:
                seen.add(key)
                out.append(chunk.dictionary.cast(pa.string()))
    return out


def _dictionary_key(dictionary: pa.Array) -> tuple:
    # The buffers' addresses identify a dictionary while every table is alive (chunks of one
    # row group or one batch share theirs); equal dictionaries elsewhere are simply looked up twice.
    return (len(dictionary), dictionary.offset,
            tuple(b.address if b is not None else 0 for b in dictionary.buffers()))


def _lookups(tables: list[pa.Table], name: str, categories: pa.Array) -> list[list[np.ndarray]]:
    """Per table, per chunk: the frame's category code of each dictionary entry."""
    dtype = _code_dtype(len(categories))
    cache: dict[tuple, np.ndarray] = {}
    out = []
    for table in tables:
        per_chunk = []
        for chunk in table.column(name).chunks:
            key = _dictionary_key(chunk.dictionary)
            if key not in cache:
                codes = pc.index_in(chunk.dictionary.cast(pa.string()), value_set=categories)
                cache[key] = codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(dtype)
            per_chunk.append(cache[key])
        out.append(per_chunk)
    return out


def _code_dtype(n_categories: int) -> type:
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


class _Column:
    """One output column: its preallocated buffers and how an Arrow chunk is copied in."""

    def __init__(self, dtype: Any, kind: str, values: np.ndarray, mask: np.ndarray | None = None) -> None:
        self.dtype, self.kind, self.values, self.mask = dtype, kind, values, mask

    @classmethod
    def allocate(cls, dtype: Any, n: int, categories: pa.Array | None) -> "_Column":
        if isinstance(dtype, pd.CategoricalDtype):
            return cls(pd.CategoricalDtype(pd.Index(categories.to_pandas())), "codes",
                       np.empty(n, _code_dtype(len(categories))))
        if isinstance(dtype, pd.DatetimeTZDtype):
            return cls(dtype, "time", np.empty(n, np.int64))
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable integers
            return cls(dtype, "masked", np.empty(n, dtype.numpy_dtype), np.empty(n, bool))
        return cls(dtype, "plain", np.empty(n, np.dtype(dtype)))

    def fill(self, chunk: pa.Array, at: int, lookup: np.ndarray | None) -> None:
        end = at + len(chunk)
        if not len(chunk):
            return
        if self.kind == "codes":
            nulls = chunk.null_count
            indices = (chunk.indices.fill_null(0) if nulls else chunk.indices).to_numpy(zero_copy_only=False)
            out = self.values[at:end]
            if len(lookup):
                np.take(lookup, indices, out=out, mode="clip")
            else:
                out[:] = -1
            if nulls:
                out[chunk.is_null().to_numpy(zero_copy_only=False)] = -1
        elif self.kind == "time":
            if chunk.type != pa.timestamp(self.dtype.unit, str(self.dtype.tz)):
                chunk = chunk.cast(pa.timestamp(self.dtype.unit, str(self.dtype.tz)))
            if chunk.null_count:  # NaT where missing
                chunk = chunk.cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
            self.values[at:end] = chunk.to_numpy(zero_copy_only=False).view(np.int64)
        elif self.kind == "masked":
            nulls = chunk.null_count
            self.values[at:end] = (chunk.fill_null(0) if nulls else chunk).to_numpy(zero_copy_only=False)
            if nulls:
                self.mask[at:end] = chunk.is_null().to_numpy(zero_copy_only=False)
            else:
                self.mask[at:end] = False
        else:
            if chunk.null_count:
                raise ValueError(f"missing values in a column that has none by contract ({chunk.type})")
            self.values[at:end] = chunk.to_numpy(zero_copy_only=False)

    def finish(self) -> Any:
        if self.kind == "codes":
            return pd.Categorical.from_codes(self.values, dtype=self.dtype, validate=False)
        if self.kind == "time":
            return _datetime_array(self.values, self.dtype)
        if self.kind == "masked":
            return pd.arrays.IntegerArray(self.values, self.mask, copy=False)
        return self.values


def _datetime_array(values: np.ndarray, dtype: pd.DatetimeTZDtype) -> Any:
    """Wrap int64 epoch values as a tz-aware datetime array, without a copy where pandas allows it."""
    naive = values.view(f"M8[{dtype.unit}]")
    simple_new = getattr(pd.arrays.DatetimeArray, "_simple_new", None)
    if simple_new is not None:  # no copy (the public route below copies the column)
        try:
            return simple_new(naive, dtype=dtype)
        except TypeError:
            pass
    return pd.Series(naive, copy=False).dt.tz_localize(dtype.tz).array
