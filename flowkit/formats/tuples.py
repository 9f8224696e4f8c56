"""Parse flow tuples (comma-separated strings) in bulk with pyarrow's CSV reader.

The tuples of a blob are joined into one CSV buffer per format and parsed with
explicit column types. Clean data takes the fast path: one typed
``pyarrow.csv.read_csv`` call and a vectorised check of every value. A buffer
with a malformed line falls back to a slow path that finds exactly which lines are
bad (wrong field count, a non-number where a number belongs); every bad line is
reported with its reason, never dropped silently.

Formats (FORMATS.md):

* ``nsg1``: ts_s, src, dst, sport, dport, protocol (T|U), direction (I|O), decision (A|D)
* ``nsg2``: the 8 above, state (B|C|E), packets/bytes src->dst, packets/bytes dst->src
* ``vnet4``: ts_ms, src, dst, sport, dport, protocol (number), direction, state (B|C|E|D),
  encryption, packets/bytes src->dst, packets/bytes dst->src

Examples
--------
>>> p = parse_tuples(b"1717917209,192.0.2.1,10.0.0.10,56292,3389,T,I,D", "nsg1")
>>> int(p.protocol[0]), int(p.flow_time_ms[0]), p.bad
(6, 1717917209000, [])
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from flowkit.addresses import ipv6_text
from flowkit.schema import ENCRYPTION_DROPS, ENCRYPTION_FORM, ENCRYPTION_STATES, EPOCH_SECONDS_BELOW, STATES

__all__ = ["ParsedTuples", "parse_tuples", "check_tuples", "FIELDS"]

_V1 = ("ts", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision")
_COUNTERS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")
FIELDS: dict[str, tuple[str, ...]] = {
    "nsg1": _V1,
    "nsg2": _V1 + ("state",) + _COUNTERS,
    "vnet4": _V1[:7] + ("state", "encryption") + _COUNTERS,
}
_DICT = pa.dictionary(pa.int32(), pa.string())
_TYPES = {
    "ts": pa.int64(), "src_ip": _DICT, "dst_ip": _DICT, "src_port": pa.uint16(),
    "dst_port": pa.uint16(), "protocol": _DICT, "direction": _DICT, "decision": _DICT,
    "state": _DICT, "encryption": _DICT, "packets_sent": pa.uint64(), "bytes_sent": pa.uint64(),
    "packets_received": pa.uint64(), "bytes_received": pa.uint64(),
}
_VNET_TYPES = {**_TYPES, "protocol": pa.uint8()}
#: One-letter flags are read as raw bytes on the fast path and coded through a 256-entry table
#: (cheaper than dictionary-encoding them in the CSV reader); anything else falls back to a dictionary.
_FLAGS = ("direction", "decision", "state")
_FAST_TYPES = {"vnet4": {**_VNET_TYPES, **{f: pa.binary() for f in _FLAGS}},
               "nsg": {**_TYPES, **{f: pa.binary() for f in _FLAGS}}}
#: Slow path: what a numeric field must look like before it is cast. The fast path's integer
#: parser (pyarrow's) reads spaces or tabs around a number, leading zeros and ``0x`` hex, so these
#: do too: whether a tuple is kept must not depend on the other tuples of its batch.
_PAD = r"[ \t]*"
_SYNTAX = {name: re.compile(rf"^{_PAD}(?:{dec}|0[xX][0-9A-Fa-f]{{1,{hex_digits}}}){_PAD}$") for name, dec, hex_digits in (
    ("ts", r"-?\d{1,18}", 15), ("src_port", r"\d{1,5}", 4), ("dst_port", r"\d{1,5}", 4),
    ("protocol", r"\d{1,3}", 2),  # VNet only (a number there; NSG writes T or U)
    *((c, r"\d{0,20}", 16) for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")))}
_MAX = {"src_port": 65535, "dst_port": 65535, "protocol": 255}
#: Leading zeros of a decimal number (pyarrow reads any number of them; the digit counts above
#: are for the number without them). Not the ``0`` of ``0x``.
_LEADING_ZEROS = r"^(-?)0+([1-9]|0$)"
_UINT64_MAX_TEXT = str(2**64 - 1)
_REASON = {"ts": "invalid-timestamp"}  # the name the fast path's check gives it
_REQUIRED_TEXT = re.compile(r"^\S+$")  # addresses and flags: not empty
_UINT32_MAX = 2**32 - 1
#: pyarrow.csv block size: larger than a batch (~8 MB of JSON), so each column comes in one chunk
#: and needs no concatenation.
BLOCK_SIZE = 64 << 20
_TS_MAX = 10**14           # beyond year 5000 in milliseconds: not a timestamp
_ENCRYPTION = ENCRYPTION_FORM
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}(\.{_OCTET}){{3}}$"
_H = "[0-9A-Fa-f]{1,4}"
_IPV6 = "^(" + "|".join([  # the RFC 4291 text forms without embedded IPv4
    rf"({_H}:){{7}}{_H}", rf"({_H}:){{1,7}}:", rf"({_H}:){{1,6}}:{_H}",
    rf"({_H}:){{1,5}}(:{_H}){{1,2}}", rf"({_H}:){{1,4}}(:{_H}){{1,3}}", rf"({_H}:){{1,3}}(:{_H}){{1,4}}",
    rf"({_H}:){{1,2}}(:{_H}){{1,5}}", rf"{_H}:(:{_H}){{1,6}}", rf":((:{_H}){{1,7}}|:)",
]) + ")$"
_PROTOCOLS = {"T": 6, "U": 17}   # NSG flow logs write T or U; VNet flow logs the IANA number
_STATE_CODES = {s: i for i, s in enumerate(STATES)}
_NSG_STATE_CODES = {s: _STATE_CODES[s] for s in "BCE"}  # D (denied) is VNet's; NSG says it in the decision
_DROP_CODES = np.array([ENCRYPTION_STATES.index(s) for s in ENCRYPTION_DROPS], dtype=np.int8)


@dataclass
class ParsedTuples:
    """Typed columns of the valid tuples of one buffer, and the bad lines.

    ``valid`` is a boolean mask over the buffer's lines (None when every line is
    valid); every other array holds the valid lines only, in order.
    """

    n_lines: int
    valid: np.ndarray | None
    flow_time_ms: np.ndarray
    src_ip: pa.DictionaryArray
    dst_ip: pa.DictionaryArray
    src_port: np.ndarray
    dst_port: np.ndarray
    protocol: np.ndarray
    direction: np.ndarray          # int8 codes into schema.DIRECTIONS
    decision: np.ndarray           # int8 codes into schema.DECISIONS
    state: np.ndarray              # int8 codes into schema.STATES, -1 missing
    encryption: np.ndarray         # int8 codes into encryption_values, -1 missing
    encryption_values: list[str]
    counters: dict[str, pa.Array]  # uint32 packets, uint64 bytes, nulls where missing
    bad: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw text)


def _read(buf: bytes | bytearray, names: tuple[str, ...], types: dict, sparse: bool = False) -> pa.Table:
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(buf)),  # no copy of the buffer
        # One thread per buffer: the reader decodes two batches at once, and
        # pyarrow's own threads only added CPU time (measured 1.6 s against 1.4 s).
        read_options=pacsv.ReadOptions(column_names=list(names), use_threads=False, block_size=BLOCK_SIZE),
        parse_options=pacsv.ParseOptions(delimiter=",", quote_char=False, double_quote=False,
                                         escape_char=False, newlines_in_values=False,
                                         ignore_empty_lines=sparse),
        convert_options=pacsv.ConvertOptions(column_types={n: types[n] for n in names},
                                             null_values=[""], strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    return table.unify_dictionaries().combine_chunks()


def parse_tuples(buf: bytes | bytearray, fmt: str, n_lines: int | None = None, *,
                 sparse: bool = False) -> ParsedTuples:
    """Parse newline-separated tuples of one format.

    Parameters
    ----------
    buf : bytes
        Tuples, one per line, no trailing newline.
    fmt : {"nsg1", "nsg2", "vnet4"}
        The tuple format (decides field count and meaning).
    n_lines : int, optional
        Lines the caller put in ``buf`` (tells one empty line from none).
    sparse : bool
        Tuples are separated by runs of newlines; empty lines are not tuples
        (the in-place buffer of :class:`flowkit.formats.groups.FormatGroups`;
        ``n_lines`` is then required).

    Returns
    -------
    ParsedTuples

    Examples
    --------
    >>> p = parse_tuples(b"1663146003606,10.0.0.6,192.0.2.80,23956,443,6,O,E,NX,3,767,2,1580\\nbad", "vnet4")
    >>> p.n_lines, int(p.valid.sum()), p.bad[0][1]
    (2, 1, 'wrong-field-count')
    """
    names = FIELDS[fmt]
    if sparse and n_lines is None:
        raise ValueError("a sparse buffer needs n_lines")
    if n_lines is None:
        n_lines = buf.count(b"\n") + 1 if buf else 0
    if n_lines == 0:
        types = _VNET_TYPES if fmt == "vnet4" else _TYPES
        return _typed(pa.table({n: pa.array([], type=types[n]) for n in names}), fmt, 0, None, [])
    try:
        if not sparse and (not buf or buf[:1] == b"\n" or buf[-1:] == b"\n" or b"\n\n" in buf):
            raise pa.ArrowInvalid("empty line")  # an empty tuple string
        if b"\r" in buf:  # pyarrow ends a row at CR and at CR LF: the slow path reports the line
            raise pa.ArrowInvalid("carriage return")
        # VNet writes the protocol as a number: parse it as one (the careful path does too)
        table = _read(buf, names, _FAST_TYPES["vnet4" if fmt == "vnet4" else "nsg"], sparse)
        if table.num_rows != n_lines:
            raise pa.ArrowInvalid("line count mismatch")
        if any(table.column(n).null_count for n in names if n not in _COUNTERS):
            raise pa.ArrowInvalid("empty required field")
        parsed = _typed(table, fmt, n_lines, None, [])
    except (pa.ArrowInvalid, ValueError):
        if sparse:  # one tuple per line from here on (tuple strings hold no raw newline)
            buf, sparse = b"\n".join(filter(None, bytes(buf).split(b"\n"))), False
        parsed = _slow(bytes(buf), fmt, n_lines)
    if any(raw is None for _, _, raw in parsed.bad):
        lines = bytes(buf).split(b"\n")
        if sparse:
            lines = [line for line in lines if line]
        parsed.bad = [(i, reason, _line(lines, i) if raw is None else raw) for i, reason, raw in parsed.bad]
    return parsed


def check_tuples(table: pa.Table, fmt: str) -> ParsedTuples:
    """Check and type a table of tuple fields as the fast path reads them (``ts`` int64, addresses
    and encryption dictionaries, flags one byte each as binary, counters uint64 with nulls).

    Examples
    --------
    >>> t = pa.table({"ts": [1714557600], "src_ip": pa.array(["10.0.0.4"]).dictionary_encode(),
    ...               "dst_ip": pa.array(["bad"]).dictionary_encode(), "src_port": pa.array([1], pa.uint16()),
    ...               "dst_port": pa.array([2], pa.uint16()), "protocol": pa.array([6], pa.uint8()),
    ...               "direction": pa.array([b"O"]), "state": pa.array([b"B"]),
    ...               "encryption": pa.array(["X"]).dictionary_encode()})
    >>> check_tuples(t, "vnet4").bad
    [(0, 'invalid-address', None)]
    """
    return _typed(table, fmt, table.num_rows, None, [])


def _slow(buf: bytes, fmt: str, n_lines: int) -> ParsedTuples:
    """Find the bad lines one by one; parse the rest as strings, check, then cast."""
    names = FIELDS[fmt]
    lines = buf.split(b"\n")
    valid = np.ones(len(lines), dtype=bool)
    bad: list[tuple[int, str, str]] = []
    want = len(names) - 1
    for i, line in enumerate(lines):
        if line.count(b",") != want:
            valid[i] = False
            bad.append((i, "wrong-field-count", line.decode("utf-8", "replace")))
            continue
        try:
            line.decode("utf-8")
            clean = b"\r" not in line
        except UnicodeDecodeError:
            clean = False
        if not clean:
            valid[i] = False
            bad.append((i, "invalid-characters", line.decode("utf-8", "replace")))
    good_idx = np.flatnonzero(valid)
    good = b"\n".join(lines[i] for i in good_idx)
    if len(good_idx):
        table = _read(good, names, {n: pa.string() for n in names})
    else:
        table = pa.table({n: pa.array([], type=pa.string()) for n in names})
    ok = np.ones(table.num_rows, dtype=bool)
    columns = {}
    types = _VNET_TYPES if fmt == "vnet4" else _TYPES  # the fast path reads a VNet protocol as a number
    for name in names:
        col = table.column(name)
        if name in _SYNTAX and types[name] != _DICT:
            col = pc.replace_substring_regex(pc.utf8_trim(col, " \t"), _LEADING_ZEROS, r"\1\2")
            match = pc.match_substring_regex(col, _SYNTAX[name].pattern).to_numpy(zero_copy_only=False)
            if name in _MAX:
                nums = pc.cast(pc.if_else(match, col, "0"), pa.int64()).to_numpy()
                match &= nums <= _MAX[name]
            elif name in _COUNTERS:  # 20 digits can exceed 2**64 - 1
                long = pc.equal(pc.utf8_length(col), 20).to_numpy(zero_copy_only=False)
                if long.any():
                    match &= ~(long & pc.greater(col, _UINT64_MAX_TEXT).to_numpy(zero_copy_only=False))
            reason = _REASON.get(name, f"invalid-{name.replace('_', '-')}")
            for j in np.flatnonzero(~match & ok):
                bad.append((int(good_idx[j]), reason, _line(lines, good_idx[j])))
            ok &= match
            filled = pc.if_else(pa.array(match), col, "" if name in _COUNTERS else "0")
            filled = pc.if_else(pc.equal(filled, ""), pa.scalar(None, pa.string()), filled)
            columns[name] = pc.cast(filled, types[name])
        elif types[name] == _DICT:
            match = pc.match_substring_regex(col, _REQUIRED_TEXT.pattern).to_numpy(zero_copy_only=False)
            # the reason the fast path gives an empty value (a tuple's reason must not depend on its batch)
            reason = "invalid-address" if name in ("src_ip", "dst_ip") else f"invalid-{name.replace('_', '-')}"
            for j in np.flatnonzero(~match & ok):
                bad.append((int(good_idx[j]), reason, _line(lines, good_idx[j])))
            ok &= match
            columns[name] = pc.dictionary_encode(col).combine_chunks()
        else:
            columns[name] = col
    typed = pa.table(columns).filter(pa.array(ok))
    valid[good_idx[~ok]] = False
    bad.sort()
    return _typed(typed, fmt, n_lines, valid, bad)


def _line(lines: list[bytes], i: int) -> str:
    return lines[i].decode("utf-8", "replace")


def _dict_codes(arr: pa.DictionaryArray, mapping, dtype: type = np.int8) -> tuple[np.ndarray, np.ndarray]:
    """Map a dictionary column through ``mapping(value) -> int or None``.

    Returns (codes per row, bool mask of rows whose value is invalid, or None
    when every distinct value is valid). Each distinct value is looked at once.
    """
    values = arr.dictionary.to_pylist()
    table = np.array([(-1 if (m := mapping(v)) is None else m) for v in values] or [-1], dtype=dtype)
    idx = arr.indices.to_numpy(zero_copy_only=False)
    codes = table[idx] if len(idx) else np.empty(0, dtype=dtype)
    return codes, (codes < 0 if (table < 0).any() else None)


def _flag_codes(arr: pa.Array, mapping) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_dict_codes` for a one-letter flag column read as bytes (or as a dictionary).

    When every value is one byte long (the rule), the bytes are coded through a 256-entry
    table; otherwise (an empty or longer value) the column is dictionary-encoded and coded
    value by value, so that a bad value is reported as it always was.
    """
    if pa.types.is_dictionary(arr.type):
        return _dict_codes(arr, mapping)
    if arr.null_count == 0 and len(arr):
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
        # every value exactly one ASCII byte (n bytes in all is not enough: an empty value and a
        # two-letter one would shift the rows between them); anything else goes the careful way,
        # where bytes that are not UTF-8 make the buffer take the slow path, as before
        if offsets[-1] - offsets[0] == len(arr) and data.max() < 128 and not (np.diff(offsets) != 1).any():
            table = np.array([-1 if (m := mapping(chr(b))) is None else m for b in range(256)], dtype=np.int8)
            codes = table[data]
            invalid = codes < 0
            return codes, (invalid if invalid.any() else None)
    return _dict_codes(pc.dictionary_encode(pc.cast(arr, pa.string())), mapping)


def _protocol_code(fmt: str):
    """``value -> IANA number or None`` for the protocol field of an NSG format (``T`` or ``U``).

    VNet tuples write a number, which both parse paths read as one (``uint8``).

    Examples
    --------
    >>> [_protocol_code("nsg2")(v) for v in ("T", "u", "6", "TCP")]
    [6, 17, None, None]
    """
    return lambda v: _PROTOCOLS.get(v.upper())


def _invalid_addresses(arr: pa.DictionaryArray) -> np.ndarray | None:
    """Rows whose address is neither IPv4 nor IPv6, checking each distinct value once.

    Dotted-quad IPv4 is matched in bulk (RE2); only the rest (IPv6, junk) goes
    through :mod:`ipaddress`.
    """
    values = arr.dictionary
    ok = pc.match_substring_regex(values, _IPV4).to_numpy(zero_copy_only=False)
    if not ok.all():
        ok |= pc.match_substring_regex(values, _IPV6).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~ok):  # rare forms (embedded IPv4, zone IDs) and junk
        try:
            ipaddress.ip_address(values[i].as_py())
            ok[i] = True
        except ValueError:
            pass
    if ok.all():
        return None
    idx = arr.indices.to_numpy(zero_copy_only=False)
    return ~ok[idx]


#: IPv6 text that may not be in RFC 5952 form: upper-case hex, a group with a leading zero, two zero
#: groups in a row, or an embedded dotted quad (IPv4 text has none of these; what matches and is
#: not IPv6 is left as it is).
_MAYBE_NOT_CANONICAL = r"[A-F]|(^|:)0[0-9a-fA-F]|(^|:)0:0(:|$)|:.*\."


def canonical_ipv6(arr: pa.DictionaryArray) -> pa.DictionaryArray:
    """The addresses of ``arr`` with every IPv6 one in its RFC 5952 form (one spelling per address).

    IPv6 has many spellings of one address (``2001:DB8:0:0::9``, ``2001:db8::9``); as with
    MACs, flowkit keeps one, so that filters, sessions and graphs see one address. Each
    distinct value is looked at once; values that are not addresses are left as they are.

    Examples
    --------
    >>> arr = pa.array(["2001:DB8:2:0:0:0:0:9", "192.0.2.1", "2001:db8:2::9"]).dictionary_encode()
    >>> out = canonical_ipv6(arr)
    >>> out.to_pylist(), out.dictionary.to_pylist()
    (['2001:db8:2::9', '192.0.2.1', '2001:db8:2::9'], ['2001:db8:2::9', '192.0.2.1'])
    """
    values = arr.dictionary
    odd = pc.match_substring_regex(values, _MAYBE_NOT_CANONICAL).to_numpy(zero_copy_only=False) \
        if len(values) else np.zeros(0, dtype=bool)
    if not odd.any():  # the rule: Azure writes the canonical form
        return arr
    texts = values.to_pylist()
    canonical = list(texts)
    for i in np.flatnonzero(odd).tolist():
        try:
            canonical[i] = ipv6_text(ipaddress.IPv6Address(texts[i]))
        except ValueError:  # not an address: reported by the address check
            pass
    if canonical == texts:
        return arr
    uniq = list(dict.fromkeys(canonical))
    position = {v: i for i, v in enumerate(uniq)}
    remap = np.array([position[v] for v in canonical], dtype=np.int32)
    mask = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    codes = arr.indices if mask is None else arr.indices.fill_null(0)  # to_numpy makes nulls NaN
    indices = remap[codes.to_numpy(zero_copy_only=False)]
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=mask), pa.array(uniq, type=values.type))


def _typed(table: pa.Table, fmt: str, n_lines: int, valid: np.ndarray | None,
           bad: list[tuple[int, str, str]]) -> ParsedTuples:
    """Check the meaning of every value (vectorised) and build the typed columns."""
    n = table.num_rows
    reasons: list[tuple[np.ndarray, str]] = []

    ts = table.column("ts").to_numpy()
    if n and (ts.min() < 0 or ts.max() >= _TS_MAX):
        reasons.append(((ts < 0) | (ts >= _TS_MAX), "invalid-timestamp"))
    flow_ms = np.where(ts < EPOCH_SECONDS_BELOW, ts * 1000, ts)

    ip_cols = {}
    for name in ("src_ip", "dst_ip"):
        arr = table.column(name)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        reasons.append((_invalid_addresses(arr), "invalid-address"))
        ip_cols[name] = canonical_ipv6(arr)

    def col(name: str) -> pa.DictionaryArray:
        arr = table.column(name)
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr

    if pa.types.is_integer(table.column("protocol").type):
        protocol = table.column("protocol").to_numpy()
    else:
        protocol, invalid = _dict_codes(col("protocol"), _protocol_code(fmt), np.int16)
        reasons.append((invalid, "invalid-protocol"))
    direction, invalid = _flag_codes(col("direction"), {"I": 0, "O": 1}.get)
    reasons.append((invalid, "invalid-direction"))

    state = np.full(n, -1, dtype=np.int8)
    if "state" in table.column_names:
        state, invalid = _flag_codes(col("state"), (_STATE_CODES if fmt == "vnet4" else _NSG_STATE_CODES).get)
        reasons.append((invalid, "invalid-state"))

    encryption = np.full(n, -1, dtype=np.int8)
    enc_values = list(ENCRYPTION_STATES)
    if "encryption" in table.column_names:
        def enc_code(v: str) -> int | None:
            if not _ENCRYPTION.match(v) or (v not in enc_values and len(enc_values) >= 127):
                return None  # not an encryption state (or absurdly many kinds: int8 codes)
            if v not in enc_values:
                enc_values.append(v)  # a reason Azure added later: kept, not dropped
            return enc_values.index(v)

        encryption, invalid = _dict_codes(col("encryption"), enc_code)
        reasons.append((invalid, "invalid-encryption"))

    if "decision" in table.column_names:
        decision, invalid = _flag_codes(col("decision"), {"A": 0, "D": 1}.get)
        reasons.append((invalid, "invalid-decision"))
    else:  # VNet: state D, or an encryption state whose packets are dropped, is a deny
        denied = (state == _STATE_CODES["D"]) | np.isin(encryption, _DROP_CODES)
        decision = denied.view(np.int8)

    counters: dict[str, pa.Array] = {}
    for name in _COUNTERS:
        if name in table.column_names:
            arr = table.column(name)
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            if name.startswith("packets") and (pc.max(arr).as_py() or 0) > _UINT32_MAX:
                over = pc.fill_null(pc.greater(arr, _UINT32_MAX), False).to_numpy(zero_copy_only=False)
                reasons.append((over, "counter-out-of-range"))
            counters[name] = arr
        else:
            counters[name] = pa.nulls(n, pa.uint64())

    active = [(mask, reason) for mask, reason in reasons if mask is not None and mask.any()]
    bad_mask = np.zeros(n if active else 0, dtype=bool)
    row_reason = np.empty(n if active else 0, dtype=object)
    for mask, reason in active:  # the first reason that applies to a row is its reason
        new = mask & ~bad_mask
        row_reason[new] = reason
        bad_mask |= new

    line_of_row = np.flatnonzero(valid) if valid is not None else np.arange(n)
    if active:
        keep = ~bad_mask
        for j in np.flatnonzero(bad_mask):
            bad.append((int(line_of_row[j]), row_reason[j], None))  # raw text filled by the caller
        bad.sort()
        if valid is None:
            valid = np.ones(n_lines, dtype=bool)
        valid[line_of_row[bad_mask]] = False
        keep_arr = pa.array(keep)
        flow_ms, protocol, direction = flow_ms[keep], protocol[keep], direction[keep]
        decision, state, encryption = decision[keep], state[keep], encryption[keep]
        ip_cols = {k: v.filter(keep_arr) for k, v in ip_cols.items()}
        counters = {k: v.filter(keep_arr) for k, v in counters.items()}
        src_port = table.column("src_port").to_numpy()[keep]
        dst_port = table.column("dst_port").to_numpy()[keep]
    else:
        src_port = table.column("src_port").to_numpy()
        dst_port = table.column("dst_port").to_numpy()
    counters = {k: (pc.cast(v, pa.uint32()) if k.startswith("packets") else v) for k, v in counters.items()}
    return ParsedTuples(
        n_lines=n_lines, valid=valid, flow_time_ms=flow_ms.astype(np.int64, copy=False),
        src_ip=ip_cols["src_ip"], dst_ip=ip_cols["dst_ip"],
        src_port=src_port.astype(np.uint16, copy=False), dst_port=dst_port.astype(np.uint16, copy=False),
        protocol=protocol.astype(np.uint8, copy=False), direction=direction.astype(np.int8, copy=False),
        decision=decision.astype(np.int8, copy=False), state=state.astype(np.int8, copy=False),
        encryption=encryption.astype(np.int8, copy=False), encryption_values=enc_values,
        counters=counters, bad=bad,
    )
