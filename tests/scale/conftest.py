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
