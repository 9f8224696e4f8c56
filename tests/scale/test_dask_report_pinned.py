"""Pinned behaviour of flowkit.scale.dask_report found by mutation testing (synchronous scheduler)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

from flowkit.errors import FlowkitDataWarning
from flowkit.scale import dask_report
from flowkit.scale.dask_report import _ReportBlobs, inspect_dask, load_report_dask
from flowkit.sources.local import LocalSource

from test_dask_report import assert_same_report, pandas_report
from test_dask_review import ERROR_PAGE, NIC_A, NIC_B, vnet_record, vnet_tuple, write_blob

dask = pytest.importorskip("dask")


pytestmark = pytest.mark.usefixtures("synchronous_dask")  # tests/scale/conftest.py


def _good(root: Path, mac: str = NIC_A, hour: str = "2024-05-01T10:00Z") -> Path:
    return write_blob(root, "vnet", mac, [vnet_record(5, mac, [vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443)])],
                      hour=hour)


def test_the_public_names() -> None:
    assert dask_report.__all__ == ["load_report_dask", "inspect_dask"]
    assert all(callable(getattr(dask_report, name)) for name in dask_report.__all__)


def _only_quarantined(root: Path) -> None:
    write_blob(root, "vnet", NIC_A, [vnet_record(5, NIC_A, [vnet_tuple(60, "10.0.0.4", "10.0.0.5", 50000, 443),
                                                            vnet_tuple(61, "10.0.0.4", "not-an-ip", 50001, 443)])])


def _only_damaged_records(root: Path) -> None:
    _good(root)
    write_blob(root, "vnet", NIC_B, raw=ERROR_PAGE)


@pytest.mark.parametrize("write, quarantined, problems", [
    pytest.param(_only_quarantined, 1, 0, id="a-quarantined-tuple-and-no-damaged-record"),
    pytest.param(_only_damaged_records, 0, 1, id="a-damaged-record-and-no-quarantined-tuple"),
])
def test_either_a_quarantined_tuple_or_a_damaged_record_warns_at_the_caller(tmp_path: Path, write, quarantined: int,
                                                                            problems: int) -> None:
    write(tmp_path)
    with pytest.warns(FlowkitDataWarning) as seen:
        report = load_report_dask(tmp_path, partition_bytes=100)
    assert (report.quarantined, len(report.problems)) == (quarantined, problems)
    assert_same_report(report, pandas_report(tmp_path))
    mine = [w for w in seen if issubclass(w.category, FlowkitDataWarning)]
    assert [str(w.message) for w in mine] == [f"flowkit: {report.summary()}; see the load report"]
    assert mine[0].filename == __file__  # the line that asked for the report, not flowkit's


def test_inspect_dask_warns_at_its_caller(tmp_path: Path) -> None:
    """It warned one frame too far out: at the caller's caller (in a notebook, IPython's own
    line, where the default filter shows a warning once, so later calls stayed silent)."""
    _only_damaged_records(tmp_path)
    with pytest.warns(FlowkitDataWarning) as seen:
        report, macs = inspect_dask(tmp_path)
    assert (len(report.problems), macs) == (1, [NIC_A])
    assert [w.filename for w in seen if issubclass(w.category, FlowkitDataWarning)] == [__file__]


def test_clean_input_does_not_warn(tmp_path: Path) -> None:
    _good(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report, macs = inspect_dask(tmp_path)
    assert (report.rows, report.quarantined, report.problems, macs) == (1, 0, (), [NIC_A])


def test_a_task_per_batch_named_by_the_listing_token_and_its_number(tmp_path: Path) -> None:
    """``flowkit-report-<32 hex digits>-<n>``: neither the source nor anything else in the name."""
    from dask.callbacks import Callback

    _good(tmp_path, NIC_A)
    _good(tmp_path, NIC_B)
    _good(tmp_path, NIC_A, hour="2024-05-01T11:00Z")
    keys: list = []
    with Callback(pretask=lambda key, dsk, state: keys.append(key)):
        report = load_report_dask(tmp_path, partition_bytes=100)
    assert report.files == 3
    names = sorted(str(k) for k in keys)
    assert len(names) == 3
    tokens = {re.fullmatch(r"flowkit-report-([0-9a-f]{32})-([0-9]+)", k).groups()[0] for k in names}
    assert len(tokens) == 1
    assert [k.rsplit("-", 1)[1] for k in names] == ["0", "1", "2"]


def test_the_task_function_shows_no_source() -> None:
    func = _ReportBlobs(object(), None, None, None, None, False)
    assert repr(func) == "flowkit-report-blobs"


def test_a_composite_source_names_each_of_its_parts(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _good(first, NIC_A)
    _good(second, NIC_B)
    source = [LocalSource(first), second]
    report, macs = inspect_dask(source)
    assert_same_report(report, pandas_report(source))
    assert len(report.sources) == 2
    assert report.sources == (LocalSource(first).describe(), LocalSource([second]).describe())
    assert (report.files, macs) == (2, [NIC_A, NIC_B])
    assert json.loads(json.dumps(report.to_dict()))["sources"] == list(report.sources)
