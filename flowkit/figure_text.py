"""Figures described in words: the alt text of a finding's figure, for every page that shows it.

Built from the figure's own title, axis labels and legend, and the evidence table that holds
its numbers (used by :meth:`flowkit.findings.Finding._repr_html_` and the HTML and Markdown
reports).

Examples
--------
>>> from flowkit.findings import Finding
>>> figure_alt(Finding("Audit", "ok", figures={"trend": b"PNG"}), "trend")
"Figure 'trend' of Audit."
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flowkit.sources.redact import redact

__all__ = ["figure_alt"]

#: The evidence table holding the numbers a figure draws, where its name is not the figure's.
_FIGURE_TABLES = {"coverage": "coverage_by_hour", "talker_graph": "by_bytes"}


def _figure_words(figure: Any) -> tuple[list[str], list[str], list[str]]:
    """Titles, axis labels and legend entries of a matplotlib figure (empty for PNG bytes)."""
    titles: list[str] = []
    axes: list[str] = []
    series: list[str] = []
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        titles.append(suptitle.get_text())
    for ax in getattr(figure, "axes", []):
        if ax.get_title():
            titles.append(ax.get_title())
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            if label and label not in axes:
                axes.append(label)
        legend = ax.get_legend()
        if legend is not None:
            series += [t.get_text() for t in legend.get_texts() if t.get_text() and t.get_text() not in series]
    return titles, axes, series


def figure_alt(finding: Any, name: Any) -> str:
    """What figure ``name`` of ``finding`` shows, in words (an image's alt text).

    Built from the figure's own title, axis labels and legend, and the evidence table that
    holds its numbers, so a reader who cannot see the image knows what it is and where the
    same numbers are.

    Examples
    --------
    >>> from flowkit.findings import Finding
    >>> figure_alt(Finding("Audit", "ok", figures={"trend": b"PNG"}), "trend")
    "Figure 'trend' of Audit."
    """
    try:
        titles, axes, series = _figure_words(finding.figures.get(name))
    except Exception:  # a figure that cannot be read must not lose the report
        titles, axes, series = [], [], []
    parts = ["; ".join(titles) if titles else f"Figure '{name}' of {finding.title}"]
    if axes:
        parts.append("Axes: " + ", ".join(axes))
    if series:
        parts.append("Legend: " + ", ".join(series))
    table = name if name in finding.evidence else _FIGURE_TABLES.get(str(name))
    if table is not None and isinstance(finding.evidence.get(table), pd.DataFrame):
        parts.append(f"Its numbers are in the table {table}")
    return redact(". ".join(parts) + ".")  # a figure's own words, like every text of a report, never carry a secret
