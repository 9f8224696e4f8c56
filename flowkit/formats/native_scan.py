"""A compiled scanner of whole flow-log blobs, in the one form Azure writes them.

One pass over a batch of blobs (numba, the GIL released): the JSON skeleton is
checked byte by byte against the VNet v4 or the NSG v1/v2 record layout of FORMATS.md
(one of the three per batch), and every flow tuple is split into typed fields on the
way; text values (addresses, encryption, MACs, resource IDs, rule, aclID) are coded
through hash tables in first-seen order, as ``pyarrow.csv`` and ``pandas.factorize``
code them on the general path. Anything the scanner does not fully understand
(another key, a key given twice, a string escape, a byte outside printable ASCII, a
number where it wants digits, a record time not in the form
``YYYY-MM-DDTHH:MM:SS[.f]Z``, a MAC not in 12 upper-case hex digits, formats mixed
in one batch, a damaged or cut blob) makes it stop with a non-zero status, and the
caller reads the batch on the general path, which handles and reports all of that.
So the scanner never decides what is valid: it only recognises the common case.

The module is longer than flowkit's others on purpose: numba's cache of compiled
functions is checked against the file each function is defined in, not against the
files of the functions it inlines, so the scanner and every helper it inlines live in
one file (a helper edited elsewhere would leave a stale compiled scanner behind).

Examples
--------
>>> blob = (b'{"records":[{"time":"2024-05-01T10:00:52.5625085Z","flowLogVersion":4,'
...         b'"macAddress":"000D3A000001","flowLogResourceID":"/R","targetResourceID":"/T",'
...         b'"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":'
...         b'["1714557600000,10.0.0.4,192.0.2.10,50000,443,6,O,E,X,3,767,2,1580"]}]}]}}]}')
>>> out = scan_blobs(np.frombuffer(blob, np.uint8), np.array([0, len(blob)]))
>>> out.status, out.n_records, out.n_groups, out.n_tuples, int(out.ts[0]), int(out.counters[1, 0])
(0, 1, 1, 1, 1714557600000, 767)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = ["scan_blobs", "warm_up", "Scanned", "TABLES", "KINDS", "OK", "NEED_ROOM"]

#: The keys the scanner knows, in the order of their codes.
_KEYS = (b"records", b"time", b"flowLogVersion", b"flowLogGUID", b"macAddress", b"category",
         b"flowLogResourceID", b"targetResourceID", b"operationName", b"flowRecords", b"flows",
         b"aclID", b"flowGroups", b"rule", b"flowTuples",
         b"systemId", b"resourceId", b"properties", b"Version", b"mac")  # the last five: NSG's
(_K_RECORDS, _K_TIME, _K_VERSION, _K_GUID, _K_MAC, _K_CATEGORY, _K_RESOURCE, _K_TARGET, _K_OPERATION,
 _K_FLOWRECORDS, _K_FLOWS, _K_ACL, _K_GROUPS, _K_RULE, _K_TUPLES,
 _K_SYSTEM, _K_NSG_RESOURCE, _K_PROPERTIES, _K_NSG_VERSION, _K_GROUP_MAC) = range(len(_KEYS))
_KEY_BYTES = np.zeros((len(_KEYS), max(map(len, _KEYS))), dtype=np.uint8)
for _i, _k in enumerate(_KEYS):
    _KEY_BYTES[_i, :len(_k)] = np.frombuffer(_k, dtype=np.uint8)
_KEY_LEN = np.array([len(k) for k in _KEYS], dtype=np.int64)
#: The hash tables, one per text column, in the order of their rows in ``Scanned.codes``' tables.
TABLES = ("src_ip", "dst_ip", "encryption", "mac", "resource", "target", "rule", "acl", "group_mac")
_SRC, _DST, _ENC, _MAC, _RES, _TGT, _RULE, _ACL, _GMAC = range(len(TABLES))
#: The batch's one tuple format (``Scanned.kind``): NSG version 1 or 2, or VNet version 4; a batch
#: that mixes them is not the common form.
KINDS = {1: "nsg1", 2: "nsg2", 4: "vnet4"}
#: Statuses: the batch was read; a hash table is half full (scan again with more room); anything
#: else (negative) is where the scanner gave up, for the general path.
OK, NEED_ROOM = 0, 1
_FAIL = -1
#: Records a whole record needs at least (its required keys alone), a group, a tuple string:
#: the output arrays are sized from the input's length by these.
_MIN_RECORD_BYTES, _MIN_GROUP_BYTES, _MIN_TUPLE_BYTES = 96, 27, 23
#: Byte classes inside strings: 0 printable ASCII, 1 the quote, 2 the comma, 3 anything the scanner
#: does not take (a backslash escape, a control byte, a space in a tuple field, non-ASCII).
_CLASS = np.full(256, 3, dtype=np.uint8)
_CLASS[32:127] = 0
_CLASS[34], _CLASS[44], _CLASS[92] = 1, 2, 3
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class Scanned:
    """What :func:`scan_blobs` read: per record, per tuple group and per tuple (arrays cut to length).

    Attributes
    ----------
    status : int
        ``OK``; ``NEED_ROOM``; negative: not the common form (read on the general path).
    n_records, n_groups, n_tuples : int
    kind : int
        The batch's tuple format, a key of :data:`KINDS` (0: no record).
    record_blob, record_time_ns, record_codes : numpy.ndarray
        Blob of each record, its time (ns since the epoch, UTC), its MAC, resource and target
        codes (NSG: no target, -1).
    group_record, group_codes, group_tuples : numpy.ndarray
        Record of each group that holds tuples, its rule, aclID and MAC codes (aclID: VNet,
        MAC: NSG; -1 for the other), its tuple count.
    ts, text_codes, ports, small, counters, present : numpy.ndarray
        Tuple fields: timestamp; src, dst, encryption codes (NSG: no encryption); src, dst port;
        protocol (NSG's T and U as 6 and 17), direction byte, state byte, decision byte (VNet:
        none; NSG v1: no state); the four counters and whether each was given.
    starts, lengths, entries : numpy.ndarray
        Each table's values as spans of the input (``entries`` values per table).
    """

    status: int
    n_records: int = 0
    n_groups: int = 0
    n_tuples: int = 0
    kind: int = 0
    record_blob: np.ndarray | None = None
    record_time_ns: np.ndarray | None = None
    record_codes: np.ndarray | None = None
    group_record: np.ndarray | None = None
    group_codes: np.ndarray | None = None
    group_tuples: np.ndarray | None = None
    ts: np.ndarray | None = None
    text_codes: np.ndarray | None = None
    ports: np.ndarray | None = None
    small: np.ndarray | None = None
    counters: np.ndarray | None = None
    present: np.ndarray | None = None
    starts: np.ndarray | None = None
    lengths: np.ndarray | None = None
    entries: np.ndarray | None = None


def warm_up() -> None:
    """Load (or compile, the first time on a machine) the scanner's machine code now.

    Examples
    --------
    >>> warm_up()
    """
    scan_blobs(np.frombuffer(b'{"records":[]}', dtype=np.uint8), np.array([0, 14]))


def scan_blobs(buf: np.ndarray, bounds: np.ndarray, room: int = 1 << 14) -> Scanned:
    """Scan the blobs ``buf[bounds[i]:bounds[i + 1]]``; a status other than ``OK`` reads nothing.

    Parameters
    ----------
    buf : numpy.ndarray
        The blobs end to end (``uint8``).
    bounds : numpy.ndarray
        Where each blob starts, and the end of the last.
    room : int
        Slots of each hash table to start with (a power of two); grown when one is half full.

    Examples
    --------
    >>> scan_blobs(np.frombuffer(b'{"records":[{"time":1}]}', np.uint8), np.array([0, 24])).status < 0
    True
    """
    n = len(buf)
    bounds = np.asarray(bounds, dtype=np.int64)
    while True:
        out = _scan(buf, bounds, n // _MIN_RECORD_BYTES + 2, n // _MIN_GROUP_BYTES + 2,
                    n // _MIN_TUPLE_BYTES + 2, room)
        if out[0] != NEED_ROOM:
            break
        room *= 8
    (status, sizes, rec_blob, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
     counters, present, starts, lengths, entries) = out
    if status != OK:
        return Scanned(int(status))
    r, g, t, kind = (int(x) for x in sizes)
    return Scanned(OK, r, g, t, kind, rec_blob[:r], rec_time[:r], rec_codes[:, :r], grp_rec[:g], grp_codes[:, :g],
                   grp_n[:g], ts[:t], text[:, :t], ports[:, :t], small[:, :t], counters[:, :t], present[:, :t],
                   starts, lengths, entries)


@nb.njit(nogil=True, cache=True, inline="always")
def _ws(buf, pos, end):
    while pos < end:
        b = buf[pos]
        if b == 32 or b == 10 or b == 13 or b == 9:
            pos += 1
        else:
            break
    return pos


@nb.njit(nogil=True, cache=True, inline="always")
def _after_element(buf, p, end):
    """After an array element: (the next element's position, True) after a comma, (the position
    after the closing bracket, False), or (-1, False) for anything else."""
    p = _ws(buf, p, end)
    if p < end and buf[p] == 44:
        return _ws(buf, p + 1, end), True
    if p < end and buf[p] == 93:
        return p + 1, False
    return -1, False


@nb.njit(nogil=True, cache=True, inline="always")
def _closed(buf, p, end):
    """The position after the ``}`` that must come next (spaces allowed), or -1."""
    p = _ws(buf, p, end)
    if p >= end or buf[p] != 125:
        return -1
    return p + 1


@nb.njit(nogil=True, cache=True, inline="always")
def _string_end(buf, pos, end):
    """Index of the quote closing the string opened at ``pos``; -1 for an escape, a byte
    outside printable ASCII, or no closing quote."""
    if pos >= end or buf[pos] != 34:
        return -1
    i = pos + 1
    while i < end:
        c = _CLASS[buf[i]]
        if c == 1:
            return i
        if c == 3:
            return -1
        i += 1
    return -1


@nb.njit(nogil=True, cache=True)
def _key(buf, pos, end):
    """The code of the key at ``pos`` and the position after its colon; (-1, -1) if unknown."""
    close = _string_end(buf, pos, end)
    if close < 0:
        return -1, -1
    ln = close - pos - 1
    for k in range(_KEY_BYTES.shape[0]):
        if _KEY_LEN[k] == ln:
            same = True
            for i in range(ln):
                if buf[pos + 1 + i] != _KEY_BYTES[k, i]:
                    same = False
                    break
            if same:
                p = _ws(buf, close + 1, end)
                if p >= end or buf[p] != 58:
                    return -1, -1
                return k, _ws(buf, p + 1, end)
    return -1, -1


@nb.njit(nogil=True, cache=True, inline="always")
def _tail(buf, s, e):
    """The last (up to) 8 bytes of ``buf[s:e]`` packed into an integer."""
    tail = np.uint64(0)
    for i in range(max(s, e - 8), e):
        tail = (tail << np.uint64(8)) | np.uint64(buf[i])
    return tail


@nb.njit(nogil=True, cache=True, inline="always")
def _code(buf, s, e, tail, tables, starts, lengths, packed, entries, j):
    """The code of ``buf[s:e]`` (whose last 8 bytes are ``tail``) in table ``j``, added when new;
    -1 when the table is half full. Values are compared by length and tail first."""
    ln = e - s
    mask = tables.shape[1] - 1
    h = (tail ^ (np.uint64(ln) << np.uint64(56))) * _GOLDEN
    slot = np.int64((h >> np.uint64(40)) & np.uint64(mask))
    while True:
        c = tables[j, slot]
        if c < 0:
            m = entries[j]
            if 2 * (m + 1) > tables.shape[1]:
                return -1
            tables[j, slot] = m
            starts[j, m] = s
            lengths[j, m] = ln
            packed[j, m] = tail
            entries[j] = m + 1
            return m
        if lengths[j, c] == ln and packed[j, c] == tail:
            st = starts[j, c]
            same = True
            for k in range(ln - 8):
                if buf[st + k] != buf[s + k]:
                    same = False
                    break
            if same:
                return c
        slot = (slot + 1) & mask


@nb.njit(nogil=True, cache=True, inline="always")
def _digits(buf, pos, end, most):
    """(value, position after) of 1 to ``most`` decimal digits at ``pos``; value -1 if none or too many."""
    v = np.int64(0)
    i = pos
    while i < end:
        d = np.int64(buf[i]) - 48
        if d < 0 or d > 9:
            break
        v = v * 10 + d
        i += 1
    if i == pos or i - pos > most:
        return -1, i
    return v, i


@nb.njit(nogil=True, cache=True, inline="always")
def _text_end(buf, pos, end):
    """End of a text field (an address, the encryption state): printable ASCII up to a comma,
    and its last 8 bytes packed; end -1 if empty or holding a quote, a backslash, a space or any
    other byte."""
    i = pos
    tail = np.uint64(0)
    while i < end:
        b = buf[i]
        c = _CLASS[b]
        if c == 2:
            break
        if c != 0 or b == 32:
            return -1, tail
        tail = (tail << np.uint64(8)) | np.uint64(b)
        i += 1
    if i == pos or i >= end:
        return -1, tail
    return i, tail


@nb.njit(nogil=True, cache=True)
def _days_from_civil(y, m, d):
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(nogil=True, cache=True, inline="always")
def _two(buf, p):
    a = np.int64(buf[p]) - 48
    b = np.int64(buf[p + 1]) - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


@nb.njit(nogil=True, cache=True)
def _time_ns(buf, s, e):
    """``YYYY-MM-DDTHH:MM:SS[.f…]Z`` (1 to 9 fractional digits, years 1970-2199) as ns; -1 otherwise."""
    if e - s < 20 or buf[e - 1] != 90:
        return -1
    if buf[s + 4] != 45 or buf[s + 7] != 45 or buf[s + 10] != 84 or buf[s + 13] != 58 or buf[s + 16] != 58:
        return -1
    hi, lo = _two(buf, s), _two(buf, s + 2)
    month, day, hour = _two(buf, s + 5), _two(buf, s + 8), _two(buf, s + 11)
    minute, second = _two(buf, s + 14), _two(buf, s + 17)
    if min(hi, lo, month, day, hour, minute, second) < 0:
        return -1
    year = hi * 100 + lo
    if year < 1970 or year > 2199 or month < 1 or month > 12 or day < 1 or hour > 23 or minute > 59 or second > 59:
        return -1
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if day > month_days[month - 1]:
        return -1
    frac = np.int64(0)
    if e - s > 20:
        if buf[s + 19] != 46:
            return -1
        n_digits = e - 1 - (s + 20)
        if n_digits < 1 or n_digits > 9:
            return -1
        for i in range(s + 20, e - 1):
            d = np.int64(buf[i]) - 48
            if d < 0 or d > 9:
                return -1
            frac = frac * 10 + d
        for _ in range(9 - n_digits):
            frac *= 10
    seconds = ((_days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second
    return seconds * 1_000_000_000 + frac


@nb.njit(nogil=True, cache=True)
def _tuple(buf, pos, end, row, ts, text, ports, small, counters, present, tables, starts, lengths, packed, entries):
    """Parse the tuple string opened at ``pos`` into row ``row``; the position after its closing
    quote, -1 if it is not in the common form, -2 if a hash table needs room."""
    p = pos + 1
    v = np.int64(0)
    ok = p + 13 < end and buf[p + 13] == 44  # 13 digits, a VNet time in ms: no branch per digit
    if ok:
        for k in range(13):
            d = np.int64(buf[p + k]) - 48
            ok &= (d >= 0) & (d <= 9)
            v = v * 10 + d
    if ok:
        p += 13
    else:
        v, p = _digits(buf, pos + 1, end, 18)
        if v < 0 or p >= end or buf[p] != 44:
            return -1
    ts[row] = v
    for j in range(2):  # source and destination addresses
        q, tail = _text_end(buf, p + 1, end)
        if q < 0:
            return -1
        c = _code(buf, p + 1, q, tail, tables, starts, lengths, packed, entries, j)
        if c < 0:
            return -2
        text[j, row] = c
        p = q
    for j in range(2):  # ports
        v, p = _digits(buf, p + 1, end, 5)
        if v < 0 or v > 65535 or p >= end or buf[p] != 44:
            return -1
        ports[j, row] = v
    v, p = _digits(buf, p + 1, end, 3)
    if v < 0 or v > 255 or p + 4 >= end or buf[p] != 44:
        return -1
    small[0, row] = v
    for j in range(1, 3):  # direction, state: one byte each
        b = buf[p + 1]
        if b < 33 or b > 126 or b == 34 or b == 44 or b == 92 or buf[p + 2] != 44:
            return -1
        small[j, row] = b
        p += 2
    q, tail = _text_end(buf, p + 1, end)
    if q < 0:
        return -1
    c = _code(buf, p + 1, q, tail, tables, starts, lengths, packed, entries, _ENC)
    if c < 0:
        return -2
    text[2, row] = c
    p = q
    for j in range(4):  # counters: digits, or empty (not given)
        v, q = _digits(buf, p + 1, end, 19)
        if q == p + 1:
            present[j, row] = False
            counters[j, row] = 0
        elif v < 0:
            return -1
        else:
            present[j, row] = True
            counters[j, row] = v
        p = q
        if p >= end or buf[p] != (44 if j < 3 else 34):
            return -1
    return p + 1


@nb.njit(nogil=True, cache=True)
def _nsg_tuple(buf, pos, end, row, v, ts, text, ports, small, counters, present, tables, starts, lengths, packed,
               entries):
    """Parse the NSG tuple string (version ``v``: 8 or 13 fields) opened at ``pos`` into row ``row``;
    as :func:`_tuple`. The protocol must be ``T`` or ``U`` (6, 17)."""
    v_ts, p = _digits(buf, pos + 1, end, 18)
    if v_ts < 0 or p >= end or buf[p] != 44:
        return -1
    ts[row] = v_ts
    for j in range(2):  # source and destination addresses
        q, tail = _text_end(buf, p + 1, end)
        if q < 0:
            return -1
        c = _code(buf, p + 1, q, tail, tables, starts, lengths, packed, entries, j)
        if c < 0:
            return -2
        text[j, row] = c
        p = q
    for j in range(2):  # ports
        n, p = _digits(buf, p + 1, end, 5)
        if n < 0 or n > 65535 or p >= end or buf[p] != 44:
            return -1
        ports[j, row] = n
    if p + 6 >= end or buf[p + 2] != 44:
        return -1
    b = buf[p + 1]
    if b == 84:  # T
        small[0, row] = 6
    elif b == 85:  # U
        small[0, row] = 17
    else:
        return -1
    p += 2
    text[2, row] = -1  # no encryption state
    fields = 2 if v == 1 else 3  # direction, decision (, state)
    for f in range(fields):
        b = buf[p + 1]
        after = buf[p + 2]
        if b < 33 or b > 126 or b == 34 or b == 44 or b == 92 or after != (34 if f == fields - 1 and v == 1 else 44):
            return -1
        small[1 if f == 0 else (3 if f == 1 else 2), row] = b
        p += 2
        if p + 2 >= end:
            return -1
    if v == 1:
        for j in range(4):
            present[j, row] = False
            counters[j, row] = 0
        return p + 1
    for j in range(4):  # counters: digits, or empty (B tuples)
        n, q = _digits(buf, p + 1, end, 19)
        if q == p + 1:
            present[j, row] = False
            counters[j, row] = 0
        elif n < 0:
            return -1
        else:
            present[j, row] = True
            counters[j, row] = n
        p = q
        if p >= end or buf[p] != (44 if j < 3 else 34):
            return -1
    return p + 1


@nb.njit(nogil=True, cache=True)
def _scan(buf, bounds, cap_rec, cap_grp, cap_tup, room):
    n_tables = 9
    rec_blob = np.empty(cap_rec, np.int32)
    rec_time = np.empty(cap_rec, np.int64)
    rec_codes = np.empty((3, cap_rec), np.int32)
    grp_rec = np.empty(cap_grp, np.int32)
    grp_codes = np.empty((3, cap_grp), np.int32)
    grp_n = np.empty(cap_grp, np.int64)
    ts = np.empty(cap_tup, np.int64)
    text = np.empty((3, cap_tup), np.int32)
    ports = np.empty((2, cap_tup), np.uint16)
    small = np.empty((4, cap_tup), np.uint8)
    counters = np.empty((4, cap_tup), np.uint64)
    present = np.empty((4, cap_tup), np.bool_)
    tables = np.full((n_tables, room), -1, np.int32)
    starts = np.empty((n_tables, room // 2), np.int64)
    lengths = np.empty((n_tables, room // 2), np.int64)
    packed = np.empty((n_tables, room // 2), np.uint64)
    entries = np.zeros(n_tables, np.int64)
    sizes = np.zeros(4, np.int64)
    status = _blobs(buf, bounds, sizes, rec_blob, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text,
                    ports, small, counters, present, tables, starts, lengths, packed, entries)
    return (status, sizes, rec_blob, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
            counters, present, starts, lengths, entries)


@nb.njit(nogil=True, cache=True)
def _blobs(buf, bounds, sizes, rec_blob, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text, ports,
           small, counters, present, tables, starts, lengths, packed, entries):
    """Every blob, ``{"records":[record, …]}``; the status (sizes: records, groups, tuples read, kind)."""
    for b in range(len(bounds) - 1):
        end = bounds[b + 1]
        p = _ws(buf, bounds[b], end)
        if p >= end or buf[p] != 123:
            return _FAIL
        k, p = _key(buf, _ws(buf, p + 1, end), end)
        if k != _K_RECORDS or p >= end or buf[p] != 91:
            return _FAIL
        p = _ws(buf, p + 1, end)
        if p < end and buf[p] == 93:
            p += 1
        else:
            while True:
                r = sizes[0]
                if r >= len(rec_blob):
                    return _FAIL
                p = _record(buf, p, end, r, sizes, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text,
                            ports, small, counters, present, tables, starts, lengths, packed, entries)
                if p < 0:
                    return NEED_ROOM if p == -2 else _FAIL
                rec_blob[r] = b
                sizes[0] = r + 1
                p, more = _after_element(buf, p, end)
                if p < 0:
                    return _FAIL
                if not more:
                    break
        p = _ws(buf, p, end)
        if p >= end or buf[p] != 125 or _ws(buf, p + 1, end) != end:
            return _FAIL
    return OK


@nb.njit(nogil=True, cache=True)
def _record(buf, p, end, r, sizes, rec_time, rec_codes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
            counters, present, tables, starts, lengths, packed, entries):
    """One VNet or NSG record at ``p``; the position after it, -1 (not the common form), -2 (need room).

    Its kind (``flowRecords``: VNet 4; ``properties``: NSG, its ``Version``) must be the batch's."""
    if p >= end or buf[p] != 123:
        return -1
    seen = 0
    rec_codes[2, r] = -1  # NSG records have no target
    p = _ws(buf, p + 1, end)
    while True:
        k, p = _key(buf, p, end)
        if k < 0 or (seen >> k) & 1:
            return -1
        seen |= 1 << k
        if k == _K_VERSION:  # the one digit 4 (JSON has no leading zeros: 04 is not read as 4)
            v, p = _digits(buf, p, end, 1)
            if v != 4:
                return -1
        elif k == _K_FLOWRECORDS:
            if sizes[3] != 0 and sizes[3] != 4:
                return -1
            sizes[3] = 4
            p = _flow_records(buf, p, end, r, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
                              counters, present, tables, starts, lengths, packed, entries)
            if p < 0:
                return p
        elif k == _K_PROPERTIES:
            p = _properties(buf, p, end, r, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
                            counters, present, tables, starts, lengths, packed, entries)
            if p < 0:
                return p
        elif k == _K_TIME or k == _K_GUID or k == _K_MAC or k == _K_CATEGORY or k == _K_RESOURCE \
                or k == _K_TARGET or k == _K_OPERATION or k == _K_SYSTEM or k == _K_NSG_RESOURCE:
            close = _string_end(buf, p, end)
            if close < 0:
                return -1
            s, e = p + 1, close
            p = close + 1
            if k == _K_TIME:
                t = _time_ns(buf, s, e)
                if t < 0:
                    return -1
                rec_time[r] = t
            elif k == _K_MAC and not _is_mac(buf, s, e):
                return -1
            if k == _K_MAC or k == _K_RESOURCE or k == _K_TARGET or k == _K_NSG_RESOURCE:
                if (k == _K_RESOURCE or k == _K_NSG_RESOURCE) and e == s:
                    return -1
                j = _MAC if k == _K_MAC else (_TGT if k == _K_TARGET else _RES)
                c = _code(buf, s, e, _tail(buf, s, e), tables, starts, lengths, packed, entries, j)
                if c < 0:
                    return -2
                rec_codes[j - _MAC, r] = c
        else:
            return -1
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
        elif p < end and buf[p] == 125:
            break
        else:
            return -1
    common = (1 << _K_TIME) | (1 << _K_MAC)
    vnet = common | (1 << _K_VERSION) | (1 << _K_RESOURCE) | (1 << _K_TARGET) | (1 << _K_FLOWRECORDS)
    nsg = common | (1 << _K_NSG_RESOURCE) | (1 << _K_PROPERTIES)
    vnet_only = (1 << _K_VERSION) | (1 << _K_GUID) | (1 << _K_RESOURCE) | (1 << _K_TARGET) | (1 << _K_FLOWRECORDS)
    nsg_only = (1 << _K_SYSTEM) | (1 << _K_NSG_RESOURCE) | (1 << _K_PROPERTIES)
    if seen & vnet == vnet and not seen & nsg_only:
        return p + 1
    if seen & nsg == nsg and not seen & vnet_only:
        return p + 1
    return -1


@nb.njit(nogil=True, cache=True, inline="always")
def _is_mac(buf, s, e):
    """Whether ``buf[s:e]`` is 12 upper-case hex digits (what :func:`flowkit.addresses.normalize_mac`
    leaves as it is)."""
    if e - s != 12:
        return False
    for i in range(s, e):
        c = buf[i]
        if not (48 <= c <= 57 or 65 <= c <= 70):
            return False
    return True


@nb.njit(nogil=True, cache=True)
def _properties(buf, p, end, r, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small, counters,
                present, tables, starts, lengths, packed, entries):
    """NSG ``{"Version":1|2,"flows":[rule, …]}`` (see :func:`_named`): the version first (it
    decides the tuple form), and the batch's kind."""
    if p >= end or buf[p] != 123:
        return -1
    k, p = _key(buf, _ws(buf, p + 1, end), end)
    if k != _K_NSG_VERSION:
        return -1
    v, p = _digits(buf, p, end, 1)
    if v != 1 and v != 2:
        return -1
    if sizes[3] != 0 and sizes[3] != v:
        return -1
    sizes[3] = v
    p = _ws(buf, p, end)
    if p >= end or buf[p] != 44:
        return -1
    k, p = _key(buf, _ws(buf, p + 1, end), end)
    if k != _K_FLOWS or p >= end or buf[p] != 91:
        return -1
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 93:
        p += 1
    else:
        while True:
            p = _named(buf, p, end, r, v, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small, counters,
                       present, tables, starts, lengths, packed, entries)
            if p < 0:
                return p
            p, more = _after_element(buf, p, end)
            if p < 0:
                return -1
            if not more:
                break
    return _closed(buf, p, end)


@nb.njit(nogil=True, cache=True)
def _named(buf, p, end, r, v, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small, counters, present,
           tables, starts, lengths, packed, entries):
    """The groups of one name: a VNet acl (``v`` 4) ``{"aclID":…,"flowGroups":[group, …]}``, an NSG
    rule ``{"rule":…,"flows":[group, …]}``; the name must come first (as Azure writes it)."""
    if p >= end or buf[p] != 123:
        return -1
    k, p = _key(buf, _ws(buf, p + 1, end), end)
    if k != (_K_ACL if v == 4 else _K_RULE):
        return -1
    close = _string_end(buf, p, end)
    if close < 0:
        return -1
    name_s, name_e = p + 1, close
    p = _ws(buf, close + 1, end)
    if p >= end or buf[p] != 44:
        return -1
    k, p = _key(buf, _ws(buf, p + 1, end), end)
    if k != (_K_GROUPS if v == 4 else _K_FLOWS) or p >= end or buf[p] != 91:
        return -1
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 93:
        p += 1
    else:
        while True:
            p = _group(buf, p, end, r, v, name_s, name_e, sizes, grp_rec, grp_codes, grp_n, ts, text,
                       ports, small, counters, present, tables, starts, lengths, packed, entries)
            if p < 0:
                return p
            p, more = _after_element(buf, p, end)
            if p < 0:
                return -1
            if not more:
                break
    return _closed(buf, p, end)


@nb.njit(nogil=True, cache=True)
def _flow_records(buf, p, end, r, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small, counters,
                  present, tables, starts, lengths, packed, entries):
    """VNet ``{"flows":[acl, …]}`` (see :func:`_named`)."""
    if p >= end or buf[p] != 123:
        return -1
    k, p = _key(buf, _ws(buf, p + 1, end), end)
    if k != _K_FLOWS or p >= end or buf[p] != 91:
        return -1
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 93:
        p += 1
    else:
        while True:
            p = _named(buf, p, end, r, 4, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small, counters,
                       present, tables, starts, lengths, packed, entries)
            if p < 0:
                return p
            p, more = _after_element(buf, p, end)
            if p < 0:
                return -1
            if not more:
                break
    return _closed(buf, p, end)


@nb.njit(nogil=True, cache=True)
def _group(buf, p, end, r, v, name_s, name_e, sizes, grp_rec, grp_codes, grp_n, ts, text, ports, small,
           counters, present, tables, starts, lengths, packed, entries):
    """One group: VNet (``v`` 4) ``{"rule":…,"flowTuples":[…]}`` of the aclID ``buf[name_s:name_e]``,
    NSG (``v`` 1, 2) ``{"mac":…,"flowTuples":[…]}`` of that rule. A group without tuples is not
    kept (nor are its names coded), as the general path drops it; ``[ ]`` (spaced, which Azure
    does not write) is declined, for the general path to read."""
    if p >= end or buf[p] != 123:
        return -1
    p = _ws(buf, p + 1, end)
    own = _K_RULE if v == 4 else _K_GROUP_MAC  # the group's own name: its rule, or its NIC's MAC
    own_s = own_e = -1
    first = sizes[2]
    seen = 0
    while True:
        k, p = _key(buf, p, end)
        if k < 0 or (seen >> k) & 1:
            return -1
        seen |= 1 << k
        if k == own:
            close = _string_end(buf, p, end)
            if close < 0 or (v != 4 and not _is_mac(buf, p + 1, close)):
                return -1
            own_s, own_e = p + 1, close
            p = close + 1
        elif k == _K_TUPLES:
            if p >= end or buf[p] != 91:
                return -1
            q = _ws(buf, p + 1, end)
            if q < end and buf[q] == 93:
                if q != p + 1:  # ``[ ]``: not the common form
                    return -1
                p = q + 1
            else:
                p = q
                while True:
                    row = sizes[2]
                    if row >= len(ts) or p >= end or buf[p] != 34:
                        return -1
                    if v == 4:
                        p = _tuple(buf, p, end, row, ts, text, ports, small, counters, present, tables, starts,
                                   lengths, packed, entries)
                    else:
                        p = _nsg_tuple(buf, p, end, row, v, ts, text, ports, small, counters, present, tables,
                                       starts, lengths, packed, entries)
                    if p < 0:
                        return p
                    sizes[2] = row + 1
                    p, more = _after_element(buf, p, end)
                    if p < 0:
                        return -1
                    if not more:
                        break
        else:
            return -1
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
        elif p < end and buf[p] == 125:
            break
        else:
            return -1
    if seen != (1 << own) | (1 << _K_TUPLES):
        return -1
    n = sizes[2] - first
    if n:
        g = sizes[1]
        if g >= len(grp_rec):
            return -1
        if v == 4:
            rule_s, rule_e = own_s, own_e
        else:
            rule_s, rule_e = name_s, name_e
        c = _code(buf, rule_s, rule_e, _tail(buf, rule_s, rule_e), tables, starts, lengths, packed, entries, _RULE)
        if v == 4:
            o = _code(buf, name_s, name_e, _tail(buf, name_s, name_e), tables, starts, lengths, packed, entries, _ACL)
        else:
            o = _code(buf, own_s, own_e, _tail(buf, own_s, own_e), tables, starts, lengths, packed, entries, _GMAC)
        if c < 0 or o < 0:
            return -2
        grp_rec[g] = r
        grp_codes[0, g] = c
        grp_codes[1, g] = o if v == 4 else -1
        grp_codes[2, g] = -1 if v == 4 else o
        grp_n[g] = n
        sizes[1] = g + 1
    return p + 1
