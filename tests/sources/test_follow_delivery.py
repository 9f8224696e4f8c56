"""Follow mode: what is delivered when a consumer, a disk or a blob misbehaves (real Azurite).

Each test counts rows exactly. Blobs are committed the way Azure commits them (a head
block, one block per record inserted before the 2-byte tail block) or, for blobs without
a block list, uploaded whole each minute in the layouts seen in the wild.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import warnings

import pandas as pd
import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import FlowkitDataWarning
from flowkit.sources import follow as follow_module
from flowkit.sources.follow import Follower
from flowkit.sources.layout import VNET_CONTAINER
from flowkit.synth import encode_record, record_time, vnet_record, vnet_tuple

from conftest import ACCOUNT, REPO
from test_azure_follow import KEY as ROW_KEY
from test_azure_follow import _blob_name, _src

HOUR = pd.Timestamp("2024-05-01T10:00Z")
BAD_PORT = "1714557600000,192.0.2.1,10.0.0.4,99999,443,6,O,C,NX,1,1,1,1"


def _clock(now: pd.Timestamp):
    return lambda: now


def _record(hour: pd.Timestamp, mac: str, minute: int, seed: int = 0, extra: tuple[str, ...] = ()) -> dict:
    """One record of two tuples; records of one minute differ by seed but not in length."""
    base = int(hour.timestamp()) + 60 * minute
    tuples = [vnet_tuple((base + k) * 1000, "10.0.0.4", f"203.0.113.{(seed * 7 + minute + k) % 90 + 10}",
                         40000 + minute * 10 + k + (seed % 9) * 1000, 443, 6, "O", "C" if k else "B", "NX",
                         (3 + k, 700, 2, 1500)) for k in range(2)] + list(extra)
    return vnet_record(record_time(base + 50, 1234567), "guid-1", mac, "/SUBSCRIPTIONS/X/FLOWLOGS/FL1",
                       "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
                       [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowInternetOutBound", tuples)])])


class LiveBlob:
    """A PT1H.json committed like Azure, one record at a time (block IDs restart with a new blob)."""

    def __init__(self, service, name: str) -> None:
        from azure.storage.blob import BlobBlock

        cc = service.get_container_client(VNET_CONTAINER)
        if not cc.exists():
            cc.create_container()
        self.client = cc.get_blob_client(name)
        self.ids: list[str] = []
        self.sizes: list[int] = []
        self.client.stage_block("head", b'{"records":[')
        self.client.stage_block("tail", b"]}")
        self._commit = lambda: self.client.commit_block_list(
            [BlobBlock("head")] + [BlobBlock(i) for i in self.ids] + [BlobBlock("tail")])
        self._commit()

    def add(self, record: dict) -> int:
        body = encode_record(record)
        data = body if not self.ids else b"," + body
        self.ids.append(f"rec{len(self.ids):05d}")
        self.client.stage_block(self.ids[-1], data)
        self._commit()
        self.sizes.append(len(data))
        return len(data)


def _final(azurite, hour: pd.Timestamp) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        return flowkit.read_flow_logs(_src(azurite), log_type="vnet", start=hour, end=hour + pd.Timedelta(hours=1))


def _same_rows(frames: list[pd.DataFrame], final: pd.DataFrame) -> None:
    """Every row of ``final`` delivered exactly once, nothing else."""
    got = pd.concat([f.astype(str) for f in frames], ignore_index=True)
    assert not got.duplicated(subset=ROW_KEY).any(), "a row was delivered twice"
    assert len(got) == len(final)
    pd.testing.assert_frame_equal(got.sort_values(ROW_KEY).reset_index(drop=True),
                                  final.astype(str).sort_values(ROW_KEY).reset_index(drop=True))


# -- 1. a checkpoint that cannot be saved ------------------------------------------------
def test_failed_checkpoint_save_then_retry_loses_no_rows(azurite, service, tmp_path, monkeypatch):
    mac = "000D3A0000FA"
    blob = LiveBlob(service, _blob_name(HOUR, mac))
    blob.add(_record(HOUR, mac, 0))
    cp = tmp_path / "cp.json"
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    frames = [follower.poll().frame]
    assert len(frames[0]) == 2
    blob.add(_record(HOUR, mac, 1))
    blob.add(_record(HOUR, mac, 2))
    save = follow_module.Checkpoint.save
    failures = []

    def disk_full_once(self, path):
        if not failures:
            failures.append(path)
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        save(self, path)

    monkeypatch.setattr(follow_module.Checkpoint, "save", disk_full_once)
    with pytest.raises(OSError, match="No space left"):
        follower.poll()
    blob.add(_record(HOUR, mac, 3))
    batch = follower.poll()  # the retry
    assert len(batch) == 6  # minutes 1, 2 and 3
    assert len(failures) == 1
    frames.append(batch.frame)
    follower.commit()
    assert len(Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=31))).poll()) == 0
    _same_rows(frames, _final(azurite, HOUR))


def test_failed_save_in_the_loop_is_raised_where_the_next_batch_is_asked_for(azurite, service, tmp_path,
                                                                               monkeypatch):
    mac = "000D3A0000FB"
    blob = LiveBlob(service, _blob_name(HOUR, mac))
    blob.add(_record(HOUR, mac, 0))
    blob.add(_record(HOUR, mac, 1))
    cp = tmp_path / "cp.json"
    clock = _clock(HOUR + pd.Timedelta(minutes=30))
    monkeypatch.setattr(follow_module.Checkpoint, "save",
                        lambda self, path: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    got = []
    with pytest.raises(OSError):
        for batch in Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR, clock=clock).run(
                interval=0, max_polls=3):
            got.append(len(batch))
    assert got == [4] and not cp.exists()
    monkeypatch.undo()
    # a new process finds no checkpoint: the 4 rows come again, with the new ones
    blob.add(_record(HOUR, mac, 2))
    stream = Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR, clock=clock).run(
        interval=0, max_polls=1)
    assert [len(b) for b in stream] == [6]
    assert json.loads(cp.read_text())["blobs"]


# -- 2. a consumer that fails while it holds a batch --------------------------------------
def test_batch_is_delivered_again_when_the_consumer_fails_with_it(azurite, service, tmp_path):
    hour = pd.Timestamp.now(tz="UTC").floor("h")  # src.follow polls "now": a live blob
    mac = "000D3A0000F3"
    blob = LiveBlob(service, _blob_name(hour, mac))
    for minute in range(3):
        blob.add(_record(hour, mac, minute))
    cp = tmp_path / "cp.json"
    seen = []
    with pytest.raises(RuntimeError, match="consumer"):
        for batch in _src(azurite).follow(log_type="vnet", checkpoint=cp, start=hour, interval=0, max_polls=1):
            seen.append(len(batch))
            raise RuntimeError("consumer crashed before storing the batch")
    assert seen == [6]
    blob.add(_record(hour, mac, 3))
    frames = [b.frame for b in _src(azurite).follow(log_type="vnet", checkpoint=cp, interval=0, max_polls=1)]
    assert [len(f) for f in frames] == [8]  # the 6 rows again, and the 2 new ones
    assert [len(b) for b in _src(azurite).follow(log_type="vnet", checkpoint=cp, interval=0, max_polls=1)] == [0]
    _same_rows(frames, _final(azurite, hour))


def test_break_keeps_the_batch_only_when_committed(azurite, service, tmp_path):
    mac = "000D3A0000F6"
    blob = LiveBlob(service, _blob_name(HOUR, mac))
    blob.add(_record(HOUR, mac, 0))
    cp = tmp_path / "cp.json"
    clock = _clock(HOUR + pd.Timedelta(minutes=30))

    def follower() -> Follower:
        return Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR, clock=clock)

    for batch in follower().run(interval=0):
        assert len(batch) == 2
        break  # not committed: comes again
    for batch in follower().run(interval=0):
        assert len(batch) == 2
        batch.commit()
        batch.commit()  # twice is once
        break
    blob.add(_record(HOUR, mac, 1))
    f = follower()
    first = f.poll()
    assert len(first) == 2
    second = f.poll()  # commits the first
    first.commit()  # too late: nothing happens
    assert len(second) == 0
    # poll() alone: a process that stops after poll() without commit() gets the batch again
    blob.add(_record(HOUR, mac, 2))
    assert len(follower().poll()) == 2  # minute 2 (minute 1 was committed by the second poll)
    again = follower()
    assert len(again.poll()) == 2  # minute 2 again
    again.commit()
    assert len(follower().poll()) == 0


def test_cli_records_a_poll_only_after_printing_it(azurite, service, tmp_path, capsys, monkeypatch):
    hour = pd.Timestamp.now(tz="UTC").floor("h")
    mac = "000D3A0000F7"
    blob = LiveBlob(service, _blob_name(hour, mac))
    for minute in range(3):
        blob.add(_record(hour, mac, minute))
    cp = tmp_path / "cp.json"
    args = ["follow", f"azure://{ACCOUNT}", "--log-type", "vnet", "--checkpoint", str(cp),
            "--start", hour.isoformat(), "--once", "--json"]
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string, "PATH": "/usr/bin:/bin"}
    # `flowkit follow … --once --json | head -c0`: the reader is gone before the poll is printed
    proc = subprocess.Popen([sys.executable, "-m", "flowkit", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO, env=env)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err  # a broken pipe: stopped quietly
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    assert cli_main(args) == 0
    polls = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["rows"] for p in polls] == [6] and len(polls[0]["flows"]) == 6
    assert cli_main(args) == 0
    assert [json.loads(line)["rows"] for line in capsys.readouterr().out.splitlines()] == [0]


# -- 3. blobs without a block list, in the layouts seen in the wild ------------------------
@pytest.mark.parametrize("head, sep, tail, trailing_comma", [
    pytest.param(b'{"records":[', b",", b"]}", False, id="plain"),
    pytest.param(b'\xef\xbb\xbf{"records":[', b",", b"]}", False, id="bom"),
    pytest.param(b'{"records":[\r\n', b",\r\n", b"\r\n]}", False, id="crlf"),
    pytest.param(b'{\n  "records": [\n    ', b",\n    ", b"\n  ]\n}\n", False, id="pretty"),
    pytest.param(b'{\r\n  "records": [\r\n    ', b",\r\n    ", b"\r\n  ]\r\n}\r\n", False, id="pretty-crlf"),
    pytest.param(b'{"records":[', b",", b"]}", True, id="trailing-comma"),
])
def test_blob_without_block_list_grows_exactly_once(azurite, service, tmp_path, head, sep, tail, trailing_comma):
    mac = "000D3A0000F5"
    service.create_container(VNET_CONTAINER)
    client = service.get_blob_client(VNET_CONTAINER, _blob_name(HOUR, mac))
    records: list[bytes] = []

    def upload() -> None:
        inner = sep.join(records) + (b"," if trailing_comma and records else b"")
        client.upload_blob(head + inner + tail, overwrite=True)

    upload()
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=tmp_path / "cp.json", start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = [follower.poll().frame]
        polls = []
        for minute in range(12):
            records.append(encode_record(_record(HOUR, mac, minute)))
            upload()
            batch = follower.poll()
            polls.append((len(batch), batch.reread, batch.bytes_downloaded < 2 * len(records[-1])))
            frames.append(batch.frame)
    assert sum(len(f) for f in frames) == 24
    assert polls == [(2, (), True)] * 12  # two rows each; the new record downloaded, not the blob
    assert [str(w.message) for w in caught] == []  # no "replaced or shrank"
    _same_rows(frames, _final(azurite, HOUR))


# -- 4. quarantined tuples are said, not hidden --------------------------------------------
def test_poll_warns_about_quarantined_tuples(azurite, service, tmp_path):
    mac = "000D3A0000F9"
    blob = LiveBlob(service, _blob_name(HOUR, mac))
    blob.add(_record(HOUR, mac, 0, extra=(BAD_PORT,)))
    follower = Follower(_src(azurite), log_type="vnet", start=HOUR, clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    with pytest.warns(FlowkitDataWarning, match=r"3 tuple\(s\): 2 row\(s\), 1 quarantined"):
        batch = follower.poll()
    assert len(batch) == 2 and batch.report.quarantined == 1
    assert list(batch.report.quarantine["raw"]) == [BAD_PORT]
    blob.add(_record(HOUR, mac, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(follower.poll()) == 2  # the next poll is clean: no warning


def test_cli_line_says_how_many_tuples_were_quarantined(azurite, service, tmp_path, capsys, monkeypatch):
    hour = pd.Timestamp.now(tz="UTC").floor("h")
    mac = "000D3A0000F8"
    blob = LiveBlob(service, _blob_name(hour, mac))
    blob.add(_record(hour, mac, 0, extra=(BAD_PORT,)))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    with pytest.warns(FlowkitDataWarning, match="1 quarantined"):
        assert cli_main(["follow", f"azure://{ACCOUNT}", "--log-type", "vnet", "--checkpoint",
                         str(tmp_path / "cp.json"), "--start", hour.isoformat(), "--once"]) == 0
    line, = capsys.readouterr().out.splitlines()
    assert "  +2 row(s)  1 blob(s) changed  " in line and line.endswith("downloaded  1 tuple(s) quarantined")


# -- 5. a blob written again with the same block IDs and sizes -----------------------------
def test_blob_rewritten_with_the_same_block_ids_and_sizes_is_read_again(azurite, service, tmp_path):
    mac = "000D3A0000F4"
    name = _blob_name(HOUR, mac)
    old = LiveBlob(service, name)
    for minute in range(5):
        old.add(_record(HOUR, mac, minute, seed=2))
    cp = tmp_path / "cp.json"
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=_clock(HOUR + pd.Timedelta(minutes=30)))
    assert len(follower.poll()) == 10
    # deleted and written again from scratch by the same writer: block IDs restart,
    # other records of the same length
    service.get_blob_client(VNET_CONTAINER, name).delete_blob()
    new = LiveBlob(service, name)
    for minute in range(7):
        new.add(_record(HOUR, mac, minute, seed=3))
    assert new.ids[:5] == old.ids and new.sizes[:5] == old.sizes  # the block list looks grown
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = follower.poll()
    assert len(batch) == 14 and batch.reread == (f"{VNET_CONTAINER}/{name}",)
    assert [str(w.message) for w in caught if "was replaced" in str(w.message)] != []
    _same_rows([batch.frame], _final(azurite, HOUR))
    new.add(_record(HOUR, mac, 7, seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = follower.poll()
    assert len(batch) == 2 and batch.reread == ()


def test_checkpoint_of_an_older_flowkit_carries_on_without_a_reread(azurite, service, tmp_path):
    # block entries written before the check digest existed have no "check": trusted as before
    mac = "000D3A0000F2"
    blob = LiveBlob(service, _blob_name(HOUR, mac))
    blob.add(_record(HOUR, mac, 0))
    cp = tmp_path / "cp.json"
    clock = _clock(HOUR + pd.Timedelta(minutes=30))
    first = Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR, clock=clock)
    assert len(first.poll()) == 2
    first.commit()
    state = json.loads(cp.read_text())
    for entry in state["blobs"].values():
        del entry["check"]
    cp.write_text(json.dumps(state))
    blob.add(_record(HOUR, mac, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = Follower(_src(azurite), log_type="vnet", checkpoint=cp, start=HOUR, clock=clock).poll()
    assert len(batch) == 2 and batch.reread == ()
