"""The load report of a read, computed on a Dask cluster: ``load_report_dask``.

A Dask read (:func:`flowkit.scale.dask_read.read_flow_logs_dask`) decodes its blobs on
the workers as partitions are computed, so it cannot hand back a load report. For logs
too large to read on one machine, this module decodes every blob once on the cluster,
each task keeping only what the report needs (the counts, the quarantined tuples with
their reasons and places, the damaged records, the MACs seen), and adds the parts up
on the client: the same report the pandas read gives for the same input.

The blobs are listed on the client, batched as the Dask read batches them, and each
batch is decoded by one task named ``flowkit-report-<hash>-<n>``: the source object
(which may hold a SAS token or a key) is pickled into the graph but never shown in a
task name, a log line or the dashboard.

Examples
--------
>>> from flowkit.scale.dask_report import load_report_dask
>>> report = load_report_dask("data-samples/encryption")  # doctest: +SKIP
>>> report.consistent  # doctest: +SKIP
True
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import pandas as pd
import pyarrow.compute as pc

from flowkit.errors import FlowkitDataWarning
from flowkit.load_report import LoadReport, check_some_records
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import check_selection, to_window
from flowkit.sources.resolve import resolve_source

__all__ = ["load_report_dask", "inspect_dask"]


class _ReportBlobs:
    """Task function: decode one batch of blobs and keep its report and MACs (runs on a worker)."""

    def __init__(self, source: Any, start: pd.Timestamp | None, end: pd.Timestamp | None,
                 log_type: str | None, mac: str | None, strict: bool, native: bool | None = None) -> None:
        self.source, self.start, self.end = source, start, end
        self.log_type, self.mac, self.strict = log_type, mac, strict
        self.native = native  # the same report either way: not part of the token

    def __repr__(self) -> str:
        return "flowkit-report-blobs"

    def __dask_tokenize__(self) -> tuple:
        return ("flowkit-report-blobs", self.source.token, str(self.start), str(self.end), self.log_type,
                self.mac, self.strict)

    def __call__(self, refs: Sequence[BlobRef]) -> tuple[LoadReport, frozenset[str]]:
        from flowkit.scale.dask_read import decode_refs

        decoded = decode_refs(self.source.source, refs, strict=self.strict, start=self.start, end=self.end,
                              log_type=self.log_type, mac=self.mac, native=self.native)
        macs = pc.unique(decoded.table.column("mac")).to_pylist() if decoded.table.num_rows else []
        return decoded.report, frozenset(str(m) for m in macs if m is not None)


def inspect_dask(source: Any, *, start: Any = None, end: Any = None, log_type: str | None = None,
                 mac: str | None = None, strict: bool = False,
                 partition_bytes: int | None = None) -> tuple[LoadReport, list[str]]:
    """The load report of reading ``source``, and the NIC MACs of its rows, computed on Dask.

    What ``flowkit inspect --dask`` prints. Arguments and errors as for
    :func:`load_report_dask`.

    Returns
    -------
    (LoadReport, list of str)
        The report, and the MACs of the rows read (sorted, 12 upper-case hex digits).

    Examples
    --------
    >>> report, macs = inspect_dask("data-samples/encryption")  # doctest: +SKIP
    >>> len(macs)  # doctest: +SKIP
    4
    """
    report, macs = _inspect(source, start, end, log_type, mac, strict, partition_bytes)
    _warn_if_damaged(report)
    return report, macs


def _warn_if_damaged(report: LoadReport) -> None:
    """Warn at the line that called the public function (the one calling this)."""
    if report.quarantined or report.problems:
        warnings.warn(f"flowkit: {report.summary()}; see the load report", FlowkitDataWarning, stacklevel=3)


def _inspect(source: Any, start: Any, end: Any, log_type: str | None, mac: str | None, strict: bool,
             partition_bytes: int | None) -> tuple[LoadReport, list[str]]:
    """:func:`inspect_dask` without its warning."""
    import dask

    from flowkit.scale.dask_read import PARTITION_BYTES, _Source, blob_batches, listing_token, scanning_pays
    from flowkit.store.parquet import is_parquet_dataset, read_parquet_dataset

    start_ts, end_ts = to_window(start, end)
    check_selection(log_type, mac)
    if is_parquet_dataset(source):  # the report comes from the dataset's manifest; one column is read
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FlowkitDataWarning)  # warned by the caller, once, as for JSON
            frame, report = read_parquet_dataset(source, start=start_ts, end=end_ts, log_type=log_type, mac=mac,
                                                 columns=["mac"], with_report=True)
        macs = sorted(str(m) for m in frame["mac"].dropna().unique())
    else:
        src = resolve_source(source)
        listing = src.list_blobs(log_type=log_type, start=start_ts, end=end_ts, mac=mac)
        batches = blob_batches(listing.refs, partition_bytes or PARTITION_BYTES)
        token = listing_token("report", src, listing.refs, start_ts, end_ts, log_type, mac, strict, partition_bytes)
        func = _ReportBlobs(_Source(src, token), start_ts, end_ts, log_type, mac, strict,
                            native=scanning_pays(listing.refs))
        tasks = [dask.delayed(func, pure=True)(batch, dask_key_name=f"flowkit-report-{token}-{i}")
                 for i, batch in enumerate(batches)]
        parts = list(dask.compute(*tasks)) if tasks else []
        report = LoadReport.combine([r for r, _ in parts], files_skipped=listing.skipped,
                                    sources=tuple(p.describe() for p in getattr(src, "parts", (src,))))
        macs = sorted(set().union(*(m for _, m in parts)))
        check_some_records(report, len(listing.refs))
    return report, macs


def load_report_dask(source: Any, *, start: Any = None, end: Any = None, log_type: str | None = None,
                     mac: str | None = None, strict: bool = False,
                     partition_bytes: int | None = None) -> LoadReport:
    """The load report of reading ``source``, with the blobs decoded on a Dask cluster.

    The same :class:`~flowkit.LoadReport` as ``read_flow_logs(source, ...,
    with_report=True)`` gives (files, records, tuples, rows, quarantined tuples with
    their reasons and places, damaged records, formats, time range), without
    building the frame: each task keeps only its blobs' report. Every blob is
    decoded once more than a Dask read of it decodes it, so ask for the report when
    you need the accounting, not with every read. It runs on the current Dask
    scheduler (a ``distributed.Client`` when one is active).

    Parameters
    ----------
    source : str, PathLike, list or FlowSource
        As for :func:`flowkit.read_flow_logs`: files, folders, globs, ``azure://``
        addresses, source objects, or a Parquet dataset written by ``flowkit convert``
        (whose report comes from its manifest, read on the client).
    start, end, log_type, mac, strict
        As for :func:`flowkit.read_flow_logs`.
    partition_bytes : int, optional
        JSON bytes per task (default: the Dask read's
        :data:`~flowkit.scale.dask_read.PARTITION_BYTES`).

    Returns
    -------
    LoadReport
        ``tuples == rows + quarantined + filtered_out``.

    Raises
    ------
    flowkit.errors.FormatError
        Nothing in the input is a flow log (every blob unreadable as JSON), as the
        pandas read raises.
    flowkit.errors.QuarantineError
        With ``strict=True``, at the first bad tuple or record.

    Warns
    -----
    FlowkitDataWarning
        When tuples were quarantined or records damaged (the report says which).

    Examples
    --------
    >>> import flowkit
    >>> report = flowkit.load_report_dask("data-samples/connectivity")  # doctest: +SKIP
    >>> report.tuples == report.rows + report.quarantined + report.filtered_out  # doctest: +SKIP
    True
    """
    report = _inspect(source, start, end, log_type, mac, strict, partition_bytes)[0]
    _warn_if_damaged(report)
    return report
