"""The committed data-samples: golden bytes, determinism, size, and consistency with expected.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from flowkit.sources.layout import parse_blob_path
from flowkit.synth import DEFAULT_SEED, SCENARIOS, build_scenario

REPO = Path(__file__).resolve().parents[2]
DATA_SAMPLES = REPO / "data-samples"
SCENARIO_NAMES = list(SCENARIOS)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_committed_samples_equal_a_fresh_generation(name: str, fresh_samples: Path) -> None:
    committed = files_under(DATA_SAMPLES / name)
    fresh = files_under(fresh_samples / name)
    assert sorted(committed) == sorted(fresh), "regenerate: python -m flowkit.synth data-samples"
    changed = [rel for rel in fresh if committed[rel] != fresh[rel]]
    assert not changed, f"differ from a fresh generation: {changed[:5]}"


def test_data_samples_hold_only_the_scenarios() -> None:
    assert sorted(p.name for p in DATA_SAMPLES.iterdir()) == sorted([*SCENARIO_NAMES, "SCENARIOS.md"])


def test_data_samples_are_under_5_mb() -> None:
    total = sum(p.stat().st_size for p in DATA_SAMPLES.rglob("*") if p.is_file())
    assert total < 5_000_000


def test_same_seed_same_bytes_in_another_process(tmp_path: Path, fresh_samples: Path) -> None:
    # A different hash seed catches any output that depends on set or dict-of-str ordering.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "flowkit.synth", str(tmp_path)], cwd=REPO, env=env, check=True,
                   capture_output=True)
    assert files_under(tmp_path) == files_under(fresh_samples)


def test_another_seed_gives_other_bytes_and_the_same_story() -> None:
    a, b = build_scenario("nsg-vs-vnet", DEFAULT_SEED), build_scenario("nsg-vs-vnet", DEFAULT_SEED + 1)
    assert a.emission.blobs != b.emission.blobs
    assert a.expected["totals"]["by_class"] == b.expected["totals"]["by_class"]


def _read_back(root: Path) -> dict[str, Counter]:
    """Count files, records, tuples and states per log type by parsing the blobs."""
    counts: dict[str, Counter] = {}
    for path in sorted(root.rglob("PT1H.json")):
        meta = parse_blob_path(path.as_posix())
        c = counts.setdefault(meta.log_type, Counter())
        c["files"] += 1
        data = path.read_bytes()
        assert data.startswith(b'{"records":[{') and data.endswith(b"}]}") and b" " not in data
        for record in json.loads(data)["records"]:
            c["records"] += 1
            assert record["macAddress"] == meta.mac
            when = pd.Timestamp(record["time"])
            assert len(record["time"]) == 28 and when.floor("h") == meta.hour
            if meta.log_type == "vnet":
                assert record["flowLogVersion"] == 4
                tuples = [t for f in record["flowRecords"]["flows"] for g in f["flowGroups"] for t in g["flowTuples"]]
            else:
                assert record["properties"]["Version"] == 2
                tuples = [t for f in record["properties"]["flows"] for m in f["flows"] for t in m["flowTuples"]]
                assert all(m["mac"] == meta.mac for f in record["properties"]["flows"] for m in f["flows"])
            for text in tuples:
                fields = text.split(",")
                assert len(fields) == 13
                c["tuples"] += 1
                if meta.log_type == "vnet":
                    ts = pd.Timestamp(int(fields[0]), unit="ms", tz="UTC")
                    state = fields[7]
                    if state in ("B", "D"):
                        assert fields[9:] == ["0", "0", "0", "0"]
                else:
                    ts = pd.Timestamp(int(fields[0]), unit="s", tz="UTC")
                    state = fields[8]
                    assert (fields[9:] == ["", "", "", ""]) == (state == "B")
                c["state_" + state] += 1
                assert ts.floor("min") == when.floor("min") and ts < when
    return counts


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_expected_totals_agree_with_the_files(name: str) -> None:
    expected = json.loads((DATA_SAMPLES / name / "expected.json").read_text())
    counts = _read_back(DATA_SAMPLES / name)
    totals = expected["totals"]
    assert totals["files"] == sum(c["files"] for c in counts.values())
    assert totals["records"] == sum(c["records"] for c in counts.values())
    assert totals["tuples"] == sum(c["tuples"] for c in counts.values())
    for log, entry in totals["by_log_type"].items():
        assert (entry["files"], entry["records"], entry["tuples"]) == (
            counts[log]["files"], counts[log]["records"], counts[log]["tuples"])
        assert entry["tuples_by_state"] == {s: counts[log]["state_" + s] for s in "BCED"
                                            if counts[log]["state_" + s]}


def test_connectivity_story() -> None:
    expected = json.loads((DATA_SAMPLES / "connectivity" / "expected.json").read_text())
    verdicts = {(d["src"], d["dst"], d["port"]): d for d in expected["diagnoses"]}
    denied = verdicts[("10.10.1.4", "10.10.3.4", 1433)]
    assert (denied["verdict"], denied["where"], denied["rule"], denied["flows"]) == (
        "denied", "destination-inbound", "UserRule_DenyWebToSql", 30)
    assert denied["acl_id"].endswith("/networkSecurityGroups/nsg-snet-data")
    assert verdicts[("10.10.2.4", "10.10.3.5", 6379)]["verdict"] == "lost-in-transit"
    assert [o["vm"] for o in verdicts[("10.10.2.4", "10.10.3.5", 6379)]["observed"]] == ["app-01"]
    assert verdicts[("10.10.1.5", "10.10.2.5", 8080)]["verdict"] == "no-reply"
    assert all(o["packets_received"] == 0 and o["packets_sent"] > 0
               for o in verdicts[("10.10.1.5", "10.10.2.5", 8080)]["observed"])
    assert verdicts[("10.10.1.4", "10.10.2.4", 8080)]["verdict"] == "ok"
    assert verdicts[("10.10.1.4", "198.51.100.10", 443)]["verdict"] == "ok"
    assert verdicts[("10.10.1.4", "10.10.9.9", 443)]["verdict"] == "not-observed"
    assert verdicts[("192.0.2.66", "10.10.1.4", 22)]["flows"] == 40


def test_nsg_vs_vnet_story() -> None:
    expected = json.loads((DATA_SAMPLES / "nsg-vs-vnet" / "expected.json").read_text())
    keys = expected["keys"]
    by_cause = {c: {k["class"] for k in keys if k["cause"] == c} for c in expected["totals"]["by_cause"]}
    assert by_cause == {"avnm-rule": {"vnet-only"}, "clock-skew": {"nsg-only"}, "encryption-drop": {"matched"},
                        "hour-not-logged": {"outside-window"}, "mac-not-logged": {"vnet-only"},
                        "nsg-inbound-tcp-not-counted": {"matched"}, "nsg-v2-counts-tcp-only": {"matched"},
                        "subnet-and-nic-nsg": {"matched"}}
    assert len({(k["src_ip"], k["src_port"], k["dst_ip"], k["dst_port"], k["protocol"]) for k in keys}) == len(keys)
    for k in keys:
        if k["cause"] in ("nsg-v2-counts-tcp-only", "nsg-inbound-tcp-not-counted"):
            assert k["nsg"]["packets_sent"] == 0 < k["vnet"]["packets_sent"]
        if k["cause"] == "nsg-inbound-tcp-not-counted":  # the NSG never saw these flows end
            assert "E" not in k["nsg"]["states"] and k["vnet"]["states"]["E"] == 1
        if k["cause"] == "encryption-drop":
            assert (k["nsg"]["decision"], k["vnet"]["decision"], k["vnet"]["encryption"]) == (
                "allow", "deny", ["NX_NOT_ACCEPTED"])


def test_encryption_story() -> None:
    expected = json.loads((DATA_SAMPLES / "encryption" / "expected.json").read_text())
    assert expected["unsupported_macs"] == ["000D3A000404"]
    legacy = [f for f in expected["flows"] if f["src_ip"] == "10.20.1.6"]
    assert {tuple(f["by_hour"].items()) for f in legacy} == {
        (("2024-05-01T10:00:00Z", "NX_HW_NOT_SUPPORTED"),), (("2024-05-01T11:00:00Z", "NX_NOT_ACCEPTED"),)}
    assert expected["dropped"]["flows"] == sum(f["encryption"] == "NX_NOT_ACCEPTED" for f in expected["flows"])
    assert sum(expected["totals"]["tuples_by_encryption"].values()) == expected["totals"]["tuples"]


def test_inventory_shapes() -> None:
    for name in SCENARIO_NAMES:
        nics = json.loads((DATA_SAMPLES / name / "nics.json").read_text())
        csv = pd.read_csv(DATA_SAMPLES / name / "nics.csv")
        assert list(csv.columns) == ["mac", "ip", "nic", "vm", "subnet", "subnet_prefix", "vnet", "nsg"]
        assert len(nics) == len(csv)
        for entry, row in zip(nics, csv.itertuples(), strict=True):
            assert entry["macAddress"].replace("-", "") == row.mac and len(entry["macAddress"]) == 17
            assert entry["ipConfigurations"][0]["privateIPAddress"] == row.ip
            assert entry["ipConfigurations"][0]["subnet"]["id"].endswith(f"/subnets/{row.subnet}")
            assert entry["virtualMachine"]["id"].endswith(f"/virtualMachines/{row.vm}")
            assert ("networkSecurityGroup" in entry) == (";" in row.nsg)
