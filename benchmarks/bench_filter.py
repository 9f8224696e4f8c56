"""Benchmark: one filter change on 1 M rows, through ``filter_flows`` and through the panel.

The issue's target: at most 200 ms per filter change on 1 M rows, so the panel
feels instant. Two figures per kind of change:

- ``filter_flows``: the pure filter alone (what scripts and the panel both call);
- ``panel``: setting the control on a :class:`flowkit.widgets.FilterPanel` built with
  ``draw=False``: reading the controls, ``filter_flows``, the summary numbers and
  the HTML table (the timeline and talker graph are drawn only when asked for and
  are not part of the update figure).

The frame is the canonical synthetic table of ``bench_graph.synthetic_flows``
(20 000 addresses, 60 000 conversations, about 4 tuples per flow, two hours).
Timings are printed, never asserted. Each change is timed from the unfiltered
state (the control is reset between runs; the reset is not timed).

Usage::

    .venv/bin/python benchmarks/bench_filter.py              # 1 M rows, 5 runs each
    .venv/bin/python benchmarks/bench_filter.py --rows 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_graph import synthetic_flows  # noqa: E402

from flowkit.filters import filter_flows  # noqa: E402

#: (label, control, control value, filter_flows arguments) of each kind of change.
CHANGES: tuple[tuple[str, str, Any, dict[str, Any]], ...] = (
    ("time window", "start", "2024-05-01T10:30Z", {"start": "2024-05-01T10:30Z"}),
    ("source address", "src", "10.0.0.7", {"src": "10.0.0.7"}),
    ("source CIDR /16", "src", "10.0.0.0/16", {"src": "10.0.0.0/16"}),
    ("destination CIDR /24", "dst", "203.0.113.0/24", {"dst": "203.0.113.0/24"}),
    ("ports", "ports", "443, 8000-8100", {"ports": "443,8000-8100"}),
    ("protocol", "protocol", 17, {"protocol": 17}),
    ("direction", "direction", "inbound", {"direction": "inbound"}),
    ("decision", "decision", "deny", {"decision": "deny"}),
    ("state", "state", "E", {"state": "E"}),
    ("encryption", "encryption", "NX", {"encryption": "NX"}),
    ("rule (multi-select)", "rule", ("UserRule_AllowWeb", "DefaultRule_DenyAllInBound"),
     {"rule": ["UserRule_AllowWeb", "DefaultRule_DenyAllInBound"]}),
    ("log type", "log_type", "vnet", {"log_type": "vnet"}),
    ("MAC", "mac", "000D3A000005", {"mac": "000D3A000005"}),
)


def _best_ms(run: Callable[[], Any], reset: Callable[[], Any], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        reset()
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return min(times), statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Print milliseconds per filter change; returns 0 (timings are reported, not judged)."""
    parser = argparse.ArgumentParser(prog="bench_filter", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target-ms", type=float, default=200.0)
    args = parser.parse_args(argv)

    from flowkit.widgets import FilterPanel

    began = time.perf_counter()
    flows = synthetic_flows(args.rows)
    print(f"frame: {len(flows):,} rows, {flows['src_ip'].cat.categories.size:,} addresses "
          f"({time.perf_counter() - began:.1f} s to build)")
    began = time.perf_counter()
    panel = FilterPanel(flows, draw=False)
    print(f"panel: built in {(time.perf_counter() - began) * 1000:.0f} ms\n")

    def nothing() -> None:
        return None

    print(f"{'change':<24}{'selected rows':>14}{'filter_flows ms':>18}{'panel ms':>12}  (best / median of {args.repeat})")
    worst = 0.0
    for label, control, value, kwargs in CHANGES:
        widget = getattr(panel, control)
        empty = () if control == "rule" else ""
        pure_best, pure_median = _best_ms(lambda: filter_flows(flows, **kwargs), nothing, args.repeat)

        def change(widget: Any = widget, value: Any = value) -> None:
            widget.value = value

        def reset(widget: Any = widget, empty: Any = empty) -> None:
            widget.value = empty

        panel_best, panel_median = _best_ms(change, reset, args.repeat)
        assert panel.error is None, panel.error
        reset()
        worst = max(worst, panel_median)
        print(f"{label:<24}{len(filter_flows(flows, **kwargs)):>14,}"
              f"{pure_best:>9.1f} / {pure_median:<6.1f}{panel_best:>6.1f} / {panel_median:<6.1f}")
    verdict = "within" if worst <= args.target_ms else "OVER"
    print(f"\nslowest panel update (median): {worst:.1f} ms, {verdict} the {args.target_ms:.0f} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
