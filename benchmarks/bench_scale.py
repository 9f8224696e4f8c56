"""Benchmark of issue 7: Parquet conversion, Parquet re-read, and Dask on 2 workers.

Generates a VNet corpus with :func:`flowkit.synth.write_corpus` (not committed),
then measures and prints (never asserts):

1. JSON parse with the single-process pandas reader (tuples/s, frame size);
2. JSON -> Parquet conversion rate (``flowkit.store.convert.convert``);
3. Parquet re-read vs JSON parse (target >= 10x faster);
4. Dask on ``local_cluster(n_workers=2)``, 2 single-threaded worker processes: reading the
   JSON (throughput relative to the single-process reader, target >= 0.8x) and
   the talker-graph aggregation from the Parquet dataset, with the peak RSS of
   each worker sampled with psutil (target <= 1.5 GB per worker, while the same
   rows as one pandas frame need more than that).

Run it small first::

    .venv/bin/python benchmarks/bench_scale.py --tuples 500000

Examples
--------
>>> main(["--tuples", "200000", "--workdir", "/tmp/flowkit-bench"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

#: Bytes of VNet JSON per tuple in the synthetic corpus (measured: about 95).
BYTES_PER_TUPLE = 95


class PeakRSS:
    """Sample the resident memory of some processes (and their children) in a thread."""

    def __init__(self, pids: Sequence[int], interval: float = 0.1) -> None:
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.interval = interval
        self.peak = {p: 0 for p in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for proc in self.procs:
                try:
                    rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                except psutil.Error:
                    continue
                self.peak[proc.pid] = max(self.peak[proc.pid], rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def timed(label: str, func: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``func`` and print how long it took."""
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return result, seconds


def corpus(workdir: Path, tuples: int, seed: int) -> tuple[Path, dict]:
    """Write (or reuse) a VNet corpus of at least ``tuples`` tuples."""
    from flowkit.synth import write_corpus

    dest = workdir / f"corpus-{tuples}-{seed}"
    info_file = dest / "corpus-info.json"
    if info_file.exists():
        return dest, json.loads(info_file.read_text())
    shutil.rmtree(dest, ignore_errors=True)
    info, seconds = timed("generate corpus", lambda: write_corpus(dest, "vnet", tuples * BYTES_PER_TUPLE, seed=seed))
    data = {"files": info.files, "records": info.records, "tuples": info.tuples, "bytes": info.bytes,
            "seconds": round(seconds, 1)}
    info_file.write_text(json.dumps(data))
    return dest, data


def first_touch_seconds(megabytes: float, huge_pages: bool = False) -> float:
    """Seconds a new process takes to write ``megabytes`` of memory it has just allocated.

    A floor under any read that builds a frame of that size: on virtual machines whose
    host backs guest memory lazily, first-touch memory can cost seconds per GB.
    ``huge_pages``: with numpy's transparent-huge-page hint (numpy's default; flowkit
    allocates its frames without it, see :func:`flowkit.frame_fill.small_pages`).
    """
    code = ("import time, numpy as np; t = time.perf_counter(); "
            f"a = np.ones({int(megabytes * 1e6) // 8}); print(time.perf_counter() - t)")
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "1" if huge_pages else "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuples", type=int, default=20_000_000, help="corpus size in tuples (default 20 M)")
    parser.add_argument("--workdir", default=str(Path(__file__).resolve().parent / "corpus" / "scale"),
                        help="where the corpus and dataset go (default benchmarks/corpus/scale, git-ignored)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--partition-mb", type=int, default=64, help="JSON MB per Dask partition")
    parser.add_argument("--skip-pandas-graph", action="store_true",
                        help="do not build the pandas talker graph for comparison")
    parser.add_argument("--skip-dask", action="store_true", help="stop after the Parquet re-read (steps 1-3)")
    parser.add_argument("--dask-default-malloc", action="store_true",
                        help="workers with Dask's malloc settings instead of local_cluster's keep_freed_memory")
    args = parser.parse_args(argv)

    import psutil
    from distributed import Client

    from flowkit.read import read_flow_logs
    from flowkit.scale.dask_read import read_flow_logs_dask
    from flowkit.scale.cluster import local_cluster
    from flowkit.scale.graph import GRAPH_COLUMNS, talker_graph_dask
    from flowkit.store.convert import convert

    warnings.simplefilter("ignore")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"flowkit scale benchmark: {args.tuples:,} tuples requested, {os.cpu_count()} CPU(s)", flush=True)
    src, info = corpus(workdir, args.tuples, args.seed)
    gb = info["bytes"] / 1e9
    print(f"corpus: {info['tuples']:,} tuples, {info['files']:,} blobs, {gb:.2f} GB JSON at {src}", flush=True)
    me = psutil.Process()

    print("1. JSON parse, single process (pandas reader, 2 decode threads)", flush=True)
    frame, t_json = timed("read_flow_logs(JSON)", lambda: read_flow_logs(src, progress=False))
    rows = len(frame)
    frame_mb = frame.memory_usage(deep=True).sum() / 1e6
    graph_cols_mb = frame[GRAPH_COLUMNS].memory_usage(deep=True).sum() / 1e6
    print(f"  {rows:,} rows, {rows / t_json:,.0f} tuples/s, {gb * 1e3 / t_json:.1f} MB/s JSON; "
          f"frame {frame_mb:,.0f} MB ({graph_cols_mb:,.0f} MB for the graph's columns); "
          f"process RSS {me.memory_info().rss / 1e6:,.0f} MB", flush=True)
    pandas_graph = None
    if not args.skip_pandas_graph:
        from flowkit.analysis.graph import talker_graph

        pandas_graph, t_pg = timed("talker_graph(pandas frame)", lambda: talker_graph(frame))
        print(f"  process RSS after pandas graph {me.memory_info().rss / 1e6:,.0f} MB", flush=True)
    del frame

    print("2. JSON -> Parquet conversion", flush=True)
    dest = workdir / f"dataset-{args.tuples}-{args.seed}"
    shutil.rmtree(dest, ignore_errors=True)
    report, t_conv = timed("convert", lambda: convert(src, dest))
    pq_mb = sum(p.stat().st_size for p in dest.rglob("*.parquet")) / 1e6
    print(f"  {report.rows_written:,} rows in {report.files_written} files, {pq_mb:,.0f} MB Parquet; "
          f"{report.rows_written / t_conv:,.0f} tuples/s, {gb * 1e3 / t_conv:.1f} MB/s JSON", flush=True)
    again, t_again = timed("convert again (all sealed, skipped)", lambda: convert(src, dest))
    print(f"  skipped {again.units_skipped} units, wrote {again.units_written}", flush=True)

    print("3. Parquet re-read vs JSON parse", flush=True)
    back, t_pq = timed("read_flow_logs(Parquet)", lambda: read_flow_logs(dest))
    print(f"  {len(back):,} rows; {t_json / t_pq:.1f}x faster than JSON (target >= 10x)", flush=True)
    del back
    cols, t_cols = timed("read_flow_logs(Parquet, graph columns)", lambda: read_flow_logs(dest, columns=GRAPH_COLUMNS))
    del cols
    t_touch, t_touch_huge = first_touch_seconds(frame_mb), first_touch_seconds(frame_mb, huge_pages=True)
    print(f"  context: writing {frame_mb:,.0f} MB of fresh memory (a frame's size) in a new process takes "
          f"{t_touch:.1f} s on this machine ({t_touch_huge:.1f} s with numpy's huge-page hint)", flush=True)
    if args.skip_dask:
        print("summary " + json.dumps({
            "tuples": rows, "json_parse_s": round(t_json, 1), "pandas_frame_mb": round(frame_mb),
            "convert_s": round(t_conv, 1), "parquet_read_s": round(t_pq, 2), "parquet_vs_json": round(t_json / t_pq, 1),
            "parquet_graph_columns_read_s": round(t_cols, 2), "first_touch_frame_s": round(t_touch, 2),
            "first_touch_frame_huge_pages_s": round(t_touch_huge, 2)}), flush=True)
        return 0

    print("4. Dask, flowkit.scale.cluster.local_cluster(n_workers=2): 2 single-threaded worker processes, "
          + ("Dask's malloc settings" if args.dask_default_malloc else "keep_freed_memory"), flush=True)
    with local_cluster(n_workers=2, keep_freed_memory=not args.dask_default_malloc, memory_limit=None,
                       silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        partition_bytes = args.partition_mb << 20
        ddf = read_flow_logs_dask(src, partition_bytes=partition_bytes)
        with PeakRSS(pids) as peak_read:
            n_dask, t_dask = timed(f"read JSON on 2 workers ({ddf.npartitions} partitions), count rows",
                                   lambda: int(ddf.map_partitions(len).sum().compute()))
        print(f"  {n_dask:,} rows, {n_dask / t_dask:,.0f} tuples/s; throughput vs single process: "
              f"{t_json / t_dask:.2f}x (target >= 0.8x); peak worker RSS "
              + ", ".join(f"{v / 1e6:,.0f} MB" for v in peak_read.peak.values()), flush=True)
        client.run(lambda: __import__("gc").collect())
        pdf = read_flow_logs_dask(dest, columns=GRAPH_COLUMNS)
        with PeakRSS(pids) as peak_graph:
            G, t_graph = timed(f"talker_graph_dask(Parquet, {pdf.npartitions} partitions)",
                               lambda: talker_graph_dask(pdf))
        worst = max(peak_graph.peak.values()) / 1e9
        print(f"  {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges; peak worker RSS "
              + ", ".join(f"{v / 1e6:,.0f} MB" for v in peak_graph.peak.values())
              + f" (target <= 1.5 GB: {'met' if worst <= 1.5 else 'NOT met'}; one pandas frame of these rows: "
              f"{frame_mb / 1e3:.2f} GB)", flush=True)
        ddf_json = read_flow_logs_dask(src, columns=GRAPH_COLUMNS, partition_bytes=partition_bytes)
        with PeakRSS(pids) as peak_json_graph:
            G2, t_graph_json = timed("talker_graph_dask(JSON)", lambda: talker_graph_dask(ddf_json))
        print("  peak worker RSS " + ", ".join(f"{v / 1e6:,.0f} MB" for v in peak_json_graph.peak.values()),
              flush=True)
    if pandas_graph is not None:
        same = (G.graph == pandas_graph.graph and dict(G.nodes(data=True)) == dict(pandas_graph.nodes(data=True))
                and _edges(G) == _edges(pandas_graph) and _edges(G2) == _edges(pandas_graph))
        print(f"  Dask graphs equal the pandas graph: {same}", flush=True)
    summary = {
        "tuples": info["tuples"], "json_gb": round(gb, 3), "json_parse_s": round(t_json, 1),
        "json_tuples_per_s": round(rows / t_json), "pandas_frame_mb": round(frame_mb),
        "convert_s": round(t_conv, 1), "convert_tuples_per_s": round(report.rows_written / t_conv),
        "convert_again_s": round(t_again, 1), "parquet_mb": round(pq_mb), "parquet_read_s": round(t_pq, 2),
        "parquet_vs_json": round(t_json / t_pq, 1), "parquet_graph_columns_read_s": round(t_cols, 2),
        "dask_read_s": round(t_dask, 1), "dask_vs_single": round(t_json / t_dask, 2),
        "dask_read_peak_worker_mb": [round(v / 1e6) for v in peak_read.peak.values()],
        "dask_graph_parquet_s": round(t_graph, 1),
        "dask_graph_peak_worker_mb": [round(v / 1e6) for v in peak_graph.peak.values()],
        "dask_graph_json_s": round(t_graph_json, 1),
        "dask_graph_json_peak_worker_mb": [round(v / 1e6) for v in peak_json_graph.peak.values()],
    }
    print("summary " + json.dumps(summary), flush=True)
    return 0


def _edges(G: Any) -> dict:
    import math

    def norm(d: dict) -> dict:
        return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

    return {(u, v): norm(d) for u, v, d in G.edges(data=True)}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
