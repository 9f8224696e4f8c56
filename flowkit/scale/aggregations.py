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
  :func:`flowkit.analysis.encryption.encryption_audit`;
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
from flowkit.analysis.encryption import _PRECEDENCE, state_ranks
from flowkit.analysis.counting import counted_values
from flowkit.analysis.keys import category_mask, epoch_ms, is_private_ip
from flowkit.findings import Finding
from flowkit.scale._parts import (KEY5, as_dask, from_parts, hash_values, hashed, is_dask, per_partition,
                                  shuffle_apply, shuffled, small_concat, value_map, values)
from flowkit.scale.graph import GRAPH_COLUMNS, _pack, talker_graph_dask
from flowkit.schema import ENCRYPTION_STATES
from flowkit.sources.times import to_window

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["talker_graph_dask", "denied_summary_dask", "encryption_counts_dask", "nsg_vnet_keys_dask",
           "GRAPH_COLUMNS", "DENIED_INPUT_COLUMNS"]

#: Columns denied_summary reads.
DENIED_INPUT_COLUMNS = ["flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction",
                        "decision", "state", "rule", "acl_id", "mac", "log_type", "resource_id"]


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

    flows = flows[DENIED_INPUT_COLUMNS]
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
        Canonical flows with at least :data:`DENIED_INPUT_COLUMNS`; a pandas
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


# --- encryption audit counts ------------------------------------------------------------------

_ENC_COLUMNS = ["flow_time", *KEY5, "direction", "decision", "state", "encryption", "bytes_sent",
                "bytes_received", "packets_sent", "packets_received", "rule", "acl_id", "mac", "log_type",
                "resource_id"]  # every field of TUPLE_IDENTITY: a copy in the partition counts once


def _enc_parts(flows: pd.DataFrame,
               number: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Everything the audit counts need from one partition."""
    states = hashed(flows.loc[flows["encryption"].notna().to_numpy(), "encryption"])[1]
    return (_enc_partials(flows, number), _vnet_own_macs(flows), _enc_value_map(flows), _hw_unsupported_rows(flows),
            states)


def _enc_ranks(maps: list[pd.DataFrame]) -> dict[int, int]:
    """Hash of each encryption state of the whole input -> its rank (:func:`state_ranks`)."""
    states = value_map(maps)
    ranks = state_ranks(states.values())
    return {h: ranks[s] for h, s in states.items()}


def _enc_partials(flows: pd.DataFrame, number: int = 0) -> pd.DataFrame:
    """Per (5-tuple, observer) of one partition's VNet rows: C/E bytes sent and received, and
    the highest-precedence state.

    An observer is (MAC, log type, resource ID), as for
    :func:`flowkit.analysis.counting.flow_counters`. Keys are 64-bit hashes of the addresses,
    MAC, log type and resource ID (see :func:`flowkit.scale._parts.hashed`). A row is
    kept per observer and state: the rank of a state not documented yet depends on the
    states of the whole input (:func:`flowkit.analysis.encryption.state_ranks`), known
    only after the shuffle; ``rank`` here is that of :data:`_PRECEDENCE`, or its length.
    """
    vnet = flows.loc[flows["encryption"].notna().to_numpy()]
    if vnet.empty:
        return _enc_meta()
    known, counted = counted_values(vnet)
    sent = np.zeros(len(vnet), dtype=np.int64)
    received = np.zeros(len(vnet), dtype=np.int64)
    sent[known] = counted["bytes_sent"].astype(np.int64)
    received[known] = counted["bytes_received"].astype(np.int64)
    enc_codes = vnet["encryption"].cat.codes.to_numpy(np.int64)
    enc_cats = np.asarray(vnet["encryption"].cat.categories.astype(object), dtype=object)
    rank_of = {s: i for i, s in enumerate(_PRECEDENCE)}
    cat_rank = np.array([rank_of.get(s, len(_PRECEDENCE)) for s in enc_cats], dtype=np.int64)
    work = pd.DataFrame({
        "src_h": hashed(vnet["src_ip"])[0], "dst_h": hashed(vnet["dst_ip"])[0], "pp": _pack(vnet),
        "mac_h": hashed(vnet["mac"])[0], "type_h": hashed(vnet["log_type"])[0],
        "resource_h": hashed(vnet["resource_id"])[0],
        "side": _side(vnet),
        "sent": sent, "received": received,
        "rank": cat_rank[enc_codes],
        "pos": np.int64(number) * np.int64(1 << 32) + np.arange(len(vnet), dtype=np.int64),
        "enc_h": hash_values(enc_cats)[enc_codes],
    })
    return _enc_reduce(work, [*_ENC_OBS, "side", "enc_h"])


def _side(vnet: pd.DataFrame) -> np.ndarray:
    """Which end of its flow each row's NIC is: 1 the source (outbound), 0 the destination, -1 neither."""
    side = np.full(len(vnet), -1, dtype=np.int64)
    side[category_mask(vnet["direction"], "inbound")] = 0
    side[category_mask(vnet["direction"], "outbound")] = 1
    return side


_ENC_FLOW = ["src_h", "dst_h", "pp"]
_ENC_OBS = [*_ENC_FLOW, "mac_h", "type_h", "resource_h"]


def _enc_reduce(work: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """Per ``keys`` (default: an observer): bytes sent and received summed, the row of lowest (rank, pos) kept."""
    keys = _ENC_OBS if keys is None else keys
    best = work.sort_values(["rank", "pos"], kind="stable").drop_duplicates(keys)
    total = work.groupby(keys, sort=False)[["sent", "received"]].sum()
    best = best.set_index(keys)
    total = total.reindex(best.index)
    best["sent"] = total["sent"].to_numpy(np.int64)
    best["received"] = total["received"].to_numpy(np.int64)
    return best.reset_index()[_enc_meta().columns.tolist()]


def _enc_meta() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series([], dtype=np.int64)
                         for k in (*_ENC_OBS, "side", "sent", "received", "rank", "pos", "enc_h")})


def _enc_pairs(part: pd.DataFrame, ranks: dict[int, int]) -> pd.DataFrame:
    """After the shuffle: per (src, dst, flow state): flows and bytes.

    ``ranks`` (hash of a state -> rank, see :func:`_enc_ranks`) orders the states
    of a flow.

    A flow's bytes are those of :func:`flowkit.analysis.encryption.flow_encryption`:
    the largest bytes sent of any observer plus the largest bytes received of any
    observer (each counter's maximum taken separately, as ``flow_counters`` does).
    """
    if part.empty:
        return _enc_pairs_meta()
    part = part.assign(rank=part["enc_h"].map(ranks).to_numpy(np.int64))
    obs = _enc_reduce(part)
    most = obs.groupby(_ENC_FLOW, sort=False)[["sent", "received"]].max()
    best = obs.sort_values(["rank", "pos"], kind="stable").drop_duplicates(_ENC_FLOW).set_index(_ENC_FLOW)
    most = most.reindex(best.index)
    best["bytes"] = (most["sent"] + most["received"]).to_numpy(np.int64)
    out = best.reset_index().groupby(["src_h", "dst_h", "enc_h"], sort=True).agg(
        flows=("bytes", "size"), bytes=("bytes", "sum")).reset_index()
    out["flows"] = out["flows"].astype(np.int64)
    out["bytes"] = out["bytes"].astype(np.int64)
    return out


def _enc_pairs_meta() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series([], dtype=np.int64) for k in ("src_h", "dst_h", "enc_h", "flows", "bytes")})


def _enc_ends(part: pd.DataFrame, ranks: dict[int, int]) -> pd.DataFrame:
    """After the shuffle: the flows each NIC logged, as distinct (own address, peer, flow state, MAC)
    hashes (:func:`flowkit.analysis.encryption._nic_ends`)."""
    if part.empty:
        return _enc_ends_meta()
    part = part.assign(rank=part["enc_h"].map(ranks).to_numpy(np.int64))
    state = (part.sort_values(["rank", "pos"], kind="stable").drop_duplicates(_ENC_FLOW)
             .set_index(_ENC_FLOW)["enc_h"])
    logged = part.loc[part["side"] >= 0, [*_ENC_FLOW, "mac_h", "side"]].drop_duplicates()
    enc_h = state.reindex(pd.MultiIndex.from_frame(logged[_ENC_FLOW])).to_numpy(np.int64)
    out = logged["side"].to_numpy() == 1
    src, dst = logged["src_h"].to_numpy(np.int64), logged["dst_h"].to_numpy(np.int64)
    return pd.DataFrame({"ip_h": np.where(out, src, dst), "peer_h": np.where(out, dst, src), "enc_h": enc_h,
                         "mac_h": logged["mac_h"].to_numpy(np.int64)}).drop_duplicates(ignore_index=True)


def _enc_ends_meta() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series([], dtype=np.int64) for k in ("ip_h", "peer_h", "enc_h", "mac_h")})


def _enc_value_map(flows: pd.DataFrame) -> pd.DataFrame:
    """(hash, value) of the addresses, encryption states and MACs of one partition's VNet rows."""
    vnet = flows.loc[flows["encryption"].notna().to_numpy()]
    return pd.concat([hashed(vnet["src_ip"])[1], hashed(vnet["dst_ip"])[1], hashed(vnet["encryption"])[1],
                      hashed(vnet["mac"])[1]], ignore_index=True).drop_duplicates()


def _vnet_own_macs(flows: pd.DataFrame) -> pd.DataFrame:
    """Distinct (address, MAC) on the NIC side of VNet rows (as the audit learns NICs)."""
    vnet = flows.loc[flows["encryption"].notna().to_numpy()]
    outbound = category_mask(vnet["direction"], "outbound")
    inbound = category_mask(vnet["direction"], "inbound")
    mac = values(vnet["mac"])
    own = pd.DataFrame({"ip": np.concatenate([values(vnet["src_ip"])[outbound], values(vnet["dst_ip"])[inbound]]),
                        "mac": np.concatenate([mac[outbound], mac[inbound]])})
    return own.dropna().drop_duplicates()


def _hw_unsupported_rows(flows: pd.DataFrame) -> pd.DataFrame:
    """Distinct (MAC, direction, source address) of the ``NX_HW_NOT_SUPPORTED`` rows.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["10.0.0.4"] * 2, "dst_ip": ["10.0.1.4"] * 2, "direction": ["outbound"] * 2,
    ...                          "encryption": ["NX_HW_NOT_SUPPORTED"] * 2, "mac": ["000D3A000001"] * 2}))
    >>> _hw_unsupported_rows(f).to_dict("records")
    [{'mac': '000D3A000001', 'direction': 'outbound', 'src_ip': '10.0.0.4'}]
    """
    hw = flows.loc[category_mask(flows["encryption"], "NX_HW_NOT_SUPPORTED")]
    return pd.DataFrame({"mac": values(hw["mac"]), "direction": values(hw["direction"]),
                         "src_ip": values(hw["src_ip"])}).dropna(subset=["mac"]).drop_duplicates()


def encryption_counts_dask(flows: Any) -> dict[str, Any]:
    """The counts of the VNet encryption audit, computed on the workers.

    Parameters
    ----------
    flows : dask.dataframe.DataFrame or pandas.DataFrame
        Canonical flows; only VNet rows (with an encryption state) count.

    Returns
    -------
    dict
        Equal to ``encryption_audit(flows).facts``: ``flows``, ``encrypted_share``,
        ``bytes_encrypted_share``, ``by_state``, ``unsupported_macs``,
        ``never_encrypting``, ``dropped``. Only one row per (source, destination,
        state) and the (address, MAC) pairs reach the client.
        A copy of a tuple (:func:`flowkit.analysis.copies.repeated_tuples`)
        counts once when it is in its original's partition, again when not.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> encryption_counts_dask(empty_frame())["flows"]
    0
    """
    if not is_dask(flows):
        from flowkit.analysis.encryption import encryption_audit

        return dict(encryption_audit(flows, figures=False).facts)
    import dask
    from dask import delayed

    flows = flows[_ENC_COLUMNS]
    parts = per_partition(flows, _enc_parts, numbered=True)
    partials = from_parts([p[0] for p in parts], _enc_meta())
    ranks = delayed(_enc_ranks, pure=True)([p[4] for p in parts])
    by_flow = shuffled(partials, ["src_h", "dst_h"])  # one shuffle for both, computed once
    pairs_dd = by_flow.map_partitions(_enc_pairs, ranks, meta=_enc_pairs_meta(), enforce_metadata=False)
    ends_dd = by_flow.map_partitions(_enc_ends, ranks, meta=_enc_ends_meta(), enforce_metadata=False)
    own_meta = pd.DataFrame({"ip": _obj(), "mac": _obj()})
    pair_parts, end_parts, small = dask.compute(pairs_dd.to_delayed(), ends_dd.to_delayed(), [p[1:] for p in parts])
    own_parts = [x[0] for x in small]
    value_of = value_map([x[1] for x in small])
    pairs = small_concat(list(pair_parts), _enc_pairs_meta())
    pairs = pd.DataFrame({"src_ip": pairs["src_h"].map(value_of).astype(object),
                          "dst_ip": pairs["dst_h"].map(value_of).astype(object),
                          "enc": pairs["enc_h"].map(value_of).astype(object),
                          "flows": pairs["flows"], "bytes": pairs["bytes"]})
    own = small_concat(list(own_parts), own_meta).drop_duplicates()
    hw_meta = pd.DataFrame({"mac": _obj(), "direction": _obj(), "src_ip": _obj()})
    hw = small_concat([x[2] for x in small], hw_meta).drop_duplicates()
    ends = small_concat(list(end_parts), _enc_ends_meta())
    logged = pd.DataFrame({"ip": ends["ip_h"].map(value_of).astype(object),
                           "enc": ends["enc_h"].map(value_of).astype(object),
                           "peer": ends["peer_h"].map(value_of).astype(object),
                           "mac": ends["mac_h"].map(value_of).astype(object)})
    return _enc_facts(pairs, own, hw, logged)


def _enc_facts(pairs: pd.DataFrame, own: pd.DataFrame, hw: pd.DataFrame, logged: pd.DataFrame) -> dict[str, Any]:
    n = int(pairs["flows"].sum())
    if n == 0:
        return {"flows": 0, "encrypted_share": None, "bytes_encrypted_share": None, "by_state": {},
                "unsupported_macs": [], "never_encrypting": [], "dropped": 0}
    per_state = pairs.groupby("enc")[["flows", "bytes"]].sum()
    x = pairs["enc"] == "X"
    share = float(np.float64(pairs.loc[x, "flows"].sum()) / np.float64(n))
    total_bytes = int(pairs["bytes"].sum())
    bytes_share = float(pairs.loc[x, "bytes"].sum() / total_bytes) if total_bytes else None
    order = list(ENCRYPTION_STATES) + sorted(set(per_state.index) - set(ENCRYPTION_STATES))
    by_state = {s: int(per_state.loc[s, "flows"]) for s in order if s in per_state.index}
    ip_macs: dict[str, set[str]] = {}
    for ip, mac in zip(own["ip"], own["mac"]):
        ip_macs.setdefault(ip, set()).add(mac)
    ends = pd.concat([
        pd.DataFrame({"ip": pairs["src_ip"], "enc": pairs["enc"], "peer": pairs["dst_ip"]}),
        pd.DataFrame({"ip": pairs["dst_ip"], "enc": pairs["enc"], "peer": pairs["src_ip"]}),
    ], ignore_index=True).drop_duplicates()
    # As encryption_audit: a NIC has the flows it logged, and those of an address no other NIC holds.
    only_nic = {ip: next(iter(macs)) for ip, macs in ip_macs.items() if len(macs) == 1}
    ends = pd.concat([logged, ends.assign(mac=ends["ip"].map(only_nic)).dropna(subset=["mac"])],
                     ignore_index=True)
    encrypting = set(ends.loc[ends["enc"] == "X", "mac"])
    # As encryption_audit: a NIC that logged NX_HW_NOT_SUPPORTED outbound, or inbound from an
    # address seen encrypting, and never encrypts anything itself.
    capable = set(pairs.loc[x, "src_ip"]) | set(pairs.loc[x, "dst_ip"])
    cause = hw.loc[(hw["direction"] == "outbound") | hw["src_ip"].isin(capable), "mac"]
    unsupported = sorted(set(cause) - encrypting)
    private_peer = ends["peer"].map(is_private_ip).astype(bool)
    never = sorted(set(ends.loc[private_peer & (ends["enc"] != "NX_LOCAL_DST"), "mac"]) - encrypting)
    dropped = int(per_state.loc["NX_NOT_ACCEPTED", "flows"]) if "NX_NOT_ACCEPTED" in per_state.index else 0
    return {"flows": n, "encrypted_share": share, "bytes_encrypted_share": bytes_share, "by_state": by_state,
            "unsupported_macs": unsupported, "never_encrypting": never, "dropped": dropped}


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
