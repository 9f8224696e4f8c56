"""The load report: what a read saw, what became rows, and what was quarantined.

Invariant, for every input: ``tuples == rows + quarantined + filtered_out``
(``filtered_out`` is 0 unless ``start``/``end``, ``log_type`` or ``mac`` were given).

Examples
--------
>>> from flowkit.load_report import LoadReport
>>> r = LoadReport.empty()
>>> r.tuples == r.rows + r.quarantined + r.filtered_out
True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import pandas as pd

__all__ = ["LoadReport", "QUARANTINE_COLUMNS", "Problem", "quarantine_frame"]

#: Columns of :attr:`LoadReport.quarantine`.
QUARANTINE_COLUMNS = ("blob", "record", "tuple", "reason", "raw")


@dataclass(frozen=True)
class Problem:
    """A problem above the tuple level (a damaged record, an unreadable file)."""

    blob: str
    reason: str
    detail: str
    record: int | None = None


_EMPTY_QUARANTINE = pd.DataFrame(
    {
        "blob": pd.Series([], dtype="object"),
        "record": pd.Series([], dtype="Int64"),
        "tuple": pd.Series([], dtype="Int64"),
        "reason": pd.Series([], dtype="object"),
        "raw": pd.Series([], dtype="object"),
    }
)


def _empty_quarantine() -> pd.DataFrame:
    # A copy of one template: building the frame costs 0.4 ms, and a read makes a report per batch.
    return _EMPTY_QUARANTINE.copy()


@dataclass(frozen=True)
class LoadReport:
    """What one read saw and did.

    Attributes
    ----------
    files : int
        Files or blobs opened and decoded.
    files_skipped : int
        Files listed and skipped before opening because their path's hour lies outside
        ``start``/``end`` (or their MAC or log type is not the one asked for). An Azure read
        lists only the hours and MACs it needs, so blobs it never listed are not counted.
    records : int
        Records seen: those decoded, and damaged ones (invalid or cut short) whose tuples are
        quarantined. A file that is not JSON at all counts none.
    tuples : int
        Flow tuples seen, including those in damaged records.
    rows : int
        Rows in the returned frame.
    quarantined : int
        Tuples that did not become rows; see :attr:`quarantine` for each one.
    filtered_out : int
        Tuples decoded but not selected: outside ``start``/``end``, or not of the
        requested ``log_type`` / ``mac``.
    formats : dict
        Rows per format: ``nsg-v1``, ``nsg-v2``, ``vnet-v4``.
    quarantine : pandas.DataFrame
        One row per quarantined tuple: blob, record index, tuple index, reason, raw text.
    problems : tuple of Problem
        Damage above the tuple level (truncated or invalid records, unreadable files).
    start, end : pandas.Timestamp or None
        Earliest and latest ``flow_time`` among the rows.
    sources : tuple of str
        What was read (paths or redacted URLs), for reports.
    """

    files: int = 0
    files_skipped: int = 0
    records: int = 0
    tuples: int = 0
    rows: int = 0
    quarantined: int = 0
    filtered_out: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    quarantine: pd.DataFrame = field(default_factory=_empty_quarantine, repr=False)
    problems: tuple[Problem, ...] = ()
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    sources: tuple[str, ...] = ()

    # A report is immutable: pandas deep-copies DataFrame.attrs on every
    # operation, so copying must be free.
    def __deepcopy__(self, memo: dict) -> "LoadReport":
        return self

    def __copy__(self) -> "LoadReport":
        return self

    @classmethod
    def empty(cls) -> "LoadReport":
        """Return the report of reading nothing."""
        return cls()

    @property
    def reasons(self) -> dict[str, int]:
        """Quarantined tuples by reason, most frequent first."""
        counts = Counter(self.quarantine["reason"]) if len(self.quarantine) else Counter()
        return dict(counts.most_common())

    @property
    def problem_counts(self) -> dict[str, int]:
        """Quarantined tuples by reason, and damaged records or files as ``record:<reason>``.

        Examples
        --------
        >>> LoadReport(problems=(Problem("b", "truncated-record", "byte 9"),)).problem_counts
        {'record:truncated-record': 1}
        """
        counts: Counter[str] = Counter(self.reasons)
        for p in self.problems:
            counts[f"record:{p.reason}"] += 1
        return dict(counts.most_common())

    @property
    def consistent(self) -> bool:
        """True when every tuple seen is a row, quarantined, or outside the window."""
        return self.tuples == self.rows + self.quarantined + self.filtered_out

    def summary(self, *, records: bool = True) -> str:
        """One line in plain words, for warnings and logs (``records=False``: a Parquet dataset's
        report, which keeps rows, not records)."""
        text = (f"{self.files} file(s), " + (f"{self.records} record(s), " if records else "")
                + f"{self.tuples} tuple(s): {self.rows} row(s), {self.quarantined} quarantined")
        if self.filtered_out:
            text += f", {self.filtered_out} not selected (time window, log type or MAC)"
        if self.quarantined or self.problems:
            reasons = ", ".join(f"{k}: {v}" for k, v in self.problem_counts.items())
            text += f" ({reasons})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``flowkit inspect --json`` prints)."""

        def ts(t: pd.Timestamp | None) -> str | None:
            if t is None or pd.isna(t):
                return None
            # as precise as the value: whole seconds, else milliseconds (tuple times), else all digits
            whole_ms = t.nanosecond == 0 and t.microsecond % 1000 == 0
            spec = "seconds" if whole_ms and t.microsecond == 0 else "milliseconds" if whole_ms else "auto"
            return t.isoformat(timespec=spec).replace("+00:00", "Z")

        return {
            "files": self.files,
            "files_skipped": self.files_skipped,
            "records": self.records,
            "tuples": self.tuples,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "filtered_out": self.filtered_out,
            "formats": dict(self.formats),
            "start": ts(self.start),
            "end": ts(self.end),
            "problems": self.problem_counts,
            "sources": list(self.sources),
        }

    def _repr_html_(self) -> str:  # pragma: no cover - presentation only
        from html import escape

        rows = "".join(
            f"<tr><th style='text-align:left'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
            for k, v in self.to_dict().items()
        )
        return f"<table><caption>flowkit load report</caption>{rows}</table>"

    @staticmethod
    def combine(parts: Iterable["LoadReport"], **overrides: Any) -> "LoadReport":
        """Add up the reports of several blobs into one (time range: the parts' earliest start
        and latest end; ``overrides`` replace any field)."""
        parts = list(parts)
        formats: Counter[str] = Counter()
        quarantines = []
        problems: list[Problem] = []
        totals = dict(files=0, files_skipped=0, records=0, tuples=0, rows=0,
                      quarantined=0, filtered_out=0)
        for p in parts:
            for k in totals:
                totals[k] += getattr(p, k)
            formats.update(p.formats)
            if len(p.quarantine):
                quarantines.append(p.quarantine)
            problems.extend(p.problems)
        quarantine = (pd.concat(quarantines, ignore_index=True) if quarantines
                      else _empty_quarantine())
        starts = [p.start for p in parts if p.start is not None]
        ends = [p.end for p in parts if p.end is not None]
        report = LoadReport(formats=dict(formats), quarantine=quarantine, problems=tuple(problems),
                            start=min(starts) if starts else None, end=max(ends) if ends else None, **totals)
        return replace(report, **overrides) if overrides else report


def check_some_records(report: LoadReport, blobs: int) -> None:
    """Raise :class:`~flowkit.errors.FormatError` when ``blobs`` were read, none held a
    flow-log record, and one was not JSON at all (an XML error page from storage, say):
    nothing in the input is a flow log. The one check of every reader.

    Examples
    --------
    >>> check_some_records(LoadReport(files=1, records=3), 1)  # records: readable
    >>> bad = LoadReport(files=1, problems=(Problem("PT1H.json", "not-json", "<Error>"),))
    >>> check_some_records(bad, 1)
    Traceback (most recent call last):
    ...
    flowkit.errors.FormatError: no flow-log records found: 'PT1H.json' is not JSON ('<Error>')
    """
    from flowkit.errors import FormatError

    fatal = [p for p in report.problems if p.reason == "not-json"]
    if blobs and fatal and report.records == 0:
        raise FormatError(f"no flow-log records found: {fatal[0].blob!r} is not JSON "  # the detail is printable
                          f"('{fatal[0].detail[:120]}')" + (f" (and {len(fatal) - 1} more)" if len(fatal) > 1 else ""))


def quarantine_frame(rows: Iterable[tuple[str, Any, Any, str, str]]) -> pd.DataFrame:
    """A report's quarantine table from ``(blob, record, tuple, reason, raw)`` rows.

    Examples
    --------
    >>> quarantine_frame([("a.json", 0, 1, "wrong-field-count", "1,2")])["tuple"].tolist()
    [1]
    """
    rows = list(rows)
    if not rows:
        return LoadReport().quarantine
    blob, rec, tup, reason, raw = zip(*rows)
    return pd.DataFrame({
        "blob": list(blob),
        "record": pd.array(rec, dtype="Int64"),
        "tuple": pd.array(tup, dtype="Int64"),
        "reason": list(reason),
        "raw": list(raw),
    })
