"""Benchmark: talker_graph vs a naive per-row ``G.add_edge`` loop, in the same run.

Builds a synthetic canonical flow table (5 M rows by default: 20 000 addresses,
about 4 tuples per flow seen at one or two NICs), then times

- ``flowkit.analysis.graph.talker_graph(flows)`` (aggregation on category codes,
  one ``add_edge`` per talker pair), and
- a naive loop that walks the rows and calls ``G.add_edge`` (updating tuples,
  packets, bytes and denied counts) for each one,

and prints both times and the ratio (talker_graph's best of ``--repeat`` runs, and its
first run; the naive loop runs once). The issue's target is a ratio of at least 4.

Usage::

    .venv/bin/python benchmarks/bench_graph.py            # 5 M rows
    .venv/bin/python benchmarks/bench_graph.py --rows 1000000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from flowkit.analysis.graph import talker_graph
from flowkit.schema import DECISIONS, DIRECTIONS, ENCRYPTION_STATES, LOG_TYPES, STATES, dtypes


def synthetic_flows(rows: int, *, addresses: int = 20_000, conversations: int = 60_000,
                    seed: int = 0) -> pd.DataFrame:
    """A canonical frame of ``rows`` tuples with realistic cardinalities (built with numpy)."""
    rng = np.random.default_rng(seed)
    private = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(addresses - 1000)]
    public = [f"203.0.{113 + i // 256}.{i % 256}" for i in range(1000)]
    ips = pd.Index(private + public)
    # Talkers follow a heavy tail: a few addresses carry most flows.
    # Conversations: each address talks to a few peers, busy ones to more (heavy tail);
    # each flow is one conversation's 5-tuple, logged as about 4 tuples (B, C…, E) at one
    # or two NICs, as Azure writes them.
    weights = 1.0 / np.arange(1, len(ips) + 1) ** 0.8
    weights /= weights.sum()
    pairs = min(conversations, rows)
    conv_src = rng.choice(len(ips), pairs, p=weights)
    conv_dst = rng.choice(len(ips), pairs, p=weights)
    conv_weights = 1.0 / np.arange(1, pairs + 1) ** 0.8
    flow_conv = rng.choice(pairs, max(rows // 4, 1), p=conv_weights / conv_weights.sum())
    row_flow = np.sort(rng.integers(0, len(flow_conv), rows))
    src = conv_src[flow_conv[row_flow]]
    dst = conv_dst[flow_conv[row_flow]]
    flow_sport = rng.integers(49152, 65535, len(flow_conv)).astype("uint16")
    conv_dport = rng.choice(np.array([22, 53, 80, 443, 1433, 3389, 6379, 8080], dtype="uint16"), pairs)
    conv_proto = rng.choice(np.array([6, 17], dtype="uint8"), pairs, p=[0.9, 0.1])
    # Each tuple is seen at the private end: outbound at the source NIC, inbound at the
    # destination NIC (both when both are private), as a VNet flow log on the VNet writes it.
    src_private, dst_private = src < len(private), dst < len(private)
    direction = np.where(src_private & dst_private, rng.integers(0, 2, rows),
                         np.where(src_private, 1, 0)).astype(np.int8)
    both_public = ~src_private & ~dst_private
    dst = np.where(both_public, rng.integers(0, len(private), rows), dst)
    types = dtypes()

    def cat(values: Sequence[str], codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(values))

    state_codes = rng.choice(4, rows, p=[0.25, 0.4, 0.25, 0.1])
    counters_ok = np.isin(state_codes, [1, 2])
    packets = np.where(counters_ok, rng.integers(1, 500, rows), 0)
    frame = pd.DataFrame({
        "flow_time": pd.to_datetime(1714557600000 + rng.integers(0, 7_200_000, rows), unit="ms", utc=True)
        .astype(types["flow_time"]),
        "record_time": pd.Series(pd.NaT, index=range(rows), dtype=types["record_time"]),
        "src_ip": pd.Categorical.from_codes(src, categories=ips),
        "dst_ip": pd.Categorical.from_codes(dst, categories=ips),
        "src_port": flow_sport[row_flow],
        "dst_port": conv_dport[flow_conv[row_flow]],
        "protocol": conv_proto[flow_conv[row_flow]],
        "direction": cat(DIRECTIONS, direction),
        "decision": cat(DECISIONS, (state_codes == 3).astype(np.int8)),
        "state": cat(STATES, state_codes),
        "encryption": cat(ENCRYPTION_STATES, rng.choice(8, rows, p=[0.5, 0.3, 0.05, 0.02, 0.03, 0.02, 0.05, 0.03])),
        "packets_sent": pd.array(packets, dtype="UInt32"),
        "bytes_sent": pd.array(packets * 800, dtype="UInt64"),
        "packets_received": pd.array(packets // 2, dtype="UInt32"),
        "bytes_received": pd.array(packets * 600, dtype="UInt64"),
        "rule": cat(["DefaultRule_AllowVnetOutBound", "DefaultRule_DenyAllInBound", "UserRule_AllowWeb"],
                    rng.integers(0, 3, rows)),
        "acl_id": cat(["00000000-0000-0000-0000-000000000001"], np.zeros(rows, dtype=np.int8)),
        # The observing NIC is the source's (outbound) or the destination's (inbound).
        "mac": cat([f"000D3A{i:06X}" for i in range(len(private))], np.where(direction == 1, src, dst)),
        "log_type": cat(LOG_TYPES, np.ones(rows, dtype=np.int8)),
        "version": np.full(rows, 4, dtype="uint8"),
        "resource_id": cat(["/SUBSCRIPTIONS/X/FLOWLOGS/FL"], np.zeros(rows, dtype=np.int8)),
        "target_resource_id": cat(["/subscriptions/x/virtualNetworks/v"], np.zeros(rows, dtype=np.int8)),
        "blob": cat(["synthetic"], np.zeros(rows, dtype=np.int8)),
    })
    return frame


def naive_graph(flows: pd.DataFrame) -> nx.DiGraph:
    """What a first attempt looks like: one ``G.add_edge`` per row, attributes updated in Python."""
    G = nx.DiGraph()
    columns = [flows[c].to_numpy(dtype=object) for c in ("src_ip", "dst_ip", "state", "decision")]
    counters = [flows[c].to_numpy(dtype="float64", na_value=0.0)
                for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")]
    for src, dst, state, decision, ps, bs, pr, br in zip(*columns, *counters):
        if G.has_edge(src, dst):
            data = G[src][dst]
        else:
            G.add_edge(src, dst, tuples=0, packets_sent=0.0, bytes_sent=0.0, packets_received=0.0,
                       bytes_received=0.0, denied=0)
            data = G[src][dst]
        data["tuples"] += 1
        if state in ("C", "E"):
            data["packets_sent"] += ps
            data["bytes_sent"] += bs
            data["packets_received"] += pr
            data["bytes_received"] += br
        if decision == "deny":
            data["denied"] += 1
    return G


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print both times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in the synthetic table")
    parser.add_argument("--repeat", type=int, default=3, help="runs of talker_graph (the best counts)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    flows = synthetic_flows(args.rows)
    print(f"synthetic frame: {len(flows):,} rows, {flows.memory_usage(deep=False).sum() / 1e6:.0f} MB, "
          f"built in {time.perf_counter() - started:.1f} s")
    times = []
    for _ in range(max(args.repeat, 1)):
        gc.collect()
        started = time.perf_counter()
        G = talker_graph(flows)
        times.append(time.perf_counter() - started)
    fast = min(times)
    print(f"talker_graph:          {fast:8.2f} s  best of {len(times)} "
          f"({', '.join(f'{t:.2f}' for t in times)}; {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges)")
    gc.collect()
    started = time.perf_counter()
    N = naive_graph(flows)
    slow = time.perf_counter() - started
    print(f"naive per-row add_edge:{slow:8.2f} s  ({N.number_of_nodes():,} nodes, {N.number_of_edges():,} edges)")
    assert N.number_of_edges() == G.number_of_edges()
    tuples = sum(d["tuples"] for _, _, d in G.edges(data=True))
    assert tuples == len(flows), (tuples, len(flows))
    print(f"ratio (naive / talker_graph): {slow / fast:.1f}x best, {slow / times[0]:.1f}x first run  (target >= 4x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
