"""Talker graph from a Dask DataFrame: the edge aggregation runs on the workers.

The same graph as :func:`flowkit.analysis.graph.talker_graph` (same nodes, edges
and attributes), computed in three distributed steps:

1. per partition (one task, one read), rows become one partial per (flow
   5-tuple, observer) with counter sums, row counts and deny/encryption flags,
   computed on category codes; addresses leave the partition as 64-bit hashes
   (with a hash -> address map, checked for collisions on the client);
2. partials are shuffled on the (source, destination) hashes, so every
   observer of a flow meets in one partition, which sums per observer, keeps
   the largest observer per flow and sums per address pair;
3. the client receives one row per talking address pair, plus the distinct
   rules per pair and the (address, MAC) pairings, and builds the NetworkX
   graph with the analysis module's node table and label helpers.

A copy of a tuple (:func:`flowkit.analysis.copies.repeated_tuples`) counts once
when it is in the same partition as its original, as in the pandas graph (the files
of one hour folder of the layout, ``PT1H.json`` and copies such as ``PT1H (1).json``,
always share one); a copy in another partition (a ~64 MB batch of blobs) is counted again.

Examples
--------
>>> import flowkit
>>> ddf = flowkit.read_flow_logs("data-samples/connectivity", engine="dask")  # doctest: +SKIP
>>> G = talker_graph_dask(ddf)  # doctest: +SKIP
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from flowkit.analysis import graph as _g
from flowkit.analysis.counting import counters, counters_given
from flowkit.analysis.keys import category_mask, combine_codes, denied_mask, ip_codes, join_labels
from flowkit.scale._parts import (MISSING, from_parts, hash_values, hashed, is_dask, per_partition,
                                  shuffle_apply, small_concat, value_map, values)

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["talker_graph_dask", "GRAPH_COLUMNS"]

_COUNTERS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")
#: Columns the talker graph reads (pass them as ``columns=`` to read less): those of
#: :data:`flowkit.analysis.copies.TUPLE_IDENTITY`, which tell a copy of a tuple from a tuple.
GRAPH_COLUMNS = ["flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision",
                 "state", "encryption", *_COUNTERS, "rule", "acl_id", "mac", "log_type", "resource_id"]
_SUMS = ("tuples", "denied_tuples", *_COUNTERS)
_FLAGS = ("deny", "known", "nx", "given")


def _pack(flows: pd.DataFrame) -> np.ndarray:
    """Source port, destination port and protocol in one int64 (16 + 16 + 8 bits)."""
    return ((flows["src_port"].to_numpy(np.int64) << 24) | (flows["dst_port"].to_numpy(np.int64) << 8)
            | flows["protocol"].to_numpy(np.int64))


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def _valid(flows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    src, dst, _ = ip_codes(flows)
    valid = (src >= 0) & (dst >= 0)
    if valid.all():
        return flows, src, dst
    return flows.loc[valid], src[valid], dst[valid]


def _observer_partials(flows: pd.DataFrame) -> pd.DataFrame:
    """Per (5-tuple, observer) of one partition: row counts, counter sums, flags (hashed keys)."""
    f, src, dst = _valid(flows)
    if len(f) == 0:
        return _partials_meta()
    pp = _pack(f)
    combo = combine_codes(_codes(f["mac"]), _codes(f["log_type"]), _codes(f["resource_id"]))
    rule_h, _ = hashed(f["rule"])
    oid = combine_codes(src, dst, pp, combo, _codes(f["rule"]))  # one partial per rule seen too
    k = int(oid.max()) + 1
    _, first = np.unique(oid, return_index=True)
    c = counters(f)
    deny = denied_mask(f)

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(oid, weights=weights, minlength=k).astype(np.int64)

    # the observer's identity: MAC, log type and resource as one hash (computed per combination)
    _, combo_first = np.unique(combo, return_index=True)
    combo_text = np.array(["\x1f".join("\x00" if v is None else str(v) for v in t) for t in zip(
        values(f["mac"].iloc[combo_first]), values(f["log_type"].iloc[combo_first]),
        values(f["resource_id"].iloc[combo_first]))], dtype=object)
    obs_h = hash_values(combo_text)[combo]
    src_h, _ = hashed(f["src_ip"])
    dst_h, _ = hashed(f["dst_ip"])
    return pd.DataFrame({
        "src_h": src_h[first], "dst_h": dst_h[first], "pp": pp[first], "obs_h": obs_h[first],
        "rule_h": rule_h[first], "tuples": total(None), "denied_tuples": total(deny.astype(float)),
        **{name: total(c[name]) for name in _COUNTERS},
        "deny": total(deny.astype(float)) > 0, "known": total(f["encryption"].notna().to_numpy(float)) > 0,
        "nx": total((f["encryption"].notna().to_numpy() & ~category_mask(f["encryption"], "X")).astype(float)) > 0,
        "given": total(counters_given(f).astype(float)) > 0,
    }, copy=False)  # one block per column: no consolidation copy


def _partials_meta() -> pd.DataFrame:
    ints = ("src_h", "dst_h", "pp", "obs_h", "rule_h", *_SUMS)
    return pd.DataFrame({**{k: pd.Series([], dtype=np.int64) for k in ints},
                         **{k: pd.Series([], dtype=bool) for k in _FLAGS}})


def _pair_table(part: pd.DataFrame) -> pd.DataFrame:
    """After the shuffle: per address pair, flows and their totals (largest observer per flow)."""
    if part.empty:
        return _pairs_meta()
    src, dst, pp = (part[c].to_numpy(np.int64) for c in ("src_h", "dst_h", "pp"))
    oid = combine_codes(src, dst, pp, part["obs_h"].to_numpy(np.int64))
    n_obs = int(oid.max()) + 1
    _, o_first = np.unique(oid, return_index=True)

    def by_obs(name: str) -> np.ndarray:
        return np.bincount(oid, weights=part[name].to_numpy(np.float64), minlength=n_obs)

    fid = combine_codes(src[o_first], dst[o_first], pp[o_first])  # flow of each observer
    n_flows = int(fid.max()) + 1
    _, f_first = np.unique(fid, return_index=True)
    row_of_flow = o_first[f_first]
    flow: dict[str, np.ndarray] = {}
    for name in _COUNTERS:
        best = np.zeros(n_flows)
        np.maximum.at(best, fid, by_obs(name))
        flow[name] = best
    for name in ("tuples", "denied_tuples", *_FLAGS):
        flow[name] = np.bincount(fid, weights=by_obs(name), minlength=n_flows)
    pid = combine_codes(src[row_of_flow], dst[row_of_flow])  # pair of each flow
    n_pairs = int(pid.max()) + 1
    _, p_first = np.unique(pid, return_index=True)
    p_rows = row_of_flow[p_first]

    def by_pair(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(pid, weights=weights, minlength=n_pairs).astype(np.int64)

    dport = (pp[row_of_flow] >> 8) & 0xFFFF
    ports = _grouped_tuples(pid, dport, n_pairs)
    rule_h = part["rule_h"].to_numpy(np.int64)
    has_rule = rule_h != MISSING
    rule_codes, rule_values = pd.factorize(rule_h[has_rule])
    rules = _grouped_tuples(pid[fid[oid]][has_rule], rule_codes, n_pairs,
                            names=np.asarray(rule_values, dtype=np.int64))
    return pd.DataFrame({
        "src_h": src[p_rows], "dst_h": dst[p_rows], "flows": by_pair(None),
        "tuples": by_pair(flow["tuples"]), "flows_counted": by_pair((flow["given"] > 0).astype(float)),
        **{name: by_pair(flow[name]) for name in _COUNTERS},
        "denied": by_pair((flow["deny"] > 0).astype(float)), "denied_tuples": by_pair(flow["denied_tuples"]),
        "encrypted": by_pair(((flow["known"] > 0) & (flow["nx"] == 0)).astype(float)),  # X in every tuple
        "encryption_known": by_pair((flow["known"] > 0).astype(float)),
        "ports": pd.Series(ports, dtype=object), "rules": pd.Series(rules, dtype=object),
    })


def _grouped_tuples(group: np.ndarray, value: np.ndarray, n_groups: int,
                    names: np.ndarray | None = None) -> list[tuple[int, ...]]:
    """Distinct ``value`` (small non-negative ints, or ``names[value]``) of each group 0..n-1, as tuples."""
    out: list[tuple[int, ...]] = [()] * n_groups
    if len(group) == 0:
        return out
    width = np.int64(int(value.max()) + 1)
    keys = np.sort(group.astype(np.int64) * width + value)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
    g, v = keys // width, keys % width
    labels = names[v] if names is not None else v
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    stops = np.r_[starts[1:], len(keys)]
    tuples = list(zip(labels[starts].tolist()))  # one value per group: 1-tuples built in C
    listed = labels.tolist()
    for j in np.flatnonzero(stops - starts > 1).tolist():  # groups of several values
        tuples[j] = tuple(listed[starts[j]:stops[j]])
    if len(tuples) == n_groups:  # every group has values: they come in group order 0..n-1
        return tuples
    for i, t in zip(g[starts].tolist(), tuples):
        out[i] = t
    return out


def _pairs_meta() -> pd.DataFrame:
    cols = ("src_h", "dst_h", "flows", "tuples", "flows_counted", *_COUNTERS, "denied", "denied_tuples",
            "encrypted", "encryption_known")
    return pd.DataFrame({**{k: pd.Series([], dtype=np.int64) for k in cols}, "ports": pd.Series([], dtype=object),
                         "rules": pd.Series([], dtype=object)})


def _value_map(flows: pd.DataFrame) -> pd.DataFrame:
    """(hash, value) of the addresses and rules of one partition's valid rows."""
    f, _, _ = _valid(flows)
    return pd.concat([hashed(f[c])[1] for c in ("src_ip", "dst_ip", "rule")], ignore_index=True).drop_duplicates()


def _own_macs(flows: pd.DataFrame) -> pd.DataFrame:
    """(address, MAC, rows): the NIC side of each row, as ``talker_graph`` learns MACs."""
    src, dst, _ = ip_codes(flows)
    mac_codes = _codes(flows["mac"])
    outbound = category_mask(flows["direction"], "outbound")
    inbound = category_mask(flows["direction"], "inbound")
    use_dst = inbound & ~outbound
    ip = np.where(outbound, src, np.where(use_dst, dst, -1))
    ok = (ip >= 0) & (mac_codes >= 0)
    if not ok.any():
        return _own_meta()
    key = combine_codes(ip[ok], mac_codes[ok])
    counts = np.bincount(key)
    _, first = np.unique(key, return_index=True)
    rows = np.flatnonzero(ok)[first]
    ip_vals = np.where(outbound[rows], values(flows["src_ip"].iloc[rows]), values(flows["dst_ip"].iloc[rows]))
    return pd.DataFrame({"ip": ip_vals.astype(object), "mac": values(flows["mac"].iloc[rows]),
                         "n": counts.astype(np.int64)})


def _learned(own: pd.DataFrame) -> dict[str, str]:
    """Address -> most frequent MAC (ties: smallest MAC)."""
    if own.empty:
        return {}
    tot = own.groupby(["ip", "mac"], sort=True)["n"].sum().reset_index()
    best = tot.sort_values(["ip", "n", "mac"], ascending=[True, False, True], kind="stable").drop_duplicates("ip")
    return dict(zip(best["ip"], best["mac"]))


def _nodes(ips: np.ndarray, macs: dict[str, str], by: str, inventory: Any,
           subnet_prefix: tuple[int, int]) -> pd.DataFrame:
    """The analysis module's node table, fed with the MACs learned over all partitions."""
    cats = pd.Index(ips, dtype=object)
    known = [i for i, ip in enumerate(ips) if ip in macs]
    mac_values = [macs[ips[i]] for i in known]
    # One outbound row per address with a learned MAC: _learned_macs then finds exactly it.
    stand_in = pd.DataFrame({
        "mac": pd.Categorical(mac_values),
        "direction": pd.Categorical(["outbound"] * len(known), categories=["inbound", "outbound"]),
    })
    src = np.asarray(known, dtype=np.int64)
    dst = np.full(len(known), -1, dtype=np.int64)
    return _g._node_table(stand_in, by, src, dst, cats, inventory, subnet_prefix)


def talker_graph_dask(
    flows: Any,
    by: str = "ip",
    *,
    inventory: "Inventory | None" = None,
    subnet_prefix: tuple[int, int] = (24, 64),
    max_ports: int = 20,
    max_rules: int = 10,
) -> nx.DiGraph:
    """Build the talker graph of a Dask DataFrame of flows, aggregating on the workers.

    Parameters
    ----------
    flows : dask.dataframe.DataFrame or pandas.DataFrame
        Canonical flows (``read_flow_logs(..., engine="dask")``); at least
        :data:`GRAPH_COLUMNS`. A pandas frame is handed to
        :func:`flowkit.analysis.graph.talker_graph`.
    by, inventory, subnet_prefix, max_ports, max_rules
        As for :func:`flowkit.analysis.graph.talker_graph`.

    Returns
    -------
    networkx.DiGraph
        The graph ``talker_graph`` returns for the same rows. Only one row per
        talking address pair (and per rule, log type and NIC address) reaches
        the client.

    Examples
    --------
    >>> import flowkit
    >>> ddf = flowkit.read_flow_logs("data-samples/connectivity", engine="dask",
    ...                              columns=GRAPH_COLUMNS)  # doctest: +SKIP
    >>> G = talker_graph_dask(ddf, by="mac")  # doctest: +SKIP
    """
    if not is_dask(flows):
        return _g.talker_graph(flows, by, inventory=inventory, subnet_prefix=subnet_prefix,
                               max_ports=max_ports, max_rules=max_rules)
    _g.check_graph_args(by, subnet_prefix)
    import dask

    flows = flows[GRAPH_COLUMNS]
    # One task per partition computes every partial from one read of the partition.
    parts = per_partition(flows, _graph_parts)
    partials = from_parts([p[0] for p in parts], _partials_meta())
    pairs_dd = shuffle_apply(partials, ["src_h", "dst_h"], _pair_table, _pairs_meta())
    pair_parts, small = dask.compute(pairs_dd.to_delayed(), [p[1:] for p in parts])
    value_of = value_map([m for m, _ in small])
    pairs = _unhash(small_concat(list(pair_parts), _pairs_meta()), value_of)
    rules = pairs[["src_ip", "dst_ip", "rules"]].explode("rules").dropna(subset=["rules"])
    rules = pd.DataFrame({"src_ip": rules["src_ip"], "dst_ip": rules["dst_ip"],
                          "value": rules["rules"].map(value_of).astype(object)}).drop_duplicates()
    own = small_concat([o for _, o in small], _own_meta())
    return _build(pairs, rules, own, by, inventory, subnet_prefix, max_ports, max_rules)


def _graph_parts(flows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Everything the graph needs from one partition: observer partials, the hashed
    values (addresses, rules), and the NIC side of each row."""
    return _observer_partials(flows), _value_map(flows), _own_macs(flows)


def _own_meta() -> pd.DataFrame:
    return pd.DataFrame({"ip": pd.Series([], dtype=object), "mac": pd.Series([], dtype=object),
                         "n": pd.Series([], dtype=np.int64)})


def _unhash(frame: pd.DataFrame, ip_of: dict[int, Any]) -> pd.DataFrame:
    """Replace ``src_h``/``dst_h`` by the addresses they stand for."""
    src = frame.pop("src_h").map(ip_of)
    dst = frame.pop("dst_h").map(ip_of)
    frame.insert(0, "src_ip", src.astype(object))
    frame.insert(1, "dst_ip", dst.astype(object))
    return frame


def _build(pairs: pd.DataFrame, rules: pd.DataFrame, own: pd.DataFrame, by: str,
           inventory: Any, subnet_prefix: tuple[int, int], max_ports: int, max_rules: int) -> nx.DiGraph:
    """Assemble the graph from the per-pair table, as the last part of ``talker_graph`` does."""
    G = nx.DiGraph(by=by)
    if pairs.empty:
        return G
    ips = np.asarray(sorted(set(pairs["src_ip"]) | set(pairs["dst_ip"])), dtype=object)
    index = {ip: i for i, ip in enumerate(ips)}
    if by == "mac" and not own.empty:
        macs_of = own.groupby("ip")["mac"].nunique()
        if (macs_of > 1).any():
            _g.warn_shared_addresses(macs_of.index[macs_of > 1].tolist())
    nodes = _nodes(ips, _learned(own), by, inventory, subnet_prefix)
    node_id, node_labels = pd.factorize(nodes["label"])
    n_nodes = np.int64(len(node_labels))
    src = pairs["src_ip"].map(index).to_numpy(np.int64)
    dst = pairs["dst_ip"].map(index).to_numpy(np.int64)
    pair_edge_key = node_id[src].astype(np.int64) * n_nodes + node_id[dst]
    edge_of_pair, edge_pairs = pd.factorize(pair_edge_key)
    n_edges = len(edge_pairs)
    sums = ("flows", "tuples", "flows_counted", *_COUNTERS, "denied", "denied_tuples", "encrypted",
            "encryption_known")
    edges = pd.DataFrame({"u": np.asarray(edge_pairs) // n_nodes, "v": np.asarray(edge_pairs) % n_nodes})
    totals = pairs[list(sums)].groupby(edge_of_pair).sum()  # edges 0..n-1, in order
    for k in sums:
        edges[k] = totals[k].to_numpy(np.int64)
    edges = edges[["u", "v", *sums]]
    _g.finish_counters(edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        edges["encrypted_share"] = np.where(edges["encryption_known"] > 0,
                                            edges["encrypted"] / edges["encryption_known"], np.nan)
    edges["unencrypted"] = (edges["encryption_known"] > 0) & (edges["encrypted"] < edges["encryption_known"])
    port_edge = np.repeat(edge_of_pair, pairs["ports"].map(len).to_numpy())
    port_vals = np.fromiter((p for ports in pairs["ports"] for p in ports), dtype=np.int64,
                            count=len(port_edge))
    edges["ports"] = join_labels(port_edge, port_vals, n_edges, max_ports)
    edges["rules"] = _labels(rules, index, node_id, n_nodes, edge_pairs, n_edges, max_rules)

    node_frame = nodes.assign(node=node_id)
    used = np.zeros(len(node_labels), dtype=bool)
    used[edges["u"].to_numpy()] = True
    used[edges["v"].to_numpy()] = True
    node_frame = node_frame[used[node_id]]
    if node_frame["node"].is_unique:
        attrs = node_frame.set_index("node")[["ip", "mac", "vm", "nic", "subnet", "kind"]].sort_index()
    else:
        attrs = _g._node_attrs(node_frame)
    attrs = _g.node_totals(attrs, edges)
    node_names, edge_names = _attribute_names()
    missing = [c for c in edge_names if c not in edges.columns] + [c for c in node_names if c not in attrs.columns]
    if missing:
        raise NotImplementedError(f"talker_graph has attribute(s) {missing} that talker_graph_dask does not compute")
    attrs = attrs[node_names]
    labels = np.asarray(node_labels, dtype=object)
    node_values = [[("" if v is None or (isinstance(v, float) and np.isnan(v)) else v)
                    for v in attrs[c].tolist()] if attrs[c].dtype == object or c in ("mac", "vm", "nic", "ip")
                   else _g.attribute_values(attrs[c]) for c in node_names]
    G.add_nodes_from(zip(labels[attrs.index.to_numpy()].tolist(),
                         (dict(zip(node_names, row)) for row in zip(*node_values))))
    edge_values = [_g.attribute_values(edges[c]) for c in edge_names]
    G.add_edges_from(zip(labels[edges["u"].to_numpy()].tolist(), labels[edges["v"].to_numpy()].tolist(),
                         (dict(zip(edge_names, row)) for row in zip(*edge_values))))
    return G


@lru_cache(maxsize=1)
def _attribute_names() -> tuple[list[str], list[str]]:
    """The node and edge attributes ``talker_graph`` sets, in its order (from a one-row graph)."""
    from flowkit.schema import coerce

    row = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"], "dst_ip": ["192.0.2.2"], "dst_port": [443], "protocol": [6],
                               "direction": ["outbound"], "decision": ["allow"], "state": ["E"],
                               "mac": ["000D3A000001"], "log_type": ["vnet"], "rule": ["r"]}))
    G = _g.talker_graph(row)
    return list(G.nodes["192.0.2.1"]), list(G.edges["192.0.2.1", "192.0.2.2"])


def _labels(table: pd.DataFrame, index: dict[str, int], node_id: np.ndarray, n_nodes: np.int64,
            edge_pairs: Any, n_edges: int, limit: int) -> np.ndarray:
    """Comma-separated distinct values per edge from (src_ip, dst_ip, value) rows."""
    if table.empty:
        return np.full(n_edges, "", dtype=object)
    src = table["src_ip"].map(index)
    dst = table["dst_ip"].map(index)
    ok = src.notna().to_numpy() & dst.notna().to_numpy()
    key = node_id[src[ok].to_numpy(np.int64)].astype(np.int64) * n_nodes + node_id[dst[ok].to_numpy(np.int64)]
    edge = pd.Index(edge_pairs).get_indexer(key)
    codes, names = pd.factorize(table["value"].to_numpy(dtype=object)[ok])
    return join_labels(edge, codes, n_edges, limit, names=np.asarray(names, dtype=object))
