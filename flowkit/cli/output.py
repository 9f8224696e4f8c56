"""What the ``flowkit`` command prints: text from the logs made safe for a terminal.

Rule names, blob names, quarantined tuples and the like come from the logs, and the
logs hold whatever text someone put in a rule name or a crafted blob. Written raw, an
ESC or BEL in them would recolour, retitle or clear the reader's terminal (or forge a
line of output). :func:`printable` shows every control character as a visible escape:
C0 (``\\x00``-``\\x1f``), DEL and C1 (``\\x80``-``\\x9f``). Text mode uses it for every
piece of log-derived text it writes; JSON mode needs nothing (``json.dumps`` escapes
control characters).

Examples
--------
>>> printable("R\\x1b[31mRED")
'R\\\\x1b[31mRED'
>>> printable("a\\nb\\tc")
'a\\\\nb\\\\tc'
>>> print(printable("line 1\\nline 2\\x07", lines=True))
line 1
line 2\\x07
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["printable", "printable_frame"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps \t and \n
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def printable(text: Any, *, lines: bool = False) -> str:
    """``str(text)`` with its control characters shown as ``\\xNN`` (``\\n``, ``\\t``, ``\\r``).

    Parameters
    ----------
    text : any
        Text to show (anything else is passed through ``str``).
    lines : bool
        Keep line feeds and tabs: for text made of several lines (a summary, a note).
        By default they are escaped too, so one value stays on one line.

    Examples
    --------
    >>> printable("\\x9b2J and \\x7f")
    '\\\\x9b2J and \\\\x7f'
    """
    return (_CONTROL_BUT_LINES if lines else _CONTROL).sub(_escape, str(text))


def _cell(value: Any) -> Any:
    return printable(value) if isinstance(value, str) else value


def printable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to print: text cells and column labels passed through :func:`printable`.

    Numbers, times and missing values keep their type, so ``to_string`` formats them
    as before and aligns the escaped text.

    Examples
    --------
    >>> printable_frame(pd.DataFrame({"rule": ["a\\x1bb"], "n": [1]})).to_string(index=False)
    '  rule  n\\na\\\\x1bb  1'
    """
    columns = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)):
            col = col.astype(object).map(_cell)
        columns.append(col.reset_index(drop=True))
    out = pd.concat(columns, axis=1, ignore_index=True) if columns else frame.reset_index(drop=True).copy()
    out.columns = [printable(c) for c in frame.columns]
    return out
