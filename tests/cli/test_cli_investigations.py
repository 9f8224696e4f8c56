"""flowkit diagnose / compare / encryption: --json fields exactly, and readable text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowkit.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"
VNET = "insights-logs-flowlogflowevent"
NSG = "insights-logs-networksecuritygroupflowevent"


def _scenario(name: str) -> Path:
    path = SAMPLES / name
    if not (path / "expected.json").is_file():
        pytest.fail(f"data-samples/{name} is missing: run `make samples`")
    return path


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


@pytest.mark.parametrize("args, want", [
    pytest.param(["--src", "10.10.1.4", "--dst", "10.10.3.4", "--port", "1433"],
                 {"verdict": "denied", "rule": "UserRule_DenyWebToSql",
                  "acl_id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-FLOWKIT-DEMO/"
                            "providers/Microsoft.Network/networkSecurityGroups/nsg-snet-data",
                  "where": "destination-inbound", "evidence_rows": 90}, id="denied"),
    pytest.param(["--src", "10.10.2.4", "--dst", "10.10.3.5", "--port", "6379", "--protocol", "TCP"],
                 {"verdict": "lost-in-transit", "rule": None, "acl_id": None, "where": "in-transit",
                  "evidence_rows": 120}, id="lost"),
    pytest.param(["--src", "10.10.1.5", "--dst", "10.10.2.5", "--port", "8080"],
                 {"verdict": "no-reply", "rule": None, "acl_id": None, "where": "destination",
                  "evidence_rows": 240}, id="no-reply"),
    pytest.param(["--src", "10.10.1.4", "--dst", "198.51.100.10", "--port", "443", "--protocol", "tcp"],
                 {"verdict": "ok", "rule": None, "acl_id": None, "where": None}, id="ok"),
    pytest.param(["--src", "10.10.1.4", "--dst", "10.10.9.9", "--port", "443"],
                 {"verdict": "not-observed", "rule": None, "acl_id": None, "where": None, "evidence_rows": 0},
                 id="not-observed"),
])
def test_diagnose_json(capsys, args, want):
    path = _scenario("connectivity") / VNET
    got = _json(capsys, ["diagnose", str(path), *args, "--json"])
    assert list(got) == ["verdict", "rule", "acl_id", "where", "reason", "evidence_rows"]
    assert isinstance(got["reason"], str) and got["reason"]
    assert {k: got[k] for k in want} == want


@pytest.mark.filterwarnings("ignore")  # the scenario folder also holds expected.json and nics.json
def test_diagnose_text_with_inventory(capsys):
    path = _scenario("connectivity")
    assert main(["diagnose", str(path), "--src", "10.10.1.4", "--dst", "10.10.3.4", "--port", "1433",
                 "--inventory", str(path / "nics.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Connectivity 10.10.1.4 -> 10.10.3.4 port 1433\nverdict: denied (severity high)")
    assert "web-01" in out and "db-01" in out and "observations (3 row(s))" in out
    assert "per-minute statistics, not access logs" in out


def test_compare_json(capsys):
    path = _scenario("nsg-vs-vnet")
    expected = json.loads((path / "expected.json").read_text())["totals"]
    got = _json(capsys, ["compare", "--nsg", str(path / NSG), "--vnet", str(path / VNET), "--json"])
    assert got == {"verdict": "ready", "matched": 40, "nsg_only": 1, "vnet_only": 8, "decision_mismatch": 10,
                   "explained": expected["by_cause"], "coverage": 40 / 41}
    elsewhere = _json(capsys, ["compare", "--nsg", str(_scenario("connectivity")), "--vnet",
                               str(_scenario("connectivity")), "--json"])
    assert elsewhere["verdict"] == "no-overlap" and elsewhere["coverage"] is None
    assert got["explained"] == {"avnm-rule": 5, "clock-skew": 1, "encryption-drop": 10, "hour-not-logged": 8,
                                "mac-not-logged": 3, "nsg-inbound-tcp-not-counted": 6, "nsg-v2-counts-tcp-only": 2,
                                "subnet-and-nic-nsg": 11}


def test_compare_text(capsys):
    path = _scenario("nsg-vs-vnet")
    assert main(["compare", "--nsg", str(path / NSG), "--vnet", str(path / VNET)]) == 0
    out = capsys.readouterr().out
    assert "verdict: ready" in out and "VNet logs cover 97.6% of NSG-logged flows" in out
    assert "coverage_by_hour (2 row(s))" in out


def test_encryption_json_and_text(capsys):
    path = _scenario("encryption")
    got = _json(capsys, ["encryption", str(path / VNET), "--json"])
    assert got == {"verdict": "dropped", "flows": 60, "encrypted_share": 16 / 60,
                   "by_state": {"X": 16, "NX": 4, "NX_HW_NOT_SUPPORTED": 4, "NX_NOT_ACCEPTED": 30,
                                "NX_LOCAL_DST": 6},
                   "unsupported_macs": ["000D3A000404"], "dropped": 30}
    assert main(["encryption", str(path / VNET), "--inventory", str(path / "nics.csv")]) == 0
    out = capsys.readouterr().out
    assert "verdict: dropped (severity high)" in out and "legacy-01" in out


def test_missing_path_is_a_clean_error(capsys, tmp_path):
    assert main(["encryption", str(tmp_path / "nope"), "--json"]) == 2
    assert "error" in capsys.readouterr().err


def test_compare_on_a_local_dask_cluster_equals_the_pandas_reconciliation(capsys):
    path = _scenario("nsg-vs-vnet")
    argv = ["compare", "--nsg", str(path / NSG), "--vnet", str(path / VNET), "--json"]
    assert _json(capsys, argv + ["--dask"]) == _json(capsys, argv)


def test_compare_with_an_unreachable_scheduler_says_so(capsys, monkeypatch):
    import flowkit.cli.dask_client as dask_client

    monkeypatch.setattr(dask_client, "CONNECT_TIMEOUT", "1s")
    path = _scenario("nsg-vs-vnet")
    assert main(["compare", "--nsg", str(path / NSG), "--vnet", str(path / VNET),
                 "--dask", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowkit compare: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")


@pytest.mark.parametrize("address", ["bogus://h:1", "tcp://127.0.0.1:notaport"])
def test_a_scheduler_address_that_is_none_says_so(capsys, address):
    assert main(["inspect", str(_scenario("encryption")), "--dask", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowkit inspect: error: {address!r} is not a Dask scheduler address") and "Traceback" not in err
