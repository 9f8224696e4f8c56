"""Whole flow-log blobs read by the compiled scanner, handed over as the general path's own pieces.

:func:`read_native` runs :func:`flowkit.formats.native_scan.scan_blobs` over a batch
of blobs and turns what it read into what the general path builds for the same
bytes: the tuple table ``pyarrow.csv`` would give (checked by the very same
:func:`flowkit.formats.tuples.check_tuples`), the record table, the tuple groups and
the text codes, in the same first-seen orders, so that
:func:`flowkit.formats.decode.decode_blobs` assembles the same rows from either.
It returns None (the batch goes the general way) unless every blob of the batch is
a whole blob in the common form, all of one format (VNet v4, NSG v2 or NSG v1), the
batch holds a tuple (else the general path's empty table) and every tuple passes the
checks: the general path alone reports problems and quarantines tuples. The environment variable
``FLOWKIT_SCANNER=off`` (read once per process) leaves everything to the general path.

Examples
--------
>>> blob = (b'{"records":[{"time":"2024-05-01T10:00:52.5625085Z","flowLogVersion":4,'
...         b'"macAddress":"000D3A000001","flowLogResourceID":"/R","targetResourceID":"/T",'
...         b'"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":'
...         b'["1714557600000,10.0.0.4,192.0.2.10,50000,443,6,O,E,X,3,767,2,1580"]}]}]}}]}')
>>> batch = read_native([blob])
>>> batch.fmt, batch.n_records, batch.n_tuples, batch.strings["mac"].values, batch.parsed.encryption_values[:2]
('vnet4', 1, 1, ['000D3A000001'], ['X', 'NX'])
>>> read_native([blob, b'{"records":[]} trailing']) is None
True
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from flowkit.formats.groups import Codes
from flowkit.formats.tuples import FIELDS, ParsedTuples, check_tuples

__all__ = ["NativeBatch", "NativeGroups", "read_native", "looks_native", "worth_scanning",
           "load_scanner", "NATIVE_MIN_BYTES"]

#: Bytes at the start of a blob in which a record's ``flowLogVersion`` (VNet) or ``properties`` (NSG) key is looked for.
_HEAD = 4096
#: A read from which the compiled scanner pays in a fresh process: importing numba and loading the
#: compiled scanner cost a process about 0.56 s and 134 MiB once (measured 2026-11-28), what the
#: scanner saves on some 200 MB of VNet logs. Smaller reads take the general path unless the
#: scanner is loaded already (a larger read, or :func:`load_scanner`).
NATIVE_MIN_BYTES = 256 << 20
_scanner: Any = None  # the module, once imported; False when numba cannot be imported


def _load_scanner() -> Any:
    global _scanner
    if _scanner is None:
        if os.environ.get("FLOWKIT_SCANNER", "").strip().lower() in ("0", "off", "no", "false"):
            _scanner = False  # the user's choice: the general path reads everything
            return _scanner
        try:
            from flowkit.formats import native_scan
        except ImportError:  # no numba on this platform: the general path reads everything
            _scanner = False
            return _scanner
        try:
            native_scan.warm_up()  # compiled here (or loaded from numba's cache), not in a read
        except Exception as exc:  # a numba that cannot build it: say so, and read on the general path
            warnings.warn(f"flowkit: the compiled flow-log scanner could not be built ({type(exc).__name__}); "
                          f"every read takes the general path (set FLOWKIT_SCANNER=off to skip trying)",
                          RuntimeWarning, stacklevel=3)
            _scanner = False
        else:
            _scanner = native_scan
    return _scanner


def load_scanner() -> bool:
    """Load the compiled scanner of whole VNet and NSG blobs now; True when it is available.

    Every later read in this process then uses it for batches of whole blobs of one format,
    whatever their size (the same rows as the general path, faster). Loading costs about
    0.56 s and 134 MiB once per process; a read of 256 MB or more loads it by itself.
    False when numba cannot be imported or ``FLOWKIT_SCANNER=off``.

    Examples
    --------
    >>> import flowkit
    >>> flowkit.load_scanner()
    True
    """
    return bool(_load_scanner())


def worth_scanning(size: int) -> bool:
    """Whether a read of ``size`` bytes should try the compiled scanner (see :data:`NATIVE_MIN_BYTES`).

    Examples
    --------
    >>> worth_scanning(1 << 30)
    True
    """
    if size >= NATIVE_MIN_BYTES:
        return bool(_load_scanner())
    return bool(_scanner)


class NativeGroups:
    """The tuple groups of a scanned batch, read as :class:`~flowkit.formats.groups.FormatGroups` are."""

    def __init__(self, record: np.ndarray, codes: dict[str, tuple[np.ndarray, list[str]]]) -> None:
        self.record = record
        self._codes = codes

    def codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Int codes (-1: none) and values of ``rule``, ``acl`` (VNet) or ``mac`` (NSG: as written)."""
        return self._codes[name]


@dataclass
class NativeBatch:
    """The pieces :func:`flowkit.formats.decode.decode_blobs` assembles its table from."""

    fmt: str
    parsed: ParsedTuples
    groups: NativeGroups
    counts: np.ndarray
    record_blob: np.ndarray
    record_codes: dict[str, np.ndarray]
    record_times: tuple[np.ndarray, np.ndarray]
    strings: dict[str, Codes]
    n_records: int
    n_tuples: int


def looks_native(data: bytes) -> bool:
    """Whether a blob may be a whole VNet or NSG blob (cheap: the scanner decides).

    Examples
    --------
    >>> looks_native(b'{"records":[{"time":"t","flowLogVersion":4}]}'), looks_native(b',{"time":"t"}')
    (True, False)
    >>> looks_native(b'{"records":[{"time":"t","properties":{"Version":2}}]}')
    True
    """
    return data[:1] == b"{" and (data.find(b'"flowLogVersion"', 0, _HEAD) >= 0
                                 or data.find(b'"properties"', 0, _HEAD) >= 0)


def read_native(blobs: Sequence[bytes]) -> NativeBatch | None:
    """Scan whole blobs; None unless all of them are in the common form, of one format, with valid tuples."""
    if not blobs or not all(map(looks_native, blobs)):
        return None
    scanner = _load_scanner()
    if not scanner:
        return None
    joined = b"".join(blobs)
    bounds = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=bounds[1:])
    out = scanner.scan_blobs(np.frombuffer(joined, dtype=np.uint8), bounds)
    if out.status != scanner.OK or not out.n_tuples:
        return None  # a batch without tuples: the general path's empty table (its dictionaries empty)
    values = {name: [joined[s:s + n].decode("ascii") for s, n in
                     zip(out.starts[j, :out.entries[j]].tolist(), out.lengths[j, :out.entries[j]].tolist())]
              for j, name in enumerate(scanner.TABLES)}
    fmt = scanner.KINDS[out.kind]
    parsed = check_tuples(_tuple_table(out, values, fmt), fmt)
    if parsed.bad:
        return None  # the general path reports and quarantines them
    rule, acl, mac = (out.group_codes[i].astype(np.int64) for i in range(3))
    groups = NativeGroups(out.group_record, {"rule": (rule, values["rule"]), "acl": (acl, values["acl"]),
                                             "mac": (mac, values["group_mac"])})
    return NativeBatch(
        fmt=fmt, parsed=parsed, groups=groups, counts=out.group_tuples, record_blob=out.record_blob,
        record_codes={name: out.record_codes[i] for i, name in enumerate(("mac", "resource", "target"))},
        record_times=(out.record_time_ns, np.zeros(out.n_records, dtype=bool)),
        strings={name: _codes(values[name]) for name in ("mac", "resource", "target")},
        n_records=out.n_records, n_tuples=out.n_tuples)


def _codes(values: list[str]) -> Codes:
    """The general path's codes of these distinct values, in this order (NSG group MACs add to the MACs')."""
    codes = Codes()
    codes.values = values
    codes.index = {v: i for i, v in enumerate(values)}
    return codes


def _tuple_table(out: Any, values: dict[str, list[str]], fmt: str) -> pa.Table:
    """The table ``pyarrow.csv`` gives for these tuples on the general path's fast types (an NSG
    protocol as its number, as the checks read a number there)."""
    n = out.n_tuples

    def dictionary(j: int, name: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(out.text_codes[j], type=pa.int32()),
                                              pa.array(values[name], type=pa.string()))

    def flag(j: int) -> pa.Array:
        offsets = pa.py_buffer(np.arange(n + 1, dtype=np.int32))
        return pa.Array.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(np.ascontiguousarray(out.small[j]))])

    def counter(j: int) -> pa.Array:
        given = out.present[j]
        return pa.array(out.counters[j], type=pa.uint64(), mask=None if given.all() else ~given)

    columns = {
        "ts": lambda: pa.array(out.ts, type=pa.int64()), "src_ip": lambda: dictionary(0, "src_ip"),
        "dst_ip": lambda: dictionary(1, "dst_ip"), "src_port": lambda: pa.array(out.ports[0], type=pa.uint16()),
        "dst_port": lambda: pa.array(out.ports[1], type=pa.uint16()),
        "protocol": lambda: pa.array(out.small[0], type=pa.uint8()), "direction": lambda: flag(1),
        "state": lambda: flag(2), "decision": lambda: flag(3), "encryption": lambda: dictionary(2, "encryption"),
        **{name: (lambda j=j: counter(j)) for j, name in enumerate(("packets_sent", "bytes_sent",
                                                                     "packets_received", "bytes_received"))},
    }
    return pa.table({name: columns[name]() for name in FIELDS[fmt]})
