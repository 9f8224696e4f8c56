"""Follow mode, pinned against an in-memory blob store (no Azurite: fast, and every race on demand).

The store commits blobs the way Azure does (a 12-byte head block, one ``,{…}`` block per
record inserted before the 2-byte tail) or uploads them whole (no block list). A follower
must deliver every tuple exactly once: a blob that grows by blocks between polls, a block
rewritten, a blob replaced by a shorter one, a new hour's blob, a blob that changes while
it is read. The Azure-specific paths run against Azurite in test_azure_follow.py and
test_follow_delivery.py; so does the last section here (an outage: Azurite frozen between polls).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import warnings
from types import SimpleNamespace

import pandas as pd
import pytest

from flowkit.cli import main as cli_main
from flowkit.errors import FlowkitDataWarning, SourceError
from flowkit.sources import follow as follow_module
from flowkit.sources.azure_listing import AzureBlobRef
from flowkit.sources.base import Listing
from flowkit.sources.follow import Checkpoint, FollowBatch, Follower, _records_end, _tail_start
from flowkit.sources.layout import VNET_CONTAINER, hour_overlaps, parse_blob_path, vnet_blob_name
from flowkit.synth import HEAD_BLOCK, TAIL_BLOCK, encode_record, record_time, vnet_record, vnet_tuple

from conftest import ACCOUNT
from conftest import KEY as ACCOUNT_KEY
from secrets_check import assert_no_secret
from test_follow_delivery import LiveBlob, _final, _same_rows
from test_follow_delivery import _record as delivery_record

HOUR = pd.Timestamp("2024-05-01T10:00Z")
MAC = "000D3A0000E1"


def _name(hour: pd.Timestamp = HOUR, mac: str = MAC) -> str:
    return vnet_blob_name("00000000-0000-0000-0000-000000000001", "NetworkWatcherRG", "NetworkWatcher_eastus",
                          "fl-pin", hour, mac)


def _record(minute: int, seed: int = 0, hour: pd.Timestamp = HOUR, extra: tuple[str, ...] = ()) -> dict:
    """Two tuples, source ports ``port(minute, seed, k)``; records of one minute have one length."""
    base = int(hour.timestamp()) + 60 * minute
    tuples = [vnet_tuple((base + k) * 1000, "10.0.0.4", "203.0.113.9", port(minute, seed, k), 443, 6, "O",
                         "C" if k else "B", "NX", (3, 700, 2, 1500)) for k in range(2)] + list(extra)
    return vnet_record(record_time(base + 50, 1234567), "guid-1", MAC, "/SUBSCRIPTIONS/X/FLOWLOGS/FL1",
                       "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
                       [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowInternetOutBound", tuples)])])


def port(minute: int, seed: int, k: int) -> int:
    return 20000 + seed * 1000 + minute * 10 + k


def ports(*minutes: int, seed: int = 0) -> list[int]:
    return sorted(port(m, seed, k) for m in minutes for k in range(2))


def got(batch: FollowBatch) -> list[int]:
    return sorted(int(p) for p in batch.frame["src_port"])


# -- an in-memory blob store and a source over it ------------------------------------------
class Store:
    """Blobs by (container, name): a block list (or None when uploaded whole), bytes, an ETag."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], SimpleNamespace] = {}
        self.n = 0

    def _etag(self) -> str:
        self.n += 1
        return f"0x8DC{self.n:08X}"

    def commit(self, name: str, blocks: list[tuple[str, bytes]], container: str = VNET_CONTAINER) -> None:
        self.blobs[(container, name)] = SimpleNamespace(blocks=list(blocks), data=b"".join(d for _, d in blocks),
                                                        etag=self._etag())

    def put(self, name: str, data: bytes, container: str = VNET_CONTAINER) -> None:
        self.blobs[(container, name)] = SimpleNamespace(blocks=None, data=data, etag=self._etag())


class Live:
    """A blob committed like Azure: head, record blocks, tail; ``add`` inserts before the tail."""

    def __init__(self, store: Store, name: str, prefix: str = "rec") -> None:
        self.store, self.name, self.prefix = store, name, prefix
        self.blocks: list[tuple[str, bytes]] = []
        self.commit()

    def commit(self) -> None:
        self.store.commit(self.name, [("head", HEAD_BLOCK)] + self.blocks + [("tail", TAIL_BLOCK)])

    def add(self, *records: dict) -> int:
        size = 0
        for record in records:
            body = encode_record(record)
            data = body if not self.blocks else b"," + body
            self.blocks.append((f"{self.prefix}{len(self.blocks):05d}", data))
            size += len(data)
        self.commit()
        return size

    @property
    def end(self) -> int:
        return len(HEAD_BLOCK) + sum(len(d) for _, d in self.blocks)


class Blob:
    def __init__(self, source: "MemSource", container: str, name: str) -> None:
        self.source, self.key = source, (container, name)

    def get_block_list(self, kind: str):
        assert kind == "committed"
        self.source.calls.append("block_list")
        if self.source.after_block_list:  # a change committed just before this request
            self.source.after_block_list(self.source.calls.count("block_list"))
        b = self.source.store.blobs[self.key]
        return [SimpleNamespace(id=i, size=len(d)) for i, d in (b.blocks or [])], []

    def get_blob_properties(self):
        self.source.calls.append("properties")
        b = self.source.store.blobs[self.key]
        return SimpleNamespace(etag=f'"{b.etag}"', size=len(b.data))


class MemSource:
    """What Follower needs of AzureBlobSource, over a :class:`Store`."""

    max_concurrency = 4

    def __init__(self, store: Store, label: str = "memory: test") -> None:
        self.store, self.label = store, label
        self.calls: list[str] = []
        self.listed: list[tuple] = []
        self.after_block_list = None  # called with the count of block list requests so far
        self.before_download = None  # called with (offset, length); may change the store
        self.guards: set[tuple] = set()

    def describe(self) -> str:
        return self.label

    def list_blobs(self, *, log_type=None, start=None, end=None, mac=None, discovery_ttl=None) -> Listing:
        self.listed.append((log_type, start, end, mac))
        self.ttl = discovery_ttl
        refs = []
        for (container, name), b in sorted(self.store.blobs.items()):
            meta = parse_blob_path(name)
            if (log_type and meta.log_type != log_type) or not hour_overlaps(meta.hour, start, end):
                continue
            if mac and meta.mac and meta.mac != mac:
                continue
            refs.append(AzureBlobRef(name=f"{container}/{name}", meta=meta, size=len(b.data), container=container,
                                     blob=name, etag=b.etag))
        return Listing(refs=tuple(refs))

    def _client(self, container: str):
        return SimpleNamespace(get_blob_client=lambda name: Blob(self, container, name))

    def _guard(self, *args):
        self.guards.add(args)
        return contextlib.nullcontext()

    def download(self, container, blob, offset=None, length=None, etag=None):
        self.calls.append(("download", offset, length))
        if self.before_download:
            self.before_download(offset, length)
        b = self.store.blobs[(container, blob)]
        if etag is not None and etag != b.etag:
            raise SourceError(f"{container}/{blob} changed while it was read")
        data = b.data
        if offset is not None:
            if length is not None and offset + length > len(b.data):
                raise SourceError(f"{container}/{blob}: range {offset}+{length} past the end {len(b.data)}")
            data = data[offset:offset + length] if length is not None else data[offset:]
        return data, SimpleNamespace(etag=f'"{b.etag}"', size=len(b.data))


def _clock(now: pd.Timestamp):
    return lambda: now


def _follower(src: MemSource, now: pd.Timestamp = HOUR + pd.Timedelta(minutes=30), **kw) -> Follower:
    kw.setdefault("start", HOUR)
    return Follower(src, log_type="vnet", clock=_clock(now), **kw)


def _reread_poll(f: Follower, *reasons: tuple[str, str]) -> FollowBatch:
    """Poll; the warnings (UserWarning only) must be exactly these, pointing at the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno; batch = f.poll()  # noqa: E702 (the warnings point at this line)
    said = [w for w in caught if w.category is UserWarning]
    assert [str(w.message) for w in said] == [
        f"flowkit: {VNET_CONTAINER}/{name} {reason}; reading it again from the start (rows delivered before may repeat)"
        for name, reason in reasons]
    assert {(w.filename, w.lineno) for w in said} == {(__file__, line)}
    return batch


def _entry(f: Follower, name: str | None = None) -> dict:
    st = f._pending or f.state
    return st.blobs[f"{VNET_CONTAINER}/{name or _name()}"]


def _quiet_poll(f: Follower) -> FollowBatch:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f.poll()


# -- 1. a blob that grows block by block ------------------------------------------------
def test_each_poll_delivers_only_the_new_blocks_and_downloads_them_with_64_bytes_before():
    store = Store()
    blob = Live(store, _name())
    src = MemSource(store)
    f = _follower(src)
    first = _quiet_poll(f)
    assert (len(first), first.blobs_changed, first.bytes_downloaded, first.reread) == (0, 1, 14, ())
    offset = len(HEAD_BLOCK)
    for minute in range(4):
        size = blob.add(_record(minute))
        batch = _quiet_poll(f)
        assert got(batch) == ports(minute)
        assert (batch.blobs_changed, batch.reread) == (1, ())
        assert batch.bytes_downloaded == size + min(64, offset)
        assert src.calls[-1] == ("download", max(0, offset - 64), size + min(64, offset))
        offset += size
    size = blob.add(_record(4), _record(5))  # two blocks between polls
    batch = _quiet_poll(f)
    assert got(batch) == ports(4, 5) and batch.bytes_downloaded == size + 64
    nothing = _quiet_poll(f)
    assert (len(nothing), nothing.blobs_changed, nothing.bytes_downloaded) == (0, 0, 0)
    assert list(nothing.frame.columns) == list(batch.frame.columns)  # empty, with every column
    data = store.blobs[(VNET_CONTAINER, _name())].data
    assert _entry(f) == {"mode": "blocks", "etag": store.blobs[(VNET_CONTAINER, _name())].etag, "blocks": 7,
                         "offset": blob.end, "ids": follow_module._digest(["head"] + [i for i, _ in blob.blocks]),
                         "check": follow_module._check(data, blob.end), "hour": HOUR.isoformat()}
    assert src.ttl == follow_module.DISCOVERY_TTL == 300.0
    assert src.guards == {("following", VNET_CONTAINER, _name(), "blob")}


def test_a_blob_seen_first_with_records_is_read_whole_once():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0), _record(1), _record(2))
    f = _follower(MemSource(store))
    batch = _quiet_poll(f)
    assert got(batch) == ports(0, 1, 2) and batch.bytes_downloaded == len(store.blobs[(VNET_CONTAINER, _name())].data)
    blob.add(_record(3))
    assert got(_quiet_poll(f)) == ports(3)


def test_the_same_blocks_committed_again_give_no_rows_and_no_warning():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0), _record(1))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    blob.commit()  # a new ETag, the same blocks
    batch = _quiet_poll(f)
    assert (len(batch), batch.blobs_changed, batch.bytes_downloaded, batch.reread) == (0, 1, 64, ())
    blob.add(_record(2))
    assert got(_quiet_poll(f)) == ports(2)


def test_a_record_cut_at_a_block_boundary_is_read_once_with_both_halves():
    # Azure writes one record per block; a writer that splits one commits both halves together
    # (the blob is whole JSON at every commit), and the follower reads them as one fragment.
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    f = _follower(MemSource(store))
    assert got(_quiet_poll(f)) == ports(0)
    rec = b"," + encode_record(_record(1))
    blob.blocks += [("cut-a", rec[:len(rec) // 2]), ("cut-b", rec[len(rec) // 2:])]
    blob.commit()
    assert got(_quiet_poll(f)) == ports(1)
    blob.add(_record(2))
    assert got(_quiet_poll(f)) == ports(2)


def test_a_new_hours_blob_is_read_whole_and_the_old_one_carries_on():
    store = Store()
    old = Live(store, _name())
    old.add(_record(0))
    f = _follower(MemSource(store), now=HOUR + pd.Timedelta(minutes=59))
    assert got(_quiet_poll(f)) == ports(0)
    nxt = Live(store, _name(HOUR + pd.Timedelta(hours=1)))
    nxt.add(_record(0, seed=1, hour=HOUR + pd.Timedelta(hours=1)), _record(1, seed=1, hour=HOUR + pd.Timedelta(hours=1)))
    old.add(_record(59))
    batch = _quiet_poll(f)
    assert got(batch) == sorted(ports(59) + ports(0, 1, seed=1)) and batch.blobs_changed == 2
    assert sorted(batch.frame["blob"].astype(str).unique()) == sorted(
        [f"{VNET_CONTAINER}/{_name()}", f"{VNET_CONTAINER}/{_name(HOUR + pd.Timedelta(hours=1))}"])


# -- 2. blocks rewritten, blobs replaced ---------------------------------------------------
def test_last_block_rewritten_with_the_same_id_and_size_is_read_again_whole():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    blob.add(_record(1))
    assert got(_quiet_poll(f)) == ports(1)  # read by range: its check digest comes from this read
    blob.blocks[-1] = (blob.blocks[-1][0], b"," + encode_record(_record(1, seed=5)))  # same length
    blob.add(_record(2, seed=5))
    batch = _reread_poll(f, (_name(), "was replaced (the bytes before the offset changed)"))
    data = store.blobs[(VNET_CONTAINER, _name())].data
    whole = len(data)
    assert _entry(f)["check"] == follow_module._check(data, blob.end)
    assert got(batch) == sorted(ports(0) + ports(1, 2, seed=5))
    assert batch.reread == (f"{VNET_CONTAINER}/{_name()}",)
    assert batch.bytes_downloaded == (blob.end - (blob.end - len(blob.blocks[-1][1]) - 64)) + whole
    blob.add(_record(3))
    assert got(_quiet_poll(f)) == ports(3)  # and it carries on from the new end


def test_block_rewritten_with_another_size_is_read_again_whole():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0), _record(1))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    blob.blocks[0] = (blob.blocks[0][0], encode_record(_record(0, seed=7, extra=("1714557600000,192.0.2.1,"
                                                                                   "10.0.0.4,1,443,6,O,C,NX,1,1,1,1",))))
    blob.commit()
    batch = _reread_poll(f, (_name(), "was replaced or shrank"))
    assert len(batch) == 5 and batch.reread == (f"{VNET_CONTAINER}/{_name()}",)


def test_block_blob_replaced_by_a_shorter_one_is_read_again_whole():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0), _record(1), _record(2))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    shorter = Live(store, _name())
    shorter.add(_record(0, seed=3))
    batch = _reread_poll(f, (_name(), "was replaced or shrank"))
    assert got(batch) == ports(0, seed=3) and batch.reread == (f"{VNET_CONTAINER}/{_name()}",)
    shorter.add(_record(1, seed=3))
    assert got(_quiet_poll(f)) == ports(1, seed=3)


def test_block_blob_replaced_by_one_with_other_block_ids_is_read_again_whole():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    other = Live(store, _name(), prefix="new")
    other.add(_record(0), _record(1))  # the same bytes and sizes, other IDs
    batch = _reread_poll(f, (_name(), "was replaced or shrank"))
    assert got(batch) == ports(0, 1)


def test_blob_uploaded_whole_then_committed_in_blocks_is_read_again_and_back():
    store = Store()
    store.put(_name(), b'{"records":[' + encode_record(_record(0)) + b"]}")
    f = _follower(MemSource(store))
    assert got(_quiet_poll(f)) == ports(0)
    blob = Live(store, _name())
    blob.add(_record(0), _record(1))
    batch = _reread_poll(f, (_name(), "was replaced or shrank (it now has a block list)"))
    assert got(batch) == ports(0, 1) and batch.reread == (f"{VNET_CONTAINER}/{_name()}",)
    store.put(_name(), store.blobs[(VNET_CONTAINER, _name())].data)
    batch = _reread_poll(f, (_name(), "was replaced or shrank (its block list is gone)"))
    assert got(batch) == ports(0, 1) and batch.reread == (f"{VNET_CONTAINER}/{_name()}",)


def test_blocks_read_that_now_end_in_a_tail_block_are_read_again():
    # Contrived (no Azure writer does it): a blob read whole with no 2-byte tail block, then
    # the same IDs and total with the last block now 2 bytes: the offset is past the records.
    store = Store()
    rec = encode_record(_record(0))
    store.commit(_name(), [("a", HEAD_BLOCK), ("b", rec + b"]}\n")])
    f = _follower(MemSource(store))
    assert got(_quiet_poll(f)) == ports(0)
    store.commit(_name(), [("a", HEAD_BLOCK + rec + b"]"), ("b", b"}\n")])
    batch = _reread_poll(f, (_name(), "was replaced or shrank (its tail block is gone)"))
    assert batch.reread == (f"{VNET_CONTAINER}/{_name()}",) and got(batch) == ports(0)


# -- 3. blobs uploaded whole (no block list): followed by byte range ---------------------------
@pytest.mark.parametrize("head, sep, tail", [
    pytest.param(b'{"records":[', b",", b"]}", id="plain"),
    pytest.param(b'{\r\n  "records": [\r\n    ', b",\r\n    ", b"\r\n  ]\r\n}\r\n", id="pretty-crlf"),
])
def test_blob_uploaded_whole_each_minute_is_followed_by_byte_range(head, sep, tail):
    store = Store()
    records: list[bytes] = []
    store.put(_name(), head + tail)
    f = _follower(MemSource(store))
    first = _quiet_poll(f)
    assert (len(first), first.reread, first.bytes_downloaded) == (0, (), len(head + tail))
    f.commit()
    assert f.state.blobs[f"{VNET_CONTAINER}/{_name()}"]["offset"] == len(head.rstrip())
    for minute in range(5):
        offset = f.state.blobs[f"{VNET_CONTAINER}/{_name()}"]["offset"]
        records.append(encode_record(_record(minute)))
        store.put(_name(), head + sep.join(records) + tail)
        batch = _quiet_poll(f)
        assert got(batch) == ports(minute) and batch.reread == ()
        assert batch.bytes_downloaded == len(head + sep.join(records) + tail) - max(0, offset - 64)
        f.commit()
        data = head + sep.join(records) + tail
        assert _entry(f) == {"mode": "bytes", "etag": store.blobs[(VNET_CONTAINER, _name())].etag,
                             "offset": len(head + sep.join(records)), "tail": True,
                             "check": follow_module._check(data, len(head + sep.join(records))),
                             "hour": HOUR.isoformat()}
    store.put(_name(), head + sep.join(records) + b"," + tail)  # a trailing comma: nothing new
    assert len(_quiet_poll(f)) == 0
    records.append(encode_record(_record(5)))
    store.put(_name(), head + sep.join(records) + tail)
    assert got(_quiet_poll(f)) == ports(5)
    unchanged = _quiet_poll(f)
    assert (len(unchanged), unchanged.blobs_changed, unchanged.bytes_downloaded) == (0, 0, 0)


def test_blob_uploaded_whole_and_shrunk_is_read_again():
    store = Store()
    store.put(_name(), b'{"records":[' + b",".join(encode_record(_record(m)) for m in range(3)) + b"]}")
    f = _follower(MemSource(store))
    assert got(_quiet_poll(f)) == ports(0, 1, 2)
    shorter = b'{"records":[' + encode_record(_record(0, seed=4)) + b"]}"
    store.put(_name(), shorter)
    batch = _reread_poll(f, (_name(), "was replaced or shrank"))
    assert got(batch) == ports(0, seed=4) and batch.bytes_downloaded == len(shorter)
    assert batch.reread == (f"{VNET_CONTAINER}/{_name()}",)


def test_blob_uploaded_whole_with_other_bytes_before_the_offset_is_read_again():
    store = Store()
    store.put(_name(), b'{"records":[' + encode_record(_record(0)) + b"]}")
    f = _follower(MemSource(store))
    _quiet_poll(f)
    longer = b'{"records":[' + encode_record(_record(0, seed=6)) + b"," + encode_record(_record(1, seed=6)) + b"]}"
    store.put(_name(), longer)
    batch = _reread_poll(f, (_name(), "was replaced or shrank (bytes before the offset changed)"))
    assert got(batch) == ports(0, 1, seed=6) and batch.reread == (f"{VNET_CONTAINER}/{_name()}",)
    assert batch.bytes_downloaded == len(longer) - (len(HEAD_BLOCK) + len(encode_record(_record(0))) - 64) + len(longer)


def test_blob_uploaded_whole_that_no_longer_ends_in_the_tail_is_read_again_then_whole_each_change():
    store = Store()
    first = b'{"records":[' + encode_record(_record(0)) + b"]}"
    store.put(_name(), first)
    f = _follower(MemSource(store))
    _quiet_poll(f)
    cut = first[:-2] + b"," + encode_record(_record(1))  # being written: no "]}" yet
    store.put(_name(), cut)
    batch = _reread_poll(f, (_name(), "was replaced or shrank (it no longer ends in ']}')"))
    assert batch.reread == (f"{VNET_CONTAINER}/{_name()}",)
    assert batch.bytes_downloaded == len(cut) - (len(first) - 2 - 64) + len(cut)
    f.commit()
    assert _entry(f) == {"mode": "bytes", "etag": store.blobs[(VNET_CONTAINER, _name())].etag, "offset": len(cut),
                         "tail": None, "check": None, "hour": HOUR.isoformat()}
    unchanged = _quiet_poll(f)
    assert (len(unchanged), unchanged.blobs_changed) == (0, 0)
    store.put(_name(), cut + b"]}")
    batch = _reread_poll(f, (_name(), "was replaced or shrank"))
    assert got(batch) == ports(0, 1)


def test_blob_uploaded_whole_cut_right_after_its_last_record_is_read_again():
    store = Store()
    first = b'{"records":[' + encode_record(_record(0)) + b"]}"
    store.put(_name(), first)
    f = _follower(MemSource(store))
    _quiet_poll(f)
    store.put(_name(), first[:-2])  # as long as the offset: the records are there, the tail is not
    batch = _reread_poll(f, (_name(), "was replaced or shrank (it no longer ends in ']}')"))
    assert batch.reread == (f"{VNET_CONTAINER}/{_name()}",)


# -- 4. the blob changes while it is read -----------------------------------------------------
def test_blob_grown_between_listing_and_block_list_is_read_to_its_new_end():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    src = MemSource(store)
    f = _follower(src)
    _quiet_poll(f)
    blob.add(_record(1))
    src.after_block_list = lambda n: blob.add(_record(2)) if n == 2 else None  # the 2nd poll's first request
    batch = _quiet_poll(f)
    assert got(batch) == ports(1, 2)
    assert src.calls.count("properties") == 1 and src.calls.count("block_list") == 2
    assert src.guards == {("following", VNET_CONTAINER, _name(), "blob")}
    src.after_block_list = None
    blob.add(_record(3))
    assert got(_quiet_poll(f)) == ports(3)


def test_blob_changed_between_block_list_and_download_is_asked_for_again():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    src = MemSource(store)
    f = _follower(src)
    _quiet_poll(f)
    blob.add(_record(1))
    changed = []

    def grow(offset, length):
        if not changed:
            changed.append(1)
            blob.add(_record(2))

    src.before_download = grow
    batch = _quiet_poll(f)
    assert got(batch) == ports(1, 2)
    assert src.calls.count("block_list") == 3 and src.calls.count("properties") == 1


def test_blob_that_keeps_changing_is_an_error_after_four_attempts():
    store = Store()
    blob = Live(store, _name())
    src = MemSource(store)
    f = _follower(src)
    src.before_download = lambda offset, length: blob.add(_record(len(blob.blocks)))
    with pytest.raises(SourceError) as info:
        f.poll()
    assert str(info.value) == f"{VNET_CONTAINER}/{_name()} kept changing during 4 attempts to follow it"
    assert src.calls.count("block_list") == 4


def test_other_read_errors_are_raised_at_once():
    store = Store()
    Live(store, _name())
    src = MemSource(store)

    def fail(offset, length):
        raise SourceError("the container was deleted")

    src.before_download = fail
    with pytest.raises(SourceError, match="the container was deleted"):
        _follower(src).poll()
    assert src.calls.count("block_list") == 1


def test_blob_uploaded_whole_changed_during_the_download_is_read_again_by_range():
    store = Store()
    store.put(_name(), b'{"records":[' + encode_record(_record(0)) + b"]}")
    src = MemSource(store)
    f = _follower(src)
    _quiet_poll(f)
    store.put(_name(), b'{"records":[' + encode_record(_record(0)) + b"," + encode_record(_record(1)) + b"]}")
    done = []

    def grow(offset, length):
        if not done:
            done.append(1)
            store.put(_name(), b'{"records":[' + b",".join(encode_record(_record(m)) for m in range(3)) + b"]}")

    src.before_download = grow
    batch = _quiet_poll(f)
    assert got(batch) == ports(1, 2) and src.calls.count("properties") == 1


# -- 5. the window: hours sealed are forgotten; several blobs ----------------------------------
def test_sealed_hours_move_the_window_and_old_entries_are_forgotten():
    store = Store()
    hours = [HOUR + pd.Timedelta(hours=h) for h in range(-3, 2)]
    for i, h in enumerate(hours):
        Live(store, _name(h)).add(_record(0, seed=i, hour=h))
    now = HOUR + pd.Timedelta(hours=1, minutes=16)  # 11:16 - 1 h - 15 min is in hour 10: done before 10:00
    src = MemSource(store)
    f = _follower(src, now=now, start=hours[0])
    batch = _quiet_poll(f)
    assert got(batch) == sorted(p for i in range(5) for p in ports(0, seed=i))
    f.commit()
    assert f.state.done_before == HOUR.isoformat()
    # 07:00 is older than two hours before 10:00: forgotten; the others are kept
    kept = sorted(e["hour"] for e in f.state.blobs.values())
    assert kept == [h.isoformat() for h in hours[1:]]
    _quiet_poll(f)
    assert src.listed[-1] == ("vnet", HOUR, now, None)
    assert src.listed[0] == ("vnet", hours[0], now, None)


@pytest.mark.parametrize("after, done_before", [
    pytest.param(pd.Timedelta(hours=2, minutes=15), pd.Timedelta(hours=1), id="at-settle"),
    pytest.param(pd.Timedelta(hours=2, minutes=14), pd.Timedelta(0), id="a-minute-before"),
])
def test_hour_sealed_exactly_at_its_settle_time(after, done_before):
    f = _follower(MemSource(Store()), now=HOUR + after, start=HOUR)
    _quiet_poll(f)
    f.commit()
    assert f.state.done_before == (HOUR + done_before).isoformat()


def test_the_window_never_moves_back_and_stops_at_the_end():
    store = Store()
    src = MemSource(store)
    now = {"t": HOUR + pd.Timedelta(hours=5, minutes=30)}
    f = Follower(src, log_type="vnet", start=HOUR, clock=lambda: now["t"])
    _quiet_poll(f)
    f.commit()
    assert f.state.done_before == (HOUR + pd.Timedelta(hours=4)).isoformat()
    now["t"] = HOUR + pd.Timedelta(hours=2)  # a clock set back
    _quiet_poll(f)
    f.commit()
    assert f.state.done_before == (HOUR + pd.Timedelta(hours=4)).isoformat()
    bounded = Follower(MemSource(store), log_type="vnet", start=HOUR, end=HOUR + pd.Timedelta(hours=2, minutes=30),
                       clock=_clock(HOUR + pd.Timedelta(hours=9)))
    _quiet_poll(bounded)
    bounded.commit()
    assert bounded.state.done_before == (HOUR + pd.Timedelta(hours=2)).isoformat()
    assert bounded.source.listed[-1][2] == HOUR + pd.Timedelta(hours=2, minutes=30)


def test_blob_outside_the_layout_is_never_forgotten():
    f = _follower(MemSource(Store()), now=HOUR + pd.Timedelta(hours=9))
    st = f.state.copy()
    st.blobs["c/not/in/the/layout.json"] = {"etag": "0x1"}
    f._advance_window(st, HOUR + pd.Timedelta(hours=9))
    assert list(st.blobs) == ["c/not/in/the/layout.json"]


def test_batches_of_several_blobs_are_in_name_order_and_rereads_are_named():
    store = Store()
    names = [_name(mac=m) for m in ("000D3A0000E3", "000D3A0000E2")]
    blobs = [Live(store, n) for n in names]
    for i, b in enumerate(blobs):
        b.add(_record(0, seed=i))
    f = _follower(MemSource(store))
    batch = _quiet_poll(f)
    assert list(batch.frame["blob"].astype(str).drop_duplicates()) == sorted(f"{VNET_CONTAINER}/{n}" for n in names)
    for n in names:
        Live(store, n).add(_record(0, seed=9))
    batch = _reread_poll(f, *[(n, "was replaced (the bytes before the offset changed)") for n in sorted(names)])
    assert batch.reread == tuple(sorted(f"{VNET_CONTAINER}/{n}" for n in names))


def test_quarantined_tuples_warn_and_a_clean_poll_does_not():
    bad = "1714557600000,192.0.2.1,10.0.0.4,99999,443,6,O,C,NX,1,1,1,1"
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0, extra=(bad,)))
    f = _follower(MemSource(store))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = f.poll()
    assert [(w.category, str(w.message), w.filename) for w in caught] == [
        (FlowkitDataWarning, f"flowkit: {batch.report.summary()}; see the load report", __file__)]
    assert "3 tuple(s): 2 row(s), 1 quarantined" in str(caught[0].message)
    assert batch.report.quarantined == 1 and len(batch) == 2
    blob.add(_record(1))
    assert len(_quiet_poll(f)) == 2


# -- 6. checkpoints and delivery --------------------------------------------------------------
def test_checkpoint_round_trip_and_errors(tmp_path):
    assert Checkpoint.load(tmp_path / "missing.json") == Checkpoint()
    cp = Checkpoint(blobs={"c/x": {"etag": "0x1"}}, log_type="vnet", mac="000D3A0000E1", start="s",
                    done_before="d", source="memory")
    path = tmp_path / "deep" / "er" / "cp.json"
    cp.save(path)
    assert Checkpoint.load(path) == cp
    assert json.loads(path.read_text())["version"] == 1
    copy = cp.copy()
    copy.blobs["c/x"]["etag"] = "0x2"
    assert cp.blobs["c/x"]["etag"] == "0x1"
    assert list(json.loads(path.read_text())) == ["blobs", "done_before", "log_type", "mac", "source", "start",
                                                  "version"]
    path.write_text("{not json")
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value).startswith(f"checkpoint {str(path)!r} cannot be read: Expecting property name")
    path.write_text(json.dumps({"version": 2}))
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value) == f"checkpoint {str(path)!r} has an unknown version 2"
    path.write_text(json.dumps({"version": 1}))
    assert Checkpoint.load(path) == Checkpoint()


@pytest.mark.parametrize("text, kind", [("[]", "list"), ("null", "NoneType"), ('"version"', "str"), ("1", "int")])
def test_a_json_file_that_is_not_a_checkpoint_is_refused_not_a_crash(tmp_path, text, kind):
    # `--checkpoint flows.json` pointed at some other JSON file by mistake: the CLI says so in one
    # line (a SourceError), not with an AttributeError traceback
    path = tmp_path / "flows.json"
    path.write_text(text)
    with pytest.raises(SourceError) as info:
        Follower(MemSource(Store()), log_type="vnet", checkpoint=path)
    assert str(info.value) == (f"checkpoint {str(path)!r} is not a flowkit checkpoint (JSON {kind}, not an "
                               f"object): give a new file name, or the checkpoint follow wrote")


def test_follower_checks_what_its_checkpoint_was_written_for(tmp_path):
    path = tmp_path / "cp.json"
    store = Store()
    f = _follower(MemSource(store), checkpoint=path, mac="00-0d-3a-00-00-e1")
    _quiet_poll(f)
    f.commit()
    saved = json.loads(path.read_text())
    assert (saved["log_type"], saved["mac"], saved["source"], saved["start"]) == (
        "vnet", "000D3A0000E1", "memory: test", HOUR.isoformat())
    with pytest.raises(SourceError) as info:
        _follower(MemSource(store), checkpoint=path)
    assert str(info.value) == (f"checkpoint {str(path)!r} was written for log_type='vnet', mac='000D3A0000E1', "
                               f"not 'vnet', None")

    def follow_other():  # as AzureBlobSource.follow makes one: the warning points at its caller
        return Follower(MemSource(store, "memory: other"), log_type="vnet", checkpoint=path, mac="000D3A0000E1")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        follow_other()
    assert [(str(w.message), w.filename) for w in caught] == [
        ("flowkit: checkpoint was written for memory: test, now following memory: other", __file__)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _follower(MemSource(store), checkpoint=path, mac="000D3A0000E1")


def test_start_defaults_to_the_hour_before_the_first_poll():
    f = Follower(MemSource(Store()), log_type="vnet", clock=_clock(HOUR + pd.Timedelta(minutes=42)))
    assert f.state.start == (HOUR - pd.Timedelta(hours=1)).isoformat()
    assert str(Follower(MemSource(Store()), log_type="vnet").clock().tz) == "UTC"


def test_public_names_and_what_a_batch_is():
    names: dict = {}
    exec("from flowkit.sources.follow import *", names)
    assert {k for k in names if not k.startswith("__")} == {"FollowBatch", "Checkpoint", "Follower"}
    frame = pd.DataFrame({"a": [1, 2]})
    batch = FollowBatch(frame=frame, report=None, polled_at=HOUR, _commit=lambda: None)
    assert (len(batch), batch.blobs_changed, batch.bytes_downloaded, batch.reread) == (2, 0, 0, ())
    assert "_commit" not in repr(batch)
    from dataclasses import replace
    assert replace(batch, _commit=None) == batch  # the hook is not part of the batch's value


def test_nothing_advances_before_the_batch_is_committed(tmp_path):
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    path = tmp_path / "cp.json"
    f = _follower(MemSource(store), checkpoint=path)
    batch = _quiet_poll(f)
    assert f.state.blobs == {} and not path.exists()
    batch.commit()
    assert json.loads(path.read_text())["blobs"] and f.state.blobs
    f.commit()  # nothing pending: nothing happens
    blob.add(_record(1))
    held = _quiet_poll(f)
    # a new process on the same checkpoint gets the held batch again
    assert got(_quiet_poll(_follower(MemSource(store), checkpoint=path))) == got(held) == ports(1)
    assert FollowBatch(frame=held.frame, report=held.report, polled_at=HOUR).commit() is None


def test_run_commits_each_batch_when_the_next_is_asked_for_and_sleeps_the_rest_of_the_interval(monkeypatch):
    store = Store()
    blob = Live(store, _name())
    f = _follower(MemSource(store))
    ticks = iter([100.0, 103.0, 200.0, 250.0])
    slept = []
    # the module's own `time`, not the global one (other threads use time.monotonic)
    clock = SimpleNamespace(monotonic=lambda: next(ticks), sleep=slept.append)
    monkeypatch.setattr(follow_module, "time", clock)
    sizes = []
    for batch in f.run(interval=10.0, max_polls=2):
        sizes.append(len(batch))
        assert f._pending is not None
        blob.add(_record(len(sizes)))
    assert sizes == [0, 2] and slept == [7.0]
    assert f._pending is None and f.state.blobs[f"{VNET_CONTAINER}/{_name()}"]["blocks"] == 2
    ticks2 = iter([0.0, 30.0, 31.0])
    clock.monotonic = lambda: next(ticks2)
    stream = f.run(interval=10.0)  # no max_polls: on and on
    assert [len(next(stream)), len(next(stream))] == [2, 0] and slept == [7.0, 0.0]
    stream.close()
    assert list(f.run(max_polls=0)) == []
    ticks3 = iter([0.0, 5.0, 6.0])
    clock.monotonic = lambda: next(ticks3)
    assert len(list(f.run(max_polls=2))) == 2 and slept == [7.0, 0.0, 55.0]  # every 60 s unless told


def test_older_checkpoint_entries_carry_on_or_are_read_again():
    store = Store()
    blob = Live(store, _name())
    blob.add(_record(0))
    f = _follower(MemSource(store))
    _quiet_poll(f)
    f.commit()
    key = f"{VNET_CONTAINER}/{_name()}"
    f.state.blobs[key]["check"] = None  # written before the digest existed: trusted
    blob.add(_record(1))
    assert got(_quiet_poll(f)) == ports(1)
    f.commit()
    del f.state.blobs[key]["mode"]  # no mode: read again
    blob.add(_record(2))
    with pytest.warns(UserWarning, match=r"now has a block list"):
        assert got(f.poll()) == ports(0, 1, 2)


# -- 7. where a byte range carries on ----------------------------------------------------------
@pytest.mark.parametrize("data, tail, end", [
    pytest.param(b'{"records":[]}', 12, 12, id="empty"),
    pytest.param(b'{"records":[ ]} \n', 13, 12, id="empty-blanks"),
    pytest.param(b'{"records":[{"a":1}]}', 19, 19, id="one"),
    pytest.param(b'{"records":[{"a":1} ,\n]\n}', 22, 19, id="trailing-comma"),
    pytest.param(b']}', 0, 0, id="bare"),
])
def test_tail_and_records_end(data, tail, end):
    assert _tail_start(data) == tail
    assert _records_end(data, tail) == end


@pytest.mark.parametrize("data", [b"", b"  ", b'{"records":[{"a":1}', b'{"records":[{"a":1}}', b'{"a":1}', b"}",
                                  b"]]", b'{"records":[{"a":1}] '])
def test_no_tail(data):
    assert _tail_start(data) is None and _records_end(data, None) is None


def test_a_start_the_checkpoint_overrides_is_said_not_ignored_in_silence(tmp_path):
    # `flowkit follow ... --checkpoint cp.json --start <an earlier hour>` to go back in time: the
    # checkpoint carries on where it stopped, so the hours asked for are not read; say so
    path = tmp_path / "cp.json"
    store = Store()
    Live(store, _name()).add(_record(1))
    f = _follower(MemSource(store), checkpoint=path, now=HOUR + pd.Timedelta(hours=3))
    _quiet_poll(f)
    f.commit()
    earlier = HOUR - pd.Timedelta(hours=5)

    def follow_from(start):  # as AzureBlobSource.follow makes one: the warning points at its caller
        return Follower(MemSource(store), log_type="vnet", checkpoint=path, start=start)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = follow_from(earlier)
    assert [(str(w.message), w.filename) for w in caught] == [
        (f"flowkit: checkpoint {str(path)!r} follows from {HOUR.isoformat()} and has read the hours before "
         f"{(HOUR + pd.Timedelta(hours=1)).isoformat()}; start={earlier.isoformat()} is not used: give a new "
         f"checkpoint file to follow from it", __file__)]
    assert f.state.start == HOUR.isoformat()  # as the warning says
    with warnings.catch_warnings():  # the same start as the checkpoint's, or none: nothing to say
        warnings.simplefilter("error")
        follow_from(HOUR)
        follow_from(None)


# -- 9. an outage between polls (a real Azurite, frozen with SIGSTOP) ----------------------
def _azurite_source(azurite, port: int | None = None):
    """No retries and a 1 s timeout: a poll while Azurite is frozen fails within a second or two."""
    from flowkit.sources.azure import AzureBlobSource

    conn = azurite.connection_string if port is None else azurite.connection_string.replace(
        f":{azurite.port}/", f":{port}/")
    return AzureBlobSource.from_connection_string(conn, retry_total=0, read_timeout=1, connection_timeout=1)


class Outage:
    """Stands in for ``time.sleep`` between polls: freezes Azurite at one sleep, lets it go on at another.

    Runs ``before`` (commit records) just before freezing; counts the sleeps, sleeps not at all.
    """

    def __init__(self, azurite, freeze_at: int, thaw_at: int | None, before=None) -> None:
        self.pid = azurite.proc.pid
        self.freeze_at, self.thaw_at, self.before = freeze_at, thaw_at, before
        self.sleeps = 0

    def __call__(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps == self.freeze_at:
            if self.before:
                self.before()
            os.kill(self.pid, signal.SIGSTOP)
        if self.sleeps == self.thaw_at:
            self.thaw()

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


def _outage_blob(service, mac: str) -> LiveBlob:
    return LiveBlob(service, _name(mac=mac))


def _delivery_record(minute: int, mac: str) -> dict:
    return delivery_record(HOUR, mac, minute)


def test_a_short_outage_is_warned_about_once_and_the_rows_come_after_it_exactly_once(azurite, service, tmp_path,
                                                                                      monkeypatch):
    mac = "000D3A0000E7"
    blob = _outage_blob(service, mac)
    blob.add(_delivery_record(0, mac))
    cp = tmp_path / "cp.json"
    follower = Follower(_azurite_source(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    # sleep 1: two records committed, then Azurite frozen; polls 2 and 3 fail; sleep 3: it goes on
    outage = Outage(azurite, 1, 3, lambda: [blob.add(_delivery_record(m, mac)) for m in (1, 2)])
    monkeypatch.setattr(follow_module.time, "sleep", outage)
    frames = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for batch in follower.run(interval=0, max_polls=3):
                frames.append(batch.frame)
    finally:
        outage.thaw()
    assert [len(f) for f in frames] == [2, 4, 0]  # minute 0; minutes 1 and 2 after the outage; nothing
    assert outage.sleeps == 4  # polls: 1 (ok), 2 and 3 (failed), 4 (ok), 5 (ok, the last)
    said = [str(w.message) for w in caught]
    assert len(said) == 2, said
    assert said[0].startswith(f"flowkit: the storage account did not answer at 2024-05-01T10:30:00Z; polling again "
                              f"every 0 s, for up to 900 s: cannot reach the storage account {azurite.endpoint} "
                              f"while listing (container '{VNET_CONTAINER}'")
    assert said[1] == ("flowkit: the storage account answers again (it did not from 2024-05-01T10:30:00Z, "
                       "2 failed poll(s)); following on")
    assert_no_secret("\n".join(said), ACCOUNT_KEY)
    _same_rows(frames, _final(azurite, HOUR))
    assert len(Follower(_azurite_source(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=31))).poll()) == 0


def test_an_outage_longer_than_max_outage_stops_with_the_error_and_the_checkpoint_carries_on(
        azurite, service, tmp_path, monkeypatch):
    from flowkit.sources.azure_auth import UnreachableError
    mac = "000D3A0000E8"
    blob = _outage_blob(service, mac)
    blob.add(_delivery_record(0, mac))
    cp = tmp_path / "cp.json"
    follower = Follower(_azurite_source(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    outage = Outage(azurite, 1, None, lambda: blob.add(_delivery_record(1, mac)))
    monkeypatch.setattr(follow_module.time, "sleep", outage)
    frames = []
    try:
        with warnings.catch_warnings(record=True) as caught, pytest.raises(UnreachableError) as info:
            warnings.simplefilter("always")
            for batch in follower.run(interval=0, max_outage=2.5):  # each failed poll takes 1 s or more
                frames.append(batch.frame)
    finally:
        outage.thaw()
    assert str(info.value).startswith(f"cannot reach the storage account {azurite.endpoint} while listing")
    assert [len(f) for f in frames] == [2]
    assert [str(w.message)[:60] for w in caught] == ["flowkit: the storage account did not answer at "
                                                     "2024-05-01T10:30:00Z"[:60]]
    monkeypatch.undo()
    blob.add(_delivery_record(2, mac))
    frames += [b.frame for b in Follower(_azurite_source(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                                         clock=_clock(HOUR + pd.Timedelta(minutes=31))).run(max_polls=1)]
    assert [len(f) for f in frames] == [2, 4]
    _same_rows(frames, _final(azurite, HOUR))


def test_max_outage_zero_stops_at_the_first_failed_poll_without_a_warning(azurite, service, tmp_path, monkeypatch):
    from flowkit.sources.azure_auth import UnreachableError

    mac = "000D3A0000E9"
    _outage_blob(service, mac).add(_delivery_record(0, mac))
    src = _azurite_source(azurite)
    outage = Outage(azurite, 1, None)
    monkeypatch.setattr(follow_module.time, "sleep", outage)
    frames = []
    try:
        with warnings.catch_warnings(record=True) as caught, pytest.raises(UnreachableError):
            warnings.simplefilter("always")
            for batch in src.follow(log_type="vnet", start=HOUR, interval=0, max_outage=0):
                frames.append(batch.frame)
    finally:
        outage.thaw()
    assert [len(f) for f in frames] == [2] and outage.sleeps == 1
    assert [str(w.message) for w in caught] == []


def test_the_first_poll_of_a_run_that_cannot_reach_the_account_fails_at_once(azurite):
    from flowkit.sources.azure_auth import UnreachableError

    with socket.socket() as s:  # a port of 127.0.0.1 nothing listens on (bound, then closed)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with warnings.catch_warnings(record=True) as caught, pytest.raises(UnreachableError) as info:
        warnings.simplefilter("always")
        next(_azurite_source(azurite, port).follow(log_type="vnet", start=HOUR, interval=0))
    assert "nothing listens on 127.0.0.1:" in str(info.value)
    assert [str(w.message) for w in caught] == []


def _short_timeouts(monkeypatch) -> None:
    """``flowkit follow`` builds its source with no retries and 1 s timeouts (the defaults wait minutes)."""
    from flowkit.sources.azure import AzureBlobSource

    real = AzureBlobSource.from_url.__func__
    monkeypatch.setattr(AzureBlobSource, "from_url", classmethod(
        lambda cls, url, **kw: real(cls, url, **kw, retry_total=0, read_timeout=1, connection_timeout=1)))


@pytest.mark.parametrize("max_outage, status, rows, said", [
    pytest.param("600", 0, [2, 2], 2, id="survives"),
    pytest.param("0", 2, [2], 0, id="gives-up-at-once"),
])
def test_cli_follow_max_outage(azurite, service, tmp_path, capsys, monkeypatch, max_outage, status, rows, said):
    hour = pd.Timestamp.now(tz="UTC").floor("h")  # the CLI follows by the real clock
    mac = "000D3A0000EA"
    blob = LiveBlob(service, _name(hour, mac))
    blob.add(delivery_record(hour, mac, 0))
    outage = Outage(azurite, 1, 2, lambda: blob.add(delivery_record(hour, mac, 1)))
    monkeypatch.setattr(follow_module.time, "sleep", outage)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    _short_timeouts(monkeypatch)
    args = ["follow", f"azure://{ACCOUNT}", "--log-type", "vnet", "--checkpoint", str(tmp_path / "cp.json"),
            "--start", hour.isoformat(), "--max-polls", "2", "--interval", "0", "--max-outage", max_outage,
            "--json"]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert cli_main(args) == status
    finally:
        outage.thaw()
    out, err = capsys.readouterr()
    assert [json.loads(line)["rows"] for line in out.splitlines()] == rows
    assert len(caught) == said
    if said:
        assert str(caught[0].message).startswith("flowkit: the storage account did not answer at ")
        assert ("; polling again every 0 s, for up to 600 s: cannot reach the storage account "
                f"{azurite.endpoint} while listing") in str(caught[0].message)
        assert str(caught[1].message).endswith(", 1 failed poll(s)); following on")
    else:
        assert err.startswith(f"flowkit follow: error: cannot reach the storage account {azurite.endpoint} "
                              f"while listing")


# -- 10. run's pace and warnings, on a scripted clock (no Azurite) -----------------------------

def _scripted_run(monkeypatch, script: list[str], **run_args) -> tuple[list, list[float], list]:
    """Follower.run over polls that answer ("ok") or not ("lost"), on a clock that advances 1 s per reading."""
    from flowkit.sources.azure_auth import UnreachableError

    ticks, sleeps = iter(range(0, 1000)), []
    monkeypatch.setattr(follow_module, "time", SimpleNamespace(monotonic=lambda: float(next(ticks)),
                                                               sleep=sleeps.append))
    answers = iter(script)

    def poll():
        if next(answers) == "lost":
            raise UnreachableError("no route to the account")
        return "batch"

    fake = SimpleNamespace(poll=poll, commit=lambda: None, clock=lambda: pd.Timestamp("2024-05-01T10:05Z"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = list(Follower.run(fake, **run_args))  # the warnings point at this line
    return batches, sleeps, caught


def test_run_sleeps_what_is_left_of_the_interval_and_warns_at_the_callers_line(monkeypatch):
    batches, sleeps, caught = _scripted_run(monkeypatch, ["ok", "lost", "lost", "ok", "ok"], interval=30,
                                            max_polls=3, max_outage=None)
    assert batches == ["batch"] * 3
    assert sleeps == [29.0, 29.0, 29.0, 29.0]  # each poll read the clock once before its sleep
    assert [str(w.message) for w in caught] == [
        "flowkit: the storage account did not answer at 2024-05-01T10:05:00Z; polling again every 30 s: "
        "no route to the account",
        "flowkit: the storage account answers again (it did not from 2024-05-01T10:05:00Z, 2 failed poll(s)); "
        "following on"]
    with open(__file__, encoding="utf-8") as f:
        line = next(n for n, text in enumerate(f, 1) if text.rstrip().endswith("# the warnings point at this line"))
    assert {(w.filename, w.lineno) for w in caught} == {(__file__, line)}


def test_run_never_sleeps_less_than_nothing_and_default_polls_each_minute(monkeypatch):
    assert _scripted_run(monkeypatch, ["ok", "lost", "ok"], interval=0, max_polls=2, max_outage=None)[1] == [0.0, 0.0]
    assert _scripted_run(monkeypatch, ["ok", "ok"], max_polls=2)[1] == [59.0]
    assert _scripted_run(monkeypatch, ["ok"], max_polls=0)[0] == []


def test_max_outage_is_reached_when_the_outage_has_lasted_that_long(monkeypatch):
    from flowkit.sources.azure_auth import UnreachableError

    # lost at the clock's 2 s, the check reads 3 s: an outage of 1 s reaches max_outage=1 exactly
    with pytest.raises(UnreachableError):
        _scripted_run(monkeypatch, ["ok", "lost"], interval=0, max_polls=2, max_outage=1)


# -- 10. start names the first hour delivered ------------------------------------------------
@pytest.mark.parametrize("start, first", [
    pytest.param(HOUR, HOUR, id="on-the-hour"),
    pytest.param(HOUR + pd.Timedelta(minutes=5), HOUR, id="five-past"),
    pytest.param(None, HOUR, id="default-the-hour-before-the-first-poll"),
])
def test_start_names_the_first_hour_followed_and_the_hour_before_is_not_delivered(start, first):
    # `flowkit follow --start 10:00` (or after `read_flow_logs(..., end=10:00)`) must not deliver
    # the 09:00 blobs whole again: the listing's 10-minute widening for skewed tuples is for
    # reads that filter rows, and a follower delivers blobs whole.
    store = Store()
    hours = [HOUR + pd.Timedelta(hours=h) for h in (-2, -1, 0, 1)]
    for i, h in enumerate(hours):
        Live(store, _name(h)).add(_record(0, seed=i, hour=h))
    f = Follower(MemSource(store), log_type="vnet", start=start, clock=_clock(HOUR + pd.Timedelta(hours=1, minutes=30)))
    assert pd.Timestamp(f.state.start).floor("h") == first
    batch = _quiet_poll(f)
    assert got(batch) == sorted(ports(0, seed=2) + ports(0, seed=3))
    assert sorted(parse_blob_path(n.split("/", 1)[1]).hour for n in batch.frame["blob"].unique()) == hours[2:]


def test_a_follow_started_on_a_busy_account_waits_out_a_connection_lost_next(monkeypatch) -> None:
    """The first poll answered 503 (the account is busy, its address right: the follow warned it
    polls again for up to max_outage); a reset connection at the next poll is the same outage,
    not a wrong address: it used to end the follow at once."""
    from flowkit.sources.azure_auth import UnavailableError, UnreachableError

    source = SimpleNamespace(describe=lambda: "azure: https://acct.blob.core.windows.net/c")
    follower = Follower(source, log_type="vnet", start="2024-05-01T10:00Z",
                        clock=lambda: pd.Timestamp("2024-05-01T10:30Z"))
    answers: list = [UnavailableError("the storage account answered HTTP 503 ServerBusy while listing", 503,
                                      "ServerBusy"),
                     UnreachableError("cannot reach the storage account: connection reset"), "the batch"]

    def poll():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(follower, "poll", poll)
    monkeypatch.setattr(follow_module.time, "sleep", lambda seconds: None)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        batches = list(follower.run(interval=60, max_polls=1, max_outage=600))
    assert batches == ["the batch"]
    assert answers == []
    assert [str(w.message).split(";")[0] for w in said] == [
        "flowkit: the storage account answered with errors at 2024-05-01T10:30:00Z",
        "flowkit: the storage account answers again (it did not from 2024-05-01T10:30:00Z, 2 failed poll(s))"]
