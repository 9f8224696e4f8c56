"""Real logs written by others (../shared/conformance): counts from its README, values from the raw text."""

from __future__ import annotations

import pandas as pd
import pytest

import flowkit

CASES = [
    pytest.param("nsg-v1_msconnector-sampleOfInputV1.json", 24, 1187, {"nsg-v1": 1187}, id="nsg-v1"),
    pytest.param("nsg-v2_paloalto-cortex-testdata.json", 9, 23, {"nsg-v2": 23}, id="nsg-v2"),
    pytest.param("vnet_elastic-sample-testdata.json", 1, 19, {"vnet-v4": 19}, id="vnet-elastic"),
    pytest.param("vnet_msdocs-single-record.json", 1, 10, {"vnet-v4": 10}, id="vnet-single-record"),
    pytest.param("fragment-nsg-v1_msconnector-sampleStage3Input.txt", 1, 85, {"nsg-v1": 85}, id="fragment"),
]


@pytest.mark.parametrize("name, records, tuples, formats", CASES)
def test_counts_match_the_readme(conformance_dir, name, records, tuples, formats):
    frame, report = flowkit.read_flow_logs(conformance_dir / name, with_report=True)
    assert (report.records, report.tuples, report.rows, report.quarantined) == (records, tuples, tuples, 0)
    assert report.formats == formats and not report.problems
    assert len(frame) == tuples


def test_the_whole_folder_at_once(conformance_dir):
    frame, report = flowkit.read_flow_logs(
        [conformance_dir, conformance_dir / "fragment-nsg-v1_msconnector-sampleStage3Input.txt"], with_report=True)
    assert report.files == 5 and report.rows == 1187 + 23 + 19 + 10 + 85 and report.consistent


def _row(frame: pd.DataFrame, **match) -> pd.Series:
    sel = frame
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) >= 1, match
    return sel.iloc[0]


def test_nsg_v2_values_match_raw_text(conformance_dir):
    frame = flowkit.read_flow_logs(conformance_dir / "nsg-v2_paloalto-cortex-testdata.json")
    # "1717917209,79.110.62.150,10.0.0.10,56292,3389,T,I,D,B,,,,"
    r = _row(frame, src_ip="79.110.62.150", src_port=56292)
    assert r["flow_time"] == pd.Timestamp(1717917209, unit="s", tz="UTC")
    assert (r["dst_ip"], r["dst_port"], r["protocol"], r["direction"], r["decision"], r["state"]) == \
        ("10.0.0.10", 3389, 6, "inbound", "deny", "B")
    assert pd.isna(r["packets_sent"]) and pd.isna(r["bytes_received"])
    assert r["rule"] == "DefaultRule_DenyAllInBound" and r["mac"] == "000D3A8D51B3"
    assert r["record_time"] == pd.Timestamp("2024-06-09T07:14:30.0036054Z")
    assert set(frame["version"]) == {2}


def test_vnet_values_match_raw_text(conformance_dir):
    frame = flowkit.read_flow_logs(conformance_dir / "vnet_elastic-sample-testdata.json")
    # "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580"
    r = _row(frame, state="E", src_port=23956)
    assert r["flow_time"] == pd.Timestamp(1663146003606, unit="ms", tz="UTC")
    assert r["flow_time"].microsecond == 606000  # milliseconds kept
    assert (r["src_ip"], r["dst_ip"], r["dst_port"], r["protocol"], r["direction"]) == \
        ("10.0.0.6", "52.239.184.180", 443, 6, "outbound")
    assert (r["encryption"], r["packets_sent"], r["bytes_sent"], r["packets_received"], r["bytes_received"]) == \
        ("NX", 3, 767, 2, 1580)
    assert r["rule"] == "DefaultRule_AllowInternetOutBound"
    assert r["acl_id"] == "00000000-1234-abcd-ef00-c1c2c3c4c5c6" and r["mac"] == "00224871C205"
    assert r["record_time"] == pd.Timestamp("2022-09-14T09:00:52.5625085Z")
    assert r["target_resource_id"].endswith("/virtualNetworks/myVNet")


def test_vnet_single_record_values(conformance_dir):
    frame = flowkit.read_flow_logs(conformance_dir / "vnet_msdocs-single-record.json")
    # "1688875131557,45.119.212.87,192.168.0.4,53018,3389,6,I,D,NX,0,0,0,0"
    r = _row(frame, src_ip="45.119.212.87")
    assert r["flow_time"] == pd.Timestamp(1688875131557, unit="ms", tz="UTC")
    assert (r["state"], r["decision"], r["direction"], r["dst_port"]) == ("D", "deny", "inbound", 3389)
    assert r["rule"] == "BlockHighRiskTCPPortsFromInternet_456b4993-6e57-4e46-aa4d-81767afff09c"
    assert r["acl_id"] == "db903ae8-908e-491b-b12b-afaafab9d9ed" and r["mac"] == "0022485D8CF8"


def test_nsg_v1_values_and_fragment(conformance_dir):
    frame = flowkit.read_flow_logs(conformance_dir / "nsg-v1_msconnector-sampleOfInputV1.json")
    assert set(frame["version"]) == {1} and frame["state"].isna().all() and frame["bytes_sent"].isna().all()
    assert frame["rule"].iloc[0] == "UserRule_fe_rule"
    frag = flowkit.read_flow_logs(conformance_dir / "fragment-nsg-v1_msconnector-sampleStage3Input.txt")
    assert set(frag["mac"]) == {"002248010362"}
    assert frag["record_time"].iloc[0] == pd.Timestamp("2018-08-13T12:56:57.7450115Z")
