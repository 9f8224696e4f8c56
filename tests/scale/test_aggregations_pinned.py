"""Pinned behaviour of flowkit.scale.aggregations found by mutation testing (synchronous scheduler)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from flowkit.analysis.encryption import encryption_audit
from flowkit.scale.aggregations import encryption_counts_dask
from flowkit.scale.dask_read import read_flow_logs_dask
from tests.blobs import T0_MS, blob, vnet_record

from scale_helpers import read_json

dask = pytest.importorskip("dask")


pytestmark = pytest.mark.usefixtures("synchronous_dask")  # tests/scale/conftest.py


def _tuple(minute: int, sport: int, encryption: str, src: str = "10.0.0.4", dst: str = "192.0.2.9",
           direction: str = "O", counters: str = "1,100,1,100") -> str:
    return f"{T0_MS + minute * 60_000},{src},{dst},{sport},443,6,{direction},E,{encryption},{counters}"


def _counts(tmp_path: Path, blobs: dict[str, list[str]], partition_bytes: int = 300) -> tuple[dict, dict, int]:
    """Pandas audit facts and Dask counts of VNet blobs (one record each), and the partition count."""
    for name, tuples in blobs.items():
        (tmp_path / name).write_bytes(blob([vnet_record([("acl", "r", tuples)])]))
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=partition_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return encryption_audit(read_json(tmp_path), figures=False).facts, encryption_counts_dask(ddf), ddf.npartitions


@pytest.mark.parametrize("first, second, by_state", [
    pytest.param("NX_ZULU", "NX_ALPHA", {"NX_ALPHA": 2}, id="larger-name-first"),
    pytest.param("NX_ALPHA", "NX_ZULU", {"NX_ALPHA": 1, "NX_ZULU": 1}, id="smaller-name-first"),
])
def test_a_flow_with_two_undocumented_states_takes_the_smaller_name_whatever_the_order(
        tmp_path: Path, first: str, second: str, by_state: dict[str, int]) -> None:
    """Port 1 shows both states (one in each partition); port 2 shows ``second`` first, so that the
    reader's category order differs from the order in which port 1's rows come."""
    theirs, mine, parts = _counts(tmp_path, {"a.json": [_tuple(0, 2, second), _tuple(1, 1, first)],
                                             "b.json": [_tuple(2, 1, second)]})
    assert parts == 2
    assert theirs["by_state"] == by_state  # not the state of port 1's first row, nor the first one read
    assert mine == theirs


def test_nsg_vnet_keys_dask_on_one_dask_frame_works_on_the_workers(tmp_path: Path, monkeypatch) -> None:
    """A Dask frame alone is counted on Dask, never handed to the pandas reconciliation (which
    would pull every row into the client)."""
    import flowkit.analysis.compare as compare
    from flowkit.scale.aggregations import nsg_vnet_keys_dask
    from tests.blobs import nsg_record

    (tmp_path / "vnet.json").write_bytes(blob([vnet_record([("acl", "r", [_tuple(0, 1, "NX"), _tuple(0, 2, "NX")])],
                                                           mac="000D3A0000A1")]))
    (tmp_path / "nsg.json").write_bytes(blob([nsg_record({"UserRule_a": [
        f"{T0_MS // 1000},10.0.0.4,192.0.2.9,1,443,T,O,A,E,1,100,1,100",
        f"{T0_MS // 1000},10.0.0.4,192.0.2.9,3,443,T,O,A,E,1,100,1,100"]}, mac="000D3A0000A1")]))
    ddf = read_flow_logs_dask(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = compare.compare_nsg_vnet(read_json(tmp_path), figures=False).facts

    def refuse(*args, **kwargs):
        raise AssertionError("the pandas reconciliation was called with a Dask frame")

    monkeypatch.setattr(compare, "compare_nsg_vnet", refuse)
    got = nsg_vnet_keys_dask(ddf)
    assert (got["matched"], got["nsg_only"], got["vnet_only"]) == (want["matched"], want["nsg_only"],
                                                                    want["vnet_only"]) == (1, 1, 1)
    assert got["common_macs"] == want["common_macs"] == ["000D3A0000A1"]
    # One row per partition: the shuffle leaves at least one of the four partitions without a key.
    import dask.dataframe as dd

    frame = read_json(tmp_path)
    assert len(frame) == 4
    assert nsg_vnet_keys_dask(dd.from_pandas(frame, npartitions=4, sort=False)) == got


def test_no_vnet_rows_and_no_bytes_give_the_pandas_empty_counts(tmp_path: Path) -> None:
    """NSG rows only: no flow, every count empty. VNet flows without bytes (B then D): no byte share."""
    from tests.blobs import NSG_V2_TUPLES, nsg_record

    nsg, vnet = tmp_path / "nsg", tmp_path / "vnet"
    nsg.mkdir()
    vnet.mkdir()
    (nsg / "a.json").write_bytes(blob([nsg_record({"UserRule_a": NSG_V2_TUPLES})]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = encryption_counts_dask(read_flow_logs_dask(nsg))
        assert counts == encryption_audit(read_json(nsg), figures=False).facts == {
            "flows": 0, "encrypted_share": None, "bytes_encrypted_share": None, "by_state": {},
            "unsupported_macs": [], "never_encrypting": [], "dropped": 0}
    theirs, mine, _ = _counts(vnet, {"a.json": [_tuple(0, 1, "X", counters="0,0,0,0"),
                                                _tuple(1, 2, "NX_NOT_ACCEPTED", counters="0,0,0,0")]})
    assert mine == theirs
    assert (mine["flows"], mine["encrypted_share"], mine["bytes_encrypted_share"], mine["dropped"]) == (2, 0.5, None, 1)


def test_never_encrypting_leaves_out_public_peers_and_same_host_traffic(tmp_path: Path) -> None:
    """10.0.0.4 sends unencrypted to the internet (a documentation address counts as public) and
    to a VM on its own host (NX_LOCAL_DST): neither makes its NIC one that never encrypts."""
    theirs, mine, _ = _counts(tmp_path, {"a.json": [_tuple(0, 1, "NX"), _tuple(1, 2, "NX_LOCAL_DST", dst="10.0.0.8")]})
    assert mine == theirs
    assert (mine["by_state"], mine["never_encrypting"]) == ({"NX": 1, "NX_LOCAL_DST": 1}, [])


def test_one_address_in_two_vnets_is_two_nics_on_dask_as_in_pandas(tmp_path: Path) -> None:
    """10.20.1.4 is a NIC in each of two VNets that are not peered; only the one in the first
    VNet encrypts. Each NIC is credited with the flows it logged, over two partitions."""
    blobs = {
        "a-src.json": ("000D3A0004A1", _tuple(0, 50001, "X", src="10.20.1.4", dst="10.20.2.4")),
        "a-dst.json": ("000D3A0004A2", _tuple(0, 50001, "X", src="10.20.1.4", dst="10.20.2.4", direction="I")),
        "b-src.json": ("000D3A0004B1", _tuple(1, 50002, "NX", src="10.20.1.4", dst="10.20.2.9")),
        "b-dst.json": ("000D3A0004B2", _tuple(1, 50002, "NX", src="10.20.1.4", dst="10.20.2.9", direction="I")),
    }
    for name, (mac, line) in blobs.items():
        (tmp_path / name).write_bytes(blob([vnet_record([("acl", "r", [line])], mac=mac)]))
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = encryption_audit(read_json(tmp_path), figures=False).facts
        mine = encryption_counts_dask(ddf)
    assert ddf.npartitions >= 2
    assert theirs["never_encrypting"] == ["000D3A0004B1", "000D3A0004B2"]
    assert mine == theirs


def test_denied_summary_dask_counts_an_old_frames_encryption_drops_as_pandas_does() -> None:
    """A frame read (or a dataset converted) before NX_SW_NOT_READY and NX_NOT_SUPPORTED were
    denies holds them as allow: denied_mask finds them by their encryption, which the Dask path
    must not project away (it said "none" where denied_summary said 2 tuples denied)."""
    import dask.dataframe as dd
    import pandas as pd

    from flowkit.analysis.denied import denied_summary
    from flowkit.scale.aggregations import DENIED_INPUT_COLUMNS, denied_summary_dask
    from flowkit.schema import coerce

    old = coerce(pd.DataFrame({
        "flow_time": pd.to_datetime(["2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"]),
        "src_ip": ["192.0.2.1"] * 2, "dst_ip": ["198.51.100.2"] * 2, "src_port": [50000, 50001],
        "dst_port": [443] * 2, "protocol": [6] * 2, "direction": ["outbound"] * 2, "decision": ["allow"] * 2,
        "state": ["B"] * 2, "encryption": ["NX_SW_NOT_READY", "NX_NOT_SUPPORTED"], "mac": ["000D3A000101"] * 2,
        "log_type": ["vnet"] * 2, "rule": ["unspecified"] * 2, "acl_id": ["unspecified"] * 2,
        "resource_id": ["/x"] * 2}))
    pandas_finding = denied_summary(old)
    dask_finding = denied_summary_dask(dd.from_pandas(old, npartitions=2))
    assert (pandas_finding.verdict, dask_finding.verdict) == ("denied", "denied")
    assert dask_finding.facts["denied_tuples"] == pandas_finding.facts["denied_tuples"] == 2
    assert "encryption" in DENIED_INPUT_COLUMNS
    # a frame without the column is read as before
    nsg_only = dd.from_pandas(old.drop(columns="encryption").assign(decision="deny"), npartitions=1)
    assert denied_summary_dask(nsg_only).facts["denied_tuples"] == 2
