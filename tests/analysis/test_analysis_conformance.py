"""Real flow logs written by others (../shared/conformance) go through every investigation."""

from __future__ import annotations

import json

import networkx as nx
import pytest

import flowkit
from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.diagnose import diagnose
from flowkit.analysis.draw import draw_talker_graph
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph, to_gexf, to_graphml, top_talkers
from flowkit.analysis.sessions import flow_sessions, session_summary
from flowkit.filters import filter_flows
from flowkit.inventory import Inventory, enrich


def _json(finding) -> None:
    json.dumps(finding.to_dict())
    assert finding.title in finding._repr_html_() or "&" in finding._repr_html_()


def test_row_counts(conformance_flows):
    # 1187 + 23 + 19 + 10 + 85 tuples in the five files (README.md there).
    assert len(conformance_flows) == 1187 + 23 + 19 + 10 + 85


def test_sessions(conformance_flows):
    s = flow_sessions(conformance_flows)
    assert int(s["tuples"].sum()) == len(conformance_flows)
    assert set(s["state_reached"].astype(str)) <= {"denied", "no-reply", "completed", "ongoing", "unknown"}
    _json(session_summary(conformance_flows))


@pytest.mark.parametrize("by", ["ip", "mac", "subnet"])
def test_graph(conformance_flows, by, tmp_path):
    G = talker_graph(conformance_flows, by=by)
    assert sum(d["tuples"] for _, _, d in G.edges(data=True)) == len(conformance_flows)
    nx.read_graphml(to_graphml(G, tmp_path / "g.graphml"))
    nx.read_gexf(to_gexf(G, tmp_path / "g.gexf"))
    assert len(top_talkers(G, 5)) == 5
    draw_talker_graph(G)


def test_diagnose_every_verdict_path_runs(conformance_flows):
    pairs = conformance_flows[["src_ip", "dst_ip", "dst_port"]].astype(str).drop_duplicates().head(12)
    verdicts = set()
    for src, dst, port in pairs.itertuples(index=False):
        f = diagnose(conformance_flows, src, dst, port=int(port))
        verdicts.add(f.verdict)
        assert f.facts["evidence_rows"] > 0
        _json(f)
    assert verdicts <= {"denied", "encryption-dropped", "lost-in-transit", "no-reply", "ok"}
    _json(diagnose(conformance_flows, "192.0.2.1", "198.51.100.1"))


def test_denied_encryption_compare(conformance_flows):
    d = denied_summary(conformance_flows)
    assert d.facts["denied_tuples"] == int(((conformance_flows["decision"] == "deny")
                                            | (conformance_flows["state"] == "D")).sum())
    _json(d)
    e = encryption_audit(conformance_flows)
    assert e.facts["flows"] > 0
    _json(e)
    c = compare_nsg_vnet(conformance_flows)
    assert c.verdict == "no-overlap"  # the NSG and VNet samples are years apart
    _json(c)


def test_filters_and_enrich(conformance_flows):
    assert len(filter_flows(conformance_flows, log_type="vnet")) == int((conformance_flows["log_type"] == "vnet").sum())
    assert len(enrich(conformance_flows, Inventory.empty())) == len(conformance_flows)


@pytest.mark.parametrize("name, rule", [
    ("vnet_elastic-sample-testdata.json", "BlockHighRiskTCPPortsFromInternet"),
    ("vnet_msdocs-single-record.json", "BlockHighRiskTCPPortsFromInternet_456b4993-6e57-4e46-aa4d-81767afff09c"),
])
def test_a_deny_by_a_security_admin_rule_in_microsofts_samples_points_to_virtual_network_manager(
        conformance_dir, name, rule):
    """Microsoft's VNet samples name the AVNM rule bare in one version and NAME_GUID in the other."""
    flows = flowkit.read_flow_logs(conformance_dir / name)
    denied = flows[(flows["rule"] == rule) & (flows["state"] == "D")].iloc[0]
    f = diagnose(flows, denied["src_ip"], denied["dst_ip"], int(denied["dst_port"]))
    assert (f.facts["verdict"], f.facts["rule"], f.facts["where"]) == ("denied", rule, "destination-inbound")
    assert (f"by rule {rule} (aclID {denied['acl_id']}), a security admin rule of Azure Virtual Network "
            "Manager (evaluated before the NSGs: look for it there, not in an NSG)") in f.facts["reason"]
