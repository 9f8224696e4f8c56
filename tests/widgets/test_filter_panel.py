"""FilterPanel driven by setting its child widgets' values, as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from flowkit.filters import filter_flows  # noqa: E402
from flowkit.findings import Finding  # noqa: E402
from flowkit.inventory import read_inventory  # noqa: E402
from flowkit.read import read_flow_logs  # noqa: E402
from flowkit.schema import coerce  # noqa: E402
from flowkit.widgets import FilterPanel, selection_summary  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    return read_flow_logs(SCENARIO, progress=False)


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SCENARIO / "expected.json").read_text())


@pytest.fixture
def panel(flows: pd.DataFrame) -> FilterPanel:
    return FilterPanel(flows, draw=False)


def test_starts_with_everything(panel: FilterPanel, flows: pd.DataFrame, expected: dict) -> None:
    assert len(panel.value) == expected["totals"]["tuples"] == len(flows)
    assert panel.filters == {}
    assert panel.summary_numbers["flows"] == expected["totals"]["flows"]
    assert panel.summary_numbers["denied"] == expected["totals"]["by_log_type"]["vnet"]["tuples_by_state"]["D"]
    assert 'data-rows="900"' in panel.summary.value


@pytest.mark.parametrize("control, value, kwargs", [
    pytest.param("start", "2024-05-01T11:00Z", {"start": "2024-05-01T11:00Z"}, id="start"),
    pytest.param("end", "2024-05-01 10:30", {"end": "2024-05-01T10:30Z"}, id="end-naive-is-utc"),
    pytest.param("src", "10.10.1.4", {"src": "10.10.1.4"}, id="src-address"),
    pytest.param("src", "192.0.2.0/24", {"src": "192.0.2.0/24"}, id="src-cidr"),
    pytest.param("dst", "10.10.3.4, 10.10.3.5", {"dst": ["10.10.3.4", "10.10.3.5"]}, id="dst-list"),
    pytest.param("ports", "1433", {"ports": 1433}, id="port"),
    pytest.param("ports", "22, 3389", {"ports": [22, 3389]}, id="ports"),
    pytest.param("ports", "8000-8100", {"ports": range(8000, 8101)}, id="port-range"),
    pytest.param("protocol", 17, {"protocol": "udp"}, id="protocol"),
    pytest.param("direction", "inbound", {"direction": "inbound"}, id="direction"),
    pytest.param("decision", "deny", {"decision": "deny"}, id="decision"),
    pytest.param("state", "E", {"state": "E"}, id="state"),
    pytest.param("encryption", "NX", {"encryption": "NX"}, id="encryption"),
    pytest.param("rule", ("UserRule_DenyWebToSql", "DefaultRule_DenyAllInBound"),
                 {"rule": ["UserRule_DenyWebToSql", "DefaultRule_DenyAllInBound"]}, id="rules"),
    pytest.param("log_type", "vnet", {"log_type": "vnet"}, id="log-type"),
    pytest.param("mac", "000D3A000301", {"mac": "00-0d-3a-00-03-01"}, id="mac"),
])
def test_each_control_filters(panel: FilterPanel, flows: pd.DataFrame, control: str, value: object,
                              kwargs: dict) -> None:
    getattr(panel, control).value = value
    want = filter_flows(flows, **kwargs)
    assert panel.error is None
    assert panel.value.index.equals(want.index)
    assert panel.summary_numbers == selection_summary(want)
    assert f'data-rows="{len(want)}"' in panel.summary.value
    # Back to "any": everything again.
    getattr(panel, control).value = () if control == "rule" else ""
    assert len(panel.value) == len(flows)


def test_controls_combine_into_one_filter_call(panel: FilterPanel, flows: pd.DataFrame, expected: dict) -> None:
    denied = next(d for d in expected["diagnoses"] if d["verdict"] == "denied")
    panel.src.value = denied["src"]
    panel.dst.value = denied["dst"]
    panel.ports.value = str(denied["port"])
    assert panel.filters == {"src": [denied["src"]], "dst": [denied["dst"]], "ports": str(denied["port"])}
    assert panel.summary_numbers["flows"] == denied["flows"]
    assert len(panel.value) == sum(o["tuples"] for o in denied["observed"])
    panel.decision.value = "deny"
    assert panel.summary_numbers == {"rows": denied["flows"], "flows": denied["flows"], "bytes": 0,
                                     "denied": denied["flows"]}
    assert set(panel.value["rule"].astype(str)) == {denied["rule"]}


@pytest.mark.parametrize("control, text, words", [
    pytest.param("src", "10.0.0.0/33", "source: '10.0.0.0/33' is not an IP address or CIDR block", id="bad-cidr"),
    pytest.param("dst", "10.10.1.999", "destination: '10.10.1.999'", id="bad-address"),
    pytest.param("ports", "https", "ports: 'https' is not a port", id="bad-port"),
    pytest.param("ports", "70000", "ports: '70000'", id="port-too-large"),
    pytest.param("start", "yesterday at noon", "start: cannot read", id="bad-time"),
    # Read silently as today's date, or as no port at all, before: now a message like any bad input.
    pytest.param("start", "10:30", "start: '10:30' has no full date", id="time-of-day-without-date"),
    pytest.param("end", "May 1 10:45", "end: 'May 1 10:45' has no full date", id="date-without-year"),
    pytest.param("ports", "8100-8000", "ports: '8100-8000' runs backwards", id="reversed-port-range"),
])
def test_bad_input_shows_a_message_instead_of_raising(panel: FilterPanel, flows: pd.DataFrame, control: str,
                                                      text: str, words: str) -> None:
    panel.ports.value = "22"
    before = panel.value
    getattr(panel, control).value = text  # must not raise
    assert panel.error is not None and words in panel.error
    assert "flowkit-error" in panel.message.value and words.split(":")[0] in panel.message.value
    assert panel.value is before  # the previous selection stays
    getattr(panel, control).value = "22" if control == "ports" else ""
    assert panel.error is None and panel.message.value == ""
    assert len(panel.value) == len(filter_flows(flows, ports=22))


def test_time_of_day_message_suggests_the_datas_day(panel: FilterPanel, flows: pd.DataFrame) -> None:
    panel.start.value = "10:30"  # not applied: the whole table stays selected
    assert panel.error.endswith("as 2024-05-01T10:30Z") and len(panel.value) == len(flows)


def test_start_not_before_end_shows_a_message(panel: FilterPanel, flows: pd.DataFrame) -> None:
    panel.start.value = "2024-05-01T11:00Z"
    before = panel.value
    panel.end.value = "2024-05-01T10:00Z"  # gave 0 rows without a word before
    assert panel.error is not None and "is not before end" in panel.error
    assert "flowkit-error" in panel.message.value and panel.value is before
    panel.end.value = "2024-05-01T11:00Z"  # equal: still nothing can match
    assert "is not before end" in panel.error
    panel.end.value = "2024-05-01T11:30Z"
    assert panel.error is None
    assert panel.value.index.equals(filter_flows(flows, start="2024-05-01T11:00Z", end="2024-05-01T11:30Z").index)


@pytest.mark.parametrize("kwargs, label", [
    pytest.param({"encryption": "NX_NOT_ACCEPTED"}, "NX_NOT_ACCEPTED (not in these flows)", id="encryption"),
    pytest.param({"mac": "00-0d-3a-00-09-99"}, "000D3A000999 (not in these flows)", id="mac-of-another-estate"),
    pytest.param({"log_type": "nsg"}, "nsg (not in these flows)", id="log-type"),
    pytest.param({"protocol": 47}, "47 (not in these flows)", id="protocol"),
])
def test_initial_value_not_in_the_flows_gives_an_empty_panel_with_a_note(flows: pd.DataFrame, kwargs: dict,
                                                                         label: str) -> None:
    # Raised ValueError before: notebook 03 crashed on every estate where nothing was dropped.
    panel = FilterPanel(flows, draw=False, **kwargs)
    ((name, value),) = kwargs.items()
    control = getattr(panel, name)
    assert label in [text for text, _ in control.options]
    assert len(panel.value) == 0 == len(filter_flows(flows, **kwargs)) and panel.error is None
    assert "flowkit-note" in panel.message.value and "does not occur in these flows" in panel.message.value
    assert panel.summary_numbers == {"rows": 0, "flows": 0, "bytes": 0, "denied": 0}
    control.value = ""  # back to any: everything, and the note goes
    assert len(panel.value) == len(flows) and panel.message.value == ""


def test_initial_rule_not_in_the_flows_is_kept_not_dropped(flows: pd.DataFrame) -> None:
    # Dropped silently before: the panel showed every rule's rows.
    panel = FilterPanel(flows, draw=False, rule=["UserRule_DenyWebToSql", "UserRule_NotHere"])
    assert panel.filters["rule"] == ["UserRule_DenyWebToSql", "UserRule_NotHere"]
    assert panel.value.index.equals(filter_flows(flows, rule="UserRule_DenyWebToSql").index)
    assert "UserRule_NotHere" in panel.message.value


@pytest.mark.parametrize("kwargs, words", [
    pytest.param({"decision": "maybe"}, "not a decision", id="decision"),
    pytest.param({"direction": "sideways"}, "not a direction", id="direction"),
    pytest.param({"mac": "not-a-mac"}, "not a MAC address", id="mac"),
    pytest.param({"protocol": "icmpv9"}, "not a protocol", id="protocol"),
])
def test_initial_value_no_flow_log_can_hold_raises(flows: pd.DataFrame, kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FilterPanel(flows, draw=False, **kwargs)


def test_message_is_escaped(panel: FilterPanel) -> None:
    panel.src.value = "<script>alert(1)</script>"
    assert "<script>" not in panel.message.value and "&lt;script&gt;" in panel.message.value


def test_initial_filters_are_set_on_the_controls(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False, src="10.10.1.4", ports=1433, protocol="tcp", rule="UserRule_DenyWebToSql")
    assert panel.src.value == "10.10.1.4" and panel.ports.value == "1433" and panel.protocol.value == 6
    assert panel.value.index.equals(filter_flows(flows, src="10.10.1.4", ports=1433, protocol=6,
                                                 rule="UserRule_DenyWebToSql").index)
    with pytest.raises(TypeError, match="unknown filter"):
        FilterPanel(flows, sorce="10.10.1.4")
    with pytest.raises(ValueError, match="not a decision"):
        FilterPanel(flows, decision="maybe")  # no flow log has it: a mistake, raised


def test_inventory_names_vms_in_the_mac_list_and_table(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, inventory=read_inventory(SCENARIO / "nics.csv"), draw=False, mac="00-0d-3a-00-03-01")
    assert ("000D3A000301 (db-01)", "000D3A000301") in panel.mac.options
    assert "<td>db-01</td>" in panel.table.value


def test_table_is_escaped_and_earliest_first() -> None:
    flows = coerce(pd.DataFrame({
        "flow_time": ["2024-05-01T10:02Z", "2024-05-01T10:01Z"], "src_ip": ["192.0.2.1", "192.0.2.2"],
        "dst_ip": ["198.51.100.1"] * 2, "dst_port": [443, 443], "protocol": [6, 6],
        "rule": ["<img src=x onerror=alert(1)>", "UserRule_Ok"], "decision": ["allow", "allow"]}))
    html = FilterPanel(flows, draw=False).table.value
    assert "<img" not in html and "&lt;img" in html
    assert html.index("192.0.2.2") < html.index("192.0.2.1")


def test_draws_timeline_and_graph_and_skips_huge_graphs(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, max_graph_rows=100, ports="1433")
    assert panel.timeline.value[:4] == b"\x89PNG"
    assert panel.graph.value == b"" and "narrow the selection" in panel.graph_caption.value
    panel.decision.value = "deny"  # 30 rows: drawn
    assert panel.graph.value[:4] == b"\x89PNG" and panel.graph_caption.value == ""


class _Report:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)


def test_export_adds_the_view_as_a_finding(flows: pd.DataFrame) -> None:
    report = _Report()
    panel = FilterPanel(flows, report=report, draw=False, decision="deny")
    assert not panel.export_button.disabled
    panel.export_button.click()
    (finding,) = report.findings
    assert finding.facts["filters"] == {"decision": "deny"} and finding.facts["rows"] == 90
    assert len(finding.evidence["rows"]) == 90 and set(finding.figures) == {"timeline", "talker_graph"}
    assert "Added" in panel.message.value


def test_export_without_a_report_is_disabled_and_explains(panel: FilterPanel) -> None:
    assert panel.export_button.disabled
    assert panel.export() is None and "no report" in panel.error


def test_displays_as_its_widget(panel: FilterPanel) -> None:
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id


def test_summary_of_a_table_without_a_default_index(flows: pd.DataFrame) -> None:
    shuffled = flows.iloc[::-1]  # index no longer 0..n-1: the panel counts the selection itself
    panel = FilterPanel(shuffled, draw=False, ports="1433")
    assert panel.summary_numbers == selection_summary(filter_flows(flows, ports=1433))


def test_export_keeps_every_selected_row(tmp_path: Path) -> None:
    # 2,000 selected rows: the finding kept the earliest 1,000 while its summary said 2,000.
    report_module = pytest.importorskip("flowkit.report")
    n = 2000
    many = coerce(pd.DataFrame({
        "flow_time": pd.date_range("2024-05-01T10:00Z", periods=n, freq="s"), "src_ip": ["192.0.2.1"] * n,
        "dst_ip": ["198.51.100.1"] * n, "src_port": range(30000, 30000 + n), "dst_port": [443] * n,
        "protocol": [6] * n, "state": ["E"] * n, "decision": ["allow"] * n, "mac": ["000D3A000001"] * n,
        "packets_sent": [1] * n, "bytes_sent": [100] * n, "packets_received": [1] * n, "bytes_received": [50] * n}))
    report = report_module.Report(title="All rows", flows=many)
    panel = FilterPanel(many, report=report, draw=False)
    finding = panel.export()
    assert len(finding.evidence["rows"]) == n and finding.facts["evidence_rows"] == n
    assert finding.evidence["rows"]["src_port"].tolist() == list(range(30000, 30000 + n))  # earliest first
    assert "2,000 of 2,000 rows" in finding.summary and "only the earliest" not in finding.summary
    out = Path(report.write(tmp_path / "csv"))
    table = next(p for p in out.rglob("*.csv") if "rows" in p.name)
    assert len(pd.read_csv(table)) == n
    cut = panel.finding(max_rows=500)  # asked for: cut, and the summary says so
    assert len(cut.evidence["rows"]) == 500 and "only the earliest 500 of the 2,000 rows" in cut.summary


def test_bytes_count_each_flow_once_as_the_talker_graph(flows: pd.DataFrame) -> None:
    from flowkit.analysis.graph import talker_graph

    # A flow seen at both ends was counted at each NIC (78.9 MB against the graph's 39.46 MB).
    for kwargs in ({}, {"src": "10.10.0.0/16", "dst": "10.10.0.0/16"}, {"start": "2024-05-01T10:30Z"},
                   {"direction": "inbound"}):
        panel = FilterPanel(flows, draw=False, **kwargs)
        G = talker_graph(panel.value)
        assert panel.summary_numbers["bytes"] == sum(d["bytes"] for _, _, d in G.edges(data=True)), kwargs
    both_ends = filter_flows(flows, src="10.10.0.0/16", dst="10.10.0.0/16")
    counted = both_ends[both_ends["state"].isin(["C", "E"])]
    logged = int(counted["bytes_sent"].sum() + counted["bytes_received"].sum())
    assert FilterPanel(flows, draw=False, src="10.10.0.0/16", dst="10.10.0.0/16").summary_numbers["bytes"] < logged


def test_static_copy_for_html_exports(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, decision="deny")
    bundle = panel._repr_mimebundle_()
    html = bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget where it can be shown
    assert "needs the live notebook" in html and 'data-rows="90"' in html and "decision=deny" in html
    assert html.count("data:image/png;base64,") == 2 and "<script" not in html


def test_export_into_a_flowkit_report_that_writes_html(flows: pd.DataFrame, tmp_path: Path) -> None:
    report_module = pytest.importorskip("flowkit.report")
    report = report_module.Report(title="Panel export", flows=flows)
    panel = FilterPanel(flows, report=report, draw=False, src="192.0.2.0/24")
    panel.export_button.click()
    assert panel.error is None and [f.verdict for f in report.findings] == ["selection"]
    out = report.write(tmp_path / "view.html")
    assert "Filtered view: src=192.0.2.0/24" in Path(out).read_text(encoding="utf-8")


def test_the_panel_has_a_control_for_every_filter_flows_argument() -> None:
    import inspect

    from flowkit.widgets import FILTER_NAMES

    keyword_only = [p.name for p in inspect.signature(filter_flows).parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert list(FILTER_NAMES) == keyword_only
