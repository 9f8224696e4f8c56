"""``flowkit convert``: flow logs (local or Azure) -> the Parquet dataset, incrementally.

The dataset's layout is described in :mod:`flowkit.store.parquet`, which reads it.
Blobs are grouped into *units* (one flow-log resource, one hour); each unit is
decoded in batches of about :data:`flowkit.store.writer.BATCH_BYTES` of JSON,
written by :class:`flowkit.store.writer.UnitWriter` and published (renamed into
place, then recorded in the manifest) as soon as its last batch is written.

Conversion is incremental: an hour is *sealed* once it ended more than
:data:`SEAL_MARGIN` ago; a sealed unit whose blobs have the same signatures
(ETag, or size and mtime) as when converted is skipped, everything else (the
open hour, blobs that changed, new blobs) is rewritten.

Examples
--------
>>> import tempfile
>>> report = convert("data-samples/encryption", tempfile.mkdtemp())  # doctest: +SKIP
>>> report.units_written  # doctest: +SKIP
2
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import pyarrow as pa

from flowkit.formats import decode as _decode
from flowkit.formats.decode import ARROW_SCHEMA, DecodedBlob, decode_blob
from flowkit.load_report import LoadReport
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import to_utc
from flowkit.sources.resolve import resolve_source
from flowkit.store.manifest import Manifest, UnitEntry, blob_signature, unit_key
from flowkit.store.writer import BATCH_BYTES, UnitWriter, in_order

__all__ = ["convert", "ConvertReport", "decode_batch", "SEAL_MARGIN", "CONVERT_THREADS"]

#: An hour is sealed (Azure will not append to its blobs) this long after it ends.
SEAL_MARGIN = pd.Timedelta(minutes=15)


@dataclass(frozen=True)
class ConvertReport:
    """What one :func:`convert` call did.

    Attributes
    ----------
    dest : str
        The dataset folder.
    units_written, units_skipped : int
        Units (one flow-log resource, one hour) converted now, and sealed units
        skipped because they were converted before and their blobs did not change.
    blobs_read : int
        Source blobs downloaded and decoded.
    files_written, rows_written : int
        Parquet files and rows written by this call.
    open_units : int
        Units written that are not sealed yet (they are rewritten next time).
    load : LoadReport
        The decode report of the blobs read (quarantine and problems included).
    """

    dest: str
    units_written: int = 0
    units_skipped: int = 0
    blobs_read: int = 0
    files_written: int = 0
    rows_written: int = 0
    open_units: int = 0
    load: LoadReport = field(default_factory=LoadReport, repr=False)


def decode_batch(items: Sequence[tuple[bytes, BlobRef]], *, strict: bool = False,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 log_type: str | None = None, mac: str | None = None) -> DecodedBlob:
    """Decode several blobs into one table (rows in the order of ``items``) and one report.

    Uses the decoder's batch entry point when it has one (one CSV parse per format
    for the whole batch), else decodes blob by blob.

    Examples
    --------
    >>> decode_batch([]).table.num_rows
    0
    """
    batch = getattr(_decode, "decode_blobs", None)
    if batch is not None and items:
        return batch(list(items), strict=strict, start=start, end=end, log_type=log_type, mac=mac)
    parts = [decode_blob(data, ref, strict=strict, start=start, end=end, log_type=log_type, mac=mac)
             for data, ref in items]
    tables = [p.table for p in parts if p.table.num_rows]
    table = pa.concat_tables(tables) if tables else ARROW_SCHEMA.empty_table()
    return DecodedBlob(table, LoadReport.combine([p.report for p in parts]))


def _sealed(hour: pd.Timestamp | None, now: pd.Timestamp) -> bool:
    return hour is not None and hour + pd.Timedelta(hours=1) + SEAL_MARGIN <= now


#: Threads decoding batches while the converter writes the previous one.
CONVERT_THREADS = 2


@dataclass
class _Unit:
    """A unit to convert: its blobs, partition hour, whether it is sealed, and what was there before."""

    key: str
    refs: list[BlobRef]
    hour: pd.Timestamp | None
    sealed: bool
    sigs: dict[str, dict[str, Any]]
    old: UnitEntry | None


def _decoded_units(pool: ThreadPoolExecutor, src: Any, todo: list[_Unit],
                   strict: bool) -> Iterator[tuple[int, DecodedBlob | None]]:
    """``(unit index, decoded batch)`` in order, then ``(unit index, None)`` once a unit's
    batches are all given; up to ``CONVERT_THREADS`` batches are decoded ahead."""
    pending: deque[tuple[int, Future[DecodedBlob] | None]] = deque()

    def ready(limit: int) -> Iterator[tuple[int, DecodedBlob | None]]:
        while pending and (pending[0][1] is None or len(pending) > limit):
            u, future = pending.popleft()
            yield u, future.result() if future is not None else None

    try:
        for u, unit in enumerate(todo):
            for batch in in_order(src, unit.refs, BATCH_BYTES):
                pending.append((u, pool.submit(decode_batch, batch, strict=strict)))
                del batch
                yield from ready(CONVERT_THREADS)
            pending.append((u, None))
            yield from ready(CONVERT_THREADS)
        yield from ready(0)
    finally:
        for _, future in pending:  # on an error: decode nothing more
            if future is not None:
                future.cancel()


def convert(source: Any, dest: str | os.PathLike, *, log_type: str | None = None, start: Any = None,
            end: Any = None, progress: Callable[[int, int], None] | None = None,
            now: Any = None, strict: bool = False) -> ConvertReport:
    """Decode flow logs (local or Azure) into a Parquet dataset, incrementally.

    Parameters
    ----------
    source : str, PathLike, list or FlowSource
        Anything :func:`flowkit.read_flow_logs` reads (folders, globs, ``azure://``
        addresses, source objects).
    dest : str or PathLike
        Dataset folder; created if missing. Converting into an existing dataset
        adds to it.
    log_type : {"nsg", "vnet"}, optional
        Convert one kind of log only.
    start, end : timestamp-like, optional
        Convert only blobs whose hour may hold tuples in ``[start, end)``. Rows are
        not cut at the window: a unit is always stored whole.
    progress : callable, optional
        Called as ``progress(units_done, units_total)`` after each unit.
    now : timestamp-like, optional
        The current time (default: the clock), which decides which hours are sealed.
    strict : bool
        Raise at the first bad tuple instead of quarantining it.

    Returns
    -------
    ConvertReport

    Examples
    --------
    >>> import tempfile
    >>> r = convert("data-samples/encryption", tempfile.mkdtemp())  # doctest: +SKIP
    >>> r.units_skipped, r.rows_written > 0  # doctest: +SKIP
    (0, True)
    """
    src = resolve_source(source)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} is not a folder")
    dest.mkdir(parents=True, exist_ok=True)
    now_ts = to_utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
    listing = src.list_blobs(log_type=log_type, start=to_utc(start), end=to_utc(end))
    units: dict[str, list[BlobRef]] = {}
    for ref in listing.refs:
        units.setdefault(unit_key(ref), []).append(ref)
    manifest = Manifest.load(dest)
    described = src.describe()
    if described not in manifest.sources:
        manifest.sources.append(described)
    stats = dict(units_written=0, units_skipped=0, blobs_read=0, files_written=0, rows_written=0, open_units=0)
    reports: list[LoadReport] = []
    todo: list[_Unit] = []
    for key, refs in units.items():
        hour = refs[0].meta.hour
        sealed = _sealed(hour, now_ts)
        sigs = {r.name: blob_signature(r) for r in refs}
        old = manifest.units.get(key)
        # Sealed and unchanged: skip. Blobs gone from the source (retention) do not count
        # as a change: the dataset keeps what was converted.
        if old is not None and sealed and all(old.blobs.get(name) == sig for name, sig in sigs.items()):
            if not old.sealed:  # converted while open, unchanged since: complete
                old.sealed = True
                manifest.save(dest)
            stats["units_skipped"] += 1
            if progress:
                progress(stats["units_skipped"], len(units))
            continue
        todo.append(_Unit(key, refs, hour, sealed, sigs, old))

    def finish(unit: _Unit, writer: UnitWriter, unit_reports: list[LoadReport]) -> None:
        entries = writer.publish()
        combined = LoadReport.combine(unit_reports)
        reports.append(combined)
        old = unit.old
        stale = {f.path for f in old.files} - {f.path for f in entries} if old else set()
        manifest.units[unit.key] = UnitEntry(
            blobs=unit.sigs, sealed=unit.sealed, hour=unit.hour.isoformat() if unit.hour is not None else None,
            files=entries, records=combined.records, tuples=combined.tuples, quarantined=combined.quarantined)
        manifest.save(dest)
        for rel in stale:
            (dest / rel).unlink(missing_ok=True)
        stats["units_written"] += 1
        stats["open_units"] += 0 if unit.sealed else 1
        stats["blobs_read"] += len(unit.refs)
        stats["files_written"] += len(entries)
        stats["rows_written"] += sum(e.rows for e in entries)
        if progress:
            progress(stats["units_skipped"] + stats["units_written"], len(units))

    # Batches are decoded in a pool, ahead of the one being written (decoding and Parquet
    # encoding overlap); units are written and published one at a time, in order, each as
    # soon as its last batch is written (before any later batch can fail).
    writer: UnitWriter | None = None
    unit_reports: list[LoadReport] = []
    try:
        with ThreadPoolExecutor(max_workers=CONVERT_THREADS) as pool:
            for u, decoded in _decoded_units(pool, src, todo, strict):
                if writer is None:
                    writer, unit_reports = UnitWriter(dest, todo[u].key, todo[u].hour, todo[u].refs[0].name), []
                if decoded is None:
                    done, writer = writer, None
                    finish(todo[u], done, unit_reports)
                    continue
                writer.write(decoded.table)
                unit_reports.append(decoded.report)
                del decoded
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    manifest.save(dest)
    return ConvertReport(dest=str(dest), load=LoadReport.combine(reports, sources=(described,)), **stats)
