"""Benchmark: the NSG vs VNet reconciliation in one pandas process and on 2 Dask workers.

Generates a migration corpus (:func:`flowkit.synth.write_corpus` with ``log_type="both"``:
per NIC and hour a VNet blob and the NSG v2 blob of the same flows; not committed),
converts it to one Parquet dataset, then measures and prints (never asserts):

1. ``compare_nsg_vnet`` on one pandas frame, in a fresh subprocess: read the
   Parquet columns the comparison needs, compare; wall time and peak RSS;
2. ``compare_nsg_vnet_dask`` on ``local_cluster(n_workers=2)`` (2 single-threaded
   worker processes) from the same dataset: wall time and the peak RSS of each
   worker (sampled with psutil), and whether verdict, summary and facts equal the
   pandas ones.

No target is set by the issue for this step; the figures say what the rows' shuffle
costs against one process, and how much memory a worker needs.

Usage::

    .venv/bin/python benchmarks/bench_compare.py --quick            # about 400 k tuples
    .venv/bin/python benchmarks/bench_compare.py --tuples 6000000   # about 6 M tuples

Examples
--------
>>> main(["--quick"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Sequence

from bench_scale import PeakRSS, timed

HERE = Path(__file__).resolve().parent
#: JSON bytes per tuple of a "both" corpus (VNet 95, NSG v2 87; the NSG twin lacks the AVNM denials).
BYTES_PER_TUPLE = 90

_PANDAS_STEP = """
import json, resource, sys, time, warnings
import flowkit
from flowkit.scale.compare import COMPARE_COLUMNS
warnings.simplefilter("ignore")
t0 = time.perf_counter()
frame = flowkit.read_flow_logs(sys.argv[1], columns=COMPARE_COLUMNS)
t1 = time.perf_counter()
f = flowkit.compare_nsg_vnet(frame, figures=False)
t2 = time.perf_counter()
print(json.dumps({"rows": len(frame), "read_s": t1 - t0, "compare_s": t2 - t1, "verdict": f.verdict,
                  "summary": f.summary, "facts": repr(f.facts), "differences": len(f.evidence["differences"]),
                  "frame_mb": frame.memory_usage(deep=True).sum() / 1e6,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}))
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuples", type=int, default=6_000_000, help="tuples of both logs (about)")
    parser.add_argument("--quick", action="store_true", help="about 400,000 tuples")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=HERE / "corpus")
    parser.add_argument("--rows-per-partition", type=int, default=None,
                        help="compare_nsg_vnet_dask's rows_per_partition (default: its own)")
    parser.add_argument("--skip-pandas", action="store_true",
                        help="Dask only (when one pandas process would not fit in memory); no equality check")
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args(argv)
    tuples = 400_000 if args.quick else args.tuples
    warnings.simplefilter("ignore")

    import flowkit
    from distributed import Client

    from flowkit.scale.cluster import local_cluster
    from flowkit.scale.compare import compare_nsg_vnet_dask
    from flowkit.store.convert import convert
    from flowkit.synth import write_corpus

    src = args.workdir / f"compare-{tuples}-{args.seed}"
    dest = args.workdir / f"compare-{tuples}-{args.seed}.parquet"
    if not (src / "done").is_file():
        shutil.rmtree(src, ignore_errors=True)
        info, _ = timed("generate", lambda: write_corpus(src, "both", tuples * BYTES_PER_TUPLE, seed=args.seed))
        print(f"  {info.tuples:,} tuples, {info.bytes / 1e6:,.0f} MB of JSON", flush=True)
        (src / "done").write_text("")
    if not dest.is_dir():
        report, _ = timed("convert to Parquet", lambda: convert(src, dest))
        print(f"  {report.rows_written:,} rows", flush=True)

    pandas = None
    if not args.skip_pandas:
        print("1. compare_nsg_vnet, one pandas process (fresh subprocess)", flush=True)
        out = subprocess.run([sys.executable, "-c", _PANDAS_STEP, str(dest)], capture_output=True, text=True,
                             check=True)
        pandas = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {pandas['rows']:,} rows: read {pandas['read_s']:.1f} s, compare {pandas['compare_s']:.1f} s; "
              f"frame {pandas['frame_mb']:,.0f} MB, peak RSS {pandas['peak_rss_mb']:,.0f} MB; "
              f"{pandas['differences']:,} differing keys; verdict {pandas['verdict']}", flush=True)

    print("2. compare_nsg_vnet_dask, local_cluster(n_workers=2)", flush=True)
    with local_cluster(n_workers=2, memory_limit=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        ddf = flowkit.read_flow_logs(dest, engine="dask")
        extra = {} if args.rows_per_partition is None else {"rows_per_partition": args.rows_per_partition}
        with PeakRSS(pids) as peak:
            finding, t_dask = timed(f"compare_nsg_vnet_dask ({ddf.npartitions} partitions)",
                                    lambda: compare_nsg_vnet_dask(ddf, figures=False, **extra))
    if pandas is None:
        print(f"  {t_dask:.1f} s; peak worker RSS " + ", ".join(f"{v / 1e6:,.0f} MB" for v in peak.peak.values())
              + f"; verdict {finding.verdict}; {finding.summary}", flush=True)
        summary = {"dask_s": round(t_dask, 1), "dask_peak_worker_mb": [round(v / 1e6) for v in peak.peak.values()],
                   "verdict": finding.verdict, "facts": repr(finding.facts)}
        print("summary " + json.dumps(summary), flush=True)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))
        return 0
    same = (finding.verdict, finding.summary, repr(finding.facts)) == (
        pandas["verdict"], pandas["summary"], pandas["facts"])
    t_pandas = pandas["read_s"] + pandas["compare_s"]
    print(f"  {t_dask:.1f} s = {t_pandas / t_dask:.2f}x the pandas process ({t_pandas:.1f} s, read included); "
          f"peak worker RSS " + ", ".join(f"{v / 1e6:,.0f} MB" for v in peak.peak.values())
          + f" (pandas process: {pandas['peak_rss_mb']:,.0f} MB); same verdict, summary and facts: {same}",
          flush=True)
    summary = {"rows": pandas["rows"], "pandas_read_s": round(pandas["read_s"], 1),
               "pandas_compare_s": round(pandas["compare_s"], 1), "pandas_peak_rss_mb": round(pandas["peak_rss_mb"]),
               "dask_s": round(t_dask, 1), "dask_vs_pandas": round(t_pandas / t_dask, 2),
               "dask_peak_worker_mb": [round(v / 1e6) for v in peak.peak.values()],
               "differences": pandas["differences"], "same": same}
    print("summary " + json.dumps(summary), flush=True)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if same else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
