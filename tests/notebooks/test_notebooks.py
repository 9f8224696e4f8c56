"""The curated notebooks: thin and clean as committed, and reaching each scenario's documented answer."""

from __future__ import annotations

import ast
import json
import re

import pytest

import flowkit
from nbrun import NOTEBOOKS, SAMPLES

NAMES = ("00-getting-started", "01-connectivity-failures", "02-nsg-vs-vnet", "03-encryption-audit")
SCENARIO = {"00-getting-started": "connectivity", "01-connectivity-failures": "connectivity",
            "02-nsg-vs-vnet": "nsg-vs-vnet", "03-encryption-audit": "encryption"}
ENV = {"FLOWKIT_DATA": str(SAMPLES)}
slow = pytest.mark.slow


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _code(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_thin_and_clean(name: str) -> None:
    nb = _load(name)
    code = _code(nb)
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells), "strip the outputs"
    assert not any("def " in s or "class " in s for s in code), "no def/class in a cell: move logic into flowkit"
    assert sum(len(s.splitlines()) for s in code) <= 60
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    source = "".join(params[0]["source"])
    assert 'os.environ.get("FLOWKIT_DATA", "../data-samples")' in source and SCENARIO[name] in source
    markdown = sum(len("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert markdown > 1000, "the reasoning belongs in markdown cells"


@pytest.mark.parametrize("name", NAMES)
def test_calls_only_the_public_api(name: str) -> None:
    code = "\n".join(s for s in _code(_load(name)))
    python = "\n".join(line for line in code.splitlines() if not line.startswith("%"))
    tree = ast.parse(python)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"os", "flowkit"}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    used = set(re.findall(r"\bflowkit\.(\w+)", python))
    missing = sorted(u for u in used if u not in getattr(flowkit, "__all__", ()) or not hasattr(flowkit, u))
    assert not missing, f"flowkit must export {missing} (flowkit/__init__.py __all__)"


@slow
def test_00_getting_started(notebook_runner, expected) -> None:
    # FLOWKIT_DATA unset: the default "../data-samples" is read from notebooks/.
    got = notebook_runner("00-getting-started", {
        "load": "load.to_dict()", "consistent": "load.consistent", "overview": "overview",
        "panel": "panel.summary_numbers", "panel_rows": "len(panel.value)",
        "talkers": "talkers.to_dict('records')", "vms": "sorted(v for v in talkers['vm'] if v)",
    }, env={"FLOWKIT_DATA": None})
    want = expected("connectivity")["totals"]
    load = got["load"]
    assert (load["files"], load["records"], load["tuples"], load["rows"], load["quarantined"]) == (
        want["files"], want["records"], want["tuples"], want["tuples"], 0)
    assert got["consistent"] is True
    assert load["start"] >= "2024-05-01T10:00:00" and load["end"] < "2024-05-01T12:00:00"
    assert got["overview"]["flows"] == want["flows"]
    assert got["overview"]["denied rows"] == want["by_log_type"]["vnet"]["tuples_by_state"]["D"]
    assert got["panel"] == {"rows": want["tuples"], "flows": want["flows"], "bytes": got["panel"]["bytes"],
                            "denied": want["by_log_type"]["vnet"]["tuples_by_state"]["D"]}
    assert got["panel_rows"] == want["tuples"]
    assert set(got["vms"]) == {"web-01", "web-02", "app-01", "app-02", "db-01", "cache-01"}


@slow
def test_01_connectivity_default_pair_is_denied_with_evidence(notebook_runner, expected) -> None:
    got = notebook_runner("01-connectivity-failures", {
        "verdict": "verdict", "facts": "finding.facts",
        "observed": "finding.evidence['observations'].groupby(['mac', 'direction', 'decision'], observed=True)"
                    "[['tuples', 'packets_sent', 'packets_received']].sum().reset_index().to_dict('records')",
        "session_states": "sessions.groupby('mac', observed=True)['state_reached'].agg(lambda s: sorted(set(s))).to_dict()",
        "denied": "denied.facts", "panel": "panel.summary_numbers",
        "report": "[f.verdict for f in findings.findings]",
    }, env=ENV)
    want = expected("connectivity")
    case = next(d for d in want["diagnoses"] if d["verdict"] == "denied")
    assert got["verdict"] == "denied"
    assert {k: got["facts"][k] for k in ("where", "rule", "acl_id", "attempts")} == {
        "where": case["where"], "rule": case["rule"], "acl_id": case["acl_id"], "attempts": case["flows"]}
    observed = {(o["mac"], o["direction"], o["decision"]): (o["tuples"], o["packets_sent"], o["packets_received"])
                for o in got["observed"]}
    assert observed == {(o["mac"], o["direction"], o["decision"]): (o["tuples"], o["packets_sent"], o["packets_received"])
                        for o in case["observed"]}
    assert got["session_states"] == {"000D3A000101": ["no-reply"], "000D3A000301": ["denied"]}
    # Denied overall: the 30 attempts above plus 60 scanner attempts in 16 (source, port) groups.
    assert got["denied"]["attempts"] == 30 + 60 and got["denied"]["groups"] == 1 + 16
    assert [(s["src_ip"], s["dst_ip"], s["dst_port"], s["attempts"]) for s in got["denied"]["storms"]] == [
        ("192.0.2.66", "10.10.1.4", 22, 40)]
    assert got["panel"]["flows"] == case["flows"]
    assert got["panel"]["rows"] == sum(o["tuples"] for o in case["observed"])
    assert got["report"] == ["denied", "retry-storm"]


@slow
@pytest.mark.parametrize("verdict", ["lost-in-transit", "no-reply", "not-observed"])
def test_01_connectivity_other_pairs(notebook_runner, expected, verdict: str) -> None:
    case = next(d for d in expected("connectivity")["diagnoses"] if d["verdict"] == verdict)
    got = notebook_runner("01-connectivity-failures", {"verdict": "verdict", "where": "finding.facts['where']",
                                                       "panel": "panel.summary_numbers"},
                          parameters={"src": case["src"], "dst": case["dst"], "port": case["port"]}, env=ENV)
    assert got["verdict"] == verdict
    assert got["where"] == (case["where"] or None)
    assert got["panel"]["flows"] == case["flows"]


@slow
def test_02_nsg_vs_vnet_reaches_the_documented_reconciliation(notebook_runner, expected) -> None:
    got = notebook_runner("02-nsg-vs-vnet", {
        "verdict": "verdict", "coverage": "coverage", "classes": "classes", "facts": "comparison.facts",
        "nsgs_of_nic": "sorted(set(flowkit.filter_flows(flows, mac=nic, log_type='nsg')['resource_id']"
                       ".astype(str).str.rsplit('/', n=1).str[-1]))",
    }, env=ENV)
    totals = expected("nsg-vs-vnet")["totals"]
    assert got["verdict"] == "ready"
    assert got["classes"] == {"matched": totals["by_class"]["matched"], "nsg_only": totals["by_class"]["nsg-only"],
                              "vnet_only": totals["by_class"]["vnet-only"],
                              "outside_window": totals["by_class"]["outside-window"]}
    assert got["facts"]["explained"] == totals["by_cause"]
    assert got["facts"]["decision_mismatch"] == totals["decision_mismatch_keys"]
    assert got["facts"]["counter_mismatch"] == totals["counter_mismatch_keys"]
    matched, nsg_only = totals["by_class"]["matched"], totals["by_class"]["nsg-only"]
    assert got["coverage"] == pytest.approx(matched / (matched + nsg_only))
    assert got["nsgs_of_nic"] == ["NSG-NIC-APP-01", "NSG-SNET-APP"]


@slow
def test_03_encryption_audit_reaches_the_documented_answer(notebook_runner, expected) -> None:
    got = notebook_runner("03-encryption-audit", {
        "coverage": "coverage", "by_state": "by_state", "unsupported": "unsupported",
        "dropped": "len(dropped)", "dropped_tuples": "panel.summary_numbers['rows']",
        "first_drop": "flows.loc[flows['encryption'] == 'NX_NOT_ACCEPTED', 'flow_time'].min()",
        "pairs": "audit.evidence['vm_pairs'][['src', 'dst', 'encrypted_share']].to_dict('records')",
    }, env=ENV)
    want = expected("encryption")
    totals = want["totals"]
    assert got["by_state"] == totals["flows_by_encryption"]
    assert got["coverage"] == pytest.approx(totals["flows_by_encryption"]["X"] / totals["flows"])
    assert got["unsupported"] == want["unsupported_macs"]
    assert got["dropped"] == want["dropped"]["flows"]
    assert got["dropped_tuples"] == want["dropped"]["tuples"] == totals["tuples_by_encryption"]["NX_NOT_ACCEPTED"]
    assert got["first_drop"] == want["dropped"]["first"].replace(".000Z", "Z")
    pairs = {(p["src"], p["dst"]): p["encrypted_share"] for p in got["pairs"]}
    assert pairs[("legacy-01", "sec-db-01")] == 0.0 and pairs[("sec-app-01", "sec-db-01")] == 1.0
    assert pairs[("sec-app-01", "sec-app-02")] == 0.0  # NX_LOCAL_DST: same host

