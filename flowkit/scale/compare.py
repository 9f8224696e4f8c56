"""NSG vs VNet reconciliation on Dask workers, causes included.

:func:`compare_nsg_vnet_dask` returns what :func:`flowkit.analysis.compare.compare_nsg_vnet`
returns for the same rows (verdict, summary, facts, cause table, coverage per hour,
the differing keys with their causes), computed in three steps:

1. the hours each log has tuples in, per partition: the common window;
2. the (MAC, hour) pairs each log covers inside the window, per partition,
   merged on the client (a few thousand pairs at most): which NICs and hours
   each log covers;
3. the rows (the columns the comparison reads) shuffled on the flow key, so that
   every tuple of a key, NSG and VNet, inside and outside the window, lands in
   one partition; there the pandas code classifies the keys and finds their
   causes with the global coverage of step 2. Each partition sends back its
   counts and its *differing* keys only; matched keys stay on the workers.

Steps 2 and 3 run in one computation, so each partition is read twice in all
(step 1, then steps 2-3), not three times; the rows in step 1 are counted too. On a
distributed cluster the partitions' results are fetched as each is ready, so the
workers do not hold every partition's differing keys until the end.

Examples
--------
>>> import flowkit
>>> ddf = flowkit.read_flow_logs("data-samples/nsg-vs-vnet", engine="dask")  # doctest: +SKIP
>>> compare_nsg_vnet_dask(ddf, figures=False).verdict  # doctest: +SKIP
'ready'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flowkit.analysis.compare import common_window, compare_nsg_vnet, key_table, mac_hours
from flowkit.analysis.compare_keys import DEFAULT_MAX_SKEW, skew_delta
from flowkit.analysis.compare_summary import (CLASSES, KeyTally, difference_rows, no_overlap_finding,
                                              reconciliation_finding, tally)
from flowkit.analysis.keys import FLOW_KEY, category_mask, epoch_ms
from flowkit.filters import filter_mask
from flowkit.findings import Finding
from flowkit.scale._parts import KEY5, as_dask, is_dask, per_partition
from flowkit.schema import COUNTER_COLUMNS
from flowkit.sources.times import to_window

__all__ = ["compare_nsg_vnet_dask", "COMPARE_COLUMNS"]

#: Rows per partition of the shuffle (its input partitions are combined to this size too, and its
#: outputs hold about as many), by default. Fewer, larger partitions than the input's cut the
#: per-partition overhead. Measured on 2 workers (benchmarks/bench_compare.py; about one key per
#: two tuples), before the inputs were combined: 20 M tuples, 250 k rows: 134.8 s, at most
#: 1,217 MB per worker; 500 k rows: 119.8 s, 1,409 MB. 6 M tuples, 250 k: 37.6 s, 773 MB;
#: 500 k: 34.7 s, 930 MB.
ROWS_PER_PARTITION = 250_000
#: Columns the comparison reads (the rest never leaves the partitions): every field of
#: :data:`flowkit.analysis.copies.TUPLE_IDENTITY`, so a copied tuple, shuffled into its
#: original's partition with the rest of its key, counts once, as in pandas.
COMPARE_COLUMNS = [*KEY5, "flow_time", "direction", "mac", "log_type", "decision", "state", "encryption",
                   "rule", "acl_id", "resource_id", *COUNTER_COLUMNS]


def _hours_part(part: pd.DataFrame) -> dict[str, Any]:
    """Per log: the hour numbers (since the epoch) it has tuples in, and its row count."""
    out: dict[str, Any] = {}
    for side in ("nsg", "vnet"):
        rows = part.loc[category_mask(part["log_type"], side)]
        out[side] = set(pd.unique(epoch_ms(rows["flow_time"].dropna()) // 3_600_000).tolist())
        out[f"{side}_rows"] = len(rows)
    return out


def _coverage_part(part: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> dict[str, Any]:
    """Per log: its (MAC, hour) pairs and whether it has a tuple inside the window."""
    out: dict[str, Any] = {}
    for side in ("nsg", "vnet"):
        rows = part.loc[category_mask(part["log_type"], side)]
        out[side] = mac_hours(rows, window)
        out[f"{side}_in"] = bool(filter_mask(rows, start=window[0], end=window[1]).any())
    return out


def _merge_coverage(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nsg": set().union(*(p["nsg"] for p in parts)), "vnet": set().union(*(p["vnet"] for p in parts)),
            "nsg_in": any(p["nsg_in"] for p in parts), "vnet_in": any(p["vnet_in"] for p in parts)}


def _compare_part(part: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], coverage: dict[str, Any],
                  max_skew: str | pd.Timedelta) -> tuple[KeyTally, pd.DataFrame]:
    """Classify the keys of one key-shuffled partition: its tally and its differing keys."""
    nsg = part.loc[category_mask(part["log_type"], "nsg")]
    vnet = part.loc[category_mask(part["log_type"], "vnet")]
    keys = key_table(nsg, vnet, window, nsg_hours=coverage["nsg"], vnet_hours=coverage["vnet"], max_skew=max_skew)
    return tally(keys), difference_rows(keys)


def _ordered_differences(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The differing keys of all partitions in the order of ``compare_nsg_vnet``: the keys seen
    inside the window by flow key (addresses as text, missing ones last), then those seen only
    outside it (partitions come in no useful order, and each key is in one partition only)."""
    full = [p for p in parts if len(p)]
    if not full:  # no difference: the empty table of a partition has every column and dtype
        return parts[0].reset_index(drop=True) if parts else pd.DataFrame(columns=[*FLOW_KEY, "class"])
    frame = pd.concat(full, ignore_index=True)
    outside = (frame["class"] == CLASSES[-1]).to_numpy(bool)  # "outside-window"
    order = frame.assign(_outside=outside).sort_values(["_outside", *FLOW_KEY], kind="stable",
                                                       na_position="last").index
    return frame.loc[order].reset_index(drop=True)


def _only(part: pd.DataFrame, log_type: str) -> pd.DataFrame:
    """The rows of one log type (``compare_nsg_vnet`` reads only NSG rows of its first frame
    and only VNet rows of its second)."""
    return part.loc[category_mask(part["log_type"], log_type)]


def compare_nsg_vnet_dask(nsg_flows: Any, vnet_flows: Any = None, *, start: Any = None, end: Any = None,
                          max_skew: str | pd.Timedelta = DEFAULT_MAX_SKEW, figures: bool = True,
                          rows_per_partition: int = ROWS_PER_PARTITION) -> Finding:
    """:func:`flowkit.analysis.compare.compare_nsg_vnet` on Dask DataFrames.

    Parameters
    ----------
    nsg_flows : dask.dataframe.DataFrame or pandas.DataFrame
        NSG rows (other rows ignored); with ``vnet_flows`` omitted, both log types.
        Two pandas frames (or one) go to :func:`~flowkit.analysis.compare.compare_nsg_vnet`;
        a pandas frame with a Dask one is made a Dask frame.
    vnet_flows : dask.dataframe.DataFrame or pandas.DataFrame, optional
        VNet rows (other rows ignored).
    start, end, max_skew, figures
        As for :func:`~flowkit.analysis.compare.compare_nsg_vnet`.
    rows_per_partition : int
        Rows per partition of the shuffle on the flow key (input partitions are
        combined to about this size when smaller): lower it for workers with little memory.

    Returns
    -------
    Finding
        The verdict, severity, summary and facts of ``compare_nsg_vnet``, and its
        evidence but ``keys`` (one row per flow key, as large as the data):
        ``differences`` (every key not matched, or matched with a decision or
        counter mismatch, with its causes; in the same order as there: by key,
        the keys seen only outside the window last), ``causes`` and
        ``coverage_by_hour``.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> compare_nsg_vnet_dask(empty_frame(), figures=False).verdict
    'no-overlap'
    """
    to_window(start, end)  # a window that keeps nothing is refused before any work
    skew_delta(max_skew)  # and so is a skew without a unit
    if not is_dask(nsg_flows) and (vnet_flows is None or not is_dask(vnet_flows)):
        finding = compare_nsg_vnet(nsg_flows, vnet_flows, start=start, end=end, max_skew=max_skew, figures=figures)
        finding.evidence.pop("keys", None)
        return finding
    import dask
    import dask.dataframe as dd

    if vnet_flows is None:
        flows = nsg_flows[COMPARE_COLUMNS]
    else:
        sides = []
        for frame, log_type in ((nsg_flows, "nsg"), (vnet_flows, "vnet")):
            frame = as_dask(frame, rows_per_partition)[COMPARE_COLUMNS]
            sides.append(frame.map_partitions(_only, log_type, meta=frame._meta, enforce_metadata=False))
        flows = dd.concat(sides)
    hours = dask.compute(per_partition(flows, _hours_part))[0]
    nsg_h = set().union(*(h["nsg"] for h in hours))
    vnet_h = set().union(*(h["vnet"] for h in hours))
    window = common_window(_hour_frame(nsg_h), _hour_frame(vnet_h), start, end)
    rows = {side: sum(h[f"{side}_rows"] for h in hours) for side in ("nsg", "vnet")}
    if window is None:
        return no_overlap_finding(rows["nsg"], rows["vnet"])
    n = max(1, -(-(rows["nsg"] + rows["vnet"]) // rows_per_partition))
    # More input partitions than that (small files or blob batches) are combined into n for
    # steps 2-3: the shuffle moves n x n pieces instead of (input partitions) x n, and fewer
    # tasks run (20 M tuples, 401 files: 112.9 s and 1,284 MB per worker before, 83.9 s and 777 MB).
    if n < flows.npartitions:
        flows = flows.repartition(npartitions=n)
    coverage = dask.delayed(_merge_coverage, pure=True)(per_partition(flows, _coverage_part, window))
    shuffled = flows.shuffle(on=KEY5, npartitions=n) if n > 1 else flows
    results, coverage = _gather(per_partition(shuffled, _compare_part, window, coverage, max_skew), coverage)
    if not (coverage["nsg_in"] and coverage["vnet_in"]):
        return no_overlap_finding(rows["nsg"], rows["vnet"], window)
    total = KeyTally()
    for part_tally, _ in results:
        total = total + part_tally
    return reconciliation_finding(total, window, {m for m, _ in coverage["nsg"]}, {m for m, _ in coverage["vnet"]},
                                  differences=_ordered_differences([d for _, d in results]), figures=figures)


def _gather(tasks: list[Any], last: Any) -> tuple[list[Any], Any]:
    """Compute ``tasks`` and ``last`` in one graph. On a distributed cluster each result is
    fetched as soon as it is ready and released on its worker (the differing keys of every
    partition would otherwise wait in the workers' memory until the last one is done)."""
    import dask

    try:
        from distributed import as_completed, get_client

        client = get_client()
    except (ImportError, ValueError):  # no distributed client: Dask's local scheduler
        results, value = dask.compute(tasks, last)
        return list(results), value
    futures = client.compute([*tasks, last])
    position = {f.key: i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    for future in as_completed(futures):
        out[position[future.key]] = future.result()
        future.release()
    return out[:-1], out[-1]


def _hour_frame(hours: set[int]) -> pd.DataFrame:
    """A frame whose ``flow_time`` has one tuple in each of ``hours`` (what ``common_window`` reads)."""
    times = pd.to_datetime(sorted(hours), unit="h", utc=True).as_unit("ms")
    return pd.DataFrame({"flow_time": times})

