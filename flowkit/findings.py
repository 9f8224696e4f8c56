"""Findings: what every investigation returns, and what reports export.

A :class:`Finding` is a small dataclass with a title, a verdict, a severity, a
plain-words summary, evidence tables, figures and machine-readable facts. It
renders itself in a notebook (``_repr_html_``, every text escaped) and turns
into JSON-ready data (:meth:`Finding.to_dict`).

Examples
--------
>>> import pandas as pd
>>> f = Finding(title="Denied <traffic>", verdict="denied", severity="high",
...             summary="Blocked by UserRule_DenyWebToSql.",
...             evidence={"rows": pd.DataFrame({"rule": ["UserRule_DenyWebToSql"]})},
...             facts={"verdict": "denied"})
>>> "&lt;traffic&gt;" in f._repr_html_()
True
>>> f.to_dict()["facts"]
{'verdict': 'denied'}
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from flowkit.errors import ArgumentError
from flowkit.figure_text import figure_alt

__all__ = ["Finding", "SEVERITIES", "json_safe"]

#: Allowed severities, from least to most serious.
SEVERITIES = ("info", "low", "medium", "high", "critical")

_SEVERITY_COLOURS = {
    "info": "#4a6fa5",
    "low": "#5b8c5a",
    "medium": "#c98a00",
    "high": "#c0392b",
    "critical": "#7b1e1e",
}

#: Evidence rows shown per table in a notebook; the full tables stay in ``evidence``.
HTML_MAX_ROWS = 20


def json_safe(value: Any) -> Any:
    """Return ``value`` made of JSON types only (numbers, strings, lists, dicts, None).

    numpy scalars become Python numbers, timestamps ISO 8601 text (``Z`` for UTC; a numpy
    ``datetime64``, which has no zone, is read as UTC, as flowkit's times are), durations seconds,
    missing values (NaN, NA, NaT) ``None``.

    Examples
    --------
    >>> json_safe({"n": np.int64(3), "t": pd.Timestamp("2024-05-01T10:00Z"), "x": float("nan")})
    {'n': 3, 't': '2024-05-01T10:00:00Z', 'x': None}
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series)):
        items = list(value)
        if isinstance(value, (set, frozenset)):
            items = sorted(items, key=str)
        return [json_safe(v) for v in items]
    if isinstance(value, (np.datetime64, np.timedelta64)):  # (a timedelta64 is an np.integer too)
        if np.isnat(value):
            return None
        # numpy keeps no time zone; flowkit's times are UTC (a tz-aware column's .to_numpy() gives these)
        value = pd.Timestamp(value).tz_localize("UTC") if isinstance(value, np.datetime64) else pd.Timedelta(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, pd.Timestamp):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _frame_records(frame: pd.DataFrame, limit: int | None) -> list[dict[str, Any]]:
    part = frame if limit is None else frame.head(limit)
    cols = [str(c) for c in part.columns]
    return [
        {c: json_safe(v) for c, v in zip(cols, row)}
        for row in part.itertuples(index=False, name=None)
    ]


def _figure_png(figure: Any) -> bytes:
    """PNG bytes of a matplotlib figure (or the bytes themselves)."""
    if isinstance(figure, (bytes, bytearray)):
        return bytes(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=100)
    return buffer.getvalue()


def _cell_text(value: Any) -> str:
    safe = json_safe(value)
    return "" if safe is None else str(safe)


def _table_html(name: str, frame: pd.DataFrame, max_rows: int) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell_text(v))}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False, name=None)
    )
    more = ""
    if len(frame) > max_rows:
        more = (f"<p style='margin:2px 0;color:#666'>{escape(str(len(frame) - max_rows))} more "
                f"row(s) in <code>evidence[{escape(repr(name))}]</code></p>")
    return (f"<details open><summary><b>{escape(name)}</b> ({len(frame)} row(s))</summary>"
            f"<table class='flowkit-evidence'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{more}</details>")


@dataclass
class Finding:
    """The result of one investigation.

    Attributes
    ----------
    title : str
        One line naming what was investigated.
    verdict : str
        A short machine-friendly answer (``denied``, ``ok``, ``ready``, …).
    severity : str
        One of :data:`SEVERITIES`: info, low, medium, high, critical.
    summary : str
        The answer and its reason in plain words.
    evidence : dict of str to pandas.DataFrame
        Tables that back the verdict, by name.
    figures : dict of str to matplotlib Figure or PNG bytes
        Charts, by name.
    facts : dict
        The machine-readable numbers (what the command line prints with ``--json``).
    notes : list of str
        Caveats the reader should know (how to read the evidence).

    Examples
    --------
    >>> f = Finding("Connectivity 192.0.2.1 -> 198.51.100.2", "ok", "info", "Traffic flowed both ways.")
    >>> f.severity, f.to_dict()["verdict"]
    ('info', 'ok')
    """

    title: str
    verdict: str
    severity: str = "info"
    summary: str = ""
    evidence: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ArgumentError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self, *, max_rows: int | None = None, figures: bool = False) -> dict[str, Any]:
        """Return the finding as JSON-ready data.

        Parameters
        ----------
        max_rows : int, optional
            Keep at most this many rows per evidence table (all by default).
        figures : bool
            Include figures as base64 PNG text (names only by default).

        Examples
        --------
        >>> Finding("t", "ok").to_dict()["evidence"]
        {}
        """
        evidence = {
            name: {
                "columns": [str(c) for c in frame.columns],
                "rows": int(len(frame)),
                "records": _frame_records(frame, max_rows),
            }
            for name, frame in self.evidence.items()
        }
        if figures:
            figs: Any = {name: base64.b64encode(_figure_png(fig)).decode("ascii")
                         for name, fig in self.figures.items()}
        else:
            figs = sorted(self.figures)
        return {
            "title": self.title,
            "verdict": self.verdict,
            "severity": self.severity,
            "summary": self.summary,
            "facts": json_safe(self.facts),
            "notes": list(self.notes),
            "evidence": evidence,
            "figures": figs,
        }

    def figure_png(self, name: str) -> bytes:
        """Return figure ``name`` as PNG bytes.

        Examples
        --------
        >>> Finding("t", "ok", figures={"f": b"PNG"}).figure_png("f")
        b'PNG'
        """
        return _figure_png(self.figures[name])

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}: {self.verdict}. {self.summary}".strip()

    def _repr_html_(self) -> str:
        colour = _SEVERITY_COLOURS[self.severity]
        parts = [
            "<div class='flowkit-finding' style='border-left:4px solid "
            f"{colour};padding:4px 10px;margin:4px 0'>",
            f"<h4 style='margin:2px 0'>{escape(self.title)}</h4>",
            f"<p style='margin:2px 0'><span style='background:{colour};color:white;padding:1px 6px;"
            f"border-radius:3px'>{escape(self.severity)}</span> "
            f"<b>verdict:</b> <code>{escape(self.verdict)}</code></p>",
        ]
        if self.summary:
            parts.append(f"<p style='margin:4px 0'>{escape(self.summary)}</p>")
        for note in self.notes:
            parts.append(f"<p style='margin:2px 0;color:#555'><i>{escape(note)}</i></p>")
        if self.facts:
            rows = "".join(
                f"<tr><th style='text-align:left'>{escape(str(k))}</th>"
                f"<td>{escape(_cell_text(v) if not isinstance(v, (dict, list)) else str(json_safe(v)))}</td></tr>"
                for k, v in self.facts.items()
            )
            parts.append(f"<details><summary>facts</summary><table>{rows}</table></details>")
        for name, frame in self.evidence.items():
            parts.append(_table_html(name, frame, HTML_MAX_ROWS))
        for name, fig in self.figures.items():
            data = base64.b64encode(_figure_png(fig)).decode("ascii")
            parts.append(f"<figure style='margin:4px 0'><img alt='{escape(figure_alt(self, name))}' "
                         f"src='data:image/png;base64,{data}'/>"
                         f"<figcaption>{escape(name)}</figcaption></figure>")
        parts.append("</div>")
        return "".join(parts)
