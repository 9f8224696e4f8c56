"""The Dask engine on a 2-worker LocalCluster: same rows and same aggregates as pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.read import read_flow_logs
from flowkit.scale.aggregations import (denied_summary_dask, encryption_counts_dask, nsg_vnet_keys_dask,
                                        talker_graph_dask)
from flowkit.scale.dask_read import read_flow_logs_dask
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.local import LocalSource
from flowkit.store.parquet import convert

from scale_helpers import SAMPLES, SCENARIOS, assert_same_frame, graph_dict, read_json

dd = pytest.importorskip("dask.dataframe")

KEY_FACTS = ("matched", "nsg_only", "vnet_only", "outside_window", "window", "common_macs", "nsg_only_macs",
             "vnet_only_macs")


class SecretSource(LocalSource):
    """A local source holding a credential, as an Azure source may."""

    def __init__(self, paths, token: str) -> None:
        super().__init__(paths)
        self.token = token

    def __repr__(self) -> str:
        return f"SecretSource(token={self.token!r})"


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: read_json(SAMPLES / name) for name in SCENARIOS}


def _dask(source, **kwargs):
    # small partitions, so that every scenario spans several partitions and workers
    return read_flow_logs_dask(source, partition_bytes=kwargs.pop("partition_bytes", 60_000), **kwargs)


def assert_aggregates_equal(ddf, frame: pd.DataFrame, bys=("ip",)) -> None:
    for by in bys:
        assert graph_dict(talker_graph_dask(ddf, by)) == graph_dict(talker_graph(frame, by)), by
    mine, theirs = denied_summary_dask(ddf), denied_summary(frame)
    pd.testing.assert_frame_equal(mine.evidence["denied"], theirs.evidence["denied"], check_exact=True)
    assert (mine.verdict, mine.summary, mine.facts) == (theirs.verdict, theirs.summary, theirs.facts)
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


def test_dask_from_parquet_and_generated_corpus(dask_client, corpus_dir: Path, tmp_path: Path) -> None:
    frame = read_json(corpus_dir)
    assert frame["flow_time"].dt.floor("h").nunique() >= 3 and frame["mac"].nunique() > 3
    dest = tmp_path / "corpus.parquet"
    convert(corpus_dir, dest)
    ddf = read_flow_logs(dest, engine="dask")
    assert ddf.npartitions == len(list(dest.rglob("*.parquet"))) >= 3
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
