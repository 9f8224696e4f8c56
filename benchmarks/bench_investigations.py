"""Benchmark: each investigation on one large flow table, against a 5-tuple groupby in the same run.

Builds the synthetic canonical table of ``bench_graph`` (1 M rows by default: 20 000
addresses, about 4 tuples per flow, every column filled, VNet encryption states among
them), then times, best of ``--repeat`` in CPU seconds of this process:

- the baseline: ``flows.groupby(5-tuple, observed=True).size()``, the least a per-flow
  investigation has to do, in plain pandas;
- ``encryption_audit``, ``flow_sessions``, ``denied_summary``, ``talker_graph`` and one
  ``diagnose`` (the busiest pair).

It prints seconds, rows per second and each investigation's cost as a multiple of the
baseline. No target is set for these; the figures catch a regression (the encryption
audit took 3.9x more CPU on 1 M flows before it worked on integer codes) and show what a
notebook user waits for.

Usage::

    .venv/bin/python benchmarks/bench_investigations.py              # 1 M rows
    .venv/bin/python benchmarks/bench_investigations.py --rows 200000 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

import flowkit
from bench_graph import synthetic_flows

KEY5 = ["src_ip", "dst_ip", "src_port", "dst_port", "protocol"]


def cpu_best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best CPU seconds and the wall seconds of that run, and the last result."""
    best_cpu, best_wall, out = float("inf"), float("inf"), None
    for _ in range(max(repeat, 1)):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        if cpu < best_cpu:
            best_cpu, best_wall = cpu, wall
    return best_cpu, best_wall, out


def investigations(flows: pd.DataFrame) -> dict[str, Callable[[], Any]]:
    """The investigations timed, by name."""
    pair = flows.groupby(["src_ip", "dst_ip"], observed=True).size().idxmax()
    return {
        "encryption_audit": lambda: flowkit.encryption_audit(flows, figures=False),
        "flow_sessions": lambda: flowkit.flow_sessions(flows),
        "denied_summary": lambda: flowkit.denied_summary(flows),
        "talker_graph": lambda: flowkit.talker_graph(flows),
        "diagnose": lambda: flowkit.diagnose(flows, str(pair[0]), str(pair[1])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Time every investigation and the baseline; print the table (and ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the synthetic table")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the least CPU counts)")
    parser.add_argument("--quick", action="store_true", help="200 000 rows, one run each")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    rows, repeat = (200_000, 1) if args.quick else (args.rows, args.repeat)
    warnings.simplefilter("ignore")  # the synthetic table's copies and gaps are not under test
    flows = synthetic_flows(rows)
    base_cpu, base_wall, _ = cpu_best(lambda: flows.groupby(KEY5, observed=True).size(), repeat)
    print(f"{len(flows):,} rows; baseline groupby of the 5-tuple: {base_cpu:.2f} CPU-s ({base_wall:.2f} s wall)")
    print(f"{'investigation':18s} {'CPU s':>7s} {'wall s':>7s} {'M rows/s':>9s} {'x baseline':>11s}")
    figures = {"rows": len(flows), "baseline_cpu_s": base_cpu, "investigations": {}}
    for name, fn in investigations(flows).items():
        cpu, wall, _ = cpu_best(fn, repeat)
        figures["investigations"][name] = {"cpu_s": cpu, "wall_s": wall, "x_baseline": cpu / base_cpu}
        print(f"{name:18s} {cpu:7.2f} {wall:7.2f} {len(flows) / max(cpu, 1e-9) / 1e6:9.2f} {cpu / base_cpu:10.1f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
