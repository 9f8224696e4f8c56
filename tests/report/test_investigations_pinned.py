"""investigate(): which investigations run, named as a list or as one string."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from flowkit.inventory import inventory_from_records
from flowkit.report.investigations import investigate, talkers_finding
from flowkit.schema import coerce, empty_frame


@pytest.mark.parametrize("names", [["talkers"], "talkers", " Talkers ,", ("talkers",)])
def test_one_investigation_named_as_a_list_or_a_string(names):
    assert [f.title for f in investigate(empty_frame(), names, progress=False)] == \
        [f.title for f in investigate(empty_frame(), ["talkers"], progress=False)]
    assert len(investigate(empty_frame(), names, progress=False)) == 1


def test_several_investigations_in_one_string_run_in_their_order():
    both = investigate(empty_frame(), "talkers,connectivity", progress=False)
    assert [f.title for f in both] == [f.title for f in investigate(empty_frame(), ["connectivity", "talkers"],
                                                                      progress=False)]
    assert len(both) == 2


def test_an_unknown_name_in_a_string_is_named_whole():
    with pytest.raises(ValueError, match=r"unknown investigation\(s\) \['talker'\]"):
        investigate(empty_frame(), "talker", progress=False)


# -- which investigations run by default, and on which table -------------------------------------------------------
T0 = pd.Timestamp("2024-05-01T10:00:00Z")
A, B, C = "192.0.2.10", "198.51.100.20", "203.0.113.30"


def _row(minute: int, src: str, dst: str, dport: int, *, decision: str = "allow", state: str | None = "E",
         counters: tuple = (1, 100, 1, 50), log_type: str = "vnet", version: int | None = None) -> dict:
    ps, bs, pr, br = counters
    return {"flow_time": T0 + pd.Timedelta(minutes=minute), "src_ip": src, "dst_ip": dst, "src_port": 50000 + minute,
            "dst_port": dport, "protocol": 6, "direction": "outbound", "decision": decision, "state": state,
            "encryption": "NX" if log_type == "vnet" else None, "packets_sent": ps, "bytes_sent": bs,
            "packets_received": pr, "bytes_received": br, "rule": "UserRule_x",
            "acl_id": "acl" if log_type == "vnet" else None, "mac": "000D3A000101", "log_type": log_type,
            "version": version or (4 if log_type == "vnet" else 2), "resource_id": "/SUBSCRIPTIONS/X/FLOWLOGS/FL"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return coerce(pd.DataFrame(rows))


def _vnet() -> pd.DataFrame:
    """Three VNet flows: A -> B (1000 + 500 bytes), A -> C (10 bytes), C -> A denied."""
    return _frame([_row(0, A, B, 443, counters=(1, 1000, 1, 500)), _row(1, A, C, 22, counters=(1, 10, 0, 0)),
                   _row(2, C, A, 3389, decision="deny", state="B", counters=(0, 0, 0, 0))])


def _nsg() -> pd.DataFrame:
    """Two NSG v2 flows: A -> B (also in the VNet log) and A -> C port 80 (not)."""
    return _frame([_row(0, A, B, 443, counters=(1, 1000, 1, 500), log_type="nsg"),
                   _row(5, A, C, 80, counters=(1, 1000, 1, 500), log_type="nsg")])


DENIED, COMPARE = "Denied traffic", "NSG vs VNet flow logs: migration readiness"
ENCRYPTION, TALKERS = "VNet encryption audit", "Top talkers (by ip)"


@pytest.mark.parametrize("flows, kw, titles", [
    pytest.param(_vnet, {}, [DENIED, ENCRYPTION, TALKERS], id="vnet-only"),
    pytest.param(lambda: _vnet().iloc[:1], {}, [DENIED, ENCRYPTION, TALKERS], id="one-vnet-row"),
    pytest.param(_nsg, {}, [DENIED, TALKERS], id="nsg-only"),
    pytest.param(lambda: _nsg().iloc[:1], {}, [DENIED, TALKERS], id="one-nsg-row"),
    pytest.param(lambda: pd.concat([_nsg(), _vnet()], ignore_index=True), {}, [DENIED, COMPARE, ENCRYPTION, TALKERS],
                 id="mixed"),
    pytest.param(_nsg, {"vnet": "vnet"}, [DENIED, COMPARE, ENCRYPTION, TALKERS], id="nsg-flows-vnet-given"),
    pytest.param(_vnet, {"nsg": "nsg"}, [DENIED, COMPARE, ENCRYPTION, TALKERS], id="vnet-flows-nsg-given"),
    pytest.param(_nsg, {"nsg": "nsg"}, [DENIED, TALKERS], id="nsg-flows-nsg-given"),
    pytest.param(_nsg, {"vnet": "nsg"}, [DENIED, TALKERS], id="vnet-given-holds-no-vnet-rows"),
])
def test_default_investigations_follow_the_log_types_present(flows, kw, titles):
    tables = {"vnet": _vnet, "nsg": _nsg}
    found = investigate(flows(), progress=False, **{k: tables[v]() for k, v in kw.items()})
    assert [f.title for f in found] == titles


def test_compare_reads_the_nsg_and_vnet_tables_given():
    (f,) = investigate(_vnet(), ["compare"], nsg=_nsg(), progress=False)
    assert (f.facts["matched"], f.facts["nsg_only"], f.facts["vnet_only"]) == (1, 1, 2)
    (f,) = investigate(_nsg(), ["compare"], vnet=_vnet().iloc[:1], progress=False)
    assert (f.facts["matched"], f.facts["nsg_only"], f.facts["vnet_only"]) == (1, 1, 0)


def test_encryption_audits_the_vnet_table_only_when_flows_hold_no_vnet_rows():
    (f,) = investigate(_nsg(), ["encryption"], vnet=_vnet().iloc[:1], progress=False)
    assert f.facts["flows"] == 1
    mixed = pd.concat([_nsg(), _vnet()], ignore_index=True)
    (f,) = investigate(mixed, ["encryption"], vnet=_vnet().iloc[:1], progress=False)
    assert f.facts["flows"] == 3


def test_connectivity_gives_the_denied_summary_then_one_diagnosis_per_pair():
    found = investigate(_vnet(), ["connectivity"], pairs=[(A, B, 443, None), (C, A, 3389, "tcp")], progress=False)
    assert [(f.title, f.verdict) for f in found] == [
        (DENIED, "denied"), ("Connectivity 192.0.2.10 -> 198.51.100.20 port 443", "ok"),
        ("Connectivity 203.0.113.30 -> 192.0.2.10 TCP port 3389", "denied")]


class _Bar:
    """Stands in for the progress bar: records what it was asked to show."""

    made: list["_Bar"] = []

    def __init__(self, total, desc, *, unit, enabled):
        self.total, self.desc, self.unit, self.enabled, self.n = total, desc, unit, enabled, 0
        _Bar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, k):
        self.n += k


@pytest.mark.parametrize("names, pairs, steps", [
    pytest.param(["connectivity", "talkers"], [], 2, id="no-pairs"),
    pytest.param(["connectivity", "talkers"], [(A, B, 443, None), (C, A, None, None)], 4, id="two-pairs"),
    pytest.param(["talkers"], [(A, B, 443, None)], 1, id="pairs-without-connectivity"),
    pytest.param(["compare", "encryption"], [], 2, id="compare-encryption"),
])
def test_the_progress_bar_counts_one_step_per_finding(monkeypatch, names, pairs, steps):
    _Bar.made = []
    monkeypatch.setattr("flowkit.report.investigations.progress_bar", _Bar)
    investigate(_vnet(), names, pairs=pairs, nsg=_nsg(), figures=False, progress=True)
    (bar,) = _Bar.made
    assert (bar.total, bar.n, bar.desc, bar.unit, bar.enabled) == (steps, steps, "flowkit: investigating", "step", True)


def test_investigate_draws_figures_unless_told_not_to():
    (f,) = investigate(_vnet(), ["talkers"], progress=False)
    assert list(f.figures) == ["talker_graph"]
    (f,) = investigate(_vnet(), ["talkers"], figures=False, progress=False)
    assert f.figures == {}


def test_the_module_exports_its_public_names():
    from flowkit.report import investigations

    assert investigations.__all__ == ["investigate", "talkers_finding", "INVESTIGATIONS", "Pair"]
    assert all(hasattr(investigations, name) for name in investigations.__all__)
    assert investigations.INVESTIGATIONS == ("connectivity", "compare", "encryption", "talkers")


# -- talkers_finding ------------------------------------------------------------------------------------------------
def test_talkers_finding_summary_facts_and_denied_ranking():
    f = talkers_finding(_vnet())
    assert (f.title, f.verdict, f.severity) == ("Top talkers (by ip)", "top-talkers", "info")
    assert f.summary == ("3 node(s) and 3 talker pair(s); the busiest is 192.0.2.10 with 1,510 byte(s) sent and "
                         "received. 1 pair(s) had denied flows.")
    assert f.facts == {"nodes": 3, "edges": 3, "denied_edges": 1, "top_by_bytes": [A, B, C]}
    assert list(f.evidence) == ["by_bytes", "by_flows", "by_denied_flows"]
    assert f.evidence["by_bytes"]["total"].tolist() == [1510, 1500, 10]
    assert f.evidence["by_flows"]["node"].tolist() == [A, C, B]
    denied = f.evidence["by_denied_flows"]  # the node with no denied flow (B) is left out
    assert list(denied.columns) == ["node", "vm", "kind", "out", "in", "total", "peers"]
    assert denied[["node", "total"]].to_dict("records") == [{"node": A, "total": 1}, {"node": C, "total": 1}]
    assert denied.index.tolist() == [0, 1]
    ax = f.figures["talker_graph"].axes[0]
    assert ax.get_title() == "Talkers by ip"


def test_talkers_finding_names_the_vm_of_the_busiest_node():
    inv = inventory_from_records([{"mac": "000D3A000101", "ip": A, "vm": "web-01"}])
    f = talkers_finding(_vnet(), inventory=inv, figures=False)
    assert f.summary.startswith("3 node(s) and 3 talker pair(s); the busiest is 192.0.2.10 (web-01) with 1,510 byte(s)")


def test_talkers_finding_without_denied_flows_or_byte_counts():
    v1 = _frame([_row(0, A, B, 443, counters=(None, None, None, None), log_type="nsg", version=1, state=None)])
    f = talkers_finding(v1, figures=False)
    assert f.summary == ("2 node(s) and 1 talker pair(s); the logs give no byte counts (NSG v1, or NSG v2 flows "
                         "seen only beginning). 0 pair(s) had denied flows.")
    assert list(f.evidence) == ["by_bytes", "by_flows"] and f.facts["denied_edges"] == 0


def test_talkers_finding_of_no_flows():
    f = talkers_finding(empty_frame())
    assert (f.verdict, f.summary, f.figures) == ("none", "No flows: no talkers.", {})
    assert f.facts == {"nodes": 0, "edges": 0, "denied_edges": 0, "top_by_bytes": []}


def test_talkers_finding_lists_ten_and_draws_the_busiest_sixty():
    many = _frame([_row(i, A, f"198.51.100.{i + 1}", 443, counters=(1, 100 + i, 1, 0)) for i in range(60)])
    f = talkers_finding(many)
    assert f.facts["nodes"] == 61 and len(f.evidence["by_bytes"]) == 10 and len(f.evidence["by_flows"]) == 10
    ax = f.figures["talker_graph"].axes[0]
    assert ax.get_title() == "Talkers by ip (busiest 60)"
    assert [t.get_text() for t in ax.texts if "labelled" in t.get_text()] == ["60 nodes, 59 edges; 20 busiest labelled"]
    f = talkers_finding(many.iloc[:59], n=3)  # 60 nodes: all drawn
    assert f.facts["nodes"] == 60 and len(f.evidence["by_bytes"]) == 3
    assert f.figures["talker_graph"].axes[0].get_title() == "Talkers by ip"


def test_talkers_finding_by_subnet():
    f = talkers_finding(_vnet(), by="subnet")
    assert f.title == "Top talkers (by subnet)"
    assert f.figures["talker_graph"].axes[0].get_title() == "Talkers by subnet"


def test_an_unknown_name_is_refused_with_the_names_to_choose_from():
    with pytest.raises(ValueError) as err:
        investigate(empty_frame(), ["talkers", "Flows"], progress=False)
    assert str(err.value) == ("unknown investigation(s) ['flows']; choose from "
                              "['connectivity', 'compare', 'encryption', 'talkers']")


def test_talkers_finding_draws_the_busiest_nodes_by_bytes(monkeypatch):
    import flowkit.analysis.draw as draw

    drawn = []
    real = draw.draw_talker_graph
    monkeypatch.setattr(draw, "draw_talker_graph", lambda H, **kw: drawn.append(set(H.nodes)) or real(H, **kw))
    many = _frame([_row(i, A, f"198.51.100.{i + 1}", 443, counters=(1, 100 + i, 1, 0)) for i in range(60)])
    talkers_finding(many)
    (nodes,) = drawn
    assert len(nodes) == 60 and "198.51.100.1" not in nodes and {A, "198.51.100.9", "198.51.100.60"} <= nodes


def test_top_talker_rankings_say_how_many_nodes_they_leave_out(samples_dir):
    # The rankings show 10 rows: a reader could not tell they were the top 10 of 30.
    from flowkit.analysis.graph import talker_graph
    from flowkit.read import read_flow_logs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scenario folder also holds expected.json
        flows = read_flow_logs(str(samples_dir / "connectivity"))
    nodes = talker_graph(flows).number_of_nodes()
    f = talkers_finding(flows, figures=False)
    assert nodes == 30 and len(f.evidence["by_bytes"]) == 10
    assert f.notes == ["The rankings list the busiest 10 of 30 nodes; flowkit.talker_graph(flows) holds them all."]
    assert talkers_finding(flows, n=30, figures=False).notes == []


def test_talkers_finding_says_why_inbound_tcp_under_a_user_rule_gives_no_byte_counts():
    """NSG v2 logs only inbound HTTPS a user rule allows: its 0,0,0,0 are counts never recorded (the
    graph's bytes are NaN), so the summary must not put the missing counts down to NSG v1 or B tuples."""
    rows = [dict(_row(m, A, B, 443, counters=c, log_type="nsg", state=st), src_port=50000, direction="inbound",
                 rule="UserRule_AllowHttpsInbound")
            for m, st, c in ((0, "B", (None, None, None, None)), (1, "C", (0, 0, 0, 0)))]
    f = talkers_finding(_frame(rows), figures=False)
    assert f.summary == ("2 node(s) and 1 talker pair(s); the logs give no byte counts (NSG v1, NSG v2 flows "
                         "seen only beginning, or inbound TCP a user-defined NSG rule allows, whose counts NSG "
                         "flow logs do not record). 0 pair(s) had denied flows.")
