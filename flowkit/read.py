"""``read_flow_logs``: any source, any mix of formats, one typed DataFrame.

Examples
--------
>>> import flowkit
>>> flows = flowkit.read_flow_logs("data-samples/connectivity")  # doctest: +SKIP
>>> flows.attrs["load_report"].consistent  # doctest: +SKIP
True
"""

from __future__ import annotations

import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd
import pyarrow as pa

from flowkit.addresses import normalize_mac
from flowkit.errors import ArgumentError, FlowkitDataWarning, SourceError
from flowkit.frame_fill import (FILL_THREADS, FrameFiller, drop_unused_categories, fill_frame, keep_columns,
                                with_both_addresses)
from flowkit.formats.decode import DecodedBlob, decode_blob, decode_blobs
from flowkit.formats.native_read import worth_scanning
from flowkit.load_report import LoadReport, check_some_records
from flowkit.progress import progress_bar
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import check_selection, to_window
from flowkit.sources.times import utc_text
from flowkit.sources.redact import redact_name
from flowkit.sources.resolve import resolve_source

__all__ = ["read_flow_logs", "frame_from_tables", "decode_to_frame", "load_report", "ordered_batches"]


def frame_from_tables(tables: Sequence[pa.Table], columns: Sequence[str] | None = None, *,
                      consume: bool = False, threads: int = FILL_THREADS) -> pd.DataFrame:
    """Turn decoded Arrow tables (all or some canonical columns) into one pandas frame.

    ``src_ip`` and ``dst_ip`` share one set of categories; the closed categoricals
    (direction, decision, state, encryption, log_type) have their canonical
    categories in canonical order (see :func:`flowkit.frame_fill.fill_frame`).

    Parameters
    ----------
    tables : sequence of pyarrow.Table
        Tables with canonical column names and Arrow types (:data:`ARROW_SCHEMA`);
        a list when ``consume`` is set.
    columns : sequence of str, optional
        The columns the frame returns (default: all); the tables hold at least these.
    consume : bool, default False
        Empty ``tables`` (the caller's list): each table is then released as soon
        as its rows are in the frame, so when the caller holds no other reference
        the read peaks at about the Arrow tables plus the frame filled so far,
        instead of two or three frames (at 40 M rows, gigabytes of memory).
    threads : int
        Threads copying columns into the frame (1: in the calling thread).

    Examples
    --------
    >>> frame_from_tables([]).shape
    (0, 23)
    >>> frame_from_tables([], ["dst_port"]).dtypes.tolist()
    [dtype('uint16')]
    """
    wanted = list(columns) if columns is not None else list(COLUMNS)
    present = [t for t in tables if t.num_rows]
    if consume:
        tables.clear()
    if not present:
        return empty_frame()[wanted]
    return fill_frame(present, wanted, threads=threads)


def decode_to_frame(data: bytes, ref: BlobRef | str, *, strict: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Decode the bytes of one blob or growing-blob fragment into a frame and its report.

    Parameters
    ----------
    data : bytes
        A whole blob, a single record, or a fragment ``,{…},{…}`` read from the
        middle of a growing blob (leading comma, maybe a BOM, maybe the ``]}`` tail).
    ref : BlobRef or str
        Where the bytes came from (becomes the ``blob`` column).
    strict : bool
        Raise at the first quarantined tuple instead of reporting it.

    Examples
    --------
    >>> frame, report = decode_to_frame(b"", "empty.json")
    >>> len(frame), report.tuples
    (0, 0)
    """
    if isinstance(ref, str):
        from flowkit.sources.layout import parse_blob_path

        ref = BlobRef(name=ref, meta=parse_blob_path(ref))
    decoded = decode_blob(data, ref, strict=strict)
    frame = frame_from_tables([decoded.table])
    report = _finish([decoded.report], skipped=0, sources=(redact_name(ref.name),))
    return frame, report


def load_report(flows: pd.DataFrame) -> LoadReport | None:
    """Return the load report attached to a frame by :func:`read_flow_logs`.

    Examples
    --------
    >>> load_report(pd.DataFrame()) is None
    True
    """
    report = flows.attrs.get("load_report")
    return report if isinstance(report, LoadReport) else None


def _finish(parts: list[LoadReport], skipped: int, sources: tuple[str, ...]) -> LoadReport:
    return LoadReport.combine(parts, files_skipped=skipped, sources=sources)


def missed_window(start: pd.Timestamp | None, end: pd.Timestamp | None, log_type: str | None, mac: str | None,
                  files: int, tuples: int, hours: tuple[pd.Timestamp, pd.Timestamp] | None) -> str:
    """The warning of a read whose window or selection left no row: what was left out, and where
    the logs are.

    Examples
    --------
    >>> h = (pd.Timestamp("2024-05-01T10:00Z"), pd.Timestamp("2024-05-01T11:00Z"))
    >>> missed_window(pd.Timestamp("2026-11-27T00:00Z"), None, None, None, 12, 0, h)
    'flowkit: no rows from 2026-11-27 00:00:00Z: 12 file(s) were left out by their path (hour, MAC, log type); the files found cover 2024-05-01 10:00 to 2024-05-01 12:00 UTC (by the hour in their path)'
    >>> missed_window(pd.Timestamp("2026-11-27T00:00Z"), None, None, None, 0, 0, None)
    'flowkit: no rows from 2026-11-27 00:00:00Z: no file or blob was found for it (blob storage is listed only under the hours, MACs and log type asked for)'
    """
    asked = " ".join(x for x in (f"from {utc_text(start)}" if start is not None else "",
                                 f"until {utc_text(end)}" if end is not None else "",
                                 f"of log type {log_type}" if log_type else "",
                                 f"of MAC {normalize_mac(mac)}" if mac else "") if x)
    left = [f"{files} file(s) were left out by their path (hour, MAC, log type)" if files else "",
            f"{tuples} tuple(s) by their time, log type or MAC" if tuples else ""]
    if not files and not tuples:  # nothing listed at all: a blob store lists only what was asked for
        left = ["no file or blob was found for it (blob storage is listed only under the hours, MACs and "
                "log type asked for)"]
    where = (f"; the files found cover {hours[0]:%Y-%m-%d %H:%M} to "
             f"{hours[1] + pd.Timedelta(hours=1):%Y-%m-%d %H:%M} UTC (by the hour in their path)" if hours else "")
    return f"flowkit: no rows {asked}: " + " and ".join(x for x in left if x) + where


def _iter_bytes(src: Any, refs: Sequence[BlobRef]) -> Iterator[tuple[int, bytes]]:
    """Read through the source; one progress bar (ours) is enough."""
    import inspect

    if "progress" in inspect.signature(src.iter_bytes).parameters:
        return src.iter_bytes(refs, progress=False)
    return src.iter_bytes(refs)


#: Blobs are decoded in batches of about this many bytes (realistic blobs are small).
BATCH_BYTES = 8 << 20
#: Fewer bytes of log than any real tuple takes (an NSG v1 tuple string alone is about 50):
#: the frame is first sized for (input bytes / this) rows, an estimate that is too high, not
#: too low, and costs address space only (see :class:`flowkit.frame_fill.FrameFiller`).
MIN_TUPLE_BYTES = 40


def ordered_batches(arrivals: Iterable[tuple[int, bytes]], limit: int,
                    refs: Sequence[BlobRef] | None = None) -> Iterator[list[tuple[int, bytes]]]:
    """Group ``(index, content)`` arrivals into batches of about ``limit`` bytes, in index order.

    Sources may deliver blobs out of order (concurrent downloads); a small
    reorder buffer keeps the rows of a read in listing order. With ``refs`` (what was
    listed), a source that stops before delivering every one is an error, not a short read.

    Examples
    --------
    >>> [[i for i, _ in b] for b in ordered_batches([(1, b"xx"), (0, b"x"), (2, b"xxx")], 3)]
    [[0, 1], [2]]
    """
    waiting: dict[int, bytes] = {}
    batch: list[tuple[int, bytes]] = []
    size, nxt = 0, 0
    for i, data in arrivals:
        waiting[i] = data
        while nxt in waiting:
            chunk = waiting.pop(nxt)
            batch.append((nxt, chunk))
            size += len(chunk)
            nxt += 1
            if size >= limit:
                yield batch
                batch, size = [], 0
    if waiting or (refs is not None and nxt != len(refs)):  # a source that skipped or dropped a blob
        missing = redact_name(refs[nxt].name) if refs is not None and nxt < len(refs) else f"number {nxt}"
        total = f" of {len(refs)}" if refs is not None else ""
        raise SourceError(f"the source delivered {nxt}{total} listed blob(s) in sequence: {missing!r} never came")
    if batch:
        yield batch


def read_flow_logs(
    source: Any,
    *,
    start: Any = None,
    end: Any = None,
    log_type: str | None = None,
    mac: str | None = None,
    strict: bool = False,
    progress: bool | None = None,
    max_workers: int = 2,
    with_report: bool = False,
    columns: Sequence[str] | None = None,
    engine: str = "pandas",
) -> Any:
    """Read Azure NSG (v1, v2) and VNet (v4) flow logs into one typed DataFrame.

    Parameters
    ----------
    source : str, PathLike, list, or FlowSource
        A file, a folder (searched recursively), a glob, a list of those, an
        ``azure://account/container`` address, or a source object such as
        :class:`flowkit.AzureBlobSource`.
    start, end : str, datetime or Timestamp, optional
        Keep tuples with ``start <= flow_time < end`` (naive times are UTC). Blobs
        whose path hour misses the window are not read at all.
    log_type : {"nsg", "vnet"}, optional
        Read one kind of log only.
    mac : str, optional
        Read one NIC only (any MAC spelling: ``00-0D-3A-…`` or ``000d3a…``).
    strict : bool, default False
        Raise :class:`flowkit.errors.QuarantineError` at the first bad tuple or
        record instead of quarantining it.
    progress : bool, optional
        Show a progress bar; by default only when interactive.
    max_workers : int, default 2
        Blobs decoded at once (pyarrow parses with the GIL released).
    with_report : bool, default False
        Return ``(frame, report)`` instead of the frame alone.
    columns : list of str, optional
        Return these canonical columns only (a Parquet dataset reads only them; from JSON,
        every tuple is still parsed and checked, but only these columns are kept).
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"`` returns a lazy Dask DataFrame with the canonical schema as its
        meta, one partition per batch of blobs (needs the ``dask`` extra). It has
        no load report: ``with_report=True`` raises :class:`flowkit.errors.ArgumentError`
        (:func:`flowkit.load_report_dask` computes the report on the cluster);
        unreadable blobs raise and quarantined tuples warn as partitions are
        computed (see :mod:`flowkit.scale.dask_read`).

    Returns
    -------
    pandas.DataFrame
        One row per flow tuple in the canonical schema (:mod:`flowkit.schema`);
        the :class:`flowkit.LoadReport` is in ``frame.attrs["load_report"]``.
        An empty input gives an empty frame with every column.

    Raises
    ------
    flowkit.errors.SourceError
        A path does not exist or a blob cannot be read.
    flowkit.errors.FormatError
        Nothing in the input is a flow log (every file was unreadable as JSON).

    Warns
    -----
    FlowkitDataWarning
        When tuples were quarantined or records damaged (the report says which).

    Examples
    --------
    >>> flows = read_flow_logs("data-samples/connectivity", start="2024-05-01T10:00Z",
    ...                        end="2024-05-01T11:00Z")  # doctest: +SKIP
    >>> flows["log_type"].unique().tolist()  # doctest: +SKIP
    ['vnet']
    """
    if engine not in ("pandas", "dask"):
        raise ArgumentError(f"engine must be 'pandas' or 'dask', not {engine!r}")
    if columns is not None:
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise ArgumentError(f"unknown column(s) {unknown}; the canonical columns are {list(COLUMNS)}")
    check_selection(log_type, mac)  # one no log can hold would read as no traffic
    if engine == "dask":
        from flowkit.scale.dask_read import read_flow_logs_dask

        if with_report:
            raise ArgumentError("with_report=True needs the pandas engine: a Dask read's partitions are decoded "
                                "on the workers as they are computed, so it has no report to return; "
                                "flowkit.load_report_dask(source, ...) computes the load report on the cluster")
        return read_flow_logs_dask(source, start=start, end=end, log_type=log_type, mac=mac,
                                   columns=columns, strict=strict)
    from flowkit.store.manifest import is_parquet_dataset  # not store.parquet: its imports cost a first read 30 ms

    if is_parquet_dataset(source):
        from flowkit.store.parquet import read_parquet_dataset

        return read_parquet_dataset(source, start=start, end=end, log_type=log_type, mac=mac,
                                    columns=columns, with_report=with_report)
    src = resolve_source(source)
    start_ts, end_ts = to_window(start, end)
    listing = src.list_blobs(log_type=log_type, start=start_ts, end=end_ts, mac=mac)
    refs = listing.refs
    reports: list[LoadReport] = []
    total = sum(r.size or 0 for r in refs)
    bar = progress_bar(total or None, "flowkit: reading", unit="B", unit_scale=True, enabled=progress)

    native = worth_scanning(total)  # the compiled scanner, for a read large enough to pay its start

    def decode(batch: list[tuple[int, bytes]]) -> tuple[DecodedBlob, int]:
        decoded = decode_blobs([(data, refs[i]) for i, data in batch], strict=strict, start=start_ts,
                               end=end_ts, log_type=log_type, mac=mac, native=native)
        return decoded, sum(len(data) for _, data in batch)

    # Each batch's rows go into the frame as soon as it is decoded, while the next ones decode:
    # no Arrow table waits for the end, and the copy overlaps the parsing. Only the columns
    # asked for are allocated and copied (and, when rows may be left out, both addresses: they share
    # their categories, and those of the rows left out are dropped from both).
    wanted = list(columns) if columns is not None else list(COLUMNS)
    selecting = start_ts is not None or end_ts is not None or log_type is not None or mac is not None
    filler = FrameFiller(max(1, total // MIN_TUPLE_BYTES), with_both_addresses(wanted) if selecting else wanted,
                         threads=1, growable=True)
    try:
        with filler, ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            pending: deque[Future] = deque()

            def collect(limit: int) -> None:
                while len(pending) > limit:
                    decoded, size = pending.popleft().result()
                    filler.add(decoded.table)
                    reports.append(decoded.report)
                    bar.update(size)

            for batch in ordered_batches(_iter_bytes(src, refs), BATCH_BYTES, refs):
                pending.append(pool.submit(decode, batch))
                collect(2 * max_workers)
            collect(0)
    finally:
        bar.close()

    frame = filler.finish() if filler.filled else empty_frame()[wanted]
    report = _finish(reports, listing.skipped, tuple(p.describe() for p in getattr(src, "parts", (src,))))
    check_some_records(report, len(refs))
    if report.filtered_out:  # rows left out by the window or selection leave no category behind
        drop_unused_categories(frame)
    keep_columns(frame, wanted)  # the other address was filled for its categories only
    if not len(frame) and selecting and (listing.skipped or report.filtered_out or not refs):  # not in silence
        warnings.warn(missed_window(start_ts, end_ts, log_type, mac, listing.skipped, report.filtered_out,
                                    listing.hours), FlowkitDataWarning, stacklevel=2)
    if report.quarantined or report.problems:
        warnings.warn(f"flowkit: {report.summary()}; see the load report", FlowkitDataWarning, stacklevel=2)
    frame.attrs["load_report"] = report
    return (frame, report) if with_report else frame
