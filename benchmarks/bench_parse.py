"""Benchmark: flowkit's reader against a naive baseline, polars and DuckDB, in the same run.

For a ~100 MB VNet flow-log corpus and a ~100 MB NSG v2 corpus (``flowkit.synth.write_corpus``:
~60 records per hourly blob, rules with 1-5000 tuples; built once under
``benchmarks/corpus/`` and reused), every reader turns the whole corpus into the
canonical pandas flow table (:mod:`flowkit.schema`: 23 columns, same dtypes).
Each run of each reader is a **fresh subprocess**, so its peak RSS is that reader
alone; the repeats are interleaved (flowkit, naive, polars, duckdb, then again in
a rotated order) so that load from other users of the machine spreads over all readers.

Per reader it prints: rows, best and median wall time, CPU time (all threads) of
the best run, tuples/s and MB/s (corpus bytes on disk, 10^6) from the best wall
time, peak RSS (``ru_maxrss``), the interpreter's RSS after its imports, frame
bytes per row (``memory_usage(deep=True).sum() / len``), and
``peak RSS / (frame bytes + interpreter RSS)``; then flowkit's speed-up over each
peer (wall and CPU). Every reader must return exactly flowkit's row count and the
same checksums (sums of ports, counters and times, deny and null counts) and the
canonical dtypes; a reader that does not is reported INVALID and the exit code is 1.

Targets (VNet corpus, flowkit): >= 2.5 M tuples/s (stretch 5 M), >= 15x the naive
baseline, faster than polars, <= 60 bytes per row, peak RSS <= 3x (frame + interpreter).
A missed target is printed NOT MET; it never changes the exit code.

Usage::

    .venv/bin/python benchmarks/bench_parse.py                 # 100 MB corpora, best of 3
    .venv/bin/python benchmarks/bench_parse.py --quick         # 10 MB corpora
    .venv/bin/python benchmarks/bench_parse.py --readers flowkit,polars --corpora vnet --repeat 5

Examples
--------
>>> main(["--quick", "--readers", "flowkit", "--repeat", "1"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_ROOT = HERE / "corpus"
RESULTS = HERE / "results"
READER_NAMES = ("flowkit", "flowkit-fresh", "naive", "polars", "duckdb")
#: name -> (log_type, version, label)
CORPORA = {"vnet": ("vnet", 2, "VNet v4"), "nsg2": ("nsg", 2, "NSG v2")}
SEED = 0
_MARK = "BENCH_PARSE_RESULT "


# ----------------------------------------------------------------------------- child
def _rss_now() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def checksums(frame: Any) -> dict[str, int]:
    """Cheap content fingerprint: two readers with equal sums almost surely agree row for row."""
    import numpy as np

    def total(name: str) -> int:
        col = frame[name]
        return int(col.astype("float64").fillna(0).sum()) if len(col) else 0

    return {
        "rows": len(frame),
        "flow_time_s": int((frame["flow_time"].astype("int64") // 1000).sum()) if len(frame) else 0,
        "record_time_s": int((frame["record_time"].astype("int64") // 10**9).sum()) if len(frame) else 0,
        "src_port": int(frame["src_port"].astype("int64").sum()),
        "dst_port": int(frame["dst_port"].astype("int64").sum()),
        "protocol": int(frame["protocol"].astype("int64").sum()),
        "packets_sent": total("packets_sent"), "bytes_sent": total("bytes_sent"),
        "packets_received": total("packets_received"), "bytes_received": total("bytes_received"),
        "counters_null": int(frame["bytes_sent"].isna().sum()),
        "deny": int((frame["decision"] == "deny").sum()),
        "inbound": int((frame["direction"] == "inbound").sum()),
        "state_null": int(frame["state"].isna().sum()),
        "encryption_x": int((frame["encryption"] == "X").sum()),
        "src_ip_len": int(np.asarray(frame["src_ip"].astype(str).str.len()).sum()),
        "distinct_ips": len(set(frame["src_ip"].cat.categories) | set(frame["dst_ip"].cat.categories)),
        "distinct_rules": int(frame["rule"].nunique()), "distinct_macs": int(frame["mac"].nunique()),
        "distinct_blobs": int(frame["blob"].nunique()),
    }


def schema_problems(frame: Any) -> list[str]:
    from flowkit.schema import COLUMNS, dtypes

    import pandas as pd

    problems = []
    if tuple(frame.columns) != COLUMNS:
        problems.append(f"columns {list(frame.columns)}")
    for name, want in dtypes().items():
        if name not in frame:
            continue
        got = frame[name].dtype
        if isinstance(want, pd.CategoricalDtype):
            if not isinstance(got, pd.CategoricalDtype):
                problems.append(f"{name}: {got} (want category)")
            elif want.categories is not None and (list(got.categories[:len(want.categories)])
                                                  != list(want.categories) or got.ordered):
                problems.append(f"{name}: categories {list(got.categories)} ordered={got.ordered}")
        elif str(got) != str(want):
            problems.append(f"{name}: {got} (want {want})")
    if "src_ip" in frame and "dst_ip" in frame and \
            not frame["src_ip"].cat.categories.equals(frame["dst_ip"].cat.categories):
        problems.append("src_ip/dst_ip categories are not shared")
    return problems


def _child(reader: str, corpus: str) -> int:
    """Run one reader once in this (fresh) process and print its measurements as one JSON line."""
    import gc
    import resource

    from floors import contract_bytes_per_row, recipe_floor, scanner_floor
    from readers import load_reader

    if reader == "floor":
        print(_MARK + json.dumps({"reader": "floor", **recipe_floor(corpus), "scanner": scanner_floor(corpus)}),
              flush=True)
        return 0
    read = load_reader(reader)  # imports the reader's libraries (flowkit, polars, duckdb, ...)
    gc.collect()
    interp_rss = _rss_now()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    c0, t0 = time.process_time(), time.perf_counter()
    frame = read(corpus)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    peak = ru1.ru_maxrss * 1024
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    out = {"reader": reader, "rows": len(frame), "wall": wall, "cpu": cpu,
           "user": ru1.ru_utime - ru0.ru_utime, "sys": ru1.ru_stime - ru0.ru_stime,
           "peak_rss": peak, "peak_rss_before_read": peak_before, "interp_rss": interp_rss,
           "rss_after": _rss_now(), "frame_bytes": frame_bytes,
           "contract_bytes_per_row": contract_bytes_per_row(frame),
           "schema_problems": schema_problems(frame), "checksums": checksums(frame)}
    import sys as _sys

    module = _sys.modules.get("readers.flowkit_reader")
    if module is not None and reader == "flowkit":
        out["scanner_load"] = module.SCANNER_LOAD
    print(_MARK + json.dumps(out), flush=True)
    return 0


def _run_child(reader: str, corpus: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", reader, str(corpus)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(REPO))
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
    return {"reader": reader, "error": f"exit {proc.returncode}: " + " | ".join(tail)}


# ----------------------------------------------------------------------------- corpus
def ensure_corpus(kind: str, mb: int) -> tuple[Path, dict[str, int]]:
    """Build (once) or reuse the corpus ``kind`` of ``mb`` MB under ``benchmarks/corpus/``."""
    from flowkit.synth import write_corpus

    log_type, version, _ = CORPORA[kind]
    dest = CORPUS_ROOT / f"parse-{kind}-{mb}mb"
    manifest = dest / "corpus.json"
    want = {"log_type": log_type, "version": version, "seed": SEED, "target_bytes": mb * 1_000_000}
    if manifest.exists():
        info = json.loads(manifest.read_text())
        if all(info.get(k) == v for k, v in want.items()):
            return dest, info
    tmp = CORPUS_ROOT / f".parse-{kind}-{mb}mb.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    info = write_corpus(tmp, log_type=log_type, target_bytes=mb * 1_000_000, seed=SEED, version=version)
    data = {**want, "files": info.files, "records": info.records, "tuples": info.tuples, "bytes": info.bytes}
    (tmp / "corpus.json").write_text(json.dumps(data, indent=1))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    print(f"built {dest.relative_to(REPO)}: {info.files} blobs, {info.tuples:,} tuples, "
          f"{info.bytes / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s", flush=True)
    return dest, data


def _warm(corpus: Path) -> None:
    """Read every blob once so that no reader pays for the disk."""
    for p in corpus.rglob("PT1H.json"):
        p.read_bytes()


# ----------------------------------------------------------------------------- report
def _summarise(runs: list[dict[str, Any]], info: dict[str, int]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"] if runs else "not run"}
    best = min(ok, key=lambda r: r["wall"])
    walls = [r["wall"] for r in ok]
    peak = max(r["peak_rss"] for r in ok)
    interp = statistics.median(r["interp_rss"] for r in ok)
    rows = best["rows"]
    return {
        "runs": len(ok), "rows": rows, "wall_best": best["wall"], "wall_median": statistics.median(walls),
        "walls": walls, "cpu_best_run": best["cpu"], "cpu_min": min(r["cpu"] for r in ok),
        "tuples_per_s": rows / best["wall"], "mb_per_s": info["bytes"] / 1e6 / best["wall"],
        "peak_rss": peak, "interp_rss": interp, "frame_bytes": best["frame_bytes"],
        "bytes_per_row": best["frame_bytes"] / rows if rows else float("nan"),
        "contract_bytes_per_row": best.get("contract_bytes_per_row"),
        "rss_over_frame_plus_interp": peak / (best["frame_bytes"] + interp),
        "schema_problems": best["schema_problems"], "checksums": best["checksums"],
        "errors": [r["error"] for r in runs if "error" in r],
        **({"scanner_load": max((r["scanner_load"] for r in ok), key=lambda x: x["seconds"])}
           if all("scanner_load" in r for r in ok) else {}),
    }


def _validate(summary: dict[str, dict[str, Any]]) -> list[str]:
    """Row counts, checksums and dtypes of every reader against flowkit's."""
    problems: list[str] = []
    ref = summary.get("flowkit")
    for name, s in summary.items():
        if "error" in s:
            problems.append(f"{name}: failed: {s['error']}")
            continue
        if s["schema_problems"]:
            problems.append(f"{name}: not the canonical schema: {'; '.join(s['schema_problems'])}")
        if ref is None or "error" in ref or name == "flowkit":
            continue
        if s["rows"] != ref["rows"]:
            problems.append(f"{name}: {s['rows']:,} rows, flowkit {ref['rows']:,}")
        diff = {k: (v, ref["checksums"].get(k)) for k, v in s["checksums"].items() if ref["checksums"].get(k) != v}
        if diff:
            problems.append(f"{name}: checksums differ from flowkit's: {diff}")
        s["valid"] = not any(p.startswith(name + ":") for p in problems)
    if ref is not None and "error" not in ref:
        ref["valid"] = not ref["schema_problems"]
    return problems


def _print_table(label: str, info: dict[str, int], summary: dict[str, dict[str, Any]]) -> None:
    print(f"\n== {label}: {info['files']} blobs, {info['records']:,} records, {info['tuples']:,} tuples, "
          f"{info['bytes'] / 1e6:.1f} MB ==")
    head = (f"{'reader':13} {'rows':>10} {'best s':>7} {'median s':>8} {'CPU s':>6} {'Mtuples/s':>9} "
            f"{'MB/s':>6} {'peak MB':>7} {'interp MB':>9} {'frame MB':>8} {'B/row':>6} {'RSS/(f+i)':>9}")
    print(head)
    for name, s in summary.items():
        if "error" in s:
            print(f"{name:13} FAILED: {s['error'][:150]}")
            continue
        print(f"{name:13} {s['rows']:>10,} {s['wall_best']:>7.2f} {s['wall_median']:>8.2f} {s['cpu_best_run']:>6.2f} "
              f"{s['tuples_per_s'] / 1e6:>9.2f} {s['mb_per_s']:>6.1f} {s['peak_rss'] / 2**20:>7.0f} "
              f"{s['interp_rss'] / 2**20:>9.0f} {s['frame_bytes'] / 2**20:>8.1f} {s['bytes_per_row']:>6.1f} "
              f"{s['rss_over_frame_plus_interp']:>9.2f}")
    fk = summary.get("flowkit")
    if fk and "error" not in fk:
        for name, s in summary.items():
            if name == "flowkit" or "error" in s:
                continue
            s["speedup_wall"] = s["wall_best"] / fk["wall_best"]
            s["speedup_cpu"] = s["cpu_min"] / fk["cpu_min"]
            same = "same rows" if s.get("valid") else "INVALID"
            print(f"flowkit vs {name:13}: {s['speedup_wall']:6.2f}x faster (wall, best of {s['runs']}), "
                  f"{s['speedup_cpu']:6.2f}x less CPU; rows {s['rows']:,} = flowkit {fk['rows']:,}: {same}")
        load = fk.get("scanner_load")
        if load:
            print(f"flowkit's compiled scanner was loaded before timing (as the peers' libraries are imported): "
                  f"{load['seconds']:.2f} s and {load['rss_mib']:.0f} MiB once per process"
                  + ("" if load["loaded"] else " (NOT loaded: numba missing or FLOWKIT_SCANNER=off)"))


def _ceiling(floor: dict[str, Any] | None) -> float | None:
    """Tuples per second the recipe's unavoidable steps allow on this machine's cores."""
    if not floor or "error" in floor or not floor.get("total"):
        return None
    return floor["tuples"] / (floor["total"] / (os.cpu_count() or 1))


def _targets(vnet: dict[str, dict[str, Any]], floor: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The issue's targets for flowkit on the VNet corpus (judged on wall time; CPU figures shown too).

    ``floor`` (from :func:`floors.recipe_floor`) adds the recipe's ceiling to the speed lines.
    """
    fk = vnet.get("flowkit", {})
    if "error" in fk or not fk:
        return [{"name": "flowkit VNet read", "target": "runs", "measured": "failed", "met": False}]
    per_cpu = fk["rows"] / fk["cpu_min"] / 1e6 if fk["cpu_min"] else float("nan")
    speed = f"{fk['tuples_per_s'] / 1e6:.2f} M (CPU: {per_cpu:.2f} M tuples per CPU-second"
    ceiling = _ceiling(floor)
    if ceiling is not None:
        speed += (f"; the issue's recipe's unavoidable steps alone allow at most {ceiling / 1e6:.2f} M "
                  f"on {os.cpu_count()} cores")
    scanner = _ceiling((floor or {}).get("scanner"))
    if scanner is not None:
        speed += f", flowkit's compiled scan alone {scanner / 1e6:.2f} M"
    speed += ")"
    load = fk.get("scanner_load")
    if load:
        speed += f"; the scanner loaded before timing: {load['seconds']:.2f} s, {load['rss_mib']:.0f} MiB once"
    fresh = vnet.get("flowkit-fresh")
    if fresh and "error" not in fresh:
        speed += (f"; a fresh process's first read of this corpus, without the scanner: "
                  f"{fresh['tuples_per_s'] / 1e6:.2f} M")
    out = [
        {"name": "VNet tuples/s", "target": ">= 2.5 M", "measured": speed, "met": fk["tuples_per_s"] >= 2.5e6,
         "value": fk["tuples_per_s"]},
        {"name": "VNet tuples/s (stretch)", "target": ">= 5 M", "measured": speed, "met": fk["tuples_per_s"] >= 5e6,
         "value": fk["tuples_per_s"]},
    ]
    for name, target, bound in (("naive", ">= 15x naive", 15.0), ("polars", "> 1x polars", 1.0)):
        s = vnet.get(name)
        if not s or "error" in s or "speedup_wall" not in s:
            out.append({"name": f"VNet speed-up vs {name}", "target": target, "measured": "not run", "met": False})
            continue
        wall = s["speedup_wall"]
        out.append({"name": f"VNet speed-up vs {name}", "target": target,
                    "measured": f"{wall:.2f}x wall ({s['speedup_cpu']:.2f}x on CPU time)",
                    "met": wall >= bound if name == "naive" else wall > bound, "value": wall})
    least = fk.get("contract_bytes_per_row")
    per_row = f"{fk['bytes_per_row']:.1f}" + (f" (the column contract's least for this frame: {least:.1f})"
                                              if least is not None else "")
    out.append({"name": "VNet frame bytes/row", "target": "<= 60", "measured": per_row,
                "met": fk["bytes_per_row"] <= 60, "value": fk["bytes_per_row"]})
    out.append({"name": "VNet peak RSS / (frame + interpreter)", "target": "<= 3",
                "measured": f"{fk['rss_over_frame_plus_interp']:.2f} ({fk['peak_rss'] / 2**20:.0f} MiB peak)",
                "met": fk["rss_over_frame_plus_interp"] <= 3, "value": fk["rss_over_frame_plus_interp"]})
    return out


def _print_floor(floor: dict[str, Any]) -> None:
    if "error" in floor:
        print(f"\nrecipe floor: FAILED: {floor['error'][:150]}")
        return
    print("\nThe recipe's unavoidable steps on the VNet corpus (one thread, CPU s, best of 3; "
          "benchmarks/floors.py):")
    for name, cpu in floor["steps"].items():
        print(f"  {name:28} {cpu:6.3f}")
    ceiling = _ceiling(floor)
    print(f"  {'total':28} {floor['total']:6.3f} for {floor['tuples']:,} tuples: at most "
          f"{ceiling / 1e6:.2f} M tuples/s on {os.cpu_count()} cores, before any check or frame")
    scanner = floor.get("scanner")
    if scanner and _ceiling(scanner):
        print("What flowkit does instead on whole blobs, its compiled scanner (one thread, CPU s, best of 3):")
        for name, cpu in scanner["steps"].items():
            print(f"  {name:28} {cpu:6.3f}")
        print(f"  {'total':28} {scanner['total']:6.3f} for {scanner['tuples']:,} tuples: at most "
              f"{_ceiling(scanner) / 1e6:.2f} M tuples/s on {os.cpu_count()} cores, before any check or frame"
              + ("" if scanner["scanned"] else " (NOT every batch was in the scanner's form)"))


# ----------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Build or reuse the corpora, time every reader, print the figures; 1 if a reader is invalid."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 MB corpora instead of 100 MB")
    ap.add_argument("--mb", type=int, default=None, help="corpus size in MB (default 100, 10 with --quick)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per reader (best wall time is reported)")
    ap.add_argument("--readers", default=",".join(READER_NAMES))
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per reader run")
    ap.add_argument("--json", default=None, help="write the results here (default benchmarks/results/)")
    ap.add_argument("--no-floor", action="store_true",
                    help="skip measuring the recipe's floor (benchmarks/floors.py) on the VNet corpus")
    ap.add_argument("--child", nargs=2, metavar=("READER", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(*args.child)
    readers = [r for r in args.readers.split(",") if r]
    unknown = [r for r in readers if r not in READER_NAMES] + [c for c in args.corpora.split(",") if c not in CORPORA]
    if unknown:
        ap.error(f"unknown reader or corpus: {unknown}")
    if "flowkit" in readers:  # flowkit first: every other reader is checked against it
        readers.remove("flowkit")
        readers.insert(0, "flowkit")
    mb = args.mb or (10 if args.quick else 100)
    results: dict[str, Any] = {"benchmark": "parse", "mb": mb, "repeat": args.repeat, "readers": readers,
                               "python": sys.version.split()[0], "cpus": os.cpu_count(),
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "corpora": {}}
    load0 = os.getloadavg()
    problems: list[str] = []
    for kind in [c for c in args.corpora.split(",") if c]:
        corpus, info = ensure_corpus(kind, mb)
        _warm(corpus)
        runs: dict[str, list[dict[str, Any]]] = {r: [] for r in readers}
        for rep in range(args.repeat):
            order = readers[rep % len(readers):] + readers[:rep % len(readers)]
            for name in order:
                t0 = time.perf_counter()
                try:
                    r = _run_child(name, corpus.relative_to(REPO), args.timeout)
                except subprocess.TimeoutExpired:
                    r = {"reader": name, "error": f"timed out after {args.timeout:.0f} s"}
                runs[name].append(r)
                note = r.get("error") or f"{r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, {r['rows']:,} rows"
                print(f"  [{CORPORA[kind][2]} run {rep + 1}/{args.repeat}] {name:8} {note} "
                      f"({time.perf_counter() - t0:.1f} s with start-up)", flush=True)
        summary = {name: _summarise(runs[name], info) for name in readers}
        corpus_problems = _validate(summary)
        _print_table(CORPORA[kind][2], info, summary)
        for p in corpus_problems:
            print(f"INVALID {CORPORA[kind][2]}: {p}")
        problems += corpus_problems
        results["corpora"][kind] = {"path": str(corpus.relative_to(REPO)), "info": info, "readers": summary,
                                    "problems": corpus_problems}
    results["loadavg_before"], results["loadavg_after"] = load0, os.getloadavg()
    if "vnet" in results["corpora"]:
        floor = None
        if "flowkit" in readers and not args.no_floor:
            floor = _run_child("floor", Path(results["corpora"]["vnet"]["path"]), args.timeout)
            results["recipe_floor"] = floor
            _print_floor(floor)
        results["targets"] = _targets(results["corpora"]["vnet"]["readers"], floor)
        print(f"\nTargets (VNet corpus, flowkit; {mb} MB; load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs):")
        for t in results["targets"]:
            print(f"  {'MET    ' if t['met'] else 'NOT MET'}  {t['name']}: {t['measured']} (target {t['target']})")
    out = Path(args.json) if args.json else RESULTS / f"parse-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"results: {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
