"""The counts of the VNet encryption audit, computed on Dask workers.

:func:`encryption_counts_dask` gives what ``encryption_audit(flows).facts`` gives for the
same rows: per partition, one partial per (5-tuple, observer, state) with hashed keys;
a shuffle brings every observer of a flow together, where the flow's state (the rank
order of :func:`flowkit.analysis.encryption.state_ranks`), its bytes and the flows each
NIC logged are worked out; only per-pair counts and the NICs' distinct (address, peer,
state) reach the client. Re-exported by :mod:`flowkit.scale.aggregations`.

Examples
--------
>>> import flowkit
>>> ddf = flowkit.read_flow_logs("data-samples/encryption", engine="dask")  # doctest: +SKIP
>>> encryption_counts_dask(ddf)["by_state"]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from flowkit.analysis.counting import counted_values
from flowkit.analysis.encryption import _PRECEDENCE, state_ranks
from flowkit.analysis.keys import category_mask, is_private_ip
from flowkit.scale._parts import (KEY5, from_parts, hash_values, hashed, is_dask, per_partition, shuffled,
                                  small_concat, value_map, values)
from flowkit.scale.graph import _pack
from flowkit.schema import ENCRYPTION_DROPS, ENCRYPTION_STATES

__all__ = ["encryption_counts_dask"]


def _obj(n: int = 0) -> pd.Series:
    return pd.Series([None] * n, dtype=object)


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
    enc = vnet["encryption"]
    if not isinstance(enc.dtype, pd.CategoricalDtype):  # joined or anonymised frames hold text
        enc = enc.astype("category")
    enc_codes = enc.cat.codes.to_numpy(np.int64)
    enc_cats = np.asarray(enc.cat.categories.astype(object), dtype=object)
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
        counts once when it is in its original's partition (the files of one hour
        folder of the layout always share one), again when not.

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
    dropped = int(sum(per_state.loc[s, "flows"] for s in ENCRYPTION_DROPS if s in per_state.index))
    return {"flows": n, "encrypted_share": share, "bytes_encrypted_share": bytes_share, "by_state": by_state,
            "unsupported_macs": unsupported, "never_encrypting": never, "dropped": dropped}
