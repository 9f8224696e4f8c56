"""Render a :class:`~flowkit.report.Report` as Markdown, for tickets and pull requests.

Text from the logs is escaped (``|``, backticks, brackets, ``<``, ``&``, emphasis
marks, and ``>`` where it would start a quote), so a rule name cannot add links, HTML or
table cells. A ``>`` inside a line starts nothing (raw HTML needs ``<``), so titles keep
their arrows as written (``10.10.1.4 -> 10.10.3.4``).

Examples
--------
>>> md_escape("UserRule_<b>|x")
'UserRule\\\\_&lt;b>\\\\|x'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from flowkit.report.present import column_formats, column_label, count, fact_display, figure_alt, right_aligned
from flowkit.report.tables import cell_text, csv_bytes, evidence_tables, fact_text, slug, unique_labels, unique_slugs

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.report.report import Report

__all__ = ["render_markdown", "md_escape", "md_table"]

#: Characters of one cell shown in Markdown tables.
MAX_CELL_CHARS = 200
_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_LINE_START = re.compile(r"^(\s*)([>+\-=]|\d+(?=[.)]))")


def md_escape(text: Any, limit: int | None = None, *, block: bool = False) -> str:
    """Escape text for inline Markdown (one line; HTML-escaped; optionally shortened).

    ``block=True`` also escapes what would start a list, quote or heading at the
    start of a paragraph, and drops the blanks before it (four would start a code block).

    Examples
    --------
    >>> md_escape("a\\nb [link](javascript:x)")
    'a b \\\\[link\\\\](javascript:x)'
    """
    out = str(text).replace("\r", " ").replace("\n", " ")
    more = 0
    if limit is not None and len(out) > limit:
        more, out = len(out) - limit, out[:limit]
    out = out.replace("&", "&amp;").replace("<", "&lt;")  # no tag, entity or autolink can start
    out = _SPECIAL.sub(r"\\\1", out)
    if block:
        out = out.lstrip(" \t")  # four spaces or a tab at a paragraph's start would make it code
        out = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) if m.group(2)[0].isdigit() else "")
                              + "\\" + ("" if m.group(2)[0].isdigit() else m.group(2)), out)
    return out + (f" … ({more} more characters)" if more else "")


def _code(text: Any) -> str:
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\r", " ").replace("\n", " ") + "`"


def md_table(frame: pd.DataFrame, max_rows: int | None = None, name: str | None = None) -> str:
    """A pipe table of the first ``max_rows`` rows (every cell escaped).

    With the evidence table's ``name``, cells read as people read them: shares as
    percentages, protocols as ``TCP (6)`` (see :func:`flowkit.report.present.column_formats`).

    Examples
    --------
    >>> print(md_table(pd.DataFrame({"a": [1], "b": ["x|y"]})))
    | a | b |
    |---:|---|
    | 1 | x\\|y |
    """
    part = frame if max_rows is None else frame.head(max_rows)
    labels = unique_labels(frame.columns)
    formats = column_formats(name, frame) if name is not None else [None] * len(labels)
    numeric = right_aligned(frame, formats)
    if name is not None:
        labels = [column_label(c) for c in labels]
    lines = ["| " + " | ".join(md_escape(c, MAX_CELL_CHARS) for c in labels) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for row in part.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(md_escape(fmt(v) if fmt else cell_text(v), MAX_CELL_CHARS)
                                       for fmt, v in zip(formats, row)) + " |")
    return "\n".join(lines)


#: What cannot stand as is in a CommonMark link destination: controls, space, brackets and
#: parentheses, and what would be read as an escape (``\\``), an entity (``&``) or an encoding (``%``).
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>()\[\]\\&%\"'`]")


def _link_name(files_dir: Path, name: str) -> str:
    """The relative link to ``name`` in ``files_dir``: percent-encoded where a link needs it.

    Examples
    --------
    >>> _link_name(Path("out/my report_files"), "01-a.csv")
    'my%20report_files/01-a.csv'
    >>> _link_name(Path("findings_files"), "01-a.csv")
    'findings_files/01-a.csv'
    """
    path = f"{files_dir.name}/{name}"
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), path)


def render_markdown(report: "Report", *, files_dir: str | os.PathLike | None = None) -> str:
    """Render ``report`` as Markdown.

    Parameters
    ----------
    report : Report
    files_dir : path, optional
        Write every evidence table as CSV and every figure as PNG here, and link them
        (relative to the Markdown file beside the folder).

    Examples
    --------
    >>> from flowkit.findings import Finding
    >>> from flowkit.report import Report
    >>> render_markdown(Report([Finding("a", "ok")], title="T")).splitlines()[0]
    '# T'
    """
    files = Path(files_dir) if files_dir is not None else None
    meta = report.metadata()
    out: list[str] = [f"# {md_escape(report.title)}", ""]
    made = f"Made by flowkit {md_escape(meta['flowkit_version'])} at {md_escape(meta['created'])}."
    if report.anonymized:
        made += " **Anonymised:** addresses, MACs, GUIDs and resource names are keyed pseudonyms."
    out += [f"_{made}_", ""]
    for note in report.notes:
        out += [md_escape(note, block=True), ""]
    counts = report.severity_counts()
    out += ["## Summary", "", "| " + " | ".join(counts) + " |", "|" + "|".join("---:" for _ in counts) + "|",
            "| " + " | ".join(str(n) for n in counts.values()) + " |", ""]
    if report.findings:
        out += ["| # | severity | verdict | finding |", "|---:|---|---|---|"]
        out += [f"| {i} | {f.severity} | {_code(f.verdict)} | {md_escape(f.title)} |"
                for i, f in enumerate(report.findings, 1)]
        out.append("")
    else:
        out += ["No findings.", ""]
    for i, f in enumerate(report.findings, 1):
        out += [f"## {i}. {md_escape(f.title)}", "",
                f"**Severity:** {f.severity} · **Verdict:** {_code(f.verdict)}", ""]
        if f.summary:
            out += [md_escape(f.summary, block=True), ""]
        for note in f.notes:
            out += [f"> _{md_escape(note)}_", ""]
        if f.facts:
            out += ["| fact | value |", "|---|---|"]
            out += [f"| {md_escape(k)} | {md_escape(fact_text(fact_display(k, v)), MAX_CELL_CHARS)} |"
                    for k, v in f.facts.items()]
            out.append("")
        for name, frame, table_slug in evidence_tables(f.evidence):
            shown = min(len(frame), report.max_rows)
            head = f"### {md_escape(name)} ({len(frame)} row(s)" + (f", first {shown} shown)" if shown < len(frame) else ")")
            out += [head, ""]
            if len(frame.columns):
                out += [md_table(frame, report.max_rows, name=str(name)), ""]
            if files is not None and len(frame):
                fname = f"{i:02d}-{slug(f.title, 30)}-{table_slug}.csv"
                files.mkdir(parents=True, exist_ok=True)
                (files / fname).write_bytes(csv_bytes(frame))
                out += [f"All rows: [{fname}]({_link_name(files, fname)})", ""]
            elif shown < len(frame):
                out += [f"_{len(frame) - shown} more row(s) not shown; write the report to a file "
                        "(or as XLSX) to keep them._", ""]
        for name, figure_slug in zip(f.figures, unique_slugs(f.figures)):
            if files is None:
                out += [f"_Figure {md_escape(name)}: in the HTML report._", ""]
                continue
            fname = f"{i:02d}-{slug(f.title, 30)}-{figure_slug}.png"
            files.mkdir(parents=True, exist_ok=True)
            try:
                (files / fname).write_bytes(f.figure_png(name))
            except Exception:  # a figure that cannot be drawn must not lose the report, nor go unmentioned
                out += [f"_Figure {md_escape(name)}: could not be drawn._", ""]
                continue
            out += [f"![{md_escape(figure_alt(f, name))}]({_link_name(files, fname)})", ""]
    out += ["## How this report was made", "",
            f"- flowkit {md_escape(meta['flowkit_version'])}, made at {md_escape(meta['created'])}",
            f"- time window: {md_escape(meta['start'] or 'unknown')} to {md_escape(meta['end'] or 'unknown')} (UTC)"]
    out += [f"- source: {_code(s)}" for s in meta["sources"]] or ["- sources: not recorded"]
    out.append("")
    for n, lr in enumerate(report.load_reports, 1):
        data = report.load_report_dict(lr)
        out += [f"### Load report {n}", "",
                f"{count(data['files'])} file(s) ({count(data['files_skipped'])} skipped by their path: hour, MAC, "
                f"log type), {count(data['records'])} record(s), {count(data['tuples'])} tuple(s): "
                f"{count(data['rows'])} row(s), {count(data['quarantined'])} quarantined, "
                f"{count(data['filtered_out'])} not selected.", ""]
        if data["problems"]:
            out += ["Problems: " + md_escape(", ".join(f"{k}: {v}" for k, v in data["problems"].items())), ""]
        quarantine = report.quarantine_table(lr)
        if len(quarantine):
            out += ["Quarantined tuples:", "", md_table(quarantine, report.max_rows), ""]
    return "\n".join(out).rstrip("\n") + "\n"
