"""The scenario checks of test_analysis_scenarios.py on seeds other than the committed one.

The committed data-samples come from one seed: an investigation could match its ground truth
by the luck of that seed's ports, times and counters. Here each scenario is generated afresh
with other seeds (connectivity 18 and 33 have the fewest and the most denied groups among
seeds 0-119: 34 and 41 diagnoses, against 38 committed), written as data-samples is, read back
with read_flow_logs, and every verdict, class, cause, per-NIC observation and encryption state
is checked against that seed's expected.json. Seeds 0-196 (connectivity) and 0-250 (the others)
were all checked so, with no disagreement; these few stand for them.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.diagnose import diagnose
from flowkit.analysis.encryption import encryption_audit, flow_encryption
from flowkit.analysis.sessions import flow_sessions
from flowkit.inventory import read_inventory
from flowkit.read import read_flow_logs
from flowkit.synth import build_scenario, write_scenario

PROTO = {"TCP": 6, "UDP": 17}
VNET = "insights-logs-flowlogflowevent"
NSG = "insights-logs-networksecuritygroupflowevent"
Generated = Callable[[str, int], tuple[Path, dict[str, Any]]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """(scenario, seed) -> (folder written as data-samples is, its expected.json)."""
    cache: dict[tuple[str, int], tuple[Path, dict[str, Any]]] = {}

    def get(name: str, seed: int) -> tuple[Path, dict[str, Any]]:
        if (name, seed) not in cache:
            path = tmp_path_factory.mktemp(f"{name}-{seed}")
            write_scenario(build_scenario(name, seed), path)
            cache[(name, seed)] = (path, json.loads((path / "expected.json").read_text()))
        return cache[(name, seed)]

    return get


def read(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # generated logs have no damage: any warning is a bug
        return read_flow_logs(str(path), progress=False)


def _observed(f: Any) -> dict[tuple, list[int]]:
    """A diagnosis' observations summed per (NIC, direction, decision, rule, aclID), as expected.json has them."""
    out: dict[tuple, list[int]] = {}
    for r in f.evidence["observations"].itertuples():
        sums = out.setdefault((r.mac, r.direction, r.decision, r.rule, r.acl_id), [0] * 5)
        for i, v in enumerate((r.tuples, r.packets_sent, r.bytes_sent, r.packets_received, r.bytes_received)):
            sums[i] += int(v)
    return out


@pytest.mark.parametrize("seed, diagnoses", [pytest.param(18, 34, id="seed-18"), pytest.param(33, 41, id="seed-33"),
                                             pytest.param(3, 36, id="seed-3")])
def test_connectivity_on_other_seeds(generated: Generated, seed: int, diagnoses: int) -> None:
    path, expected = generated("connectivity", seed)
    flows = read(path / VNET)
    assert len(flows) == expected["totals"]["tuples"]
    assert len(expected["diagnoses"]) == diagnoses
    inventory = read_inventory(path / "nics.json")
    wrong = []
    for case in expected["diagnoses"]:
        f = diagnose(flows, case["src"], case["dst"], port=case["port"], protocol=case["protocol"],
                     inventory=inventory)
        got = ({k: f.facts[k] for k in ("verdict", "rule", "acl_id", "where")}, f.facts["evidence_rows"],
               _observed(f) if case["observed"] else {})
        want = ({k: case[k] for k in ("verdict", "rule", "acl_id", "where")},
                sum(o["tuples"] for o in case["observed"]),
                {(o["mac"], o["direction"], o["decision"], o["rule"], o["acl_id"]):
                 [o["tuples"], o["packets_sent"], o["bytes_sent"], o["packets_received"], o["bytes_received"]]
                 for o in case["observed"]})
        if got != want:
            wrong.append((case["src"], case["dst"], case["port"], got, want))
    assert wrong == []
    for src, dst, port, verdict, where in [
            ("10.10.1.4", "10.10.3.4", 1433, "denied", "destination-inbound"),
            ("10.10.2.4", "10.10.3.5", 6379, "lost-in-transit", "in-transit"),
            ("10.10.1.5", "10.10.2.5", 8080, "no-reply", "destination"),
            ("10.10.1.4", "10.10.2.4", 8080, "ok", None),
            ("10.10.1.4", "198.51.100.10", 443, "ok", None),
            ("10.10.1.4", "10.10.9.9", 443, "not-observed", None)]:
        f = diagnose(flows, src, dst, port=port)
        assert (f.verdict, f.facts["where"]) == (verdict, where), (src, dst, port)
    # denied traffic: one group per denied (src, dst, port), the 192.0.2.66 storm the only storm
    summary = denied_summary(flows)
    table = summary.evidence["denied"]
    assert {(r.src_ip, r.dst_ip, int(r.dst_port)): int(r.attempts) for r in table.itertuples()} == {
        (d["src"], d["dst"], d["port"]): d["flows"] for d in expected["diagnoses"] if d["verdict"] == "denied"}
    storms = table[table["retry_storm"]]
    assert storms[["src_ip", "dst_ip", "dst_port", "attempts", "max_in_window"]].values.tolist() == [
        ["192.0.2.66", "10.10.1.4", 22, 40, 40]]
    denied_tuples = expected["totals"]["by_log_type"]["vnet"]["tuples_by_state"]["D"]
    assert (summary.facts["denied_tuples"], summary.facts["attempts"]) == (denied_tuples, denied_tuples)
    # sessions: one per flow and observing NIC, tuples per flow as planned
    sessions = flow_sessions(flows)
    per_flow: dict[tuple, int] = {}
    for r in sessions.itertuples():
        key = (r.src_ip, int(r.src_port), r.dst_ip, int(r.dst_port))
        per_flow[key] = per_flow.get(key, 0) + int(r.tuples)
    assert per_flow == {(x["src_ip"], x["src_port"], x["dst_ip"], x["dst_port"]): x["tuples"]
                        for x in expected["flows"]}


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in (0, 1, 7)])
def test_nsg_vs_vnet_on_other_seeds(generated: Generated, seed: int) -> None:
    path, expected = generated("nsg-vs-vnet", seed)
    nsg, vnet = read(path / NSG), read(path / VNET)
    assert len(nsg) + len(vnet) == expected["totals"]["tuples"]
    f = compare_nsg_vnet(nsg, vnet, figures=False)
    t = expected["totals"]
    assert {"matched": f.facts["matched"], "nsg-only": f.facts["nsg_only"], "vnet-only": f.facts["vnet_only"],
            "outside-window": f.facts["outside_window"]} == t["by_class"]
    assert f.facts["explained"] == t["by_cause"]
    assert (f.facts["decision_mismatch"], f.facts["counter_mismatch"]) == (
        t["decision_mismatch_keys"], t["counter_mismatch_keys"])
    assert f.verdict == "ready"

    def side(r: Any, log: str) -> tuple[int, Any]:
        n = getattr(r, f"{log}_tuples")
        return (0, None) if pd.isna(n) or not n else (int(n), getattr(r, f"{log}_decision"))

    got = {(r.src_ip, int(r.src_port), r.dst_ip, int(r.dst_port), int(r.protocol)):
           (r.klass, r.cause, sorted(filter(None, r.causes.split(","))),
            *((side(r, "nsg"), side(r, "vnet")) if r.klass != "outside-window" else ()))
           for r in f.evidence["keys"].rename(columns={"class": "klass"}).itertuples()}
    # tuples and decision of each log inside the window (an outside-window key has none there)
    want = {(k["src_ip"], k["src_port"], k["dst_ip"], k["dst_port"], PROTO[k["protocol"]]):
            (k["class"], k["cause"], sorted(k["causes"]),
             *(tuple(((k[log] or {}).get("tuples", 0), (k[log] or {}).get("decision")) for log in ("nsg", "vnet"))
               if k["class"] != "outside-window" else ()))
            for k in expected["keys"]}
    assert got == want


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in (0, 1, 2)])
def test_encryption_on_other_seeds(generated: Generated, seed: int) -> None:
    path, expected = generated("encryption", seed)
    flows = read(path / VNET)
    t = expected["totals"]
    f = encryption_audit(flows, inventory=read_inventory(path / "nics.json"), figures=False)
    assert (f.facts["flows"], f.facts["by_state"], f.facts["unsupported_macs"], f.facts["dropped"]) == (
        t["flows"], t["flows_by_encryption"], expected["unsupported_macs"], expected["dropped"]["flows"])
    assert (f.verdict, f.severity) == ("dropped", "high") and "legacy-01" in f.summary
    got = {(r.src_ip, int(r.src_port)): (r.encryption, int(r.tuples), r.macs, bool(r.denied), r.first_seen,
                                         int(r.bytes))
           for r in flow_encryption(flows).itertuples()}
    want = {}
    for x in expected["flows"]:
        seen = [o for o in x["observed"] if o["tuples"]]
        want[(x["src_ip"], x["src_port"])] = (
            x["encryption"], sum(o["tuples"] for o in seen), ",".join(sorted(o["mac"] for o in seen)),
            x["decision"] == "deny", pd.Timestamp(x["start"]), max(o["bytes_sent"] + o["bytes_received"] for o in seen))
    assert got == want
    dropped = f.evidence["dropped"]
    assert len(dropped) == expected["dropped"]["flows"] and bool(dropped["denied"].all())
    assert dropped["first_seen"].min() == pd.Timestamp(expected["dropped"]["first"])
    assert f.evidence["trend"]["dropped"].tolist() == [0, expected["dropped"]["flows"]]
    d = diagnose(flows, "10.20.1.6", "10.20.2.4", port=1433)
    assert (d.verdict, d.facts["rule"], d.facts["acl_id"]) == ("encryption-dropped", "unspecified", "unspecified")
