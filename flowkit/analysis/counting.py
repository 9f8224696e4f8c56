"""Counters that count: C and E deltas, each copy of a tuple once, each flow by its busiest observer.

Flow-log counters are deltas since the previous update of a flow, so totals are sums of
``C`` and ``E`` counters; ``B`` tuples (and NSG v2 ``B`` tuples' empty fields) add
nothing, and NSG v1 logs none.

Examples
--------
A flow seen by two NICs counts once, by the observer that counted more:

>>> from flowkit.schema import coerce
>>> f = coerce(pd.DataFrame({"src_ip": ["10.0.0.4"] * 2, "dst_ip": ["10.0.0.5"] * 2, "state": ["E", "E"],
...                          "mac": ["000D3A000001", "000D3A000002"], "packets_sent": [2, 3],
...                          "bytes_sent": [200, 300], "packets_received": [1, 1], "bytes_received": [50, 50]}))
>>> flow_counters(f, np.zeros(2, dtype=np.int64), 1)["bytes_sent"].tolist()
[300.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowkit.analysis.copies import repeated_tuples
from flowkit.analysis.keys import COUNTER_NAMES, category_mask

__all__ = ["counters", "counted_values", "flow_counters", "counted_flows", "counters_given", "uncounted_inbound_tcp",
           "unrecorded_rows"]


def counters(flows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Counter deltas that count toward totals: C and E rows, missing as 0 (float64).

    A copy of an earlier row (:func:`repeated_tuples`) counts 0: its original counts.

    Also returns ``known``: rows whose counters are given (not missing) and count.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"state": ["B", "E"], "packets_sent": [0, 3], "bytes_sent": [0, 300],
    ...                          "packets_received": [0, 2], "bytes_received": [0, 200]}))
    >>> counters(f)["packets_sent"].tolist()
    [0.0, 3.0]
    """
    state = flows["state"]
    counts = category_mask(state, ["C", "E"]) if isinstance(state.dtype, pd.CategoricalDtype) \
        else state.isin(["C", "E"]).to_numpy()
    # NSG v1 has no state: no counters either. Rows with no state but counters count.
    counts = counts | (state.isna().to_numpy() & flows["packets_sent"].notna().to_numpy())
    # A copy of a row counts once (its original counts).
    counts[counts] = ~repeated_tuples(flows, counts)
    out: dict[str, np.ndarray] = {}
    known = counts & flows["packets_sent"].notna().to_numpy()
    for name in ("packets_sent", "bytes_sent", "packets_received", "bytes_received"):
        values = flows[name].to_numpy(dtype="float64", na_value=0.0)
        out[name] = np.where(counts, values, 0.0)
    out["known"] = known
    return out


def _counted_mask(flows: pd.DataFrame) -> np.ndarray:
    state = flows["state"]
    counts = category_mask(state, ["C", "E"]) if isinstance(state.dtype, pd.CategoricalDtype) \
        else state.isin(["C", "E"]).to_numpy()
    has = flows["packets_sent"].notna().to_numpy()
    # NSG v1 has no state and no counters; a row with no state but counters count.
    known = (counts | state.isna().to_numpy()) & has
    # A copy of a counted row counts once: its original is counted too (same state, same counters).
    known[known] = ~repeated_tuples(flows, known)
    return known


def counted_values(flows: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows whose counters count (C/E with counters given) and their counters, compact.

    A copy of an earlier row (:func:`repeated_tuples`) does not count: its original does.

    Returns ``(known, values)``: ``values[name]`` holds float64 counters of the
    ``known`` rows only (same order), for the four counter columns.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"state": ["B", "C"], "packets_sent": [None, 4], "bytes_sent": [None, 40],
    ...                          "packets_received": [None, 1], "bytes_received": [None, 9]}))
    >>> known, values = counted_values(f)
    >>> known.tolist(), values["bytes_sent"].tolist()
    ([False, True], [40.0])
    """
    known = _counted_mask(flows)
    values = {name: flows[name].to_numpy(dtype="float64", na_value=0.0)[known]
              for name in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")}
    return known, values


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def flow_counters(flows: pd.DataFrame, fid: np.ndarray, n_flows: int) -> dict[str, np.ndarray]:
    """Per flow, the counters of its busiest observer (sums of C/E deltas), never double counted.

    Observers are peeled off one at a time: each round takes, per flow, one observer
    among its remaining counted rows (whichever the scatter below keeps), sums its rows with ``bincount`` over the dense flow
    ids and keeps the maximum. Rounds = most observers of one flow (usually 1 or 2), and
    no hashing of (flow, observer) pairs is needed. Observers are (mac, log_type,
    resource_id): a subnet NSG and a NIC NSG logging one flow at one NIC are two.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"state": ["E", "E"], "packets_sent": [5, 5], "bytes_sent": [50, 50],
    ...                          "packets_received": [1, 1], "bytes_received": [9, 9],
    ...                          "mac": ["000D3A000001", "000D3A000002"], "log_type": ["vnet", "vnet"]}))
    >>> flow_counters(f, np.array([0, 0]), 1)["bytes_sent"].tolist()
    [50.0]
    """
    known, values = counted_values(flows)
    out = {name: np.zeros(n_flows) for name in COUNTER_NAMES}
    if not known.any():
        return out
    rem_f = fid[known]
    codes = [_codes(flows[c])[known] for c in ("mac", "log_type", "resource_id")]
    rem_o = codes[0] + 1
    for code in codes[1:]:
        rem_o = rem_o * np.int64(int(code.max()) + 2) + code + 1
    rem_w = [values[name] for name in COUNTER_NAMES]
    while len(rem_f):
        first = np.full(n_flows, -1, dtype=np.int64)
        first[rem_f] = rem_o  # one of each flow's remaining observers (any will do)
        mine = rem_o == first[rem_f]
        mine_f = rem_f[mine]
        for name, w in zip(COUNTER_NAMES, rem_w):
            np.maximum(out[name], np.bincount(mine_f, weights=w[mine], minlength=n_flows), out=out[name])
        rest = ~mine
        rem_f, rem_o, rem_w = rem_f[rest], rem_o[rest], [w[rest] for w in rem_w]
    return out


def counted_flows(flows: pd.DataFrame, fid: np.ndarray, n_flows: int) -> np.ndarray:
    """Per flow id, whether any of its rows gives counters (missing ones are unknown, not 0).

    NSG v1 tuples and NSG v2 ``B`` tuples carry no counters: a flow seen only through them
    has unknown traffic, which :func:`flow_counters`' zeros must not stand for.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"state": ["B", "B"], "packets_sent": [None, 0], "bytes_sent": [None, 0],
    ...                          "packets_received": [None, 0], "bytes_received": [None, 0]}))
    >>> counted_flows(f, np.array([0, 1]), 2).tolist()
    [False, True]
    """
    return np.bincount(fid[counters_given(flows)], minlength=n_flows) > 0


def counters_given(flows: pd.DataFrame) -> np.ndarray:
    """Rows that give counters (NSG v1 tuples and NSG v2 ``B`` tuples do not).

    Nor do the all-zero tuples NSG flow logs write for inbound TCP a user-defined rule
    allows (:func:`uncounted_inbound_tcp`): their counts were never recorded.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> counters_given(coerce(pd.DataFrame({"packets_sent": [None, 0], "bytes_sent": [None, 0]}))).tolist()
    [False, True]
    """
    given = np.zeros(len(flows), dtype=bool)
    for name in COUNTER_NAMES:
        given |= flows[name].notna().to_numpy()
    # the rows that could be unrecorded, then their counters (few, or none in VNet logs)
    maybe = np.flatnonzero(uncounted_inbound_tcp(flows, given, np.ones(len(flows), dtype=bool)))
    if len(maybe):
        zero = np.ones(len(maybe), dtype=bool)
        for name in COUNTER_NAMES:
            zero &= flows[name].iloc[maybe].to_numpy(dtype="float64", na_value=np.nan) == 0
        given[maybe[zero]] = False
    return given


def uncounted_inbound_tcp(rows: pd.DataFrame, known: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """NSG rows whose zero counters are not counts: inbound TCP allowed by a non-default rule.

    Microsoft's NSG flow logs overview ("Non-default inbound TCP rules"): such rules are
    implemented statelessly, so those flows become non-terminating and "byte and packet
    counts aren't recorded for these flows" (unless the VNet's ``FlowTimeoutInMinutes`` is
    set, when they are: only all-zero counters are taken as not recorded).

    Parameters
    ----------
    rows : pandas.DataFrame
        Flow rows with ``log_type``, ``direction``, ``protocol`` and ``rule``.
    known : numpy.ndarray of bool
        Rows whose counters count (:func:`counters`' ``known``).
    zero : numpy.ndarray of bool
        Rows whose four counters are all 0.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> one = dict(src_ip="198.51.100.17", dst_ip="192.0.2.4", src_port=50000, dst_port=3389, protocol=6,
    ...            direction="inbound", decision="allow", state="C", packets_sent=0, bytes_sent=0,
    ...            packets_received=0, bytes_received=0, log_type="nsg")
    >>> rows = coerce(pd.DataFrame([dict(one, rule="UserRule_allow-rdp"), dict(one, rule="DefaultRule_AllowVnetInBound"),
    ...                             dict(one, rule="UserRule_allow-rdp", packets_sent=3)]))
    >>> zero = (rows[list(COUNTER_NAMES)] == 0).all(axis=1).to_numpy()
    >>> uncounted_inbound_tcp(rows, counters(rows)["known"], zero).tolist()
    [True, False, False]
    """
    rule = rows["rule"]
    names = rule.cat.categories if isinstance(rule.dtype, pd.CategoricalDtype) else pd.Index(rule.dropna().unique())
    user = [r for r in names if not str(r).startswith("DefaultRule_")]
    return (known & zero & category_mask(rows["log_type"], "nsg") & category_mask(rows["direction"], "inbound")
            & (rows["protocol"].to_numpy() == 6) & category_mask(rule, user))


def unrecorded_rows(flows: pd.DataFrame, known: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """Of :func:`counted_values`' rows, those whose zero counters were never recorded.

    The rows :func:`uncounted_inbound_tcp` names, with their zeros read from ``values``.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> one = dict(src_ip="198.51.100.17", dst_ip="192.0.2.4", src_port=50000, dst_port=443, protocol=6,
    ...            direction="inbound", decision="allow", state="C", packets_sent=0, bytes_sent=0,
    ...            packets_received=0, bytes_received=0, log_type="nsg", rule="UserRule_AllowHttps")
    >>> rows = coerce(pd.DataFrame([one, dict(one, log_type="vnet")]))
    >>> unrecorded_rows(rows, *counted_values(rows)).tolist()
    [True, False]
    """
    zero = np.zeros(len(flows), dtype=bool)
    zero[known] = np.all([values[name] == 0 for name in COUNTER_NAMES], axis=0)
    return uncounted_inbound_tcp(flows, known, zero)
