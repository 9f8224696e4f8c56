"""NSG vs VNet flow logs: does the new log cover what the old one did?

Flows are compared as distinct keys (src_ip, src_port, dst_ip, dst_port,
protocol) over the common window (the hours both logs cover). Every key is
``matched``, ``nsg-only``, ``vnet-only`` or ``outside-window``; matched keys can
differ in decision or counters. Each difference gets its known cause where one
applies (:data:`CAUSES`).

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> base = dict(src_ip="10.10.1.4", src_port=50000, dst_ip="10.10.2.4", dst_port=8080, protocol=6,
...             direction="outbound", decision="allow", state="B", mac="000D3A000101")
>>> nsg = coerce(pd.DataFrame([{**base, "flow_time": "2024-05-01T10:00:00Z", "log_type": "nsg",
...                             "resource_id": "/x/networkSecurityGroups/nsg-snet-web"}]))
>>> vnet = coerce(pd.DataFrame([{**base, "flow_time": "2024-05-01T10:00:00Z", "log_type": "vnet",
...                              "encryption": "NX"}]))
>>> f = compare_nsg_vnet(nsg, vnet, figures=False)
>>> f.facts["matched"], f.facts["coverage"]
(1, 1.0)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from flowkit.analysis.keys import (FLOW_KEY, category_mask, combine_codes, counters, epoch_ms,
                                   hour_floor, ip_codes)
from flowkit.filters import filter_mask
from flowkit.findings import Finding

__all__ = ["compare_nsg_vnet", "CAUSES", "CLASSES", "is_avnm_rule"]

CLASSES = ("matched", "nsg-only", "vnet-only", "outside-window")

#: Known causes of differences, and what each means.
CAUSES = {
    "avnm-rule": "denied by an Azure Virtual Network Manager security admin rule, which only VNet "
                 "flow logs record",
    "encryption-drop": "dropped for not being encrypted (NX_NOT_ACCEPTED); NSG flow logs know nothing "
                       "of VNet encryption and show the NSG's allow",
    "subnet-and-nic-nsg": "logged twice by NSG flow logs, by the subnet's NSG and the NIC's NSG "
                          "(one key, still matched)",
    "nsg-v2-counts-tcp-only": "NSG flow logs v2 count TCP packets only: non-TCP counters are 0",
    "mac-not-logged": "seen at NICs the other log does not cover",
    "hour-not-logged": "in an hour the other log did not write (outside the common window, or a gap "
                       "for that NIC)",
    "clock-skew": "seen by the other log within the allowed skew, just across the window edge",
    "unexplained": "no known cause: investigate",
}

_GUID_SUFFIX = re.compile(r"_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_COUNTERS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")


def is_avnm_rule(rule: Any) -> bool:
    """True for an Azure Virtual Network Manager rule name (a name with a GUID suffix).

    Examples
    --------
    >>> is_avnm_rule("DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"), is_avnm_rule("UserRule_x")
    (True, False)
    """
    if rule is None or (isinstance(rule, float) and np.isnan(rule)):
        return False
    text = str(rule)
    if text.startswith(("DefaultRule_", "UserRule_")) or text == "unspecified":
        return False
    return bool(_GUID_SUFFIX.search(text))


def _avnm_rows(rules: pd.Series) -> np.ndarray:
    """Rows whose rule is an AVNM rule (checked once per category)."""
    if not isinstance(rules.dtype, pd.CategoricalDtype):
        rules = rules.astype("category")
    per_category = np.array([is_avnm_rule(r) for r in rules.cat.categories] + [False], dtype=bool)
    codes = rules.cat.codes.to_numpy()
    return per_category[np.where(codes >= 0, codes, len(per_category) - 1)]


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def _key_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Key columns as plain values (addresses as text) for joining two frames."""
    return pd.DataFrame({
        "src_ip": frame["src_ip"].astype(object).to_numpy(),
        "src_port": frame["src_port"].to_numpy(np.int64),
        "dst_ip": frame["dst_ip"].astype(object).to_numpy(),
        "dst_port": frame["dst_port"].to_numpy(np.int64),
        "protocol": frame["protocol"].to_numpy(np.int64),
    })


def _side(frame: pd.DataFrame, prefix: str, common_macs: set[str]) -> pd.DataFrame:
    """Per key: times, decision (at common MACs where seen there), counters, NSGs, MACs, rules."""
    cols = list(FLOW_KEY)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    src, dst, _ = ip_codes(frame)
    fid = combine_codes(src, dst, frame["src_port"].to_numpy(), frame["dst_port"].to_numpy(),
                        frame["protocol"].to_numpy())
    mac = frame["mac"].astype(object).to_numpy()
    at_common = np.isin(mac, np.asarray(sorted(common_macs), dtype=object)) if common_macs else np.zeros(len(mac), bool)
    deny = category_mask(frame["decision"], "deny") | category_mask(frame["state"], "D")
    c = counters(frame)
    oid = combine_codes(fid, _codes(frame["mac"]), _codes(frame["resource_id"]))
    obs = pd.DataFrame({"fid": fid, "oid": oid, "known": c["known"], **{k: c[k] for k in _COUNTERS}})
    per_obs = obs.groupby("oid", sort=False).agg(fid=("fid", "first"), known=("known", "any"),
                                                 **{k: (k, "sum") for k in _COUNTERS})
    per_key_counts = per_obs.groupby("fid").agg(known=("known", "any"), **{k: (k, "max") for k in _COUNTERS})
    rules = frame["rule"].astype(object).to_numpy()
    work = pd.DataFrame({
        "fid": fid, "t": epoch_ms(frame["flow_time"]), "deny": deny, "deny_common": deny & at_common,
        "common": at_common, "mac": mac, "rule": rules,
        "nsg": frame["resource_id"].astype(object).to_numpy(),
        "enc_drop": category_mask(frame["encryption"], "NX_NOT_ACCEPTED"),
        "avnm": _avnm_rows(frame["rule"]),
    })
    g = work.groupby("fid", sort=True)
    agg = g.agg(first=("t", "min"), last=("t", "max"), tuples=("t", "size"), deny=("deny", "any"),
                deny_common=("deny_common", "any"), common=("common", "any"),
                enc_drop=("enc_drop", "any"), avnm=("avnm", "any"),
                macs=("mac", lambda s: ",".join(sorted({m for m in s if isinstance(m, str)}))),
                rules=("rule", lambda s: ",".join(sorted({r for r in s if isinstance(r, str)}))))
    nsgs_per_mac = (work.dropna(subset=["nsg"]).groupby(["fid", "mac"]).nsg.nunique()
                    .groupby(level=0).max())
    agg["nsgs"] = nsgs_per_mac.reindex(agg.index, fill_value=0).astype(np.int64)
    agg["decision"] = np.where(np.where(agg["common"], agg["deny_common"], agg["deny"]), "deny", "allow")
    agg = agg.join(per_key_counts)
    first_pos = pd.Series(np.arange(len(fid))).groupby(fid).first()
    keys = _key_frame(frame.iloc[first_pos.loc[agg.index].to_numpy()])
    body = agg.reset_index(drop=True).drop(columns=["deny_common", "common"])
    body.columns = [f"{prefix}_{c}" for c in body.columns]
    return pd.concat([keys, body], axis=1)


def _hours_by_mac(frame: pd.DataFrame) -> set[tuple[str, pd.Timestamp]]:
    if frame.empty:
        return set()
    pairs = pd.DataFrame({"mac": frame["mac"].astype(object).to_numpy(),
                          "hour": hour_floor(frame["flow_time"]).to_numpy()}).drop_duplicates()
    return {(m, pd.Timestamp(h).tz_localize("UTC") if pd.Timestamp(h).tzinfo is None else pd.Timestamp(h))
            for m, h in zip(pairs["mac"], pairs["hour"])}


def _skew_hits(keys: pd.DataFrame, other_full: pd.DataFrame, first: np.ndarray, last: np.ndarray,
               skew_ms: int) -> np.ndarray:
    """Keys also seen in ``other_full`` (any time) within ``skew_ms`` of their own times."""
    if keys.empty or other_full.empty:
        return np.zeros(len(keys), dtype=bool)
    other = _key_frame(other_full).assign(t=epoch_ms(other_full["flow_time"]))
    span = other.groupby(list(FLOW_KEY), sort=False).t.agg(["min", "max"]).reset_index()
    merged = keys[list(FLOW_KEY)].assign(_i=np.arange(len(keys)), _f=first, _l=last).merge(
        span, on=list(FLOW_KEY), how="left")
    near = ((merged["min"] - merged["_l"]).abs() <= skew_ms) | ((merged["_f"] - merged["max"]).abs() <= skew_ms) \
        | ((merged["min"] >= merged["_f"] - skew_ms) & (merged["min"] <= merged["_l"] + skew_ms))
    out = np.zeros(len(keys), dtype=bool)
    out[merged.loc[near.fillna(False).to_numpy(bool), "_i"].to_numpy()] = True
    return out


def _window(nsg: pd.DataFrame, vnet: pd.DataFrame, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    def utc(x: Any) -> pd.Timestamp:
        t = pd.Timestamp(x)
        return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")

    common = set(hour_floor(nsg["flow_time"])) & set(hour_floor(vnet["flow_time"]))
    if not common and (start is None or end is None):
        return None
    lo = min(common) if start is None else utc(start)
    hi = max(common) + pd.Timedelta("1h") if end is None else utc(end)
    return (lo, hi) if lo < hi else None


def compare_nsg_vnet(
    nsg_flows: pd.DataFrame,
    vnet_flows: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    max_skew: str | pd.Timedelta = "2min",
    figures: bool = True,
) -> Finding:
    """Reconcile NSG flow logs with VNet flow logs over their common window and MACs.

    Parameters
    ----------
    nsg_flows : pandas.DataFrame
        NSG flow log rows (other rows are ignored). With ``vnet_flows`` omitted, a
        table holding both log types.
    vnet_flows : pandas.DataFrame, optional
        VNet flow log rows.
    start, end : timestamp-like, optional
        The window to compare; by default from the first to the end of the last
        hour that both logs have tuples in.
    max_skew : str or Timedelta
        A key missing on one side inside the window but seen by that side within
        this time, just outside, is explained by ``clock-skew``.
    figures : bool
        Draw the coverage-over-time chart.

    Returns
    -------
    Finding
        ``facts``: ``matched``, ``nsg_only``, ``vnet_only`` (keys in the window),
        ``outside_window``, ``decision_mismatch`` and ``counter_mismatch``
        (matched keys that differ), ``explained`` (keys per cause of :data:`CAUSES`;
        a key can have several), ``coverage`` (matched / NSG-logged keys in the
        window), ``window``, ``common_macs``. ``verdict`` is ``ready`` (every
        NSG-logged key covered or explained), ``not-ready`` or ``no-overlap``.
        ``evidence["keys"]`` has one row per key with its class and causes.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> compare_nsg_vnet(empty_frame(), empty_frame()).verdict
    'no-overlap'
    """
    if vnet_flows is None:
        vnet_flows = nsg_flows
    nsg_all = nsg_flows.loc[category_mask(nsg_flows["log_type"], "nsg")]
    vnet_all = vnet_flows.loc[category_mask(vnet_flows["log_type"], "vnet")]
    window = _window(nsg_all, vnet_all, start, end)
    if window is None:
        return Finding(
            title="NSG vs VNet flow logs", verdict="no-overlap", severity="medium",
            summary="The NSG and VNet flow logs given share no hour: nothing to compare.",
            facts={"matched": 0, "nsg_only": 0, "vnet_only": 0, "outside_window": 0,
                   "decision_mismatch": 0, "counter_mismatch": 0, "explained": {}, "coverage": None,
                   "nsg_rows": int(len(nsg_all)), "vnet_rows": int(len(vnet_all))})
    lo, hi = window
    skew_ms = int(pd.Timedelta(max_skew) / pd.Timedelta("1ms"))
    nsg_w = nsg_all.loc[filter_mask(nsg_all, start=lo, end=hi)]
    vnet_w = vnet_all.loc[filter_mask(vnet_all, start=lo, end=hi)]
    nsg_macs = set(nsg_w["mac"].astype(object).dropna().unique())
    vnet_macs = set(vnet_w["mac"].astype(object).dropna().unique())
    common = nsg_macs & vnet_macs
    left = _side(nsg_w, "nsg", common)
    right = _side(vnet_w, "vnet", common)
    keys = left.merge(right, on=list(FLOW_KEY), how="outer", indicator=True)
    klass = keys["_merge"].map({"both": "matched", "left_only": "nsg-only", "right_only": "vnet-only"}).astype(object)
    keys = keys.drop(columns="_merge")
    keys.insert(len(FLOW_KEY), "class", klass.to_numpy())

    # Keys whose every tuple lies outside the window (either side).
    outside = _outside_keys(nsg_all, vnet_all, lo, hi, keys)
    keys = pd.concat([keys, outside], ignore_index=True)
    keys["causes"] = _causes(keys, nsg_all, vnet_all, nsg_w, vnet_w, skew_ms)
    keys["cause"] = pd.Series([c.split(",")[0] if c else None for c in keys["causes"]],
                              index=keys.index, dtype=object)

    counts = keys["class"].value_counts()
    matched = int(counts.get("matched", 0))
    nsg_only = int(counts.get("nsg-only", 0))
    vnet_only = int(counts.get("vnet-only", 0))
    out_n = int(counts.get("outside-window", 0))
    decision_mm = int(keys["decision_mismatch"].sum())
    counter_mm = int(keys["counter_mismatch"].sum())
    explained: dict[str, int] = {}
    for causes in keys["causes"]:
        for c in filter(None, causes.split(",")):
            explained[c] = explained.get(c, 0) + 1
    explained = dict(sorted(explained.items()))
    coverage = matched / (matched + nsg_only) if (matched + nsg_only) else None
    nsg_gap = keys[keys["class"] == "nsg-only"]
    unexplained_gap = int((nsg_gap["causes"].str.contains("unexplained") | (nsg_gap["causes"] == "")).sum())
    by_hour = _coverage_by_hour(keys, lo, hi)

    gap_causes: dict[str, int] = {}
    for cause in nsg_gap["cause"]:
        gap_causes[cause or "unexplained"] = gap_causes.get(cause or "unexplained", 0) + 1
    cov_text = f"{coverage:.1%}" if coverage is not None else "n/a"
    summary = (f"VNet logs cover {cov_text} of NSG-logged flows ({matched} of {matched + nsg_only} keys, "
               f"{lo:%Y-%m-%d %H:%M}Z to {hi:%Y-%m-%d %H:%M}Z)")
    if nsg_only:
        summary += "; the rest is explained by " + ", ".join(
            f"{c} ({n}: {CAUSES.get(c, c)})" for c, n in sorted(gap_causes.items()))
    summary += (f". {vnet_only} key(s) only in VNet logs, {out_n} outside the common window; "
                f"{decision_mm} decision and {counter_mm} counter mismatch(es) among matched keys.")
    if unexplained_gap:
        verdict, severity = "not-ready", "high"
        summary += f" {unexplained_gap} NSG-logged key(s) have no known cause: not ready to migrate."
    else:
        verdict, severity = "ready", "info" if not decision_mm else "low"
        summary += " Every NSG-logged flow is covered or explained: ready to rely on VNet flow logs."
    cause_table = pd.DataFrame({"cause": list(explained), "keys": list(explained.values()),
                                "meaning": [CAUSES.get(c, "") for c in explained]})
    figs: dict[str, Any] = {}
    if figures and len(by_hour):
        figs["coverage"] = _coverage_figure(by_hour)
    facts = {"matched": matched, "nsg_only": nsg_only, "vnet_only": vnet_only,
             "outside_window": out_n, "decision_mismatch": decision_mm, "counter_mismatch": counter_mm,
             "explained": explained, "coverage": coverage,
             "window": {"start": lo, "end": hi}, "common_macs": sorted(common),
             "nsg_only_macs": sorted(nsg_macs - vnet_macs), "vnet_only_macs": sorted(vnet_macs - nsg_macs)}
    return Finding(title="NSG vs VNet flow logs: migration readiness", verdict=verdict, severity=severity,
                   summary=summary,
                   evidence={"keys": keys, "causes": cause_table, "coverage_by_hour": by_hour,
                             "differences": keys[(keys["class"] != "matched") | keys["decision_mismatch"]
                                                 | keys["counter_mismatch"]].reset_index(drop=True)},
                   figures=figs, facts=facts)


def _outside_keys(nsg_all: pd.DataFrame, vnet_all: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp,
                  inside: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for frame, side in ((nsg_all, "nsg"), (vnet_all, "vnet")):
        out = frame.loc[~filter_mask(frame, start=lo, end=hi)]
        if len(out):
            k = _key_frame(out).assign(t=epoch_ms(out["flow_time"]),
                                       mac=out["mac"].astype(object).to_numpy())
            parts.append(k.groupby(list(FLOW_KEY), sort=False).agg(
                **{f"{side}_first": ("t", "min"), f"{side}_last": ("t", "max"),
                   f"{side}_tuples": ("t", "size"),
                   f"{side}_macs": ("mac", lambda s: ",".join(sorted(set(s))))}).reset_index())
    if not parts:
        return pd.DataFrame(columns=list(FLOW_KEY) + ["class"])
    merged = parts[0] if len(parts) == 1 else parts[0].merge(parts[1], on=list(FLOW_KEY), how="outer")
    merged = merged.merge(inside[list(FLOW_KEY)].assign(_in=True), on=list(FLOW_KEY), how="left")
    merged = merged[merged["_in"].isna()].drop(columns="_in")
    merged.insert(len(FLOW_KEY), "class", "outside-window")
    return merged.reset_index(drop=True)


def _causes(keys: pd.DataFrame, nsg_all: pd.DataFrame, vnet_all: pd.DataFrame, nsg_w: pd.DataFrame,
            vnet_w: pd.DataFrame, skew_ms: int) -> pd.Series:
    """Comma-separated causes per key (first the main one); sets the mismatch flags."""
    n = len(keys)
    klass = keys["class"].to_numpy()
    col = lambda name, fill: keys[name].fillna(fill).to_numpy() if name in keys else np.full(n, fill)  # noqa: E731
    matched = klass == "matched"
    nsg_dec, vnet_dec = col("nsg_decision", ""), col("vnet_decision", "")
    decision_mm = matched & (nsg_dec != vnet_dec)
    known = col("nsg_known", False).astype(bool) & col("vnet_known", False).astype(bool)
    diff = np.zeros(n, dtype=bool)
    for k in _COUNTERS:
        diff |= col(f"nsg_{k}", 0).astype(float) != col(f"vnet_{k}", 0).astype(float)
    counter_mm = matched & known & diff & ~decision_mm
    keys["decision_mismatch"] = decision_mm
    keys["counter_mismatch"] = counter_mm
    enc_drop = col("vnet_enc_drop", False).astype(bool)
    avnm = col("vnet_avnm", False).astype(bool) & (vnet_dec == "deny")
    protocol = keys["protocol"].to_numpy(np.int64)
    nsgs = col("nsg_nsgs", 0).astype(np.int64)

    nsg_hours, vnet_hours = _hours_by_mac(nsg_w), _hours_by_mac(vnet_w)
    nsg_macs = {m for m, _ in nsg_hours}
    vnet_macs = {m for m, _ in vnet_hours}
    first_ms = np.where(pd.notna(col("nsg_first", np.nan)), col("nsg_first", np.nan), col("vnet_first", np.nan)).astype(float)
    nsg_only = klass == "nsg-only"
    vnet_only = klass == "vnet-only"
    skew_nsg = np.zeros(n, dtype=bool)
    skew_vnet = np.zeros(n, dtype=bool)
    if nsg_only.any():
        idx = np.flatnonzero(nsg_only)
        skew_nsg[idx] = _skew_hits(keys.iloc[idx], vnet_all, col("nsg_first", 0)[idx].astype(np.int64),
                                   col("nsg_last", 0)[idx].astype(np.int64), skew_ms)
    if vnet_only.any():
        idx = np.flatnonzero(vnet_only)
        skew_vnet[idx] = _skew_hits(keys.iloc[idx], nsg_all, col("vnet_first", 0)[idx].astype(np.int64),
                                    col("vnet_last", 0)[idx].astype(np.int64), skew_ms)

    def hours_missing(macs_text: str, t_first: float, t_last: float, other: set) -> bool:
        macs = [m for m in macs_text.split(",") if m]
        hours = pd.date_range(pd.Timestamp(int(t_first), unit="ms", tz="UTC").floor("h"),
                              pd.Timestamp(int(t_last), unit="ms", tz="UTC").floor("h"), freq="h")
        return any((m, h) not in other for m in macs for h in hours)

    out = []
    nsg_mac_col, vnet_mac_col = col("nsg_macs", ""), col("vnet_macs", "")
    for i in range(n):
        causes: list[str] = []
        k = klass[i]
        if k == "matched":
            if decision_mm[i]:
                causes.append("encryption-drop" if enc_drop[i] else "avnm-rule" if avnm[i] else "unexplained")
            elif counter_mm[i]:
                causes.append("nsg-v2-counts-tcp-only" if protocol[i] != 6 else "unexplained")
        elif k == "nsg-only":
            macs = nsg_mac_col[i]
            if skew_nsg[i]:
                causes.append("clock-skew")
            elif not any(m in vnet_macs for m in macs.split(",") if m):
                causes.append("mac-not-logged")
            elif hours_missing(macs, col("nsg_first", 0)[i], col("nsg_last", 0)[i], vnet_hours):
                causes.append("hour-not-logged")
            else:
                causes.append("unexplained")
        elif k == "vnet-only":
            macs = vnet_mac_col[i]
            if avnm[i]:
                causes.append("avnm-rule")
            elif enc_drop[i]:
                causes.append("encryption-drop")
            elif skew_vnet[i]:
                causes.append("clock-skew")
            elif not any(m in nsg_macs for m in macs.split(",") if m):
                causes.append("mac-not-logged")
            elif hours_missing(macs, col("vnet_first", 0)[i], col("vnet_last", 0)[i], nsg_hours):
                causes.append("hour-not-logged")
            else:
                causes.append("unexplained")
        else:
            causes.append("hour-not-logged")
        if k != "outside-window" and nsgs[i] >= 2:
            causes.append("subnet-and-nic-nsg")
        out.append(",".join(causes))
    del first_ms
    return pd.Series(out, index=keys.index, dtype=object)


def _coverage_by_hour(keys: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    inside = keys[keys["class"].isin(["matched", "nsg-only", "vnet-only"])]
    first = np.where(inside["nsg_first"].notna(), inside["nsg_first"], inside["vnet_first"]).astype(float) \
        if len(inside) else np.zeros(0)
    hours = pd.to_datetime(first, unit="ms", utc=True).floor("h")
    frame = pd.DataFrame({"hour": hours, "class": inside["class"].to_numpy()})
    table = frame.groupby(["hour", "class"]).size().unstack("class", fill_value=0)
    table = table.reindex(pd.date_range(lo, hi - pd.Timedelta("1h"), freq="h", name="hour"), fill_value=0)
    for c in ("matched", "nsg-only", "vnet-only"):
        if c not in table:
            table[c] = 0
    table = table[["matched", "nsg-only", "vnet-only"]].astype(np.int64)
    denom = table["matched"] + table["nsg-only"]
    table["coverage"] = (table["matched"] / denom.where(denom > 0)).astype(float)
    table.columns.name = None
    return table.reset_index()


def _coverage_figure(by_hour: pd.DataFrame) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    labels = by_hour["hour"].dt.strftime("%m-%d %H:00")
    x = np.arange(len(by_hour))
    ax.bar(x, by_hour["matched"], label="matched", color="#2e86c1")
    ax.bar(x, by_hour["nsg-only"], bottom=by_hour["matched"], label="NSG only", color="#c0392b")
    ax.bar(x, by_hour["vnet-only"], bottom=by_hour["matched"] + by_hour["nsg-only"], label="VNet only",
           color="#e67e22")
    ax.set_xticks(x, labels, rotation=45, fontsize=8)
    ax.set_ylabel("flow keys (by first hour)")
    ax2 = ax.twinx()
    ax2.plot(x, by_hour["coverage"] * 100, color="black", marker="o", label="coverage %")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("VNet coverage of NSG keys (%)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("NSG vs VNet coverage per hour")
    fig.tight_layout()
    return fig
