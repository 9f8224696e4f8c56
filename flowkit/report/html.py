"""Render a :class:`~flowkit.report.Report` as one self-contained HTML page (Jinja2, autoescaped).

Nothing on the page loads from anywhere: CSS is inline, figures are PNG
``data:`` URIs, full evidence tables are ``data:text/csv`` download links, and
a Content-Security-Policy forbids everything else (scripts included). Every text
from the logs goes through Jinja2's autoescaping; no URL is ever built from it.

Examples
--------
>>> from flowkit.findings import Finding
>>> from flowkit.report import Report
>>> page = render_html(Report([Finding("<b>x</b>", "ok")], created="2024-05-02T09:00Z"))
>>> "&lt;b&gt;x&lt;/b&gt;" in page and "default-src 'none'" in page
True
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
import markupsafe
import pandas as pd

from flowkit.report.present import (column_formats, column_help, column_label, count, fact_display, figure_alt,
                                    right_aligned)
from flowkit.report.tables import cell_text, csv_bytes, evidence_tables, fact_text, slug, unique_labels

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.report.report import Report

__all__ = ["render_html", "environment", "CSP", "MAX_CELL_CHARS", "MAX_EMBED_BYTES"]

#: The page's Content-Security-Policy: nothing but inline styles and data: images.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
#: Characters of one cell shown on the page (the CSV has all of it).
MAX_CELL_CHARS = 300
#: Characters of one fact shown on the page.
MAX_FACT_CHARS = 2000
#: A table's CSV larger than this is not embedded (written beside the page when writing a file).
MAX_EMBED_BYTES = 8 * 1024 * 1024

SEVERITY_COLOURS = {"info": "#4a6fa5", "low": "#5b8c5a", "medium": "#a86f00", "high": "#c0392b",
                    "critical": "#7b1e1e"}
TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment: templates of this package, autoescape on, undefined names fail.

    Examples
    --------
    >>> environment().autoescape
    True
    """
    return jinja2.Environment(loader=jinja2.PackageLoader("flowkit.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _short(text: str, limit: int = MAX_CELL_CHARS, where: str = "in the CSV") -> dict[str, Any]:
    if len(text) <= limit:
        return {"text": text, "more": 0, "where": where}
    return {"text": text[:limit], "more": len(text) - limit, "where": where}


def _table(name: str, frame: pd.DataFrame, max_rows: int, key: str, files_dir: Path | None) -> dict[str, Any]:
    part = frame.head(max_rows)
    formats = column_formats(name, frame)  # shares as percentages, protocols by name: the CSV keeps the values
    rows = [[_short(fmt(v) if fmt else cell_text(v)) for fmt, v in zip(formats, row)]
            for row in part.itertuples(index=False, name=None)]
    numeric = right_aligned(frame, formats)
    columns = [{**_short(column_label(c)), "help": column_help(c)} for c in unique_labels(frame.columns)]
    # a cell or label cut at MAX_CELL_CHARS says it is whole "in the CSV": there must be one
    cut = any(c["more"] for c in columns) or any(c["more"] for row in rows for c in row)
    csv_uri = csv_href = None
    csv_name = f"{key}.csv"
    data = csv_bytes(frame) if len(frame) > max_rows or cut else b""
    if data and len(data) <= MAX_EMBED_BYTES:
        csv_uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    elif data and files_dir is not None:
        files_dir.mkdir(parents=True, exist_ok=True)
        (files_dir / csv_name).write_bytes(data)
        # "./": a folder name is never read as a URL scheme; quoted: "#", "?" or "%" in a name stay a path
        csv_href = f"./{quote(files_dir.name)}/{quote(csv_name)}"
    return {"name": name, "columns": columns, "rows": rows,
            "numeric": numeric, "total": int(len(frame)), "shown": int(len(part)), "csv_uri": csv_uri,
            "csv_href": csv_href, "csv_name": csv_name, "csv_bytes": len(data), "cut": cut}


def _figure_uri(finding: Any, name: str) -> str | None:
    try:
        png = finding.figure_png(name)
    except Exception:  # a figure that cannot be drawn must not lose the report
        return None
    if not png.startswith(b"\x89PNG"):
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _finding(i: int, finding: Any, max_rows: int, files_dir: Path | None) -> dict[str, Any]:
    fid = f"finding-{i}"
    tables = [_table(str(name), frame, max_rows, f"{i:02d}-{slug(finding.title, 30)}-{table_slug}", files_dir)
              for name, frame, table_slug in evidence_tables(finding.evidence)]
    figures = []
    for name in finding.figures:
        uri = _figure_uri(finding, name)
        figures.append({"name": str(name), "uri": uri, "alt": figure_alt(finding, name)})
    return {"id": fid, "number": i, "title": finding.title, "verdict": finding.verdict,
            "severity": finding.severity, "colour": SEVERITY_COLOURS.get(finding.severity, "#555"),
            "summary": finding.summary, "notes": list(finding.notes),
            "facts": [{"key": str(k), "value": _short(fact_text(fact_display(k, v)), MAX_FACT_CHARS, "not shown")}
                      for k, v in finding.facts.items()],
            "tables": tables, "figures": figures}


#: Load-report totals shown as counts (with thousands separators).
COUNTED = ("files", "files_skipped", "records", "tuples", "rows", "quarantined", "filtered_out")


def _load_report(i: int, report: Any, owner: "Report", files_dir: Path | None) -> dict[str, Any]:
    data = owner.load_report_dict(report)
    quarantine = owner.quarantine_table(report)
    return {"data": data, "counts": {k: count(data[k]) for k in COUNTED},
            "formats": ", ".join(f"{k} {v}" for k, v in data["formats"].items()) or "none",
            "problems": ", ".join(f"{k}: {v}" for k, v in data["problems"].items()),
            "details": data["problem_details"][: owner.max_rows],
            "details_more": max(len(data["problem_details"]) - owner.max_rows, 0),
            "quarantine": _table("quarantined tuples", quarantine, owner.max_rows, f"load-{i}-quarantine", files_dir)
            if len(quarantine) else None}


def context(report: "Report", files_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Everything the template shows, as plain data (text is escaped by the template)."""
    meta = report.metadata()
    files = Path(files_dir) if files_dir is not None else None
    return {
        "meta": meta,
        "csp": markupsafe.Markup(CSP),  # a constant: no data in it
        "notes": report.notes,
        "counts": [{"severity": s, "count": n, "colour": SEVERITY_COLOURS[s]}
                   for s, n in report.severity_counts().items()],
        "findings": [_finding(i, f, report.max_rows, files) for i, f in enumerate(report.findings, 1)],
        "load_reports": [_load_report(i, lr, report, files) for i, lr in enumerate(report.load_reports, 1)],
        "max_cell": MAX_CELL_CHARS,
    }


def render_html(report: "Report", *, files_dir: str | os.PathLike | None = None,
                standalone: bool = True) -> str:
    """Render ``report`` as HTML.

    Parameters
    ----------
    report : Report
    files_dir : path, optional
        Where CSVs too large to embed are written (linked relative to the page).
    standalone : bool
        A whole page (``True``) or a fragment for a notebook cell.

    Examples
    --------
    >>> from flowkit.report import Report
    >>> render_html(Report(), standalone=False).startswith("<div class=\\"fk-report\\"")
    True
    """
    template = environment().get_template("report.html.j2" if standalone else "fragment.html.j2")
    return template.render(**context(report, files_dir))
