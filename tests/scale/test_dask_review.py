"""Review fixes of the Dask engine: each test compares with the pandas functions on the same rows.

* compare_nsg_vnet_dask(nsg, vnet) reads NSG rows of the first frame and VNet rows of the second;
* its ``differences`` come in the pandas order (by key, outside-window keys last);
* unreadable blobs raise FormatError and quarantined input warns, as the pandas read does;
* encryption bytes take each counter's largest observer, as ``flow_counters``;
* a pandas frame with a Dask one, an empty read, ``with_report`` and a cluster without dashboard.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.errors import ArgumentError, FlowkitDataWarning, FormatError
from flowkit.findings import Finding
from flowkit.read import read_flow_logs
from flowkit.scale.aggregations import encryption_counts_dask, nsg_vnet_keys_dask, talker_graph_dask
from flowkit.scale.compare import compare_nsg_vnet_dask
from flowkit.scale.dask_read import read_flow_logs_dask
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.store.convert import convert

from scale_helpers import SAMPLES, assert_same_frame, graph_dict, read_json

dd = pytest.importorskip("dask.dataframe")

SUB = "00000000-0000-0000-0000-0000000000aa"
T0 = int(pd.Timestamp("2024-05-01T10:00Z").timestamp())  # seconds
NIC_A, NIC_B = "000D3A0000A1", "000D3A0000B2"
FLOW_LOG = f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/NWRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL"
KEY_FACTS = ("matched", "nsg_only", "vnet_only", "outside_window", "window", "common_macs", "nsg_only_macs",
             "vnet_only_macs")


# --- hand-written blobs in Azure's layout ---------------------------------------------------------

def vnet_record(minute: int, mac: str, tuples: list[str], flow_log: str = FLOW_LOG,
                rule: str = "DefaultRule_AllowInternetOutBound") -> dict:
    return {"time": f"2024-05-01T10:{minute:02d}:30.1234567Z", "flowLogVersion": 4,
            "flowLogGUID": "00000000-0000-0000-0000-0000000000bb", "macAddress": mac, "category": "FlowLogFlowEvent",
            "flowLogResourceID": flow_log, "targetResourceID": f"/subscriptions/{SUB}/virtualNetworks/vn",
            "operationName": "FlowLogFlowEvent",
            "flowRecords": {"flows": [{"aclID": "00000000-1234-abcd-ef00-c1c2c3c4c5c6",
                                       "flowGroups": [{"rule": rule, "flowTuples": tuples}]}]}}


def nsg_record(minute: int, mac: str, tuples: list[str], rule: str = "DefaultRule_AllowInternetOutBound") -> dict:
    return {"time": f"2024-05-01T10:{minute:02d}:30.1234567Z", "systemId": "00000000-0000-0000-0000-0000000000cc",
            "macAddress": mac, "category": "NetworkSecurityGroupFlowEvent",
            "resourceId": f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/"
                          "NETWORKSECURITYGROUPS/NSG1",
            "operationName": "NetworkSecurityGroupFlowEvents",
            "properties": {"Version": 2, "flows": [{"rule": rule, "flows": [{"mac": mac, "flowTuples": tuples}]}]}}


def write_blob(root: Path, kind: str, mac: str, records: list[dict] | None = None, *, raw: bytes | None = None,
               hour: str = "2024-05-01T10:00Z", flow_log: str = "FL") -> Path:
    """One PT1H.json blob of ``kind`` ("nsg" or "vnet") for ``mac`` and ``hour``."""
    if kind == "vnet":
        path = root / VNET_CONTAINER / vnet_blob_name(SUB, "NWRG", "NW", flow_log, hour, mac)
    else:
        path = root / NSG_CONTAINER / nsg_blob_name(SUB, "RG", "NSG1", hour, mac)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw if raw is not None else json.dumps({"records": records}).encode())
    return path


def nsg_tuple(second: int, src: str, dst: str, sport: int, dport: int, decision: str = "A",
              counters: str = "10,1000,5,500") -> str:
    return f"{T0 + second},{src},{dst},{sport},{dport},T,O,{decision},E,{counters}"


def vnet_tuple(second: int, src: str, dst: str, sport: int, dport: int, state: str = "E", enc: str = "NX",
               counters: str = "10,1000,5,500", direction: str = "O") -> str:
    return f"{(T0 + second) * 1000},{src},{dst},{sport},{dport},6,{direction},{state},{enc},{counters}"


def assert_same_reconciliation(mine: Finding, theirs: Finding) -> None:
    """Everything of the pandas finding but ``keys``, exactly: ``differences`` in the same row order."""
    assert (mine.title, mine.verdict, mine.severity, mine.summary) == (
        theirs.title, theirs.verdict, theirs.severity, theirs.summary)
    assert repr(mine.facts) == repr(theirs.facts)
    assert set(mine.evidence) == set(theirs.evidence) - {"keys"}
    for name in set(mine.evidence):
        pd.testing.assert_frame_equal(mine.evidence[name], theirs.evidence[name], check_exact=True)


# --- 1. each log's own rows -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_nics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NICs A and B, each logged by NSG and VNet flow logs: one flow each, with counters."""
    root = tmp_path_factory.mktemp("two-nics")
    for i, mac in enumerate((NIC_A, NIC_B)):
        src = f"192.0.2.{i + 1}"
        write_blob(root, "nsg", mac, [nsg_record(5, mac, [nsg_tuple(60, src, "198.51.100.2", 50000, 443)])])
        write_blob(root, "vnet", mac, [vnet_record(5, mac, [vnet_tuple(60, src, "198.51.100.2", 50000, 443)])])
    return root


@pytest.mark.parametrize("nsg_kw, vnet_kw, verdict", [
    pytest.param({}, {"log_type": "vnet", "mac": NIC_A}, "not-ready", id="all-vs-vnet-of-one-nic"),
    pytest.param({}, {}, "ready", id="all-vs-all"),
    pytest.param({"log_type": "nsg"}, {}, "ready", id="nsg-vs-all"),
    pytest.param({}, {"log_type": "vnet"}, "ready", id="all-vs-vnet"),
])
def test_compare_two_frames_reads_nsg_rows_of_the_first_and_vnet_rows_of_the_second(
        dask_client, two_nics: Path, nsg_kw: dict, vnet_kw: dict, verdict: str) -> None:
    theirs = compare_nsg_vnet(read_json(two_nics, **nsg_kw), read_json(two_nics, **vnet_kw), figures=False)
    mine = compare_nsg_vnet_dask(read_flow_logs(two_nics, engine="dask", **nsg_kw),
                                 read_flow_logs(two_nics, engine="dask", **vnet_kw), figures=False)
    assert_same_reconciliation(mine, theirs)
    assert mine.verdict == verdict and mine.facts["counter_mismatch"] == 0  # no tuple counted twice
    if verdict == "ready":  # every key matched: the empty table, with the pandas columns and dtypes
        assert len(mine.evidence["differences"]) == 0 and mine.facts["matched"] == 2
    if verdict == "not-ready":  # B's NSG flow is at a NIC the VNet logs given do not cover
        assert (mine.facts["matched"], mine.facts["nsg_only"], mine.facts["explained"]) == (
            1, 1, {"mac-not-logged": 1})


@pytest.mark.parametrize("pandas_side", ["nsg", "vnet"])
def test_a_pandas_frame_with_a_dask_frame(dask_client, two_nics: Path, pandas_side: str) -> None:
    frames = {"nsg": read_json(two_nics), "vnet": read_json(two_nics, log_type="vnet", mac=NIC_A)}
    lazy = {"nsg": read_flow_logs(two_nics, engine="dask"),
            "vnet": read_flow_logs(two_nics, engine="dask", log_type="vnet", mac=NIC_A)}
    given = {side: frames[side] if side == pandas_side else lazy[side] for side in ("nsg", "vnet")}
    theirs = compare_nsg_vnet(frames["nsg"], frames["vnet"], figures=False)
    assert nsg_vnet_keys_dask(given["nsg"], given["vnet"]) == {k: theirs.facts[k] for k in KEY_FACTS}
    assert_same_reconciliation(compare_nsg_vnet_dask(given["nsg"], given["vnet"], figures=False), theirs)


# --- 7. differences in the pandas order -----------------------------------------------------------

@pytest.fixture(scope="module")
def every_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys of every class whose key order is not their class order: a decision mismatch from
    192.0.2.9, NSG-only 192.0.2.1, VNet-only 192.0.2.5 at 10:xx and 192.0.2.0 at 11:xx (outside
    a 10:00-11:00 window) and 192.0.2.3 seen by both logs."""
    root = tmp_path_factory.mktemp("every-class")
    dst = "198.51.100.2"
    nsg = [nsg_tuple(60, "192.0.2.9", dst, 50009, 443), nsg_tuple(70, "192.0.2.1", dst, 50001, 443),
           nsg_tuple(80, "192.0.2.3", dst, 50003, 443)]
    vnet = [vnet_tuple(60, "192.0.2.9", dst, 50009, 443, state="D", counters="0,0,0,0"),
            vnet_tuple(75, "192.0.2.5", dst, 50005, 443), vnet_tuple(80, "192.0.2.3", dst, 50003, 443)]
    write_blob(root, "nsg", NIC_A, [nsg_record(5, NIC_A, nsg)])
    write_blob(root, "vnet", NIC_A, [vnet_record(5, NIC_A, vnet)])
    late = 3600 + 120
    write_blob(root, "nsg", NIC_A, [nsg_record(5, NIC_A, [nsg_tuple(late, "192.0.2.0", dst, 50000, 443)])],
               hour="2024-05-01T11:00Z")
    write_blob(root, "vnet", NIC_A, [vnet_record(5, NIC_A, [vnet_tuple(late, "192.0.2.0", dst, 50000, 443)])],
               hour="2024-05-01T11:00Z")
    return root


@pytest.mark.parametrize("rows_per_partition", [2, 1000], ids=["split", "one"])
def test_differences_come_in_the_pandas_order(dask_client, every_class: Path, rows_per_partition: int) -> None:
    window = {"start": "2024-05-01T10:00Z", "end": "2024-05-01T11:00Z"}
    theirs = compare_nsg_vnet(read_json(every_class), figures=False, **window)
    ddf = read_flow_logs_dask(every_class, partition_bytes=500)
    assert ddf.npartitions == 4
    mine = compare_nsg_vnet_dask(ddf, figures=False, rows_per_partition=rows_per_partition, **window)
    assert_same_reconciliation(mine, theirs)
    got = mine.evidence["differences"]
    assert list(zip(got["src_ip"], got["class"])) == [
        ("192.0.2.1", "nsg-only"), ("192.0.2.5", "vnet-only"), ("192.0.2.9", "matched"),
        ("192.0.2.0", "outside-window")]


# --- 2. unreadable blobs --------------------------------------------------------------------------

ERROR_PAGE = b"<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code></Error>"


def test_a_blob_that_is_not_a_flow_log_raises_the_pandas_format_error(dask_client, tmp_path: Path) -> None:
    write_blob(tmp_path, "vnet", NIC_A, raw=ERROR_PAGE)
    with pytest.raises(FormatError) as pandas_error:
        read_flow_logs(tmp_path)
    ddf = read_flow_logs(tmp_path, engine="dask")
    with pytest.raises(FormatError) as dask_error:
        ddf.compute()
    assert str(dask_error.value) == str(pandas_error.value)
    assert "is not JSON" in str(dask_error.value) and "AuthenticationFailed" in str(dask_error.value)
    with pytest.raises(FormatError, match="no flow-log records found"):
        compare_nsg_vnet_dask(ddf, figures=False)


def test_an_error_page_in_one_partition_of_several_warns_as_the_pandas_read_does(dask_client,
                                                                                 tmp_path: Path) -> None:
    write_blob(tmp_path, "vnet", NIC_A, [vnet_record(5, NIC_A, [vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443)])])
    write_blob(tmp_path, "vnet", NIC_B, raw=ERROR_PAGE)
    with pytest.warns(FlowkitDataWarning, match="record:not-json: 1"):
        frame = read_flow_logs(tmp_path)
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=100)
    assert ddf.npartitions == 2
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = ddf.compute()
    assert_same_frame(got.astype({"blob": str}), frame.astype({"blob": str}))  # pandas lists the page's blob too
    [message] = _flowkit_warnings(seen)
    assert message.startswith("flowkit: 1 file(s), 0 record(s), 0 tuple(s): 0 row(s), 0 quarantined "
                              "(record:not-json: 1) (no flow-log records found: ")
    assert "AuthenticationFailed" in message and message.endswith("gives the load report")
    assert len(got) == 1
    write_blob(tmp_path, "vnet", NIC_A, raw=ERROR_PAGE)  # every partition unreadable: an empty frame, two warnings
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ddf = read_flow_logs_dask(tmp_path, partition_bytes=50)
        assert ddf.npartitions == 2 and len(ddf.compute()) == 0
    assert len(_flowkit_warnings(seen)) == 2


def test_compare_cli_on_an_error_page_exits_2_with_the_pandas_message(dask_client, tmp_path: Path, capsys) -> None:
    from flowkit.cli import main

    write_blob(tmp_path, "vnet", NIC_A, raw=ERROR_PAGE)
    argv = ["compare", "--nsg", str(tmp_path), "--vnet", str(tmp_path), "--json"]
    assert main(argv) == 2
    want = capsys.readouterr()
    assert main(argv + ["--dask", dask_client.scheduler.address]) == 2
    got = capsys.readouterr()
    assert got.err == want.err and got.err.startswith("flowkit compare: error: no flow-log records found: ")
    assert got.out == want.out == ""


def _damaged(root: Path) -> Path:
    """NIC A: a good blob; NIC B: a truncated record, and a tuple with a bad address."""
    write_blob(root, "vnet", NIC_A, [vnet_record(5, NIC_A, [vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443)])])
    good = json.dumps({"records": [vnet_record(6, NIC_B, [vnet_tuple(61, "10.0.0.5", "10.0.0.4", 50001, 443),
                                                          vnet_tuple(62, "10.0.0.5", "not-an-ip", 50002, 443)])]})
    write_blob(root, "vnet", NIC_B, raw=(good[:-2] + ',{"time":"2024-05-01T10:0').encode())
    return root


def _flowkit_warnings(seen: list) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, FlowkitDataWarning)]


def test_quarantined_and_damaged_input_warns_on_the_client(dask_client, tmp_path: Path) -> None:
    _damaged(tmp_path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame, report = read_flow_logs(tmp_path, with_report=True)
    assert report.quarantined == 1 and len(report.problems) == 1
    assert _flowkit_warnings(seen) == [f"flowkit: {report.summary()}; see the load report"]
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=100)
    assert ddf.npartitions == 2  # the good blob and the damaged one
    for compute in (ddf.compute, lambda: talker_graph_dask(ddf)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            result = compute()
        got = _flowkit_warnings(seen)
        assert len(got) == 1, got  # the damaged partition only, before its result arrived
        assert got[0].startswith("flowkit: 1 file(s), 2 record(s), 2 tuple(s): 1 row(s), 1 quarantined (")
        assert "record:truncated-record: 1" in got[0] and "flowkit.load_report_dask" in got[0]
    assert graph_dict(result) == graph_dict(talker_graph(frame))
    with pytest.warns(FlowkitDataWarning):
        assert_same_frame(ddf.compute(), frame)


def test_a_parquet_dataset_warns_at_the_read_of_what_its_conversion_quarantined(dask_client,
                                                                               tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        convert(_damaged(tmp_path / "json"), tmp_path / "ds")
    with pytest.warns(FlowkitDataWarning, match="1 quarantined"):
        frame = read_flow_logs(tmp_path / "ds")
    with pytest.warns(FlowkitDataWarning, match=r"1 tuple\(s\) quarantined, 1 damaged record"):
        ddf = read_flow_logs(tmp_path / "ds", engine="dask")
    assert_same_frame(ddf.compute(), frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlowkitDataWarning)  # NIC A's blob had nothing quarantined
        assert_same_frame(read_flow_logs(tmp_path / "ds", engine="dask", mac=NIC_A).compute(),
                          read_flow_logs(tmp_path / "ds", mac=NIC_A))


def test_with_report_says_the_dask_engine_has_none() -> None:
    with pytest.raises(ArgumentError, match="has no report to return; flowkit.load_report_dask"):
        read_flow_logs(SAMPLES / "connectivity", engine="dask", with_report=True)


# --- 3. encryption bytes: each counter's largest observer ----------------------------------------

def test_encryption_bytes_take_each_counters_largest_observer(dask_client, tmp_path: Path) -> None:
    """10.0.0.4 -> 10.0.0.5 (X) seen at both NICs with different counters (A sent more, B received
    more), and 10.0.0.4 -> 10.0.0.6 (NX) at A by two flow logs (two observers of one MAC)."""
    other_log = FLOW_LOG.replace("/FL", "/FL-NIC")
    write_blob(tmp_path, "vnet", NIC_A, [vnet_record(5, NIC_A, [
        vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443, enc="X", counters="10,1000,1,100"),
        vnet_tuple(120, "10.0.0.4", "10.0.0.6", 50001, 443, counters="10,1000,1,100")])])
    write_blob(tmp_path, "vnet", NIC_B, [vnet_record(5, NIC_B, [
        vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443, enc="X", counters="9,900,2,200", direction="I")])])
    write_blob(tmp_path, "vnet", NIC_A, [vnet_record(5, NIC_A, [
        vnet_tuple(120, "10.0.0.4", "10.0.0.6", 50001, 443, counters="10,1000,1,100")], flow_log=other_log)],
        flow_log="FL-NIC")
    frame = read_json(tmp_path)
    want = encryption_audit(frame, figures=False).facts
    assert want["bytes_encrypted_share"] == (1000 + 200) / (1000 + 200 + 1000 + 100)
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=100)
    assert ddf.npartitions == 3
    counts = encryption_counts_dask(ddf)
    assert counts == {k: want[k] for k in counts}


# --- 8. an empty read -----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_an_empty_read_computes_to_the_pandas_empty_frame(dask_client, tmp_path: Path, layout: str) -> None:
    source = SAMPLES / "connectivity"
    if layout == "parquet":
        convert(source, tmp_path / "ds")
        source = tmp_path / "ds"
    window = {"start": "2030-01-01", "end": "2030-01-02"}
    ddf = read_flow_logs(source, engine="dask", **window)
    assert ddf.npartitions == 1 and ddf["mac"].cat.known is False  # the meta of every read
    got, want = ddf.compute(), read_json(source, **window)
    assert_same_frame(got, want)
    assert got.dtypes.equals(want.dtypes) and list(got["mac"].cat.categories) == []
    picked = ddf[["mac", "dst_port"]].compute()
    assert picked.dtypes.equals(want[["mac", "dst_port"]].dtypes) and len(picked) == 0
    assert_same_frame(dd.concat([ddf, read_flow_logs(source, engine="dask")]).compute(), read_json(source))


# --- 10. no dashboard -----------------------------------------------------------------------------

def test_local_cluster_without_a_dashboard() -> None:
    import psutil
    from distributed import Client

    from flowkit.scale.cluster import local_cluster

    with local_cluster(n_workers=1, dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        assert client.submit(sum, [1, 2]).result() == 3
        assert cluster.scheduler_spec["options"]["dashboard"] is False  # no dashboard asked of the scheduler
        # distributed still serves its plain HTTP routes (health, metrics): on 127.0.0.1 too
        port = client.scheduler_info()["services"]["dashboard"]
        listening = [c.laddr for c in psutil.Process().net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        local_cluster(dashboard_address="0.0.0.0:0")
