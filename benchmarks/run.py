"""``make bench``: run every ``benchmarks/bench_*.py`` in turn, print a summary, keep the results.

Each benchmark module's ``main(argv)`` runs in its own subprocess (so its peak RSS
is its own, reported here from ``wait4``: that process and the subprocesses it waited for) with its output streamed live and kept
in ``benchmarks/results/<stamp>/<name>.log``. Arguments passed through:

* ``--quick`` (small sizes), to the modules whose parser knows ``--quick``; the
  others run at their default size and the summary says so;
* ``--json benchmarks/results/<stamp>/<name>.json``, to the modules that accept ``--json``.

Targets: a module that writes a ``"targets"`` list in its JSON
(``[{"name", "target", "measured", "met"}]``, as ``bench_parse.py`` does) gets a
``MET`` / ``NOT MET`` line per target with the measured figure; for the others,
the lines of their output that mention a target are repeated in the summary. A
missed target never changes the exit status; a benchmark that *fails* (non-zero
exit: a crash, or a reader that returned wrong rows) makes it 1, after all of them ran.

Usage::

    .venv/bin/python benchmarks/run.py               # everything, full size
    .venv/bin/python benchmarks/run.py --quick       # small sizes (make bench QUICK=1)
    .venv/bin/python benchmarks/run.py --only parse,graph
    .venv/bin/python benchmarks/run.py --list

Examples
--------
>>> discover()[0].name.startswith("bench_")  # doctest: +SKIP
True
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
_BOOT = ("import importlib, sys; sys.path.insert(0, sys.argv[1]); "
         "m = importlib.import_module(sys.argv[2]); sys.exit(m.main(sys.argv[3:]) or 0)")
_TARGET_LINE = re.compile(r"target|MET\b", re.IGNORECASE)


@dataclass
class Outcome:
    """What one benchmark did."""

    name: str
    argv: list[str]
    returncode: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    target_lines: list[str] = field(default_factory=list)
    json_path: str | None = None
    log_path: str | None = None


def discover(only: Sequence[str] | None = None) -> list[Path]:
    """The benchmark modules, sorted by name; ``only`` keeps ``bench_<x>`` for each x given."""
    found = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {o if o.startswith("bench_") else f"bench_{o}" for o in only}
        found = [p for p in found if p.stem in wanted]
    return found


def _accepts(source: str, flag: str) -> bool:
    """Whether the module's argument parser defines ``flag`` (looked up in its source)."""
    return re.search(r"""["']""" + re.escape(flag) + r"""["']""", source) is not None


def run_one(path: Path, quick: bool, outdir: Path, timeout: float | None) -> Outcome:
    """Run ``path``'s ``main`` in a subprocess, stream and keep its output, collect its results."""
    source = path.read_text(encoding="utf-8")
    argv: list[str] = []
    out = Outcome(path.stem, argv)
    if quick:
        if _accepts(source, "--quick"):
            argv.append("--quick")
        else:
            out.notes.append("no --quick option: ran at its default size")
    if _accepts(source, "--json"):
        out.json_path = str(outdir / f"{path.stem}.json")
        argv += ["--json", out.json_path]
    out.log_path = str(outdir / f"{path.stem}.log")
    cmd = [sys.executable, "-c", _BOOT, str(HERE), path.stem, *argv]
    print(f"\n{'=' * 100}\n>>> {path.name} {' '.join(argv)}\n{'=' * 100}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    with open(out.log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)
        timer = None
        if timeout is not None:
            def _kill() -> None:
                out.notes.append(f"killed after {timeout:.0f} s")
                proc.kill()

            timer = threading.Timer(timeout, _kill)
            timer.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            if _TARGET_LINE.search(line):
                out.target_lines.append(line.strip())
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if timer is not None:
            timer.cancel()
    out.returncode = proc.returncode
    out.wall_s = time.perf_counter() - t0
    out.cpu_s = usage.ru_utime + usage.ru_stime
    out.peak_rss_mb = usage.ru_maxrss / 1024
    if out.json_path and Path(out.json_path).exists():
        try:
            data = json.loads(Path(out.json_path).read_text())
            if isinstance(data, dict) and isinstance(data.get("targets"), list):
                out.targets = data["targets"]
        except (OSError, ValueError) as exc:
            out.notes.append(f"unreadable JSON results: {exc}")
    return out


def summary(outcomes: list[Outcome]) -> str:
    """The end-of-run table: status, time and memory per benchmark, then every target."""
    lines = ["", "=" * 100, "SUMMARY", "=" * 100,
             f"{'benchmark':16} {'status':8} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}  notes"]
    for o in outcomes:
        status = "ok" if o.returncode == 0 else f"FAILED({o.returncode})"
        lines.append(f"{o.name:16} {status:8} {o.wall_s:8.1f} {o.cpu_s:8.1f} {o.peak_rss_mb:12.0f}  "
                     + "; ".join(o.notes))
    lines.append("(CPU and peak RSS from wait4: the benchmark process and the subprocesses it waited for; "
                 "bench_parse reports each reader's own subprocess itself)")
    lines.append("\nTargets:")
    for o in outcomes:
        if o.targets:
            for t in o.targets:
                flag = "MET    " if t.get("met") else "NOT MET"
                lines.append(f"  {flag}  {o.name}: {t.get('name')}: {t.get('measured')} (target {t.get('target')})")
        elif o.target_lines:
            for text in o.target_lines[-6:]:
                lines.append(f"  (see output)  {o.name}: {text[:160]}")
        else:
            lines.append(f"  (none reported)  {o.name}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; 0 unless one of them failed (missed targets never fail the run)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (passed to benchmarks that support it)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names (parse, graph, ...)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per benchmark (default: none)")
    args = ap.parse_args(argv)
    modules = discover([o for o in args.only.split(",") if o])
    if args.list or not modules:
        for p in modules:
            src = p.read_text(encoding="utf-8")
            print(f"{p.stem:16} --quick: {'yes' if _accepts(src, '--quick') else 'no '}  "
                  f"--json: {'yes' if _accepts(src, '--json') else 'no'}")
        if not modules:
            print("no benchmark selected", file=sys.stderr)
            return 0 if args.list else 2
        return 0
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    outdir = RESULTS / stamp
    outdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load0 = os.getloadavg()
    outcomes = [run_one(p, args.quick, outdir, args.timeout) for p in modules]
    text = summary(outcomes)
    text += (f"\n\n{len(outcomes)} benchmark(s) in {time.perf_counter() - started:.0f} s; load average "
             f"{load0[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; results in "
             f"{outdir.relative_to(REPO)}/")
    print(text)
    (outdir / "summary.txt").write_text(text + "\n", encoding="utf-8")
    (outdir / "run.json").write_text(json.dumps(
        {"started": stamp, "quick": args.quick, "loadavg_before": load0, "loadavg_after": os.getloadavg(),
         "benchmarks": [asdict(o) for o in outcomes]}, indent=1, default=str), encoding="utf-8")
    failed = [o.name for o in outcomes if o.returncode != 0]
    if failed:
        print(f"FAILED: {', '.join(failed)} (see their logs)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
