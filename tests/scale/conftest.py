"""Fixtures for the scale tests: one 2-worker Dask cluster, the samples, a multi-hour corpus."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dask_client():
    """flowkit's local cluster (2 single-threaded worker processes on 127.0.0.1), and its client."""
    import distributed

    from flowkit.scale.cluster import local_cluster

    cluster = local_cluster(n_workers=2, silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated VNet corpus spanning several hours and NICs (about 80k tuples)."""
    from flowkit.synth import write_corpus

    dest = tmp_path_factory.mktemp("corpus")
    info = write_corpus(dest, "vnet", 8_000_000, seed=3)
    assert info.files > 8
    return dest


@pytest.fixture
def synchronous_dask():
    """Each task in this process, one after the other: no cluster needed for small inputs. Shuffles
    by tasks: with a distributed client left as the default by an earlier test, Dask picks its p2p
    shuffle, which cannot run outside a worker."""
    import dask

    with dask.config.set({"scheduler": "synchronous", "dataframe.shuffle.method": "tasks"}):
        yield


@pytest.fixture(scope="module")
def sample_frames():
    """The connectivity, nsg-vs-vnet and encryption samples, each read by the pandas reader."""
    from scale_helpers import SAMPLES, read_json

    return {name: read_json(SAMPLES / name) for name in ("connectivity", "nsg-vs-vnet", "encryption")}
