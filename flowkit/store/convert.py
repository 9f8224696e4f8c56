"""``flowkit convert``: flow logs (local or Azure) -> the Parquet dataset, incrementally.

The dataset's layout is described in :mod:`flowkit.store.parquet`, which reads it.
Blobs are grouped into *units* (one flow-log resource, one hour); each unit is
decoded in batches of about :data:`flowkit.store.writer.BATCH_BYTES` of JSON,
written by :class:`flowkit.store.writer.UnitWriter` and published (renamed into
place, then recorded in the manifest) as soon as its last batch is written.

Conversion is incremental: an hour is *sealed* once it ended more than
:data:`SEAL_MARGIN` ago; a sealed unit whose blobs have the same signatures
(ETag, or size and mtime) as when converted is skipped, everything else (the
open hour, blobs that changed, new blobs) is rewritten. A unit is rewritten from
the blobs listed now *and* the rows of its other blobs converted before (blobs
named in an earlier call only, or deleted since by retention), which are copied
from its earlier files: converting into an existing dataset adds to it.

Blobs are known by :func:`flowkit.store.manifest.blob_id` (a local file by its
canonical path), so the same files named another way are the same blobs.

Publishing is crash-safe: new files get new names, the manifest is replaced, and
only then are the files it no longer names removed; leftovers of an interrupted
call are removed by the next one (:func:`flowkit.store.writer.remove_leftovers`).
One call at a time may write a dataset.

Examples
--------
>>> import tempfile
>>> report = convert("data-samples/encryption", tempfile.mkdtemp())  # doctest: +SKIP
>>> report.units_written  # doctest: +SKIP
2
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import pyarrow as pa

from flowkit.errors import FlowkitDataWarning
from flowkit.formats import decode as _decode
from flowkit.formats.decode import ARROW_SCHEMA, DecodedBlob, decode_blob
from flowkit.formats.native_read import worth_scanning
from flowkit.load_report import LoadReport, check_some_records
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import check_selection, to_utc, to_window
from flowkit.sources.redact import redact_name
from flowkit.sources.resolve import resolve_source
from flowkit.store.lock import dataset_lock
from flowkit.store.manifest import (FORMAT_VERSION, MARKER, FileEntry, LocalNames, Manifest, UnitEntry, blob_id,
                                    blob_signature, unit_key_of, _is_local)
from flowkit.store.quarantine import QUARANTINE_DIR, of_blobs, read_quarantine, write_quarantine
from flowkit.store import writer as _writer
from flowkit.store.writer import BATCH_BYTES, UnitWriter, blob_runs, in_order, kept_runs, remove_leftovers

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
        Parquet files and rows written by this call (rows copied from a unit's earlier
        files included).
    rows_kept : int
        Rows of blobs not read by this call (named before only, or deleted since)
        copied into their unit's new files.
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
    rows_kept: int = 0
    open_units: int = 0
    load: LoadReport = field(default_factory=LoadReport, repr=False)


def decode_batch(items: Sequence[tuple[bytes, BlobRef]], *, strict: bool = False,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 log_type: str | None = None, mac: str | None = None, native: bool | None = None) -> DecodedBlob:
    """Decode several blobs into one table (rows in the order of ``items``) and one report.

    Uses the decoder's batch entry point when it has one (one CSV parse per format
    for the whole batch), else decodes blob by blob. ``native``: as for
    :func:`flowkit.formats.decode.decode_blobs` (True: try the compiled scanner, loading
    it in this process if needed; None: only if it is loaded or the batch is large enough).

    Examples
    --------
    >>> decode_batch([]).table.num_rows
    0
    """
    batch = getattr(_decode, "decode_blobs", None)
    if batch is not None and items:
        return batch(list(items), strict=strict, start=start, end=end, log_type=log_type, mac=mac, native=native)
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
    """A unit to convert: its blobs (refs and ids), partition hour, whether it is sealed, and
    what was there before."""

    key: str
    refs: list[BlobRef]
    ids: list[str]
    hour: pd.Timestamp | None
    sealed: bool
    sigs: dict[str, dict[str, Any]]
    old: UnitEntry | None

    @property
    def kept(self) -> list[str]:
        """Blobs converted before and not read now: their rows are carried over."""
        return [b for b in self.old.blobs if b not in self.sigs] if self.old is not None else []


class _Kept:
    """The rows of a unit's kept blobs, read from its earlier files and merged among the new
    rows in blob order (both come in that order; a run is a blob's consecutive rows)."""

    def __init__(self, dest: Path, unit: _Unit) -> None:
        old = unit.old
        assert old is not None
        self.order = {old.label(b): b for b in unit.kept}  # blob column -> blob id
        self.runs = kept_runs([dest / f.path for f in old.files], set(self.order))
        self.head = next(self.runs, None)
        self.rows = 0

    def _pop(self) -> pa.Table:
        assert self.head is not None
        rows = self.head[1]
        self.rows += rows.num_rows
        self.head = next(self.runs, None)
        return rows

    def merge(self, table: pa.Table, ids: dict[str, str]) -> Iterator[pa.Table]:
        """The decoded ``table`` (blob column -> blob id: ``ids``) with the kept runs of blobs
        that come before its blobs put before them."""
        def runs() -> Iterator[pa.Table]:
            for label, rows in blob_runs(table):
                while self.head is not None and self.order[self.head[0]] < ids[label]:
                    yield self._pop()
                yield rows

        return _joined(runs())

    def rest(self) -> Iterator[pa.Table]:
        """The kept runs after the last new blob."""
        def runs() -> Iterator[pa.Table]:
            while self.head is not None:
                yield self._pop()

        return _joined(runs())

    def close(self) -> None:
        self.runs.close()  # type: ignore[attr-defined]


def _joined(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Consecutive tables joined up to about a row group of rows (each write is a row group:
    a blob's run is often small)."""
    pieces: list[pa.Table] = []
    size = 0
    for table in tables:
        pieces.append(table)
        size += table.num_rows
        if size >= _writer.ROW_GROUP_ROWS:
            yield pa.concat_tables(pieces)
            pieces, size = [], 0
    if pieces:
        yield pa.concat_tables(pieces)


def _unit_entry(dest: Path, unit: _Unit, combined: LoadReport, kept_rows: int,
                files: list[FileEntry]) -> UnitEntry:
    """The manifest entry of a unit just written: its blobs (those read now and those kept),
    files and counts; its quarantine (the kept blobs' entries, then the new ones) is written to
    a new file."""
    old = unit.old
    quarantine, problems = combined.quarantine, tuple(combined.problems)
    blobs: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    if old is not None and unit.kept:
        blobs = {b: old.blobs[b] for b in unit.kept}
        labels = {b: old.label(b) for b in unit.kept}
        if old.quarantine:
            q, p = of_blobs(*read_quarantine(dest, old.quarantine), {old.label(b) for b in unit.kept})
            if len(q):
                quarantine = pd.concat([q, quarantine], ignore_index=True) if len(quarantine) else q
            problems = p + problems
    kept_quarantined = len(quarantine) - combined.quarantined
    blobs.update(unit.sigs)
    labels.update({bid: redact_name(ref.name) for bid, ref in zip(unit.ids, unit.refs)})  # as the rows name it
    rel = write_quarantine(dest, unit.key, quarantine, problems) if len(quarantine) or problems else None
    entry = UnitEntry(
        blobs=dict(sorted(blobs.items())), sealed=unit.sealed,
        hour=unit.hour.isoformat() if unit.hour is not None else None, files=files,
        records=combined.records, tuples=combined.tuples + kept_rows + kept_quarantined,
        quarantined=combined.quarantined + kept_quarantined, problems=len(problems), quarantine=rel,
        log_type=unit.refs[0].meta.log_type)
    entry.set_labels(unit.key, {b: labels[b] for b in entry.blobs})
    return entry


def _remove(dest: Path, rels: set[str]) -> None:
    """Remove files the manifest no longer names (after it was saved)."""
    for rel in rels:
        (dest / rel).unlink(missing_ok=True)


def _decoded_units(pool: ThreadPoolExecutor, src: Any, todo: list[_Unit],
                   strict: bool) -> Iterator[tuple[int, DecodedBlob | None]]:
    """``(unit index, decoded batch)`` in order, then ``(unit index, None)`` once a unit's
    batches are all given; up to ``CONVERT_THREADS`` batches are decoded ahead. A conversion
    of enough bytes loads the compiled scanner once for all of its batches (each is too
    small to pay its start alone)."""
    pending: deque[tuple[int, Future[DecodedBlob] | None]] = deque()
    native = worth_scanning(sum(ref.size or 0 for unit in todo for ref in unit.refs))

    def ready(limit: int) -> Iterator[tuple[int, DecodedBlob | None]]:
        while pending and (pending[0][1] is None or len(pending) > limit):
            u, future = pending.popleft()
            yield u, future.result() if future is not None else None

    try:
        for u, unit in enumerate(todo):
            for batch in in_order(src, unit.refs, BATCH_BYTES):
                pending.append((u, pool.submit(decode_batch, batch, strict=strict, native=native)))
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
    start, end = to_window(start, end)  # refused before anything is created
    check_selection(log_type)
    src = resolve_source(source)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} is not a folder")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with dataset_lock(dest):  # one conversion at a time: two would remove each other's files
            report = _convert(src, dest, log_type=log_type, start=start, end=end, progress=progress, now=now,
                              strict=strict)
        # as every reader: blobs read and none a flow log, one not even JSON (a UTF-16 copy, an
        # error page) is a FormatError naming it, not an empty dataset and a count of "not-json"
        check_some_records(report.load, report.blobs_read)
        return report
    except BaseException:
        if created:
            _remove_if_nothing_written(dest)
        raise


def _remove_if_nothing_written(dest: Path) -> None:
    """Remove the folder a failed conversion made when it holds nothing but the dataset's marker.

    A source that could not be listed (a refused key) or a ``strict`` conversion stopped at
    its first problem would otherwise leave an empty dataset behind, which reads as "no
    traffic". So would input holding no flow log at all (refused after the run, its problems
    kept in the quarantine folder). A folder holding any unit written is kept: a new run
    resumes from it.
    """
    quarantine = dest / QUARANTINE_DIR
    try:
        kept = [p for p in dest.iterdir() if not (p.name == MARKER and p.is_file())]
        if kept == [quarantine] and not quarantine.is_symlink() and quarantine.is_dir():
            notes = list(quarantine.iterdir())
            if not all(n.is_file() and not n.is_symlink() for n in notes):
                return
            for note in notes:
                note.unlink()
            quarantine.rmdir()
        elif kept:
            return
        (dest / MARKER).unlink(missing_ok=True)
        dest.rmdir()
    except OSError:  # someone else's file appeared, or the folder went: leave it as it is
        pass


def _dataset_file(ref: BlobRef) -> bool:
    """A local file a flowkit dataset keeps for itself: its marker, or one of its quarantine files.

    ``convert logs logs/parquet`` lists the dataset's own ``*.json`` among the logs: read as
    logs, the marker was a damaged record and a quarantine file, replaced while it was read,
    failed the next conversion ("cannot read …/_quarantine/….json").
    """
    folder, name = os.path.split(ref.name)
    if name == MARKER:
        return _is_local(ref)
    parent, last = os.path.split(folder)
    return last == QUARANTINE_DIR and _is_local(ref) and os.path.isfile(os.path.join(parent, MARKER))


def _convert(src: Any, dest: Path, *, log_type: str | None, start: Any, end: Any,
             progress: Callable[[int, int], None] | None, now: Any, strict: bool) -> ConvertReport:
    """:func:`convert` once the dataset's lock is held."""
    now_ts = to_utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
    start_ts, end_ts = to_window(start, end)
    listing = src.list_blobs(log_type=log_type, start=start_ts, end=end_ts)
    names = LocalNames()
    units: dict[str, list[tuple[str, BlobRef]]] = {}
    seen: set[str] = set()
    for ref in listing.refs:
        bid = blob_id(ref, names)
        if bid in seen:  # one file named two ways (``data`` and ``$PWD/data``): converted once
            continue
        if _dataset_file(ref):  # a dataset's own JSON, in a folder converted into it (or holding one)
            continue
        seen.add(bid)
        units.setdefault(unit_key_of(bid, ref.meta.hour is not None), []).append((bid, ref))
    ours = Manifest.load(dest) if _is_dataset(dest) else None
    manifest = ours or Manifest()
    if manifest.format_version < FORMAT_VERSION:
        dropped = manifest.upgrade(names)
        manifest.save(dest)  # before removing the files of the copies it dropped
        if dropped:
            warnings.warn(f"flowkit: {dest} held {dropped} hour(s) twice (the same files converted under two "
                          f"names by an earlier flowkit); one copy of each is kept", FlowkitDataWarning, stacklevel=4)
    described = src.describe()
    if described not in manifest.sources:
        manifest.sources.append(described)
    if ours is not None:  # what an interrupted call left (a folder that was not a dataset is not touched)
        remove_leftovers(dest, manifest.referenced())
    else:
        manifest.save(dest)  # the folder is a dataset from now on: files it does not name are leftovers
    stats = dict(units_written=0, units_skipped=0, blobs_read=0, files_written=0, rows_written=0, rows_kept=0,
                 open_units=0)
    reports: list[LoadReport] = []
    todo: list[_Unit] = []
    for key, blobs in units.items():
        refs = [ref for _, ref in blobs]
        hour = refs[0].meta.hour
        sealed = _sealed(hour, now_ts)
        sigs = {bid: blob_signature(ref) for bid, ref in blobs}
        old = manifest.units.get(key)
        # Sealed and unchanged: skip. Blobs gone from the source (retention) do not count
        # as a change: the dataset keeps what was converted.
        if old is not None and sealed and all(old.blobs.get(bid) == sig for bid, sig in sigs.items()):
            if not old.sealed:  # converted while open, unchanged since: complete
                old.sealed = True
                manifest.save(dest)
            stats["units_skipped"] += 1
            if progress:
                progress(stats["units_skipped"], len(units))
            continue
        todo.append(_Unit(key, refs, [bid for bid, _ in blobs], hour, sealed, sigs, old))

    def finish(unit: _Unit, writer: UnitWriter, unit_reports: list[LoadReport], kept: _Kept | None) -> None:
        combined = LoadReport.combine(unit_reports)
        kept_rows = kept.rows if kept is not None else 0
        entries = writer.publish()  # under new names: no file the manifest names is replaced
        manifest.units[unit.key] = _unit_entry(dest, unit, combined, kept_rows, entries)
        manifest.save(dest)  # the new files are the unit's from here on
        old = unit.old
        if old is not None:
            stale = {f.path for f in old.files} | ({old.quarantine} if old.quarantine else set())
            _remove(dest, stale - {f.path for f in entries})
        reports.append(combined)
        stats["units_written"] += 1
        stats["open_units"] += 0 if unit.sealed else 1
        stats["blobs_read"] += len(unit.refs)
        stats["files_written"] += len(entries)
        stats["rows_written"] += sum(e.rows for e in entries)
        stats["rows_kept"] += kept_rows
        if progress:
            progress(stats["units_skipped"] + stats["units_written"], len(units))

    # Batches are decoded in a pool, ahead of the one being written (decoding and Parquet
    # encoding overlap); units are written and published one at a time, in order, each as
    # soon as its last batch is written (before any later batch can fail).
    writer: UnitWriter | None = None
    kept: _Kept | None = None
    unit_reports: list[LoadReport] = []
    try:
        with ThreadPoolExecutor(max_workers=CONVERT_THREADS) as pool:
            for u, decoded in _decoded_units(pool, src, todo, strict):
                unit = todo[u]
                if writer is None:
                    first = min([*unit.ids, *unit.kept])
                    writer, unit_reports = UnitWriter(dest, unit.key, unit.hour, first), []
                    kept = _Kept(dest, unit) if unit.kept else None
                    by_label = {redact_name(ref.name): bid for bid, ref in zip(unit.ids, unit.refs)}
                if decoded is None:
                    if kept is not None:
                        for rows in kept.rest():
                            writer.write(rows)
                    done, writer = writer, None
                    finish(unit, done, unit_reports, kept)
                    kept = None
                    continue
                if kept is None:
                    writer.write(decoded.table)
                else:
                    for rows in kept.merge(decoded.table, by_label):
                        writer.write(rows)
                unit_reports.append(decoded.report)
                del decoded
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        if kept is not None:
            kept.close()
    manifest.save(dest)
    return ConvertReport(dest=str(dest), load=LoadReport.combine(reports, sources=(described,)), **stats)


def _is_dataset(dest: Path) -> bool:
    return (dest / MARKER).is_file()
