"""The Dask engine on a 2-worker LocalCluster: same rows and same aggregates as pandas."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_mask, denied_summary, storm_window_ms
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.read import read_flow_logs
from flowkit.scale._parts import from_parts
from flowkit.scale.aggregations import (_denied_groups_dask, denied_summary_dask, encryption_counts_dask,
                                        nsg_vnet_keys_dask, talker_graph_dask)
from flowkit.scale.dask_read import PARTITION_ROWS, file_groups, read_flow_logs_dask
from flowkit.schema import COLUMNS, empty_frame
from flowkit.store.convert import convert
from flowkit.store.parquet import dataset_files

from scale_helpers import (APP_MAC, OTHER_ACL, SAMPLES, SCAN_SRC, SCENARIOS, STORM_SRC, WEB_IP, WEB_MAC, SecretSource,
                           assert_same_frame, denied_frame, graph_dict, read_json, write_denied_corpus)

dd = pytest.importorskip("dask.dataframe")

KEY_FACTS = ("matched", "nsg_only", "vnet_only", "outside_window", "window", "common_macs", "nsg_only_macs",
             "vnet_only_macs")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: read_json(SAMPLES / name) for name in SCENARIOS}


def _dask(source, **kwargs):
    # small partitions, so that every scenario spans several partitions and workers
    return read_flow_logs_dask(source, partition_bytes=kwargs.pop("partition_bytes", 60_000), **kwargs)


def assert_same_denied(ddf, frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """denied_summary_dask on ``ddf`` is denied_summary on ``frame``; returns the table."""
    mine, theirs = denied_summary_dask(ddf, **kwargs), denied_summary(frame, **kwargs)
    pd.testing.assert_frame_equal(mine.evidence["denied"], theirs.evidence["denied"], check_exact=True)
    assert (mine.verdict, mine.severity, mine.summary, mine.facts) == (
        theirs.verdict, theirs.severity, theirs.summary, theirs.facts)
    return mine.evidence["denied"]


def assert_aggregates_equal(ddf, frame: pd.DataFrame, bys=("ip",)) -> None:
    for by in bys:
        assert graph_dict(talker_graph_dask(ddf, by)) == graph_dict(talker_graph(frame, by)), by
    assert_same_denied(ddf, frame)
    facts = encryption_audit(frame, figures=False).facts
    counts = encryption_counts_dask(ddf)
    assert counts == {k: facts[k] for k in counts} and set(counts) == {
        "flows", "encrypted_share", "bytes_encrypted_share", "by_state", "unsupported_macs", "never_encrypting",
        "dropped"}
    keys = compare_nsg_vnet(frame, figures=False).facts
    assert nsg_vnet_keys_dask(ddf) == {k: keys[k] for k in KEY_FACTS if k in keys}


def test_meta_is_the_canonical_schema() -> None:
    ddf = read_flow_logs(SAMPLES / "connectivity", engine="dask")
    assert list(ddf.columns) == list(COLUMNS)
    assert [str(t) for t in ddf.dtypes] == [str(t) for t in empty_frame().dtypes]
    assert ddf.src_ip.cat.known is False and ddf.direction.cat.known is True
    sub = read_flow_logs(SAMPLES / "connectivity", engine="dask", columns=["dst_port", "mac"])
    assert list(sub.columns) == ["dst_port", "mac"] and str(sub.dst_port.dtype) == "uint16"


def test_nothing_matches_gives_one_empty_partition(dask_client) -> None:
    ddf = read_flow_logs(SAMPLES / "connectivity", engine="dask", start="2030-01-01")
    out = ddf.compute()
    assert ddf.npartitions == 1 and out.shape == (0, 23)


@pytest.mark.parametrize("name", SCENARIOS)
def test_dask_read_equals_pandas_read(dask_client, frames: dict[str, pd.DataFrame], name: str) -> None:
    ddf = _dask(SAMPLES / name)
    assert ddf.npartitions >= 3
    assert_same_frame(ddf.compute(), frames[name])
    window = dict(start="2024-05-01T10:30Z", end="2024-05-01T11:30Z", columns=["flow_time", "src_ip", "rule"])
    got = _dask(SAMPLES / name, **window).compute()
    want = read_json(SAMPLES / name, **window)
    assert got.dtypes.equals(want.dtypes)
    for col in window["columns"]:
        assert got[col].astype(object).tolist() == want[col].astype(object).tolist()


def test_task_names_never_show_the_source(dask_client) -> None:
    secret = "sv=2024&sig=NOT-A-REAL-SIGNATURE"
    ddf = read_flow_logs_dask(SecretSource(SAMPLES / "encryption", secret), partition_bytes=60_000)
    names = [str(k) for k in ddf.__dask_graph__().keys()]
    assert names and all(secret not in n and "SecretSource" not in n for n in names)
    assert any(n.startswith("('flowkit-read-") for n in names)
    assert len(ddf.compute()) == len(read_json(SAMPLES / "encryption"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_aggregates_equal_pandas_on_the_samples(dask_client, frames: dict[str, pd.DataFrame], name: str) -> None:
    bys = ("ip", "mac", "subnet") if name == "nsg-vs-vnet" else ("ip",)
    assert_aggregates_equal(_dask(SAMPLES / name), frames[name], bys)


def _projections(ddf) -> list[list[str]]:
    """The columns each partition reader of the optimised graph is asked for."""
    from dask.dataframe.dask_expr.io import FromMapProjectable

    return [op.columns for op in ddf.optimize(fuse=False).expr.find_operations(FromMapProjectable)]


@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_selected_columns_are_the_only_ones_the_workers_read(dask_client, tmp_path: Path, layout: str) -> None:
    source = SAMPLES / "nsg-vs-vnet"
    if layout == "parquet":
        convert(source, tmp_path / "ds")
        source = tmp_path / "ds"
    ddf = read_flow_logs_dask(source, partition_bytes=60_000, partition_rows=100)
    assert ddf.npartitions > 3
    picked = ddf[["dst_port", "rule", "src_ip"]]
    assert _projections(picked) == [["src_ip", "dst_port", "rule"]]  # in the collection's order
    assert _projections(ddf) == [list(COLUMNS)]
    frame = read_json(SAMPLES / "nsg-vs-vnet")
    got = picked.compute()
    assert list(got.columns) == ["dst_port", "rule", "src_ip"] and len(got) == len(frame)
    assert sorted(got["dst_port"].tolist()) == sorted(frame["dst_port"].tolist())
    assert got["rule"].astype(str).value_counts().to_dict() == frame["rule"].astype(str).value_counts().to_dict()
    assert int(ddf["bytes_sent"].sum().compute()) == int(frame["bytes_sent"].sum())  # a single column


def test_dask_from_parquet_and_generated_corpus(dask_client, corpus_dir: Path, tmp_path: Path) -> None:
    frame = read_json(corpus_dir)
    assert frame["flow_time"].dt.floor("h").nunique() >= 3 and frame["mac"].nunique() > 3
    dest = tmp_path / "corpus.parquet"
    convert(corpus_dir, dest)
    rows = [f.rows for f in dataset_files(dest)]
    assert len(rows) == len(list(dest.rglob("*.parquet"))) >= 3 and sum(rows) == len(frame) < PARTITION_ROWS
    assert read_flow_logs(dest, engine="dask").npartitions == 1  # small files are read together
    paired = read_flow_logs_dask(dest, partition_rows=rows[0] + rows[1])  # the first two files together
    groups = file_groups(rows, rows[0] + rows[1])
    assert groups[0] == [0, 1] and paired.npartitions == len(groups) < len(rows)
    assert [len(p.compute()) for p in paired.to_delayed()] == [sum(rows[i] for i in g) for g in groups]
    assert_same_frame(paired.compute(), frame)
    ddf = read_flow_logs_dask(dest, partition_rows=1)  # a file per partition
    assert ddf.npartitions == len(rows)
    assert_same_frame(ddf.compute(), frame)
    # by="mac" is compared on the samples only: for a NIC with addresses in two subnets,
    # talker_graph's node "subnet" is that of whichever address comes first in the
    # frame's categories, an order the Dask engine does not reproduce.
    assert_aggregates_equal(ddf, frame, bys=("ip", "subnet"))
    from_json = _dask(corpus_dir, partition_bytes=1_000_000)
    assert from_json.npartitions > 3
    assert graph_dict(talker_graph_dask(from_json)) == graph_dict(talker_graph(frame))


def test_pandas_frames_go_to_the_pandas_functions(frames: dict[str, pd.DataFrame]) -> None:
    frame = frames["encryption"]
    assert graph_dict(talker_graph_dask(frame)) == graph_dict(talker_graph(frame))
    assert encryption_counts_dask(frame)["by_state"] == encryption_audit(frame, figures=False).facts["by_state"]
    assert nsg_vnet_keys_dask(frame)["matched"] == compare_nsg_vnet(frame, figures=False).facts["matched"]
    assert denied_summary_dask(frame).summary == denied_summary(frame).summary


def test_denied_summary_dask_port_scan_across_partitions(dask_client, tmp_path: Path) -> None:
    write_denied_corpus(tmp_path)
    frame = read_json(tmp_path)
    assert denied_mask(frame).mean() > 0.9
    ddf = _dask(tmp_path, partition_bytes=1_000)
    assert ddf.npartitions == 5  # one blob per partition: WEB for 4 hours, APP for one
    table = assert_same_denied(ddf, frame)
    rows = {(r.src_ip, r.dst_port): r for r in table.itertuples()}
    scan = rows[SCAN_SRC, 80]  # seen once an hour, in 4 partitions; the ACL tie goes to the smaller name
    assert (scan.tuples, scan.attempts, scan.max_in_window, scan.acl_id) == (4, 4, 1, OTHER_ACL)
    storm = rows[STORM_SRC, 22]  # 10 attempts in each of two partitions, 20 within 10 minutes
    assert (storm.attempts, storm.max_in_window, storm.retry_storm) == (20, 20, True)
    sql = rows["10.1.0.5", 1433]  # denied at both NICs, in two partitions: each attempt counts once
    assert (sql.tuples, sql.attempts, sql.where, sql.observers) == (
        60, 30, "destination-inbound,source-outbound", ",".join(sorted([WEB_MAC, APP_MAC])))
    assert table["dst_ip"].eq(WEB_IP).all()
    # Only one row per group is computed into the client, however many denied tuples there are.
    groups_dd, _ = _denied_groups_dask(ddf, storm_window_ms("10min"))
    groups = groups_dd.compute()
    assert len(groups) == len(table) == 602
    assert not groups.duplicated(["src", "dst", "dst_port", "protocol", "rule"]).any()
    assert int(groups["tuples"].sum()) == int(denied_mask(frame).sum()) > 3 * len(groups)
    # A threshold the split storm reaches in neither partition alone.
    assert_same_denied(ddf, frame, storm_threshold=15, storm_window="5min")


def _tie_rows() -> list[dict]:
    """One group under two aclIDs twice each (the first seen is the larger name), one group with
    a VNet aclID and an NSG resource ID once each, and two groups with equal attempts."""
    t0 = pd.Timestamp("2024-05-01T10:00Z")
    acl = [{"flow_time": t0 + pd.Timedelta(minutes=i), "src_port": 40000 + i, "acl_id": name}
           for i, name in enumerate(["acl-zulu", "acl-zulu", "acl-alpha", "acl-alpha"])]
    mixed = [{"dst_port": 3389, "acl_id": "acl-zulu"},
             {"dst_port": 3389, "log_type": "nsg", "acl_id": None, "mac": "000D3A000102",
              "resource_id": "/subscriptions/x/providers/Microsoft.Network/networkSecurityGroups/nsg-web"}]
    protocols = [{"dst_port": 53, "protocol": p, "rule": r} for p in (17, 6)
                 for r in ("UserRule_DenyDns", "DefaultRule_DenyAllInBound")]
    return acl + mixed + protocols


def test_denied_summary_dask_acl_tie_whatever_the_row_order(dask_client) -> None:
    from dask import delayed

    rows = _tie_rows()
    want = denied_summary(denied_frame(rows)).evidence["denied"]
    assert want.loc[want["dst_port"] == 22, "acl_id"].tolist() == ["acl-alpha"]
    assert want.loc[want["dst_port"] == 3389, "acl_id"].tolist() == [
        "/subscriptions/x/providers/Microsoft.Network/networkSecurityGroups/nsg-web"]
    assert want.loc[want["dst_port"] == 53, ["protocol", "rule"]].values.tolist() == [
        ["tcp", "DefaultRule_DenyAllInBound"], ["tcp", "UserRule_DenyDns"],
        ["udp", "DefaultRule_DenyAllInBound"], ["udp", "UserRule_DenyDns"]]
    for seed in range(3):
        order = pd.Series(range(len(rows))).sample(frac=1, random_state=seed).tolist()
        shuffled = [rows[i] for i in order]
        # three partitions, each with categories of its own
        chunks = [denied_frame(shuffled[i::3]) for i in range(3)]
        ddf = from_parts([delayed(c) for c in chunks], empty_frame())
        got = denied_summary_dask(ddf).evidence["denied"]
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_nsg_vnet_keys_dask_window_one_log_is_absent_from(dask_client) -> None:
    """start/end given and only VNet tuples in it: nothing compared, as compare_nsg_vnet says."""
    ddf = _dask(SAMPLES / "encryption")
    window = {"start": "2024-05-01T10:30Z", "end": "2024-05-01T11:30Z"}
    assert nsg_vnet_keys_dask(ddf, **window) == {"matched": 0, "nsg_only": 0, "vnet_only": 0, "outside_window": 0}
    assert compare_nsg_vnet(read_json(SAMPLES / "encryption"), figures=False, **window).verdict == "no-overlap"


def test_encryption_counts_dask_names_the_vm_that_cannot_encrypt_not_its_peer(dask_client) -> None:
    from dask import delayed

    from flowkit.schema import coerce

    def row(minute, src, dst, direction, mac, enc, sport=50000):
        return dict(flow_time=pd.Timestamp("2024-05-01T10:00Z") + pd.Timedelta(minutes=minute), src_ip=src,
                    dst_ip=dst, src_port=sport, dst_port=5432, protocol=6, direction=direction, decision="allow",
                    state="E", encryption=enc, packets_sent=1, bytes_sent=100, packets_received=1,
                    bytes_received=100, mac=mac, log_type="vnet")

    hw = "NX_HW_NOT_SUPPORTED"
    rows = [row(0, "10.20.1.6", "10.20.2.5", "outbound", "000D3A000404", hw),   # the sender cannot encrypt
            row(0, "10.20.1.6", "10.20.2.5", "inbound", "000D3A000405", hw),    # ... its peer can't be told
            row(1, "10.20.3.7", "10.20.4.8", "outbound", "000D3A000407", "X", 50001),  # 10.20.3.7 encrypts
            row(2, "10.20.3.7", "10.20.2.6", "inbound", "000D3A000406", hw, 50002)]    # so 406 is the cause
    frame = coerce(pd.DataFrame(rows))
    want = encryption_audit(frame, figures=False).facts
    assert want["unsupported_macs"] == ["000D3A000404", "000D3A000406"]
    ddf = from_parts([delayed(coerce(pd.DataFrame(rows[i::2]))) for i in range(2)], empty_frame())
    counts = encryption_counts_dask(ddf)
    assert counts == {k: want[k] for k in counts}


def test_talker_graph_dask_keeps_unknown_traffic_unknown_and_warns_of_shared_addresses(dask_client,
                                                                                        tmp_path: Path) -> None:
    """NSG v1 and NSG v2 B-only flows have no counters (NaN, not 0); 10.0.0.4 is at two NICs."""
    import warnings

    from flowkit.errors import FlowkitDataWarning
    from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, VNET_TUPLES, blob, nsg_record, vnet_record

    files = {"v1.json": nsg_record({"UserRule_v1": NSG_V1_TUPLES}, version=1, mac="000D3A0000A1"),
             "v2b.json": nsg_record({"UserRule_b": [NSG_V2_TUPLES[3]]}, mac="000D3A0000A2"),
             "v2.json": nsg_record({"UserRule_v2": NSG_V2_TUPLES[:3]}, mac="000D3A0000A3"),
             "vnet.json": vnet_record([("acl", "r", VNET_TUPLES)], mac="000D3A0000A4")}
    for name, record in files.items():
        (tmp_path / name).write_bytes(blob([record]))
    frame = read_json(tmp_path)
    ddf = _dask(tmp_path, partition_bytes=500)
    assert ddf.npartitions == 4
    for by in ("ip", "mac", "subnet"):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            mine, theirs = talker_graph_dask(ddf, by), talker_graph(frame, by)
        assert graph_dict(mine) == graph_dict(theirs), by
        shared = [w for w in seen if issubclass(w.category, FlowkitDataWarning) and "more than one NIC" in str(w.message)]
        assert len(shared) == (2 if by == "mac" else 0), by  # one from each engine
    G = talker_graph_dask(ddf)
    scan = G.edges["203.0.113.9", "10.0.0.4"]  # v1 and v2 B tuples only: no counters anywhere
    assert (scan["flows"], scan["flows_counted"]) == (1, 0) and math.isnan(scan["bytes"])
    web = G.edges["192.0.2.10", "10.0.0.4"]  # v1 (none) and v2 C+E (12+2 packets) at two NICs
    assert (web["flows"], web["flows_counted"], web["packets_sent"], web["bytes_sent"]) == (1, 1, 14, 3520)
    assert G.nodes["10.0.0.4"]["bytes_out"] == 9800 + 60 and G.nodes["10.0.0.4"]["bytes_in"] == 3520
