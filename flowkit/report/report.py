"""The :class:`Report`: findings plus what they were made from, written as HTML, Markdown, XLSX or CSV.

Examples
--------
>>> import pandas as pd
>>> from flowkit.findings import Finding
>>> report = Report(title="Change 4711", created="2024-05-02T09:00:00Z")
>>> report.add(Finding("Connectivity 192.0.2.1 -> 198.51.100.2", "denied", "high", "Blocked.")) is report
True
>>> report.severity_counts()["high"]
1
>>> "Change 4711" in report.to_html() and report.to_markdown().startswith("# Change 4711")
True
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from flowkit.findings import SEVERITIES, Finding
from flowkit.load_report import LoadReport
from flowkit.sources.times import to_utc, to_window
from flowkit.sources.redact import redact

__all__ = ["Report", "FORMATS", "format_for"]

#: Output formats and the file suffixes that choose them.
FORMATS = {"html": (".html", ".htm"), "md": (".md", ".markdown"), "xlsx": (".xlsx",), "csv": (".csv",)}


def format_for(path: str | os.PathLike, format: str | None = None) -> str:
    """The output format: ``format`` if given, else from the suffix (a folder means ``csv``).

    Examples
    --------
    >>> format_for("out/findings.md"), format_for("x.bin", "xlsx")
    ('md', 'xlsx')
    """
    if format is not None:
        fmt = format.lower().lstrip(".")
        fmt = {"markdown": "md", "htm": "html"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {sorted(FORMATS)}, not {format!r}")
        return fmt
    suffix = Path(path).suffix.lower()
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    if not suffix or Path(path).is_dir():
        return "csv"
    raise ValueError(f"cannot tell the format from {os.fspath(path)!r}: pass format= (html, md, xlsx, csv)")


def _require(module: str) -> None:
    """Import ``module`` or raise a FlowkitError naming the extra that installs it."""
    import importlib

    from flowkit.errors import FlowkitError

    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        raise FlowkitError(f"writing this report needs {module}: pip install 'flowkit[notebooks]'") from None


def _without_secrets(finding: Finding) -> Finding:
    """``finding`` with any SAS, key or credential in its title, summary, notes, facts and
    evidence tables masked (the same finding when there is none).

    Examples
    --------
    >>> f = _without_secrets(Finding("a", "ok", summary="read https://a.blob.core.windows.net/c?sv=1&sig=abc"))
    >>> f.summary
    'read https://a.blob.core.windows.net/c?REDACTED'
    >>> _without_secrets(Finding("a", "ok", facts={"read": ["x?sig=abc"]})).facts
    {'read': ['x?REDACTED']}
    """
    title, summary, notes = redact(finding.title), redact(finding.summary), [redact(n) for n in finding.notes]
    facts = {_masked(k): _masked(v) for k, v in finding.facts.items()}
    evidence = {_masked(k): _masked_frame(v) if isinstance(v, pd.DataFrame) else _masked(v)
                for k, v in finding.evidence.items()}
    same_facts = list(facts) == list(finding.facts) and all(facts[k] is finding.facts[k] for k in facts)
    same_evidence = (list(evidence) == list(finding.evidence)
                     and all(evidence[k] is finding.evidence[k] for k in evidence))
    if (title, summary, notes) == (finding.title, finding.summary, list(finding.notes)) and same_facts and same_evidence:
        return finding
    return replace(finding, title=title, summary=summary, notes=notes,
                   facts=finding.facts if same_facts else facts,
                   evidence=finding.evidence if same_evidence else evidence)


def _masked(value: Any) -> Any:
    """``value`` with secrets masked in its text (in dicts, lists and tuples too); the same
    object when there is nothing to mask."""
    if isinstance(value, str):
        text = redact(value)
        return value if text == value else text
    if isinstance(value, dict):
        items = {_masked(k): _masked(v) for k, v in value.items()}
        same = list(items) == list(value) and all(items[k] is value[k] for k in items)
        return value if same else items
    if isinstance(value, (list, tuple)):
        items = [_masked(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else type(value)(items)
    return value


def _masked_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """An evidence table with secrets masked in its labels and text cells (each distinct value
    once); the same frame when there is nothing to mask."""
    out = None
    for j, (_, column) in enumerate(frame.items()):
        if not (pd.api.types.is_object_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype)
                or pd.api.types.is_string_dtype(column.dtype)):
            continue
        values = column.astype(object)
        try:
            mapping = {v: m for v in pd.unique(values) if (m := _masked(v)) is not v}
            masked = values.map(lambda v: mapping.get(v, v)) if mapping else None
        except TypeError:  # unhashable cells (lists, dicts)
            cells = values.map(_masked)
            masked = cells if any(a is not b for a, b in zip(cells, values)) else None
        if masked is not None:
            out = frame.copy() if out is None else out
            out.isetitem(j, masked)
    if any(_masked(c) is not c for c in frame.columns.tolist()):  # labels (and the axis name) masked in place
        out = frame.copy() if out is None else out
        out.columns = frame.columns.map(_masked)
    return frame if out is None else out


class Report:
    """Findings and their metadata: sources read, time window, load reports.

    Parameters
    ----------
    findings : iterable of Finding, optional
        The findings, in the order they are shown.
    title : str
        The report's title.
    sources : iterable of str, optional
        What was read (added to the sources of ``flows`` and ``load_reports``).
    start, end : timestamp-like, optional
        The time window investigated; by default the span of the load reports.
    load_reports : iterable of LoadReport, optional
        What each read saw (files, tuples, quarantined tuples and why).
    flows : DataFrame or iterable of DataFrames, optional
        Frames from :func:`flowkit.read_flow_logs`: their load reports are added.
    created : timestamp-like, optional
        When the report was made (now, by default).
    notes : iterable of str, optional
        Free text shown under the title (the investigation's context).
    max_rows : int
        Evidence rows shown per table in HTML and Markdown; every row is in the
        attached CSV, the XLSX and the CSV folder.

    Examples
    --------
    >>> r = Report([Finding("t", "ok")], sources=["local: logs/"], start="2024-05-01T10:00Z")
    >>> r.sources, r.window[0]
    (['local: logs/'], Timestamp('2024-05-01 10:00:00+0000', tz='UTC'))
    """

    def __init__(self, findings: Iterable[Finding] = (), *, title: str = "flowkit report",
                 sources: Iterable[str] = (), start: Any = None, end: Any = None,
                 load_reports: Iterable[LoadReport] = (), flows: Any = None, created: Any = None,
                 notes: Iterable[str] = (), max_rows: int = 50) -> None:
        self.title = redact(title)  # a SAS or key pasted into a title or note never reaches the page
        self.findings: list[Finding] = []
        self._sources: list[str] = []
        self.load_reports: list[LoadReport] = []
        self.notes = [redact(n) for n in notes]
        self.max_rows = int(max_rows)
        if self.max_rows < 0:  # head(-n) would show all rows but n, and the counts would lie
            raise ValueError(f"max_rows must be 0 or more, not {max_rows!r}")
        self.start, self.end = to_window(start, end)
        self.created = to_utc(created) or pd.Timestamp.now(tz="UTC").floor("s")
        self.anonymized = False
        for f in findings:
            self.add(f)
        for s in sources:
            self.add_source(s)
        for lr in load_reports:
            self.add_load_report(lr)
        if flows is not None:
            for frame in ([flows] if isinstance(flows, pd.DataFrame) else flows):
                self.add_flows(frame)

    # -- collecting ---------------------------------------------------------------------
    def add(self, *findings: Finding) -> "Report":
        """Add findings (returns the report, so calls chain).

        Examples
        --------
        >>> len(Report().add(Finding("a", "ok"), Finding("b", "ok")).findings)
        2
        """
        for finding in findings:
            if not isinstance(finding, Finding):
                raise TypeError(f"a report collects Finding objects, not {type(finding).__name__}")
            self.findings.append(_without_secrets(finding))
        return self

    def add_source(self, source: str) -> "Report":
        """Record a source read (secrets such as SAS tokens are masked)."""
        text = redact(source)
        if text not in self._sources:
            self._sources.append(text)
        return self

    def add_load_report(self, report: LoadReport | None) -> "Report":
        """Record a load report (and its sources)."""
        if report is None or any(report is lr for lr in self.load_reports):
            return self
        self.load_reports.append(report)
        for s in report.sources:
            self.add_source(s)
        return self

    def add_flows(self, flows: pd.DataFrame) -> "Report":
        """Record the load report a frame from :func:`flowkit.read_flow_logs` carries."""
        report = flows.attrs.get("load_report") if hasattr(flows, "attrs") else None
        return self.add_load_report(report if isinstance(report, LoadReport) else None)

    # -- what it holds ------------------------------------------------------------------
    @property
    def sources(self) -> list[str]:
        """What was read (redacted descriptions)."""
        return list(self._sources)

    @property
    def window(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The time window: as given, else the earliest and latest flow time of the load reports."""
        starts = [lr.start for lr in self.load_reports if lr.start is not None and not pd.isna(lr.start)]
        ends = [lr.end for lr in self.load_reports if lr.end is not None and not pd.isna(lr.end)]
        start = self.start if self.start is not None else (min(starts) if starts else None)
        end = self.end if self.end is not None else (max(ends) if ends else None)
        return start, end

    def severity_counts(self) -> dict[str, int]:
        """Findings per severity, most serious first (every severity listed).

        Examples
        --------
        >>> Report([Finding("a", "ok")]).severity_counts()
        {'critical': 0, 'high': 0, 'medium': 0, 'low': 0, 'info': 1}
        """
        return {s: sum(f.severity == s for f in self.findings) for s in reversed(SEVERITIES)}

    def summary_table(self) -> pd.DataFrame:
        """One row per finding: number, severity, verdict, title.

        Examples
        --------
        >>> Report([Finding("a", "ok")]).summary_table().to_dict("records")
        [{'finding': 1, 'severity': 'info', 'verdict': 'ok', 'title': 'a'}]
        """
        return pd.DataFrame({"finding": list(range(1, len(self.findings) + 1)),
                             "severity": [f.severity for f in self.findings],
                             "verdict": [f.verdict for f in self.findings],
                             "title": [f.title for f in self.findings]})

    def metadata(self) -> dict[str, Any]:
        """Sources, window, load-report totals, flowkit version and creation time (JSON-ready).

        Examples
        --------
        >>> Report(created="2024-05-02T09:00Z").metadata()["created"]
        '2024-05-02T09:00:00Z'
        """
        from flowkit import __version__

        def iso(t: pd.Timestamp | None) -> str | None:
            return None if t is None else t.isoformat().replace("+00:00", "Z")

        start, end = self.window
        return {"title": self.title, "created": iso(self.created), "flowkit_version": __version__,
                "sources": self.sources, "start": iso(start), "end": iso(end),
                "anonymized": self.anonymized, "findings": len(self.findings),
                "load_reports": [self.load_report_dict(lr) for lr in self.load_reports]}

    @staticmethod
    def load_report_dict(report: LoadReport) -> dict[str, Any]:
        """A load report as JSON-ready data, problem details masked of secrets."""
        data = report.to_dict()
        data["sources"] = [redact(s) for s in data["sources"]]
        data["problem_details"] = [{"blob": redact(p.blob), "reason": p.reason, "detail": redact(p.detail),
                                    "record": p.record} for p in report.problems]
        return data

    @staticmethod
    def quarantine_table(report: LoadReport) -> pd.DataFrame:
        """The quarantined tuples of a load report (blob, record, tuple, reason, raw), secrets masked."""
        table = report.quarantine.copy()
        for col in ("blob", "raw"):
            if col in table:
                table[col] = table[col].map(lambda v: redact(v) if isinstance(v, str) else v)
        return table

    # -- anonymising ----------------------------------------------------------------------
    def anonymize(self, key: Any = None) -> "Report":
        """A copy with keyed pseudonyms for addresses, MACs, GUIDs and resource names.

        Parameters
        ----------
        key : str, bytes or Anonymizer, optional
            The key (or an :class:`~flowkit.report.anonymize.Anonymizer` already
            holding names learned elsewhere, e.g. from an inventory). A random key
            when omitted. The key is never written into the report.

        Examples
        --------
        >>> r = Report([Finding("Connectivity 10.10.1.4 -> 192.0.2.9", "ok")]).anonymize("k")
        >>> "10.10.1.4" in r.findings[0].title, r.anonymized
        (False, True)
        """
        from flowkit.report.anonymize import Anonymizer
        from flowkit.report.anonymize_local import source_roots

        anon = key if isinstance(key, Anonymizer) else Anonymizer(key)
        for f in self.findings:
            anon.learn_finding(f)
        for lr in self.load_reports:
            anon.learn_frame(self.quarantine_table(lr))
            for text in (*lr.sources, *(p.blob for p in lr.problems), *(p.detail for p in lr.problems)):
                anon.scan(redact(text))
        for text in (self.title, *self.notes, *self.sources):  # sources: storage accounts, blob paths
            anon.scan(text)
        for text in (*self.sources, *(s for lr in self.load_reports for s in lr.sources)):
            anon.learn_local_roots(source_roots(text))  # the user's own folders: not in the report
        out = Report(title=anon.text(self.title), notes=[anon.text(n) for n in self.notes],
                     sources=[anon.text(s) for s in self.sources], start=self.start, end=self.end,
                     created=self.created, max_rows=self.max_rows)
        out.findings = [anon.finding(f) for f in self.findings]
        out.load_reports = [
            replace(lr, quarantine=anon.frame(self.quarantine_table(lr)),
                    sources=tuple(anon.text(redact(s)) for s in lr.sources),
                    problems=tuple(replace(p, blob=anon.text(redact(p.blob)), detail=anon.text(redact(p.detail)))
                                   for p in lr.problems))
            for lr in self.load_reports]
        out.anonymized = True
        return out

    # -- writing --------------------------------------------------------------------------
    def to_html(self, *, files_dir: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page (inline CSS, figures and full tables as data: URIs).

        Parameters
        ----------
        files_dir : path, optional
            Where to write the CSV of a table too large to embed (linked beside the page).

        Examples
        --------
        >>> "<script" in Report([Finding("<script>x</script>", "ok")]).to_html()
        False
        """
        _require("jinja2")
        from flowkit.report.html import render_html

        return render_html(self, files_dir=files_dir)

    def to_markdown(self, *, files_dir: str | os.PathLike | None = None) -> str:
        """Markdown for tickets and pull requests.

        Parameters
        ----------
        files_dir : path, optional
            Write each full evidence table (CSV) and figure (PNG) here and link them.

        Examples
        --------
        >>> "| 1 | info | `ok` | a |" in Report([Finding("a", "ok")]).to_markdown()
        True
        """
        from flowkit.report.markdown import render_markdown

        return render_markdown(self, files_dir=files_dir)

    def to_xlsx(self, path: str | os.PathLike) -> Path:
        """Write a workbook: a summary sheet, one sheet per finding, the quarantine.

        Examples
        --------
        >>> Report([Finding("a", "ok")]).to_xlsx("findings.xlsx")  # doctest: +SKIP
        PosixPath('findings.xlsx')
        """
        _require("openpyxl")
        from flowkit.report.xlsx import write_xlsx

        return write_xlsx(self, path)

    def to_csv_dir(self, path: str | os.PathLike) -> Path:
        """Write a folder of CSV files: summary, metadata, every evidence table, the quarantine.

        Examples
        --------
        >>> Report([Finding("a", "ok")]).to_csv_dir("findings/")  # doctest: +SKIP
        PosixPath('findings')
        """
        from flowkit.report.xlsx import write_csv_dir

        return write_csv_dir(self, path)

    def write(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the report; the format comes from ``format`` or the file suffix.

        HTML is one file (tables too large to embed go to ``<name>_files/``);
        Markdown writes its CSV tables and PNG figures to ``<name>_files/``;
        ``csv`` writes a folder.

        Examples
        --------
        >>> Report([Finding("a", "ok")]).write("findings.html")  # doctest: +SKIP
        PosixPath('findings.html')
        """
        fmt = format_for(path, format)
        target = Path(path)
        if fmt == "xlsx":
            return self.to_xlsx(target)
        if fmt == "csv":
            return self.to_csv_dir(target.with_suffix("") if target.suffix.lower() == ".csv" else target)
        target.parent.mkdir(parents=True, exist_ok=True)
        files_dir = target.with_name(target.stem + "_files")
        text = self.to_html(files_dir=files_dir) if fmt == "html" else self.to_markdown(files_dir=files_dir)
        target.write_text(text, encoding="utf-8")
        return target

    def __len__(self) -> int:
        return len(self.findings)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.severity_counts().items() if v)
        return f"Report({self.title!r}, {len(self.findings)} finding(s){': ' + counts if counts else ''})"

    def _repr_html_(self) -> str:
        from flowkit.report.html import render_html

        return render_html(self, standalone=False)


