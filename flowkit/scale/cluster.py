"""A local Dask cluster with the settings flowkit's aggregations run best with.

``local_cluster()`` is ``distributed.LocalCluster`` with three choices made:

- everything listens on 127.0.0.1 only (scheduler, workers and dashboard), never on
  every interface;
- one thread per worker process (flowkit's partition tasks hold the GIL in places);
- the workers keep some of the memory they free for their next tasks instead of
  handing it back to the operating system at once (``keep_freed_memory``). Dask's
  own default (``MALLOC_TRIM_THRESHOLD_=65536``) also freezes glibc's mmap
  threshold at 128 KiB, so every array above that is a fresh mapping and each
  task pays again for new pages. Measured on the 2-core VM of this project
  (``benchmarks/bench_scale.py --tuples 40000000``, with and without
  ``--dask-default-malloc``; talker graph of 40 M rows on 2 workers, peak RSS per
  worker): from Parquet 103.4 s and 1.0 GB with :data:`KEEP_FREED_MEMORY_ENV`
  against 137.9 s and 0.8 GB with Dask's default; from JSON 141.8 s and 1.4 GB
  against 176.1 s and 1.2 GB. Keeping more (8 or 32 MiB blocks from the heap)
  measured 98-105 s from Parquet, within this VM's drift, and took workers to
  1.4-1.6 GB.

Examples
--------
>>> from distributed import Client
>>> with local_cluster(n_workers=2) as cluster, Client(cluster) as client:  # doctest: +SKIP
...     G = talker_graph_dask(flowkit.read_flow_logs("flows.parquet", engine="dask"))
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["local_cluster", "KEEP_FREED_MEMORY_ENV"]

#: Worker environment that keeps freed memory in the process (glibc's malloc): blocks up to
#: 4 MiB (a column of a partition) come from the heap and are reused, and the heap is
#: trimmed only past 64 MiB free at its top.
KEEP_FREED_MEMORY_ENV = {"MALLOC_TRIM_THRESHOLD_": str(64 << 20), "MALLOC_MMAP_THRESHOLD_": str(4 << 20)}


def local_cluster(n_workers: int = 2, *, threads_per_worker: int = 1, keep_freed_memory: bool = True,
                  **kwargs: Any) -> Any:
    """Start a ``distributed.LocalCluster`` on 127.0.0.1 for flowkit's Dask engine.

    Parameters
    ----------
    n_workers : int, default 2
        Worker processes (one per core is a good start).
    threads_per_worker : int, default 1
        Threads in each worker.
    keep_freed_memory : bool, default True
        Start the workers with :data:`KEEP_FREED_MEMORY_ENV` (see the module
        docstring); False keeps Dask's default of returning memory at once.
    **kwargs
        Passed to ``distributed.LocalCluster`` (``memory_limit``,
        ``silence_logs``, ...). ``host`` and ``dashboard_address`` may not point
        elsewhere than 127.0.0.1; ``dashboard_address=None`` starts no dashboard.

    Returns
    -------
    distributed.LocalCluster
        Close it (or use it in a ``with`` block) when done.

    Examples
    --------
    >>> from distributed import Client
    >>> with local_cluster() as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     print(len(client.scheduler_info()["workers"]))
    2
    """
    import dask
    from distributed import LocalCluster

    host = kwargs.pop("host", "127.0.0.1")
    dashboard = kwargs.pop("dashboard_address", "127.0.0.1:0")
    if host != "127.0.0.1" or (dashboard is not None and not str(dashboard).startswith("127.0.0.1:")):
        from flowkit.errors import ArgumentError

        raise ArgumentError("local_cluster listens on 127.0.0.1 only; "
                         "use distributed.LocalCluster directly to listen elsewhere")
    env = KEEP_FREED_MEMORY_ENV if keep_freed_memory else {}
    # Dask's nanny gives each worker the variables of ``distributed.nanny.pre-spawn-environ``,
    # letting the notebook's own environment override them, and writes them into that
    # environment as it starts the workers. Set them for these workers only, then put the
    # notebook's environment back as it was.
    with _environment(env), dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in env.items()}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                            host=host, dashboard_address=dashboard, **kwargs)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` (and whatever Dask writes there) for the block only."""
    import dask

    keys = set(values) | set(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
