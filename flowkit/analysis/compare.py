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

from flowkit.analysis.keys import (FLOW_KEY, category_mask, combine_codes, counted_values, epoch_ms, flow_extent,
                                   flow_counters, ip_codes, join_labels)
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


def _category_flags(series: pd.Series, members: set[str]) -> np.ndarray:
    """Per row: is the row's categorical value in ``members`` (checked once per category)."""
    cats = series.cat.categories.astype(str)
    table = np.array([c in members for c in cats] + [False], dtype=bool)
    codes = series.cat.codes.to_numpy()
    return table[np.where(codes >= 0, codes, len(cats))]


def _mac_hours(frame: pd.DataFrame) -> set[tuple[str, int]]:
    """(MAC, hour number) pairs a log has tuples in."""
    if frame.empty:
        return set()
    codes = frame["mac"].cat.codes.to_numpy(np.int64)
    hours = epoch_ms(frame["flow_time"]) // 3_600_000
    pairs = pd.unique((codes + 1) * np.int64(1 << 32) + hours)
    cats = np.asarray(frame["mac"].cat.categories.astype(str), dtype=object)
    return {(cats[p // (1 << 32) - 1], int(p % (1 << 32))) for p in pairs.tolist() if p // (1 << 32) > 0}


def _side(frame: pd.DataFrame, prefix: str, common_macs: set[str],
          other_hours: set[tuple[str, int]]) -> pd.DataFrame:
    """Per key: times, decision (at common MACs where seen there), counters, NSGs, MACs,
    rules, and whether the other log covers the key's MACs and hours. Vectorised."""
    if frame.empty:
        return pd.DataFrame(columns=list(FLOW_KEY))
    src, dst, _ = ip_codes(frame)
    fid = combine_codes(src, dst, frame["src_port"].to_numpy(), frame["dst_port"].to_numpy(),
                        frame["protocol"].to_numpy())
    n = int(fid.max()) + 1
    t = epoch_ms(frame["flow_time"])
    mac = frame["mac"]
    mac_codes = mac.cat.codes.to_numpy(np.int64)
    mac_names = np.asarray(mac.cat.categories.astype(str), dtype=object)
    at_common = _category_flags(mac, common_macs)
    other_macs = {m for m, _ in other_hours}
    mac_other = _category_flags(mac, other_macs)
    # Is each row's (MAC, hour) logged by the other side? Checked once per distinct pair.
    hours = t // 3_600_000
    pid, pairs = pd.factorize((mac_codes + 1) * np.int64(1 << 32) + hours)
    pair_covered = np.array([(mac_names[p // (1 << 32) - 1], int(p % (1 << 32))) in other_hours
                             if p // (1 << 32) > 0 else False for p in pairs.tolist()], dtype=bool)
    hour_covered = pair_covered[pid]
    deny = category_mask(frame["decision"], "deny") | category_mask(frame["state"], "D")

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(fid, weights=mask, minlength=n) > 0

    first, last, first_row = flow_extent(fid, t, n)
    known_rows, _ = counted_values(frame)
    counts = flow_counters(frame, fid, n)
    deny_common = any_of(deny & at_common)
    common = any_of(at_common)
    # Subnet and NIC NSG: one key logged by several NSGs at one NIC.
    res = frame["resource_id"].cat.codes.to_numpy(np.int64) + 1
    width = np.int64(int(res.max()) + 1)
    combos = pd.unique((fid * np.int64(len(mac_names) + 1) + mac_codes + 1) * width + res)
    per_nic = pd.Series(combos // width).value_counts()
    nsgs = np.zeros(n, dtype=np.int64)
    np.maximum.at(nsgs, (per_nic.index.to_numpy() // (len(mac_names) + 1)), per_nic.to_numpy())
    rules = frame["rule"]
    rule_codes = rules.cat.codes.to_numpy(np.int64)
    has_rule = rule_codes >= 0
    body = pd.DataFrame({
        "first": first, "last": last, "tuples": np.bincount(fid, minlength=n),
        "deny": any_of(deny), "enc_drop": any_of(category_mask(frame["encryption"], "NX_NOT_ACCEPTED")),
        "avnm": any_of(_avnm_rows(rules)),
        "macs": join_labels(fid[mac_codes >= 0], mac_codes[mac_codes >= 0], n, 10, names=mac_names),
        "rules": join_labels(fid[has_rule], rule_codes[has_rule], n, 10,
                             names=np.asarray(rules.cat.categories.astype(str), dtype=object)),
        "nsgs": nsgs if prefix == "nsg" else np.zeros(n, dtype=np.int64),
        "decision": np.where(np.where(common, deny_common, any_of(deny)), "deny", "allow"),
        "known": any_of(known_rows),
        **{k: counts[k] for k in _COUNTERS},
        "mac_other": any_of(mac_other),
        "hour_gap": any_of(mac_other & ~hour_covered),
    })
    body.columns = [f"{prefix}_{c}" for c in body.columns]
    keys = _key_frame(frame.iloc[first_row])
    return pd.concat([keys, body], axis=1)


def _key_span(frame: pd.DataFrame) -> pd.DataFrame:
    """Per key: first and last time (ms) in ``frame``."""
    if frame.empty:
        return pd.DataFrame(columns=list(FLOW_KEY) + ["min", "max"])
    src, dst, _ = ip_codes(frame)
    fid = combine_codes(src, dst, frame["src_port"].to_numpy(), frame["dst_port"].to_numpy(),
                        frame["protocol"].to_numpy())
    lo, hi, first_row = flow_extent(fid, epoch_ms(frame["flow_time"]), int(fid.max()) + 1)
    return _key_frame(frame.iloc[first_row]).assign(min=lo, max=hi)


def _skew_hits(keys: pd.DataFrame, other_full: pd.DataFrame, first: np.ndarray, last: np.ndarray,
               skew_ms: int) -> np.ndarray:
    """Keys also seen in ``other_full`` (any time) within ``skew_ms`` of their own times."""
    if keys.empty or other_full.empty:
        return np.zeros(len(keys), dtype=bool)
    span = _key_span(other_full)
    merged = keys[list(FLOW_KEY)].assign(_i=np.arange(len(keys)), _f=first, _l=last).merge(
        span, on=list(FLOW_KEY), how="inner")
    near = ((merged["min"] <= merged["_l"] + skew_ms) & (merged["max"] >= merged["_f"] - skew_ms))
    out = np.zeros(len(keys), dtype=bool)
    out[merged.loc[near.to_numpy(bool), "_i"].to_numpy()] = True
    return out


def _window(nsg: pd.DataFrame, vnet: pd.DataFrame, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    def utc(x: Any) -> pd.Timestamp:
        t = pd.Timestamp(x)
        return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")

    def hours(frame: pd.DataFrame) -> set[int]:
        return set(pd.unique(epoch_ms(frame["flow_time"]) // 3_600_000).tolist()) if len(frame) else set()

    common = hours(nsg) & hours(vnet)
    if not common and (start is None or end is None):
        return None
    lo = pd.Timestamp(min(common) * 3_600_000, unit="ms", tz="UTC") if start is None else utc(start)
    hi = pd.Timestamp((max(common) + 1) * 3_600_000, unit="ms", tz="UTC") if end is None else utc(end)
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
    nsg_hours, vnet_hours = _mac_hours(nsg_w), _mac_hours(vnet_w)
    nsg_macs = {m for m, _ in nsg_hours}
    vnet_macs = {m for m, _ in vnet_hours}
    common = nsg_macs & vnet_macs
    left = _side(nsg_w, "nsg", common, vnet_hours)
    right = _side(vnet_w, "vnet", common, nsg_hours)
    keys = left.merge(right, on=list(FLOW_KEY), how="outer", indicator=True)
    klass = keys["_merge"].map({"both": "matched", "left_only": "nsg-only", "right_only": "vnet-only"}).astype(object)
    keys = keys.drop(columns="_merge")
    keys.insert(len(FLOW_KEY), "class", klass.to_numpy())

    # Keys whose every tuple lies outside the window (either side).
    outside = _outside_keys(nsg_all, vnet_all, lo, hi, keys)
    keys = pd.concat([keys, outside], ignore_index=True)
    keys["causes"] = _causes(keys, nsg_all, vnet_all, skew_ms)
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
    """Keys with tuples only outside the window (on both sides)."""
    parts = []
    for frame, side in ((nsg_all, "nsg"), (vnet_all, "vnet")):
        out = frame.loc[~filter_mask(frame, start=lo, end=hi)]
        if len(out):
            parts.append(_side(out, side, set(), set())[list(FLOW_KEY) + [f"{side}_first", f"{side}_last",
                                                                        f"{side}_tuples", f"{side}_macs"]])
    if not parts:
        return pd.DataFrame(columns=list(FLOW_KEY) + ["class"])
    merged = parts[0] if len(parts) == 1 else parts[0].merge(parts[1], on=list(FLOW_KEY), how="outer")
    merged = merged.merge(inside[list(FLOW_KEY)].assign(_in=True), on=list(FLOW_KEY), how="left")
    merged = merged[merged["_in"].isna()].drop(columns="_in")
    merged.insert(len(FLOW_KEY), "class", "outside-window")
    return merged.reset_index(drop=True)


def _causes(keys: pd.DataFrame, nsg_all: pd.DataFrame, vnet_all: pd.DataFrame, skew_ms: int) -> pd.Series:
    """Comma-separated causes per key (the main one first); sets the mismatch flags. Vectorised."""
    n = len(keys)
    klass = keys["class"].to_numpy(dtype=object)

    def col(name: str, fill: Any) -> np.ndarray:
        if name not in keys:
            return np.full(n, fill)
        return keys[name].astype(object).where(keys[name].notna(), fill).to_numpy()

    matched, nsg_only, vnet_only = klass == "matched", klass == "nsg-only", klass == "vnet-only"
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
    tcp = keys["protocol"].to_numpy(np.int64) == 6
    skew_nsg = np.zeros(n, dtype=bool)
    skew_vnet = np.zeros(n, dtype=bool)
    for only, own, other, target in ((nsg_only, "nsg", vnet_all, skew_nsg), (vnet_only, "vnet", nsg_all, skew_vnet)):
        if only.any():
            idx = np.flatnonzero(only)
            target[idx] = _skew_hits(keys.iloc[idx], other, col(f"{own}_first", 0)[idx].astype(np.int64),
                                     col(f"{own}_last", 0)[idx].astype(np.int64), skew_ms)
    nsg_mac_other, nsg_gap = col("nsg_mac_other", False).astype(bool), col("nsg_hour_gap", False).astype(bool)
    vnet_mac_other, vnet_gap = col("vnet_mac_other", False).astype(bool), col("vnet_hour_gap", False).astype(bool)
    main = np.select(
        [matched & decision_mm & enc_drop, matched & decision_mm & avnm, matched & decision_mm,
         matched & counter_mm & ~tcp, matched & counter_mm,
         nsg_only & skew_nsg, nsg_only & ~nsg_mac_other, nsg_only & nsg_gap, nsg_only,
         vnet_only & avnm, vnet_only & enc_drop, vnet_only & skew_vnet, vnet_only & ~vnet_mac_other,
         vnet_only & vnet_gap, vnet_only,
         klass == "outside-window"],
        ["encryption-drop", "avnm-rule", "unexplained",
         "nsg-v2-counts-tcp-only", "unexplained",
         "clock-skew", "mac-not-logged", "hour-not-logged", "unexplained",
         "avnm-rule", "encryption-drop", "clock-skew", "mac-not-logged",
         "hour-not-logged", "unexplained",
         "hour-not-logged"], default="").astype(object)
    two_nsgs = (klass != "outside-window") & (col("nsg_nsgs", 0).astype(np.int64) >= 2)
    extra = np.where(main == "", "subnet-and-nic-nsg", main + ",subnet-and-nic-nsg")
    return pd.Series(np.where(two_nsgs, extra, main), index=keys.index, dtype=object)


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
