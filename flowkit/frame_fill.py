"""Arrow tables -> one canonical pandas frame, filled table by table.

The frame's columns are allocated once, at their final size, and each Arrow
table is copied into its slice, straight from its buffers, and can be released
right after. Nothing is concatenated, no dictionary is unified in Arrow and no
column is converted twice, so a read peaks at about the Arrow tables not yet
copied plus the frame, not at two or three frames. :class:`FrameFiller` takes
the tables one at a time (a reader can stream them: the Parquet reader copies a
file while the next one is read, the JSON reader a batch while the next ones
are decoded, into a frame sized by an estimate that may grow); :func:`fill_frame`
fills from a list.

Categories come out in first-appearance order over the tables, in the order
they are added (within a table, ``src_ip`` before ``dst_ip``: both share one
set), and the closed categoricals (direction, decision, state, encryption,
log_type) start with their canonical categories, other values following in
first-appearance order. Category codes start narrow (``int8``) and widen when a
table brings more categories than they hold.

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

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flowkit.schema import DECISIONS, DIRECTIONS, ENCRYPTION_STATES, LOG_TYPES, STATES, dtypes

__all__ = ["fill_frame", "FrameFiller", "CLOSED_CATEGORIES", "small_pages", "drop_unused_categories",
           "with_both_addresses", "keep_columns"]

#: Categoricals with a fixed vocabulary: their categories start with these, in this order.
CLOSED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "direction": DIRECTIONS, "decision": DECISIONS, "state": STATES,
    "encryption": ENCRYPTION_STATES, "log_type": LOG_TYPES,
}
_IPS = ("src_ip", "dst_ip")
#: Threads copying columns into the frame (2 cores on the machine this was tuned on).
FILL_THREADS = 2
#: :func:`fill_frame` hands freed table memory back to the system after about this many
#: bytes of tables (each hand-back costs milliseconds: once per table was seconds at 400 tables).
RELEASE_BYTES = 128 << 20


def fill_frame(tables: list[pa.Table], columns: Sequence[str], *, threads: int = FILL_THREADS) -> pd.DataFrame:
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
    threads : int
        Threads copying columns (1: all in the calling thread, as a Dask worker's
        reader does).

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
    n = sum(t.num_rows for t in tables)
    tables.reverse()
    freed = 0
    with FrameFiller(n, columns, threads=threads) as filler:
        while tables:
            table = tables.pop()
            filler.add(table)
            freed += table.nbytes
            del table
            if freed >= RELEASE_BYTES or not tables:
                pa.default_memory_pool().release_unused()  # the tables' memory goes back to the system now
                freed = 0
        return filler.finish()


class FrameFiller:
    """A canonical frame of a known number of rows, filled one Arrow table at a time.

    Parameters
    ----------
    n_rows : int
        Rows the tables will hold in total.
    columns : sequence of str
        Canonical column names, in the order the frame returns them.
    threads : int
        Threads copying the columns of each table (numpy copies without the GIL);
        1 copies them in the calling thread.
    growable : bool, default False
        ``n_rows`` is only an estimate: a table that does not fit makes the
        columns grow (by half, or to what it needs), and :meth:`finish` returns
        the rows added. Columns are allocated without touching their memory, so
        an estimate above the rows costs address space, not RAM.

    Examples
    --------
    >>> import pyarrow as pa
    >>> with FrameFiller(3, ["dst_port"]) as filler:
    ...     filler.add(pa.table({"dst_port": pa.array([443, 53], pa.uint16())}))
    ...     filler.add(pa.table({"dst_port": pa.array([22], pa.uint16())}))
    ...     frame = filler.finish()
    >>> frame["dst_port"].tolist()
    [443, 53, 22]
    """

    def __init__(self, n_rows: int, columns: Sequence[str], *, threads: int = FILL_THREADS,
                 growable: bool = False) -> None:
        types = dtypes()
        self.n_rows, self.filled, self.growable = n_rows, 0, growable
        self._names = list(columns)
        self._addresses = addresses = _Categories()
        self._categories = {
            name: addresses if name in _IPS else _Categories(CLOSED_CATEGORIES.get(name, ()))
            for name in self._names if isinstance(types[name], pd.CategoricalDtype)
        }
        with small_pages():
            self._columns = {name: _Column.allocate(types[name], n_rows, self._categories.get(name))
                             for name in self._names}
        self._pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None

    def __enter__(self) -> "FrameFiller":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the copying threads (also done by :meth:`finish` and on leaving a ``with``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def add(self, table: pa.Table) -> None:
        """Copy the rows of ``table`` after those already added.

        Raises
        ------
        ValueError
            The table would take the frame past ``n_rows``, or holds a missing
            value where the canonical table has none (ports, protocol, times).
        """
        if self.filled + table.num_rows > self.n_rows:
            if not self.growable:
                raise ValueError(f"{self.filled + table.num_rows} rows for a frame of {self.n_rows}")
            self.n_rows = max(self.filled + table.num_rows, self.n_rows + self.n_rows // 2)
            for column in self._columns.values():
                column.resize(self.n_rows, self.filled)
        if not table.num_rows:
            return
        table = _dictionary_encoded(table)
        lookups = self._lookups(table)
        at = self.filled

        def fill(name: str) -> None:
            start = at
            for j, chunk in enumerate(table.column(name).chunks):
                self._columns[name].fill(chunk, start, lookups[name][j] if name in lookups else None)
                start += len(chunk)

        if self._pool is not None:
            list(self._pool.map(fill, self._names))
        else:
            for name in self._names:
                fill(name)
        self.filled += table.num_rows

    def _lookups(self, table: pa.Table) -> dict[str, list[np.ndarray]]:
        """Per categorical column, per chunk: the frame's code of each dictionary entry."""
        lookups: dict[str, list[np.ndarray]] = {}
        ips = [name for name in _IPS if name in self._categories]
        if ips and all(name in table.column_names for name in _IPS):
            ips = list(_IPS)  # both addresses feed the shared categories, even when one is returned
        for name in ips + [name for name in self._categories if name not in _IPS]:
            categories = self._categories.get(name, self._addresses)
            seen: dict[tuple, np.ndarray] = {}  # chunks of one table often share their dictionary
            per_chunk = []
            for chunk in table.column(name).chunks:
                key = _dictionary_key(chunk.dictionary)
                if key not in seen:
                    seen[key] = categories.codes_of(chunk.dictionary)
                per_chunk.append(seen[key])
            lookups[name] = per_chunk
        for name in lookups:
            if name in self._columns:
                self._columns[name].widen(self.filled)
        return lookups

    def finish(self) -> pd.DataFrame:
        """The frame; every row must have been added."""
        self.close()
        if self.growable and self.filled < self.n_rows:
            for column in self._columns.values():
                column.resize(self.filled, self.filled, copy=False)
            self.n_rows = self.filled
        if self.filled != self.n_rows:
            raise ValueError(f"{self.filled} rows added to a frame of {self.n_rows}")
        return pd.DataFrame({name: self._columns[name].finish() for name in self._names}, copy=False)


@contextmanager
def small_pages() -> Iterator[None]:
    """Allocate numpy arrays without numpy's transparent-huge-page hint meanwhile.

    numpy asks Linux for huge pages (``madvise(MADV_HUGEPAGE)``) on every large
    array. Where the kernel compacts memory to find them on the first write (THP
    ``defrag`` set to ``madvise``, the default), that first write stalls: on the
    machine flowkit is measured on, writing a fresh 1.35 GB frame took 3.6 s per GB
    with the hint and 0.7 s per GB without, and reading 20 M tuples of JSON took
    28.1 s against 19.5 s. The frame's columns are therefore allocated without it.
    A user who sets ``NUMPY_MADVISE_HUGEPAGE`` (numpy's own switch) keeps that choice.

    Examples
    --------
    >>> with small_pages():
    ...     column = np.empty(1 << 20)
    >>> column.size
    1048576
    """
    toggle = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    if toggle is None or "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        yield
        return
    previous = toggle(False)
    try:
        yield
    finally:
        toggle(previous)


def _dictionary_encoded(table: pa.Table) -> pa.Table:
    """The table with its categorical columns as dictionary arrays (plain text is encoded)."""
    types = dtypes()
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if isinstance(types.get(name), pd.CategoricalDtype) and not pa.types.is_dictionary(column.type):
            table = table.set_column(i, name, pc.dictionary_encode(column))
    return table


def _dictionary_key(dictionary: pa.Array) -> tuple:
    # The buffers' addresses identify a dictionary while its table is alive (chunks of one
    # row group or one batch share theirs); used within one table only.
    return (len(dictionary), dictionary.offset,
            tuple(b.address if b is not None else 0 for b in dictionary.buffers()))


class _Categories:
    """The categories of one column (or of both addresses), growing in first-appearance order."""

    def __init__(self, initial: Sequence[str] = ()) -> None:
        self.values: list[str] = list(initial)
        self._index = {v: i for i, v in enumerate(self.values)}

    def __len__(self) -> int:
        return len(self.values)

    def codes_of(self, dictionary: pa.Array) -> np.ndarray:
        """The code of each entry of ``dictionary`` (new values are added; -1 for a null entry)."""
        text = dictionary if dictionary.type == pa.string() else dictionary.cast(pa.string())
        entries = text.to_pylist()
        index = self._index
        codes = np.array([index.get(v, -1) for v in entries], dtype=np.int64)  # None is never a key: -1
        for i in np.flatnonzero(codes < 0).tolist():  # new values (or nulls), in dictionary order
            value = entries[i]
            if value is not None:
                code = index.get(value)  # an entry repeated in the dictionary was added just before
                if code is None:
                    code = index[value] = len(self.values)
                    self.values.append(value)
                codes[i] = code
        return codes


def _code_dtype(n_categories: int) -> type:
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


def _values(arr: pa.Array, dtype: Any) -> np.ndarray:
    """The data buffer of a fixed-width array as numpy (no copy; undefined under nulls)."""
    item = np.dtype(dtype).itemsize
    if arr.buffers()[1] is None:  # an array of nulls only
        return np.zeros(len(arr), dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * item)


def _nulls(arr: pa.Array) -> np.ndarray:
    """Boolean mask of the missing entries of an array that has some."""
    bits = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=arr.offset + len(arr), bitorder="little")[arr.offset:]
    return valid == 0


class _Column:
    """One output column: its preallocated buffers and how an Arrow chunk is copied in."""

    def __init__(self, dtype: Any, kind: str, values: np.ndarray, mask: np.ndarray | None = None,
                 categories: _Categories | None = None) -> None:
        self.dtype, self.kind, self.values, self.mask = dtype, kind, values, mask
        self.categories = categories

    @classmethod
    def allocate(cls, dtype: Any, n: int, categories: _Categories | None) -> "_Column":
        if isinstance(dtype, pd.CategoricalDtype):
            return cls(dtype, "codes", np.empty(n, _code_dtype(len(categories))), categories=categories)
        if isinstance(dtype, pd.DatetimeTZDtype):
            return cls(dtype, "time", np.empty(n, np.int64))
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable integers
            return cls(dtype, "masked", np.empty(n, dtype.numpy_dtype), np.empty(n, bool))
        return cls(dtype, "plain", np.empty(n, np.dtype(dtype)))

    def resize(self, n: int, filled: int, *, copy: bool = True) -> None:
        """Hold ``n`` rows, keeping the first ``filled`` (``copy=False``: a view, to shrink)."""
        if not copy:
            self.values = self.values[:n]
            self.mask = None if self.mask is None else self.mask[:n]
            return
        with small_pages():
            values = np.empty(n, self.values.dtype)
            mask = None if self.mask is None else np.empty(n, bool)
        values[:filled] = self.values[:filled]
        if mask is not None:
            mask[:filled] = self.mask[:filled]
        self.values, self.mask = values, mask

    def widen(self, filled: int) -> None:
        """Make the codes wide enough for the categories known now (the first ``filled`` kept)."""
        wanted = _code_dtype(len(self.categories))
        if np.dtype(wanted).itemsize > self.values.dtype.itemsize:
            with small_pages():
                wider = np.empty(len(self.values), wanted)
            wider[:filled] = self.values[:filled]
            self.values = wider

    def fill(self, chunk: pa.Array, at: int, lookup: np.ndarray | None) -> None:
        end = at + len(chunk)
        if not len(chunk):
            return
        out = self.values[at:end]
        if self.kind == "codes":
            indices = chunk.indices
            nulls = _nulls(indices) if indices.null_count else None
            if not len(lookup) or indices.null_count == len(indices):
                out[:] = -1
                return
            if (lookup == np.arange(len(lookup))).all():
                out[:] = _values(indices, indices.type.to_pandas_dtype())  # codes equal indices
            else:
                np.take(lookup.astype(out.dtype), _values(indices, indices.type.to_pandas_dtype()),
                        out=out, mode="clip")
            if nulls is not None:
                out[nulls] = -1
            return
        nulls = _nulls(chunk) if chunk.null_count else None
        if nulls is not None and nulls.all() and self.kind == "masked":
            out[:] = 0
            self.mask[at:end] = True
            return
        if self.kind == "time":
            arrow_type = pa.timestamp(self.dtype.unit, str(self.dtype.tz))
            if chunk.type != arrow_type:
                chunk = chunk.cast(arrow_type)
            out[:] = _values(chunk, np.int64)
            if nulls is not None:  # NaT where missing
                out[nulls] = np.iinfo(np.int64).min
        elif self.kind == "masked":
            if chunk.type.bit_width > 8 * out.itemsize:
                chunk = chunk.cast(pa.from_numpy_dtype(out.dtype))
            out[:] = _values(chunk, chunk.type.to_pandas_dtype())
            mask = self.mask[at:end]
            if nulls is not None:
                mask[:] = nulls
                out[nulls] = 0  # defined values under the mask
            else:
                mask[:] = False
        else:
            if nulls is not None:
                raise ValueError(f"missing values in a column that has none by contract ({chunk.type})")
            out[:] = _values(chunk, chunk.type.to_pandas_dtype())

    def finish(self) -> Any:
        if self.kind == "codes":
            dtype = pd.CategoricalDtype(pd.Index(pa.array(self.categories.values, pa.string()).to_pandas()))
            return pd.Categorical.from_codes(self.values, dtype=dtype, validate=False)
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


def drop_unused_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep only the categories of the rows returned (open categoricals; addresses stay shared).

    Reads filtered by time, log type or MAC use it (JSON and Parquet alike): their categories
    are those of the rows they return, not those of the blobs or files they opened, so that
    ``value_counts()`` lists no rule or address with 0.

    Examples
    --------
    >>> f = pd.DataFrame({"rule": pd.Categorical(["a"], categories=["a", "b"])})
    >>> list(drop_unused_categories(f)["rule"].cat.categories)
    ['a']
    """
    closed = set(CLOSED_CATEGORIES)
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype) and name not in closed | {"src_ip", "dst_ip"}:
            frame[name] = frame[name].cat.remove_unused_categories()
    if "src_ip" in frame and "dst_ip" in frame:  # an empty frame keeps none
        cats = frame["src_ip"].cat.categories
        used = pd.unique(pd.concat([pd.Series(frame["src_ip"].cat.codes), pd.Series(frame["dst_ip"].cat.codes)]))
        unused = cats.delete(sorted(c for c in used if c >= 0)) if len(used) else cats
        for name in ("src_ip", "dst_ip"):
            frame[name] = frame[name].cat.remove_categories(unused)
    return frame


def with_both_addresses(columns: Sequence[str]) -> list[str]:
    """``columns``, with the other address column appended when they hold only one of the two.

    A read that leaves rows out fills both addresses, so that :func:`drop_unused_categories`
    sees the addresses of the rows returned in either column (they share one set), and then
    deletes the column not asked for: a windowed ``columns=["src_ip"]`` read then gives the
    ``src_ip`` of the whole windowed read, not the addresses of the rows it left out.

    Examples
    --------
    >>> with_both_addresses(["dst_ip", "dst_port"]), with_both_addresses(["rule"])
    (['dst_ip', 'dst_port', 'src_ip'], ['rule'])
    """
    columns = list(columns)
    if sum(name in columns for name in _IPS) != 1:
        return columns
    return columns + [name for name in _IPS if name not in columns]


def keep_columns(frame: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    """Delete, in place, the columns of ``frame`` not in ``wanted`` (the address column that
    :func:`with_both_addresses` added for its categories only); returns ``frame``.

    Examples
    --------
    >>> keep_columns(pd.DataFrame({"src_ip": [1], "dst_ip": [2]}), ["dst_ip"]).columns.tolist()
    ['dst_ip']
    """
    for name in [c for c in frame.columns if c not in wanted]:
        del frame[name]
    return frame
