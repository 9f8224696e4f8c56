"""Decode one blob (or a fragment of one) into an Arrow table in the canonical schema.

The path from bytes to table, per blob:

1. :func:`flowkit.formats.framing.frame_records` decodes the JSON skeleton with
   msgspec, keeping every ``flowTuples`` array as raw bytes;
2. the raw arrays of each format are joined and turned into CSV lines with one
   ``bytes.replace`` and parsed by :func:`flowkit.formats.tuples.parse_tuples`;
3. record- and rule-level values (time, MAC, rule, aclID, resource) are attached
   by repeat counts, each distinct record time parsed once.

Every tuple seen becomes a row or a quarantine entry (blob, record, tuple, reason, raw).

Examples
--------
>>> from flowkit.sources.base import BlobRef
>>> blob = (b'{"records":[{"time":"2024-05-01T10:00:52.5625085Z","flowLogVersion":4,'
...         b'"macAddress":"000D3A000001","flowRecords":{"flows":[{"aclID":"unspecified",'
...         b'"flowGroups":[{"rule":"DefaultRule_AllowInternetOutBound","flowTuples":'
...         b'["1714557600000,10.0.0.4,192.0.2.10,50000,443,6,O,E,X,3,767,2,1580"]}]}]}}]}')
>>> out = decode_blob(blob, BlobRef("x/PT1H.json"))
>>> out.table.num_rows, out.report.rows, out.table.column("encryption").to_pylist()
(1, 1, ['X'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flowkit.addresses import normalize_mac
from flowkit.errors import QuarantineError
from flowkit.formats.framing import JSON_ERRORS, frame_records
from flowkit.formats.records import Record
from flowkit.formats.tuples import FIELDS, ParsedTuples, parse_tuples
from flowkit.load_report import LoadReport, Problem
from flowkit.schema import COLUMNS, DECISIONS, DIRECTIONS, ENCRYPTION_STATES, LOG_TYPES, STATES
from flowkit.sources.base import BlobRef

__all__ = ["DecodedBlob", "decode_blob", "decode_blobs", "ARROW_SCHEMA", "FORMAT_NAMES"]

_OPEN = pa.dictionary(pa.int32(), pa.string())
_CLOSED = pa.dictionary(pa.int8(), pa.string())
#: The canonical table as Arrow types (pandas dtypes follow on conversion).
ARROW_SCHEMA = pa.schema([
    ("flow_time", pa.timestamp("ms", tz="UTC")),
    ("record_time", pa.timestamp("ns", tz="UTC")),
    ("src_ip", _OPEN), ("dst_ip", _OPEN),
    ("src_port", pa.uint16()), ("dst_port", pa.uint16()),
    ("protocol", pa.uint8()),
    ("direction", _CLOSED), ("decision", _CLOSED), ("state", _CLOSED), ("encryption", _CLOSED),
    ("packets_sent", pa.uint32()), ("bytes_sent", pa.uint64()),
    ("packets_received", pa.uint32()), ("bytes_received", pa.uint64()),
    ("rule", _OPEN), ("acl_id", _OPEN), ("mac", _OPEN),
    ("log_type", _CLOSED), ("version", pa.uint8()),
    ("resource_id", _OPEN), ("target_resource_id", _OPEN), ("blob", _OPEN),
])
assert tuple(ARROW_SCHEMA.names) == COLUMNS

#: Load-report names of the tuple formats.
FORMAT_NAMES = {"nsg1": "nsg-v1", "nsg2": "nsg-v2", "vnet4": "vnet-v4"}
_FORMAT_VERSION = {"nsg1": 1, "nsg2": 2, "vnet4": 4}
_GROUP_DECODER = msgspec.json.Decoder()


@dataclass
class DecodedBlob:
    """The rows of one blob as an Arrow table, and its load report."""

    table: pa.Table
    report: LoadReport


class _Groups:
    """Tuple groups of one format, with what is known about each."""

    def __init__(self) -> None:
        self.seen = 0                            # tuples seen, including bad elements
        self.bad: list[tuple[int, int, int, str, str]] = []  # (blob, record, tuple, reason, raw)
        self.counts: list[int] = []
        self.blob: list[int] = []
        self.record: list[int] = []
        self.first_tuple: list[int] = []        # index of the group's first tuple in its record
        self.line_tuple: dict[int, list[int]] = {}  # slow groups: tuple index of each line
        self.meta: list[tuple] = []             # (time, rule, acl, mac, resource, target, version)


def _split_array(raw: bytes, fast: bool = True) -> tuple[bytes, int, list[int] | None, list[tuple[int, str, str]]]:
    """Turn one raw ``flowTuples`` JSON array into CSV lines.

    Returns (chunk, line count, tuple index per line or None when 1:1, bad elements).
    The fast path keeps ``","`` separators (replaced in bulk later).
    """
    if raw == b"[]":
        return b"", 0, None, []
    if fast and raw[:2] == b'["' and raw[-2:] == b'"]':
        # Compact array: the separators are exactly '","'. Any quote or backslash
        # left after the bulk replace sends the whole blob to the careful path.
        return raw[2:-2], raw.count(b'","') + 1, None, []
    if raw[:2] == b'["' and raw[-2:] == b'"]' and b"\\" not in raw:
        n_sep = raw.count(b'","')
        if raw.count(b'"') == 2 * (n_sep + 1):
            return raw[2:-2], n_sep + 1, None, []
    try:
        values = _GROUP_DECODER.decode(raw)
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
    # lines joined with newlines: they contain no '","', so the bulk replace leaves them alone
    return b"\n".join(lines), len(lines), index, bad


def _collect(items: list[tuple[int, int, tuple, bytes]], fast: bool) -> tuple[_Groups, bytes]:
    """Turn the raw tuple arrays of one format into one CSV buffer and group bookkeeping."""
    g = _Groups()
    chunks: list[bytes] = []
    current, pos = (-1, -1), 0
    for blob, rec_idx, meta, raw in items:
        if (blob, rec_idx) != current:
            current, pos = (blob, rec_idx), 0
        chunk, count, index, bad = _split_array(raw, fast)
        for i, reason, text in bad:
            g.bad.append((blob, rec_idx, pos + i, reason, text))
        if count:
            if index is not None:
                g.line_tuple[len(g.counts)] = index
            chunks.append(chunk)
            g.counts.append(count)
            g.blob.append(blob)
            g.record.append(rec_idx)
            g.first_tuple.append(pos)
            g.meta.append(meta)
        seen = count + len(bad)
        g.seen += seen
        pos += seen
    return g, b"\n".join(chunks).replace(b'","', b"\n")


def _record_format(rec: Record) -> tuple[str | None, list[tuple[str | None, str | None, str | None, bytes]]]:
    """Return the tuple format of a record and its groups (rule, acl, mac, raw)."""
    groups: list[tuple[str | None, str | None, str | None, bytes]] = []
    if rec.flowRecords is not None or rec.flowLogVersion is not None or rec.category == "FlowLogFlowEvent":
        for acl in (rec.flowRecords.flows if rec.flowRecords else []):
            for g in acl.flowGroups:
                groups.append((g.rule, acl.aclID, rec.macAddress, bytes(g.flowTuples)))
        return "vnet4", groups
    if rec.properties is not None:
        for rule in rec.properties.flows:
            for g in rule.flows:
                groups.append((rule.rule, None, g.mac or rec.macAddress, bytes(g.flowTuples)))
        version = rec.properties.Version
        if version == 1:
            return "nsg1", groups
        if version == 2:
            return "nsg2", groups
        # Version missing or unknown: decide by the field count of the first tuple.
        for *_, raw in groups:
            first = raw.split(b'","', 1)[0]
            if first.strip(b'[]" \r\n\t'):
                return ("nsg1" if first.count(b",") == 7 else "nsg2"), groups
        return "nsg2", groups
    return None, groups


def decode_blob(data: bytes, ref: BlobRef, *, strict: bool = False,
                start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                log_type: str | None = None, mac: str | None = None) -> DecodedBlob:
    """Decode the bytes of one blob, file or growing-blob fragment.

    Parameters
    ----------
    data : bytes
        The content (whole blob, single record, or ``,{…},{…}`` fragment).
    ref : BlobRef
        Where it came from; its path metadata fills a MAC or resource the records lack.
    strict : bool
        Raise :class:`flowkit.errors.QuarantineError` at the first tuple or record
        that would be quarantined, instead of reporting it.
    start, end : pandas.Timestamp, optional
        Keep rows with ``start <= flow_time < end`` (UTC); others are counted as
        ``filtered_out``.
    log_type, mac : str, optional
        Keep rows of this log type (``nsg``/``vnet``) or NIC MAC only.

    Returns
    -------
    DecodedBlob
    """
    return decode_blobs([(data, ref)], strict=strict, start=start, end=end, log_type=log_type, mac=mac)


def decode_blobs(items: Sequence[tuple[bytes, BlobRef]], *, strict: bool = False,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 log_type: str | None = None, mac: str | None = None) -> DecodedBlob:
    """Decode several blobs at once: one CSV parse and one check per format for all of them.

    Real blobs are small (an hour of one NIC, often a few hundred kB); parsing
    them in batches pays each vectorised step's fixed cost once per batch
    instead of once per blob. Rows come out in the order of ``items``.
    Parameters as :func:`decode_blob`.

    Examples
    --------
    >>> out = decode_blobs([(b"", BlobRef("a.json")), (b"", BlobRef("b.json"))])
    >>> out.report.files, out.table.num_rows
    (2, 0)
    """
    quarantine: list[tuple[str, int | None, int | None, str, str]] = []  # blob, record, tuple, reason, raw
    problems: list[Problem] = []
    n_tuples = n_records = 0
    raw_groups: dict[str, list[tuple[int, int, tuple, bytes]]] = {fmt: [] for fmt in FIELDS}
    names = [ref.name for _, ref in items]

    for b, (data, ref) in enumerate(items):
        framed = frame_records(data)
        n_records += len(framed.records) + sum(1 for d in framed.damage if d.reason != "not-json")
        for damage in framed.damage:
            problems.append(Problem(ref.name, damage.reason, f"byte {damage.offset}: {damage.excerpt}", damage.record))
            for i, raw in enumerate(damage.tuples):
                quarantine.append((ref.name, damage.record, i, damage.reason, raw))
            n_tuples += len(damage.tuples)
            if strict:
                raise QuarantineError(ref.name, damage.record, None, damage.reason, damage.excerpt)
        meta_mac, meta_resource = ref.meta.mac, ref.meta.resource_id
        for rec_idx, rec in framed.records:
            fmt, rec_groups = _record_format(rec)
            if fmt is None:
                problems.append(Problem(ref.name, "not-a-flow-record",
                                        f"record without properties.flows or flowRecords (category {rec.category!r})",
                                        rec_idx))
                if strict:
                    raise QuarantineError(ref.name, rec_idx, None, "not-a-flow-record", str(rec.category))
                continue
            version = rec.flowLogVersion if fmt == "vnet4" and rec.flowLogVersion else _FORMAT_VERSION[fmt]
            if fmt == "vnet4":
                resource, target = rec.flowLogResourceID or meta_resource, rec.targetResourceID
            else:
                resource, target = rec.resourceId or rec.resourceid or meta_resource, None
            for rule, acl, group_mac, raw in rec_groups:
                meta = (rec.time, rule, acl, normalize_mac(group_mac) or meta_mac, resource, target, version,
                        ref.name)
                raw_groups[fmt].append((b, rec_idx, meta, raw))

    tables = []
    for fmt, group_items in raw_groups.items():
        if not group_items:
            continue
        g, buf = _collect(group_items, fast=True)
        if b'"' in buf or b"\\" in buf:  # not the compact form Azure writes: take the careful path
            g, buf = _collect(group_items, fast=False)
        for b, rec_idx, t, reason, text in g.bad:
            quarantine.append((names[b], rec_idx, t, reason, text))
            if strict:
                raise QuarantineError(names[b], rec_idx, t, reason, text)
        n_tuples += g.seen
        if not g.counts:
            continue
        parsed = parse_tuples(buf, fmt)
        del buf
        if parsed.bad:
            starts = np.cumsum([0] + g.counts[:-1])
            for line, reason, raw in parsed.bad:
                k = int(np.searchsorted(starts, line, side="right") - 1)
                offset = line - int(starts[k])
                t = g.first_tuple[k] + (g.line_tuple[k][offset] if k in g.line_tuple else offset)
                quarantine.append((names[g.blob[k]], g.record[k], t, reason, raw))
                if strict:
                    raise QuarantineError(names[g.blob[k]], g.record[k], t, reason, raw)
        tables.append(_assemble(parsed, g, fmt))

    table = pa.concat_tables(tables) if tables else ARROW_SCHEMA.empty_table()
    if len(tables) > 1:  # several formats: back to the order of the blobs
        order = np.argsort(_blob_order(table, names), kind="stable")
        table = table.take(pa.array(order))
    decoded_rows = table.num_rows
    table = _select(table, start, end, log_type, mac)
    report = LoadReport(
        files=len(items), records=n_records, tuples=n_tuples, rows=table.num_rows,
        quarantined=len(quarantine), filtered_out=decoded_rows - table.num_rows,
        formats=_count_formats(table), quarantine=_quarantine_frame(quarantine), problems=tuple(problems),
    )
    return DecodedBlob(table, report)


def _blob_order(table: pa.Table, names: list[str]) -> np.ndarray:
    """Position of each row's blob in the input, for a stable sort back to input order."""
    position = {name: i for i, name in enumerate(names)}
    column = table.column("blob").combine_chunks()
    lookup = np.array([position[v] for v in column.dictionary.to_pylist()], dtype=np.int64)
    return lookup[column.indices.to_numpy(zero_copy_only=False)]


def _count_formats(table: pa.Table) -> dict[str, int]:
    """Rows per format name (``nsg-v1``, ``nsg-v2``, ``vnet-v4``), counted on codes."""
    if table.num_rows == 0:
        return {}
    lt = table.column("log_type").combine_chunks()
    kinds = lt.dictionary.to_pylist()
    key = lt.indices.to_numpy(zero_copy_only=False).astype(np.int64) * 256 + table.column("version").to_numpy()
    counts = np.bincount(key)
    return {f"{kinds[k // 256]}-v{k % 256}": int(counts[k]) for k in np.flatnonzero(counts)}


def _select(table: pa.Table, start, end, log_type, mac) -> pa.Table:
    if table.num_rows == 0 or (start is None and end is None and log_type is None and mac is None):
        return table
    mask = pa.scalar(True)
    ft = table.column("flow_time")
    if start is not None:
        mask = pc.and_(mask, pc.greater_equal(ft, pa.scalar(start.value // 10**6, pa.timestamp("ms", "UTC"))))
    if end is not None:
        mask = pc.and_(mask, pc.less(ft, pa.scalar(end.value // 10**6, pa.timestamp("ms", "UTC"))))
    if log_type is not None:
        mask = pc.and_(mask, pc.equal(pc.cast(table.column("log_type"), pa.string()), log_type))
    if mac is not None:
        mask = pc.and_(mask, pc.equal(pc.cast(table.column("mac"), pa.string()), normalize_mac(mac)))
    mask = pc.fill_null(mask, False)
    return table.filter(mask)


def _quarantine_frame(rows: list[tuple[str, int | None, int | None, str, str]]) -> pd.DataFrame:
    if not rows:
        return LoadReport().quarantine
    blob, rec, tup, reason, raw = zip(*rows)
    return pd.DataFrame({
        "blob": list(blob),
        "record": pd.array(rec, dtype="Int64"),
        "tuple": pd.array(tup, dtype="Int64"),
        "reason": list(reason),
        "raw": list(raw),
    })


def _open_dict(values: Sequence[str | None], group_of_row: np.ndarray) -> pa.DictionaryArray:
    """Dictionary column from one value per group, repeated per row (factorised in C)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    rows = codes.astype(np.int32)[group_of_row]
    mask = rows < 0
    indices = pa.array(rows, type=pa.int32(), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(uniques), type=pa.string()))


def _closed(codes: np.ndarray, values) -> pa.DictionaryArray:
    mask = codes < 0
    indices = pa.array(codes.astype(np.int8), type=pa.int8(), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def _record_times(times: list[str | None]) -> np.ndarray:
    """Parse each distinct record time once; return int64 ns per group (NaT as min int)."""
    distinct = list(dict.fromkeys(t for t in times if t))
    parsed = pd.to_datetime(pd.Series(distinct, dtype=object), format="ISO8601", utc=True, errors="coerce")
    lookup = dict(zip(distinct, parsed.array.as_unit("ns").asi8)) if distinct else {}
    nat = np.iinfo(np.int64).min
    return np.array([lookup.get(t, nat) if t else nat for t in times], dtype=np.int64)


def _assemble(p: ParsedTuples, g: _Groups, fmt: str) -> pa.Table:
    n_groups = len(g.counts)
    group_of_line = np.repeat(np.arange(n_groups, dtype=np.int32), g.counts)
    group_of_row = group_of_line if p.valid is None else group_of_line[p.valid]
    n = len(group_of_row)
    times, rules, acls, macs, resources, targets, versions, blobs = zip(*g.meta)
    rec_ns = _record_times(list(times))[group_of_row]
    nat = rec_ns == np.iinfo(np.int64).min
    version = np.array(versions, dtype=np.uint8)[group_of_row]
    log_type = 1 if fmt == "vnet4" else 0
    columns = [
        pa.array(p.flow_time_ms, type=pa.timestamp("ms", tz="UTC")),
        pa.array(rec_ns, type=pa.timestamp("ns", tz="UTC"), mask=nat if nat.any() else None),
        p.src_ip, p.dst_ip,
        pa.array(p.src_port, type=pa.uint16()), pa.array(p.dst_port, type=pa.uint16()),
        pa.array(p.protocol, type=pa.uint8()),
        _closed(p.direction, DIRECTIONS), _closed(p.decision, DECISIONS),
        _closed(p.state, STATES), _closed(p.encryption, p.encryption_values),
        p.counters["packets_sent"], p.counters["bytes_sent"],
        p.counters["packets_received"], p.counters["bytes_received"],
        _open_dict(rules, group_of_row), _open_dict(acls, group_of_row),
        _open_dict(macs, group_of_row),
        _closed(np.full(n, log_type, dtype=np.int8), LOG_TYPES),
        pa.array(version, type=pa.uint8()),
        _open_dict(resources, group_of_row), _open_dict(targets, group_of_row),
        _open_dict(blobs, group_of_row),
    ]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)
