"""Drawing talker graphs with matplotlib (no pyplot state: returns a Figure).

Denied edges are red, unencrypted edges (a known VNet encryption state other
than ``X``) dashed; public nodes are orange, private blue. Only the busiest
nodes are labelled so a few hundred nodes stay readable.

Examples
--------
>>> import networkx as nx
>>> G = nx.DiGraph()
>>> G.add_edge("10.0.0.4", "192.0.2.9", bytes=10, denied=0, unencrypted=True)
>>> fig = draw_talker_graph(G)
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["draw_talker_graph", "DENIED_COLOUR", "ALLOWED_COLOUR"]

DENIED_COLOUR = "#c0392b"
ALLOWED_COLOUR = "#7f8c8d"
_NODE_COLOURS = {"private": "#2e86c1", "public": "#e67e22"}


def _layout(G: nx.DiGraph, layout: str, seed: int) -> dict[Any, np.ndarray]:
    if len(G) == 0:
        return {}
    if layout == "circular":
        return nx.circular_layout(G)
    if layout == "shell":
        private = [n for n, d in G.nodes(data=True) if d.get("kind") == "private"]
        public = [n for n in G if n not in set(private)]
        return nx.shell_layout(G, [s for s in (private, public) if s])
    has_scipy = importlib.util.find_spec("scipy") is not None
    if layout == "kamada_kawai" and len(G) <= 500 and has_scipy:
        return nx.kamada_kawai_layout(G.to_undirected())
    k = 2.0 / math.sqrt(max(len(G), 1))
    U = G.to_undirected()
    if has_scipy or len(G) < 500:
        return nx.spring_layout(U, k=k, seed=seed, iterations=60)
    # networkx switches to a scipy-based solver at 500 nodes; without scipy run its dense
    # numpy Fruchterman-Reingold directly (fine up to a few thousand nodes).
    dense = getattr(nx.drawing.layout, "_fruchterman_reingold", None)
    if dense is None:  # pragma: no cover - other networkx versions
        return nx.circular_layout(U)
    nodes = list(U)
    A = nx.to_numpy_array(U, nodelist=nodes, weight=None)
    rng = np.random.default_rng(seed)
    pos = dense(A, k=k, pos=rng.random((len(nodes), 2)), fixed=None, iterations=60, threshold=1e-4,
                dim=2, seed=seed)
    pos = nx.rescale_layout(pos)
    return dict(zip(nodes, pos))


def _weight(data: dict, weight: str) -> float:
    """An edge's weight for sizes and widths: 1 when it has none, 0 when unknown (NaN)."""
    value = float(data.get(weight, 1) or 0)
    return 0.0 if math.isnan(value) else value


def draw_talker_graph(
    G: nx.DiGraph,
    *,
    ax: Any | None = None,
    layout: str = "spring",
    max_labels: int = 30,
    weight: str = "bytes",
    seed: int = 7,
    figsize: tuple[float, float] = (11.0, 8.0),
    title: str | None = None,
) -> Figure:
    """Draw a talker graph and return the matplotlib Figure.

    Parameters
    ----------
    G : networkx.DiGraph
        A graph from :func:`flowkit.analysis.graph.talker_graph`.
    ax : matplotlib Axes, optional
        Draw into this Axes (its figure is returned); a new Figure otherwise.
    layout : {"spring", "kamada_kawai", "circular", "shell"}
        Node placement; ``shell`` puts private nodes inside, public outside;
        ``kamada_kawai`` needs scipy (spring otherwise).
    max_labels : int
        Label only this many nodes, the busiest by ``weight`` (VM names where known).
    weight : str
        Edge attribute for edge width and node ranking.
    seed : int
        Seed of the spring layout (same picture for the same graph).
    figsize : (float, float)
        Size of a new figure, in inches.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge("a", "b", bytes=1, denied=1)
    >>> len(draw_talker_graph(G, layout="circular").axes)
    1
    """
    if ax is None:
        fig = Figure(figsize=figsize)
        ax = fig.subplots()
    else:
        fig = ax.figure
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if len(G) == 0:
        ax.text(0.5, 0.5, "no flows", ha="center", va="center", transform=ax.transAxes)
        return fig
    pos = _layout(G, layout, seed)
    strength = {n: 0.0 for n in G}
    for u, v, d in G.edges(data=True):
        w = _weight(d, weight)
        strength[u] += w
        strength[v] += w
    top = max(strength.values()) or 1.0
    nodes = list(G)
    small = len(G) > 150
    base = 60 if small else 200
    sizes = [base * (0.4 + 2.0 * math.sqrt(strength[n] / top)) for n in nodes]
    colours = [_NODE_COLOURS.get(G.nodes[n].get("kind", ""), "#95a5a6") for n in nodes]
    nx.draw_networkx_nodes(G, pos, nodelist=nodes, node_size=sizes, node_color=colours,
                           alpha=0.9, linewidths=0.5, edgecolors="white", ax=ax)
    edges = [(u, v) for u, v in G.edges() if u != v]
    if edges:
        max_w = max(_weight(G.edges[e], weight) for e in edges) or 1.0
        for denied in (False, True):
            for unencrypted in (False, True):
                part = [e for e in edges
                        if bool(G.edges[e].get("denied", 0)) == denied
                        and bool(G.edges[e].get("unencrypted", False)) == unencrypted]
                if not part:
                    continue
                widths = [0.5 + 3.0 * math.sqrt(_weight(G.edges[e], weight) / max_w)
                          for e in part]
                nx.draw_networkx_edges(
                    G, pos, edgelist=part, width=widths,
                    edge_color=DENIED_COLOUR if denied else ALLOWED_COLOUR,
                    style="dashed" if unencrypted else "solid",
                    alpha=0.8, arrows=True, arrowsize=8 if small else 12,
                    node_size=sizes[0] if small else base, ax=ax)
    ranked = sorted(nodes, key=lambda n: (-strength[n], str(n)))[:max_labels]
    labels = {n: (G.nodes[n].get("vm") or str(n)) for n in ranked}
    nx.draw_networkx_labels(G, pos, labels=labels, font_size=7 if small else 9, ax=ax,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                  "alpha": 0.7})
    legend = [
        Line2D([0], [0], color=ALLOWED_COLOUR, lw=2, label="allowed"),
        Line2D([0], [0], color=DENIED_COLOUR, lw=2, label="denied"),
        Line2D([0], [0], color=ALLOWED_COLOUR, lw=2, ls="--", label="unencrypted (VNet)"),
        Line2D([0], [0], marker="o", color="w", markerfacecolor=_NODE_COLOURS["private"],
               markersize=8, label="private"),
        Line2D([0], [0], marker="o", color="w", markerfacecolor=_NODE_COLOURS["public"],
               markersize=8, label="public"),
    ]
    ax.legend(handles=legend, loc="lower left", fontsize=8, framealpha=0.8)
    if len(G) > max_labels:
        ax.text(0.99, 0.01, f"{len(G)} nodes, {G.number_of_edges()} edges; {max_labels} busiest labelled",
                ha="right", va="bottom", fontsize=7, transform=ax.transAxes, color="#555")
    return fig
