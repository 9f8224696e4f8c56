"""From the bytes of a blob (or a piece of one) to records, tolerating what real files look like.

Handled: a whole blob ``{"records":[…]}``; a UTF-8 BOM; pretty-printed JSON or ``\\r\\n``
between records; a single record with no ``records`` wrapper; a fragment read from
the middle of a growing blob (``,{…},{…}``, maybe with a BOM, maybe ending in the
``]}`` tail block); a trailing comma before ``]``; a blob cut mid-record.

The fast path decodes the whole document in one msgspec call. Only when that
fails does a tolerant scanner split the text into records, decode each alone,
and hand back the damaged parts (with the tuple strings found in them) so that
nothing is lost silently.

Examples
--------
>>> framed = frame_records(b'\\xef\\xbb\\xbf,{"time":"t"},{"time":"u"}')
>>> [(index, r.time) for index, r in framed.records], framed.kind
([(0, 't'), (1, 'u')], 'fragment')
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import msgspec

from flowkit.formats.records import Envelope, Record, RecordList, skeleton_quotes

__all__ = ["Framed", "Damage", "frame_records", "gc_paused", "TUPLE_STRING", "JSON_ERRORS", "tuple_strings"]

BOM = b"\xef\xbb\xbf"
_ENVELOPE_DECODER = msgspec.json.Decoder(Envelope, strict=False)
_LIST_DECODER = msgspec.json.Decoder(RecordList, strict=False)
_RECORD_DECODER = msgspec.json.Decoder(Record, strict=False)
#: What a failed decode raises (msgspec reports bad UTF-8 as UnicodeDecodeError).
JSON_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)

#: A JSON string that looks like a flow tuple (starts with a number and a comma).
TUPLE_STRING = re.compile(rb'"(-?\d[^",\\]*,(?:[^"\\]|\\.)*)"')
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[{}\[\]]')
_RECORDS_KEY = re.compile(rb'^\{\s*"records"\s*:\s*\[')
_SEPARATOR = re.compile(rb"^[\s,]*$")


@dataclass
class Damage:
    """Part of the input that could not be decoded as a record.

    Attributes
    ----------
    reason : str
        ``invalid-record``, ``truncated-record`` or ``not-json``.
    record : int or None
        Index the record would have had.
    offset : int
        Byte offset of the damaged text in the (BOM-stripped) input.
    tuples : list of str
        Tuple strings found in the damaged text; each is quarantined.
    excerpt : str
        The start of the damaged text, for the report.
    """

    reason: str
    record: int | None
    offset: int
    tuples: list[str]
    excerpt: str


@dataclass
class Framed:
    """Records decoded from one input, and what could not be decoded.

    ``quotes`` counts the quote characters of what holds the records: the ``records`` key
    of a whole blob, and the fields of a record that was a whole blob itself (see
    :func:`flowkit.formats.records.skeleton_quotes`, which counts the records' own).
    """

    records: list[tuple[int, Record]] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    kind: str = "blob"
    quotes: int = 0


_LEAD = re.compile(rb"(?:\s|\xef\xbb\xbf)*")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while msgspec builds many small objects.

    A blob decodes into tens of thousands of lists and structs, none of which
    can form a cycle; collections triggered by those allocations only cost time
    (about a third of the decode). The collector's previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _strip(data: bytes) -> bytes:
    data = data.lstrip()
    while data.startswith(BOM):
        data = data[len(BOM):].lstrip()
    return data.rstrip()


def frame_records(data: bytes) -> Framed:
    """Split a blob, a single record or a growing-blob fragment into records (see :func:`_frame`).

    Whole blobs where records should be (blobs joined end to end, or a JSON list of
    blobs) give their records, numbered in order.

    Examples
    --------
    >>> framed = frame_records(b'{"records":[{"time":"a"}]}{"records":[{"time":"b"},{"time":"c"}]}')
    >>> [(index, r.time) for index, r in framed.records]
    [(0, 'a'), (1, 'b'), (2, 'c')]
    """
    framed = _frame(data)
    framed.quotes = 2 * (framed.kind == "blob")
    if any(r.records is not None for _, r in framed.records):
        _flatten(framed)
    return framed


def _flatten(framed: Framed) -> None:
    """Replace each record that is a whole blob by its records; renumber records and damage.

    A flow record that also holds a ``records`` list is kept, before the records it holds:
    its own tuples are read too.
    """
    def expand(rec: Record) -> list[Record]:
        if rec.records is None:
            return [rec]
        if rec.flowRecords is not None or (rec.properties is not None and rec.properties.flows is not None):
            own = [rec]
        else:  # a container only: its fields are counted here, as the records it holds are not read
            own = []
            framed.quotes += skeleton_quotes([rec])
        return own + [x for sub in rec.records for x in expand(sub)]

    records, shift, extra = [], [], 0   # shift: (old index, records added before the next index)
    for index, rec in framed.records:
        subs = expand(rec)
        records += [(index + extra + k, sub) for k, sub in enumerate(subs)]
        extra += len(subs) - 1
        shift.append((index, extra))
    for damage in framed.damage:
        if damage.record is not None:
            damage.record += max((added for old, added in shift if old < damage.record), default=0)
    framed.records = records


def _frame(data: bytes) -> Framed:
    """Split a blob, a single record or a growing-blob fragment into records.

    Parameters
    ----------
    data : bytes
        Raw bytes as read from a file or blob, or a byte range of a blob.

    Returns
    -------
    Framed
        ``records`` as ``(index, Record)`` pairs in input order and ``damage``
        for every part that could not be decoded.

    Examples
    --------
    >>> frame_records(b'{"records":[{"time":"a"},]}').records[0][1].time
    'a'
    >>> frame_records(b'{"records":[{"time":"a"},{"ti').damage[0].reason
    'truncated-record'
    """
    lead = _LEAD.match(data).end()
    if data[lead:lead + 1] == b"{":
        # The common case, a whole blob: decode in place (no stripped copy of the blob).
        try:
            with gc_paused():
                env = _ENVELOPE_DECODER.decode(memoryview(data)[lead:])
        except JSON_ERRORS:
            pass  # the careful paths below locate the damage
        else:
            if env.records is not None:
                return Framed(records=list(enumerate(env.records)), kind="blob")
            return Framed(records=[(0, env)], kind="record")
    text = _strip(data)
    if not text:
        return Framed(kind="empty")
    head = text[:1]
    if head == b",":
        body = text[1:].rstrip()
        if body.endswith(b"]}"):
            body = body[:-2].rstrip()  # the 2-byte tail block was read too
        try:
            with gc_paused():
                records = _LIST_DECODER.decode(b"[" + body + b"]")
            return Framed(records=list(enumerate(records)), kind="fragment")
        except JSON_ERRORS:
            return _tolerant(text, start=0, kind="fragment")
    if head == b"[":
        try:
            with gc_paused():
                return Framed(records=list(enumerate(_LIST_DECODER.decode(text))), kind="list")
        except JSON_ERRORS:
            return _tolerant(text, start=1, kind="list")
    if head == b"{":
        try:
            env = _ENVELOPE_DECODER.decode(text)
        except JSON_ERRORS:
            m = _RECORDS_KEY.match(text)
            if m:
                return _tolerant(text, start=m.end(), kind="blob")
            return _tolerant(text, start=0, kind="record")
        if env.records is not None:
            return Framed(records=list(enumerate(env.records)), kind="blob")
        return Framed(records=[(0, env)], kind="record")
    scalar = _json_scalar(text)
    if scalar:  # valid JSON, but one number, string, true, false or null: a record that is no record
        return Framed(damage=[Damage("invalid-record", 0, 0, tuple_strings(text), scalar)], kind="record")
    return Framed(damage=[Damage("not-json", None, 0, tuple_strings(text), not_json_excerpt(text))], kind="not-json")


#: The JSON value types a document can hold other than an object or an array.
_SCALARS = {int: "a number", float: "a number", str: "a string", bool: "true or false", type(None): "null"}


def _json_scalar(text: bytes) -> str:
    """For a document that is one JSON number, string, boolean or null, what it holds; else ``""``.

    Examples
    --------
    >>> _json_scalar(b"42"), _json_scalar(b"<Error/>")
    ('JSON holding only a number (42), where flow-log records should be', '')
    """
    try:
        value = msgspec.json.decode(text)
    except JSON_ERRORS:
        return ""
    shown = not_json_excerpt(text.strip())
    return f"JSON holding only {_SCALARS[type(value)]} ({shown}), where flow-log records should be"


#: What the first bytes of a file that is not JSON say it is (compressed or re-encoded copies of a blob).
_ARCHIVES = ((b"\x1f\x8b", "gzip-compressed data: decompress it first (gunzip)"),
             (b"PK\x03\x04", "a zip archive: extract it first"),
             (b"\xfd7zXZ\x00", "xz-compressed data: decompress it first (unxz)"),
             (b"BZh", "bzip2-compressed data: decompress it first (bunzip2)"),
             (b"\x28\xb5\x2f\xfd", "zstd-compressed data: decompress it first (unzstd)"),
             (b"\xff\xfe", "UTF-16 text (as Windows PowerShell 5 writes a redirected file): save it as UTF-8"),
             (b"\xfe\xff", "UTF-16 text: save it as UTF-8"))


def not_json_excerpt(text: bytes) -> str:
    """What a file that is not JSON begins with, for its error: a compressed file is named as
    such, other bytes shown as printable text (control characters escaped), at most 80 of them.

    Examples
    --------
    >>> not_json_excerpt(b"<Error><Code>AuthenticationFailed</Code></Error>")[:20]
    '<Error><Code>Authent'
    >>> not_json_excerpt(b"\\x1f\\x8b\\x08\\x00binary")
    'gzip-compressed data: decompress it first (gunzip)'
    >>> not_json_excerpt(b"\\x00\\x01ab\\xff")
    '\\\\x00\\\\x01ab\\\\xff'
    """
    for magic, what in _ARCHIVES:
        if text.startswith(magic):
            return what
    shown = text[:80].decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in shown)


#: A flow tuple starts with an epoch number, then an address or at least seven more fields
#: (a list of prefixes, ports or protocols, as an NSG event record's rule conditions
#: ``"0.0.0.0/0,0.0.0.0/0"`` or ``"6,17"``, does neither; a tuple with a garbled address does).
_TUPLE_SHAPE = re.compile(r"-?\d+,(?:[^,]*[.:]|(?:[^,]*,){6})")


def tuple_strings(text: bytes) -> list[str]:
    """The strings of ``text`` shaped like flow tuples, in order.

    Examples
    --------
    >>> tuple_strings(b'["1714557600,10.0.0.4,192.0.2.9,1,2,T,I,A", "6,17", "0.0.0.0/0,0.0.0.0/0"]')
    ['1714557600,10.0.0.4,192.0.2.9,1,2,T,I,A']
    """
    found = (m.group(1).decode("utf-8", "replace") for m in TUPLE_STRING.finditer(text))
    return [t for t in found if _TUPLE_SHAPE.match(t)]



def _tolerant(text: bytes, start: int, kind: str) -> Framed:
    """Scan for top-level objects from ``start``; decode each alone."""
    framed = Framed(kind=kind)
    depth = 0
    obj_start = -1
    last_end = start
    index = 0
    for m in _TOKEN.finditer(text, start):
        tok = m.group()
        c = tok[:1]
        if c == b'"':
            continue
        if c in (b"{", b"["):
            if depth == 0 and c == b"{":
                obj_start = m.start()
                between = text[last_end:obj_start]
                if not _SEPARATOR.match(between):
                    _junk(framed, between, last_end, index)
                    index += 1  # the junk is counted as a (damaged) record: the next one comes after it
            elif depth == 0:  # a stray '[' at top level
                obj_start = m.start()
            depth += 1
        else:
            if depth == 0:
                # a ']' or '}' closing the wrapper: the end of the records array (after
                # whatever stands between the last record and it)
                between = text[last_end:m.start()]
                if not _SEPARATOR.match(between):
                    _junk(framed, between, last_end, index)
                    index += 1
                last_end = m.end()
                continue
            depth -= 1
            if depth == 0:
                piece = text[obj_start:m.end()]
                try:
                    framed.records.append((index, _RECORD_DECODER.decode(piece)))
                except JSON_ERRORS as exc:
                    framed.damage.append(Damage("invalid-record", index, obj_start, tuple_strings(piece),
                                                f"{exc}: {piece[:80].decode('utf-8', 'replace')}"))
                index += 1
                last_end = m.end()
    if depth > 0 and obj_start >= 0:
        piece = text[obj_start:]
        framed.damage.append(Damage("truncated-record", index, obj_start, tuple_strings(piece),
                                    piece[:80].decode("utf-8", "replace")))
    else:
        tail = text[last_end:]
        if tail.strip(b" \t\r\n,]}"):
            _junk(framed, tail, last_end, index)
    return framed


def _junk(framed: Framed, piece: bytes, offset: int, index: int) -> None:
    framed.damage.append(Damage("invalid-record", index, offset, tuple_strings(piece),
                                piece[:80].decode("utf-8", "replace")))
