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
