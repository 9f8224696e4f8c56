"""Denied traffic, grouped, with retry storms flagged.

:func:`denied_summary` runs in two steps that the Dask engine
(:func:`flowkit.scale.aggregations.denied_summary_dask`) also uses:
:func:`denied_groups` turns denied rows, in an integer form (:data:`DENIED_IDS`),
into one row per group, and :func:`denied_finding` sorts those rows, flags storms
and writes the finding. Every per-group value is independent of row order and of
category order, so per-group tables computed on separate partitions (each group
whole in one of them) concatenate to what one call on all rows returns.

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

from typing import TYPE_CHECKING, Any, Mapping, Union

import numpy as np
import pandas as pd

from flowkit.analysis.keys import (combine_codes, denied_mask, epoch_ms, ip_codes, join_labels,
                                   protocol_name)
from flowkit.findings import Finding
from flowkit.schema import categorical, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["denied_summary", "denied_groups", "denied_finding", "denied_mask", "where_labels", "acl_labels",
           "storm_window_ms", "DENIED_COLUMNS", "DENIED_IDS", "GROUP_COLUMNS", "LABEL_IDS"]

DENIED_COLUMNS = ("src_ip", "dst_ip", "dst_port", "protocol", "rule", "acl_id", "where", "tuples",
                  "attempts", "src_ports", "first_seen", "last_seen", "max_in_window", "retry_storm",
                  "observers", "log_types", "src_vm", "dst_vm")

#: Denied rows as :func:`denied_groups` reads them: int64 ids (-1 where missing) of the
#: addresses, rule, ACL (aclID, or the NSG's resource ID), where (from the direction),
#: MAC and log type; ports and protocol as numbers, ``t`` in ms since the epoch.
DENIED_IDS = ("src", "dst", "dst_port", "protocol", "rule", "src_port", "t", "acl", "where", "mac", "log_type")
#: The ids :func:`denied_groups` turns into names (the group key ids stay ids).
LABEL_IDS = ("acl", "where", "mac", "log_type")
#: The columns of :func:`denied_groups`: the group key as ids, then per-group values.
GROUP_COLUMNS = ("src", "dst", "dst_port", "protocol", "rule", "acl_id", "where", "tuples", "attempts",
                 "src_ports", "first_seen", "last_seen", "max_in_window", "observers", "log_types")
_TEXT = ("acl_id", "where", "observers", "log_types")
#: The columns :func:`denied_summary` reads.
DENIED_NEEDS = ("flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision", "state",
                "rule", "acl_id", "mac", "log_type", "resource_id")

#: Names of ids: an object array indexed by id (category codes) or a mapping (hashes).
Names = Union[np.ndarray, Mapping[int, Any]]


def _ids(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes (-1 where missing) and the object array of the values they stand for."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    return (series.cat.codes.to_numpy(np.int64),
            np.asarray(series.cat.categories.astype(object), dtype=object))


def _relabel(codes: np.ndarray, names: np.ndarray, uniques: pd.Index) -> np.ndarray:
    """``codes`` into ``names`` as positions in ``uniques`` (-1 stays -1)."""
    out = np.full(len(codes), -1, dtype=np.int64)
    ok = codes >= 0
    if ok.any():
        out[ok] = uniques.get_indexer(names)[codes[ok]]
    return out


def _categorical(codes: np.ndarray, names: pd.Index) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object)))


def where_labels(direction: pd.Series) -> pd.Series:
    """Per row, where the denial was logged: ``destination-inbound``, ``source-outbound``
    (or the direction itself), as a categorical.

    Examples
    --------
    >>> where_labels(pd.Series(["inbound", "outbound", None])).tolist()
    ['destination-inbound', 'source-outbound', nan]
    """
    codes, cats = _ids(direction)
    names = [{"inbound": "destination-inbound", "outbound": "source-outbound"}.get(d, str(d)) for d in cats]
    uniques = pd.Index(pd.unique(np.asarray(names, dtype=object)), dtype=object)
    return _categorical(_relabel(codes, np.asarray(names, dtype=object), uniques), uniques)


def acl_labels(rows: pd.DataFrame) -> pd.Series:
    """Per row, the aclID or, where there is none (NSG rows), the NSG's resource ID, as a categorical.

    Examples
    --------
    >>> f = pd.DataFrame({"acl_id": ["acl-1", None, None], "resource_id": [None, "/nsg/a", None]})
    >>> acl_labels(f).tolist()
    ['acl-1', '/nsg/a', nan]
    """
    acl, acl_names = _ids(rows["acl_id"])
    res, res_names = _ids(rows["resource_id"])
    uniques = pd.Index(pd.unique(np.concatenate([acl_names, res_names])), dtype=object)
    codes = np.where(acl >= 0, _relabel(acl, acl_names, uniques), _relabel(res, res_names, uniques))
    return _categorical(codes, uniques)


def _lookup(names: Names, ids: np.ndarray) -> np.ndarray:
    """Object array of the names of ``ids`` (``None`` for -1)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(len(ids), None, dtype=object)
    ok = ids != -1
    if ok.any():
        if isinstance(names, np.ndarray):
            out[ok] = names[ids[ok]]
        else:
            out[ok] = pd.Series(ids[ok]).map(names).to_numpy(dtype=object)
    return out


def _id_form(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Names]]:
    """Denied rows as :data:`DENIED_IDS` (category codes) and the names of every id column."""
    src, dst, cats = ip_codes(rows)
    ips = np.asarray(cats.astype(object), dtype=object)
    rule, rule_names = _ids(rows["rule"])
    labelled = {"acl": _ids(acl_labels(rows)), "where": _ids(where_labels(rows["direction"])),
                "mac": _ids(rows["mac"]), "log_type": _ids(rows["log_type"])}
    ids = pd.DataFrame({"src": src, "dst": dst, "dst_port": rows["dst_port"].to_numpy(),
                        "protocol": rows["protocol"].to_numpy(), "rule": rule,
                        "src_port": rows["src_port"].to_numpy(), "t": epoch_ms(rows["flow_time"]),
                        **{k: codes for k, (codes, _) in labelled.items()}})
    return ids, {"src": ips, "dst": ips, "rule": rule_names, **{k: n for k, (_, n) in labelled.items()}}


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


def _service(ip: Any, port: int, protocol: str) -> str:
    """``10.0.0.4:22/tcp``, ``[2001:db8::5]:53/udp``: an IPv6 address in brackets, so that the
    port is not read as its last group, and the protocol, so that TCP and UDP storms differ."""
    host = f"[{ip}]" if ":" in str(ip) else f"{ip}"
    return f"{host}:{port}/{protocol}"


def storm_window_ms(storm_window: str | pd.Timedelta) -> int:
    """The storm window in milliseconds.

    Examples
    --------
    >>> storm_window_ms("10min")
    600000
    """
    return int(pd.Timedelta(storm_window) / pd.Timedelta("1ms"))


def _labels(ids: np.ndarray, group: np.ndarray, n: int, limit: int, names: Names) -> np.ndarray:
    """Distinct names of ``ids`` per group, sorted and comma-separated (see ``join_labels``)."""
    ok = ids != -1
    codes, uniques = pd.factorize(ids[ok])
    return join_labels(group[ok], codes.astype(np.int64), n, limit, names=_lookup(names, uniques))


def _most_frequent(ids: np.ndarray, group: np.ndarray, n: int, names: Names) -> np.ndarray:
    """Per group, the name of its most frequent id (ties: the alphabetically smallest name)."""
    out = np.full(n, None, dtype=object)
    ok = ids != -1
    if not ok.any():
        return out
    codes, uniques = pd.factorize(ids[ok])
    text = _lookup(names, uniques)
    rank = np.empty(len(text), dtype=np.int64)
    rank[np.argsort(text.astype(str), kind="stable")] = np.arange(len(text))
    k = np.int64(len(text))
    pairs, counts = np.unique(group[ok] * k + codes, return_counts=True)
    g, a = pairs // k, pairs % k
    order = np.lexsort((rank[a], -counts, g))
    g, a = g[order], a[order]
    best = np.r_[True, g[1:] != g[:-1]]
    out[g[best]] = text[a[best]]
    return out


def _empty_groups(ids: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        **{k: pd.Series([], dtype=np.int64) for k in ("src", "dst")},
        "dst_port": pd.Series([], dtype=ids["dst_port"].dtype),
        "protocol": pd.Series([], dtype=ids["protocol"].dtype), "rule": pd.Series([], dtype=np.int64),
        **{k: pd.Series([], dtype=object if k in _TEXT else np.int64) for k in GROUP_COLUMNS[5:]},
    })


def denied_groups(ids: pd.DataFrame, window_ms: int, names: Mapping[str, Names]) -> pd.DataFrame:
    """One row per denied group (source, destination, port, protocol, rule) of denied rows.

    The values of each group depend only on that group's rows, not on their
    order nor on which ids stand for which names: tables computed on any split
    of the rows that keeps every group whole concatenate to the table of all rows.

    Parameters
    ----------
    ids : pandas.DataFrame
        Denied rows with :data:`DENIED_IDS`.
    window_ms : int
        Storm window in milliseconds (see :func:`storm_window_ms`).
    names : mapping
        For each of :data:`LABEL_IDS`, the names of its ids: an object array
        indexed by id, or a mapping from id to name.

    Returns
    -------
    pandas.DataFrame
        :data:`GROUP_COLUMNS`, one row per group in no particular order: the key
        ids (``src``, ``dst``, ``rule``; ports and protocol as given), the most
        frequent ACL name (ties: the alphabetically smallest), ``where``,
        ``observers`` and ``log_types`` as sorted comma-separated names (object
        columns), counts as int64, ``first_seen``/``last_seen`` in ms since the epoch.

    Examples
    --------
    >>> ids = pd.DataFrame({"src": [0, 0, 0], "dst": [1, 1, 1], "dst_port": [22, 22, 22], "protocol": [6, 6, 6],
    ...                     "rule": [0, 0, 0], "src_port": [40000, 40001, 40001], "t": [0, 1000, 1000],
    ...                     "acl": [1, 0, 0], "where": [0, 0, 0], "mac": [0, 1, 0], "log_type": [0, 0, 0]})
    >>> names = {"acl": np.array(["acl-b", "acl-a"], dtype=object),
    ...          "where": np.array(["destination-inbound"], dtype=object),
    ...          "mac": {0: "000D3A000102", 1: "000D3A000101"}, "log_type": np.array(["vnet"], dtype=object)}
    >>> g = denied_groups(ids, 600_000, names)
    >>> g[["tuples", "attempts", "acl_id", "observers"]].values.tolist()
    [[3, 2, 'acl-b', '000D3A000101,000D3A000102']]
    """
    if len(ids) == 0:
        return _empty_groups(ids)
    col = {c: ids[c].to_numpy() for c in DENIED_IDS}
    key = [col[c] for c in GROUP_COLUMNS[:5]]
    group = combine_codes(*key)
    n = int(group.max()) + 1
    times = col["t"].astype(np.int64)
    sport = col["src_port"].astype(np.int64)
    # Attempts: distinct (group, src_port, second) events. NSG logs time tuples in whole
    # seconds and VNet logs in milliseconds: one denial both logged is one attempt.
    seconds = np.floor_divide(times, 1000)
    _, first_idx = np.unique(combine_codes(group, sport, seconds), return_index=True)
    ev_group, ev_time = group[first_idx], seconds[first_idx] * 1000
    order = np.lexsort((ev_time, ev_group))
    ev_group, ev_time = ev_group[order], ev_time[order]
    max_in_window = np.zeros(n, dtype=np.int64)
    np.maximum.at(max_in_window, ev_group, _max_in_window(ev_group, ev_time, window_ms))
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, group, times)
    np.maximum.at(last, group, times)
    src_ports = np.bincount(pd.unique(group * np.int64(65536) + sport) // 65536, minlength=n)
    _, head = np.unique(group, return_index=True)  # groups are 0..n-1
    label = {c: col[c].astype(np.int64) for c in LABEL_IDS}
    text = {"acl_id": _most_frequent(label["acl"], group, n, names["acl"]),
            "where": _labels(label["where"], group, n, 5, names["where"]),
            "observers": _labels(label["mac"], group, n, 10, names["mac"]),
            "log_types": _labels(label["log_type"], group, n, 5, names["log_type"])}
    counts = {"tuples": np.bincount(group, minlength=n), "attempts": np.bincount(ev_group, minlength=n),
              "src_ports": src_ports, "first_seen": first, "last_seen": last, "max_in_window": max_in_window}
    return pd.DataFrame({
        **{c: pd.Series(k[head], dtype=np.int64 if c in ("src", "dst", "rule") else k.dtype)
           for c, k in zip(GROUP_COLUMNS[:5], key)},
        **{c: pd.Series(text[c], dtype=object) if c in _TEXT else pd.Series(counts[c], dtype=np.int64)
           for c in GROUP_COLUMNS[5:]},
    })


def _empty_denied_table() -> pd.DataFrame:
    """The evidence table without rows, with the dtypes it has when it has rows."""
    text = ("src_ip", "dst_ip", "protocol", "rule", "acl_id", "where", "observers", "log_types")
    when = pd.to_datetime(np.array([], dtype=np.int64), unit="ms", utc=True)
    dtypes: dict[str, Any] = {**{c: "str" for c in text}, "dst_port": np.uint16, "retry_storm": bool,
                              **{c: np.int64 for c in ("tuples", "attempts", "src_ports", "max_in_window")},
                              "first_seen": when.dtype, "last_seen": when.dtype, "src_vm": object, "dst_vm": object}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes[c]) for c in DENIED_COLUMNS})


def _no_denied() -> Finding:
    return Finding(title="Denied traffic", verdict="none", severity="info",
                   summary="No denied traffic in these logs.",
                   evidence={"denied": _empty_denied_table()},
                   facts={"groups": 0, "denied_tuples": 0, "attempts": 0, "storms": []})


def denied_finding(
    groups: pd.DataFrame,
    names: Mapping[str, Names],
    *,
    storm_threshold: int = 20,
    storm_window: str | pd.Timedelta = "10min",
    inventory: "Inventory | None" = None,
) -> Finding:
    """The finding of :func:`denied_summary` from per-group rows of :func:`denied_groups`.

    Parameters
    ----------
    groups : pandas.DataFrame
        :data:`GROUP_COLUMNS`, one row per group (in any order).
    names : mapping
        For ``src``, ``dst`` and ``rule``, the names of their ids (an object
        array indexed by id, or a mapping from id to name).
    storm_threshold, storm_window, inventory
        As for :func:`denied_summary`.

    Returns
    -------
    Finding
        As :func:`denied_summary`; ``denied_tuples`` is the sum of ``tuples``.

    Examples
    --------
    >>> no_rows = pd.DataFrame({c: pd.Series([], dtype=np.int64) for c in DENIED_IDS})
    >>> denied_finding(denied_groups(no_rows, 600_000, {}), {}).verdict
    'none'
    """
    if groups.empty:
        return _no_denied()
    out = pd.DataFrame({
        "src_ip": _lookup(names["src"], groups["src"].to_numpy()),
        "dst_ip": _lookup(names["dst"], groups["dst"].to_numpy()),
        "dst_port": groups["dst_port"].to_numpy(),
        "protocol": [protocol_name(p) for p in groups["protocol"].to_numpy()],
        "rule": _lookup(names["rule"], groups["rule"].to_numpy()),
        **{c: groups[c].to_numpy(dtype=object) for c in ("acl_id", "where")},
        **{c: groups[c].to_numpy(np.int64) for c in ("tuples", "attempts", "src_ports")},
        **{c: pd.to_datetime(groups[c].to_numpy(np.int64), unit="ms", utc=True) for c in ("first_seen", "last_seen")},
        "max_in_window": groups["max_in_window"].to_numpy(np.int64),
        **{c: groups[c].to_numpy(dtype=object) for c in ("observers", "log_types")},
    })
    out["retry_storm"] = out["max_in_window"] >= storm_threshold
    ip_vm = inventory.ip_map("vm") if inventory is not None else {}
    out["src_vm"] = [ip_vm.get(i) for i in out["src_ip"]]
    out["dst_vm"] = [ip_vm.get(i) for i in out["dst_ip"]]
    # The whole group key breaks ties, so the order never depends on the order of rows.
    out = out.sort_values(["attempts", "src_ip", "dst_ip", "dst_port", "protocol", "rule"],
                          ascending=[False, True, True, True, True, True],
                          kind="stable").reset_index(drop=True)[list(DENIED_COLUMNS)]
    storms = out[out["retry_storm"]]
    storm_facts: list[dict[str, Any]] = [
        {"src_ip": r.src_ip, "dst_ip": r.dst_ip, "dst_port": int(r.dst_port), "protocol": r.protocol,
         "rule": None if pd.isna(r.rule) else r.rule, "attempts": int(r.attempts),
         "max_in_window": int(r.max_in_window)}
        for r in storms.itertuples(index=False)
    ]
    lines = "; ".join(f"{r['src_ip']} -> {_service(r['dst_ip'], r['dst_port'], r['protocol'])} "
                      f"({r['max_in_window']} attempts within {_minutes(storm_window)})" for r in storm_facts[:5])
    attempts, tuples = int(out["attempts"].sum()), int(out["tuples"].sum())
    summary = (f"{attempts} denied attempt(s) ({tuples} tuple(s)) in {len(out)} group(s) "
               f"of source, destination, port, protocol and rule.")
    if storm_facts:
        summary += f" {len(storm_facts)} retry storm(s): {lines}."
    return Finding(
        title="Denied traffic",
        verdict="retry-storm" if storm_facts else "denied",
        severity="medium" if storm_facts else "low",
        summary=summary,
        evidence={"denied": out},
        facts={"groups": int(len(out)), "denied_tuples": tuples, "attempts": attempts, "storms": storm_facts},
    )


def denied_summary(
    flows: pd.DataFrame,
    *,
    storm_threshold: int = 20,
    storm_window: str | pd.Timedelta = "10min",
    inventory: "Inventory | None" = None,
) -> Finding:
    """Denied traffic grouped by (src, dst, dst port, protocol, rule), retry storms flagged.

    An *attempt* is one distinct denied tuple (source port and time, to the second):
    the same denial seen by two observers counts once, also when one is an NSG flow log
    (times in seconds) and the other a VNet flow log (milliseconds). A group is a *retry storm* when at
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
        ``evidence["denied"]`` has :data:`DENIED_COLUMNS`, most attempts first
        (ties by source, destination, port, protocol, then rule); ``where`` is
        ``source-outbound`` or ``destination-inbound`` (both, comma-separated, if
        seen at both); ``acl_id`` is the group's most frequent aclID (or NSG
        resource ID), the alphabetically smallest of equally frequent ones.
        Neither depends on the order of rows. ``facts``: groups, denied_tuples,
        attempts, storms.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> denied_summary(empty_frame()).verdict
    'none'
    """
    require_columns(flows, DENIED_NEEDS, "denied_summary")
    flows = categorical(flows)  # joined or anonymised frames hold text, not categories
    rows = flows.loc[denied_mask(flows)]
    if rows.empty:
        return _no_denied()
    ids, names = _id_form(rows)
    return denied_finding(denied_groups(ids, storm_window_ms(storm_window), names), names,
                          storm_threshold=storm_threshold, storm_window=storm_window, inventory=inventory)
