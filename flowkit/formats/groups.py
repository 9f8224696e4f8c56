"""From decoded records to one CSV buffer per tuple format, with per-group bookkeeping.

A *group* is one ``flowTuples`` array: the tuples of one rule (and one aclID or
MAC) in one record. Groups are collected an aclID or a rule at a time with list
comprehensions, so there is no Python call per group. Everything per tuple
happens in bulk: the arrays are joined into one ``bytearray``, tuple counts and
the compact-form check come from quote positions (numpy), and the JSON
punctuation is overwritten with newlines in place (no ``bytes.replace`` pass).
Arrays not in the compact form Azure writes take a careful path, element by element.

Examples
--------
>>> import msgspec
>>> g = FormatGroups()
>>> g.add(msgspec.Raw(b'["1,a","2,b"]'), record=0, rule="r")
>>> built = g.build()
>>> bytes(built.buffer), built.counts.tolist(), built.sparse
(b'\\n\\n1,a\\n\\n\\n2,b\\n\\n', [2], True)
>>> bytes(g.build_careful().buffer)
b'1,a\\n2,b'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from flowkit.formats.framing import JSON_ERRORS

__all__ = ["Codes", "FormatGroups", "BuiltGroups", "split_array", "factorize"]

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


def factorize(values: list) -> tuple[np.ndarray, list[str]]:
    """Int codes (-1 for None) and the distinct values, in first-seen order.

    Examples
    --------
    >>> codes, values = factorize(["a", None, "b", "a"])
    >>> codes.tolist(), values
    ([0, -1, 1, 0], ['a', 'b'])
    """
    if not values:
        return np.zeros(0, dtype=np.int64), []
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), list(uniques)


@dataclass
class BuiltGroups:
    """The CSV buffer of one format and how its lines map back to groups and tuples.

    Attributes
    ----------
    buffer : bytes or bytearray
        One tuple per line (no trailing newline unless ``sparse``).
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
    sparse : bool
        Lines are separated by runs of newlines (empty lines are not tuples).
    quotes : numpy.ndarray or None
        Quote characters in each group's raw array (None: not counted).
    """

    buffer: bytes | bytearray
    counts: np.ndarray
    seen: int
    first_tuple: np.ndarray
    line_tuple: dict[int, list[int]] = field(default_factory=dict)
    bad: list[tuple[int, int, str, str]] = field(default_factory=list)
    sparse: bool = False
    quotes: np.ndarray | None = None


class FormatGroups:
    """The groups of one tuple format across a batch of blobs.

    Groups are added a blob's worth at a time, with list comprehensions: no
    Python call per group. Text values (rule, aclID, MAC)
    stay text until :meth:`codes` factorises them once for the whole batch.
    """

    def __init__(self) -> None:
        self.raws: list[msgspec.Raw] = []
        self.record: list[int] = []          # index into the batch's record table
        self.rule: list[str | None] = []
        self.acl: list[str | None] = []
        self.mac: list[str | None] = []      # NSG group MAC as written; None: the record's

    def __len__(self) -> int:
        return len(self.raws)

    def add_acls(self, acls: list[tuple[int, Any]]) -> None:
        """Add VNet groups: ``(record, acl)`` pairs, each acl with ``aclID`` and ``flowGroups``."""
        self.raws += [g.flowTuples for _, a in acls for g in a.flowGroups or ()]
        self.rule += [g.rule for _, a in acls for g in a.flowGroups or ()]
        self.acl += [a.aclID for _, a in acls for _g in a.flowGroups or ()]
        self.record += [k for k, a in acls for _g in a.flowGroups or ()]
        self.mac += [None] * (len(self.raws) - len(self.mac))

    def add_rules(self, rules: list[tuple[int, Any]]) -> None:
        """Add NSG groups: ``(record, rule)`` pairs, each rule with ``rule`` and per-MAC ``flows``."""
        self.raws += [g.flowTuples for _, r in rules for g in r.flows or ()]
        self.mac += [g.mac for _, r in rules for g in r.flows or ()]
        self.rule += [r.rule for _, r in rules for _g in r.flows or ()]
        self.record += [k for k, r in rules for _g in r.flows or ()]
        self.acl += [None] * (len(self.raws) - len(self.acl))

    def add(self, raw: msgspec.Raw, *, record: int, rule: str | None = None, acl: str | None = None,
            mac: str | None = None) -> None:
        """Add one ``flowTuples`` array."""
        self.raws.append(raw)
        self.record.append(record)
        self.rule.append(rule)
        self.acl.append(acl)
        self.mac.append(mac)

    def drop_empty(self, *, blank: bool = False) -> None:
        """Drop the groups whose array is ``[]`` (they hold no tuple), and with ``blank`` also
        the empty arrays with JSON whitespace inside (``[ ]``, ``[\\n]``): a dropped group leaves
        no rule, aclID or MAC behind. Any other value (``{}``, ``""``, ``42``) stays, to be
        quarantined as ``tuples-not-an-array``.

        Examples
        --------
        >>> g = FormatGroups()
        >>> for raw, rule in ((b"[]", "a"), (b"[ ]", "b"), (b'["1,x"]', "c")):
        ...     g.add(msgspec.Raw(raw), record=0, rule=rule)
        >>> g.drop_empty(); g.rule
        ['b', 'c']
        >>> g.drop_empty(blank=True); g.rule
        ['c']
        """
        if blank:
            keep = [not _blank_array(r) for r in self.raws]
        else:
            keep = [len(r) != 2 or bytes(r) != b"[]" for r in self.raws]
        if all(keep):
            return
        for name in ("raws", "record", "rule", "acl", "mac"):
            setattr(self, name, list(compress(getattr(self, name), keep)))

    def codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Factorise one text attribute (``rule``, ``acl`` or ``mac``): int codes (-1: None) and values."""
        return factorize(getattr(self, name))

    def build(self) -> BuiltGroups:
        """Turn the arrays into CSV lines: in bulk when compact, element by element otherwise."""
        self.drop_empty()
        built = self._build_fast()
        if built is None:  # always so when an array is blank (``[ ]`` holds no quote): drop those here
            self.drop_empty(blank=True)
            built = self.build_careful()
        return built

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
        """Blank the JSON punctuation in place: each tuple ends up on its own line.

        In the compact form Azure writes (``["t1","t2"]``, no spaces, no escapes),
        every quote, every ``,`` between two elements and each group's brackets
        become newlines; pyarrow skips the empty lines. Structure is checked in
        bulk on quote positions; anything else returns None (the careful path).
        """
        n = len(self.raws)
        if not n:
            return BuiltGroups(b"", np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64),
                               quotes=np.zeros(0, dtype=np.int64))
        lengths = np.fromiter(map(len, self.raws), dtype=np.int64, count=n)
        joined = bytearray(b"\n").join(self.raws)
        if b"\\" in joined:
            return None  # escapes inside strings
        arr = np.frombuffer(joined, dtype=np.uint8)
        quotes = _positions(arr, 34)
        ends = np.cumsum(lengths + 1) - 1          # one past each group's last byte
        starts = ends - lengths
        after = np.searchsorted(quotes, ends)      # quotes before each group's end
        per_group = np.diff(after, prepend=0)
        if (per_group % 2).any() or (per_group == 0).any():
            return None
        first = after - per_group
        if not ((arr[starts] == 91).all() and (quotes[first] == starts + 1).all()
                and (arr[ends - 1] == 93).all() and (quotes[after - 1] == ends - 2).all()):
            return None  # spaces or newlines around the elements
        opens, closes = quotes[0::2], quotes[1::2]
        if (closes - opens < 2).any():
            return None  # an empty tuple string: the careful path gives it its own (bad) line
        within = np.ones(len(opens) - 1, dtype=bool)
        within[first[1:] // 2 - 1] = False         # the gap before a group's first element
        commas = closes[:-1][within] + 1
        if not ((opens[1:][within] == commas + 1).all() and (arr[commas] == 44).all()):
            return None  # anything but a bare comma between two elements
        for positions in (quotes, commas, starts, ends - 1):
            arr[positions] = 10
        del arr
        counts = per_group // 2
        return BuiltGroups(joined, counts, int(counts.sum()), self._first_tuple(counts), sparse=True,
                           quotes=per_group)

    def build_careful(self) -> BuiltGroups:
        """Element by element: every bad element is reported, every good one becomes a line."""
        chunks: list[bytes] = []
        counts = np.zeros(len(self.raws), dtype=np.int64)
        seen = np.zeros(len(self.raws), dtype=np.int64)
        quotes = np.zeros(len(self.raws), dtype=np.int64)
        line_tuple: dict[int, list[int]] = {}
        bad: list[tuple[int, int, str, str]] = []
        for k, raw in enumerate(self.raws):
            raw = bytes(raw)
            quotes[k] = raw.count(b'"')
            chunk, count, index, errors = split_array(raw)
            for i, reason, text in errors:
                bad.append((k, i, reason, text))
            if index is not None:
                line_tuple[k] = index
            if count:
                chunks.append(chunk)
            counts[k] = count
            seen[k] = count + len(errors)
        buffer = b"\n".join(chunks).replace(b'","', b"\n")
        return BuiltGroups(buffer, counts, int(seen.sum()), self._first_tuple(seen), line_tuple, bad,
                           quotes=quotes)


def _blank_array(raw: msgspec.Raw) -> bool:
    """True for an array holding nothing but JSON whitespace (``[]``, ``[ ]``, ``[\\r\\n]``).

    Examples
    --------
    >>> [_blank_array(msgspec.Raw(raw)) for raw in (b"[ \\n\\t]", b"[]", b'[ "1,x" ]', b'" "')]
    [True, True, False, False]
    """
    data = bytes(raw)
    return data[:1] == b"[" and data[-1:] == b"]" and not data[1:-1].strip(b" \t\n\r")


def _positions(arr: np.ndarray, byte: int, step: int = 1 << 20) -> np.ndarray:
    """Positions of ``byte`` in ``arr``, a MiB at a time (small temporaries, reused in cache).

    Examples
    --------
    >>> _positions(np.frombuffer(b'a"b""', dtype=np.uint8), 34, step=2).tolist()
    [1, 3, 4]
    """
    parts = [np.flatnonzero(arr[i:i + step] == byte) + i for i in range(0, len(arr), step)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


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
