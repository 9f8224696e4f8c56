"""``load_report_dask`` and ``flowkit inspect --dask``: the pandas read's load report, computed on Dask.

Each test compares with ``read_flow_logs(..., with_report=True)`` on the same input.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from flowkit.errors import FlowkitDataWarning, FormatError, QuarantineError
from flowkit.load_report import LoadReport
from flowkit.read import read_flow_logs
from flowkit.scale.dask_report import inspect_dask, load_report_dask
from flowkit.sources.local import LocalSource
from flowkit.store.convert import convert

from test_dask_review import ERROR_PAGE, NIC_A, NIC_B, _damaged, vnet_record, vnet_tuple, write_blob

pytest.importorskip("distributed")


def pandas_report(source, **kwargs) -> LoadReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        return read_flow_logs(source, with_report=True, **kwargs)[1]


def assert_same_report(mine: LoadReport, theirs: LoadReport) -> None:
    assert mine.to_dict() == theirs.to_dict()
    assert mine.problems == theirs.problems
    pd.testing.assert_frame_equal(mine.quarantine, theirs.quarantine, check_exact=True)


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """NIC A: a good blob; NIC B: a truncated record and a tuple with a bad address; and an hour
    later at NIC A, a blob that is an XML error page."""
    _damaged(tmp_path)
    write_blob(tmp_path, "vnet", NIC_A, raw=ERROR_PAGE, hour="2024-05-01T11:00Z")
    return tmp_path


def test_the_report_of_damaged_input_equals_the_pandas_one(dask_client, damaged: Path) -> None:
    theirs = pandas_report(damaged)
    assert (theirs.files, theirs.records, theirs.tuples, theirs.rows, theirs.quarantined) == (3, 3, 3, 2, 1)
    assert sorted(p.reason for p in theirs.problems) == ["not-json", "truncated-record"]
    with pytest.warns(FlowkitDataWarning, match=r"^flowkit: 3 file\(s\), 3 record\(s\), 3 tuple\(s\)"):
        mine = load_report_dask(damaged, partition_bytes=100)  # a task per blob
    assert_same_report(mine, theirs)
    assert mine.quarantine["reason"].tolist() == ["invalid-address"]
    assert mine.quarantine["raw"].str.contains("not-an-ip").all()


@pytest.mark.parametrize("options", [
    pytest.param({"start": "2024-05-01T10:01:01Z"}, id="start-drops-one-tuple"),
    pytest.param({"end": "2024-05-01T11:00Z"}, id="end-skips-the-error-page-by-its-hour"),
    pytest.param({"mac": NIC_B.lower()}, id="one-nic"),
    pytest.param({"log_type": "nsg"}, id="no-nsg-logs"),
])
def test_window_type_and_mac_are_counted_as_the_pandas_read_counts_them(dask_client, damaged: Path,
                                                                        options: dict) -> None:
    theirs = pandas_report(damaged, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        mine = load_report_dask(damaged, partition_bytes=100, **options)
    assert_same_report(mine, theirs)
    assert mine.tuples == mine.rows + mine.quarantined + mine.filtered_out


def test_the_macs_are_those_of_the_rows(dask_client, damaged: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        assert inspect_dask(damaged, partition_bytes=100)[1] == [NIC_A, NIC_B]
        assert inspect_dask(damaged, start="2024-05-01T10:01:01Z")[1] == [NIC_B]  # A's one tuple is earlier


def test_input_that_holds_no_flow_log_raises_the_pandas_error(dask_client, tmp_path: Path) -> None:
    write_blob(tmp_path, "vnet", NIC_A, raw=ERROR_PAGE)
    write_blob(tmp_path, "vnet", NIC_B, raw=ERROR_PAGE)
    with pytest.raises(FormatError) as pandas_error:
        read_flow_logs(tmp_path)
    with pytest.raises(FormatError) as dask_error:
        load_report_dask(tmp_path, partition_bytes=10)
    assert str(dask_error.value) == str(pandas_error.value)
    assert "(and 1 more)" in str(dask_error.value)


def test_strict_raises_the_pandas_error(dask_client, tmp_path: Path) -> None:
    damaged = _damaged(tmp_path)  # one bad blob: which task fails first cannot change the error
    with pytest.raises(QuarantineError) as pandas_error:
        read_flow_logs(damaged, strict=True)
    with pytest.raises(QuarantineError) as dask_error:
        load_report_dask(damaged, strict=True, partition_bytes=100)
    assert str(dask_error.value) == str(pandas_error.value)
    assert str(dask_error.value).startswith("truncated-record at ")


def test_nothing_to_read_is_an_empty_report(dask_client, tmp_path: Path) -> None:
    write_blob(tmp_path, "vnet", NIC_A, [vnet_record(5, NIC_A, [vnet_tuple(60, "10.0.0.4", "10.0.0.5", 1, 2)])])
    mine = load_report_dask(tmp_path, start="2024-05-02")
    assert_same_report(mine, pandas_report(tmp_path, start="2024-05-02"))
    assert (mine.files, mine.files_skipped, mine.tuples) == (0, 1, 0)


def test_a_parquet_dataset_reports_from_its_manifest(dask_client, damaged: Path, tmp_path_factory) -> None:
    dataset = tmp_path_factory.mktemp("ds") / "flows"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        convert(damaged, dataset)
    theirs = pandas_report(dataset)
    assert (theirs.rows, theirs.quarantined) == (2, 1)
    with pytest.warns(FlowkitDataWarning):
        report, macs = inspect_dask(dataset)
    assert_same_report(report, theirs)
    assert macs == [NIC_A, NIC_B]


class _SecretSource(LocalSource):
    """A local source whose description holds a secret, as an Azure source's account key could."""

    def describe(self) -> str:
        return "local: sig=SECRETSIGNATURE0123"


def test_task_names_never_show_the_source(dask_client, damaged: Path) -> None:
    from distributed import get_task_stream

    with get_task_stream(dask_client) as stream, warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        report = load_report_dask(_SecretSource(damaged), partition_bytes=100)
    keys = [str(t["key"]) for t in stream.data]
    assert len(keys) == 3 and all(k.startswith("('flowkit-report-") or k.startswith("flowkit-report-")
                                  for k in keys), keys
    assert not any("SECRET" in k for k in keys)
    assert report.sources == ("local: sig=SECRETSIGNATURE0123",)  # the client-side report keeps it


def test_inspect_dask_prints_the_pandas_json(dask_client, damaged: Path, capsys) -> None:
    from flowkit.cli import main

    argv = ["inspect", str(damaged), "--json"]
    assert main(argv) == 0
    want = json.loads(capsys.readouterr().out)
    assert main(argv + ["--dask", dask_client.scheduler.address]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got == want
    assert (got["quarantined"], got["problems"], got["macs"]) == (
        1, {"invalid-address": 1, "record:truncated-record": 1, "record:not-json": 1}, [NIC_A, NIC_B])
