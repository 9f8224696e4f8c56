"""Cells and tables as text, shared by the HTML, Markdown, XLSX and CSV writers.

Examples
--------
>>> neutralize("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> cell_text(pd.Timestamp("2024-05-01T10:00Z")), cell_text(float("nan"))
('2024-05-01T10:00:00Z', '')
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pandas as pd

from flowkit.findings import json_safe

__all__ = ["cell_text", "cell_value", "neutralize", "csv_bytes", "unique_labels", "fact_text", "slug", "unique_slugs",
           "evidence_tables", "FORMULA_PREFIXES"]

#: A text cell starting with one of these is a formula to spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_value(value: Any) -> Any:
    """A JSON type for one cell: numbers stay numbers, times become ISO 8601 text."""
    return json_safe(value)


def cell_text(value: Any) -> str:
    """One cell as text ('' for missing values)."""
    safe = json_safe(value)
    if safe is None:
        return ""
    if isinstance(safe, (dict, list)):
        return json.dumps(safe, ensure_ascii=False)
    return str(safe)


def neutralize(value: Any) -> Any:
    """Make a text cell inert in spreadsheets: prefix ``'`` to text starting with = + - @ or a control.

    Numbers are left alone (``-5`` stays a number).

    Examples
    --------
    >>> neutralize("-1"), neutralize(-1), neutralize("ok")
    ("'-1", -1, 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The whole table as UTF-8 CSV (with a BOM for spreadsheet programs), formula-safe.

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"a": ["=1+1"]})).decode("utf-8-sig")
    "a\\r\\n'=1+1\\r\\n"
    """
    labels = [str(neutralize(c)) for c in unique_labels(frame.columns)]
    # built by position: labels that neutralise alike ("=a", "'=a") must not merge two columns into one
    out = pd.DataFrame({j: _csv_column(series) for j, (_, series) in enumerate(frame.items())},
                       index=pd.RangeIndex(len(frame)), columns=range(len(labels)))
    out.columns = labels
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8-sig")


def _csv_column(series: pd.Series) -> pd.Series:
    """One column for CSV: numbers as they are, everything else as neutralised text (per distinct value)."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return series.reset_index(drop=True)
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = series.dt.tz_convert("UTC")
        text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        # %f stops at microseconds: a record_time keeps 100 ns ticks, written as isoformat() (cell_text) does
        nanos = utc.dt.nanosecond.fillna(0).astype("int64")
        text = text.where(nanos == 0, text + nanos.astype(str).str.zfill(3)) + "Z"
        return text.str.replace(".000000Z", "Z", regex=False).fillna("").reset_index(drop=True)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return series.dt.total_seconds().reset_index(drop=True)
    values = series.astype(object).reset_index(drop=True)
    try:
        uniques = pd.unique(values)
    except TypeError:  # unhashable cells (lists, dicts)
        return values.map(lambda v: neutralize(cell_text(v)))
    mapping = {v: neutralize(cell_text(v)) for v in uniques if not _is_missing(v)}
    return values.map(lambda v: "" if _is_missing(v) else mapping[v])


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def unique_labels(columns: Any) -> list[str]:
    """Column labels as text, duplicates numbered (``a``, ``a.1``) without taking a label in use.

    Examples
    --------
    >>> unique_labels(["a", "a", 1])
    ['a', 'a.1', '1']
    >>> unique_labels(["a", "a.1", "a"])
    ['a', 'a.1', 'a.2']
    """
    labels = [str(c) for c in columns]
    taken = set(labels)
    used: set[str] = set()
    out = []
    for c in labels:
        label, n = c, 0
        while label in used or (n and label in taken):  # a repeat: the first number no column has
            n += 1
            label = f"{c}.{n}"
        used.add(label)
        out.append(label)
    return out


def fact_text(value: Any) -> str:
    """A fact's value as short text (dicts and lists as JSON)."""
    return cell_text(value)


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe slug.

    Examples
    --------
    >>> slug("Connectivity 10.10.1.4 -> 10.10.3.4")
    'connectivity-10-10-1-4-10-10-3-4'
    """
    out = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return (out[:limit].rstrip("-") or "table")


def unique_slugs(names: Any, limit: int = 30, reserved: Any = ()) -> list[str]:
    """One slug per name, numbered where two would be the same file (or one of ``reserved``).

    Examples
    --------
    >>> unique_slugs(["by bytes", "by-bytes", "facts"], reserved=["facts"])
    ['by-bytes', 'by-bytes.1', 'facts.1']
    """
    reserved = list(reserved)
    return unique_labels(reserved + [slug(str(n), limit) for n in names])[len(reserved):]


def evidence_tables(evidence: Any, reserved: Any = ()) -> list[tuple[Any, pd.DataFrame, str]]:
    """The tables of a finding's evidence as ``(name, frame, slug)``, slugs unique (see
    :func:`unique_slugs`), in evidence order.

    Examples
    --------
    >>> [(n, s) for n, _, s in evidence_tables({"by bytes": pd.DataFrame(), "note": "x", "by-bytes": pd.DataFrame()})]
    [('by bytes', 'by-bytes'), ('by-bytes', 'by-bytes.1')]
    """
    frames = [(name, frame) for name, frame in evidence.items() if isinstance(frame, pd.DataFrame)]
    slugs = unique_slugs([name for name, _ in frames], reserved=reserved)
    return [(name, frame, s) for (name, frame), s in zip(frames, slugs)]
