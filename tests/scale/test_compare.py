"""compare_nsg_vnet_dask on a 2-worker LocalCluster: the pandas reconciliation, causes included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.findings import Finding
from flowkit.read import read_flow_logs
from flowkit.scale.compare import compare_nsg_vnet_dask
from flowkit.scale.dask_read import read_flow_logs_dask
from flowkit.schema import empty_frame
from flowkit.store.convert import convert

from scale_helpers import SAMPLES, read_json

pytest.importorskip("dask.dataframe")


def assert_same_reconciliation(mine: Finding, theirs: Finding) -> None:
    """Everything of the pandas finding but its ``keys`` table, exactly (dtypes included)."""
    assert (mine.title, mine.verdict, mine.severity, mine.summary) == (
        theirs.title, theirs.verdict, theirs.severity, theirs.summary)
    assert repr(mine.facts) == repr(theirs.facts)
    assert set(mine.evidence) == set(theirs.evidence) - {"keys"}
    for name in set(theirs.evidence) & {"causes", "coverage_by_hour"}:
        pd.testing.assert_frame_equal(mine.evidence[name], theirs.evidence[name], check_exact=True)
    if "differences" in theirs.evidence:  # in the same row order (no re-sort)
        pd.testing.assert_frame_equal(mine.evidence["differences"], theirs.evidence["differences"],
                                      check_exact=True)


@pytest.fixture(scope="module")
def two_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NSG v2 and VNet blobs of the same estate over a few hours (same seed: same NICs and addresses)."""
    from flowkit.synth import write_corpus

    dest = tmp_path_factory.mktemp("two-logs")
    write_corpus(dest, "nsg", 1_500_000, seed=5)
    write_corpus(dest, "vnet", 1_000_000, seed=5)
    return dest


@pytest.mark.parametrize("window", [{}, {"start": "2024-05-01T10:30Z", "end": "2024-05-01T11:30Z"},
                                    {"max_skew": "10min"}], ids=["common-window", "given-window", "skew"])
@pytest.mark.parametrize("rows_per_partition", [100, 400], ids=["split", "combined"])
def test_equals_pandas_on_the_nsg_vs_vnet_sample(dask_client, window: dict, rows_per_partition: int) -> None:
    frame = read_json(SAMPLES / "nsg-vs-vnet")
    ddf = read_flow_logs_dask(SAMPLES / "nsg-vs-vnet", partition_bytes=60_000)
    # 851 rows: 9 shuffle partitions from fewer inputs, or 3 from more (inputs combined first)
    assert 3 < ddf.npartitions < 9 and len(frame) == 851
    mine = compare_nsg_vnet_dask(ddf, figures=False, rows_per_partition=rows_per_partition, **window)
    theirs = compare_nsg_vnet(frame, figures=False, **window)
    assert_same_reconciliation(mine, theirs)
    # the sample's ground truth: everything NSG logged is matched or explained, with decision mismatches
    assert mine.verdict == "ready" and mine.facts["decision_mismatch"] > 0
    assert {"avnm-rule", "encryption-drop", "subnet-and-nic-nsg"} <= set(mine.facts["explained"])


@pytest.fixture(scope="module")
def migration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VNet blobs and their NSG v2 twins (every NIC and hour logged by both)."""
    from flowkit.synth import write_corpus

    dest = tmp_path_factory.mktemp("migration")
    write_corpus(dest, "both", 2_500_000, seed=6)
    return dest


def test_equals_pandas_on_a_migration_corpus(dask_client, migration: Path) -> None:
    frame = read_json(migration)
    theirs = compare_nsg_vnet(frame, figures=False)
    assert theirs.verdict == "ready" and theirs.facts["matched"] > 10_000
    assert theirs.facts["decision_mismatch"] > 100 and theirs.facts["counter_mismatch"] > 1000
    ddf = read_flow_logs_dask(migration, partition_bytes=150_000)
    assert ddf.npartitions >= 6
    mine = compare_nsg_vnet_dask(ddf, figures=False, rows_per_partition=5_000)
    assert_same_reconciliation(mine, theirs)
    assert len(mine.evidence["differences"]) < theirs.facts["matched"]  # the matched keys stayed on the workers


def test_equals_pandas_on_unrelated_logs_from_parquet(dask_client, two_logs: Path, tmp_path: Path) -> None:
    """Logs that share NICs but not flows: NSG-only, VNet-only and outside-window keys by the thousand."""
    frame = read_json(two_logs)
    assert set(frame["log_type"].unique()) == {"nsg", "vnet"}
    theirs = compare_nsg_vnet(frame, figures=False)
    assert theirs.facts["nsg_only"] > 1000 and theirs.facts["vnet_only"] > 1000
    assert theirs.facts["outside_window"] > 0 and theirs.verdict == "not-ready"
    convert(two_logs, tmp_path / "flows.parquet")
    both = read_flow_logs_dask(tmp_path / "flows.parquet", partition_rows=5_000)
    assert both.npartitions >= 3
    assert_same_reconciliation(compare_nsg_vnet_dask(both, figures=False, rows_per_partition=10_000), theirs)
    nsg = read_flow_logs(tmp_path / "flows.parquet", engine="dask", log_type="nsg")
    vnet = read_flow_logs(tmp_path / "flows.parquet", engine="dask", log_type="vnet")
    given = {"start": "2024-05-01T00:30Z", "end": "2024-05-01T02:10Z"}
    assert_same_reconciliation(compare_nsg_vnet_dask(nsg, vnet, figures=False, rows_per_partition=10_000, **given),
                               compare_nsg_vnet(frame, figures=False, **given))


def test_nothing_to_compare(dask_client) -> None:
    vnet_only = read_flow_logs_dask(SAMPLES / "encryption", partition_bytes=60_000)
    frame = read_json(SAMPLES / "encryption")
    for window in ({}, {"start": "2024-05-01T10:30Z", "end": "2024-05-01T11:30Z"}):
        mine = compare_nsg_vnet_dask(vnet_only, figures=False, **window)
        assert mine.verdict == "no-overlap" and mine.facts["vnet_rows"] == len(frame)
        assert_same_reconciliation(mine, compare_nsg_vnet(frame, figures=False, **window))


def test_a_pandas_frame_goes_to_compare_nsg_vnet() -> None:
    frame = read_json(SAMPLES / "nsg-vs-vnet")
    assert_same_reconciliation(compare_nsg_vnet_dask(frame, figures=False), compare_nsg_vnet(frame, figures=False))
    assert compare_nsg_vnet_dask(empty_frame(), figures=False).verdict == "no-overlap"


def test_without_a_distributed_client_dask_local_scheduler_does_it() -> None:
    """No ``distributed.Client``: the plain Dask scheduler computes the same finding (in a fresh
    process, since this session's cluster fixture is the default client of this one)."""
    import subprocess
    import sys

    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from flowkit.read import read_flow_logs\n"
        "from flowkit.scale.compare import compare_nsg_vnet_dask\n"
        "from flowkit.scale.dask_read import read_flow_logs_dask\n"
        "from flowkit.analysis.compare import compare_nsg_vnet\n"
        "ddf = read_flow_logs_dask(sys.argv[1], partition_bytes=60_000)\n"
        "mine = compare_nsg_vnet_dask(ddf, figures=False, rows_per_partition=100)\n"
        "theirs = compare_nsg_vnet(read_flow_logs(sys.argv[1]), figures=False)\n"
        "print(mine.summary == theirs.summary and repr(mine.facts) == repr(theirs.facts), mine.verdict)\n")
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLES / "nsg-vs-vnet")], capture_output=True,
                         text=True, timeout=300, check=True)
    assert out.stdout.split() == ["True", "ready"], out.stderr[-2000:]


def test_copied_blobs_count_once_as_in_pandas(dask_client, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "nsg-vs-vnet"
    shutil.copytree(SAMPLES / "nsg-vs-vnet", root)
    for blob in sorted(root.rglob("PT1H.json"))[::3]:  # a third of the blobs, NSG and VNet, saved again
        shutil.copy(blob, blob.with_name("PT1H-fragment.json"))
    frame, plain = read_json(root), read_json(SAMPLES / "nsg-vs-vnet")
    assert len(frame) > len(plain) == 851
    mine = compare_nsg_vnet_dask(read_flow_logs_dask(root, partition_bytes=60_000), figures=False,
                                 rows_per_partition=100)
    theirs = compare_nsg_vnet(frame, figures=False)
    assert_same_reconciliation(mine, theirs)
    assert repr(theirs.facts) == repr(compare_nsg_vnet(plain, figures=False).facts)
