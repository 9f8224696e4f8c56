"""Denied traffic, grouped, with retry storms flagged.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(flow_time=pd.Timestamp("2024-05-01T10:05Z") + pd.Timedelta(seconds=15 * i),
...              src_ip="192.0.2.66", dst_ip="10.10.1.4", src_port=40000 + i, dst_port=22, protocol=6,
...              direction="inbound", decision="deny", state="D", rule="DefaultRule_DenyAllInBound",
...              mac="000D3A000101", log_type="vnet") for i in range(40)]
>>> f = denied_summary(coerce(pd.DataFrame(rows)))
>>> t = f.evidence["denied"]
>>> int(t.loc[0, "attempts"]), bool(t.loc[0, "retry_storm"])
(40, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowkit.analysis.keys import (category_mask, combine_codes, epoch_ms, ip_codes, join_labels,
                                   protocol_name)
from flowkit.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["denied_summary", "DENIED_COLUMNS"]

DENIED_COLUMNS = ("src_ip", "dst_ip", "dst_port", "protocol", "rule", "acl_id", "where", "tuples",
                  "attempts", "src_ports", "first_seen", "last_seen", "max_in_window", "retry_storm",
                  "observers", "log_types", "src_vm", "dst_vm")


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def _max_in_window(group: np.ndarray, times: np.ndarray, window_ms: int) -> np.ndarray:
    """Per row (sorted by group, time): events of its group in ``(t - window, t]``."""
    if len(times) == 0:
        return np.zeros(0, dtype=np.int64)
    t0 = times.min()
    span = int(times.max() - t0) + window_ms + 1
    composite = group.astype(np.int64) * np.int64(span) + (times - t0)
    lower = np.searchsorted(composite, composite - window_ms + 1, side="left")
    return np.arange(len(times)) - lower + 1


def _minutes(window: str | pd.Timedelta) -> str:
    seconds = pd.Timedelta(window).total_seconds()
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def denied_summary(
    flows: pd.DataFrame,
    *,
    storm_threshold: int = 20,
    storm_window: str | pd.Timedelta = "10min",
    inventory: "Inventory | None" = None,
) -> Finding:
    """Denied traffic grouped by (src, dst, dst port, protocol, rule), retry storms flagged.

    An *attempt* is one distinct denied tuple (source port and time): the same
    denial seen by two observers counts once. A group is a *retry storm* when at
    least ``storm_threshold`` attempts fall within any ``storm_window``.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    storm_threshold : int
        Attempts within ``storm_window`` that make a storm.
    storm_window : str or Timedelta
        Sliding window for storms.
    inventory : flowkit.inventory.Inventory, optional
        Adds ``src_vm`` and ``dst_vm``.

    Returns
    -------
    Finding
        ``evidence["denied"]`` has :data:`DENIED_COLUMNS`, most attempts first;
        ``where`` is ``source-outbound`` or ``destination-inbound`` (both,
        comma-separated, if seen at both). ``facts``: groups, denied_tuples,
        attempts, storms.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> denied_summary(empty_frame()).verdict
    'none'
    """
    window_ms = int(pd.Timedelta(storm_window) / pd.Timedelta("1ms"))
    deny = category_mask(flows["decision"], "deny") | category_mask(flows["state"], "D")
    rows = flows.loc[deny]
    if rows.empty:
        return Finding(title="Denied traffic", verdict="none", severity="info",
                       summary="No denied traffic in these logs.",
                       evidence={"denied": pd.DataFrame({c: [] for c in DENIED_COLUMNS})},
                       facts={"groups": 0, "denied_tuples": 0, "attempts": 0, "storms": []})
    src, dst, cats = ip_codes(rows)
    rule_codes = _codes(rows["rule"])
    group = combine_codes(src, dst, rows["dst_port"].to_numpy(), rows["protocol"].to_numpy(), rule_codes)
    times = epoch_ms(rows["flow_time"])
    sport = rows["src_port"].to_numpy()
    # Attempts: distinct (group, src_port, time) events.
    event = combine_codes(group, sport, times)
    _, first_idx = np.unique(event, return_index=True)
    ev_group, ev_time = group[first_idx], times[first_idx]
    order = np.lexsort((ev_time, ev_group))
    ev_group, ev_time = ev_group[order], ev_time[order]
    in_window = _max_in_window(ev_group, ev_time, window_ms)
    per_group_max = pd.Series(in_window).groupby(ev_group).max()
    attempts = pd.Series(1, index=ev_group).groupby(level=0).size()
    n = int(group.max()) + 1
    # aclID, or the NSG's resource ID for NSG rows; the most frequent per group.
    acl_text = rows["acl_id"].astype(object).where(rows["acl_id"].notna(), rows["resource_id"].astype(object))
    acl_codes, acl_names = pd.factorize(acl_text)
    acl_id = np.full(n, None, dtype=object)
    has_acl = acl_codes >= 0
    if has_acl.any():
        pairs = pd.Series(group[has_acl] * np.int64(len(acl_names)) + acl_codes[has_acl]).value_counts()
        pairs = pairs.iloc[np.lexsort((-pairs.to_numpy(), pairs.index.to_numpy() // len(acl_names)))]
        g_of = pairs.index.to_numpy() // len(acl_names)
        best = np.r_[True, g_of[1:] != g_of[:-1]]
        acl_id[g_of[best]] = np.asarray(acl_names, dtype=object)[pairs.index.to_numpy()[best] % len(acl_names)]
    direction = rows["direction"].cat.codes.to_numpy(np.int64)
    where_names = np.array(["destination-inbound" if d == "inbound" else "source-outbound" if d == "outbound"
                            else str(d) for d in rows["direction"].cat.categories], dtype=object)
    ok_dir = direction >= 0
    t_all = epoch_ms(rows["flow_time"])
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, group, t_all)
    np.maximum.at(last, group, t_all)
    mac_codes = rows["mac"].cat.codes.to_numpy(np.int64)
    lt_codes = rows["log_type"].cat.codes.to_numpy(np.int64)
    src_ports = np.bincount(pd.unique(group * np.int64(65536) + sport.astype(np.int64)) // 65536, minlength=n)
    first_row = np.full(n, len(group), dtype=np.int64)
    np.minimum.at(first_row, group, np.arange(len(group)))
    head = rows.iloc[first_row]
    out = pd.DataFrame({
        "src_ip": head["src_ip"].astype(object).to_numpy(),
        "dst_ip": head["dst_ip"].astype(object).to_numpy(),
        "dst_port": head["dst_port"].to_numpy(),
        "protocol": [protocol_name(p) for p in head["protocol"].to_numpy()],
        "rule": head["rule"].astype(object).to_numpy(),
        "acl_id": acl_id,
        "where": join_labels(group[ok_dir], direction[ok_dir], n, 5, names=where_names),
        "tuples": np.bincount(group, minlength=n).astype(np.int64),
        "attempts": attempts.reindex(range(n), fill_value=0).to_numpy(np.int64),
        "src_ports": src_ports.astype(np.int64),
        "first_seen": pd.to_datetime(first, unit="ms", utc=True),
        "last_seen": pd.to_datetime(last, unit="ms", utc=True),
        "max_in_window": per_group_max.reindex(range(n), fill_value=0).to_numpy(np.int64),
        "observers": join_labels(group[mac_codes >= 0], mac_codes[mac_codes >= 0], n, 10,
                                 names=np.asarray(rows["mac"].cat.categories.astype(str), dtype=object)),
        "log_types": join_labels(group[lt_codes >= 0], lt_codes[lt_codes >= 0], n, 5,
                                 names=np.asarray(rows["log_type"].cat.categories.astype(str), dtype=object)),
    })
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    out["retry_storm"] = out["max_in_window"] >= storm_threshold
    ip_vm = inventory.ip_map("vm") if inventory is not None else {}
    out["src_vm"] = [ip_vm.get(i) for i in out["src_ip"]]
    out["dst_vm"] = [ip_vm.get(i) for i in out["dst_ip"]]
    out = out.sort_values(["attempts", "src_ip", "dst_ip", "dst_port"], ascending=[False, True, True, True],
                          kind="stable").reset_index(drop=True)[list(DENIED_COLUMNS)]
    storms = out[out["retry_storm"]]
    storm_facts: list[dict[str, Any]] = [
        {"src_ip": r.src_ip, "dst_ip": r.dst_ip, "dst_port": int(r.dst_port), "protocol": r.protocol,
         "rule": r.rule, "attempts": int(r.attempts), "max_in_window": int(r.max_in_window)}
        for r in storms.itertuples(index=False)
    ]
    lines = "; ".join(f"{r['src_ip']} -> {r['dst_ip']}:{r['dst_port']} ({r['max_in_window']} attempts "
                      f"within {_minutes(storm_window)})" for r in storm_facts[:5])
    summary = (f"{int(attempts.sum())} denied attempt(s) ({len(rows)} tuple(s)) in {len(out)} group(s) "
               f"of source, destination, port, protocol and rule.")
    if storm_facts:
        summary += f" {len(storm_facts)} retry storm(s): {lines}."
    return Finding(
        title="Denied traffic",
        verdict="retry-storm" if storm_facts else "denied",
        severity="medium" if storm_facts else "low",
        summary=summary,
        evidence={"denied": out},
        facts={"groups": int(len(out)), "denied_tuples": int(len(rows)),
               "attempts": int(attempts.sum()), "storms": storm_facts},
    )
