"""From decoded records to one CSV buffer per tuple format, with per-group bookkeeping.

A *group* is one ``flowTuples`` array: the tuples of one rule (and one aclID or
MAC) in one record. The walk over records is the only per-group Python work:
it appends the raw array and small integer codes (rule, aclID, MAC). Everything
per tuple happens in bulk: the arrays are joined as they are (no copies), tuple
counts come from quote positions (numpy), and two ``bytes.replace`` calls turn
the joined arrays into CSV lines. Arrays not in the compact form Azure writes
take a careful path, element by element.

Examples
--------
>>> import msgspec
>>> codes = Codes()
>>> g = FormatGroups()
>>> g.add(msgspec.Raw(b'["1,a","2,b"]'), record=0, rule=codes.code("r"), acl=-1, mac=-1)
>>> built = g.build()
>>> built.buffer, built.counts.tolist()
(b'1,a\\n2,b', [2])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec
import numpy as np

from flowkit.formats.framing import JSON_ERRORS

__all__ = ["Codes", "FormatGroups", "BuiltGroups", "split_array"]

_DECODER = msgspec.json.Decoder()


class Codes:
    """Small integer codes for repeated text values (-1 for None), in first-seen order."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str | None) -> int:
        """Return the code of ``value``, adding it when new.

        Examples
        --------
        >>> c = Codes(); c.code("a"), c.code("b"), c.code("a"), c.code(None)
        (0, 1, 0, -1)
        """
        if value is None:
            return -1
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.values)
            self.values.append(value)
        return code


@dataclass
class BuiltGroups:
    """The CSV buffer of one format and how its lines map back to groups and tuples.

    Attributes
    ----------
    buffer : bytes
        One tuple per line, no trailing newline.
    counts : numpy.ndarray
        Lines per group (groups with none are kept with 0).
    seen : int
        Tuples seen, including bad elements that never reached the buffer.
    first_tuple : numpy.ndarray
        Index of each group's first tuple within its record.
    line_tuple : dict
        For groups read element by element: the tuple index of each line.
    bad : list
        ``(group, tuple index within group, reason, raw)`` for elements that are not tuple strings.
    """

    buffer: bytes
    counts: np.ndarray
    seen: int
    first_tuple: np.ndarray
    line_tuple: dict[int, list[int]] = field(default_factory=dict)
    bad: list[tuple[int, int, str, str]] = field(default_factory=list)


class FormatGroups:
    """The groups of one tuple format across a batch of blobs."""

    def __init__(self) -> None:
        self.raws: list[msgspec.Raw] = []
        self.record: list[int] = []   # index into the batch's record table
        self.rule: list[int] = []     # codes
        self.acl: list[int] = []
        self.mac: list[int] = []      # -1: the record's MAC

    def __len__(self) -> int:
        return len(self.raws)

    def add(self, raw: msgspec.Raw, *, record: int, rule: int, acl: int, mac: int) -> None:
        """Add one ``flowTuples`` array (an empty ``[]`` is skipped: it holds no tuple)."""
        if len(raw) == 2 and bytes(raw) == b"[]":
            return
        self.raws.append(raw)
        self.record.append(record)
        self.rule.append(rule)
        self.acl.append(acl)
        self.mac.append(mac)

    def build(self) -> BuiltGroups:
        """Join the arrays into CSV lines: in bulk when compact, element by element otherwise."""
        built = self._build_fast()
        return built if built is not None else self._build_careful()

    def _first_tuple(self, seen_per_group: np.ndarray) -> np.ndarray:
        """Exclusive running count of tuples within each record (groups of a record are adjacent)."""
        n = len(seen_per_group)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        rec = np.asarray(self.record, dtype=np.int64)
        before = np.cumsum(seen_per_group) - seen_per_group
        starts = np.r_[True, rec[1:] != rec[:-1]]
        first_of_record = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        return before - before[first_of_record]

    def _build_fast(self) -> BuiltGroups | None:
        if not self.raws:
            return BuiltGroups(b"", np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64))
        joined = b"\n".join(self.raws)
        quotes = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == 34)
        lengths = np.fromiter((len(r) for r in self.raws), dtype=np.int64, count=len(self.raws))
        ends = np.cumsum(lengths + 1) - 1
        per_group = np.diff(np.searchsorted(quotes, ends), prepend=0)
        if (per_group % 2).any() or (per_group == 0).any():
            return None
        out = joined.replace(b'","', b"\n").replace(b'"]\n["', b"\n")
        del joined
        if out[:2] != b'["' or out[-2:] != b'"]':
            return None
        out = out[2:-2]
        if any(c in out for c in (b'"', b"\\", b"[", b"]")):
            return None  # spaces between elements, escapes, nested arrays: take the careful path
        counts = per_group // 2
        if out.count(b"\n") + 1 != int(counts.sum()):
            return None
        return BuiltGroups(out, counts, int(counts.sum()), self._first_tuple(counts))

    def _build_careful(self) -> BuiltGroups:
        chunks: list[bytes] = []
        counts = np.zeros(len(self.raws), dtype=np.int64)
        seen = np.zeros(len(self.raws), dtype=np.int64)
        line_tuple: dict[int, list[int]] = {}
        bad: list[tuple[int, int, str, str]] = []
        for k, raw in enumerate(self.raws):
            chunk, count, index, errors = split_array(bytes(raw))
            for i, reason, text in errors:
                bad.append((k, i, reason, text))
            if index is not None:
                line_tuple[k] = index
            if count:
                chunks.append(chunk)
            counts[k] = count
            seen[k] = count + len(errors)
        buffer = b"\n".join(chunks).replace(b'","', b"\n")
        return BuiltGroups(buffer, counts, int(seen.sum()), self._first_tuple(seen), line_tuple, bad)


def split_array(raw: bytes) -> tuple[bytes, int, list[int] | None, list[tuple[int, str, str]]]:
    """Turn one raw ``flowTuples`` JSON array into CSV lines, element by element when needed.

    Returns (chunk, line count, tuple index per line or None when 1:1, bad elements).
    A compact chunk keeps its ``","`` separators (replaced in bulk by the caller).

    Examples
    --------
    >>> split_array(b'[ "1,a", 5 ]')
    (b'1,a', 1, [0], [(1, 'tuple-not-a-string', '5')])
    """
    if raw == b"[]":
        return b"", 0, None, []
    if raw[:2] == b'["' and raw[-2:] == b'"]' and b"\\" not in raw:
        n_sep = raw.count(b'","')
        if raw.count(b'"') == 2 * (n_sep + 1):
            return raw[2:-2], n_sep + 1, None, []
    try:
        values = _DECODER.decode(raw)
    except JSON_ERRORS:
        return b"", 0, [], [(0, "invalid-tuples-array", raw[:200].decode("utf-8", "replace"))]
    if not isinstance(values, list):
        return b"", 0, [], [(0, "tuples-not-an-array", raw[:200].decode("utf-8", "replace"))]
    lines: list[bytes] = []
    index: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for i, v in enumerate(values):
        if isinstance(v, str) and not any(c in v for c in '\n\r"'):
            try:
                lines.append(v.encode("utf-8"))
            except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
                bad.append((i, "invalid-characters", v.encode("utf-8", "backslashreplace").decode()))
                continue
            index.append(i)
        else:
            bad.append((i, "tuple-not-a-string" if not isinstance(v, str) else "invalid-characters",
                        v if isinstance(v, str) else msgspec.json.encode(v).decode()))
    # lines are joined with newlines and hold no '","', so the bulk replace leaves them alone
    return b"\n".join(lines), len(lines), index, bad
