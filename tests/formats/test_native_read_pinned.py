"""native_read, pinned: the cheap look at a batch keeps blobs the scanner cannot take away from it."""

from __future__ import annotations

from types import SimpleNamespace

from flowkit.formats import native_read
from flowkit.formats.native_read import read_native
from tests.blobs import VNET_TUPLES, blob, vnet_record

BLOB = blob([vnet_record([("acl-1", "UserRule_A", VNET_TUPLES[:2])])])


def test_an_empty_batch_or_one_blob_out_of_form_never_reaches_the_scanner(monkeypatch):
    calls = []
    scanner = SimpleNamespace(scan_blobs=lambda data, bounds: calls.append(len(bounds)))
    monkeypatch.setattr(native_read, "_scanner", scanner)
    assert read_native([]) is None
    assert read_native([BLOB, b"\xef\xbb\xbf" + BLOB]) is None
    assert read_native([b"," + BLOB[1:], BLOB]) is None
    assert calls == []


def test_a_record_time_a_nanosecond_column_cannot_hold_is_an_unreadable_time_both_ways():
    # Year 0024 or 9999 (a damaged digit): pandas parses it, but datetime64[ns] cannot hold it.
    # It raised pandas' OutOfBoundsDatetime out of the reader; it is now a record problem, as
    # "soon" is, and the record's tuples are rows with no record_time.
    import dataclasses
    import pandas as pd
    from flowkit.formats.decode import decode_blobs
    from flowkit.sources.base import BlobRef
    records = [vnet_record([("acl-1", "UserRule_A", VNET_TUPLES[:2])], time=t)
               for t in ("2024-05-01T10:01:00.5Z", "9999-05-01T10:02:00Z", "0024-05-01T10:03:00.5Z")]
    items = [(blob(records), BlobRef("flows/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000002/PT1H.json"))]
    native, general = (decode_blobs(items, native=flag) for flag in (True, False))
    assert native.table.equals(general.table)
    for field in dataclasses.fields(native.report):
        x, y = getattr(native.report, field.name), getattr(general.report, field.name)
        assert (x.equals(y) if isinstance(x, pd.DataFrame) else x == y), field.name
    times = native.table.column("record_time").to_pylist()
    assert len(times) == 6 and times[2:] == [None] * 4
    assert str(times[0]) == "2024-05-01 10:01:00.500000+00:00"
    assert [(p.reason, p.record, p.detail) for p in native.report.problems] == [
        ("invalid-record-time", 1, "time '9999-05-01T10:02:00Z' is outside the years 1678-2261 a record_time can "
                                   "hold; its rows have no record_time"),
        ("invalid-record-time", 2, "time '0024-05-01T10:03:00.5Z' is outside the years 1678-2261 a record_time can "
                                   "hold; its rows have no record_time")]


def test_a_vnet_tuple_whose_packets_encryption_dropped_is_a_deny_both_ways():
    # Microsoft's VNet flow logs overview: the packets of NX_NOT_ACCEPTED, NX_SW_NOT_READY and
    # NX_NOT_SUPPORTED are dropped; NX_FALLBACK and NX_HW_NOT_SUPPORTED pass unencrypted.
    from flowkit.formats.decode import decode_blobs
    from flowkit.sources.base import BlobRef
    states = ["X", "NX", "NX_HW_NOT_SUPPORTED", "NX_SW_NOT_READY", "NX_NOT_ACCEPTED", "NX_NOT_SUPPORTED",
              "NX_LOCAL_DST", "NX_FALLBACK"]
    tuples = [f"1714557605606,10.0.0.6,10.0.1.4,{40000 + i},443,6,O,B,{s},0,0,0,0" for i, s in enumerate(states)]
    items = [(blob([vnet_record([("acl-1", "UserRule_A", tuples)])]),
              BlobRef("flows/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000002/PT1H.json"))]
    for native in (True, False):
        table = decode_blobs(items, native=native).table
        assert dict(zip(table.column("encryption").to_pylist(), table.column("decision").to_pylist())) == {
            "X": "allow", "NX": "allow", "NX_HW_NOT_SUPPORTED": "allow", "NX_SW_NOT_READY": "deny",
            "NX_NOT_ACCEPTED": "deny", "NX_NOT_SUPPORTED": "deny", "NX_LOCAL_DST": "allow", "NX_FALLBACK": "allow"}
