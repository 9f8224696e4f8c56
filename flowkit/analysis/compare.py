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

from flowkit.analysis.compare_summary import (CAUSES, CLASSES, difference_rows, no_overlap_finding,
                                              reconciliation_finding, tally)
from flowkit.analysis.keys import (FLOW_KEY, category_mask, combine_codes, counted_values, epoch_ms, flow_extent,
                                   flow_counters, ip_codes, join_labels)
from flowkit.filters import filter_mask
from flowkit.findings import Finding

__all__ = ["compare_nsg_vnet", "key_table", "mac_hours", "common_window", "CAUSES", "CLASSES", "is_avnm_rule"]

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
        NSG-logged key covered or explained), ``not-ready`` or ``no-overlap``
        (the logs share no hour, or one of them has no tuple between ``start``
        and ``end``). ``evidence["keys"]`` has one row per key with its class and
        causes (integer ports; nullable columns where one log did not see the
        key); ``evidence["differences"]`` the keys not matched or that differ.

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
        return no_overlap_finding(len(nsg_all), len(vnet_all))
    if not (filter_mask(nsg_all, start=window[0], end=window[1]).any()
            and filter_mask(vnet_all, start=window[0], end=window[1]).any()):
        return no_overlap_finding(len(nsg_all), len(vnet_all), window)
    nsg_hours, vnet_hours = mac_hours(nsg_all, window), mac_hours(vnet_all, window)
    keys = key_table(nsg_all, vnet_all, window, nsg_hours=nsg_hours, vnet_hours=vnet_hours, max_skew=max_skew)
    return reconciliation_finding(tally(keys), window, {m for m, _ in nsg_hours}, {m for m, _ in vnet_hours},
                                  differences=difference_rows(keys), keys=keys, figures=figures)


def mac_hours(flows: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> set[tuple[str, int]]:
    """(MAC, hour number since the epoch) pairs ``flows`` has tuples in, inside ``window`` when given.

    Examples
    --------
    >>> import pandas as pd
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"mac": ["000D3A000101"], "flow_time": ["1970-01-01T02:30Z"]}))
    >>> mac_hours(f)
    {('000D3A000101', 2)}
    """
    if window is not None:
        flows = flows.loc[filter_mask(flows, start=window[0], end=window[1])]
    return _mac_hours(flows)


def common_window(nsg_flows: pd.DataFrame, vnet_flows: pd.DataFrame, start: Any = None,
                  end: Any = None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The window :func:`compare_nsg_vnet` compares: ``start``/``end`` when given, else from the
    first to the end of the last hour both logs have tuples in; None when there is none.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> common_window(empty_frame(), empty_frame()) is None
    True
    """
    return _window(nsg_flows, vnet_flows, start, end)


def key_table(nsg_all: pd.DataFrame, vnet_all: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], *,
              nsg_hours: set[tuple[str, int]], vnet_hours: set[tuple[str, int]],
              max_skew: str | pd.Timedelta = "2min") -> pd.DataFrame:
    """One row per flow key: its class, what each log saw of it, and its causes.

    Every tuple of a key must be in ``nsg_all``/``vnet_all`` (inside and outside
    the window); other keys may be absent, so a frame split by key (as the Dask
    engine shuffles it) gives, part by part, the rows of the whole.

    Parameters
    ----------
    nsg_all, vnet_all : pandas.DataFrame
        The NSG rows and the VNet rows.
    window : (Timestamp, Timestamp)
        The compared window (:func:`common_window`).
    nsg_hours, vnet_hours : set of (str, int)
        :func:`mac_hours` of *all* NSG and VNet rows inside the window: which
        NICs and hours each log covers.
    max_skew : str or Timedelta
        As for :func:`compare_nsg_vnet`.

    Returns
    -------
    pandas.DataFrame
        The ``evidence["keys"]`` table of :func:`compare_nsg_vnet`.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> w = (pd.Timestamp("2024-05-01T10:00Z"), pd.Timestamp("2024-05-01T11:00Z"))
    >>> len(key_table(empty_frame(), empty_frame(), w, nsg_hours=set(), vnet_hours=set()))
    0
    """
    lo, hi = window
    skew_ms = int(pd.Timedelta(max_skew) / pd.Timedelta("1ms"))
    nsg_w = nsg_all.loc[filter_mask(nsg_all, start=lo, end=hi)]
    vnet_w = vnet_all.loc[filter_mask(vnet_all, start=lo, end=hi)]
    common = {m for m, _ in nsg_hours} & {m for m, _ in vnet_hours}
    left = _side(nsg_w, "nsg", common, vnet_hours)
    right = _side(vnet_w, "vnet", common, nsg_hours)
    keys = left.merge(right, on=list(FLOW_KEY), how="outer", indicator=True)
    klass = keys["_merge"].map({"both": "matched", "left_only": "nsg-only", "right_only": "vnet-only"}).astype(object)
    keys = keys.drop(columns="_merge")
    keys.insert(len(FLOW_KEY), "class", klass.to_numpy())

    # Keys whose every tuple lies outside the window (either side).
    outside = _outside_keys(nsg_all, vnet_all, lo, hi, keys)
    if len(outside):
        keys = pd.concat([keys, outside], ignore_index=True)
    keys = _typed(keys)
    keys["causes"] = _causes(keys, nsg_all, vnet_all, skew_ms)
    keys["cause"] = pd.Series([c.split(",")[0] if c else None for c in keys["causes"]],
                              index=keys.index, dtype=object)
    return keys


#: Per-side columns of the key table and their dtypes (missing where that log did not see the key).
_SIDE_COLUMNS = {
    "first": "Int64", "last": "Int64", "tuples": "Int64", "deny": "boolean", "enc_drop": "boolean",
    "avnm": "boolean", "macs": "str", "rules": "str", "nsgs": "Int64", "decision": "str", "known": "boolean",
    **{k: "float64" for k in _COUNTERS}, "mac_other": "boolean", "hour_gap": "boolean",
}


def _typed(keys: pd.DataFrame) -> pd.DataFrame:
    """The key table with every column, whichever logs saw keys, in fixed dtypes: integer ports,
    nullable booleans and integers where one log did not see a key."""
    columns: dict[str, Any] = {
        "src_ip": keys["src_ip"].astype("str"), "src_port": keys["src_port"].astype(np.int64),
        "dst_ip": keys["dst_ip"].astype("str"), "dst_port": keys["dst_port"].astype(np.int64),
        "protocol": keys["protocol"].astype(np.int64), "class": keys["class"].astype("str")}
    for side in ("nsg", "vnet"):
        for name, dtype in _SIDE_COLUMNS.items():
            col = f"{side}_{name}"
            columns[col] = (keys[col].astype(dtype) if col in keys
                            else pd.Series([None] * len(keys), index=keys.index, dtype=dtype))
    return pd.DataFrame(columns, index=keys.index)


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
