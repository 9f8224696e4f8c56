"""Following growing blobs committed the way Azure commits them, against a real Azurite."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import flowkit
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.follow import Follower
from flowkit.sources.layout import VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.synth import HEAD_BLOCK, TAIL_BLOCK, blob_blocks, blob_bytes, encode_record

from conftest import SUB1, _nsg_blob, _vnet_blob, real_case

KEY = ["flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "mac", "blob"]


def _hour() -> pd.Timestamp:
    # the current hour: a live blob, as Azure writes it during its hour
    return pd.Timestamp.now(tz="UTC").floor("h")


def _records(hour: pd.Timestamp, mac: str, n: int, seed: int = 0) -> list[dict]:
    """n records, one per minute of the hour."""
    out = []
    for minute in range(n):
        rec = _vnet_blob(hour.isoformat(), mac, "/FL", seed + minute, n_records=1)[0]
        out.append(rec)
    return out


class GrowingBlob:
    """A PT1H.json block blob committed like Azure: head, record blocks before the tail."""

    def __init__(self, service, container: str, name: str, records: list[dict], prefix: str = "rec") -> None:
        self.prefix = prefix
        cc = service.get_container_client(container)
        if not cc.exists():
            cc.create_container()
        self.client = cc.get_blob_client(name)
        self.blocks = blob_blocks(records)[1:-1]
        self.committed: list[str] = []
        self.client.stage_block("head", HEAD_BLOCK)
        self.client.stage_block("tail", TAIL_BLOCK)
        self.client.commit_block_list(["head", "tail"])
        self.n = 0

    def add(self) -> int:
        """Commit the next record block before the tail; return its size."""
        from azure.storage.blob import BlobBlock

        block_id = f"{self.prefix}{self.n:05d}"
        data = self.blocks[self.n]
        self.client.stage_block(block_id, data)
        self.committed.append(block_id)
        self.client.commit_block_list([BlobBlock("head")] + [BlobBlock(i) for i in self.committed]
                                      + [BlobBlock("tail")])
        self.n += 1
        return len(data)


def _src(azurite, **kw) -> AzureBlobSource:
    return AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1,
                                                  retry_total=2, **kw)


def _blob_name(hour: pd.Timestamp, mac: str) -> str:
    return real_case(vnet_blob_name(SUB1, "NetworkWatcherRG", "NetworkWatcher_eastus", "fl-live", hour, mac))


def _check_exactly_once(frames: list[pd.DataFrame], final: pd.DataFrame) -> None:
    got = pd.concat([f.astype(str) for f in frames], ignore_index=True)
    assert not got.duplicated(subset=KEY).any(), "a row was delivered twice"
    want = final.astype(str).reset_index(drop=True)
    assert len(got) == len(want)
    pd.testing.assert_frame_equal(got.sort_values(KEY).reset_index(drop=True),
                                  want.sort_values(KEY).reset_index(drop=True))


def test_sixty_minutes_of_commits_exactly_once(azurite, service, tmp_path):
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000101"),
                       _records(hour, "000D3A000101", 60))
    checkpoint = tmp_path / "follow.json"
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=checkpoint, start=hour)
    frames = [follower.poll().frame]
    assert len(frames[0]) == 0
    offset = len(HEAD_BLOCK)
    for minute in range(60):
        size = blob.add()
        batch = follower.poll()
        frames.append(batch.frame)
        assert len(batch) == 2  # two tuples per record
        # only the new block, and the 64 bytes before it that must not have changed
        assert batch.bytes_downloaded == size + min(64, offset)
        offset += size
        json.loads(checkpoint.read_text())  # always whole JSON
    assert follower.poll().bytes_downloaded == 0
    final = flowkit.read_flow_logs(_src(azurite), log_type="vnet", start=hour, end=hour + pd.Timedelta(hours=1))
    assert len(final) == 120
    _check_exactly_once(frames, final)
    assert [p.name for p in tmp_path.iterdir()] == ["follow.json"]  # no temporary files left


def test_restart_from_checkpoint_mid_way(azurite, service, tmp_path):
    hour = _hour()
    macs = ("000D3A000101", "000D3A000102")
    blobs = [GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, m), _records(hour, m, 60, seed=i * 100))
             for i, m in enumerate(macs)]
    checkpoint = tmp_path / "state" / "follow.json"
    frames: list[pd.DataFrame] = []
    # first process: 25 minutes
    first = Follower(_src(azurite), log_type="vnet", checkpoint=checkpoint, start=hour)
    for _ in range(25):
        for b in blobs:
            b.add()
        frames.append(first.poll().frame)
    first.commit()  # it stores its last batch, then stops (else that batch comes again)
    del first
    # new process, new source, same checkpoint: 35 more minutes, commits also while "down"
    for b in blobs:
        b.add()
    src = _src(azurite)
    for _ in range(34):
        frames += [b.frame for b in src.follow(log_type="vnet", checkpoint=checkpoint, max_polls=1, interval=0)]
        for b in blobs:
            b.add()
    frames += [b.frame for b in src.follow(log_type="vnet", checkpoint=checkpoint, max_polls=1)]
    final = flowkit.read_flow_logs(src, log_type="vnet", start=hour, end=hour + pd.Timedelta(hours=1))
    assert len(final) == 2 * 2 * 60
    _check_exactly_once(frames, final)


def test_replaced_and_shrunk_blob_is_read_again_with_a_warning(azurite, service, tmp_path):
    hour = _hour()
    name = _blob_name(hour, "000D3A000103")
    blob = GrowingBlob(service, VNET_CONTAINER, name, _records(hour, "000D3A000103", 10))
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=tmp_path / "f.json", start=hour)
    for _ in range(5):
        blob.add()
    assert len(follower.poll()) == 10
    # replaced by a shorter blob (3 other records), uploaded whole
    replacement = blob_bytes(_records(hour, "000D3A000103", 3, seed=50))
    blob.client.upload_blob(replacement, overwrite=True)
    with pytest.warns(UserWarning, match="replaced or shrank"):
        batch = follower.poll()
    assert len(batch) == 6 and batch.reread == (f"{VNET_CONTAINER}/{name}",)
    # it then grows by byte range (no block list): only the new record comes
    grown = replacement[:-2] + b"," + encode_record(_records(hour, "000D3A000103", 1, seed=77)[0]) + b"]}"
    blob.client.upload_blob(grown, overwrite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = follower.poll()
    assert len(batch) == 2 and batch.bytes_downloaded < len(grown) // 2


def test_blob_replaced_by_a_longer_one_in_other_blocks_is_read_again_with_a_warning(azurite, service, tmp_path):
    """Deleted and committed anew within its hour, with more blocks than the follower has read:
    the blocks it read are gone (other IDs), so the new blob is read whole, not from the old offset."""
    hour = _hour()
    name = _blob_name(hour, "000D3A000104")
    blob = GrowingBlob(service, VNET_CONTAINER, name, _records(hour, "000D3A000104", 10))
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=tmp_path / "f.json", start=hour)
    for _ in range(3):
        blob.add()
    assert len(follower.poll()) == 6
    again = GrowingBlob(service, VNET_CONTAINER, name, _records(hour, "000D3A000104", 8, seed=50), prefix="new")
    for _ in range(8):
        again.add()
    with pytest.warns(UserWarning, match="replaced or shrank"):
        batch = follower.poll()
    assert len(batch) == 16 and batch.reread == (f"{VNET_CONTAINER}/{name}",)
    final = flowkit.read_flow_logs(_src(azurite), log_type="vnet", start=hour, end=hour + pd.Timedelta(hours=1))
    pd.testing.assert_frame_equal(batch.frame.astype(str).reset_index(drop=True),
                                  final.astype(str).reset_index(drop=True))


def test_blob_followed_by_byte_range_then_shrunk_is_read_again_with_a_warning(azurite, service, tmp_path):
    """A blob without a block list (uploaded whole) is followed by byte range; replaced by a
    shorter one, it is read again whole, not from past its end."""
    hour = _hour()
    name = _blob_name(hour, "000D3A000105")
    client = service.get_container_client(VNET_CONTAINER)
    if not client.exists():
        client.create_container()
    blob = client.get_blob_client(name)
    blob.upload_blob(blob_bytes(_records(hour, "000D3A000105", 6)), overwrite=True)
    follower = Follower(_src(azurite), log_type="vnet", checkpoint=tmp_path / "f.json", start=hour)
    assert len(follower.poll()) == 12
    shorter = blob_bytes(_records(hour, "000D3A000105", 2, seed=60))
    blob.upload_blob(shorter, overwrite=True)
    with pytest.warns(UserWarning, match="was replaced or shrank"):
        batch = follower.poll()
    assert len(batch) == 4 and batch.reread == (f"{VNET_CONTAINER}/{name}",)
    assert batch.bytes_downloaded == len(shorter)  # read once, whole


def test_nsg_blob_growing_and_checkpoint_mismatch(azurite, service, tmp_path):
    hour = _hour()
    name = real_case(nsg_blob_name(SUB1, "RG-APP", "NSG-LIVE", hour, "000D3A000201"))
    records = _nsg_blob(hour.isoformat(), "000D3A000201", "/NSG", 3, n_records=4)
    blob = GrowingBlob(service, "insights-logs-networksecuritygroupflowevent", name, records)
    cp = tmp_path / "nsg.json"
    follower = Follower(_src(azurite), log_type="nsg", checkpoint=cp, start=hour)
    total = 0
    for _ in range(4):
        blob.add()
        total += len(follower.poll())
    assert total == 8
    with pytest.raises(flowkit.SourceError, match="checkpoint"):
        Follower(_src(azurite), log_type="vnet", checkpoint=cp)
    assert "AccountKey" not in cp.read_text() and "Eby8" not in cp.read_text()


def test_a_blob_deleted_between_listing_and_reading_is_warned_about_and_the_stream_goes_on(azurite, service):
    """A retention policy deletes the oldest hour's blob while a poll is under way: the poll warns,
    delivers the other blobs and forgets it, instead of ending the follow with an error."""
    hour = _hour()
    keep = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000102"), _records(hour, "000D3A000102", 3))
    gone = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000103"), _records(hour, "000D3A000103", 3))
    keep.add()
    gone.add()
    src = _src(azurite)
    listed = src.list_blobs

    def list_then_delete(**kwargs):
        listing = listed(**kwargs)
        gone.client.delete_blob()  # after the listing, before the follower reads it
        return listing

    follower = Follower(src, log_type="vnet", start=hour)
    src.list_blobs = list_then_delete
    with pytest.warns(flowkit.FlowkitDataWarning) as caught:
        batch = follower.poll()
    assert [str(w.message) for w in caught] == [
        f"flowkit: {VNET_CONTAINER}/{_blob_name(hour, '000D3A000103')} was deleted after it was listed (a "
        f"retention policy?); followed without it"]
    assert len(batch) == 2 and set(batch.frame["mac"].astype(str)) == {"000D3A000102"}
    src.list_blobs = listed
    keep.add()
    assert len(follower.poll()) == 2  # the stream goes on
