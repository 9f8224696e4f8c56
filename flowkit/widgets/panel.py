"""``FilterPanel``: ipywidgets controls that gather the arguments of ``filter_flows``.

The panel does no filtering of its own: every change of a control reads all
controls into keyword arguments and calls :func:`flowkit.filters.filter_flows`,
the same function scripts and the command line use. ``.value`` is the result.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> flows = coerce(pd.DataFrame({"src_ip": ["192.0.2.1", "10.0.0.4"], "dst_ip": ["10.0.0.4", "198.51.100.2"],
...                              "dst_port": [22, 443], "protocol": [6, 6], "decision": ["deny", "allow"],
...                              "flow_time": ["2024-05-01T10:00Z", "2024-05-01T10:01Z"]}))
>>> panel = FilterPanel(flows, draw=False)
>>> panel.ports.value = "443"
>>> len(panel.value), panel.filters
(1, {'ports': '443'})
>>> panel.src.value = "10.0.0.0/33"
>>> panel.error
"source: '10.0.0.0/33' is not an IP address or CIDR block"
>>> panel.src.value = ""
>>> panel.start.value = "10:30"
>>> panel.error
"start: '10:30' has no full date, so it is not applied (it would read as today): write the day too, as 2024-05-01T10:30Z"
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from flowkit.addresses import is_mac, normalize_mac
from flowkit.analysis.keys import protocol_number
from flowkit.errors import ArgumentError
from flowkit.filters import filter_flows, filter_mask
from flowkit.findings import Finding, json_safe
from flowkit.schema import DECISIONS, DIRECTIONS, ENCRYPTION_FORM, LOG_TYPES, STATES
from flowkit.widgets.inputs import as_text as _as_text, parse_addresses as _addresses, parse_ports as _ports
from flowkit.widgets.inputs import parse_time as _time, present_values as _present
from flowkit.widgets.views import SummaryIndex, figure_png, first_rows, rows_html, summary_html, timeline_figure

__all__ = ["FilterPanel", "FILTER_NAMES"]

#: The keyword arguments of ``filter_flows`` the panel gathers, in control order.
FILTER_NAMES = ("start", "end", "src", "dst", "ports", "protocol", "direction", "decision", "state",
                "encryption", "rule", "log_type", "mac")

_ANY = ""
_STATE_LABELS = {"B": "B (began)", "C": "C (continuing)", "E": "E (ended)", "D": "D (denied)"}
#: Columns whose values are a closed vocabulary: an initial value outside it is a mistake (raised).
_VOCABULARY = {"direction": DIRECTIONS, "decision": DECISIONS, "state": STATES, "log_type": LOG_TYPES}
_ABSENT = " (not in these flows)"


class FilterPanel:
    """Interactive filters over a canonical flow table, with a live summary, table and charts.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table (from :func:`flowkit.read_flow_logs`).
    report : object, optional
        A report with an ``add(finding)`` method (:class:`flowkit.report.Report`);
        enables the *Add view to report* button.
    inventory : flowkit.inventory.Inventory, optional
        Names VMs in the MAC list, the table and the talker graph.
    draw : bool, default True
        Draw the timeline and the talker graph on every change (turn off for speed).
    max_graph_rows : int, default 200000
        Above this many selected rows the talker graph is not drawn (narrow the
        selection first); the summary, table and timeline still update.
    top_rows : int, default 15
        Rows shown in the table (the earliest of the selection).
    **filters
        Initial values of the controls, named as the arguments of
        :func:`flowkit.filters.filter_flows` (``src="10.10.1.4"``, ``ports=1433``, ...).
        A value that does not occur in ``flows`` (``encryption="NX_NOT_ACCEPTED"``
        where nothing was dropped) is still selected, listed as "(not in these
        flows)": the panel shows the empty selection that matches it and a note
        says why. A value no flow log can hold (``decision="maybe"``, ``mac="zz"``,
        ``src="10.0.0.999"``, ``ports="9000-8000"``, a ``start`` not before ``end``)
        raises ValueError.

    Notes
    -----
    Bad input in a control shows a message and keeps the previous selection: an
    address or CIDR that is not one, a port outside 0-65535, a port range that runs
    backwards (``8100-8000``), a time that cannot be read, a time of day without a
    date (``10:30``: pandas would read it as today, so it is not applied; write
    ``2024-05-01T10:30Z``), and a ``start`` that is not before ``end``. An empty
    selection says which filter to clear: each one that, cleared alone, selects rows
    again, with the number of rows the others select without it.

    The summary's bytes count each flow once, as the talker graph does: the C and
    E counters of its busiest observer, both ways (a flow logged at both ends is
    not counted twice; see :func:`flowkit.widgets.views.selection_summary`).

    Attributes
    ----------
    value : pandas.DataFrame
        The rows matching the current controls.
    filters : dict
        The keyword arguments given to ``filter_flows`` for ``value``.
    error : str or None
        The message shown for the last bad input, None when the input is fine.
    widget : ipywidgets.VBox
        The panel itself (what a notebook displays).

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> FilterPanel(empty_frame(), draw=False).summary_numbers
    {'rows': 0, 'flows': 0, 'bytes': 0, 'denied': 0}
    """

    def __init__(self, flows: pd.DataFrame, report: Any = None, inventory: Any = None, *,
                 draw: bool = True, max_graph_rows: int = 200_000, top_rows: int = 15,
                 **filters: Any) -> None:
        unknown = sorted(set(filters) - set(FILTER_NAMES))
        if unknown:
            raise TypeError(f"unknown filter(s) {unknown}; the filters are {list(FILTER_NAMES)}")
        self._flows = flows
        self.report = report
        self.inventory = inventory
        self.draw = draw
        self.max_graph_rows = max_graph_rows
        self.top_rows = top_rows
        self._vm = inventory.mac_map("vm") if inventory is not None else {}
        self._value = flows
        self._filters: dict[str, Any] = {}
        self.error: str | None = None
        self.summary_numbers: dict[str, int] = {}
        self._absent: dict[str, set[Any]] = {}  # initial values that do not occur in flows
        self._summaries = SummaryIndex(flows)
        self._build_controls(flows)
        self._set_initial(filters)
        if filters:
            self.read_controls()  # an initial text value no flow log can hold raises, as a dropdown's does
        self._build_layout()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    # -- construction -------------------------------------------------------------------------
    def _build_controls(self, flows: pd.DataFrame) -> None:
        text = dict(continuous_update=False, layout=w.Layout(width="260px"),
                    style={"description_width": "80px"})
        lo, hi = (flows["flow_time"].min(), flows["flow_time"].max()) if len(flows) else (None, None)
        self._day = f"{lo:%Y-%m-%d}" if lo is not None and not pd.isna(lo) else "2024-05-01"  # for messages
        # The placeholders span every row in whole minutes: start <= flow_time < end keeps them all.
        first, after = (None, None) if lo is None or pd.isna(lo) else (lo.floor("min"), hi.floor("min") + pd.Timedelta("1min"))
        self.start = w.Text(description="start", placeholder=_as_text(first) or "2024-05-01T10:00Z", **text)
        self.end = w.Text(description="end", placeholder=_as_text(after) or "2024-05-01T12:00Z", **text)
        self.src = w.Text(description="source", placeholder="address or CIDR, …", **text)
        self.dst = w.Text(description="destination", placeholder="address or CIDR, …", **text)
        self.ports = w.Text(description="ports", placeholder="443, 8000-8100", **text)
        drop = dict(layout=w.Layout(width="260px"), style={"description_width": "80px"})
        protocols = sorted(int(p) for p in pd.unique(flows["protocol"].to_numpy())) if len(flows) else [6, 17]
        names = {6: "TCP", 17: "UDP"}
        self.protocol = w.Dropdown(description="protocol", options=[("any", _ANY)] + [
            (names.get(p, str(p)), p) for p in protocols], **drop)

        def choice(name: str, values: list[str], labels: dict[str, str] | None = None) -> w.Dropdown:
            return w.Dropdown(description=name.replace("_", " "), options=[("any", _ANY)] + [
                ((labels or {}).get(v, v), v) for v in values], **drop)

        self.direction = choice("direction", _present(flows["direction"]))
        self.decision = choice("decision", _present(flows["decision"]))
        self.state = choice("state", _present(flows["state"]), _STATE_LABELS)
        self.encryption = choice("encryption", _present(flows["encryption"]))
        self.log_type = choice("log_type", _present(flows["log_type"]))
        macs = _present(flows["mac"])
        self.mac = choice("MAC / VM", macs, {m: f"{m} ({self._vm[m]})" for m in macs if m in self._vm})
        self.rule = w.SelectMultiple(description="rule", options=_present(flows["rule"]), rows=6,
                                     layout=w.Layout(width="420px"), style={"description_width": "80px"})
        self.controls: dict[str, w.ValueWidget] = {name: getattr(self, name) for name in FILTER_NAMES}
        for name, control in self.controls.items():
            control.add_class(f"flowkit-filter-{name}")  # stable hooks for pages and browser tests

    def _set_initial(self, filters: dict[str, Any]) -> None:
        for name, value in filters.items():
            control = self.controls[name]
            if value is None:
                continue
            if isinstance(control, w.Text):
                control.value = _as_text(value)
            elif isinstance(control, w.SelectMultiple):
                wanted = [str(v) for v in ([value] if isinstance(value, str) else list(value))]
                present = list(control.options)
                missing = [v for v in wanted if v not in present]
                if missing:
                    control.options = [(v, v) for v in present] + [(v + _ABSENT, v) for v in missing]
                    self._absent[name] = set(missing)
                control.value = tuple(wanted)
            else:
                values = [v for _, v in control.options]
                candidate = self._initial_choice(name, value, values)
                if candidate not in values:
                    label = {6: "TCP", 17: "UDP"}.get(candidate, str(candidate)) if name == "protocol" else candidate
                    control.options = tuple(control.options) + ((f"{label}{_ABSENT}", candidate),)
                    self._absent[name] = {candidate}
                control.value = candidate

    @staticmethod
    def _initial_choice(name: str, value: Any, present: list[Any]) -> Any:
        """The control value of an initial filter; ValueError when it is absent and no flow log could hold it."""
        if name == "protocol":
            try:
                number = protocol_number(value)
            except (TypeError, ValueError):
                number = None
            if number in present:
                return number
            if number is None or not 0 <= number <= 255:
                raise ArgumentError(f"protocol={value!r} is not a protocol (use 'tcp', 'udp' or a number 0-255)")
            return number
        text = (normalize_mac(str(value)) or str(value)) if name == "mac" else str(value)
        if text in present:
            return text
        if name == "mac" and not is_mac(text):
            raise ArgumentError(f"mac={value!r} is not a MAC address (12 hex digits, as 00-0D-3A-00-01-01)")
        if name == "encryption" and not ENCRYPTION_FORM.match(text):
            raise ArgumentError(f"encryption={value!r} is not an encryption state "
                             "(X, NX or NX_ and upper-case letters, such as NX_NOT_ACCEPTED)")
        if name in _VOCABULARY and text not in _VOCABULARY[name]:
            raise ArgumentError(f"{name}={value!r} is not a {name.replace('_', ' ')}: "
                             f"one of {list(_VOCABULARY[name])}")
        return text

    def _build_layout(self) -> None:
        self.message = w.HTML(layout=w.Layout(min_height="0px"))
        self.message.add_class("flowkit-message")
        self.summary = w.HTML()
        self.summary.add_class("flowkit-summary")
        self.table = w.HTML()
        self.table.add_class("flowkit-table")
        self.timeline = w.Image(format="png", layout=w.Layout(max_width="560px"))
        self.graph = w.Image(format="png", layout=w.Layout(max_width="560px"))
        self.graph_caption = w.HTML()
        self.export_button = w.Button(description="Add view to report", icon="plus", layout=w.Layout(width="190px"),
                                      disabled=self.report is None,
                                      tooltip="Add this view as a finding to the report" if self.report is not None
                                      else "Give FilterPanel(report=...) to export views")
        self.export_button.on_click(lambda _: self.export())
        column = [self.start, self.end, self.src, self.dst, self.ports]
        column2 = [self.protocol, self.direction, self.decision, self.state, self.encryption]
        column3 = [self.log_type, self.mac, self.rule]
        charts = w.HBox([w.VBox([w.HTML("<b>timeline</b>"), self.timeline]),
                         w.VBox([w.HTML("<b>talkers</b>"), self.graph_caption, self.graph])])
        self.widget = w.VBox([
            w.HBox([w.VBox(column), w.VBox(column2), w.VBox(column3)]),
            self.message, w.HBox([self.summary, self.export_button]), self.table, charts,
        ])
        self.widget.add_class("flowkit-filter-panel")

    # -- behaviour ----------------------------------------------------------------------------
    @property
    def value(self) -> pd.DataFrame:
        """The rows that match the controls (a frame in the canonical schema)."""
        return self._value

    @property
    def filters(self) -> dict[str, Any]:
        """The arguments of ``filter_flows`` behind :attr:`value`."""
        return dict(self._filters)

    def read_controls(self) -> dict[str, Any]:
        """Read the controls into ``filter_flows`` arguments; raise ValueError on bad input.

        Examples
        --------
        >>> from flowkit.schema import empty_frame
        >>> p = FilterPanel(empty_frame(), draw=False, ports="22, 80-81")
        >>> p.read_controls()
        {'ports': '22,80-81'}
        """
        start, end = _time("start", self.start.value, self._day), _time("end", self.end.value, self._day)
        if start is not None and end is not None and start >= end:
            raise ValueError(f"start ({_as_text(start)}) is not before end ({_as_text(end)}): no row can match "
                             "(rows kept are start <= time < end)")
        args: dict[str, Any] = {
            "start": start,
            "end": end,
            "src": _addresses("source", self.src.value),
            "dst": _addresses("destination", self.dst.value),
            "ports": _ports(self.ports.value),
            "rule": list(self.rule.value) or None,
        }
        for name in ("protocol", "direction", "decision", "state", "encryption", "log_type", "mac"):
            value = self.controls[name].value
            args[name] = None if value == _ANY else value
        return {k: v for k, v in args.items() if v is not None}

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Filter with the current controls and update the summary, table and charts.

        Bad input (an invalid CIDR, port or time) shows a message in the panel and
        keeps the previous selection; nothing is raised.
        """
        try:
            args = self.read_controls()
            value = filter_flows(self._flows, **args)
        except Exception as exc:  # shown to the user, never raised into the event loop
            self._show_error(exc)
            return
        self.error = None
        self.message.value = self._notes_html(args) or (self._empty_html(args) if len(value) == 0 else "")
        self._value, self._filters = value, args
        self.summary_numbers = self._summaries.summary(value)
        self.table.value = rows_html(value, self.top_rows, vm=self._vm)  # before the summary, which pages wait on
        self.summary.value = summary_html(self.summary_numbers, len(self._flows))
        if self.draw:
            self._draw()

    def _notes_html(self, args: dict[str, Any]) -> str:
        """A note for each selected value that does not occur in the flows (why the view is empty)."""
        notes = []
        for name, absent in self._absent.items():
            chosen = args.get(name)
            chosen = set(chosen) if isinstance(chosen, (list, tuple)) else {chosen}
            for value in sorted(chosen & absent, key=str):
                notes.append(f"{name.replace('_', ' ')} {value!r} does not occur in these flows, so no row "
                             "matches it: pick another value, or 'any'")
        if not notes:
            return ""
        return ("<div class='flowkit-note' style='color:#8a6d00'>&#9432; "
                + "<br>".join(escape(n) for n in notes) + ".</div>")

    def _empty_html(self, args: dict[str, Any]) -> str:
        """Why the selection is empty: each filter with the rows the others select without it."""
        note = "<div class='flowkit-note flowkit-empty' style='color:#8a6d00'>&#9432; {}.</div>"
        if len(self._flows) == 0:
            return note.format("The flow table is empty")
        masks = {name: filter_mask(self._flows, **{name: value}) for name, value in args.items()}
        widen = []
        for name in masks:
            others = [m for other, m in masks.items() if other != name]
            rows = int(np.logical_and.reduce(others).sum()) if others else len(self._flows)
            if rows:
                widen.append(f"{self.controls[name].description} ({rows:,} rows without it)")
        text = f"No row matches {'these filters together' if len(args) > 1 else 'this filter'}: "
        text += ("clear " + ", or ".join(widen) if widen else
                 "clearing any one of them still selects nothing, so clear several")
        return note.format(escape(text))

    def _show_error(self, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        self.error = text
        self.message.value = (f"<div class='flowkit-error' style='color:#c0392b'>&#9888; {escape(text)}"
                              " &mdash; showing the previous selection.</div>")

    def _draw(self) -> None:
        try:
            self.timeline.value = figure_png(timeline_figure(self._value))
            if len(self._value) > self.max_graph_rows:
                self.graph.value = b""
                self.graph.layout.display = "none"
                self.graph_caption.value = (f"<i>{len(self._value):,} rows selected: narrow the selection "
                                            f"below {self.max_graph_rows:,} rows to draw the talker graph.</i>")
                return
            self.graph.layout.display = None
            self.graph_caption.value = ""
            self.graph.value = figure_png(self._graph_figure())
        except Exception as exc:
            self._show_error(exc)

    def _graph_figure(self) -> Any:
        from flowkit.analysis.draw import draw_talker_graph
        from flowkit.analysis.graph import talker_graph

        G = talker_graph(self._value, inventory=self.inventory)
        return draw_talker_graph(G, figsize=(6.0, 4.5), max_labels=15)

    # -- export -------------------------------------------------------------------------------
    def finding(self, max_rows: int | None = None) -> Finding:
        """The current view as a :class:`flowkit.findings.Finding` (for a report).

        ``evidence["rows"]`` holds every selected row, earliest first (a report's
        own ``max_rows`` limits what its HTML shows; CSV and XLSX get every row).
        With ``max_rows`` only the earliest ``max_rows`` rows are kept, and the
        summary says so.

        Examples
        --------
        >>> from flowkit.schema import empty_frame
        >>> FilterPanel(empty_frame(), draw=False).finding().verdict
        'selection'
        """
        args = json_safe(self._filters)
        described = ", ".join(f"{k}={_as_text(v)}" for k, v in args.items()) or "no filter"
        n = self.summary_numbers
        selected = len(self._value)
        kept = selected if max_rows is None else min(selected, max(int(max_rows), 0))
        figures: dict[str, Any] = {"timeline": timeline_figure(self._value)}
        if 0 < selected <= self.max_graph_rows:
            figures["talker_graph"] = self._graph_figure()
        summary = (f"{n['rows']:,} of {len(self._flows):,} rows, {n['flows']:,} flows, {n['bytes']:,} bytes "
                   f"(each flow counted once), {n['denied']:,} denied tuples ({described}).")
        if kept < selected:
            summary += f" The evidence keeps only the earliest {kept:,} of the {selected:,} rows."
        return Finding(
            title=f"Filtered view: {described}", verdict="selection", severity="info",
            summary=summary,
            evidence={"rows": first_rows(self._value, kept).reset_index(drop=True)},
            figures=figures, facts={"filters": args, **n, "evidence_rows": kept},
        )

    def export(self) -> Finding | None:
        """Add :meth:`finding` to the report given to the panel; the message says what happened."""
        if self.report is None:
            self._show_error(ValueError("no report: create the panel with FilterPanel(flows, report=...)"))
            return None
        try:
            finding = self.finding()
            self.report.add(finding)
        except Exception as exc:
            self._show_error(exc)
            return None
        self.message.value = f"<div class='flowkit-exported'>Added &ldquo;{escape(finding.title)}&rdquo; to the report.</div>"
        return finding

    def snapshot_html(self) -> str:
        """A static HTML copy of the panel as it is now: a note, the summary, the table and the charts.

        Shown where the live widget cannot be (an HTML export of the notebook, a
        notebook viewer): filtering needs the running notebook.

        Examples
        --------
        >>> from flowkit.schema import empty_frame
        >>> "needs the live notebook" in FilterPanel(empty_frame(), draw=False).snapshot_html()
        True
        """
        described = ", ".join(f"{k}={_as_text(v)}" for k, v in json_safe(self._filters).items()) or "no filter"
        images = "".join(
            f"<img alt='{name}' style='max-width:560px' src='data:image/png;base64,"
            f"{base64.b64encode(image.value).decode('ascii')}'>"
            for name, image in (("timeline", self.timeline), ("talkers", self.graph)) if image.value)
        note = ("<p class='flowkit-static-note' style='color:#555'><b>Filter panel, as it was when the notebook ran</b>"
                f" ({escape(described)}). This copy is static: filtering needs the live notebook "
                "(open it in JupyterLab with <code>make lab</code> and run it).</p>")
        return (f"<div class='flowkit-filter-panel-static'>{note}{self.message.value}{self.summary.value}"
                f"{self.table.value}<div>{images}</div></div>")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # the live widget where it can be shown, a static copy elsewhere
            bundle = {**bundle, "text/html": self.snapshot_html()}
        return bundle

    def __repr__(self) -> str:
        return f"FilterPanel({len(self._value):,} of {len(self._flows):,} rows, filters={self._filters!r})"
