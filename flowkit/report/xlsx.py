"""Write a :class:`~flowkit.report.Report` as a workbook (openpyxl) or a folder of CSV files.

The workbook has a ``Summary`` sheet (metadata, findings by severity, one row per
finding with the name of its sheet), one sheet per finding (title, verdict,
summary, facts, then every evidence table in full), and one sheet per load report
(totals and quarantined tuples). Text cells starting with ``= + - @`` are
prefixed with ``'`` so no cell is a formula. Times are Excel date-times in UTC
(shown as ``yyyy-mm-dd hh:mm:ss.000 "UTC"``), so they sort, filter and subtract as times;
shares (0 to 1) are shown as percentages (``0.0 %``) and keep their exact value.

Examples
--------
>>> sheet_names(["Denied traffic", "Denied traffic", "a/b:c*d?[e]"])
['01 Denied traffic', '02 Denied traffic', '03 a_b_c_d__e_']
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd

from flowkit.atomic import atomic_write
from flowkit.report.present import column_formats, is_share, percent
from flowkit.report.tables import cell_value, csv_bytes, evidence_tables, neutralize, slug, unique_labels

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.report.report import Report

__all__ = ["write_xlsx", "write_csv_dir", "sheet_names", "xlsx_cell"]

_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's limits: characters per cell, rows per sheet.
MAX_CELL = 32767
MAX_ROWS = 1_048_576
#: How a time cell is shown: Excel keeps no time zone, so the format says UTC.
TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss.000 "UTC"'
#: How a share (0 to 1) is shown: as a percentage; the cell keeps the exact value.
PERCENT_FORMAT = "0.0 %"
#: Characters of a column holding times (the format's 27 and a margin).
TIME_WIDTH = 29


#: The load-report fields a workbook's "Load report" sheet and a CSV folder's metadata.csv give.
LOAD_REPORT_KEYS = ("files", "files_skipped", "records", "tuples", "rows", "quarantined", "filtered_out",
                    "formats", "problems", "start", "end")


def sheet_names(titles: Iterable[str]) -> list[str]:
    """Numbered sheet names: Excel-safe characters, at most 31 characters, unique.

    Examples
    --------
    >>> [len(n) for n in sheet_names(["x" * 50])]
    [31]
    """
    # Each name starts with its own number and a separator, so no two are alike and none is
    # "Summary" or "History" (names Excel keeps for itself), whatever the titles.
    # Excel refuses a name ending in ' (a cut can leave one last).
    return [_BAD_SHEET.sub("_", _ILLEGAL.sub("", f"{i:02d} {title}"))[:31].rstrip("'")
            for i, title in enumerate(titles, 1)]


def xlsx_cell(value: Any) -> Any:
    """A value openpyxl stores as data, never as a formula; a time as an Excel date-time in UTC.

    Examples
    --------
    >>> xlsx_cell("=cmd|' /C calc'!A0"), xlsx_cell(3), xlsx_cell({"a": 1})
    ("'=cmd|' /C calc'!A0", 3, '{"a": 1}')
    >>> xlsx_cell(pd.Timestamp("2024-05-01T12:00:00.002+02:00"))
    datetime.datetime(2024, 5, 1, 10, 0, 0, 2000)
    """
    when = _utc_datetime(value)
    return when if when is not None else _text_safe(value)


def _utc_datetime(value: Any) -> _dt.datetime | None:
    """``value`` as a naive UTC datetime when it is a time Excel can show (None otherwise).

    Excel keeps no time zone (openpyxl refuses an aware datetime): the time is converted to
    UTC and the cell's format says so. A time without a zone is flowkit's, so UTC already.
    Excel starts in 1900: an earlier time stays ISO 8601 text.
    """
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value) if not np.isnat(value) else None
    if not isinstance(value, _dt.datetime) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if stamp.year < 1900:
        return None
    return stamp.to_pydatetime(warn=False)


def _text_safe(value: Any) -> Any:
    """A value as JSON types with text made inert and cut to Excel's cell limit."""
    safe = cell_value(value)
    if isinstance(safe, (dict, list)):
        safe = json.dumps(safe, ensure_ascii=False)
    if isinstance(safe, str):
        safe = neutralize(_ILLEGAL.sub("", safe))  # before the cut: the ' prefix counts against the limit
        if len(safe) > MAX_CELL:
            safe = safe[: MAX_CELL - 20] + " …(truncated)"
        return safe
    return safe


def _append(ws: Any, row: list[Any]) -> None:
    """Append ``row`` to ``ws``, its time cells shown as UTC date-times in columns wide enough
    (Excel shows a date-time too wide for its column as ``#####``)."""
    from openpyxl.utils import get_column_letter

    ws.append(row)
    for j, value in enumerate(row, 1):
        if isinstance(value, _dt.datetime):
            ws.cell(ws.max_row, j).number_format = TIME_FORMAT
            dim = ws.column_dimensions[get_column_letter(j)]
            if (dim.width or 0) < TIME_WIDTH:
                dim.width = TIME_WIDTH


def _as_percent(cell: Any) -> None:
    """Show a share cell as a percentage (``0.0 %``); its value stays the exact share."""
    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        cell.number_format = PERCENT_FORMAT


def _frame_rows(frame: pd.DataFrame, limit: int) -> Iterable[list[Any]]:
    yield [xlsx_cell(c) for c in unique_labels(frame.columns)]
    for row in frame.head(limit).itertuples(index=False, name=None):
        yield [xlsx_cell(v) for v in row]


def write_xlsx(report: "Report", path: str | os.PathLike) -> Path:
    """Write ``report`` as an XLSX workbook at ``path``.

    Examples
    --------
    >>> from flowkit.findings import Finding
    >>> from flowkit.report import Report
    >>> write_xlsx(Report([Finding("a", "ok")]), "findings.xlsx")  # doctest: +SKIP
    PosixPath('findings.xlsx')
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary.column_dimensions["A"].width = 14
    summary.column_dimensions["D"].width = 60
    names = sheet_names(f.title for f in report.findings)
    meta = report.metadata()
    start, end = report.window
    rows: list[list[Any]] = [["title", meta["title"]], ["flowkit", meta["flowkit_version"]],
                             ["created", report.created], ["start", start], ["end", end],
                             ["anonymized", meta["anonymized"]]]
    rows += [["source", s] for s in meta["sources"]]
    rows += [[], ["severity", "findings"]] + [[k, v] for k, v in report.severity_counts().items()]
    rows += [[], ["finding", "severity", "verdict", "title", "sheet"]]
    rows += [[i, f.severity, f.verdict, f.title, names[i - 1]] for i, f in enumerate(report.findings, 1)]
    for row in rows:
        _append(summary, [xlsx_cell(v) for v in row])
    for cell in summary["A"]:
        cell.font = bold

    for name, f in zip(names, report.findings):
        ws = wb.create_sheet(name)
        ws.column_dimensions["A"].width = 22  # before the rows: a column of times widens itself
        ws.column_dimensions["B"].width = 40
        head = [["title", f.title], ["severity", f.severity], ["verdict", f.verdict], ["summary", f.summary]]
        head += [["note", n] for n in f.notes]
        for row in head:
            _append(ws, [xlsx_cell(v) for v in row])
            ws.cell(ws.max_row, 1).font = bold
        if f.facts:
            ws.append([])
            ws.append(["fact", "value"])
            ws.cell(ws.max_row, 1).font = bold
            for k, v in f.facts.items():
                _append(ws, [xlsx_cell(str(k)), xlsx_cell(v)])
                if is_share(k):
                    _as_percent(ws.cell(ws.max_row, 2))
        tables = [(t, frame) for t, frame in f.evidence.items() if isinstance(frame, pd.DataFrame)]
        for k, (tname, frame) in enumerate(tables):
            # kept back: a gap, a caption and a header row for each table after this one, all inside the sheet
            room = MAX_ROWS - ws.max_row - 4 - 3 * (len(tables) - 1 - k)
            ws.append([])
            ws.append([xlsx_cell(f"evidence: {tname}"), xlsx_cell(f"{len(frame)} row(s)")
                       + ("" if len(frame) <= room else f", first {max(room, 0)} in this sheet")])
            ws.cell(ws.max_row, 1).font = bold
            shares = [c for c, fmt in enumerate(column_formats(tname, frame), 1) if fmt is percent]
            for j, row in enumerate(_frame_rows(frame, max(room, 0))):
                _append(ws, row)
                if j == 0:
                    for cell in ws[ws.max_row]:
                        cell.font = bold
                else:
                    for c in shares:
                        _as_percent(ws.cell(ws.max_row, c))
    for n, lr in enumerate(report.load_reports, 1):
        ws = wb.create_sheet(f"Load report {n}"[:31])
        data = report.load_report_dict(lr)
        for key in (*LOAD_REPORT_KEYS, "sources"):
            _append(ws, [key, xlsx_cell(getattr(lr, key) if key in ("start", "end") else data[key])])
        quarantine = report.quarantine_table(lr)
        if len(quarantine):
            ws.append([])
            ws.append(["quarantined tuples"])
            for row in _frame_rows(quarantine, MAX_ROWS - ws.max_row - 2):
                _append(ws, row)
    buffer = io.BytesIO()  # built in memory, then written whole: no half workbook, no open zip on a failed write
    wb.save(buffer)
    atomic_write(target, buffer.getvalue())
    return target


def write_csv_dir(report: "Report", path: str | os.PathLike) -> Path:
    """Write ``report`` as a folder of CSV files (formula-safe, UTF-8 with BOM).

    ``summary.csv`` (one row per finding, with its files), ``metadata.csv``,
    ``NN-<finding>-facts.csv``, ``NN-<finding>-<table>.csv`` per evidence table and
    ``load-N-quarantine.csv``.

    Examples
    --------
    >>> from flowkit.findings import Finding
    >>> from flowkit.report import Report
    >>> write_csv_dir(Report([Finding("a", "ok")]), "findings")  # doctest: +SKIP
    PosixPath('findings')
    """
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    files_of: list[str] = []
    for i, f in enumerate(report.findings, 1):
        stem = f"{i:02d}-{slug(f.title, 30)}"
        written = []
        if f.facts:
            facts = pd.DataFrame({"fact": [str(k) for k in f.facts], "value": [_text_safe(v) for v in f.facts.values()]})
            (target / f"{stem}-facts.csv").write_bytes(csv_bytes(facts))
            written.append(f"{stem}-facts.csv")
        # numbered where two tables (or a table called "facts" and the facts) would share a file
        for _, frame, table_slug in evidence_tables(f.evidence, reserved=["facts"] if f.facts else []):
            fname = f"{stem}-{table_slug}.csv"
            (target / fname).write_bytes(csv_bytes(frame))
            written.append(fname)
        files_of.append(";".join(written))
    table = report.summary_table()
    table["summary"] = [f.summary for f in report.findings]
    table["files"] = files_of
    (target / "summary.csv").write_bytes(csv_bytes(table))
    meta = report.metadata()
    meta_rows = [(k, meta[k]) for k in ("title", "flowkit_version", "created", "start", "end", "anonymized")]
    meta_rows += [("source", s) for s in meta["sources"]]
    for n, lr in enumerate(report.load_reports, 1):
        data = report.load_report_dict(lr)
        meta_rows += [(f"load_report_{n}.{k}", data[k]) for k in LOAD_REPORT_KEYS]
        quarantine = report.quarantine_table(lr)
        if len(quarantine):
            (target / f"load-{n}-quarantine.csv").write_bytes(csv_bytes(quarantine))
    (target / "metadata.csv").write_bytes(csv_bytes(pd.DataFrame(meta_rows, columns=["key", "value"])))
    return target
