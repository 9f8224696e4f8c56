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

from typing import Any

import numpy as np
import pandas as pd

from flowkit.analysis.compare_keys import DEFAULT_MAX_SKEW, is_avnm_rule, key_table, skew_delta
from flowkit.analysis.compare_summary import (CAUSES, CLASSES, difference_rows, no_overlap_finding,
                                              reconciliation_finding, tally)
from flowkit.analysis.keys import category_mask, epoch_ms
from flowkit.filters import filter_mask
from flowkit.findings import Finding
from flowkit.schema import categorical, require_columns
from flowkit.sources.times import to_window

__all__ = ["compare_nsg_vnet", "key_table", "mac_hours", "common_window", "CAUSES", "CLASSES", "is_avnm_rule",
           "DEFAULT_MAX_SKEW"]

#: The columns the reconciliation reads, in each log's frame.
COMPARE_NEEDS = ("flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision", "state",
                 "encryption", "packets_sent", "bytes_sent", "packets_received", "bytes_received", "rule", "mac",
                 "log_type", "resource_id")


def _mac_hours(frame: pd.DataFrame) -> set[tuple[str, int]]:
    """(MAC, hour number) pairs a log has tuples in."""
    if frame.empty:
        return set()
    codes = frame["mac"].cat.codes.to_numpy(np.int64)
    hours = epoch_ms(frame["flow_time"]) // 3_600_000
    pairs = pd.unique((codes + 1) * np.int64(1 << 32) + hours)
    cats = np.asarray(frame["mac"].cat.categories.astype(str), dtype=object)
    return {(cats[p // (1 << 32) - 1], int(p % (1 << 32))) for p in pairs.tolist() if p // (1 << 32) > 0}


def _window(nsg: pd.DataFrame, vnet: pd.DataFrame, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    start, end = to_window(start, end)

    def hours(frame: pd.DataFrame) -> set[int]:
        return set(pd.unique(epoch_ms(frame["flow_time"]) // 3_600_000).tolist()) if len(frame) else set()

    common = hours(nsg) & hours(vnet)
    if not common and (start is None or end is None):
        return None
    lo = pd.Timestamp(min(common) * 3_600_000, unit="ms", tz="UTC") if start is None else start
    hi = pd.Timestamp((max(common) + 1) * 3_600_000, unit="ms", tz="UTC") if end is None else end
    return (lo, hi) if lo < hi else None


def compare_nsg_vnet(
    nsg_flows: pd.DataFrame,
    vnet_flows: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    max_skew: str | pd.Timedelta = DEFAULT_MAX_SKEW,
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
        this time, just outside, is explained by ``clock-skew``. A number without a
        unit (``120``) is refused with ValueError: pandas would read it as nanoseconds.
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
        NSG-logged key covered, or missing for a reason that is not a gap in
        coverage, such as clock skew at the window's edge), ``not-ready`` (NSG-logged
        keys at NICs or in hours the VNet logs do not cover, or missing with no
        known cause, or matched keys allowed by one log and denied by the other
        with no known cause) or ``no-overlap``
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
    for frame in (nsg_flows, vnet_flows) if vnet_flows is not None else (nsg_flows,):
        require_columns(frame, COMPARE_NEEDS, "compare_nsg_vnet")
    skew_delta(max_skew)  # a skew without a unit is refused before any work
    nsg_flows = categorical(nsg_flows)  # joined or anonymised frames hold text, not categories
    vnet_flows = None if vnet_flows is None else categorical(vnet_flows)
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
