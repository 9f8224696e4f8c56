"""The compiled scanner at scale: a conversion or a Dask read large enough to pay its start
loads it once (in the converting process, on each worker) for batches that are each too small
to load it alone; a small one leaves it unloaded. The rows are the same either way.

"Large enough" is :data:`flowkit.formats.native_read.NATIVE_MIN_BYTES` (256 MiB); the tests lower
it in the process that decides (the client, the converting process) instead of writing 256 MiB.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from flowkit.formats import decode, native_read
from flowkit.read import read_flow_logs
from flowkit.scale.dask_read import read_flow_logs_dask, scanning_pays
from flowkit.sources.base import BlobRef
from flowkit.store.convert import convert

from scale_helpers import assert_same_frame

ENCRYPTION = Path(__file__).resolve().parents[2] / "data-samples" / "encryption"


@pytest.fixture
def scanner_unloaded(monkeypatch):
    """This process as a fresh one: the scanner not loaded (restored after the test)."""
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.delenv("FLOWKIT_SCANNER", raising=False)


@pytest.fixture
def scanned_batches(monkeypatch) -> list[int]:
    """Tuples of each batch the scanner read in this process."""
    seen: list[int] = []
    real = decode.read_native

    def spy(blobs):
        batch = real(blobs)
        if batch is not None:
            seen.append(batch.n_tuples)
        return batch

    monkeypatch.setattr(decode, "read_native", spy)
    return seen


def test_scanning_pays_from_the_listed_bytes(monkeypatch):
    refs = [BlobRef("a/PT1H.json", size=100 << 20), BlobRef("b/PT1H.json", size=156 << 20)]
    assert scanning_pays(refs) is True  # 256 MiB together, though no partition is
    assert scanning_pays(refs[:1]) is None and scanning_pays([BlobRef("c/PT1H.json")]) is None  # size unknown
    monkeypatch.setattr(native_read, "NATIVE_MIN_BYTES", 100 << 20)
    assert scanning_pays(refs[:1]) is True


def test_a_small_conversion_leaves_the_scanner_unloaded(tmp_path, scanner_unloaded, scanned_batches):
    convert(ENCRYPTION, tmp_path / "ds")
    assert native_read._scanner is None and scanned_batches == []


def test_a_large_conversion_loads_the_scanner_for_all_its_batches(tmp_path, monkeypatch, scanner_unloaded,
                                                                   scanned_batches):
    expected = read_flow_logs(ENCRYPTION)  # the general path: the scanner is not loaded
    assert native_read._scanner is None
    monkeypatch.setattr(native_read, "NATIVE_MIN_BYTES", 1)
    report = convert(ENCRYPTION, tmp_path / "ds")
    assert native_read._scanner is not None and native_read._scanner is not False
    vnet_rows = expected.log_type.eq("vnet").sum()
    assert sum(scanned_batches) == vnet_rows > 0  # every VNet tuple went through the scanner
    assert report.rows_written == len(expected)
    converted = read_flow_logs(tmp_path / "ds")
    key = ["blob", "flow_time", "src_ip", "dst_ip", "src_port", "dst_port"]
    assert_same_frame(converted.sort_values(key, kind="stable").reset_index(drop=True),
                      expected.sort_values(key, kind="stable").reset_index(drop=True))


def test_a_large_dask_read_loads_the_scanner_on_each_worker(monkeypatch):
    """One fresh worker process: a small read leaves its scanner unloaded, a large one loads it."""
    import distributed

    from flowkit.scale.cluster import local_cluster

    def loaded() -> object:
        from flowkit.formats import native_read as nv

        return None if nv._scanner is None else bool(nv._scanner)

    expected = read_flow_logs(ENCRYPTION)
    monkeypatch.delenv("FLOWKIT_SCANNER", raising=False)
    with local_cluster(n_workers=1, silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        small = read_flow_logs_dask(ENCRYPTION).compute()
        assert list(client.run(loaded).values()) == [None]
        monkeypatch.setattr(native_read, "NATIVE_MIN_BYTES", 1)  # on the client, which decides
        large = read_flow_logs_dask(ENCRYPTION).compute()
        assert list(client.run(loaded).values()) == [True]
    for frame in (small, large):
        assert_same_frame(frame.reset_index(drop=True), expected.reset_index(drop=True))
    assert pd.Series(large.log_type).eq("vnet").sum() > 0
