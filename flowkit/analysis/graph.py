"""Talker graph: who talks to whom, built with NetworkX from aggregated flows.

Aggregation happens in numpy/pandas on category codes first (one pass over the
rows); NetworkX only receives one ``add_edge`` per distinct pair of talkers.

A flow (5-tuple) seen by several NICs or NSGs is counted once: its counters are
summed over C and E tuples per observer, and the largest observer's totals are
kept (both ends of one flow see the same packets).

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(flow_time="2024-05-01T10:00:00Z", src_ip="10.0.0.4", dst_ip="10.0.0.5", src_port=50000,
...              dst_port=1433, protocol=6, direction=d, decision="allow", state="E", encryption="X",
...              packets_sent=3, bytes_sent=300, packets_received=2, bytes_received=200,
...              mac=m, log_type="vnet") for d, m in [("outbound", "000D3A000001"), ("inbound", "000D3A000002")]]
>>> G = talker_graph(coerce(pd.DataFrame(rows)))
>>> e = G.edges["10.0.0.4", "10.0.0.5"]
>>> e["flows"], e["bytes_sent"], e["encrypted_share"], e["ports"]
(1, 300, 1.0, '1433')
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from flowkit.analysis.counting import counted_flows, flow_counters
from flowkit.analysis.graph_views import _TRAFFIC, ego, to_gexf, to_graphml, top_talkers
from flowkit.analysis.keys import (category_mask, cidr_labels, combine_codes, denied_mask, ip_codes, ipv4_ints,
                                   join_labels, network_mask, private_mask)
from flowkit.errors import ArgumentError, FlowkitDataWarning
from flowkit.schema import categorical, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["talker_graph", "top_talkers", "ego", "to_graphml", "to_gexf", "GRAPH_BY"]

GRAPH_BY = ("ip", "mac", "subnet")
_COUNTERS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")


#: The columns :func:`talker_graph` cannot do without (``flow_time`` and ``acl_id`` also tell a copy of
#: a tuple from a tuple; without them no row is taken for a copy).
GRAPH_NEEDS = ("src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision", "state",
               "encryption", "packets_sent", "bytes_sent", "packets_received", "bytes_received", "rule", "mac",
               "log_type", "resource_id")


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def _learned_macs(flows: pd.DataFrame, src: np.ndarray, dst: np.ndarray, n_ips: int) -> np.ndarray:
    """For each address category, the MAC of the NIC that holds it, learned from the rows.

    On an outbound row the NIC is the source; on an inbound row, the destination.
    The most frequent pairing wins, the smallest MAC among equally frequent ones (so the
    answer does not depend on the order of the rows); unknown is None. Also returns the address categories
    seen at more than one NIC (overlapping address spaces, or an address that moved).
    """
    macs = flows["mac"]
    mac_codes = _codes(macs)
    outbound = category_mask(flows["direction"], "outbound")
    inbound = category_mask(flows["direction"], "inbound")
    ip = np.where(outbound, src, np.where(inbound, dst, -1))
    ok = (ip >= 0) & (mac_codes >= 0)
    result = np.full(n_ips, None, dtype=object)
    if not ok.any():
        return result, np.array([], dtype=np.int64)
    n_macs = int(mac_codes.max()) + 1
    pair = ip[ok] * np.int64(n_macs) + mac_codes[ok]
    ids, uniques = pd.factorize(pair)
    counts = np.bincount(ids)
    cats = np.asarray(macs.cat.categories.astype(str) if isinstance(macs.dtype, pd.CategoricalDtype)
                      else pd.factorize(macs)[1].astype(str), dtype=object)
    mac_rank = np.empty(len(cats), dtype=np.int64)
    mac_rank[np.argsort(cats, kind="stable")] = np.arange(len(cats))
    # per address: most rows first, then the smallest MAC (whatever the order of the rows)
    order = np.lexsort((mac_rank[uniques % n_macs], -counts, uniques // n_macs))
    best_ip = uniques[order] // n_macs
    first = np.r_[True, best_ip[1:] != best_ip[:-1]]
    result[best_ip[first]] = cats[(uniques[order] % n_macs)[first]]
    shared = np.unique(best_ip[~first])  # addresses paired with more than one MAC
    return result, shared


def _node_table(flows: pd.DataFrame, by: str, src: np.ndarray, dst: np.ndarray, cats: pd.Index,
                inventory: "Inventory | None", subnet_prefix: tuple[int, int]) -> pd.DataFrame:
    """One row per address category: node label and the node's attributes."""
    ips = np.asarray(cats, dtype=object)
    mac, shared = _learned_macs(flows, src, dst, len(ips))
    if by == "mac" and len(shared):
        warn_shared_addresses(ips[shared])
    vm = np.full(len(ips), None, dtype=object)
    nic = np.full(len(ips), None, dtype=object)
    subnet = np.full(len(ips), None, dtype=object)
    if inventory is not None and len(inventory):
        index = pd.Index(ips)
        for column, target in (("vm", vm), ("nic", nic), ("subnet", subnet), ("mac", mac)):
            mapping = inventory.ip_map(column)
            if not mapping:
                continue
            pos = index.get_indexer(pd.Index(list(mapping)))
            target[pos[pos >= 0]] = np.asarray(list(mapping.values()), dtype=object)[pos >= 0]
        networks = inventory._networks()
        unknown = np.flatnonzero(pd.isna(subnet))
        if len(unknown) and networks:
            hit = network_mask(ips[unknown], [n for n, _ in networks])
            names = np.asarray([name for _, name in networks], dtype=object)
            subnet[unknown[hit >= 0]] = names[hit[hit >= 0]]
        mac_vm = inventory.mac_map("vm")
        for i in np.flatnonzero(pd.isna(vm) & pd.notna(mac)):
            vm[i] = mac_vm.get(mac[i])
    parsed = ipv4_ints(ips)
    cidr = cidr_labels(ips, *subnet_prefix, parsed=parsed)
    subnet_or_cidr = np.where(pd.notna(subnet), subnet, cidr)
    kind = np.where(private_mask(ips, parsed=parsed), "private", "public").astype(object)
    if by == "ip":
        label = ips
    elif by == "mac":
        label = np.where(pd.notna(mac), mac, ips)
    else:
        label = subnet_or_cidr
    return pd.DataFrame({"label": label, "ip": ips, "mac": mac, "vm": vm, "nic": nic,
                         "subnet": subnet_or_cidr, "kind": kind})


def check_graph_args(by: str, subnet_prefix: Any) -> None:
    """Refuse a ``by`` or ``subnet_prefix`` the graph cannot use, naming it.

    Examples
    --------
    >>> check_graph_args("subnet", (33, 64))
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: subnet_prefix must be (IPv4 length 0-32, IPv6 length 0-128), not (33, 64)
    """
    if by not in GRAPH_BY:
        raise ArgumentError(f"by must be one of {GRAPH_BY}, not {by!r}")
    ok = (isinstance(subnet_prefix, (tuple, list)) and len(subnet_prefix) == 2
          and all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in subnet_prefix)
          and 0 <= subnet_prefix[0] <= 32 and 0 <= subnet_prefix[1] <= 128)
    if not ok:
        raise ArgumentError(f"subnet_prefix must be (IPv4 length 0-32, IPv6 length 0-128), not {subnet_prefix!r}")


def warn_shared_addresses(addresses: Any) -> None:
    """Warn that ``by="mac"`` gives each of these addresses to one NIC though several hold it."""
    shown = ", ".join(sorted(str(a) for a in addresses)[:5]) + (", …" if len(addresses) > 5 else "")
    warnings.warn(f"talker_graph(by='mac'): {len(addresses)} address(es) ({shown}) were seen at more than one "
                  f"NIC (overlapping address spaces, or an address that moved); each node keeps the NIC seen "
                  f"most often, so flows of the others are drawn at that NIC. Graph each VNet on its own "
                  f"(filter by target_resource_id or mac) to keep them apart.", FlowkitDataWarning, stacklevel=4)


def _join(values: pd.Series, limit: int) -> str:
    items = [str(v) for v in values if v is not None and str(v) != ""]
    more = len(items) - limit
    text = ",".join(items[:limit])
    return f"{text},…(+{more})" if more > 0 else text


def talker_graph(
    flows: pd.DataFrame,
    by: str = "ip",
    *,
    inventory: "Inventory | None" = None,
    subnet_prefix: tuple[int, int] = (24, 64),
    max_ports: int = 20,
    max_rules: int = 10,
) -> nx.DiGraph:
    """Build a directed talker graph (source -> destination) from a flow table.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    by : {"ip", "mac", "subnet"}
        Node identity: the address; the NIC's MAC (learned from the rows and the
        inventory; addresses with no known NIC stay addresses); or the subnet
        (inventory name, else the /24 or /64 around the address).
    inventory : flowkit.inventory.Inventory, optional
        Names VMs, NICs and subnets on the nodes.
    subnet_prefix : (int, int)
        IPv4 and IPv6 prefix lengths for subnets the inventory does not know.
    max_ports, max_rules : int
        At most this many ports and rules are listed on an edge.

    Returns
    -------
    networkx.DiGraph
        Nodes carry ``kind`` (private/public), ``ip`` (addresses, comma-separated),
        ``mac``, ``vm``, ``nic``, ``subnet`` ("" where unknown), ``flows_out`` (flows
        it started), ``flows_in`` (flows it answered), ``bytes_out`` (bytes it sent:
        requests of the flows it started and replies of those it answered) and
        ``bytes_in`` (bytes it received). Edges carry ``flows`` (distinct
        5-tuples), ``tuples`` (rows), ``flows_counted`` (flows whose tuples gave
        counters), ``packets_sent``, ``bytes_sent`` (source to
        destination), ``packets_received``, ``bytes_received`` (replies),
        ``bytes`` (both ways): sums over the counted flows, NaN where no flow gave
        counters (NSG v1 logs none; NSG v2 ``B`` tuples leave them empty), never a
        false 0. ``denied`` (flows with a deny), ``encrypted_share``
        (share of the flows with a VNet encryption state that were ``X`` in every
        tuple; NaN where no state is known, as for NSG logs), ``unencrypted`` (True
        where a flow had a known state other than ``X``, in any tuple), ``ports`` and ``rules`` (sorted, comma-separated,
        at most ``max_ports``/``max_rules`` then ``…(+n)``). Graph attribute ``by``
        records the choice.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.9"] * 2, "dst_ip": ["10.0.0.4"] * 2,
    ...                          "src_port": [40000, 40001], "dst_port": [22, 3389], "protocol": [6, 6],
    ...                          "direction": ["inbound"] * 2, "decision": ["deny"] * 2,
    ...                          "rule": ["DefaultRule_DenyAllInBound"] * 2, "mac": ["000D3A000101"] * 2}))
    >>> G = talker_graph(f, by="mac")
    >>> list(G.edges(data="denied")), G.nodes["000D3A000101"]["ip"]
    ([('192.0.2.9', '000D3A000101', 2)], '10.0.0.4')
    """
    check_graph_args(by, subnet_prefix)
    require_columns(flows, GRAPH_NEEDS, "talker_graph")
    flows = categorical(flows)  # joined or anonymised frames hold text, not categories
    G = nx.DiGraph(by=by)
    n = len(flows)
    if n == 0:
        return G
    src, dst, cats = ip_codes(flows)
    nodes = _node_table(flows, by, src, dst, cats, inventory, subnet_prefix)
    node_id, node_labels = pd.factorize(nodes["label"])
    valid = (src >= 0) & (dst >= 0)
    if not valid.all():
        flows = flows.loc[valid]
        src, dst = src[valid], dst[valid]
        n = len(flows)
        if n == 0:  # no row names both ends: no edge
            return G
    src_node = node_id[src]
    dst_node = node_id[dst]
    sport = flows["src_port"].to_numpy()
    dport = flows["dst_port"].to_numpy()
    fid = combine_codes(src, dst, sport, dport, flows["protocol"].to_numpy())
    n_flows = int(fid.max()) + 1
    # An observer is one NIC in one log, and for NSG logs one NSG (subnet and NIC NSGs
    # both log the same flow at the same NIC).
    # Per observer (NIC, log, NSG): sums of C/E deltas; per flow: the largest observer's.
    flow_counts = flow_counters(flows, fid, n_flows)
    flow_counted = counted_flows(flows, fid, n_flows)
    deny = denied_mask(flows)
    enc = flows["encryption"]
    enc_known = enc.notna().to_numpy()
    enc_x = category_mask(enc, "X")
    flow_deny = np.bincount(fid, weights=deny, minlength=n_flows) > 0
    flow_known = np.bincount(fid, weights=enc_known, minlength=n_flows) > 0
    # encrypted: every tuple with a state says X (one NX_* tuple means some traffic went unencrypted)
    flow_nx = np.bincount(fid, weights=enc_known & ~enc_x, minlength=n_flows) > 0
    flow_x = flow_known & ~flow_nx
    flow_src = np.zeros(n_flows, dtype=np.int64)
    flow_dst = np.zeros(n_flows, dtype=np.int64)
    flow_port = np.zeros(n_flows, dtype=np.int64)
    flow_src[fid], flow_dst[fid], flow_port[fid] = src_node, dst_node, dport
    flow_edge_pairs = flow_src * np.int64(len(node_labels)) + flow_dst
    edge_of_flow, edge_pairs = pd.factorize(flow_edge_pairs)
    n_edges = len(edge_pairs)
    row_edge = edge_of_flow[fid]

    def per_edge(weights: np.ndarray | None, of_rows: bool = False) -> np.ndarray:
        return np.bincount(row_edge if of_rows else edge_of_flow, weights=weights, minlength=n_edges)

    edges = pd.DataFrame({
        "u": np.asarray(edge_pairs) // len(node_labels),
        "v": np.asarray(edge_pairs) % len(node_labels),
        "flows": per_edge(None).astype(np.int64),
        "tuples": per_edge(None, of_rows=True).astype(np.int64),
        "flows_counted": per_edge(flow_counted.astype(float)).astype(np.int64),
        **{name: per_edge(flow_counts[name]) for name in _COUNTERS},
        "denied": per_edge(flow_deny.astype(float)).astype(np.int64),
    })
    finish_counters(edges)
    encrypted = per_edge(flow_x.astype(float))
    known = per_edge(flow_known.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        edges["encrypted_share"] = np.where(known > 0, encrypted / known, np.nan)
    edges["unencrypted"] = (known > 0) & (encrypted < known)
    edges["ports"] = join_labels(edge_of_flow, flow_port, n_edges, max_ports)
    rules = flows["rule"]
    rule_codes = _codes(rules)
    rule_names = (np.asarray(rules.cat.categories.astype(str), dtype=object)
                  if isinstance(rules.dtype, pd.CategoricalDtype) else np.asarray(pd.factorize(rules)[1], dtype=object))
    has_rule = rule_codes >= 0
    edges["rules"] = join_labels(row_edge if has_rule.all() else row_edge[has_rule],
                                      rule_codes if has_rule.all() else rule_codes[has_rule], n_edges,
                                      max_rules, names=rule_names)
    # Node attributes: first address row per node; several addresses are listed.
    node_frame = nodes.assign(node=node_id)
    used = np.zeros(len(node_labels), dtype=bool)
    used[edges["u"].to_numpy()] = True
    used[edges["v"].to_numpy()] = True
    seen = np.zeros(len(cats), dtype=bool)
    seen[src] = True
    seen[dst] = True
    node_frame = node_frame[seen & used[node_id]]
    if node_frame["node"].is_unique:
        attrs = (node_frame.set_index("node")[["ip", "mac", "vm", "nic", "subnet", "kind"]]
                 .sort_index())
    else:
        attrs = _node_attrs(node_frame)
    attrs = node_totals(attrs, edges)
    labels = np.asarray(node_labels, dtype=object)
    attr_cols = list(attrs.columns)
    node_values = [[("" if v is None or (isinstance(v, float) and np.isnan(v)) else v)
                    for v in attrs[c].tolist()] if attrs[c].dtype == object or c in ("mac", "vm", "nic", "ip")
                   else attribute_values(attrs[c]) for c in attr_cols]
    G.add_nodes_from(zip(labels[attrs.index.to_numpy()].tolist(),
                         (dict(zip(attr_cols, row)) for row in zip(*node_values))))
    # .tolist() turns numpy scalars into Python ones (what GraphML/GEXF writers need).
    edge_cols = [c for c in edges.columns if c not in ("u", "v")]
    edge_values = [attribute_values(edges[c]) for c in edge_cols]
    _add_edges(G, labels[edges["u"].to_numpy()].tolist(), labels[edges["v"].to_numpy()].tolist(),
               map(dict, map(zip, [edge_cols] * len(edges), zip(*edge_values))))
    return G


def finish_counters(edges: pd.DataFrame) -> None:
    """Counter sums of edges whose flows gave none become NaN, and ``bytes`` is added (in place).

    An edge between NSG v1 talkers (no counters in that format) has unknown traffic, not 0.

    Examples
    --------
    >>> e = pd.DataFrame({"flows_counted": [1, 0], "packets_sent": [3.0, 0.0], "bytes_sent": [300.0, 0.0],
    ...                   "packets_received": [1.0, 0.0], "bytes_received": [60.0, 0.0]})
    >>> finish_counters(e); e["bytes"].tolist()
    [360.0, nan]
    """
    unknown = edges["flows_counted"].to_numpy() == 0
    for name in _COUNTERS:
        edges[name] = np.where(unknown, np.nan, edges[name].to_numpy(np.float64))
    edges["bytes"] = edges["bytes_sent"] + edges["bytes_received"]


def node_totals(attrs: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Add each node's flows and bytes: ``flows_out``/``flows_in`` (flows it started / answered),
    ``bytes_out`` (bytes it sent: requests of flows it started, replies of flows it answered) and
    ``bytes_in`` (bytes it received); NaN where none of its flows gave counters.

    Examples
    --------
    >>> attrs = pd.DataFrame(index=[0, 1])
    >>> edges = pd.DataFrame({"u": [0], "v": [1], "flows": [1], "bytes_sent": [1000.0], "bytes_received": [9.0]})
    >>> node_totals(attrs, edges)[["bytes_out", "bytes_in"]].values.tolist()
    [[1000.0, 9.0], [9.0, 1000.0]]
    """
    out = edges.groupby("u")
    inn = edges.groupby("v")
    sent = pd.concat([out["bytes_sent"].sum(min_count=1), inn["bytes_received"].sum(min_count=1)], axis=1)
    got = pd.concat([out["bytes_received"].sum(min_count=1), inn["bytes_sent"].sum(min_count=1)], axis=1)
    attrs = attrs.join(out["flows"].sum().rename("flows_out")).join(inn["flows"].sum().rename("flows_in"))
    attrs["flows_out"] = attrs["flows_out"].fillna(0).astype(np.int64)
    attrs["flows_in"] = attrs["flows_in"].fillna(0).astype(np.int64)
    attrs["bytes_out"] = sent.sum(axis=1, min_count=1).reindex(attrs.index)
    attrs["bytes_in"] = got.sum(axis=1, min_count=1).reindex(attrs.index)
    return attrs[[c for c in attrs.columns if c not in ("bytes_out", "flows_in", "bytes_in")]
                 + ["bytes_out", "flows_in", "bytes_in"]]


def attribute_values(column: pd.Series) -> list:
    """A column as graph attribute values: Python ints where whole, NaN kept, others as they are."""
    if column.dtype == np.float64 and column.name in _TRAFFIC:
        return [v if v != v else int(v) for v in column.tolist()]
    return column.tolist()


def _add_edges(G: nx.DiGraph, us: list, vs: list, attrs: Any) -> None:
    """Insert new edges between existing nodes (each pair once, attribute dicts fresh).

    Writes the adjacency dicts directly when the graph has them (DiGraph's storage,
    unchanged across networkx 2 and 3): about twice as fast as ``add_edges_from``,
    which checks and merges every edge. Falls back to ``add_edges_from`` otherwise.
    """
    succ, pred = getattr(G, "_succ", None), getattr(G, "_pred", None)
    if type(G) is not nx.DiGraph or not isinstance(succ, dict) or not isinstance(pred, dict):
        G.add_edges_from(zip(us, vs, attrs))
        return
    for u, v, data in zip(us, vs, attrs):
        succ[u][v] = data
        pred[v][u] = data
    cache = getattr(G, "__networkx_cache__", None)
    if isinstance(cache, dict):  # networkx >= 3.3 caches backend conversions
        cache.clear()


def _node_attrs(node_frame: pd.DataFrame) -> pd.DataFrame:
    """Attributes of nodes that stand for several addresses (by MAC or subnet); ``subnet`` is
    that of the node's smallest address (by text), whatever the order of the rows."""
    grouped = node_frame.sort_values("ip", kind="stable").groupby("node", sort=True)
    return grouped.agg(
        ip=("ip", lambda s: _join(sorted(set(s)), 20)),
        mac=("mac", lambda s: _join(sorted({m for m in s if pd.notna(m)}), 5)),
        vm=("vm", lambda s: _join(sorted({m for m in s if pd.notna(m)}), 5)),
        nic=("nic", lambda s: _join(sorted({m for m in s if pd.notna(m)}), 5)),
        subnet=("subnet", "first"),
        kind=("kind", lambda s: "private" if (s == "private").any() else "public"),
    )
