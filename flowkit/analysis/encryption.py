"""VNet encryption audit: what is encrypted, what is not, and why.

Only VNet flow logs carry an encryption state; NSG rows are ignored here.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(flow_time="2024-05-01T10:00:00Z", src_ip="10.20.1.4", dst_ip="10.20.2.4", src_port=p,
...              dst_port=1433, protocol=6, direction="outbound", decision="allow", state="E",
...              encryption=e, mac="000D3A000401", log_type="vnet") for p, e in [(1, "X"), (2, "NX")]]
>>> a = encryption_audit(coerce(pd.DataFrame(rows)))
>>> a.facts["flows"], a.facts["encrypted_share"], a.facts["by_state"]
(2, 0.5, {'X': 1, 'NX': 1})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowkit.analysis.counting import flow_counters
from flowkit.analysis.keys import (category_mask, combine_codes, denied_mask, epoch_ms, flow_extent, hour_floor,
                                   ip_codes, is_private_ip, join_labels, private_mask)
from flowkit.findings import Finding
from flowkit.schema import ENCRYPTION_DROPS, ENCRYPTION_STATES, categorical, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["encryption_audit", "ENCRYPTION_MEANINGS", "flow_encryption"]

#: What each encryption state means and what to do about it (the meanings as Microsoft's
#: "Virtual network flow logs" overview gives them).
ENCRYPTION_MEANINGS: dict[str, tuple[str, str]] = {
    "X": ("Encrypted by VNet encryption.", "Nothing to do."),
    "NX": ("Not encrypted: VNet encryption is off, or the peer is outside the encrypted VNets "
           "(internet, on-premises, a service endpoint).",
           "Enable VNet encryption on the VNets if this traffic must be encrypted; internet "
           "traffic needs TLS instead."),
    "NX_HW_NOT_SUPPORTED": ("The VM runs on hardware that cannot encrypt: a VM size without VNet "
                            "encryption support, or (Microsoft says) a host whose FPGA is missing or faulty.",
                            "Resize the VM to a size that supports VNet encryption (accelerated "
                            "networking on a supported family); if its size supports it, report it to "
                            "Microsoft."),
    "NX_SW_NOT_READY": ("Dropped: the host's networking software was not ready to encrypt (the VM "
                        "starting, restarting or redeployed, or an update on its host).",
                        "Should pass once the VM is up or the host update is done; if it lasts, "
                        "report it to Microsoft."),
    "NX_NOT_ACCEPTED": ("Dropped because it was not encrypted: the VNet enforces 'drop unencrypted'.",
                        "Move the sender to a VM size that supports encryption, or switch enforcement "
                        "to 'allow unencrypted' until it is."),
    "NX_NOT_SUPPORTED": ("Dropped: the host's networking stack does not support encryption discovery, "
                         "so no encryption session was set up.",
                         "Report it to Microsoft."),
    "NX_LOCAL_DST": ("Source and destination are on the same host: the traffic never leaves it, so "
                     "it needs no encryption.", "Nothing to do."),
    "NX_FALLBACK": ("Encryption was attempted but fell back to no encryption (enforcement 'allow "
                    "unencrypted'): allowed, not encrypted.",
                    "Check both VMs' support and the encryption settings; open a support case if it "
                    "persists."),
}

#: When a flow shows several states, the first of this order names it; then states not
#: documented yet, then ``X``: a flow counts as encrypted only when every tuple of it says so
#: (a 5-tuple seen ``X`` in one hour and ``NX_*`` in another carried unencrypted traffic).
_PRECEDENCE = (*ENCRYPTION_DROPS, "NX_HW_NOT_SUPPORTED", "NX_FALLBACK", "NX_LOCAL_DST", "NX")

#: How the audit's summary says why flows in each dropping state were dropped.
_DROP_WORDS = {"NX_NOT_ACCEPTED": "for being unencrypted",
               "NX_SW_NOT_READY": "while the host's networking software was not ready to encrypt",
               "NX_NOT_SUPPORTED": "because the host cannot discover encryption"}

#: The columns the encryption audit reads.
ENCRYPTION_NEEDS = ("flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision",
                    "state", "encryption", "packets_sent", "bytes_sent", "packets_received", "bytes_received", "mac",
                    "log_type", "resource_id")


def state_ranks(states: Any) -> dict[str, int]:
    """Rank of each encryption state for naming a flow (lowest first): :data:`_PRECEDENCE`,
    then states it does not know (reasons Azure added later) by name, so that the choice
    does not depend on the order in which the rows were read, then ``X`` last: any other
    state of a flow names it, never hidden by ``X``.

    Examples
    --------
    >>> state_ranks(["NX", "NX_ZULU", "X", "NX_ALPHA"])
    {'NX': 6, 'NX_ZULU': 8, 'X': 9, 'NX_ALPHA': 7}
    """
    states = list(states)
    rank_of = {s: i for i, s in enumerate(_PRECEDENCE)}
    later = sorted({s for s in states if s not in rank_of and s != "X"})
    rank_of.update({s: len(_PRECEDENCE) + i for i, s in enumerate(later)})
    rank_of["X"] = len(_PRECEDENCE) + len(later)
    return {s: rank_of[s] for s in states}


def flow_encryption(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per flow (5-tuple) with its encryption state, bytes and observers, earliest first.

    A flow's ``encryption`` is its state (a state whose packets are dropped first,
    ``NX_NOT_ACCEPTED``, ``NX_SW_NOT_READY`` then ``NX_NOT_SUPPORTED``, when it was
    ever dropped; then the other specific ``NX_*`` reasons, then ``NX``, then states not
    documented yet, the smallest name first); it is ``X`` only when every tuple of
    the flow is ``X``.
    Bytes are C/E sums per observer, the largest observer kept (no double count).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["10.0.0.4"] * 2, "dst_ip": ["10.0.0.5"] * 2,
    ...                          "dst_port": [80, 80], "encryption": ["X", "X"], "log_type": ["vnet"] * 2,
    ...                          "mac": ["000D3A000001", "000D3A000002"], "state": ["E", "E"],
    ...                          "bytes_sent": [10, 10], "packets_sent": [1, 1]}))
    >>> row = flow_encryption(f).iloc[0]
    >>> row["encryption"], int(row["bytes"])
    ('X', 10)
    """
    return _chronological(_flows_by_id(flows))


_FLOW_ORDER = ["first_seen", "src_ip", "src_port", "dst_ip", "dst_port", "protocol"]


def _chronological(per_flow: pd.DataFrame) -> pd.DataFrame:
    """Flows earliest first, then by 5-tuple: whatever order the reader met the blobs in."""
    return per_flow.sort_values(_FLOW_ORDER, kind="stable", ignore_index=True)


def _flows_by_id(flows: pd.DataFrame) -> pd.DataFrame:
    """:func:`flow_encryption`'s table in the order of :func:`_flow_ids` (row ``i`` is flow ``i``)."""
    cols = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol", "encryption", "first_seen",
            "last_seen", "hour", "denied", "bytes", "tuples", "macs"]
    vnet = flows.loc[flows["encryption"].notna().to_numpy()]
    if vnet.empty:
        return pd.DataFrame({c: [] for c in cols})
    fid = _flow_ids(vnet)
    n = int(fid.max()) + 1
    # State of each flow: the first of _PRECEDENCE among its tuples (ranked per category).
    enc_col = vnet["encryption"]
    enc_names = np.asarray(enc_col.cat.categories.astype(str), dtype=object)
    rank_of = state_ranks(enc_names)
    cat_rank = np.array([rank_of[s] for s in enc_names], dtype=np.int64)
    enc_codes = enc_col.cat.codes.to_numpy(np.int64)
    row_key = cat_rank[enc_codes] * np.int64(len(enc_names)) + enc_codes
    best_key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best_key, fid, row_key)
    flow_bytes_parts = flow_counters(vnet, fid, n)
    flow_bytes = flow_bytes_parts["bytes_sent"] + flow_bytes_parts["bytes_received"]
    deny = denied_mask(vnet)
    first, last, first_row = flow_extent(fid, epoch_ms(vnet["flow_time"]), n)
    mac_codes = vnet["mac"].cat.codes.to_numpy(np.int64)
    head = vnet.iloc[first_row]
    def text(values: Any) -> pd.Series:  # object, not pandas' Arrow strings: cheap to read back
        return pd.Series(np.asarray(values, dtype=object), dtype=object)

    out = pd.DataFrame({
        "src_ip": text(head["src_ip"].astype(object)),
        "src_port": head["src_port"].to_numpy(),
        "dst_ip": text(head["dst_ip"].astype(object)),
        "dst_port": head["dst_port"].to_numpy(),
        "protocol": head["protocol"].to_numpy(),
        "encryption": text(enc_names[best_key % len(enc_names)]),
        "first_seen": pd.to_datetime(first, unit="ms", utc=True),
        "last_seen": pd.to_datetime(last, unit="ms", utc=True),
        "denied": np.bincount(fid, weights=deny, minlength=n) > 0,
        "bytes": flow_bytes.astype(np.int64),
        "tuples": np.bincount(fid, minlength=n).astype(np.int64),
        "macs": text(join_labels(fid[mac_codes >= 0], mac_codes[mac_codes >= 0], n, 10,
                                 names=np.asarray(vnet["mac"].cat.categories.astype(str), dtype=object))),
    })
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    out["hour"] = hour_floor(out["first_seen"])
    return out[cols]


def _distinct(values: pd.Series) -> set:
    """The distinct non-missing values (``set(series)`` walks an Arrow-backed column value by value)."""
    return set(pd.unique(values.dropna().to_numpy(dtype=object)))


def _lookup(values: pd.Series, mapping: dict, keep: bool = False) -> np.ndarray:
    """``mapping[v]`` for each value, looked up once per distinct value (None when absent, or
    the value itself with ``keep``), as an object array."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    looked = np.empty(len(uniques) + 1, dtype=object)
    looked[:-1] = [mapping.get(u, u if keep else None) for u in uniques]
    looked[-1] = None  # code -1: a missing value
    return looked[codes]


def _flow_ids(vnet: pd.DataFrame) -> np.ndarray:
    """Dense id of each row's flow (5-tuple), the row order of :func:`flow_encryption`'s table."""
    src, dst, _ = ip_codes(vnet)
    return combine_codes(src, dst, vnet["src_port"].to_numpy(), vnet["dst_port"].to_numpy(),
                         vnet["protocol"].to_numpy())


def _ip_macs(flows: pd.DataFrame) -> dict[str, set[str]]:
    """Address -> MACs of the NICs holding it, learned from the rows (own side of each tuple)."""
    outbound = category_mask(flows["direction"], "outbound")
    inbound = category_mask(flows["direction"], "inbound")
    own = pd.concat([
        pd.DataFrame({"ip": flows.loc[outbound, "src_ip"].astype(object), "mac": flows.loc[outbound, "mac"].astype(object)}),
        pd.DataFrame({"ip": flows.loc[inbound, "dst_ip"].astype(object), "mac": flows.loc[inbound, "mac"].astype(object)}),
    ]).dropna().drop_duplicates()
    out: dict[str, set[str]] = {}
    for ip, mac in zip(own["ip"], own["mac"]):
        out.setdefault(ip, set()).add(mac)
    return out


def _nic_ends(vnet_rows: pd.DataFrame, per_flow: pd.DataFrame) -> pd.DataFrame:
    """What each NIC's flows were: distinct (MAC, flow state, whether the peer is VNet-private).

    A NIC has the flows it logged a tuple of (outbound: it is the source; inbound: the
    destination), and the flows to or from an address that no other NIC holds in these
    rows. An address held by several NICs (VNets that are not peered may use the same
    addresses: 10.0.0.4 in two of them is two NICs; or a NIC replaced) credits none of
    them by address alone. Worked out on integer codes: a million flows take a fraction
    of a second.
    """
    macs = np.asarray(vnet_rows["mac"].cat.categories.astype(str), dtype=object)
    state_codes, state_names = pd.factorize(per_flow["encryption"].to_numpy(dtype=object))
    # Addresses of the flow table, coded once; whether each is private, and the one NIC holding it.
    ip_codes, ips = pd.factorize(np.concatenate([per_flow["src_ip"].to_numpy(dtype=object),
                                                 per_flow["dst_ip"].to_numpy(dtype=object)]))
    src_code, dst_code = ip_codes[:len(per_flow)], ip_codes[len(per_flow):]
    ips = np.asarray(ips, dtype=object)
    private = np.r_[private_mask(ips), False]  # code -1 (no address) last: not private
    mac_index = {m: i for i, m in enumerate(macs)}
    only_nic = np.full(len(ips) + 1, -1, dtype=np.int64)  # code -1 last: no NIC
    ip_at = {ip: i for i, ip in enumerate(ips)}
    for ip, held_by in _ip_macs(vnet_rows).items():
        if len(held_by) == 1 and ip in ip_at:
            only_nic[ip_at[ip]] = mac_index[next(iter(held_by))]
    # Logged: each row's NIC and which end of the flow it is.
    fid = _flow_ids(vnet_rows)
    outbound = category_mask(vnet_rows["direction"], "outbound")
    inbound = category_mask(vnet_rows["direction"], "inbound")
    row_mac = vnet_rows["mac"].cat.codes.to_numpy(np.int64)
    keep = (outbound | inbound) & (row_mac >= 0)
    peer = np.where(outbound, dst_code[fid], src_code[fid])[keep]
    parts = [(row_mac[keep], state_codes[fid[keep]], private[peer])]
    # By address: each end of each flow, at the one NIC holding that address.
    for own, other in ((src_code, dst_code), (dst_code, src_code)):
        nic = only_nic[own]
        held = nic >= 0
        parts.append((nic[held], state_codes[held], private[other[held]]))
    mac_code = np.concatenate([p[0] for p in parts])
    state = np.concatenate([p[1] for p in parts]).astype(np.int64)
    peer_private = np.concatenate([p[2] for p in parts])
    key = pd.unique((mac_code * np.int64(len(state_names) + 1) + state) * 2 + peer_private)
    mac_code, rest = np.divmod(key // 2, len(state_names) + 1)
    return pd.DataFrame({"mac": pd.Series(macs[mac_code], dtype=object),
                         "enc": pd.Series(np.asarray(state_names, dtype=object)[rest], dtype=object),
                         "private_peer": (key % 2).astype(bool)})


def _unsupported_macs(vnet_rows: pd.DataFrame, per_flow: pd.DataFrame, encrypting: set[str]) -> list[str]:
    """NICs whose VM cannot encrypt: the rule documented in :func:`encryption_audit`."""
    hw = category_mask(vnet_rows["encryption"], "NX_HW_NOT_SUPPORTED")
    outbound = category_mask(vnet_rows["direction"], "outbound")
    inbound = category_mask(vnet_rows["direction"], "inbound")
    encrypted = per_flow.loc[per_flow["encryption"] == "X"]
    capable = _distinct(encrypted["src_ip"]) | _distinct(encrypted["dst_ip"])
    from_capable = vnet_rows["src_ip"].astype(object).isin(capable).to_numpy()
    cause = vnet_rows.loc[hw & (outbound | (inbound & from_capable)), "mac"].dropna().astype(object)
    return sorted(set(cause) - encrypting)


def _subnet(ip: str, inventory: "Inventory | None") -> str:
    if inventory is not None:
        s = inventory.subnet_of(ip)
        if s:
            return s
    if not is_private_ip(ip):
        return "internet"
    parts = ip.split(".")
    return ".".join(parts[:3]) + ".0/24" if len(parts) == 4 else ip


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def encryption_audit(
    flows: pd.DataFrame,
    *,
    inventory: "Inventory | None" = None,
    figures: bool = True,
) -> Finding:
    """Audit VNet encryption: shares, per pair and subnet, per NX reason, drops, trend.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table; only VNet rows (with an encryption state) count.
    inventory : flowkit.inventory.Inventory, optional
        Names VMs and subnets.
    figures : bool
        Draw the hourly trend (a matplotlib Figure in ``figures["trend"]``).

    Returns
    -------
    Finding
        ``facts``: ``flows`` (distinct 5-tuples with an encryption state),
        ``encrypted_share`` (share of them encrypted, ``X``), ``bytes_encrypted_share``,
        ``by_state`` (flows per state, in the documented order), ``unsupported_macs``
        (NICs whose VM size cannot encrypt, see Notes), ``never_encrypting`` (NICs
        with VNet-private peers in no flow encrypted throughout),
        ``dropped`` (flows dropped by VNet encryption: their state is one of
        :data:`flowkit.schema.ENCRYPTION_DROPS`, ``NX_NOT_ACCEPTED``, ``NX_SW_NOT_READY`` or
        ``NX_NOT_SUPPORTED``). ``evidence``: by_state
        (with meaning and action), vm_pairs, subnet_matrix, never_encrypting, dropped,
        trend, flows.

    Notes
    -----
    ``NX_HW_NOT_SUPPORTED`` is logged at both ends of a flow when one of the two
    VMs cannot encrypt, so being in such a flow does not make a NIC the cause.
    A NIC is in ``unsupported_macs`` when it is never seen encrypting (no ``X``
    flow; a NIC that encrypts anything has the hardware) and

    - it logged ``NX_HW_NOT_SUPPORTED`` **outbound**: the sender is taken as the
      VM that cannot encrypt, and the receiver, which logs the same state
      inbound, as its peer; or
    - it logged ``NX_HW_NOT_SUPPORTED`` **inbound** from a source address that is
      seen in encrypted (``X``) flows: that peer can encrypt, so the receiver is
      the one that cannot.

    A NIC's flows are those it logged a tuple of, and those to or from an address
    no other NIC holds in ``flows``: an address held by several NICs (VNets that
    are not peered may reuse an address space) credits none of them by address.

    A NIC seen with ``NX_HW_NOT_SUPPORTED`` only inbound, from peers not known to
    encrypt (including peers that are not logged at all), is not listed: the logs
    cannot tell which end lacks support, and the sender is the likelier cause. It
    still appears in ``never_encrypting`` (``hardware_not_supported`` False) when
    its peers are VNet-private.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> encryption_audit(empty_frame()).verdict
    'no-vnet-data'

    A VM that cannot encrypt (10.20.1.6) connects to one that can (10.20.2.5):
    both NICs log ``NX_HW_NOT_SUPPORTED``, only the sender is listed.

    >>> from flowkit.schema import coerce
    >>> rows = [dict(flow_time="2024-05-01T10:00:00Z", src_ip="10.20.1.6", dst_ip="10.20.2.5",
    ...              src_port=50000, dst_port=5432, protocol=6, direction=d, decision="allow", state="E",
    ...              encryption="NX_HW_NOT_SUPPORTED", mac=m, log_type="vnet")
    ...         for d, m in [("outbound", "000D3A000404"), ("inbound", "000D3A000405")]]
    >>> encryption_audit(coerce(pd.DataFrame(rows)), figures=False).facts["unsupported_macs"]
    ['000D3A000404']
    """
    require_columns(flows, ENCRYPTION_NEEDS, "encryption_audit")
    flows = categorical(flows)  # joined or anonymised frames hold text, not categories
    per_flow = _flows_by_id(flows)  # row i is flow i of _flow_ids: _nic_ends relies on it
    if per_flow.empty:
        return Finding(title="VNet encryption audit", verdict="no-vnet-data", severity="info",
                       summary="No VNet flow log rows: only VNet flow logs record encryption.",
                       facts={"flows": 0, "encrypted_share": None, "bytes_encrypted_share": None,
                              "by_state": {}, "unsupported_macs": [], "never_encrypting": [],
                              "dropped": 0})
    ip_vm = inventory.ip_map("vm") if inventory is not None else {}
    mac_vm = inventory.mac_map("vm") if inventory is not None else {}
    per_flow["encrypted"] = per_flow["encryption"] == "X"
    n = len(per_flow)
    share = float(per_flow["encrypted"].mean())
    total_bytes = int(per_flow["bytes"].sum())
    bytes_share = float(per_flow.loc[per_flow["encrypted"], "bytes"].sum() / total_bytes) if total_bytes else None
    order = list(ENCRYPTION_STATES) + sorted(_distinct(per_flow["encryption"]) - set(ENCRYPTION_STATES))
    counts = per_flow["encryption"].value_counts()
    by_state = {s: int(counts[s]) for s in order if s in counts}
    bytes_of = per_flow.groupby("encryption", sort=False)["bytes"].sum()
    state_table = pd.DataFrame({
        "state": list(by_state),
        "flows": list(by_state.values()),
        "bytes": [int(bytes_of[s]) for s in by_state],
        "meaning": [ENCRYPTION_MEANINGS.get(s, ("Undocumented state.", "Check the documentation."))[0] for s in by_state],
        "action": [ENCRYPTION_MEANINGS.get(s, ("", "Check the documentation."))[1] for s in by_state],
    })

    # The NICs that logged each flow (see _nic_ends).
    vnet_rows = flows.loc[flows["encryption"].notna().to_numpy()]
    ends = _nic_ends(vnet_rows, per_flow)
    encrypting = set(ends.loc[ends["enc"] == "X", "mac"])
    unsupported = _unsupported_macs(vnet_rows, per_flow, encrypting)
    never = sorted(set(ends.loc[ends["private_peer"] & (ends["enc"] != "NX_LOCAL_DST"), "mac"]) - encrypting)
    states_of = (ends[ends["mac"].isin(never)].drop_duplicates(["mac", "enc"]).sort_values(["mac", "enc"])
                 .groupby("mac")["enc"].agg(",".join))
    never_table = pd.DataFrame({
        "mac": never,
        "vm": [mac_vm.get(m) for m in never],
        "states": [states_of.get(m, "") for m in never],
        "hardware_not_supported": [m in set(unsupported) for m in never],
    })

    def named(ips: pd.Series) -> pd.Series:
        return pd.Series(_lookup(ips, ip_vm, keep=True), index=ips.index, dtype=object)

    pairs = per_flow.assign(src=named(per_flow["src_ip"]), dst=named(per_flow["dst_ip"]))
    by_pair = pairs.groupby(["src", "dst"], sort=True)
    vm_pairs = by_pair.agg(flows=("encrypted", "size"), encrypted=("encrypted", "sum"),
                           bytes=("bytes", "sum")).reset_index()
    # The states of each pair, sorted and joined: vectorised (a lambda per pair took seconds at 1 M flows).
    state_codes, state_names = pd.factorize(per_flow["encryption"].astype(object).to_numpy())
    vm_pairs["states"] = join_labels(by_pair.ngroup().to_numpy(np.int64), state_codes, len(vm_pairs),
                                     limit=len(state_names) + 1, names=np.asarray(state_names, dtype=object))
    vm_pairs["encrypted_share"] = _share(vm_pairs["encrypted"], vm_pairs["flows"])
    addresses = pd.unique(np.concatenate([per_flow["src_ip"].astype(object).to_numpy(),
                                          per_flow["dst_ip"].astype(object).to_numpy()]))
    subnets = {ip: _subnet(ip, inventory) for ip in addresses}
    sub = per_flow.assign(src_subnet=_lookup(per_flow["src_ip"], subnets), dst_subnet=_lookup(per_flow["dst_ip"], subnets))
    sub_pairs = sub.groupby(["src_subnet", "dst_subnet"], sort=True).agg(
        flows=("encrypted", "size"), encrypted=("encrypted", "sum"))
    matrix = (sub_pairs["encrypted"] / sub_pairs["flows"]).unstack("dst_subnet")
    matrix.columns.name = "dst_subnet"
    matrix = matrix.reset_index()

    ordered = _chronological(per_flow)  # the evidence, whatever order the reader met the blobs in
    dropped_flows = ordered[ordered["encryption"].isin(ENCRYPTION_DROPS)]
    hourly = per_flow.assign(dropped=per_flow["encryption"].isin(ENCRYPTION_DROPS)).groupby("hour", sort=True)
    trend = hourly.agg(flows=("encrypted", "size"), encrypted=("encrypted", "sum"), dropped=("dropped", "sum"))
    trend["encrypted_share"] = _share(trend["encrypted"], trend["flows"])
    trend = trend.reset_index()
    figs: dict[str, Any] = {}
    if figures and len(trend):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 3))
        ax = fig.subplots()
        ax.plot(trend["hour"].dt.strftime("%m-%d %H:00"), trend["encrypted_share"] * 100, marker="o")
        ax.set_ylim(0, 105)
        ax.set_ylabel("encrypted flows (%)")
        ax.set_xlabel("hour (UTC)")
        ax.set_title("VNet encryption per hour")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        fig.tight_layout()
        figs["trend"] = fig

    dropped = int(len(dropped_flows))
    parts = [f"{share:.0%} of {n} flow(s) encrypted"
             + (f" ({bytes_share:.0%} of bytes)" if bytes_share is not None else "")]
    parts.append("by state: " + ", ".join(f"{k} {v}" for k, v in by_state.items()))
    for state, why in _DROP_WORDS.items():
        k = int(by_state.get(state, 0))
        if k:
            parts.append(f"{k} flow(s) dropped {why} ({state})")
    if unsupported:
        names = ", ".join(f"{m} ({mac_vm[m]})" if m in mac_vm else m for m in unsupported)
        parts.append(f"NIC(s) on VM sizes without encryption support: {names}")
    if share == 1.0:
        verdict, severity = "all-encrypted", "info"
    elif dropped:
        verdict, severity = "dropped", "high"
    elif unsupported:
        verdict, severity = "unsupported", "medium"
    elif share == 0.0:  # not one flow encrypted: "partial" would promise some
        verdict, severity = "none-encrypted", "medium"
    else:
        verdict, severity = "partial", "low"
    return Finding(
        title="VNet encryption audit",
        verdict=verdict,
        severity=severity,
        summary="; ".join(parts) + ".",
        evidence={"by_state": state_table, "vm_pairs": vm_pairs, "subnet_matrix": matrix,
                  "never_encrypting": never_table, "dropped": dropped_flows.reset_index(drop=True),
                  "trend": trend, "flows": ordered},
        figures=figs,
        facts={"flows": n, "encrypted_share": share, "bytes_encrypted_share": bytes_share,
               "by_state": by_state, "unsupported_macs": unsupported, "never_encrypting": never,
               "dropped": dropped},
    )
