"""The aggregations that matter at scale, computed on Dask workers.

Each function takes the Dask DataFrame of ``read_flow_logs(..., engine="dask")``
(or a pandas frame, handed to the pandas analysis) and returns what the pandas
analysis returns for the same rows; only small per-pair or per-key tables reach
the client:

* :func:`talker_graph_dask` — :func:`flowkit.analysis.graph.talker_graph`;
* :func:`denied_summary_dask` — :func:`flowkit.analysis.denied.denied_summary`
  (denied rows, hashed to integers, are shuffled on the group key between the
  workers, which compute the groups; one row per group reaches the client);
* :func:`encryption_counts_dask` — the ``facts`` of
  :func:`flowkit.analysis.encryption.encryption_audit` (in :mod:`flowkit.scale.encryption_counts`);
* :func:`nsg_vnet_keys_dask` — the key-set counts of
  :func:`flowkit.analysis.compare.compare_nsg_vnet` (matched, NSG-only,
  VNet-only, outside the window; common and one-sided MACs). Only hashed keys
  are shuffled; :func:`flowkit.scale.compare.compare_nsg_vnet_dask` gives the
  whole reconciliation with causes, at the price of shuffling the rows.

Examples
--------
>>> import flowkit
>>> ddf = flowkit.read_flow_logs("data-samples/encryption", engine="dask")  # doctest: +SKIP
>>> encryption_counts_dask(ddf)["by_state"]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowkit.analysis.denied import (LABEL_IDS, acl_labels, denied_finding, denied_groups, denied_mask,
                                     denied_summary, storm_window_ms, where_labels)
from flowkit.analysis.keys import category_mask, epoch_ms
from flowkit.findings import Finding
from flowkit.scale._parts import (KEY5, as_dask, from_parts, hashed, is_dask, per_partition, shuffle_apply,
                                  small_concat, value_map, values)
from flowkit.scale.encryption_counts import encryption_counts_dask
from flowkit.scale.graph import GRAPH_COLUMNS, _pack, talker_graph_dask
from flowkit.sources.times import to_window

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["talker_graph_dask", "denied_summary_dask", "encryption_counts_dask", "nsg_vnet_keys_dask",
           "GRAPH_COLUMNS", "DENIED_INPUT_COLUMNS"]

#: Columns denied_summary reads (``encryption`` where the frame has it: a frame read, or a
#: dataset converted, before NX_SW_NOT_READY and NX_NOT_SUPPORTED were denies says so there only).
DENIED_INPUT_COLUMNS = ["flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction",
                        "decision", "state", "encryption", "rule", "acl_id", "mac", "log_type", "resource_id"]


def _obj(n: int = 0) -> pd.Series:
    return pd.Series([None] * n, dtype=object)


# --- denied summary -------------------------------------------------------------------------

def _denied_parts(flows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One partition's denied rows as :data:`~flowkit.analysis.denied.DENIED_IDS` (64-bit hashes
    of the text values), the (hash, value) map of the group key values (addresses, rules)
    and that of the label values (ACLs, where, MACs, log types)."""
    rows = flows.loc[denied_mask(flows)]
    hashes: dict[str, tuple[np.ndarray, pd.DataFrame]] = {
        "src": hashed(rows["src_ip"]), "dst": hashed(rows["dst_ip"]), "rule": hashed(rows["rule"]),
        "acl": hashed(acl_labels(rows)), "where": hashed(where_labels(rows["direction"])),
        "mac": hashed(rows["mac"]), "log_type": hashed(rows["log_type"])}
    ids = pd.DataFrame({"src": hashes["src"][0], "dst": hashes["dst"][0], "dst_port": rows["dst_port"].to_numpy(),
                        "protocol": rows["protocol"].to_numpy(), "rule": hashes["rule"][0],
                        "src_port": rows["src_port"].to_numpy(), "t": epoch_ms(rows["flow_time"]),
                        **{k: hashes[k][0] for k in ("acl", "where", "mac", "log_type")}})

    def maps(keys: tuple[str, ...]) -> pd.DataFrame:
        return pd.concat([hashes[k][1] for k in keys], ignore_index=True).drop_duplicates()

    return ids, maps(("src", "dst", "rule")), maps(("acl", "where", "mac", "log_type"))


def _denied_groups_part(part: pd.DataFrame, window_ms: int, labels: dict[int, Any]) -> pd.DataFrame:
    """After the shuffle (every group whole in one partition): one row per group."""
    return denied_groups(part, window_ms, {k: labels for k in LABEL_IDS})


def _denied_groups_dask(flows: Any, window_ms: int) -> tuple[Any, Any]:
    """The per-group Dask frame of :func:`denied_summary_dask` (key ids as hashes) and the
    delayed hash -> value dict of the key values (merged on a worker)."""
    from dask import delayed

    flows = flows[[c for c in DENIED_INPUT_COLUMNS if c != "encryption" or c in flows.columns]]
    parts = per_partition(flows, _denied_parts)
    ids_meta = _denied_parts(flows._meta)[0]
    ids = from_parts([p[0] for p in parts], ids_meta)
    labels = delayed(value_map, pure=True)([p[2] for p in parts])
    meta = denied_groups(ids_meta, window_ms, {})
    groups = shuffle_apply(ids, ["src", "dst", "dst_port", "protocol", "rule"], _denied_groups_part, meta,
                           window_ms, labels)
    return groups, delayed(value_map, pure=True)([p[1] for p in parts])


def denied_summary_dask(flows: Any, *, storm_threshold: int = 20, storm_window: str | pd.Timedelta = "10min",
                        inventory: "Inventory | None" = None) -> Finding:
    """Denied traffic grouped and retry storms flagged, the groups computed on the workers.

    Parameters
    ----------
    flows : dask.dataframe.DataFrame or pandas.DataFrame
        Canonical flows with at least :data:`DENIED_INPUT_COLUMNS` (``encryption`` may be
        missing, as for denied_summary); a pandas
        frame is handed to :func:`flowkit.analysis.denied.denied_summary`.
    storm_threshold, storm_window, inventory
        As for :func:`flowkit.analysis.denied.denied_summary`.

    Returns
    -------
    Finding
        What ``denied_summary`` returns for all the rows. Denied rows travel
        between workers only, as integer rows (text values hashed) shuffled on
        the group key; one row per group, and the addresses and rules of the
        groups, reach the client, whatever the share of denied traffic.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> denied_summary_dask(empty_frame()).verdict
    'none'
    """
    if not is_dask(flows):
        return denied_summary(flows, storm_threshold=storm_threshold, storm_window=storm_window,
                              inventory=inventory)
    import dask

    groups_dd, key_map = _denied_groups_dask(flows, storm_window_ms(storm_window))
    group_parts, value_of = dask.compute(groups_dd.to_delayed(), key_map)
    groups = small_concat(list(group_parts), groups_dd._meta)
    return denied_finding(groups, {"src": value_of, "dst": value_of, "rule": value_of},
                          storm_threshold=storm_threshold, storm_window=storm_window, inventory=inventory)


# --- NSG vs VNet key sets ---------------------------------------------------------------------

def _hours(flows: pd.DataFrame, log_type: str) -> pd.DataFrame:
    rows = flows.loc[category_mask(flows["log_type"], log_type)]
    hours = rows["flow_time"].dt.floor("h").dropna().unique()
    return pd.DataFrame({"flow_time": pd.Series(hours, dtype=rows["flow_time"].dtype)})


def _key_partials(flows: pd.DataFrame, log_type: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    from flowkit.filters import filter_mask

    rows = flows.loc[category_mask(flows["log_type"], log_type)]
    inside = filter_mask(rows, start=lo, end=hi)
    keys = pd.DataFrame({
        "src_h": hashed(rows["src_ip"])[0], "dst_h": hashed(rows["dst_ip"])[0], "pp": _pack(rows),
        "nsg_in": inside & (log_type == "nsg"), "vnet_in": inside & (log_type == "vnet"), "out": ~inside})
    return keys.groupby(_KEY_H, sort=False)[["nsg_in", "vnet_in", "out"]].max().reset_index()


#: A flow key as hashed addresses and packed ports/protocol (a missing address hashes to MISSING).
_KEY_H = ["src_h", "dst_h", "pp"]


def _keys_meta() -> pd.DataFrame:
    return pd.DataFrame({**{k: pd.Series([], dtype=np.int64) for k in _KEY_H},
                         **{k: pd.Series([], dtype=bool) for k in ("nsg_in", "vnet_in", "out")}})


def _classify(part: pd.DataFrame) -> pd.DataFrame:
    if part.empty:
        return pd.DataFrame({k: pd.Series([0], dtype=np.int64)
                             for k in ("matched", "nsg_only", "vnet_only", "outside_window")})
    k = part.groupby(_KEY_H, sort=False)[["nsg_in", "vnet_in", "out"]].max()
    nsg_in, vnet_in, out = (k[c].to_numpy(bool) for c in ("nsg_in", "vnet_in", "out"))
    return pd.DataFrame({"matched": [int((nsg_in & vnet_in).sum())], "nsg_only": [int((nsg_in & ~vnet_in).sum())],
                         "vnet_only": [int((vnet_in & ~nsg_in).sum())],
                         "outside_window": [int((out & ~nsg_in & ~vnet_in).sum())]})


def _macs_inside(flows: pd.DataFrame, log_type: str, lo: pd.Timestamp, hi: pd.Timestamp) -> set[str]:
    from flowkit.filters import filter_mask

    rows = flows.loc[category_mask(flows["log_type"], log_type)]
    rows = rows.loc[filter_mask(rows, start=lo, end=hi)]
    return {m for m in values(rows["mac"]) if m is not None}


def _side_parts(flows: pd.DataFrame, log_type: str, lo: pd.Timestamp,
                hi: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """The keys of one log type in one partition, and its MACs inside the window."""
    return _key_partials(flows, log_type, lo, hi), {log_type: _macs_inside(flows, log_type, lo, hi)}


def _both_parts(flows: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Both log types of one partition (one read)."""
    keys = pd.concat([_key_partials(flows, lt, lo, hi) for lt in ("nsg", "vnet")], ignore_index=True)
    return keys, {lt: _macs_inside(flows, lt, lo, hi) for lt in ("nsg", "vnet")}


def nsg_vnet_keys_dask(nsg_flows: Any, vnet_flows: Any = None, *, start: Any = None,
                       end: Any = None) -> dict[str, Any]:
    """NSG vs VNet flow key sets over the common window, counted on the workers.

    Parameters
    ----------
    nsg_flows : dask.dataframe.DataFrame or pandas.DataFrame
        NSG rows (other rows ignored); with ``vnet_flows`` omitted, both log types.
        Two pandas frames (or one) go to :func:`~flowkit.analysis.compare.compare_nsg_vnet`;
        a pandas frame with a Dask one is made a Dask frame.
    vnet_flows : dask.dataframe.DataFrame or pandas.DataFrame, optional
        VNet rows (other rows ignored).
    start, end : timestamp-like, optional
        As for :func:`flowkit.analysis.compare.compare_nsg_vnet`.

    Returns
    -------
    dict
        ``matched``, ``nsg_only``, ``vnet_only``, ``outside_window`` (distinct flow
        keys), ``window``, ``common_macs``, ``nsg_only_macs``, ``vnet_only_macs``:
        equal to those ``facts`` of ``compare_nsg_vnet``. Keys are counted where
        they meet after a shuffle; only counts and MACs reach the client.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> nsg_vnet_keys_dask(empty_frame())["matched"]
    0
    """
    from flowkit.analysis.compare import _window, compare_nsg_vnet

    names = ("matched", "nsg_only", "vnet_only", "outside_window", "window", "common_macs", "nsg_only_macs",
             "vnet_only_macs")
    if not is_dask(nsg_flows) and (vnet_flows is None or not is_dask(vnet_flows)):
        facts = compare_nsg_vnet(nsg_flows, vnet_flows, start=start, end=end, figures=False).facts
        return {k: facts[k] for k in names if k in facts}
    import dask

    to_window(start, end)  # a window that keeps nothing is refused before any work
    one_frame = vnet_flows is None
    nsg_flows = as_dask(nsg_flows)
    vnet_flows = nsg_flows if one_frame else as_dask(vnet_flows)
    cols = [*KEY5, "flow_time", "mac", "log_type"]
    nsg_dd, vnet_dd = nsg_flows[cols], vnet_flows[cols]
    hour_meta = pd.DataFrame({"flow_time": pd.Series([], dtype="datetime64[ms, UTC]")})
    nsg_h, vnet_h = dask.compute(nsg_dd.map_partitions(_hours, "nsg", meta=hour_meta, enforce_metadata=False),
                                 vnet_dd.map_partitions(_hours, "vnet", meta=hour_meta, enforce_metadata=False))
    window = _window(nsg_h, vnet_h, start, end)
    empty = {"matched": 0, "nsg_only": 0, "vnet_only": 0, "outside_window": 0}
    if window is None:
        return empty
    lo, hi = window
    if one_frame:
        parts = per_partition(nsg_dd, _both_parts, lo, hi)
    else:
        parts = per_partition(nsg_dd, _side_parts, "nsg", lo, hi) + per_partition(vnet_dd, _side_parts, "vnet", lo, hi)
    keys = from_parts([p[0] for p in parts], _keys_meta())
    count_meta = pd.DataFrame({k: pd.Series([], dtype=np.int64)
                               for k in ("matched", "nsg_only", "vnet_only", "outside_window")})
    counted = shuffle_apply(keys, _KEY_H, _classify, count_meta)
    count_parts, macs = dask.compute(counted.to_delayed(), [p[1] for p in parts])
    totals = small_concat(list(count_parts), count_meta).sum()
    if not (totals["matched"] + totals["nsg_only"]) or not (totals["matched"] + totals["vnet_only"]):
        return empty  # one log has no tuple in the window: nothing compared (as compare_nsg_vnet)
    nsg_set = {m for part in macs for m in part.get("nsg", ())}
    vnet_set = {m for part in macs for m in part.get("vnet", ())}
    return {"matched": int(totals["matched"]), "nsg_only": int(totals["nsg_only"]),
            "vnet_only": int(totals["vnet_only"]), "outside_window": int(totals["outside_window"]),
            "window": {"start": lo, "end": hi}, "common_macs": sorted(nsg_set & vnet_set),
            "nsg_only_macs": sorted(nsg_set - vnet_set), "vnet_only_macs": sorted(vnet_set - nsg_set)}
