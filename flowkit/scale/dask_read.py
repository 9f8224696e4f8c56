"""``read_flow_logs(..., engine="dask")``: a lazy Dask DataFrame of flow tuples.

The listing happens on the client; each partition is a batch of blobs that a
worker downloads with ``source.iter_bytes`` and decodes with the same decoder as
the pandas engine, or one Parquet file of a dataset written by ``flowkit
convert``. The meta is :func:`flowkit.schema.empty_frame` (restricted to
``columns``), so every partition has the canonical dtypes.

Categorical columns (addresses, rules, MACs, …) have *unknown* categories in
the meta: each partition has its own. Aggregations in :mod:`flowkit.scale.aggregations`
work on codes inside a partition and combine values, never codes, across
partitions. Call ``.cat.as_known()`` on a column before an operation that needs
global categories (it costs one pass over that column).

The source object is pickled into the graph and unpickled on the workers; task
keys are ``flowkit-read-<hash>``, never a repr of the source, so SAS tokens or
keys a source may hold never appear in task names, logs or the dashboard.

There is no load report (the rows are decoded on the workers, as they are
computed; :func:`flowkit.scale.dask_report.load_report_dask` computes one on the
cluster), but unreadable input is not dropped in silence; each partition does
with its blobs what the pandas read does with the whole input
(:func:`check_partition_report`): a read of one partition in which no blob holds a
flow-log record and one is not JSON (an XML error page, say) raises
:class:`~flowkit.errors.FormatError` where the partition is computed (one partition of
several warns instead), and a partition with quarantined tuples or damaged records warns
(:class:`~flowkit.errors.FlowkitDataWarning`, forwarded by ``distributed.warn``
to the client that computes it). A Parquet dataset warns at the read, on the
client, of what its conversion quarantined, as the pandas read of it does.

Examples
--------
>>> import flowkit
>>> ddf = flowkit.read_flow_logs("data-samples/connectivity", engine="dask")  # doctest: +SKIP
>>> ddf.npartitions, list(ddf.columns) == list(flowkit.COLUMNS)  # doctest: +SKIP
(1, True)
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from flowkit.errors import ArgumentError, FlowkitDataWarning, FormatError
from flowkit.load_report import LoadReport, check_some_records
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import check_selection, to_window
from flowkit.sources.resolve import resolve_source

__all__ = ["read_flow_logs_dask", "PARTITION_BYTES", "blob_batches", "uniform_categories",
           "check_partition_report", "scanning_pays"]

#: Default bytes of JSON per partition (a partition of ~64 MB JSON is ~300k rows, ~40 MB in pandas).
PARTITION_BYTES = 64 << 20
#: Default rows per partition of a Parquet dataset: consecutive files are read together up to
#: this many rows (the manifest counts them; a larger file is a partition alone). A dataset
#: of many small files (one per NSG and hour) would otherwise make as many tasks, and a
#: shuffle of n partitions moves n x n pieces. Measured with compare_nsg_vnet_dask on 20 M
#: tuples in 401 files, 2 workers: a file per partition 83.3 s, peak 715 MB per worker;
#: 100 k rows 62.2 s, 612 MB; 250 k rows 70.0 s, 1,200 MB; 500 k rows 64.0 s, 1,508 MB.
PARTITION_ROWS = 100_000


def file_groups(rows: Sequence[int], limit: int) -> list[list[int]]:
    """Consecutive indexes grouped so that each group's ``rows`` add up to at most ``limit``
    (a single item above it makes a group alone).

    Examples
    --------
    >>> file_groups([100, 300, 50, 700, 10], 400)
    [[0, 1], [2], [3], [4]]
    """
    groups: list[list[int]] = []
    total = 0
    for i, n in enumerate(rows):
        if groups and total + n <= limit:
            groups[-1].append(i)
            total += n
        else:
            groups.append([i])
            total = n
    return groups


class _Source:
    """A source handed to workers: pickles the source, hashes for tokens, never shows its repr."""

    def __init__(self, source: Any, token: str) -> None:
        self.source = source
        self.token = token

    def __repr__(self) -> str:
        return f"<flowkit source {self.token[:12]}>"

    def __dask_tokenize__(self) -> str:
        return self.token


class _ReadBlobs:
    """Partition function: read and decode one batch of blobs (runs on a worker)."""

    def __init__(self, source: _Source, start: pd.Timestamp | None, end: pd.Timestamp | None,
                 log_type: str | None, mac: str | None, columns: list[str] | None, strict: bool,
                 alone: bool = True, native: bool | None = None) -> None:
        self.source, self.start, self.end = source, start, end
        self.log_type, self.mac, self.columns, self.strict = log_type, mac, columns, strict
        self.alone = alone  # the read's only partition: it sees the whole input, as the pandas read
        self.native = native  # the same rows either way: not part of the token

    def __repr__(self) -> str:
        return "flowkit-read-blobs"

    def __dask_tokenize__(self) -> tuple:
        return ("flowkit-read-blobs", self.source.token, str(self.start), str(self.end), self.log_type,
                self.mac, tuple(self.columns or ()), self.strict, self.alone)

    def __call__(self, refs: Sequence[BlobRef], columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The batch's rows; ``columns`` is the projection Dask pushes down (``ddf[cols]``)."""
        from flowkit.store.parquet import table_to_frame

        decoded = decode_refs(self.source.source, refs, strict=self.strict, start=self.start, end=self.end,
                              log_type=self.log_type, mac=self.mac, native=self.native)
        check_partition_report(decoded.report, len(refs), alone=self.alone)
        wanted = _projected(columns, self.columns)
        if decoded.report.filtered_out == 0:
            return uniform_categories(table_to_frame(decoded.table, wanted, threads=1))
        # rows left out leave no category behind, as in the pandas read (both addresses are
        # filled: they share their categories, and those of the rows left out go from both)
        from flowkit.frame_fill import drop_unused_categories, keep_columns, with_both_addresses

        wanted = list(wanted) if wanted is not None else list(COLUMNS)
        frame = drop_unused_categories(table_to_frame(decoded.table, with_both_addresses(wanted), threads=1))
        return uniform_categories(keep_columns(frame, wanted))


def decode_refs(source: Any, refs: Sequence[BlobRef], *, strict: bool, start: pd.Timestamp | None,
                end: pd.Timestamp | None, log_type: str | None, mac: str | None, native: bool | None = None) -> Any:
    """Download a batch of blobs from ``source`` and decode them into one table and report
    (:func:`flowkit.store.convert.decode_batch`); what a Dask task does with its batch.
    ``native``: True when the whole read is large enough for the compiled scanner to pay
    its start on each worker (:func:`scanning_pays`)."""
    from flowkit.store.convert import decode_batch

    contents: list[bytes] = [b""] * len(refs)
    for i, data in source.iter_bytes(list(refs)):
        contents[i] = data
    return decode_batch(list(zip(contents, refs)), strict=strict, start=start, end=end, log_type=log_type, mac=mac,
                        native=native)


def scanning_pays(refs: Sequence[BlobRef]) -> bool | None:
    """True when the blobs listed for a Dask read add up to enough bytes for each worker to load
    the compiled scanner (:data:`flowkit.formats.native_read.NATIVE_MIN_BYTES`), which a
    partition alone (:data:`PARTITION_BYTES`) never is; None otherwise (a worker then uses it
    only if it is loaded already). The worker's own ``FLOWKIT_SCANNER`` and numba decide.

    Examples
    --------
    >>> scanning_pays([BlobRef("PT1H.json", size=1 << 40)]), scanning_pays([BlobRef("PT1H.json", size=10)])
    (True, None)
    """
    from flowkit.formats import native_read

    return True if sum(ref.size or 0 for ref in refs) >= native_read.NATIVE_MIN_BYTES else None


class _ReadParquet:
    """Partition function: read some files of a Parquet dataset (runs on a worker)."""

    def __init__(self, start: pd.Timestamp | None, end: pd.Timestamp | None, log_type: str | None,
                 mac: str | None, columns: list[str] | None) -> None:
        self.start, self.end, self.log_type, self.mac, self.columns = start, end, log_type, mac, columns

    def __repr__(self) -> str:
        return "flowkit-read-parquet"

    def __dask_tokenize__(self) -> tuple:
        return ("flowkit-read-parquet", str(self.start), str(self.end), self.log_type, self.mac,
                tuple(self.columns or ()))

    def __call__(self, paths: list[str], columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The files' rows; only ``columns`` (the projection Dask pushes down) are read."""
        from flowkit.store.parquet import read_parquet_file

        return uniform_categories(read_parquet_file(paths, start=self.start, end=self.end, log_type=self.log_type,
                                                    mac=self.mac, columns=_projected(columns, self.columns),
                                                    threads=1))


class _ReadNothing:
    """Partition function of a read that matched nothing: the canonical empty frame (as the
    pandas read returns), projected as Dask asks."""

    def __init__(self, columns: list[str] | None) -> None:
        self.columns = columns

    def __repr__(self) -> str:
        return "flowkit-read-nothing"

    def __dask_tokenize__(self) -> tuple:
        return ("flowkit-read-nothing", tuple(self.columns or ()))

    def __call__(self, _: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
        wanted = _projected(columns, self.columns)
        return empty_frame() if wanted is None else empty_frame()[wanted]


def check_partition_report(report: LoadReport, blobs: int, *, alone: bool = True) -> None:
    """Do with one partition's load report what :func:`flowkit.read_flow_logs` does with the read's.

    When the partition is the read's only one (``alone``), raise
    :class:`~flowkit.errors.FormatError` when its blobs hold no flow-log record and one
    of them is not JSON (same message as the pandas read). Warn
    (:class:`~flowkit.errors.FlowkitDataWarning`) when tuples were quarantined or
    records damaged. On a Dask worker the warning goes through
    ``distributed.warn``: the clients of the scheduler emit it too, before the
    partition's result reaches them (the worker's log shows it as well).

    The pandas read raises only when the *whole* input holds no record. One partition
    of several cannot know that, so it warns instead, with the error's text: a single
    unreadable batch of blobs (an XML error page) does not fail a whole computation,
    as it does not fail the pandas read; a read whose partitions are all unreadable
    computes to an empty frame, with each partition's warning.

    Parameters
    ----------
    report : LoadReport
        The report of decoding the partition's blobs.
    blobs : int
        How many blobs the partition read.
    alone : bool
        The partition is the read's only one.

    Examples
    --------
    >>> from flowkit.load_report import Problem
    >>> check_partition_report(LoadReport(files=1, records=3), 1)  # nothing to say
    >>> bad = LoadReport(files=1, problems=(Problem("PT1H.json", "not-json", "<Error>"),))
    >>> check_partition_report(bad, 1)
    Traceback (most recent call last):
    ...
    flowkit.errors.FormatError: no flow-log records found: 'PT1H.json' is not JSON ('<Error>')
    """
    unreadable = ""
    try:
        check_some_records(report, blobs)
    except FormatError as exc:
        if alone:
            raise
        unreadable = f" ({exc} in this partition)"
    if report.quarantined or report.problems:
        _warn(f"flowkit: {report.summary()}{unreadable} in a partition of a Dask read; flowkit.load_report_dask "
              "(or `flowkit inspect --dask`) gives the load report")


def _warn(message: str) -> None:
    """A FlowkitDataWarning here and, on a Dask worker, on the clients too."""
    try:
        from distributed import warn
    except ImportError:  # pragma: no cover - dask without distributed
        warnings.warn(message, FlowkitDataWarning, stacklevel=3)
        return
    warn(message, FlowkitDataWarning, stacklevel=3)


def _warn_dataset_quarantine(source: Any, files: list[Any], start: pd.Timestamp | None,
                             end: pd.Timestamp | None, log_type: str | None, mac: str | None) -> None:
    """Warn, on the client, of the tuples and records the conversion quarantined in the blobs
    of the dataset files a read covers (the pandas read of the dataset warns of them too)."""
    from flowkit.store.manifest import Manifest
    from flowkit.store.parquet import units_read, with_quarantine

    units = units_read(Manifest.load(source), files, start, end, log_type)
    if not any(u.quarantined or u.problems for u in units):
        return
    report = with_quarantine(LoadReport(), source, units, mac)
    if report.quarantined or report.problems:
        reasons = ", ".join(f"{k}: {v}" for k, v in report.problem_counts.items())
        warnings.warn(f"flowkit: {report.quarantined} tuple(s) quarantined, {len(report.problems)} damaged "
                      f"record(s) or file(s) in the blobs of the dataset files read ({reasons}); read with the "
                      "pandas engine for the load report", FlowkitDataWarning, stacklevel=4)


def _projected(projection: Sequence[str] | None, columns: list[str] | None) -> list[str] | None:
    """The columns a partition returns: Dask's projection (a subset of the collection's
    columns, in its order) when it pushed one down, else those the reader was asked for."""
    return list(projection) if projection is not None else columns


_EMPTY_STR = pd.CategoricalDtype(pd.Index([], dtype="str"))


def uniform_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Give empty categoricals (a column all missing in this partition) text categories.

    pandas gives an all-missing column categories of dtype ``object``; Dask cannot
    concatenate those with the ``str`` categories of other partitions.

    Examples
    --------
    >>> uniform_categories(empty_frame())["acl_id"].cat.categories.dtype == "str"
    True
    """
    for name in frame.columns:
        dtype = frame[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories) == 0 \
                and dtype.categories.dtype == object:
            frame[name] = frame[name].astype(_EMPTY_STR)
    return frame


def blob_batches(refs: Sequence[BlobRef], partition_bytes: int = PARTITION_BYTES) -> list[tuple[BlobRef, ...]]:
    """Split a listing into consecutive batches of about ``partition_bytes`` (at least one blob each).

    The files of one hour folder of the Azure layout stay in one batch: beside its
    ``PT1H.json`` such a folder holds only copies of it (``PT1H (1).json``, a saved
    fragment), and the Dask investigations count a copy of a tuple once only when it
    is in its original's partition.

    Examples
    --------
    >>> refs = [BlobRef(str(i), size=40) for i in range(5)]
    >>> [len(b) for b in blob_batches(refs, 100)]
    [3, 2]
    """
    batches: list[tuple[BlobRef, ...]] = []
    batch: list[BlobRef] = []
    size = 0
    folder: tuple | None = None
    for ref in refs:
        here = _hour_folder(ref)
        if batch and size >= partition_bytes and (here is None or here != folder):
            batches.append(tuple(batch))
            batch, size = [], 0
        batch.append(ref)
        size += ref.size or 1 << 20
        folder = here
    if batch:
        batches.append(tuple(batch))
    return batches


def _hour_folder(ref: BlobRef) -> tuple | None:
    """The container and folder of a blob whose path is in the layout (it names an hour), else None.

    Examples
    --------
    >>> from flowkit.sources.layout import parse_blob_path
    >>> name = ("resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/"
    ...         "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2024/m=05/d=01/h=10/m=00/"
    ...         "macAddress=000D3A000001/PT1H (1).json")
    >>> _hour_folder(BlobRef(name, meta=parse_blob_path(name)))[1][-29:]
    'm=00/macAddress=000D3A000001/'
    >>> _hour_folder(BlobRef("logs/a.json")) is None
    True
    """
    if ref.meta.hour is None:
        return None
    name = ref.name.replace("\\", "/")
    return ref.container, name[:name.rfind("/") + 1]


def _meta(columns: list[str] | None) -> pd.DataFrame:
    """The canonical empty frame; open categoricals marked as having unknown categories."""
    from dask.dataframe.utils import clear_known_categories

    from flowkit.frame_fill import CLOSED_CATEGORIES

    meta = empty_frame() if columns is None else empty_frame()[columns]
    open_cats = [c for c in meta.columns
                 if isinstance(meta[c].dtype, pd.CategoricalDtype) and c not in CLOSED_CATEGORIES]
    return clear_known_categories(meta, cols=open_cats) if open_cats else meta


def listing_token(kind: str, src: Any, refs: Sequence[BlobRef], *options: Any) -> str:
    """The task token of a computation over the blobs ``refs`` of ``src``: it changes when a
    blob's name or size does (and an Azure blob's ETag), or an option; it never shows the source
    itself. A local file rewritten at the same size keeps its token: Dask may then reuse a result
    it still holds for it (hour blobs only grow, so only a hand-edited file can do this)."""
    return _token(kind, src.describe(), [(r.name, r.size, getattr(r, "etag", None)) for r in refs], *options)


def _token(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode("utf-8", "replace"))
        h.update(b"\0")
    return h.hexdigest()[:32]


def read_flow_logs_dask(source: Any, start: Any = None, end: Any = None, log_type: str | None = None,
                        mac: str | None = None, columns: Sequence[str] | None = None, strict: bool = False,
                        *, partition_bytes: int = PARTITION_BYTES, partition_rows: int = PARTITION_ROWS) -> Any:
    """Read flow logs (files, Azure, or a Parquet dataset) as a lazy Dask DataFrame.

    Parameters
    ----------
    source : str, PathLike, list or FlowSource
        As for :func:`flowkit.read_flow_logs`; a folder written by ``flowkit convert``
        is read file by file.
    start, end, log_type, mac, columns, strict
        As for :func:`flowkit.read_flow_logs`; the listing is pruned on the client,
        rows are filtered on the workers.
    partition_bytes : int
        JSON bytes per partition (batches of consecutive blobs).
    partition_rows : int
        Parquet dataset: rows per partition (consecutive files read together).

    Returns
    -------
    dask.dataframe.DataFrame
        Meta ``flowkit.schema.empty_frame()[columns]``; one partition per blob
        batch or group of Parquet files (at least one, empty, when nothing matches).
        Categorical columns have unknown categories. A read that matches
        nothing computes to the pandas engine's empty frame.

    Raises
    ------
    flowkit.errors.FormatError
        When the read has one partition, its blobs hold no flow-log record and one
        is not JSON, as the pandas read (see :func:`check_partition_report`; one
        partition of several warns instead).

    Warns
    -----
    FlowkitDataWarning
        When a partition with quarantined tuples or damaged records is computed
        (on the client computing it, through ``distributed.warn``); for a Parquet
        dataset, at the read, when the blobs of the files read had some. There is
        no load report: :func:`flowkit.load_report_dask` computes one on the cluster.

    Examples
    --------
    >>> ddf = read_flow_logs_dask("data-samples/encryption", columns=["src_ip", "encryption"])  # doctest: +SKIP
    >>> ddf.encryption.value_counts().compute()  # doctest: +SKIP
    """
    import dask.dataframe as dd

    from flowkit.store.parquet import dataset_files, is_parquet_dataset

    cols = list(columns) if columns is not None else None
    unknown = [c for c in (cols or []) if c not in COLUMNS]
    if unknown:
        raise ArgumentError(f"unknown column(s) {unknown}; the canonical columns are {list(COLUMNS)}")
    meta = _meta(cols)
    start_ts, end_ts = to_window(start, end)
    check_selection(log_type, mac)
    if is_parquet_dataset(source):
        files = dataset_files(source, start=start_ts, end=end_ts, log_type=log_type)
        paths = [os.fspath(Path(source) / f.path) for f in files]
        _warn_dataset_quarantine(source, files, start_ts, end_ts, log_type, mac)
        if not paths:
            return _nothing(meta, cols)
        groups = [[paths[i] for i in group] for group in file_groups([f.rows for f in files], partition_rows)]
        return dd.from_map(_ReadParquet(start_ts, end_ts, log_type, mac, cols), groups, meta=meta,
                           label="flowkit-read-parquet", enforce_metadata=False)
    src = resolve_source(source)
    listing = src.list_blobs(log_type=log_type, start=start_ts, end=end_ts, mac=mac)
    batches = blob_batches(listing.refs, partition_bytes)
    token = listing_token("blobs", src, listing.refs, start_ts, end_ts, log_type, mac, cols, strict, partition_bytes)
    if not batches:
        return _nothing(meta, cols)
    func = _ReadBlobs(_Source(src, token), start_ts, end_ts, log_type, mac, cols, strict, alone=len(batches) == 1,
                      native=scanning_pays(listing.refs))
    return dd.from_map(func, batches, meta=meta, label="flowkit-read", enforce_metadata=False)


def _nothing(meta: pd.DataFrame, columns: list[str] | None) -> Any:
    """One partition that computes to the empty canonical frame (the meta's unknown
    categories are the meta's only: the partition has no category at all)."""
    import dask.dataframe as dd

    return dd.from_map(_ReadNothing(columns), [None], meta=meta, label="flowkit-read-nothing",
                       enforce_metadata=False)
