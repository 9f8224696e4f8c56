"""Decode one blob (or a fragment of one) into an Arrow table in the canonical schema.

The path from bytes to table, per blob:

1. :func:`flowkit.formats.framing.frame_records` decodes the JSON skeleton with
   msgspec, keeping every ``flowTuples`` array as raw bytes (the cyclic garbage
   collector is paused meanwhile: the skeletons cannot form cycles);
2. the raw arrays of each format are collected with list comprehensions, joined
   into one buffer whose JSON punctuation is overwritten with newlines in place
   (:class:`flowkit.formats.groups.FormatGroups`), and parsed by
   :func:`flowkit.formats.tuples.parse_tuples` (``pyarrow.csv``, typed);
3. record- and rule-level values (time, MAC, rule, aclID, resource) are attached
   by repeat counts, each distinct value factorised and each distinct record
   time parsed once.

Every tuple seen becomes a row or a quarantine entry (blob, record, tuple, reason, raw).

A batch of whole blobs of one format (VNet v4, NSG v2 or v1) in the form Azure writes
them is first offered to a compiled scanner (:mod:`flowkit.formats.native_scan`, numba, the GIL released) that
does steps 1 to 3 in one pass and hands back the same pieces; any blob it does not
recognise sends the batch down the path above, which alone reports problems.

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

from dataclasses import dataclass, replace
from operator import attrgetter, itemgetter
from typing import Sequence

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa

import flowkit.memory_pool  # noqa: F401  (Arrow's allocator: see that module)
from flowkit.addresses import is_mac, normalize_mac
from flowkit.errors import QuarantineError
from flowkit.formats.framing import JSON_ERRORS, frame_records, gc_paused
from flowkit.formats.groups import Codes, FormatGroups
from flowkit.formats.native_read import NativeBatch, read_native, worth_scanning
from flowkit.formats.records import (Record, acl_quotes, flow_records_quotes, group_quotes,
                                     properties_quotes, record_quotes, rule_quotes)
from flowkit.formats.table import (ARROW_SCHEMA, blob_order, closed_column, count_formats,
                                   dictionary_column, select_rows, time_range, without_unused_values)
from flowkit.formats.strays import misplaced_tuples, quote_count, stray_tuples
from flowkit.formats.tuples import FIELDS, ParsedTuples, parse_tuples
from flowkit.load_report import LoadReport, Problem, quarantine_frame
from flowkit.schema import DECISIONS, DIRECTIONS, LOG_TYPES, STATES
from flowkit.sources.base import BlobRef
from flowkit.sources.redact import redact_name

__all__ = ["DecodedBlob", "decode_blob", "decode_blobs", "shown_ref", "ARROW_SCHEMA"]


_FORMAT_VERSION = {"nsg1": 1, "nsg2": 2, "vnet4": 4}
_FORMAT_NAME = {"nsg1": "nsg-v1", "nsg2": "nsg-v2", "vnet4": "vnet-v4"}  # as the load report counts rows
_FLOW_RECORDS, _PROPERTIES, _SECOND = attrgetter("flowRecords"), attrgetter("properties"), itemgetter(1)


@dataclass
class DecodedBlob:
    """The rows of one blob (or batch of blobs) as an Arrow table, and its load report."""

    table: pa.Table
    report: LoadReport


class _Records:
    """One row per record of a batch: what every tuple of the record shares."""

    def __init__(self) -> None:
        self.blob: list[int] = []
        self.index: list[int] = []    # record index within its blob
        self.time: list[object] = []     # as written: a string unless the record is odd
        self.resource: list[int] = []
        self.target: list[int] = []
        self.version: list[int] = []
        self.mac: list[int] = []


def _nsg_format(rec: Record) -> str:
    version = rec.properties.Version
    if version == 1:
        return "nsg1"
    if version == 2:
        return "nsg2"
    return _nsg_format_by_fields(rec)


def _nsg_format_by_fields(rec: Record) -> str:
    """NSG ``Version`` missing or unknown: decide by the field count of the first tuple string."""
    for rule in rec.properties.flows:
        for g in rule.flows or ():
            try:
                tuples = msgspec.json.decode(bytes(g.flowTuples))
            except JSON_ERRORS:  # not JSON, or not UTF-8
                continue  # the group's tuples are quarantined where they are parsed
            first = next((t for t in tuples if isinstance(t, str) and t) if isinstance(tuples, list) else (), None)
            if first is not None:
                return "nsg1" if first.count(",") == 7 else "nsg2"
    return "nsg2"


def _record_format(rec: Record) -> str | None:
    """``vnet4``, ``nsg1``, ``nsg2``, or None for a record that is not a flow record.

    A VNet record has ``flowRecords``, an NSG flow record ``properties.flows``; other
    records that share the storage account (NSG event records, whose ``properties``
    hold ``ruleName`` and ``conditions``) are not flow records.
    """
    if rec.flowRecords is not None:
        return "vnet4"
    if rec.properties is not None and rec.properties.flows is not None:
        return _nsg_format(rec)
    return None


def _walk(recs: list[tuple[int, Record]], b: int, ref: BlobRef, records: _Records,
          strings: dict[str, Codes], groups: dict[str, FormatGroups], problems: list[Problem],
          strict: bool) -> tuple[list[int], int]:
    """Append the records of blob ``b`` and their tuple groups, a format at a time.

    Everything is a list comprehension over the blob's records, aclIDs or rules:
    no Python call per tuple group. Returns the indices of the records that are not
    flow records, and the quote characters of the flow records outside their arrays as
    read (:func:`flowkit.formats.records.skeleton_quotes`, counted from the lists the walk
    builds): a blob holding more has text that was not read (a misspelled key such as
    ``flowTuple``, a key given twice, NSG flows in a VNet record), to be scanned.
    """
    fmts = [_record_format(rec) for _, rec in recs]
    for (rec_idx, rec), fmt in zip(recs, fmts):
        if fmt is None:
            problems.append(Problem(ref.name, "not-a-flow-record",
                                    f"record without properties.flows or flowRecords (category {rec.category!r})",
                                    rec_idx))
            if strict:
                raise QuarantineError(ref.name, rec_idx, None, "not-a-flow-record", str(rec.category))
    path_mac, path_resource = ref.meta.mac, ref.meta.resource_id
    resource, target, mac = strings["resource"].code, strings["target"].code, strings["mac"].code
    kinds = set(fmts)
    quotes = 0
    for fmt in [f for f in FIELDS if f in kinds]:
        first = len(groups[fmt].raws)
        chosen = recs if len(kinds) == 1 else [ir for ir, f in zip(recs, fmts) if f == fmt]
        rs = [rec for _, rec in chosen]
        base, n = len(records.blob), len(rs)
        records.blob += [b] * n
        records.index += [i for i, _ in chosen]
        records.time += [r.time for r in rs]
        records.mac += [mac(normalize_mac(r.macAddress) or path_mac) for r in rs]
        if fmt == "vnet4":
            records.resource += [resource(r.flowLogResourceID or path_resource) for r in rs]
            records.target += [target(r.targetResourceID) for r in rs]
            versions = [4 if r.flowLogVersion is None else r.flowLogVersion for r in rs]
            for (rec_idx, _), v in zip(chosen, versions):
                if not 0 < v < 256:  # a version the uint8 column cannot hold: the record is read as v4
                    if strict:
                        raise QuarantineError(ref.name, rec_idx, None, "invalid-version", f"flowLogVersion {v}")
                    problems.append(Problem(ref.name, "invalid-version", f"flowLogVersion {v}; read as 4", rec_idx))
            records.version += [v if 0 < v < 256 else 4 for v in versions]
            acls = [(k, a) for k, r in enumerate(rs, base) if r.flowRecords for a in r.flowRecords.flows or ()]
            groups[fmt].add_acls(acls)
            quotes += (flow_records_quotes(list(map(_FLOW_RECORDS, rs))) + acl_quotes(list(map(_SECOND, acls)))
                       + group_quotes(groups[fmt].rule[first:], groups[fmt].raws[first:]))
        else:
            records.resource += [resource(r.resourceId or r.resourceid or path_resource) for r in rs]
            records.target += [-1] * n
            records.version += [_FORMAT_VERSION[fmt]] * n
            for (rec_idx, _), r in zip(chosen, rs):
                v = r.properties.Version
                if v not in (1, 2, None):  # an unknown version: read by the field count of its tuples
                    if strict:
                        raise QuarantineError(ref.name, rec_idx, None, "invalid-version", f"properties.Version {v}")
                    problems.append(Problem(ref.name, "invalid-version",
                                            f"properties.Version {v}; read as {_FORMAT_VERSION[fmt]} by its "
                                            f"tuples' field count", rec_idx))
            rules = [(k, rule) for k, r in enumerate(rs, base) for rule in r.properties.flows]
            groups[fmt].add_rules(rules)
            quotes += (properties_quotes(list(map(_PROPERTIES, rs))) + rule_quotes(list(map(_SECOND, rules)))
                       + group_quotes(groups[fmt].mac[first:], groups[fmt].raws[first:]))
        quotes += record_quotes(rs)
    return [rec_idx for (rec_idx, _), fmt in zip(recs, fmts) if fmt is None], quotes


def shown_ref(ref: BlobRef) -> BlobRef:
    """``ref`` named as rows, quarantined tuples, problems and errors show it: without secrets.

    A local file saved from a SAS URL keeps the SAS in its name
    (:func:`flowkit.sources.redact.redact_name`); other names are returned as they are.

    Examples
    --------
    >>> shown_ref(BlobRef("x/PT1H.json?sv=1&sig=abc")).name, shown_ref(BlobRef("x/PT1H.json")).name
    ('x/PT1H.json?REDACTED', 'x/PT1H.json')
    """
    name = redact_name(ref.name)
    return ref if name == ref.name else replace(ref, name=name)


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
                 log_type: str | None = None, mac: str | None = None,
                 native: bool | None = None) -> DecodedBlob:
    """Decode several blobs at once: one CSV parse and one check per format for all of them.

    Real blobs are small (an hour of one NIC, often a few hundred kB); parsing
    them in batches pays each vectorised step's fixed cost once per batch
    instead of once per blob. Rows come out in the order of ``items`` (within a
    blob, grouped by format). Parameters as :func:`decode_blob`, and ``native``:
    try the compiled scanner of whole blobs first
    (:mod:`flowkit.formats.native_read`; the same rows and report either way);
    None: when the batch is large enough for it to pay
    (:func:`flowkit.formats.native_read.worth_scanning`).

    Examples
    --------
    >>> out = decode_blobs([(b"", BlobRef("a.json")), (b"", BlobRef("b.json"))])
    >>> out.report.files, out.table.num_rows
    (2, 0)
    """
    with gc_paused():  # the skeletons are garbage by the end; collecting meanwhile only costs time
        return _decode_blobs(items, strict=strict, start=start, end=end, log_type=log_type, mac=mac,
                             native=native)


def _decode_blobs(items: Sequence[tuple[bytes, BlobRef]], *, strict: bool,
                  start: pd.Timestamp | None, end: pd.Timestamp | None,
                  log_type: str | None, mac: str | None, native: bool | None) -> DecodedBlob:
    quarantine: list[tuple[str, int | None, int | None, str, str]] = []  # blob, record, tuple, reason, raw
    problems: list[Problem] = []
    n_tuples = n_records = 0
    items = [(data, shown_ref(ref)) for data, ref in items]  # every label below is a shown name
    names = [ref.name for _, ref in items]
    if native is None:
        native = worth_scanning(sum(len(data) for data, _ in items))
    batch = read_native([data for data, _ in items]) if native else None
    if batch is not None:  # whole blobs of one format in the common form: the compiled scanner read them
        return _selected(_native(batch, names), len(items), batch.n_records, batch.n_tuples, [], [],
                         start, end, log_type, mac, only=_FORMAT_NAME[batch.fmt])
    records = _Records()
    strings = {"mac": Codes(), "resource": Codes(), "target": Codes()}
    groups = {fmt: FormatGroups() for fmt in FIELDS}
    # Quote characters of each blob outside what its record skeletons account for, against
    # those of its flowTuples arrays: more outside means text that was not read, to be scanned.
    outside = np.zeros(len(items), dtype=np.int64)
    in_arrays = np.zeros(len(items), dtype=np.int64)

    for b, (data, ref) in enumerate(items):
        framed = frame_records(data)
        n_records += len(framed.records) + sum(1 for d in framed.damage if d.reason != "not-json")
        for damage in framed.damage:
            # the excerpt is the file's own text: a connection string or SAS URL in it is masked
            excerpt = redact_name(damage.excerpt)
            problems.append(Problem(ref.name, damage.reason, f"byte {damage.offset}: {excerpt}", damage.record))
            for i, raw in enumerate(damage.tuples):
                quarantine.append((ref.name, damage.record, i, damage.reason, raw))
            n_tuples += len(damage.tuples)
            if strict:
                raise QuarantineError(ref.name, damage.record, None, damage.reason, excerpt)
        not_flow, quotes = _walk(framed.records, b, ref, records, strings, groups, problems, strict)
        outside[b] = quote_count(data) - framed.quotes - quotes
        if not_flow:  # tuple strings in records that are not flow records: quarantined, not lost
            where = not_flow[0] if len(not_flow) == 1 else None
            strays = stray_tuples(data, framed)
            quarantine += [(ref.name, where, i, "not-a-flow-record", raw) for i, raw in enumerate(strays)]
            n_tuples += len(strays)
            outside[b] = -1  # scanned

    record_times = _record_times(records.time)
    for r in np.flatnonzero(record_times[1]).tolist():  # a record's time missing or unreadable
        name, value = names[records.blob[r]], records.time[r]
        if strict:
            raise QuarantineError(name, records.index[r], None, "invalid-record-time", repr(value))
        if value is None:
            what = "no time"
        elif not isinstance(value, str):
            what = f"time {_excerpt(value)} is not a string"
        elif _iso_time(value):
            what = f"time {value[:60]!r} is outside the years 1678-2261 a record_time can hold"
        else:
            what = f"time {value[:60]!r} is not an ISO 8601 time"
        problems.append(Problem(name, "invalid-record-time", f"{what}; its rows have no record_time",
                                records.index[r]))

    bad_macs = _invalid_macs(records, strings["mac"].values)
    blob_of_record = np.asarray(records.blob, dtype=np.int64)
    tables = []
    for fmt, g in groups.items():
        if not len(g):
            continue
        built = g.build()
        n_tuples += built.seen
        if fmt != "vnet4":  # only NSG tuple groups carry a MAC of their own
            bad_macs += _invalid_group_macs(g, records)
        rec_of_group = np.asarray(g.record, dtype=np.int64)
        in_arrays += np.bincount(blob_of_record[rec_of_group], weights=built.quotes,
                                 minlength=len(items)).astype(np.int64)
        for k, i, reason, text in built.bad:
            r = rec_of_group[k]
            where = (names[records.blob[r]], records.index[r], int(built.first_tuple[k]) + i)
            quarantine.append((*where, reason, text))
            if strict:
                raise QuarantineError(*where, reason, text)
        if not built.counts.sum():
            continue
        parsed = parse_tuples(built.buffer, fmt, n_lines=int(built.counts.sum()), sparse=built.sparse)
        if parsed.bad:
            starts = np.cumsum(built.counts) - built.counts
            for line, reason, raw in parsed.bad:
                k = int(np.searchsorted(starts, line, side="right") - 1)
                while built.counts[k] == 0:  # groups without lines share their start
                    k -= 1
                offset = line - int(starts[k])
                t = int(built.first_tuple[k]) + (built.line_tuple[k][offset] if k in built.line_tuple else offset)
                r = rec_of_group[k]
                quarantine.append((names[records.blob[r]], records.index[r], t, reason, raw))
                if strict:
                    raise QuarantineError(names[records.blob[r]], records.index[r], t, reason, raw)
        tables.append(_assemble(parsed, g, built.counts, records, record_times, strings, names, fmt))

    for b in np.flatnonzero((outside >= 0) & (outside != in_arrays)).tolist():
        misplaced = misplaced_tuples(*items[b], None, strict=strict)
        if misplaced:
            problems.append(misplaced[0])
            quarantine += misplaced[1]
            n_tuples += len(misplaced[1])

    for r, value in dict.fromkeys(bad_macs):  # a record's MAC, or an NSG group's, is not a MAC
        if strict:
            raise QuarantineError(names[records.blob[r]], records.index[r], None, "invalid-mac", value)
        problems.append(Problem(names[records.blob[r]], "invalid-mac",
                                f"MAC {value[:60]!r} is not 12 hex digits; its rows keep it", records.index[r]))

    table = pa.concat_tables(tables) if tables else ARROW_SCHEMA.empty_table()
    if len(tables) > 1:  # several formats: back to the order of the blobs
        table = table.take(pa.array(np.argsort(blob_order(table, names), kind="stable")))
    return _selected(table, len(items), n_records, n_tuples, quarantine, problems, start, end, log_type, mac)


def _selected(table: pa.Table, n_items: int, n_records: int, n_tuples: int,
              quarantine: list[tuple[str, int | None, int | None, str, str]], problems: list[Problem],
              start: pd.Timestamp | None, end: pd.Timestamp | None, log_type: str | None,
              mac: str | None, only: str | None = None) -> DecodedBlob:
    """The rows of a batch in the window and selection asked for, and the batch's load report
    (``only``: the one format every row of ``table`` is in, known without counting)."""
    decoded_rows = table.num_rows
    if quarantine:  # a quarantined tuple's rule, aclID or address is no category of the rows
        table = without_unused_values(table)
    table = select_rows(table, start, end, log_type, mac)
    first, last = time_range(table)
    formats = count_formats(table) if only is None else {only: table.num_rows} if table.num_rows else {}
    report = LoadReport(
        files=n_items, records=n_records, tuples=n_tuples, rows=table.num_rows, start=first, end=last,
        quarantined=len(quarantine), filtered_out=decoded_rows - table.num_rows,
        formats=formats, quarantine=quarantine_frame(quarantine), problems=tuple(problems),
    )
    return DecodedBlob(table, report)


def _native(batch: NativeBatch, names: list[str]) -> pa.Table:
    """The table of a batch the compiled scanner read (:mod:`flowkit.formats.native_read`)."""
    records = _Records()
    records.blob = batch.record_blob
    records.mac = batch.record_codes["mac"]
    records.resource = batch.record_codes["resource"]
    records.target = batch.record_codes["target"]
    records.version = np.full(batch.n_records, _FORMAT_VERSION[batch.fmt], dtype=np.uint8)
    return _assemble(batch.parsed, batch.groups, batch.counts, records, batch.record_times, batch.strings,
                     names, batch.fmt)


def _invalid_macs(records: _Records, macs: list[str]) -> list[tuple[int, str]]:
    """(record, value) for each record whose MAC (its own, else its path's) is not a MAC.

    Examples
    --------
    >>> recs = _Records(); recs.mac += [0, 1, -1]
    >>> _invalid_macs(recs, ["000D3A000001", "ZZ"])
    [(1, 'ZZ')]
    """
    bad = [code for code, value in enumerate(macs) if not is_mac(value)]
    if not bad:
        return []
    codes = np.asarray(records.mac, dtype=np.int64)
    return [(r, macs[codes[r]]) for r in np.flatnonzero(np.isin(codes, bad)).tolist()]


def _invalid_group_macs(g: FormatGroups, records: _Records) -> list[tuple[int, str]]:
    """(record, normalised value) for each NSG tuple group whose ``mac`` is not a MAC."""
    codes, values = g.codes("mac")
    bad = [code for code, value in enumerate(values)  # an empty one falls back to the record's
           if normalize_mac(value) is not None and not is_mac(normalize_mac(value))]
    if not bad:
        return []
    return [(g.record[k], normalize_mac(values[codes[k]])) for k in np.flatnonzero(np.isin(codes, bad)).tolist()]


def _excerpt(value: object) -> str:
    """A JSON value as it was written, cut to 60 characters."""
    return msgspec.json.encode(value).decode()[:60]


def _iso_time(text: str) -> bool:
    """True when ``text`` reads as an ISO 8601 time, in any year."""
    return bool(pd.to_datetime(pd.Series([text], dtype=object), format="ISO8601", utc=True, errors="coerce").notna()[0])


_NS_MIN, _NS_MAX = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")


def _record_times(times: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct record time once; return (int64 ns per record, missing-or-unreadable mask).

    Examples
    --------
    >>> ns, bad = _record_times(["2024-05-01T10:00:52.5625085Z", None, "soon", 1714557652])
    >>> int(ns[0]), bad.tolist()
    (1714557652562508500, [False, True, True, True])
    >>> _record_times(["9999-05-01T10:00:00Z"])[1].tolist()  # beyond what datetime64[ns] holds
    [True]
    """
    text = [t if type(t) is str else None for t in times]  # a number is not read as an epoch
    codes, distinct = pd.factorize(np.asarray(text, dtype=object), use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(distinct, dtype=object), format="ISO8601", utc=True, errors="coerce")
    # a time a nanosecond column cannot hold (year 0024, 9999: a damaged record) is unreadable
    in_range = parsed.between(_NS_MIN, _NS_MAX) if len(distinct) else parsed.notna()
    ns = parsed.where(in_range).array.as_unit("ns").asi8 if len(distinct) else np.zeros(0, dtype=np.int64)
    nat = np.iinfo(np.int64).min
    values = np.where(codes >= 0, ns[np.maximum(codes, 0)] if len(ns) else nat, nat)
    return values, values == nat


def _assemble(p: ParsedTuples, g: FormatGroups, counts: np.ndarray, records: _Records,
              record_times: tuple[np.ndarray, np.ndarray], strings: dict[str, Codes], names: list[str],
              fmt: str) -> pa.Table:
    n_groups = len(counts)
    group_of_line = np.repeat(np.arange(n_groups, dtype=np.int32), counts)
    group_of_row = group_of_line if p.valid is None else group_of_line[p.valid]
    rec_of_group = np.asarray(g.record, dtype=np.int32)
    rec_of_row = rec_of_group[group_of_row]
    n = len(group_of_row)
    rec_ns, rec_nat = record_times
    rule_codes, rule_values = g.codes("rule")
    acl_codes, acl_values = g.codes("acl")
    group_mac, group_mac_values = g.codes("mac")  # NSG: MAC of the group as written
    if len(group_mac_values):
        remap = np.array([strings["mac"].code(normalize_mac(v)) for v in group_mac_values], dtype=np.int64)
        group_mac = np.where(group_mac >= 0, remap[np.maximum(group_mac, 0)], -1)
    mac_of_group = np.where(group_mac >= 0, group_mac, np.asarray(records.mac, dtype=np.int64)[rec_of_group])
    row_nat = rec_nat[rec_of_row] if rec_nat.any() else None

    def per_record(values: list[int], dtype: type = np.int32) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[rec_of_row]

    def per_group(values: list[int] | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.int32)[group_of_row]

    columns = [
        pa.array(p.flow_time_ms, type=pa.timestamp("ms", tz="UTC")),
        pa.array(rec_ns[rec_of_row], type=pa.timestamp("ns", tz="UTC"), mask=row_nat),
        p.src_ip, p.dst_ip,
        pa.array(p.src_port, type=pa.uint16()), pa.array(p.dst_port, type=pa.uint16()),
        pa.array(p.protocol, type=pa.uint8()),
        closed_column(p.direction, DIRECTIONS), closed_column(p.decision, DECISIONS),
        closed_column(p.state, STATES), closed_column(p.encryption, p.encryption_values),
        p.counters["packets_sent"], p.counters["bytes_sent"],
        p.counters["packets_received"], p.counters["bytes_received"],
        dictionary_column(per_group(rule_codes), rule_values),
        dictionary_column(per_group(acl_codes), acl_values),
        dictionary_column(per_group(mac_of_group), strings["mac"].values),
        closed_column(np.full(n, 1 if fmt == "vnet4" else 0, dtype=np.int8), LOG_TYPES),
        pa.array(per_record(records.version, np.uint8), type=pa.uint8()),
        dictionary_column(per_record(records.resource), strings["resource"].values),
        dictionary_column(per_record(records.target), strings["target"].values),
        dictionary_column(per_record(records.blob), names),
    ]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)
