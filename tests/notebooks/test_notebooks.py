"""The curated notebooks: thin and clean as committed, and reaching each scenario's documented answer."""

from __future__ import annotations

import ast
import json
import re

import pytest

import flowkit
from nbrun import EXECUTED, NOTEBOOKS, SAMPLES, displayed

NAMES = ("00-getting-started", "01-connectivity-failures", "02-nsg-vs-vnet", "03-encryption-audit")
SCENARIO = {"00-getting-started": "connectivity", "01-connectivity-failures": "connectivity",
            "02-nsg-vs-vnet": "nsg-vs-vnet", "03-encryption-audit": "encryption"}
#: The samples: FLOWKIT_DATA unset (it names the user's logs), no inventory of the user's.
ENV: dict[str, str | None] = {"FLOWKIT_DATA": None, "FLOWKIT_INVENTORY": None}
NSG, VNET = "insights-logs-networksecuritygroupflowevent", "insights-logs-flowlogflowevent"
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
    # FLOWKIT_DATA is the user's logs, read as they are; the scenario is only the default without it.
    assert 'os.environ.get("FLOWKIT_DATA") or sample' in source
    assert f'sample = "../data-samples/{SCENARIO[name]}"' in source
    assert "os.path.join(os.environ" not in source and 'nics.csv"' not in source  # no sample inventory here
    markdown = sum(len("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert markdown > 1000, "the reasoning belongs in markdown cells"


PARAMETERS = {"00-getting-started": ["sample", "source", "inventory_path", "start", "end"],
              "01-connectivity-failures": ["sample", "source", "inventory_path", "src", "dst", "port", "protocol",
                                           "start", "end"],
              "02-nsg-vs-vnet": ["sample", "source", "inventory_path", "nic", "start", "end"],
              "03-encryption-audit": ["sample", "source", "inventory_path", "start", "end"]}


@pytest.mark.parametrize("name", NAMES)
def test_papermill_reads_every_parameter_without_a_warning(name: str, caplog) -> None:
    # papermill parses the parameters cell (for -p and --help-notebook); a second "=" on a line, even
    # in a comment, made it warn "Unable to parse line 2" on every run and drop that parameter's help
    import papermill

    with caplog.at_level("WARNING", logger="papermill"):
        found = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert [r.getMessage() for r in caplog.records] == []
    assert list(found) == PARAMETERS[name]


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
    # FLOWKIT_DATA unset: the default "../data-samples/connectivity" is read from notebooks/.
    got = notebook_runner("00-getting-started", {
        "load": "load.to_dict()", "consistent": "load.consistent", "overview": "overview",
        "panel": "panel.summary_numbers", "panel_rows": "len(panel.value)",
        "talkers": "talkers.to_dict('records')", "vms": "sorted(v for v in talkers['vm'] if v)",
        "graph_bytes": "sum(d['bytes'] for _, _, d in graph.edges(data=True))",
    }, env=ENV)
    want = expected("connectivity")["totals"]
    load = got["load"]
    assert (load["files"], load["records"], load["tuples"], load["rows"], load["quarantined"]) == (
        want["files"], want["records"], want["tuples"], want["tuples"], 0)
    assert got["consistent"] is True
    assert load["start"] >= "2024-05-01T10:00:00" and load["end"] < "2024-05-01T12:00:00"
    assert got["overview"]["flows"] == want["flows"]
    assert got["overview"]["denied rows"] == want["by_log_type"]["vnet"]["tuples_by_state"]["D"]
    assert got["overview"]["copies of a tuple"] == 0  # the sample holds none (tests/analysis/test_analysis_copies.py)
    assert got["panel"] == {"rows": want["tuples"], "flows": want["flows"], "bytes": got["panel"]["bytes"],
                            "denied": want["by_log_type"]["vnet"]["tuples_by_state"]["D"]}
    assert got["panel_rows"] == want["tuples"]
    assert set(got["vms"]) == {"web-01", "web-02", "app-01", "app-02", "db-01", "cache-01"}
    # The panel counts each flow's bytes once, as the talker graph above (and the text) does.
    assert got["panel"]["bytes"] == got["graph_bytes"]
    # The text tells the reader to check `consistent`: the notebook shows it.
    consistent = [text for text in displayed(got[EXECUTED]) if "'consistent'" in text]
    assert consistent and "True" in consistent[0]


@slow
def test_01_connectivity_default_pair_is_denied_with_evidence(notebook_runner, expected) -> None:
    got = notebook_runner("01-connectivity-failures", {
        "verdict": "verdict", "facts": "finding.facts",
        "observed": "finding.evidence['observations'].groupby(['mac', 'direction', 'decision'], observed=True)"
                    "[['tuples', 'packets_sent', 'packets_received']].sum().reset_index().to_dict('records')",
        "session_states": "sessions.groupby('mac', observed=True)['state_reached'].agg(lambda s: sorted(set(s))).to_dict()",
        "denied": "denied.facts", "panel": "panel.summary_numbers", "panel_filters": "panel.filters",
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
    # The protocol parameter reaches the panel (it was dropped: the panel showed every protocol).
    assert got["panel_filters"]["protocol"] == 6


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
        "report": "[f.verdict for f in findings.findings]",
        "added": "[panel.export().title, [f.verdict for f in findings.findings]]",
        "nic_label": "panel.controls['mac'].label",
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
    # The panel adds its view to the notebook's findings, which hold the reconciliation.
    assert got["report"] == ["ready"]
    assert got["added"] == ["Filtered view: mac=000D3A000201", ["ready", "selection"]]
    assert got["nic_label"] == "000D3A000201 (app-01)"  # the sample's inventory names the VMs


@slow
def test_03_encryption_audit_reaches_the_documented_answer(notebook_runner, expected) -> None:
    got = notebook_runner("03-encryption-audit", {
        "coverage": "coverage", "by_state": "by_state", "unsupported": "unsupported",
        "dropped": "len(dropped)", "dropped_tuples": "panel.summary_numbers['rows']",
        "first_drop": "flows.loc[flows['encryption'] == 'NX_NOT_ACCEPTED', 'flow_time'].min()",
        "pairs": "audit.evidence['vm_pairs'][['src', 'dst', 'encrypted_share']].to_dict('records')",
        "report": "[f.verdict for f in findings.findings]",
        "added": "[panel.export().title, [f.verdict for f in findings.findings]]",
        "audit_verdict": "audit.verdict",
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
    # The panel adds its view to the notebook's findings, which hold the audit.
    assert got["report"] == [got["audit_verdict"]]
    assert got["added"] == ["Filtered view: encryption=NX_NOT_ACCEPTED", [got["audit_verdict"], "selection"]]



# -- the user's logs: FLOWKIT_DATA is read as it is (it was taken for a folder of scenarios) ----------

@slow
def test_00_reads_the_users_logs_without_the_sample_inventory(notebook_runner, user_logs, expected) -> None:
    logs = user_logs("connectivity", VNET)
    got = notebook_runner("00-getting-started", {
        "source": "source", "inventory": "inventory is None", "rows": "len(flows)",
        "vms": "sorted(v for v in talkers['vm'] if v)", "panel_rows": "len(panel.value)",
    }, env={"FLOWKIT_DATA": str(logs), "FLOWKIT_INVENTORY": None})
    assert got["source"] == str(logs)
    assert got["rows"] == got["panel_rows"] == expected("connectivity")["totals"]["tuples"]
    assert got["inventory"] is True and got["vms"] == []  # the sample's VM names never label the user's addresses


@slow
def test_00_names_vms_from_the_users_inventory(notebook_runner, user_logs) -> None:
    logs = user_logs("connectivity", VNET)
    got = notebook_runner("00-getting-started", {"vms": "sorted(v for v in talkers['vm'] if v)"},
                          env={"FLOWKIT_DATA": str(logs), "FLOWKIT_INVENTORY": str(SAMPLES / "connectivity" / "nics.json")})
    assert "db-01" in got["vms"]


@slow
def test_00_papermill_source_does_not_take_the_sample_inventory(notebook_runner, user_logs) -> None:
    logs = user_logs("connectivity", VNET)
    got = notebook_runner("00-getting-started", {"inventory": "inventory is None"},
                          parameters={"source": str(logs)}, env=ENV)
    assert got["inventory"] is True


@slow
def test_01_reads_the_users_logs(notebook_runner, user_logs, expected) -> None:
    logs = user_logs("connectivity", VNET)
    case = next(d for d in expected("connectivity")["diagnoses"] if d["verdict"] == "denied")
    got = notebook_runner("01-connectivity-failures", {"verdict": "verdict", "inventory": "inventory is None",
                                                       "panel": "panel.summary_numbers"},
                          env={"FLOWKIT_DATA": str(logs), "FLOWKIT_INVENTORY": None})
    assert got["verdict"] == "denied" and got["inventory"] is True
    assert got["panel"]["flows"] == case["flows"]


@slow
@pytest.mark.parametrize("layout", [pytest.param("containers", id="the-two-containers"),
                                    pytest.param("nested", id="any-folders-split-by-log-type")])
def test_02_reads_the_users_nsg_and_vnet_logs(notebook_runner, user_logs, expected, layout: str) -> None:
    logs = user_logs("nsg-vs-vnet", NSG, VNET)
    if layout == "nested":  # not the container layout: the rows are still split by their log type
        (logs / "old").mkdir()
        (logs / "new").mkdir()
        (logs / NSG).rename(logs / "old" / "nsg")
        (logs / VNET).rename(logs / "new" / "vnet")
    got = notebook_runner("02-nsg-vs-vnet", {"verdict": "verdict", "facts": "comparison.facts", "nic": "nic",
                                             "panel_rows": "len(panel.value)", "rows": "len(flows)"},
                          env={"FLOWKIT_DATA": str(logs)})
    totals = expected("nsg-vs-vnet")["totals"]
    assert got["verdict"] == "ready" and got["facts"]["explained"] == totals["by_cause"]
    assert got["facts"]["matched"] == totals["by_class"]["matched"]
    # The sample's NIC is only the default with the sample: on the user's logs the panel covers every NIC.
    assert got["nic"] is None and got["panel_rows"] == got["rows"]


@slow
def test_02_with_nothing_to_compare_does_not_crash(notebook_runner, user_logs) -> None:
    logs = user_logs("connectivity", VNET)  # VNet logs only: verdict no-overlap, no differences table
    got = notebook_runner("02-nsg-vs-vnet", {"verdict": "verdict", "panel_rows": "len(panel.value)",
                                             "rows": "len(flows)", "panel_error": "panel.error"},
                          env={"FLOWKIT_DATA": str(logs)})
    assert got["verdict"] == "no-overlap"
    assert got["panel_rows"] == got["rows"] and got["panel_error"] is None


@slow
def test_03_with_nothing_dropped_shows_an_empty_panel_with_a_note(notebook_runner, user_logs) -> None:
    logs = user_logs("connectivity", VNET)  # VNet logs in which nothing was dropped for encryption
    got = notebook_runner("03-encryption-audit", {"verdict": "audit.verdict", "dropped": "len(dropped)",
                                                  "panel_rows": "len(panel.value)", "note": "panel.message.value",
                                                  "inventory": "inventory is None"},
                          env={"FLOWKIT_DATA": str(logs), "FLOWKIT_INVENTORY": None})
    assert got["dropped"] == 0 and got["panel_rows"] == 0 and got["inventory"] is True
    assert "NX_NOT_ACCEPTED" in got["note"] and "does not occur in these flows" in got["note"]


@slow
def test_03_without_vnet_rows_does_not_crash(notebook_runner, user_logs) -> None:
    logs = user_logs("nsg-vs-vnet", NSG)  # NSG flow logs only: no encryption state at all
    got = notebook_runner("03-encryption-audit", {"verdict": "audit.verdict", "dropped": "len(dropped)",
                                                  "panel_rows": "len(panel.value)"},
                          env={"FLOWKIT_DATA": str(logs), "FLOWKIT_INVENTORY": None})
    assert got["verdict"] == "no-vnet-data" and got["dropped"] == 0 and got["panel_rows"] == 0
