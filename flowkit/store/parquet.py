"""The Parquet dataset: ``flowkit convert`` (:mod:`flowkit.store.convert`) writes it,
``read_flow_logs`` reads it back through this module.

Layout (hive-style, readable by pyarrow, DuckDB, Spark, Dask)::

    DEST/_flowkit_dataset.json                   marker + manifest (see flowkit.store.manifest)
    DEST/type=vnet/date=2024-05-01/hour=10/part-<hash>.parquet

Every file holds canonical columns in the Arrow types of the decoder
(:data:`flowkit.formats.decode.ARROW_SCHEMA`: dictionary-encoded strings,
uint16/uint8 ports, uint32/uint64 counters, UTC timestamps), so reading back
gives exactly the dtypes of a JSON read. A column with no missing value in a
file is written as required there (it reads back faster); the Arrow schema is
not stored, the Parquet logical types carry it (see
:data:`flowkit.store.writer.PARQUET_OPTIONS`). One file per flow-log resource and
hour (all NICs of that hour); files are written under new names, the marker is
replaced after them and earlier files removed after it, so a crash never leaves
the marker naming a file that disagrees with it (see :mod:`flowkit.store.writer`).
The marker names the dataset's files: a reader that globs the folder instead may
see a leftover of an interrupted conversion until the next conversion removes it.
Tuples that did not become rows are kept per unit in ``_quarantine/``
(:mod:`flowkit.store.quarantine`), so a dataset read reports them as the JSON
read does.

Reading streams whole files into a frame counted from their footers, or scans
files with a filter (time, log type, MAC) when one is given.

A dataset read gives the rows, values and dtypes of a JSON read of the same blobs.
Two things differ, by design: files are ordered by their first blob's name (a
JSON read of a list of paths follows the list's order, so ``[nsg_folder,
vnet_folder]`` gives NSG rows first, the dataset VNet rows first, as an Azure
listing does), and the categories of ``src_ip``/``dst_ip`` and the open
categoricals (``rule``, ``mac``, ...) are in the order the files bring them, not
the order the JSON reader's batches did (compare with ``check_category_order=False``,
or ``.cat.reorder_categories(sorted(...))`` on both sides).

Examples
--------
>>> import tempfile
>>> from flowkit.read import read_flow_logs
>>> from flowkit.store.convert import convert
>>> dest = tempfile.mkdtemp()
>>> report = convert("data-samples/encryption", dest)  # doctest: +SKIP
>>> flows = read_flow_logs(dest, start="2024-05-01T10:00Z", columns=["src_ip", "encryption"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from flowkit.addresses import normalize_mac
from flowkit.errors import FlowkitDataWarning
from flowkit.formats.table import ARROW_SCHEMA, ms_bound
from flowkit.frame_fill import FILL_THREADS, FrameFiller, drop_unused_categories, keep_columns, with_both_addresses
from flowkit.load_report import LoadReport, Problem
from flowkit.read import frame_from_tables, missed_window
from flowkit.schema import COLUMNS, ENCRYPTION_DROPS, empty_frame
from flowkit.sources.layout import hour_overlaps, parse_blob_path, to_utc, to_window
from flowkit.store.convert import SEAL_MARGIN, ConvertReport, convert, decode_batch
from flowkit.store.manifest import FileEntry, Manifest, UnitEntry, is_parquet_dataset
from flowkit.store.quarantine import of_blobs, read_quarantine
from flowkit.store.writer import CATEGORICAL

# convert, ConvertReport, decode_batch and SEAL_MARGIN live in flowkit.store.convert;
# they are named here too, where earlier versions had them.
__all__ = ["is_parquet_dataset", "read_parquet_dataset", "dataset_files", "read_parquet_file",
           "table_to_frame", "drop_unused_categories", "convert", "ConvertReport", "decode_batch", "SEAL_MARGIN"]

#: Files read at once by :func:`read_parquet_file` (results are kept in file order).
READ_THREADS = 2


def _wanted(f: FileEntry, start: pd.Timestamp | None, end: pd.Timestamp | None, log_type: str | None) -> bool:
    """Whether a file may hold rows of that window and log type (from the manifest alone)."""
    if log_type is not None and f.log_type != log_type:
        return False
    if f.min_time is None:
        return start is None and end is None
    if start is not None and pd.Timestamp(f.max_time) < start:
        return False
    return not (end is not None and pd.Timestamp(f.min_time) >= end)


def dataset_files(dest: str | os.PathLike, *, start: Any = None, end: Any = None,
                  log_type: str | None = None) -> list[FileEntry]:
    """The files of a dataset that may hold rows of that window and log type, in listing order.

    Only the files the manifest names are the dataset's (a file an interrupted
    conversion left behind is not).

    Examples
    --------
    >>> dataset_files("data-samples/encryption")  # not a dataset: no files
    []
    """
    start_ts, end_ts = to_window(start, end)
    return [f for f in Manifest.load(dest).files() if _wanted(f, start_ts, end_ts, log_type)]


def _read_columns(columns: Sequence[str] | None) -> list[str]:
    """Columns to read: both addresses when one is asked for (they share categories), and
    ``encryption`` with ``decision`` (see :func:`_drops_denied`)."""
    if columns is None:
        return list(COLUMNS)
    want = set(columns)
    if want & {"src_ip", "dst_ip"}:
        want |= {"src_ip", "dst_ip"}
    if "decision" in want:
        want.add("encryption")
    return [c for c in COLUMNS if c in want]


def _drops_denied(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``decision`` deny wherever ``encryption`` is a state whose packets are dropped.

    A dataset converted before flowkit read ``NX_SW_NOT_READY`` and ``NX_NOT_SUPPORTED`` as
    deny stores ``allow`` for them, and a later ``convert`` does not rewrite those hours: read
    here, they say what a JSON read of the same logs says. Nothing to do (no copy) when
    no such state is in the frame's categories.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"decision": ["allow", "allow"], "encryption": ["NX_SW_NOT_READY", "X"]}))
    >>> _drops_denied(f)["decision"].tolist()
    ['deny', 'allow']
    """
    if "decision" not in frame.columns or "encryption" not in frame.columns or not len(frame):
        return frame
    enc = frame["encryption"].cat
    drops = enc.categories.get_indexer(pd.Index(list(ENCRYPTION_DROPS), dtype=enc.categories.dtype))
    drops = drops[drops >= 0]
    if not len(drops):
        return frame
    dropped = np.isin(enc.codes.to_numpy(), drops)
    decision = frame["decision"]
    deny = decision.cat.categories.get_loc("deny")
    codes = decision.cat.codes.to_numpy()
    if not (dropped & (codes != deny)).any():
        return frame
    codes = np.where(dropped, np.int8(deny), codes).astype(codes.dtype)
    frame["decision"] = pd.Categorical.from_codes(codes, dtype=decision.dtype)
    return frame


def _filter(start: pd.Timestamp | None, end: pd.Timestamp | None, log_type: str | None,
            mac: str | None) -> ds.Expression | None:
    expr = None

    def add(e: ds.Expression) -> None:
        nonlocal expr
        expr = e if expr is None else expr & e

    # flow_time holds whole milliseconds: both bounds round up to one, as in the JSON read
    # (a start of 10:00:00.0015 keeps .002 but not .001; an end of .0015 keeps .001, not .002)
    if start is not None:
        add(ds.field("flow_time") >= ms_bound(start))
    if end is not None:
        add(ds.field("flow_time") < ms_bound(end))
    if log_type is not None:
        add(ds.field("log_type").cast(pa.string()) == log_type)
    if mac is not None:
        add(ds.field("mac").cast(pa.string()) == normalize_mac(mac))
    return expr


def table_to_frame(table: pa.Table, columns: Sequence[str] | None = None, *, threads: int = FILL_THREADS) -> pd.DataFrame:
    """Turn an Arrow table of canonical columns (any subset) into pandas with canonical dtypes
    (``threads`` copy the columns; 1 copies them in the calling thread).

    Examples
    --------
    >>> table_to_frame(ARROW_SCHEMA.empty_table(), ["dst_port"]).dtypes.tolist()
    [dtype('uint16')]
    """
    return frame_from_tables([table], columns, threads=threads)


def _scan(paths: list[str], columns: list[str], expr: ds.Expression | None, threads: int) -> list[pa.Table]:
    """One table per file, in file order (the categories come out in a fixed order)."""
    schema = pa.schema([ARROW_SCHEMA.field(c) for c in COLUMNS])
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=CATEGORICAL))

    def scan(path: str) -> pa.Table:
        return ds.dataset(path, format=fmt, schema=schema).to_table(columns=columns, filter=expr)

    if len(paths) == 1 or threads <= 1:
        return [scan(path) for path in paths]
    with ThreadPoolExecutor(max_workers=threads) as pool:  # pyarrow releases the GIL
        return list(pool.map(scan, paths))


def _stream(paths: list[str], columns: list[str], wanted: list[str], threads: int,
            footers: dict[str, pq.FileMetaData]) -> pd.DataFrame:
    """Read whole files into a frame, copying each file's table while the next files are read.

    The rows are counted from the files' footers, so the frame is allocated once;
    at most ``threads + 1`` tables are alive at a time, and the memory of one
    is reused by the next (never handed back to the system meanwhile, so never
    faulted in afresh): the read costs about the frame plus a few files. Each file
    is read whole by :class:`pyarrow.parquet.ParquetFile` on one thread (two files
    at a time): 26% less CPU than a dataset scan per file (40 M rows: 5.6 against
    7.5 CPU-s).
    """
    n = sum(footers[path].num_rows for path in paths)

    def scan(path: str) -> pa.Table:
        return pq.ParquetFile(path, metadata=footers[path], read_dictionary=CATEGORICAL).read(
            columns=columns, use_threads=False)

    if threads <= 1:  # one file after the other, in the calling thread
        with FrameFiller(n, wanted, threads=1) as filler:
            for path in paths:
                filler.add(scan(path))
            return filler.finish()
    with ThreadPoolExecutor(max_workers=threads) as pool, FrameFiller(n, wanted, threads=threads) as filler:
        pending: deque[Future[pa.Table]] = deque()
        for path in paths:
            pending.append(pool.submit(scan, path))
            if len(pending) > threads:
                filler.add(pending.popleft().result())
        while pending:
            filler.add(pending.popleft().result())
        return filler.finish()


def read_parquet_file(paths: Sequence[str], *, start: Any = None, end: Any = None, log_type: str | None = None,
                      mac: str | None = None, columns: Sequence[str] | None = None,
                      threads: int = READ_THREADS) -> pd.DataFrame:
    """Read some files of a dataset (absolute paths) into one canonical frame.

    This is the per-partition reader of the Dask engine, which passes ``threads=1``:
    a worker's task then reads and copies in its own thread only (a worker runs
    as many tasks as it has threads; a task's own threads would compete with them,
    and each new thread gets its own malloc arena, memory the worker keeps).

    Examples
    --------
    >>> read_parquet_file([], columns=["mac"]).shape
    (0, 1)
    """
    return _read(list(paths), start, end, log_type, mac, columns, threads, None)


def _read(paths: list[str], start: Any, end: Any, log_type: str | None, mac: str | None,
          columns: Sequence[str] | None, threads: int, footers: dict[str, pq.FileMetaData] | None) -> pd.DataFrame:
    """:func:`read_parquet_file`, with the files' footers when the caller has read them already."""
    wanted = list(columns) if columns is not None else list(COLUMNS)
    if not paths:
        return empty_frame()[wanted]
    # decisions stored before NX_SW_NOT_READY and NX_NOT_SUPPORTED were denies are mended from encryption
    filled = wanted + ["encryption"] if "decision" in wanted and "encryption" not in wanted else wanted
    expr = _filter(*to_window(start, end), log_type, mac)
    if expr is None:  # whole files: streamed into a frame counted beforehand
        footers = footers if footers is not None else _footers(paths)
        frame = _drops_denied(_stream(paths, _read_columns(columns), filled, threads, footers))
        return frame if filled is wanted else keep_columns(frame, wanted)
    tables = _scan(paths, _read_columns(columns), expr, threads)
    selecting = mac is not None or start is not None or end is not None  # a log type selects whole files
    # frees each table once copied; both addresses when rows are left out (they share their categories)
    frame = _drops_denied(frame_from_tables(tables, with_both_addresses(filled) if selecting else filled,
                                            consume=True, threads=threads))
    if not selecting:
        return frame if filled is wanted else keep_columns(frame, wanted)
    return keep_columns(drop_unused_categories(frame), wanted)  # the other address: for its categories only


def _footers(paths: list[str]) -> dict[str, pq.FileMetaData]:
    return {path: pq.read_metadata(path) for path in paths}


def read_parquet_dataset(source: str | os.PathLike, *, start: Any = None, end: Any = None,
                         log_type: str | None = None, mac: str | None = None,
                         columns: Sequence[str] | None = None, with_report: bool = False) -> Any:
    """Read a dataset written by :func:`convert` into one canonical DataFrame.

    Files are pruned by log type and ``flow_time`` range (from the manifest, without
    opening them); rows are filtered on ``flow_time``, log type and MAC while
    scanning; only the ``columns`` asked for are read.

    Parameters
    ----------
    source : str or PathLike
        The dataset folder.
    start, end, log_type, mac, columns, with_report
        As for :func:`flowkit.read_flow_logs`.

    Returns
    -------
    pandas.DataFrame, or (DataFrame, LoadReport) with ``with_report``
        The same rows and dtypes as reading the source flow logs. The report counts
        the tuples of the blobs whose files were read: ``tuples == rows + quarantined
        + filtered_out``, with the quarantined tuples and damaged records of those
        blobs in ``quarantine`` and ``problems`` (``records`` is 0: a dataset keeps
        rows, not records).

    Warns
    -----
    FlowkitDataWarning
        When the blobs read had quarantined tuples or damaged records, as a JSON read; and
        when a window or selection leaves no row, saying what it left out and which hours
        the dataset covers (:func:`flowkit.read.missed_window`).

    Examples
    --------
    >>> flows = read_parquet_dataset("flows.parquet", start="2024-05-01T10:00Z",
    ...                              columns=["src_ip", "dst_ip", "bytes_sent"])  # doctest: +SKIP
    """
    start_ts, end_ts = to_window(start, end)
    manifest = Manifest.load(source)
    every = manifest.files()
    files = [f for f in every if _wanted(f, start_ts, end_ts, log_type)]
    paths = [str(Path(source) / f.path) for f in files]
    whole = start_ts is None and end_ts is None and mac is None  # every row of the files read
    footers = _footers(paths) if whole else None  # read once: for the frame and for the report
    frame = _read(paths, start_ts, end_ts, log_type, mac, columns, READ_THREADS, footers)
    report = _report(frame, files, len(every) - len(files), str(source), footers)
    report = with_quarantine(report, source, units_read(manifest, files, start_ts, end_ts, log_type), mac)
    selecting = start_ts is not None or end_ts is not None or log_type is not None or mac is not None
    if not len(frame) and selecting and (report.files_skipped or report.filtered_out):  # as a JSON read
        hours = sorted(pd.Timestamp(f.hour) for f in every)
        warnings.warn(missed_window(start_ts, end_ts, log_type, mac, report.files_skipped, report.filtered_out,
                                    (hours[0], hours[-1]) if hours else None), FlowkitDataWarning, stacklevel=3)
    if report.quarantined or report.problems:
        warnings.warn(f"flowkit: {report.summary(records=False)}; see the load report", FlowkitDataWarning, stacklevel=3)
    frame.attrs["load_report"] = report
    return (frame, report) if with_report else frame


def units_read(manifest: Manifest, files: list[FileEntry], start: pd.Timestamp | None,
               end: pd.Timestamp | None, log_type: str | None) -> list[UnitEntry]:
    """The units whose blobs a read covers: those with a file read, and those without rows (every
    tuple quarantined) whose hour and log type a JSON read of their blobs would not skip."""
    read = {f.path for f in files}
    out = []
    for unit in manifest.units.values():
        if unit.files:
            if any(f.path in read for f in unit.files):
                out.append(unit)
        elif ((unit.tuples or unit.problems) and (log_type is None or unit.log_type in (None, log_type))
              and hour_overlaps(to_utc(unit.hour), start, end)):
            out.append(unit)
    return sorted(out, key=lambda u: min(u.blobs, default=""))  # listing order, as the files


def with_quarantine(report: LoadReport, source: str | os.PathLike, units: list[UnitEntry],
                    mac: str | None) -> LoadReport:
    """The report with the tuples seen and quarantined in the blobs of the ``units`` read, and their
    quarantine entries and problems: ``tuples == rows + quarantined + filtered_out``.

    With ``mac``, quarantine entries of blobs whose path names another MAC are not
    selected (counted in ``filtered_out``), as a JSON read would not open those blobs.
    """
    want = normalize_mac(mac) if mac is not None else None
    quarantines: list[pd.DataFrame] = []
    problems: list[Problem] = []
    quarantined = 0
    for unit in units:
        if not unit.quarantine:  # nothing quarantined, or a dataset written before quarantine files
            quarantined += unit.quarantined
            continue
        q, p = read_quarantine(source, unit.quarantine)
        if want is not None:
            blobs = set(q["blob"]) | {x.blob for x in p}
            keep = {b for b in blobs if parse_blob_path(b).mac in (None, want)}
            q, p = of_blobs(q, p, keep)
        quarantined += len(q)
        if len(q):
            quarantines.append(q)
        problems.extend(p)
    tuples = sum(unit.tuples for unit in units)
    quarantine = pd.concat(quarantines, ignore_index=True) if quarantines else report.quarantine
    return replace(report, tuples=tuples, quarantined=quarantined, filtered_out=tuples - report.rows - quarantined,
                   quarantine=quarantine, problems=tuple(problems))


def _report(frame: pd.DataFrame, files: list[FileEntry], skipped: int, source: str,
            footers: dict[str, pq.FileMetaData] | None) -> LoadReport:
    """The load report of a dataset read (rows, formats, time range). When every row of the files
    was read (their ``footers`` given, in the order of ``files``), the time range comes from the
    manifest and the formats from the files' statistics, without a pass over the frame."""
    formats = _footer_formats(list(footers.values()), files) if footers is not None else None
    if formats is None:
        formats = _format_counts(frame) if len(frame) and "log_type" in frame and "version" in frame else {}
    start = end = None
    if footers is not None and len(frame):
        lows = [to_utc(f.min_time) for f in files if f.min_time]
        highs = [to_utc(f.max_time) for f in files if f.max_time]
        start, end = (min(lows).as_unit("ms"), max(highs).as_unit("ms")) if lows and highs else (None, None)
    elif len(frame) and "flow_time" in frame:
        start, end = frame["flow_time"].min(), frame["flow_time"].max()
    return LoadReport(files=len(files), files_skipped=skipped, rows=len(frame), tuples=len(frame),
                      formats=formats, start=start, end=end, sources=(f"parquet: {source}",))


def _footer_formats(footers: list[pq.FileMetaData], files: list[FileEntry]) -> dict[str, int] | None:
    """Rows per format from each row group's ``version`` statistics (None when a row group
    holds several versions or has no statistics: the frame is counted instead)."""
    counts: dict[str, int] = {}
    for meta, entry in zip(footers, files):
        if "version" not in meta.schema.names:
            return None
        column = meta.schema.names.index("version")
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            if not group.num_rows:
                continue
            stats = group.column(column).statistics
            if stats is None or not stats.has_min_max or stats.min != stats.max or stats.null_count:
                return None
            key = f"{entry.log_type}-v{stats.min}"
            counts[key] = counts.get(key, 0) + group.num_rows
    return counts


_SLICE = 1 << 20  # rows per slice when counting formats


def _format_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per ``<log type>-v<version>``, counted in slices (no frame-sized temporaries)."""
    log_type = frame["log_type"].array
    codes, versions = log_type.codes, frame["version"].to_numpy()  # views, no copies
    names = log_type.categories
    counts = np.zeros((len(names), 256), dtype=np.int64)
    for i in range(0, len(frame), _SLICE):
        c, v = codes[i:i + _SLICE], versions[i:i + _SLICE]
        for k in range(len(names)):
            counts[k] += np.bincount(v[c == k], minlength=256)
    return {f"{names[k]}-v{ver}": int(counts[k, ver]) for k, ver in zip(*np.nonzero(counts))}
