"""What the filter panel shows of a selection: summary numbers, a table, a timeline.

Presentation only: small vectorised aggregates for display and matplotlib
figures (no pyplot state). The filtering itself is :func:`flowkit.filters.filter_flows`.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"] * 2, "dst_ip": ["10.0.0.4"] * 2,
...                          "src_port": [40000, 40000], "dst_port": [22, 22], "protocol": [6, 6],
...                          "state": ["B", "E"], "decision": ["allow", "allow"],
...                          "packets_sent": [0, 3], "packets_received": [0, 2],
...                          "bytes_sent": [0, 300], "bytes_received": [0, 200]}))
>>> selection_summary(f)
{'rows': 2, 'flows': 1, 'bytes': 500, 'denied': 0}
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowkit.analysis.counting import counted_values, flow_counters
from flowkit.analysis.keys import combine_codes, denied_mask, epoch_ms, flow_ids, protocol_name

__all__ = ["selection_summary", "SummaryIndex", "summary_html", "rows_html", "first_rows", "timeline_figure",
           "figure_png", "TABLE_COLUMNS"]

#: Columns of the table of rows shown in the panel, then ``resource`` (the last part of
#: ``resource_id``: the NSG of an NSG flow log row, the flow log of a VNet row) and, with an
#: inventory, ``vm``.
TABLE_COLUMNS = ("flow_time", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "direction",
                 "decision", "state", "encryption", "rule", "mac", "log_type")

_BIN_WIDTHS = ("1min", "5min", "15min", "1h", "6h", "1D", "7D")


def selection_summary(flows: pd.DataFrame) -> dict[str, int]:
    """Rows, distinct flows, bytes and denied tuples of a canonical flow table.

    ``bytes`` counts each flow once, as the talker graph does: per flow, the C and
    E counters of its busiest observer (NIC, log, NSG; see
    :func:`flowkit.analysis.counting.flow_counters`), ``bytes_sent`` plus
    ``bytes_received``. A flow logged at both ends is not counted twice.
    ``denied`` counts tuples with decision ``deny`` or state ``D``.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> selection_summary(empty_frame())
    {'rows': 0, 'flows': 0, 'bytes': 0, 'denied': 0}

    One flow logged by the NICs at both ends counts once:

    >>> from flowkit.schema import coerce
    >>> both = coerce(pd.DataFrame({"src_ip": ["10.0.0.4"] * 2, "dst_ip": ["10.0.0.5"] * 2,
    ...                             "src_port": [40000] * 2, "dst_port": [443] * 2, "protocol": [6, 6],
    ...                             "state": ["E", "E"], "decision": ["allow"] * 2, "mac": ["000D3A000001", "000D3A000002"],
    ...                             "bytes_sent": [300, 300], "bytes_received": [200, 200],
    ...                             "packets_sent": [3, 3], "packets_received": [2, 2]}))
    >>> selection_summary(both)["bytes"]
    500
    """
    if len(flows) == 0:
        return {"rows": 0, "flows": 0, "bytes": 0, "denied": 0}
    fid = flow_ids(flows)
    n_flows = int(fid.max()) + 1
    per_flow = flow_counters(flows, fid, n_flows)
    denied = denied_mask(flows)
    return {"rows": int(len(flows)), "flows": n_flows,
            "bytes": int(per_flow["bytes_sent"].sum() + per_flow["bytes_received"].sum()),
            "denied": int(denied.sum())}


def _codes(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


class SummaryIndex:
    """Per-row summary values of a whole table, so a selection's summary is a few array sums.

    :func:`selection_summary` numbers the 5-tuples of every selected row and finds
    each flow's busiest observer; on a million rows that is most of a filter change.
    Here flow ids, denied flags and, for the rows whose counters count, their
    (flow, observer) pair are computed once for ``flows``. The summary of any
    selection of its rows (a frame returned by ``filter_flows(flows, ...)``, which
    keeps the index) then costs a gather, two ``bincount`` over the pairs and a
    per-flow maximum: the same numbers as :func:`selection_summary`, bytes counted
    once per flow as the talker graph counts them. Tables without a default
    ``RangeIndex`` fall back to :func:`selection_summary`.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1", "192.0.2.2"], "dst_ip": ["10.0.0.4"] * 2,
    ...                          "state": ["E", "D"], "decision": ["allow", "deny"], "bytes_sent": [10, 0],
    ...                          "packets_sent": [1, 0]}))
    >>> SummaryIndex(f).summary(f.iloc[1:])
    {'rows': 1, 'flows': 1, 'bytes': 0, 'denied': 1}
    >>> SummaryIndex(f).summary(f) == selection_summary(f)
    True
    """

    def __init__(self, flows: pd.DataFrame) -> None:
        self.flows = flows
        index = flows.index
        self.positional = (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1)
        if not self.positional or len(flows) == 0:
            return
        self.flow_id = flow_ids(flows)
        self.n_flows = int(self.flow_id.max()) + 1
        self.denied = denied_mask(flows)
        # Rows whose counters count (C/E with counters), each with its (flow, observer) pair:
        # an observer is (mac, log_type, resource_id), as in flow_counters.
        known, values = counted_values(flows)
        fid = self.flow_id[known]
        observer = combine_codes(*(_codes(flows[c])[known] for c in ("mac", "log_type", "resource_id"))) \
            if known.any() else np.zeros(0, dtype=np.int64)
        pair = combine_codes(fid, observer) if len(fid) else np.zeros(0, dtype=np.int64)
        self.n_pairs = int(pair.max()) + 1 if len(pair) else 0
        pair_flow = np.zeros(self.n_pairs, dtype=np.int64)
        pair_flow[pair] = fid
        # Renumber the pairs so that the pairs of one flow are consecutive: a selection's
        # per-pair sums then reduce to per-flow maxima with one reduceat, no reordering.
        order = np.argsort(pair_flow, kind="stable")
        rank = np.empty(self.n_pairs, dtype=np.int64)
        rank[order] = np.arange(self.n_pairs)
        # Rows whose counters do not count go to one extra bin, past the last pair.
        self.pair_of_row = np.full(len(flows), self.n_pairs, dtype=np.int64)
        self.pair_of_row[known] = rank[pair]
        ordered = pair_flow[order]
        self.flow_starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if self.n_pairs else \
            np.zeros(0, dtype=np.int64)
        self.sent = np.zeros(len(flows))
        self.received = np.zeros(len(flows))
        self.sent[known], self.received[known] = values["bytes_sent"], values["bytes_received"]

    def _bytes(self, pos: np.ndarray) -> int:
        if self.n_pairs == 0:
            return 0
        pair = self.pair_of_row[pos]
        total = 0.0
        for weights in (self.sent, self.received):
            per_pair = np.bincount(pair, weights=weights[pos], minlength=self.n_pairs + 1)[:self.n_pairs]
            total += float(np.maximum.reduceat(per_pair, self.flow_starts).sum())
        return int(total)

    def summary(self, selection: pd.DataFrame) -> dict[str, int]:
        """:func:`selection_summary` of ``selection``, rows of the indexed table."""
        if not self.positional or len(self.flows) == 0:
            return selection_summary(selection)
        if len(selection) == 0:
            return {"rows": 0, "flows": 0, "bytes": 0, "denied": 0}
        pos = selection.index.to_numpy()
        seen = np.zeros(self.n_flows, dtype=bool)
        seen[self.flow_id[pos]] = True
        return {"rows": int(len(pos)), "flows": int(np.count_nonzero(seen)),
                "bytes": self._bytes(pos), "denied": int(np.count_nonzero(self.denied[pos]))}


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def summary_html(summary: dict[str, int], total_rows: int) -> str:
    """The panel's summary line; the exact numbers are also ``data-*`` attributes.

    Examples
    --------
    >>> 'data-rows="2"' in summary_html({"rows": 2, "flows": 1, "bytes": 500, "denied": 0}, 9)
    True
    """
    attrs = " ".join(f'data-{k}="{int(v)}"' for k, v in summary.items())
    return (f'<div class="flowkit-summary-text" {attrs}>'
            f"<b>{summary['rows']:,}</b> rows of {total_rows:,} &middot; "
            f"<b>{summary['flows']:,}</b> flows &middot; "
            f"<b title=\"{summary['bytes']:,} bytes, both ways; each flow counted once (its busiest observer's "
            f"C and E counters), as in the talker graph\">{escape(_human_bytes(summary['bytes']))}</b> "
            f"&middot; "
            f"<b>{summary['denied']:,}</b> denied</div>")


def first_rows(flows: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The ``n`` earliest rows by ``flow_time`` (stable; linear time on large tables).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:01Z", "2024-05-01T10:00Z"], "src_port": [1, 2]}))
    >>> first_rows(f, 1)["src_port"].tolist()
    [2]
    """
    if len(flows) <= n:
        return flows.sort_values("flow_time", kind="stable")
    times = epoch_ms(flows["flow_time"])
    cut = np.partition(times, n - 1)[n - 1]
    candidates = np.flatnonzero(times <= cut)
    order = candidates[np.argsort(times[candidates], kind="stable")][:n]
    return flows.iloc[order]


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def rows_html(flows: pd.DataFrame, n: int = 15, *, vm: dict[str, str] | None = None) -> str:
    """An HTML table (every value escaped) of the ``n`` earliest rows.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    n : int
        Rows to show.
    vm : dict, optional
        MAC -> VM name, shown in a ``vm`` column.

    Each row also shows ``resource``, the last part of its ``resource_id``: the NSG that
    logged an NSG flow log row (a NIC behind two NSGs is logged twice, once by each), the
    flow log of a VNet flow log row.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> "&lt;b&gt;" in rows_html(coerce(pd.DataFrame({"rule": ["<b>"]})))
    True
    """
    part = first_rows(flows, n)
    cols = [c for c in TABLE_COLUMNS if c in part.columns]
    # An NIC behind a subnet NSG and its own NSG is logged by both: the two rows differ only here.
    resource = "resource_id" in part.columns
    head = "".join(f"<th>{escape(c)}</th>" for c in cols) + ("<th>resource</th>" if resource else "") + (
        "<th>vm</th>" if vm else "")
    body = []
    for row in part[cols + (["resource_id"] if resource else [])].itertuples(index=False, name=None):
        values = dict(zip(cols + ["resource_id"], row))
        if "protocol" in values:
            values["protocol"] = protocol_name(int(values["protocol"])).upper()
        cells = [values[c] for c in cols]
        if resource:
            rid = values["resource_id"]
            cells.append("" if pd.isna(rid) else str(rid).rstrip("/").rsplit("/", 1)[-1])
        cells += [vm.get(str(values.get("mac")), "")] if vm else []
        body.append("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in cells) + "</tr>")
    more = len(flows) - len(part)
    tail = f"<p style='color:#666;margin:2px 0'>{more:,} more row(s) in <code>.value</code></p>" if more > 0 else ""
    return (f"<div style='overflow-x:auto'><table class='flowkit-rows' style='font-size:12px;white-space:nowrap'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{tail}")


def _bin_width(span: pd.Timedelta, bins: int) -> pd.Timedelta:
    for width in _BIN_WIDTHS:
        if span / pd.Timedelta(width) <= bins:
            return pd.Timedelta(width)
    return pd.Timedelta(_BIN_WIDTHS[-1])


def timeline_figure(flows: pd.DataFrame, *, bins: int = 120, figsize: tuple[float, float] = (7.0, 2.4)) -> Figure:
    """Tuples over time, allowed and denied stacked, in bins of 1 minute to 1 week.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> len(timeline_figure(empty_frame()).axes)
    1
    """
    fig = Figure(figsize=figsize)
    ax = fig.subplots()
    if len(flows) == 0:
        ax.text(0.5, 0.5, "no rows selected", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    times = epoch_ms(flows["flow_time"])
    denied = denied_mask(flows)
    known = times != np.iinfo(np.int64).min  # NaT
    times, denied = times[known], denied[known]
    if len(times) == 0:
        ax.set_axis_off()
        return fig
    lo, hi = int(times.min()), int(times.max())
    width = _bin_width(pd.Timedelta(hi - lo, unit="ms"), bins)
    step = int(width / pd.Timedelta("1ms"))
    first = lo - lo % step
    idx = (times - first) // step
    n_bins = int(idx.max()) + 1
    all_counts = np.bincount(idx, minlength=n_bins)
    deny_counts = np.bincount(idx, weights=denied, minlength=n_bins)
    edges = pd.to_datetime(first + step * np.arange(n_bins), unit="ms", utc=True).tz_localize(None)
    bar_width = width / pd.Timedelta("1D")  # matplotlib dates are in days
    ax.bar(edges, all_counts - deny_counts, width=bar_width, align="edge", color="#7f8c8d", label="allowed")
    ax.bar(edges, deny_counts, width=bar_width, align="edge", bottom=all_counts - deny_counts,
           color="#c0392b", label="denied")
    ax.set_ylabel(f"tuples per {_label(width)}")
    ax.set_xlabel("UTC")
    ax.legend(loc="upper right", fontsize=8)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _label(width: pd.Timedelta) -> str:
    minutes = int(width / pd.Timedelta("1min"))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 24 else f"{hours // 24} d"


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """PNG bytes of a matplotlib Figure.

    Examples
    --------
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()
