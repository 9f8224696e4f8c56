"""Flow sessions: tuples stitched into one row per observed flow.

A session is one flow (5-tuple) as one observer saw it, from its first tuple to
its last. An observer is one NIC (``mac``), in one ``direction``, in one log
(``log_type`` and ``resource_id``): for NSG flow logs the NSG that wrote the
tuples, so a subnet NSG and a NIC NSG logging the same NIC are two observers
with a session each; a VNet flow log has one observer per NIC and direction.
Flow logs are per-minute statistics, not access logs (see
:data:`flowkit.analysis.keys.SESSION_NOTE`).

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(flow_time=f"2024-05-01T10:0{m}:00Z", src_ip="10.0.0.4", dst_ip="198.51.100.10",
...              src_port=50000, dst_port=443, protocol=6, direction="outbound", decision="allow",
...              state=s, packets_sent=p, bytes_sent=p * 100, packets_received=p, bytes_received=p * 200,
...              mac="000D3A000101", log_type="vnet") for m, s, p in [(0, "B", 0), (1, "C", 3), (2, "E", 2)]]
>>> s = flow_sessions(coerce(pd.DataFrame(rows)))
>>> s.loc[0, "state_reached"], int(s.loc[0, "packets_sent"]), int(s.loc[0, "bytes_received"])
('completed', 5, 1000)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowkit.analysis.copies import TUPLE_IDENTITY, original_rows
from flowkit.analysis.counting import counted_values, unrecorded_rows
from flowkit.analysis.keys import (SESSION_NOTE, category_mask, combine_codes, denied_mask, epoch_ms, ip_codes,
                                   sort_order, text_ranks)
from flowkit.findings import Finding
from flowkit.schema import categorical, require_columns

__all__ = ["flow_sessions", "session_summary", "SESSION_STATES", "SESSION_COLUMNS"]

#: What a session reached, in order of precedence.
SESSION_STATES = ("denied", "no-reply", "completed", "ongoing", "unknown")

#: Who saw a tuple: the NIC, the direction, and the log that wrote it (for NSG flow
#: logs the NSG, ``resource_id``: a subnet NSG and a NIC NSG on one NIC log the
#: same flow separately, and their tuples must not be stitched together).
_OBSERVER = ("direction", "mac", "log_type", "resource_id")
#: After first_seen, the columns that order sessions of one moment.
_SESSION_ORDER = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol") + _OBSERVER
_REACHED = {state: code for code, state in enumerate(SESSION_STATES)}
#: The ``states`` text of each 4-bit set of states seen (bit 0 B, 1 C, 2 E, 3 D), in B, C, E, D order.
_STATE_SETS = ["".join(x for bit, x in enumerate("BCED") if mask >> bit & 1) for mask in range(16)]
SESSION_COLUMNS = (
    "session", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "direction", "mac",
    "log_type", "resource_id", "first_seen", "last_seen", "duration", "tuples", "duplicates", "states", "state_reached",
    "decision", "rule", "acl_id", "encryption", "packets_sent", "bytes_sent",
    "packets_received", "bytes_received", "retry", "attempt",
)


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series, use_na_sentinel=True)[0].astype(np.int64)


def flow_sessions(
    flows: pd.DataFrame,
    *,
    idle_timeout: str | pd.Timedelta = "10min",
    retry_window: str | pd.Timedelta = "2min",
) -> pd.DataFrame:
    """Stitch flow tuples into sessions, one row per observed flow.

    A session is the tuples of one 5-tuple written by one observer, in time
    order (within one millisecond B, then C, then E and D, whatever the row
    order). The observer is one NIC (``mac``) in one ``direction``, in one log
    (``log_type`` and ``resource_id``): in NSG flow logs each NSG that judges
    the NIC (its subnet's and its own) logs the flow separately, so each NSG's
    tuples form their own sessions. A new session begins after an ``E`` tuple,
    at a ``B`` tuple that follows ``C`` or ``D`` tuples, or after
    ``idle_timeout`` without tuples. A copy of a tuple (the same tuple twice, from
    a saved fragment read beside its blob or written twice by Azure; see
    :func:`flowkit.analysis.copies.repeated_tuples`) joins its original's session:
    it is counted in ``tuples`` and ``duplicates``, never in the counters, and never
    begins a session of its own.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    idle_timeout : str or Timedelta
        A gap longer than this splits a flow in two sessions (NSG v1 has no states).
    retry_window : str or Timedelta
        A session is a ``retry`` when the previous session of the same source,
        destination, destination port and protocol, seen by the same observer,
        was denied or got no reply, and this one began within this window after it.

    Returns
    -------
    pandas.DataFrame
        :data:`SESSION_COLUMNS`. ``state_reached`` is ``denied`` (a D tuple or a
        deny decision), ``no-reply`` (packets sent, none received), ``completed``
        (an E tuple), ``ongoing`` (no E yet) or ``unknown`` (NSG v1: no states, no
        counters). Counters are sums of the C and E deltas of the session's own
        tuples, one observer's (never double counted within a session), missing
        when the log gave none (NSG v1, B tuples only, or the all-zero counters NSG flow
        logs give inbound TCP that a user-defined rule allows: counts they do not record).
        A flow seen by several observers (both NICs, or a subnet NSG and a NIC NSG) has
        one session per observer: summing a counter over sessions counts its traffic once
        per observer, so pick one observer (e.g. one ``resource_id`` at the source NIC,
        outbound) to count it once.
        ``tuples`` counts the session's rows, ``duplicates`` the copies among them.
        ``attempt`` counts retries in a chain (1 for the first). Sessions are
        listed and numbered by ``first_seen``, then 5-tuple and observer (compared
        as text): the same logs read in any order give the same table.
        ``attrs["note"]`` explains what a session is.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> rows = [dict(flow_time=f"2024-05-01T10:0{i}:00Z", src_ip="192.0.2.66", dst_ip="10.0.0.4",
    ...              src_port=40000 + i, dst_port=22, protocol=6, direction="inbound",
    ...              decision="deny", state="D", mac="000D3A000101", log_type="vnet") for i in range(3)]
    >>> s = flow_sessions(coerce(pd.DataFrame(rows)))
    >>> s["state_reached"].tolist(), s["retry"].tolist(), s["attempt"].tolist()
    (['denied', 'denied', 'denied'], [False, True, True], [1, 2, 3])

    Two NSGs (the subnet's and the NIC's) log the same flow at one NIC: two
    sessions, each with that NSG's own counters.

    >>> nsgs = ["/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/" + n
    ...         for n in ("NSG-SNET", "NSG-NIC")]
    >>> rows = [dict(flow_time=f"2024-05-01T10:0{m}:00Z", src_ip="10.0.1.4", dst_ip="10.0.2.4",
    ...              src_port=50000, dst_port=8080, protocol=6, direction="inbound", decision="allow",
    ...              state=st, packets_sent=p, bytes_sent=p, packets_received=p, bytes_received=p,
    ...              mac="000D3A000201", log_type="nsg", resource_id=nsg)
    ...         for nsg in nsgs for m, st, p in [(0, "B", None), (5, "C", 7), (6, "E", 3)]]
    >>> s = flow_sessions(coerce(pd.DataFrame(rows)))
    >>> s["states"].tolist(), s["packets_sent"].tolist()
    (['BCE', 'BCE'], [10, 10])
    """
    require_columns(flows, TUPLE_IDENTITY, "flow_sessions")
    flows = categorical(flows)  # joined or anonymised frames hold text, not categories
    idle = pd.Timedelta(idle_timeout)
    # Copies are left out of the stitching and added back to their original's session.
    original = original_rows(flows)
    is_copy = original != np.arange(len(flows))
    copy_of = np.zeros(0, dtype=np.int64)  # position among the kept rows of each copy's original
    if is_copy.any():
        copy_of = (np.cumsum(~is_copy) - 1)[original[is_copy]]
        flows = flows.iloc[np.flatnonzero(~is_copy)]
    window = pd.Timedelta(retry_window)
    n = len(flows)
    src, dst, cats = ip_codes(flows)
    sport = flows["src_port"].to_numpy()
    dport = flows["dst_port"].to_numpy()
    proto = flows["protocol"].to_numpy()
    obs = [_codes(flows[c]) for c in _OBSERVER]
    key = combine_codes(src, dst, sport, dport, proto, *obs) if n else np.zeros(0, np.int64)
    times = epoch_ms(flows["flow_time"])
    # State codes in the closed categories (B, C, E, D); -1 is missing (NSG v1).
    state_col = flows["state"]
    row_st = state_col.cat.codes.to_numpy() if n else np.zeros(0, np.int8)
    code = {x: (int(i) if i >= 0 else -2) for x, i in
            zip(("B", "C", "E", "D"), state_col.cat.categories.get_indexer(["B", "C", "E", "D"]))}
    # Within one millisecond, B before C before E and D whatever the row order: Azure gives a
    # short flow's B and E tuples one timestamp, and a frame sorted by time may hold E first.
    tie = np.where(row_st == code["B"], 0, np.where((row_st == code["E"]) | (row_st == code["D"]), 2, 1))
    order = sort_order(key, times, tie)
    k, t = key[order], times[order]
    st = row_st[order]
    is_e, is_b = st == code["E"], st == code["B"]
    new = np.ones(n, dtype=bool)
    if n > 1:
        prev_ends_or_runs = np.isin(st[:-1], [code["C"], code["D"], code["E"]])
        new[1:] = ((k[1:] != k[:-1])
                   | is_e[:-1]
                   | (is_b[1:] & prev_ends_or_runs)
                   | ((t[1:] - t[:-1]) > idle.total_seconds() * 1000))
    first_pos = np.flatnonzero(new)
    session_of = np.empty(n, dtype=np.int64)
    session_of[order] = np.cumsum(new) - 1
    copies = np.bincount(session_of[copy_of], minlength=len(first_pos)).astype(np.int64)
    last_pos = np.r_[first_pos[1:] - 1, n - 1] if n else first_pos
    known_rows, values = counted_values(flows)
    # NSG zeros of inbound TCP under a user rule are counts never recorded, not "nothing sent"
    unrecorded = unrecorded_rows(flows, known_rows, values)
    if unrecorded.any():
        kept = ~unrecorded[known_rows]
        known_rows = known_rows & ~unrecorded
        values = {name: v[kept] for name, v in values.items()}
    deny = denied_mask(flows)[order]

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(mask.astype(np.int64), first_pos) > 0 if n else np.zeros(0, bool)

    def total(name: str) -> np.ndarray:
        full = np.zeros(n)
        full[known_rows] = values[name]
        return np.add.reduceat(full[order], first_pos) if n else np.zeros(0)

    agg = {
        "first": t[first_pos], "last": t[last_pos], "tuples": np.diff(np.r_[first_pos, n]),
        "deny": any_of(deny), "has_e": any_of(is_e), "has_state": any_of(st >= 0),
        "known": any_of(known_rows[order]),
        **{name: total(name) for name in ("packets_sent", "bytes_sent", "packets_received",
                                          "bytes_received")},
    }
    head = flows.iloc[order[first_pos]].reset_index(drop=True)
    tail = flows.iloc[order[last_pos]].reset_index(drop=True)
    # the states seen, as a 4-bit set (B, C, E, D) naming one of 16 texts: no string built per session
    seen = np.zeros(len(first_pos), dtype=np.int8)
    for bit, x in enumerate(("B", "C", "E", "D")):
        seen |= any_of(st == code[x]).astype(np.int8) << bit
    known = agg["known"]
    reached = np.select(  # codes into SESSION_STATES, the first condition that holds
        [agg["deny"], known & (agg["packets_sent"] > 0) & (agg["packets_received"] == 0), agg["has_e"],
         agg["has_state"]],
        [_REACHED[r] for r in ("denied", "no-reply", "completed", "ongoing")], _REACHED["unknown"]).astype(np.int8)
    out = pd.DataFrame({
        "session": np.arange(len(first_pos), dtype=np.int64),
        **{col: head[col] for col in ("src_ip", "src_port", "dst_ip", "dst_port", "protocol",
                                      "direction", "mac", "log_type", "resource_id")},
        "first_seen": pd.to_datetime(agg["first"], unit="ms", utc=True).astype("datetime64[ms, UTC]"),
        "last_seen": pd.to_datetime(agg["last"], unit="ms", utc=True).astype("datetime64[ms, UTC]"),
    })
    out["duration"] = out["last_seen"] - out["first_seen"]
    out["tuples"] = agg["tuples"].astype(np.int64) + copies
    out["duplicates"] = copies
    out["states"] = pd.Series(pd.Categorical.from_codes(seen, _STATE_SETS)).astype(str)
    out["state_reached"] = pd.Categorical.from_codes(reached, categories=list(SESSION_STATES))
    out["decision"] = pd.Categorical.from_codes(agg["deny"].astype(np.int8), categories=["allow", "deny"])
    for col in ("rule", "acl_id", "encryption"):
        out[col] = tail[col]
    for col, dtype in (("packets_sent", "UInt64"), ("bytes_sent", "UInt64"),
                       ("packets_received", "UInt64"), ("bytes_received", "UInt64")):
        column = pd.array(agg[col].astype(np.uint64), dtype=dtype)
        column[~known] = pd.NA
        out[col] = column
    out = _mark_retries(out, window)
    # by first_seen, then 5-tuple and observer as text: the same logs read in any order number alike
    ties = [text_ranks(out[c]) if c in ("src_ip", "dst_ip") + _OBSERVER else out[c].to_numpy()
            for c in _SESSION_ORDER]
    out = out.take(sort_order(agg["first"], *ties)).reset_index(drop=True)
    out["session"] = np.arange(len(out), dtype=np.int64)
    out.attrs["note"] = SESSION_NOTE
    return out[list(SESSION_COLUMNS)]


def _mark_retries(sessions: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Add ``retry`` and ``attempt`` (vectorised over a sort by service key and time)."""
    n = len(sessions)
    if n == 0:
        sessions["retry"] = pd.Series([], dtype=bool)
        sessions["attempt"] = pd.Series([], dtype=np.int64)
        return sessions
    src, dst, _ = ip_codes(sessions)
    group = combine_codes(src, dst, sessions["dst_port"].to_numpy(), sessions["protocol"].to_numpy(),
                          *[_codes(sessions[c]) for c in _OBSERVER])
    first = epoch_ms(sessions["first_seen"])
    last = epoch_ms(sessions["last_seen"])
    # sessions of one service beginning at one moment: the shorter first, then by source port
    order = sort_order(group, first, last, sessions["src_port"].to_numpy())
    g, f, l = group[order], first[order], last[order]
    failed = category_mask(sessions["state_reached"], ["denied", "no-reply"])[order]
    retry = np.zeros(n, dtype=bool)
    retry[1:] = (g[1:] == g[:-1]) & failed[:-1] & ((f[1:] - l[:-1]) <= window / pd.Timedelta("1ms"))
    # attempt: position within a run of consecutive retries.
    chain = np.cumsum(~retry)
    starts = np.flatnonzero(~retry)
    attempt = np.arange(n) - starts[chain - 1] + 1
    out_retry = np.empty(n, dtype=bool)
    out_attempt = np.empty(n, dtype=np.int64)
    out_retry[order] = retry
    out_attempt[order] = attempt
    sessions["retry"] = out_retry
    sessions["attempt"] = out_attempt
    return sessions


def session_summary(flows: pd.DataFrame, **kwargs: object) -> Finding:
    """A finding with the sessions of ``flows``, counted by the state they reached.

    Sessions are counted per observer (see :func:`flow_sessions`): a flow seen at
    both NICs, or by a subnet NSG and a NIC NSG, counts once per observer.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    **kwargs
        Passed to :func:`flow_sessions`.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> session_summary(empty_frame()).facts["sessions"]
    0
    """
    require_columns(flows, TUPLE_IDENTITY, "session_summary")  # flow_sessions(f) given instead of f
    sessions = flow_sessions(flows, **kwargs)  # type: ignore[arg-type]
    counts = sessions["state_reached"].value_counts().reindex(list(SESSION_STATES), fill_value=0)
    by_state = {k: int(v) for k, v in counts.items() if v}
    retries = int(sessions["retry"].sum())
    copies = int(sessions["duplicates"].sum())
    parts = ", ".join(f"{v} {k}" for k, v in by_state.items()) or "none"
    severity = "medium" if by_state.get("denied") or by_state.get("no-reply") else "info"
    return Finding(
        title="Flow sessions",
        verdict="sessions",
        severity=severity,
        summary=(f"{len(sessions)} session(s) from {len(flows)} tuple(s): {parts}; "
                 f"{retries} retr{'y' if retries == 1 else 'ies'}."
                 + (f" {copies} tuple(s) were copies of another (the same tuple twice): each was "
                    "counted once." if copies else "")),
        evidence={"sessions": sessions},
        facts={"sessions": int(len(sessions)), "tuples": int(len(flows)), "by_state": by_state,
               "retries": retries, "duplicates": copies},
        notes=[SESSION_NOTE],
    )
