"""Every verdict, cause and encryption state of the data-samples scenarios, against the
ground truth the generator wrote (expected.json)."""

from __future__ import annotations

import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.diagnose import diagnose
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.sessions import flow_sessions
from flowkit.inventory import read_inventory

PROTO = {"TCP": 6, "UDP": 17}


# --- (a) connectivity ------------------------------------------------------------------

def test_every_connectivity_diagnosis_matches_ground_truth(connectivity):
    flows, expected, path = connectivity
    inventory = read_inventory(path / "nics.json")
    wrong = []
    for case in expected["diagnoses"]:
        f = diagnose(flows, case["src"], case["dst"], port=case["port"], protocol=case["protocol"],
                     inventory=inventory)
        got = {k: f.facts[k] for k in ("verdict", "rule", "acl_id", "where")}
        want = {k: case[k] for k in ("verdict", "rule", "acl_id", "where")}
        tuples = sum(o["tuples"] for o in case["observed"])
        if got != want or f.facts["evidence_rows"] != tuples:
            wrong.append((case["src"], case["dst"], case["port"], got, want, f.facts["evidence_rows"], tuples))
    assert wrong == []
    assert len(expected["diagnoses"]) == 38


@pytest.mark.parametrize("src, dst, port, verdict, where", [
    pytest.param("10.10.1.4", "10.10.3.4", 1433, "denied", "destination-inbound", id="denied"),
    pytest.param("10.10.2.4", "10.10.3.5", 6379, "lost-in-transit", "in-transit", id="lost-in-transit"),
    pytest.param("10.10.1.5", "10.10.2.5", 8080, "no-reply", "destination", id="no-reply"),
    pytest.param("10.10.1.4", "10.10.2.4", 8080, "ok", None, id="ok"),
    pytest.param("10.10.1.4", "198.51.100.10", 443, "ok", None, id="ok-internet-end-not-logged"),
    pytest.param("10.10.1.4", "10.10.9.9", 443, "not-observed", None, id="not-observed"),
])
def test_scenarios_md_diagnoses(connectivity, src, dst, port, verdict, where):
    flows, _, _ = connectivity
    f = diagnose(flows, src, dst, port=port)
    assert (f.verdict, f.facts["where"]) == (verdict, where)


def test_denied_names_rule_and_nsg(connectivity):
    flows, expected, path = connectivity
    f = diagnose(flows, "10.10.1.4", "10.10.3.4", port=1433, inventory=read_inventory(path / "nics.csv"))
    assert f.facts["rule"] == "UserRule_DenyWebToSql"
    assert f.facts["nsg"] == "nsg-snet-data"
    assert f.facts["attempts"] == 30
    assert f.severity == "high"
    assert "web-01" in f.summary and "db-01" in f.summary


def test_not_observed_lists_logged_macs(connectivity):
    flows, _, _ = connectivity
    f = diagnose(flows, "10.10.1.4", "10.10.9.9", port=443)
    assert f.facts["logged_macs"] == ["000D3A000101", "000D3A000102", "000D3A000201", "000D3A000202",
                                      "000D3A000301", "000D3A000302"]
    assert f.facts["evidence_rows"] == 0


def test_retry_storm_flagged(connectivity):
    flows, expected, _ = connectivity
    f = denied_summary(flows)
    table = f.evidence["denied"]
    storms = table[table["retry_storm"]]
    assert storms[["src_ip", "dst_ip", "dst_port"]].values.tolist() == [["192.0.2.66", "10.10.1.4", 22]]
    assert int(storms["attempts"].iloc[0]) == 40
    assert int(storms["max_in_window"].iloc[0]) == 40
    denied_tuples = expected["totals"]["by_log_type"]["vnet"]["tuples_by_state"]["D"]
    assert f.facts["denied_tuples"] == denied_tuples == 90
    assert f.facts["attempts"] == 90
    web_sql = table[(table["src_ip"] == "10.10.1.4") & (table["dst_port"] == 1433)]
    assert (int(web_sql["attempts"].iloc[0]), bool(web_sql["retry_storm"].iloc[0])) == (30, False)


def test_connectivity_sessions_count_flows(connectivity):
    flows, expected, _ = connectivity
    sessions = flow_sessions(flows)
    # One session per flow per observing NIC: each expected flow is seen by 1 or 2 NICs.
    per_flow = {(f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"]) for f in expected["flows"]}
    keys = set(zip(sessions["src_ip"], sessions["src_port"].astype(int), sessions["dst_ip"],
                   sessions["dst_port"].astype(int)))
    assert keys == per_flow
    assert len(per_flow) == expected["totals"]["flows"] == 247
    assert int(sessions["tuples"].sum()) == expected["totals"]["tuples"]


# --- (b) nsg-vs-vnet -------------------------------------------------------------------

def test_compare_totals_match_ground_truth(nsg_vs_vnet):
    nsg, vnet, expected, _ = nsg_vs_vnet
    f = compare_nsg_vnet(nsg, vnet, figures=False)
    totals = expected["totals"]
    assert {"matched": f.facts["matched"], "nsg-only": f.facts["nsg_only"],
            "vnet-only": f.facts["vnet_only"], "outside-window": f.facts["outside_window"]} == totals["by_class"]
    assert f.facts["explained"] == totals["by_cause"]
    assert f.facts["decision_mismatch"] == totals["decision_mismatch_keys"] == 10
    assert f.facts["counter_mismatch"] == totals["counter_mismatch_keys"] == 8  # 2 UDP, 6 inbound HTTPS
    assert f.facts["coverage"] == 40 / 41
    assert f.verdict == "ready"
    assert f.summary.startswith("VNet logs cover 97.6% of NSG-logged flows")


def test_compare_every_key_class_and_causes(nsg_vs_vnet):
    nsg, vnet, expected, _ = nsg_vs_vnet
    keys = compare_nsg_vnet(nsg, vnet, figures=False).evidence["keys"]
    got = {(r.src_ip, int(r.src_port), r.dst_ip, int(r.dst_port), int(r.protocol)):
           (r.klass, sorted(filter(None, r.causes.split(","))))
           for r in keys.rename(columns={"class": "klass"}).itertuples()}
    want = {(k["src_ip"], k["src_port"], k["dst_ip"], k["dst_port"], PROTO[k["protocol"]]):
            (k["class"], sorted(k["causes"])) for k in expected["keys"]}
    assert got == want


def test_compare_main_cause_is_planned_cause(nsg_vs_vnet):
    nsg, vnet, expected, _ = nsg_vs_vnet
    keys = compare_nsg_vnet(nsg, vnet, figures=False).evidence["keys"]
    got = {(r.src_ip, int(r.src_port)): r.cause for r in keys.itertuples()}
    want = {(k["src_ip"], k["src_port"]): k["cause"] for k in expected["keys"]}
    assert got == want


def test_compare_one_combined_frame(nsg_vs_vnet):
    import pandas as pd

    from flowkit.schema import coerce

    nsg, vnet, expected, _ = nsg_vs_vnet
    both = coerce(pd.concat([nsg.astype({c: object for c in nsg.select_dtypes("category")}),
                             vnet.astype({c: object for c in vnet.select_dtypes("category")})],
                            ignore_index=True))
    f = compare_nsg_vnet(both, figures=False)
    assert f.facts["explained"] == expected["totals"]["by_cause"]


def test_compare_coverage_by_hour(nsg_vs_vnet):
    nsg, vnet, _, _ = nsg_vs_vnet
    f = compare_nsg_vnet(nsg, vnet, figures=True)
    table = f.evidence["coverage_by_hour"]
    assert table["hour"].dt.hour.tolist() == [10, 11]
    assert (table["matched"] + table["nsg-only"]).sum() == 41
    assert "coverage" in f.figures


# --- (c) encryption --------------------------------------------------------------------

def test_encryption_audit_matches_ground_truth(encryption_scenario):
    flows, expected, path = encryption_scenario
    f = encryption_audit(flows, inventory=read_inventory(path / "nics.json"), figures=False)
    totals = expected["totals"]
    assert f.facts["flows"] == totals["flows"] == 60
    assert f.facts["by_state"] == totals["flows_by_encryption"]
    assert f.facts["unsupported_macs"] == expected["unsupported_macs"] == ["000D3A000404"]
    assert f.facts["dropped"] == expected["dropped"]["flows"] == 30
    assert f.facts["encrypted_share"] == totals["flows_by_encryption"]["X"] / totals["flows"]
    assert f.verdict == "dropped" and f.severity == "high"
    assert "legacy-01" in f.summary


def test_encryption_per_flow_states(encryption_scenario):
    from flowkit.analysis.encryption import flow_encryption

    flows, expected, _ = encryption_scenario
    got = {(r.src_ip, int(r.src_port)): r.encryption for r in flow_encryption(flows).itertuples()}
    want = {(f["src_ip"], f["src_port"]): f["encryption"] for f in expected["flows"]}
    assert got == want


def test_encryption_dropped_flows_are_denied_from_11(encryption_scenario):
    flows, expected, _ = encryption_scenario
    f = encryption_audit(flows, figures=False)
    dropped = f.evidence["dropped"]
    assert len(dropped) == 30 and dropped["denied"].all()
    assert dropped["first_seen"].min().isoformat().replace("+00:00", "Z").startswith(
        expected["dropped"]["first"][:19])
    trend = f.evidence["trend"]
    assert trend["dropped"].tolist() == [0, 30]


def test_encryption_diagnose_legacy(encryption_scenario):
    flows, _, _ = encryption_scenario
    f = diagnose(flows, "10.20.1.6", "10.20.2.4", port=1433)
    assert (f.verdict, f.facts["rule"], f.facts["acl_id"]) == ("encryption-dropped", "unspecified", "unspecified")
