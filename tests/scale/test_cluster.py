"""local_cluster: 127.0.0.1 only, one thread per worker, the workers' malloc settings."""

from __future__ import annotations

import logging
import os

import dask
import pytest
from distributed import Client

from flowkit.scale.cluster import KEEP_FREED_MEMORY_ENV, local_cluster


def _worker_view(client: Client) -> list[tuple]:
    names = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
    return sorted(client.run(lambda: tuple(os.environ.get(n) for n in names)).values())


def test_workers_listen_on_localhost_and_keep_freed_memory(dask_client: Client) -> None:
    info = dask_client.scheduler_info()
    workers = info["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert all(w["nthreads"] == 1 for w in workers.values())
    assert _worker_view(dask_client) == [tuple(KEEP_FREED_MEMORY_ENV.values())] * 2
    # The setting went to those workers only, not into the notebook's Dask config.
    assert dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_") == 65536


def test_dask_default_when_asked_and_the_notebook_environment_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    with local_cluster(n_workers=1, keep_freed_memory=False, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        assert _worker_view(client) == [("65536", None)]
    with local_cluster(n_workers=1, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        assert _worker_view(client) == [tuple(KEEP_FREED_MEMORY_ENV.values())]
    assert dict(os.environ) == before


@pytest.mark.parametrize("kwargs", [dict(host="0.0.0.0"), dict(dashboard_address=":8787")])
def test_refuses_to_listen_elsewhere(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        local_cluster(**kwargs)
