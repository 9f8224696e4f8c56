"""graph_views: top talkers at their boundaries, ego graphs, and exports that carry exactly the graph."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from flowkit.analysis import graph_views
from flowkit.analysis.graph import ego, talker_graph, to_gexf, to_graphml, top_talkers
from flowkit_frames import APP, INTERNET, SCANNER, WEB, frame, tuple_row

NSG_V1 = dict(log_type="nsg", version=1, state=None, encryption=None, acl_id=None, resource_id="/x/nsg-web")


def test_the_public_names():
    assert graph_views.__all__ == ["top_talkers", "ego", "to_graphml", "to_gexf"]


def _mixed_graph() -> nx.DiGraph:
    """WEB -> APP with counters (VNet), WEB -> INTERNET through NSG v1 only (unknown traffic),
    SCANNER -> WEB denied (VNet zeros)."""
    rows = [tuple_row(0, sport=1, state="E", counters=(2, 200, 1, 50)),
            tuple_row(0, sport=2, dst=INTERNET, dport=443, **NSG_V1),
            tuple_row(0, sport=40000, src=SCANNER, dst=WEB, dport=22, direction="inbound", decision="deny",
                      state="D")]
    return talker_graph(frame(rows))


def test_a_node_that_starts_no_flow_has_out_zero_and_one_that_answers_none_has_in_zero():
    """Out and in are sums over the edges a node starts and ends: none is 0, not unknown; only a
    node all of whose edges have unknown traffic has <NA>."""
    G = _mixed_graph()
    flows = top_talkers(G, weight="flows").set_index("node")
    assert flows.loc[[WEB, APP, INTERNET, SCANNER], ["out", "in", "total"]].values.tolist() == [
        [2, 1, 3], [0, 1, 1], [0, 1, 1], [1, 0, 1]]
    by_bytes = top_talkers(G)
    assert by_bytes["node"].tolist() == [WEB, APP, SCANNER, INTERNET]
    assert by_bytes["kind"].tolist() == ["private", "private", "public", "public"]
    assert by_bytes[["out", "in", "total"]].astype(object).where(by_bytes[["out", "in", "total"]].notna(), None) \
        .values.tolist() == [[250, 0, 250], [0, 250, 250], [0, 0, 0], [0, None, None]]


def test_ties_go_by_node_unknown_totals_last_and_n_cuts():
    G = nx.DiGraph()
    for i in range(12):  # 12 nodes of one edge each, all of 10 bytes but one unknown
        G.add_edge(f"n{i:02d}", f"m{i:02d}", bytes=(10 if i % 2 else 10.0) if i else float("nan"))
    top = top_talkers(G)
    assert len(top) == 10
    assert top["node"].tolist() == ["m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10"]
    assert top_talkers(G, 30)["node"].tolist()[-2:] == ["m00", "n00"]
    assert top_talkers(G, 0).columns.tolist() == ["node", "vm", "kind", "out", "in", "total", "peers"]
    assert len(top_talkers(G, 0)) == 0


def test_edges_without_the_weight_count_nothing_and_nodes_without_vm_or_kind_show_empty():
    G = nx.DiGraph()
    G.add_edge("a", "b", denied=2)
    G.add_edge("b", "c")
    top = top_talkers(G, weight="denied").set_index("node")
    assert top.loc[["a", "b", "c"], ["out", "in", "total", "peers"]].values.tolist() == [
        [2, 0, 2, 1], [0, 2, 2, 2], [0, 0, 0, 1]]
    assert (top["vm"].tolist(), top["kind"].tolist()) == ([""] * 3, [""] * 3)


def test_an_empty_graph_has_no_talkers():
    top = top_talkers(nx.DiGraph())
    assert top.columns.tolist() == ["node", "vm", "kind", "out", "in", "total", "peers"] and len(top) == 0


def test_ego_radius_and_unknown_node():
    G = nx.DiGraph([("a", "b"), ("c", "b"), ("c", "d")])
    assert sorted(ego(G, "a").nodes) == ["a", "b"]
    assert sorted(ego(G, "a", radius=2).nodes) == ["a", "b", "c"]
    assert sorted(ego(G, "a", radius=2).edges) == [("a", "b"), ("c", "b")]
    with pytest.raises(KeyError, match="'z' is not a node of the graph"):
        ego(G, "z")


def _expected(G: nx.DiGraph) -> tuple[dict, dict]:
    """What an export must carry: NaN traffic left out, NaN shares as -1."""
    def clean(d):
        out = {}
        for k, v in d.items():
            if isinstance(v, float) and math.isnan(v):
                if k in ("packets_sent", "bytes_sent", "packets_received", "bytes_received", "bytes",
                         "bytes_out", "bytes_in"):
                    continue
                v = -1.0
            out[k] = v
        return out
    return ({n: clean(d) for n, d in G.nodes(data=True)}, {(u, v): clean(d) for u, v, d in G.edges(data=True)})


def test_graphml_carries_exactly_the_nodes_edges_and_attributes(tmp_path):
    G = _mixed_graph()
    nodes, edges = _expected(G)
    assert "bytes" not in edges[WEB, INTERNET] and "bytes_in" not in nodes[INTERNET]  # what the case is about
    back = nx.read_graphml(to_graphml(G, tmp_path / "g.graphml"))
    assert dict(back.nodes(data=True)) == nodes
    assert {(u, v): d for u, v, d in back.edges(data=True)} == edges
    assert {k: v for k, v in back.graph.items() if not k.endswith("_default")} == {"by": "ip"}


def test_gexf_carries_exactly_the_nodes_edges_and_attributes(tmp_path):
    G = _mixed_graph()
    nodes, edges = _expected(G)
    back = nx.read_gexf(to_gexf(G, tmp_path / "g.gexf"))
    assert {n: {k: v for k, v in d.items() if k != "label"} for n, d in back.nodes(data=True)} == nodes
    assert {(u, v): {k: v for k, v in d.items() if k != "id"} for u, v, d in back.edges(data=True)} == edges


def test_exports_turn_numpy_scalars_and_missing_values_into_plain_ones(tmp_path):
    G = nx.DiGraph(note=None, flag=np.bool_(True), dropped=[1, 2])
    G.add_node("a", vm=None, n=np.int64(3), share=np.float64(0.5), ok=np.bool_(False), ghost=pd.NA,
               bytes_in=np.float64("nan"), share2=np.float64("nan"))
    G.add_edge("a", "b", packets_sent=float("nan"), flows=np.int32(2))
    back = nx.read_graphml(to_graphml(G, tmp_path / "g.graphml"))
    assert {k: v for k, v in back.graph.items() if not k.endswith("_default")} == {"note": "", "flag": True}
    assert back.nodes["a"] == {"vm": "", "n": 3, "share": 0.5, "ok": False, "ghost": "", "share2": -1.0}
    assert back.edges["a", "b"] == {"flows": 2}
    assert math.isnan(G.nodes["a"]["bytes_in"]) and G.graph["dropped"] == [1, 2]  # the graph itself is unchanged


@pytest.mark.parametrize("n", [-1, 2.5, True, "3", None])
def test_top_talkers_refuses_a_count_of_nodes_that_is_not_one(n):
    # n=-1 gave every node but the last (pandas' head(-1)), without a word.
    from flowkit.errors import ArgumentError
    G = talker_graph(frame([tuple_row(0, src=WEB, dst=APP)]))
    with pytest.raises(ArgumentError, match=r"^n: .* is not a number of nodes \(a whole number, 0 or more\)$"):
        top_talkers(G, n)
    assert len(top_talkers(G, 0)) == 0 and len(top_talkers(G, np.int64(1))) == 1
