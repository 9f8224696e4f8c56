"""NSG vs VNet reconciliation: from the per-key table to the finding.

:func:`flowkit.analysis.compare.key_table` classifies every flow key and gives it
its causes. This module counts those keys (:func:`tally`, additive, so that the
tallies of disjoint key sets add up: the Dask engine tallies each partition of a
key-shuffled frame) and turns a tally into the migration-readiness finding
(:func:`reconciliation_finding`).

Examples
--------
>>> import pandas as pd
>>> keys = pd.DataFrame({"class": ["matched", "nsg-only"], "causes": ["", "mac-not-logged"],
...                      "cause": [None, "mac-not-logged"], "decision_mismatch": [False, False],
...                      "counter_mismatch": [False, False], "nsg_first": [0.0, 0.0],
...                      "vnet_first": [0.0, None]})
>>> t = tally(keys)
>>> t.classes["matched"], t.explained
(1, {'mac-not-logged': 1})
>>> (t + t).classes["nsg-only"]
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flowkit.findings import Finding

__all__ = ["CAUSES", "CLASSES", "KeyTally", "tally", "reconciliation_finding", "no_overlap_finding",
           "difference_rows", "readable_times"]

CLASSES = ("matched", "nsg-only", "vnet-only", "outside-window")

#: Known causes of differences, and what each means.
CAUSES = {
    "avnm-rule": "denied by an Azure Virtual Network Manager security admin rule, which only VNet "
                 "flow logs record",
    "encryption-drop": "dropped by VNet encryption (NX_NOT_ACCEPTED: not encrypted where it must be; "
                       "NX_SW_NOT_READY or NX_NOT_SUPPORTED: the host could not encrypt); NSG flow logs "
                       "know nothing of VNet encryption and show the NSG's allow",
    "subnet-and-nic-nsg": "logged twice by NSG flow logs, by the subnet's NSG and the NIC's NSG "
                          "(counted as one key, not two)",
    "nsg-v2-counts-tcp-only": "NSG flow logs v2 count TCP packets only: non-TCP counters are 0",
    "nsg-inbound-tcp-not-counted": "inbound TCP allowed by a user-defined NSG rule, which NSGs enforce "
                                   "statelessly: NSG flow logs do not record its counts (its counters read "
                                   "0) and the flow does not terminate for them, so they can log it after "
                                   "the VNet logs saw it end",
    "mac-not-logged": "seen at NICs the other log does not cover",
    "hour-not-logged": "in an hour the other log did not write (outside the common window, or a gap "
                       "for that NIC)",
    "clock-skew": "seen by the other log within the allowed skew, just across the window edge",
    "window-edge": "counters of a flow that runs across the window's start or end: each log's tuples "
                   "are cut there at different moments, so the sums inside the window differ",
    "outside-window": "seen by both logs, but only outside the compared window (the start and end asked for)",
    "unexplained": "no known cause: investigate",
}

_HOUR_CLASSES = ("matched", "nsg-only", "vnet-only")


def _empty_hours() -> pd.DataFrame:
    return pd.DataFrame({"hour": pd.Series([], dtype="datetime64[ns, UTC]"),
                         "class": pd.Series([], dtype=object), "keys": pd.Series([], dtype=np.int64)})


@dataclass
class KeyTally:
    """Additive counts over a set of classified flow keys.

    ``classes``: keys per class; ``explained``: keys per cause (a key can have
    several); ``gap_causes``: NSG-only keys per main cause; ``hours``: keys per
    (first hour, class) inside the window; ``unexplained_decisions``: matched keys
    that one log allowed and the other denied, with no known cause.
    """

    classes: dict[str, int] = field(default_factory=dict)
    decision_mismatch: int = 0
    counter_mismatch: int = 0
    explained: dict[str, int] = field(default_factory=dict)
    gap_causes: dict[str, int] = field(default_factory=dict)
    unexplained_gap: int = 0
    hours: pd.DataFrame = field(default_factory=_empty_hours)
    unexplained_decisions: int = 0

    def __add__(self, other: "KeyTally") -> "KeyTally":
        def add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
            return {k: a.get(k, 0) + b.get(k, 0) for k in sorted(set(a) | set(b))}

        hours = pd.concat([h for h in (self.hours, other.hours) if len(h)] or [_empty_hours()],
                          ignore_index=True)
        if len(hours):
            hours = hours.groupby(["hour", "class"], as_index=False, sort=True)["keys"].sum()
        return KeyTally(add(self.classes, other.classes), self.decision_mismatch + other.decision_mismatch,
                        self.counter_mismatch + other.counter_mismatch, add(self.explained, other.explained),
                        add(self.gap_causes, other.gap_causes), self.unexplained_gap + other.unexplained_gap,
                        hours, self.unexplained_decisions + other.unexplained_decisions)


def tally(keys: pd.DataFrame) -> KeyTally:
    """Count a key table of :func:`flowkit.analysis.compare.key_table`.

    Parameters
    ----------
    keys : pandas.DataFrame
        One row per flow key with ``class``, ``causes``, ``cause``,
        ``decision_mismatch``, ``counter_mismatch``, ``nsg_first`` and ``vnet_first``.

    Returns
    -------
    KeyTally

    Examples
    --------
    >>> keys = pd.DataFrame({"class": ["vnet-only"], "causes": ["avnm-rule"], "cause": ["avnm-rule"],
    ...                      "decision_mismatch": [False], "counter_mismatch": [False],
    ...                      "nsg_first": [None], "vnet_first": [0.0]})
    >>> tally(keys).explained, tally(keys).hours["keys"].tolist()
    ({'avnm-rule': 1}, [1])
    """
    counts = keys["class"].value_counts()
    classes = {str(k): int(v) for k, v in sorted(counts.items())}
    explained: dict[str, int] = {}
    for causes, n in keys["causes"].value_counts().items():  # a few distinct texts
        for c in filter(None, str(causes).split(",")):
            explained[c] = explained.get(c, 0) + int(n)
    nsg_gap = keys.loc[(keys["class"] == "nsg-only").to_numpy(bool), ["causes", "cause"]]
    gap_causes = {str(k): int(v) for k, v in nsg_gap["cause"].astype(object).fillna("unexplained")
                  .value_counts().items()}
    unexplained = sum(int(n) for causes, n in nsg_gap["causes"].value_counts().items()
                      if "unexplained" in str(causes) or causes == "")
    decisions = (keys["decision_mismatch"].to_numpy(bool)
                 & (keys["cause"].astype(object).to_numpy() == "unexplained"))
    return KeyTally(classes, int(keys["decision_mismatch"].sum()), int(keys["counter_mismatch"].sum()),
                    dict(sorted(explained.items())), dict(sorted(gap_causes.items())), unexplained,
                    _hour_counts(keys), int(decisions.sum()))


def _hour_counts(keys: pd.DataFrame) -> pd.DataFrame:
    """Keys per (hour of their first tuple, class), for the classes inside the window."""
    inside = keys[keys["class"].isin(_HOUR_CLASSES)]
    if not len(inside):
        return _empty_hours()
    # A log with no row in the window has no columns in the key table.
    nsg_first, vnet_first = (inside[c].to_numpy(dtype=float, na_value=np.nan) if c in inside
                             else np.full(len(inside), np.nan) for c in ("nsg_first", "vnet_first"))
    first = np.where(np.isnan(nsg_first), vnet_first, nsg_first)
    frame = pd.DataFrame({"hour": pd.to_datetime(first, unit="ms", utc=True).floor("h"),
                          "class": inside["class"].to_numpy(dtype=object)})
    return frame.groupby(["hour", "class"], as_index=False, sort=True).size().rename(columns={"size": "keys"})


def _coverage_by_hour(hours: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    table = hours.pivot_table(index="hour", columns="class", values="keys", aggfunc="sum", fill_value=0) \
        if len(hours) else pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="hour"))
    # Every hour the window touches: a start or end inside an hour (10:30 to 11:30) keeps that hour.
    hours_in_window = pd.date_range(lo.floor("h"), hi.ceil("h") - pd.Timedelta("1h"), freq="h", name="hour")
    table = table.reindex(hours_in_window, fill_value=0)
    for c in _HOUR_CLASSES:
        if c not in table:
            table[c] = 0
    table = table[list(_HOUR_CLASSES)].astype(np.int64)
    denom = table["matched"] + table["nsg-only"]
    table["coverage"] = (table["matched"] / denom.where(denom > 0)).astype(float)
    table.columns.name = None
    return table.reset_index()


def _percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` to a tenth of a percent, never rounded to 100.0% or 0.0% when it is not.

    Examples
    --------
    >>> _percent(1, 2), _percent(1999, 2000), _percent(1, 3000), _percent(0, 5), _percent(0, 0)
    ('50.0%', '>99.9%', '<0.1%', '0.0%', 'n/a')
    """
    if not whole:
        return "n/a"
    text = f"{part / whole:.1%}"
    if part < whole and text == "100.0%":
        return ">99.9%"
    if part > 0 and text == "0.0%":
        return "<0.1%"
    return text


def difference_rows(keys: pd.DataFrame) -> pd.DataFrame:
    """The keys that differ: not matched, or matched with a decision or counter mismatch.

    Examples
    --------
    >>> difference_rows(pd.DataFrame({"class": ["matched", "vnet-only"], "decision_mismatch": [False, False],
    ...                               "counter_mismatch": [False, False]}))["class"].tolist()
    ['vnet-only']
    """
    return keys[(keys["class"] != "matched") | keys["decision_mismatch"].astype(bool)
                | keys["counter_mismatch"].astype(bool)].reset_index(drop=True)


_TIME_COLUMNS = ("nsg_first", "nsg_last", "vnet_first", "vnet_last")


def readable_times(keys: pd.DataFrame) -> pd.DataFrame:
    """A key table with its first/last times as UTC timestamps instead of epoch milliseconds.

    Examples
    --------
    >>> t = readable_times(pd.DataFrame({"nsg_first": pd.array([1714557600000, None], dtype="Int64")}))
    >>> t["nsg_first"].tolist()
    [Timestamp('2024-05-01 10:00:00+0000', tz='UTC'), NaT]
    """
    present = [c for c in _TIME_COLUMNS if c in keys.columns and not isinstance(keys[c].dtype, pd.DatetimeTZDtype)]
    if not present:
        return keys
    return keys.assign(**{c: pd.to_datetime(keys[c].astype("float64"), unit="ms", utc=True).astype("datetime64[ms, UTC]")
                          for c in present})


def no_overlap_finding(nsg_rows: int, vnet_rows: int,
                       window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> Finding:
    """The finding when there is nothing to compare: one side holds no tuple of its log type,
    the two logs share no hour, or one of them has no tuple in the ``window`` asked for.

    Examples
    --------
    >>> no_overlap_finding(3, 0).verdict
    'no-overlap'
    """
    if not nsg_rows or not vnet_rows:
        # One side holds no tuple of its log type at all (VNet logs given as NSG ones, say):
        # "share no hour" would send the reader looking at times instead of paths.
        summary = ("No NSG flow-log tuple among the NSG flows given and no VNet flow-log tuple among the VNet "
                   "flows given: nothing to compare." if not nsg_rows and not vnet_rows else
                   f"No NSG flow-log tuple among the NSG flows given (the VNet side holds {int(vnet_rows)}): nothing "
                   "to compare; NSG flow logs are the blobs under insights-logs-networksecuritygroupflowevent."
                   if not nsg_rows else
                   f"No VNet flow-log tuple among the VNet flows given (the NSG side holds {int(nsg_rows)}): nothing "
                   "to compare; VNet flow logs are the blobs under insights-logs-flowlogflowevent.")
    elif window is None:
        summary = "The NSG and VNet flow logs given share no hour: nothing to compare."
    else:
        lo, hi = window
        summary = (f"The NSG or the VNet flow logs given have no tuple from {lo:%Y-%m-%d %H:%M}Z to "
                   f"{hi:%Y-%m-%d %H:%M}Z: nothing to compare.")
    return Finding(
        title="NSG vs VNet flow logs", verdict="no-overlap", severity="medium", summary=summary,
        facts={"matched": 0, "nsg_only": 0, "vnet_only": 0, "outside_window": 0,
               "decision_mismatch": 0, "counter_mismatch": 0, "explained": {}, "coverage": None,
               "nsg_rows": int(nsg_rows), "vnet_rows": int(vnet_rows)})


def reconciliation_finding(counts: KeyTally, window: tuple[pd.Timestamp, pd.Timestamp], nsg_macs: set[str],
                           vnet_macs: set[str], *, differences: pd.DataFrame, keys: pd.DataFrame | None = None,
                           figures: bool = True) -> Finding:
    """The migration-readiness finding from the tally of every key in the window.

    Parameters
    ----------
    counts : KeyTally
        The tally of all keys (:func:`tally`, summed over partitions).
    window : (Timestamp, Timestamp)
        The compared window, start inclusive, end exclusive.
    nsg_macs, vnet_macs : set of str
        MACs each log has tuples at inside the window.
    differences : pandas.DataFrame
        :func:`difference_rows` of the keys.
    keys : pandas.DataFrame, optional
        Every key; put in the evidence when given.
    figures : bool
        Draw the coverage-over-time chart.

    Returns
    -------
    Finding
        As :func:`flowkit.analysis.compare.compare_nsg_vnet` documents.

    Examples
    --------
    >>> lo = pd.Timestamp("2024-05-01T10:00Z")
    >>> f = reconciliation_finding(KeyTally({"matched": 1}), (lo, lo + pd.Timedelta("1h")), {"A"}, {"A"},
    ...                            differences=pd.DataFrame(), figures=False)
    >>> f.verdict, f.facts["coverage"]
    ('ready', 1.0)
    """
    lo, hi = window
    matched = counts.classes.get("matched", 0)
    nsg_only = counts.classes.get("nsg-only", 0)
    vnet_only = counts.classes.get("vnet-only", 0)
    out_n = counts.classes.get("outside-window", 0)
    decision_mm, counter_mm = counts.decision_mismatch, counts.counter_mismatch
    explained = dict(sorted(counts.explained.items()))
    coverage = matched / (matched + nsg_only) if (matched + nsg_only) else None
    by_hour = _coverage_by_hour(counts.hours, lo, hi)
    cov_text = _percent(matched, matched + nsg_only)
    summary = (f"VNet logs cover {cov_text} of NSG-logged flows ({matched} of {matched + nsg_only} keys, "
               f"{lo:%Y-%m-%d %H:%M}Z to {hi:%Y-%m-%d %H:%M}Z)")
    if nsg_only:
        summary += "; the rest, by cause: " + ", ".join(
            f"{c} ({n}: {CAUSES.get(c, c)})" for c, n in sorted(counts.gap_causes.items()))
    summary += (f". {vnet_only} key(s) only in VNet logs, {out_n} outside the common window; "
                f"{decision_mm} decision and {counter_mm} counter mismatch(es) among matched keys.")
    # A NIC or an hour the VNet flow logs do not cover is the gap itself, not an excuse for it.
    uncovered = {c: counts.gap_causes.get(c, 0) for c in ("mac-not-logged", "hour-not-logged")}
    blockers = []
    if counts.unexplained_gap:
        blockers.append(f"{counts.unexplained_gap} NSG-logged key(s) are missing from the VNet logs with no "
                        f"known cause")
    if uncovered["mac-not-logged"]:
        macs = sorted(nsg_macs - vnet_macs)
        blockers.append(f"{uncovered['mac-not-logged']} NSG-logged key(s) are at NICs the VNet flow logs do not "
                        f"cover ({', '.join(macs[:10]) + (' …' if len(macs) > 10 else '')}): enable VNet "
                        f"flow logs on them")
    if uncovered["hour-not-logged"]:
        blockers.append(f"{uncovered['hour-not-logged']} NSG-logged key(s) are in hours the VNet flow logs did "
                        f"not write for their NIC")
    if counts.unexplained_decisions:
        blockers.append(f"{counts.unexplained_decisions} matched key(s) were allowed by one log and denied by "
                        f"the other with no known cause")
    if blockers:
        verdict, severity = "not-ready", "high"
        summary += " Not ready to migrate: " + "; ".join(blockers) + "."
    else:
        verdict = "ready"
        severity = "low" if decision_mm or counter_mm else "info"
        summary += " Every NSG-logged flow is covered or explained: ready to rely on VNet flow logs."
    cause_table = pd.DataFrame({"cause": list(explained), "keys": list(explained.values()),
                                "meaning": [CAUSES.get(c, "") for c in explained]})
    figs: dict[str, Any] = {}
    if figures and len(by_hour):
        figs["coverage"] = _coverage_figure(by_hour)
    common = nsg_macs & vnet_macs
    facts = {"matched": matched, "nsg_only": nsg_only, "vnet_only": vnet_only,
             "outside_window": out_n, "decision_mismatch": decision_mm, "counter_mismatch": counter_mm,
             "explained": explained, "coverage": coverage,
             "window": {"start": lo, "end": hi}, "common_macs": sorted(common),
             "nsg_only_macs": sorted(nsg_macs - vnet_macs), "vnet_only_macs": sorted(vnet_macs - nsg_macs)}
    evidence = {"keys": readable_times(keys)} if keys is not None else {}
    evidence.update({"causes": cause_table, "coverage_by_hour": by_hour, "differences": readable_times(differences)})
    return Finding(title="NSG vs VNet flow logs: migration readiness", verdict=verdict, severity=severity,
                   summary=summary, evidence=evidence, figures=figs, facts=facts)


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
    ax.set_xlabel("hour (UTC)")
    ax2 = ax.twinx()
    ax2.plot(x, by_hour["coverage"] * 100, color="black", marker="o", label="coverage %")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("VNet coverage of NSG keys (%)")
    bars, names = ax.get_legend_handles_labels()
    line, line_name = ax2.get_legend_handles_labels()  # the coverage line is on the second axis
    ax.legend(bars + line, names + line_name, loc="lower left", fontsize=8)
    ax.set_title("NSG vs VNet coverage per hour")
    fig.tight_layout()
    return fig
