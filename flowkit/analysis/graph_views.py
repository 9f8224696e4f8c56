"""Reading and exporting a talker graph: top talkers, ego graphs, GraphML and GEXF.

The graph comes from :func:`flowkit.analysis.graph.talker_graph` (which re-exports these
functions); nothing here aggregates flows.

Examples
--------
>>> G = nx.DiGraph()
>>> G.add_edge("192.0.2.1", "198.51.100.7", bytes=300)
>>> top_talkers(G)["node"].tolist()
['192.0.2.1', '198.51.100.7']
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = ["top_talkers", "ego", "to_graphml", "to_gexf"]

#: Byte and packet totals of nodes and edges: ints, NaN where no flow behind them gave counters.
_TRAFFIC = ("packets_sent", "bytes_sent", "packets_received", "bytes_received", "bytes", "bytes_out", "bytes_in")


def top_talkers(G: nx.DiGraph, n: int = 10, *, weight: str = "bytes") -> pd.DataFrame:
    """The ``n`` nodes with the most traffic (sent plus received ``weight``).

    Parameters
    ----------
    G : networkx.DiGraph
        A graph from :func:`flowkit.analysis.graph.talker_graph`.
    n : int
        How many nodes, 0 or more (a negative ``n`` is refused: ``head(-1)`` would drop the last).
    weight : {"bytes", "flows", "tuples", "denied"}
        Edge attribute to rank by.

    Returns
    -------
    pandas.DataFrame
        node, vm, kind, out, in, total, peers; sorted by total, then node. ``out`` and
        ``in`` sum ``weight`` over the edges a node starts and ends (0 where it has none);
        edges of unknown traffic (NaN, as NSG v1 flows' bytes) are left out, and a sum
        over edges that all have unknown traffic is ``<NA>`` (such nodes are listed last).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge("a", "b", bytes=10)
    >>> G.add_edge("c", "b", bytes=5)
    >>> top_talkers(G, 2)["node"].tolist()
    ['b', 'a']
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        from flowkit.errors import ArgumentError

        raise ArgumentError(f"n: {n!r} is not a number of nodes (a whole number, 0 or more)")
    def total(edges: list[Any]) -> Any:
        # No edge sums to 0; edges that all have unknown traffic sum to <NA>.
        weights = [d.get(weight, 0) for _, _, d in edges]
        known = [v for v in weights if not (isinstance(v, float) and math.isnan(v))]
        return int(sum(known)) if known or not weights else pd.NA

    rows = []
    for node, data in G.nodes(data=True):
        out_e, in_e = list(G.out_edges(node, data=True)), list(G.in_edges(node, data=True))
        peers = len(set(G.successors(node)) | set(G.predecessors(node)))
        rows.append({"node": node, "vm": data.get("vm", ""), "kind": data.get("kind", ""),
                     "out": total(out_e), "in": total(in_e), "total": total(out_e + in_e), "peers": peers})
    frame = pd.DataFrame(rows, columns=["node", "vm", "kind", "out", "in", "total", "peers"])
    for column in ("out", "in", "total"):
        frame[column] = frame[column].astype("Int64")
    return (frame.sort_values(["total", "node"], ascending=[False, True], na_position="last")
            .head(n).reset_index(drop=True))


def ego(G: nx.DiGraph, node: str, radius: int = 1) -> nx.DiGraph:
    """The talkers within ``radius`` hops of ``node`` (either direction), with their edges.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("d", "e")])
    >>> sorted(ego(G, "b").nodes)
    ['a', 'b', 'c']
    """
    if node not in G:
        raise KeyError(f"{node!r} is not a node of the graph")
    return nx.ego_graph(G, node, radius=radius, undirected=True)


def _exportable(G: nx.DiGraph) -> nx.DiGraph:
    """A copy the GraphML and GEXF writers take: one type per attribute; an unknown share is -1,
    unknown traffic (NaN bytes and packets) is left out of the element (absent, not a number)."""
    H = G.copy()
    H.graph = {k: _scalar(v) for k, v in G.graph.items() if isinstance(_scalar(v), (str, int, float, bool))}
    elements = [data for _, data in H.nodes(data=True)] + [data for _, _, data in H.edges(data=True)]
    for data in elements:
        for k, v in list(data.items()):
            v = _scalar(v)
            if isinstance(v, float) and np.isnan(v):
                if k in _TRAFFIC:
                    del data[k]
                    continue
                v = -1.0
            data[k] = v
    return H


def to_graphml(G: nx.DiGraph, path: str | Path) -> Path:
    """Write the graph as GraphML (Gephi, Cytoscape, yEd); NaN shares become -1, unknown traffic is left out.

    Examples
    --------
    >>> import tempfile, os
    >>> p = to_graphml(nx.DiGraph([("a", "b")]), os.path.join(tempfile.mkdtemp(), "g.graphml"))
    >>> p.suffix
    '.graphml'
    """
    p = Path(path)
    nx.write_graphml(_exportable(G), p)
    return p


def to_gexf(G: nx.DiGraph, path: str | Path) -> Path:
    """Write the graph as GEXF (Gephi); NaN shares become -1, unknown traffic is left out.

    Examples
    --------
    >>> import tempfile, os
    >>> p = to_gexf(nx.DiGraph([("a", "b")]), os.path.join(tempfile.mkdtemp(), "g.gexf"))
    >>> p.exists()
    True
    """
    p = Path(path)
    nx.write_gexf(_exportable(G), p)
    return p


def _scalar(value: Any) -> Any:
    """A GraphML/GEXF-safe attribute value (no None, numpy scalars as Python)."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
