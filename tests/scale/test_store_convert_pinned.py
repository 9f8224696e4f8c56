"""When ``convert`` takes an hour as sealed: 15 minutes after it ends, not a moment before.

A unit taken as sealed is never read again while its blobs keep their signature;
Azure appends a record about once a minute until a few minutes after the hour,
so sealing an hour early would lose its last minutes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from flowkit.errors import FlowkitDataWarning
from flowkit.read import read_flow_logs
from flowkit.store.convert import SEAL_MARGIN, convert
from flowkit.store.manifest import Manifest

from test_dask_review import NIC_A, vnet_record, vnet_tuple, write_blob

HOUR_END = pd.Timestamp("2024-05-01T11:00Z")  # the blob's hour is 10:00-11:00


@pytest.mark.parametrize("after_the_hour, sealed", [
    pytest.param(pd.Timedelta(0), False, id="at-the-end-of-the-hour"),
    pytest.param(SEAL_MARGIN - pd.Timedelta("1ms"), False, id="a-moment-before-the-margin"),
    pytest.param(SEAL_MARGIN, True, id="at-the-margin"),
])
def test_an_hour_is_sealed_15_minutes_after_it_ends(tmp_path: Path, after_the_hour: pd.Timedelta,
                                                    sealed: bool) -> None:
    assert SEAL_MARGIN == pd.Timedelta(minutes=15)
    write_blob(tmp_path / "json", "vnet", NIC_A,
               [vnet_record(5, NIC_A, [vnet_tuple(300, "192.0.2.10", "198.51.100.20", 50000, 443)])])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlowkitDataWarning)
        report = convert(tmp_path / "json", tmp_path / "ds", now=HOUR_END + after_the_hour)
    assert (report.units_written, report.open_units) == (1, 0 if sealed else 1)
    assert [u.sealed for u in Manifest.load(tmp_path / "ds").units.values()] == [sealed]


def test_a_deleted_blobs_quarantined_tuples_stay_counted_when_its_unit_is_converted_again(tmp_path: Path) -> None:
    """One unit (a flow log's hour) of two NICs: A's blob has a bad tuple, B's is fine. Retention
    deletes A's blob, then B's blob grows a record with a bad tuple: the unit is converted again,
    A's row and quarantined tuple are kept from the dataset, and the counts still add up."""
    from test_dask_review import NIC_B

    def b_blob(records: int) -> None:  # the second record has a bad tuple too
        write_blob(tmp_path / "json", "vnet", NIC_B, [
            vnet_record(5 + i, NIC_B, [vnet_tuple(300 + 60 * i, "192.0.2.20", "198.51.100.20", 50100 + i, 443)]
                        + [vnet_tuple(301 + 60 * i, "192.0.2.20", "bad-address", 50200, 443)] * i)
            for i in range(records)])

    a = write_blob(tmp_path / "json", "vnet", NIC_A, [vnet_record(5, NIC_A, [
        vnet_tuple(300, "192.0.2.10", "198.51.100.20", 50000, 443),
        vnet_tuple(301, "192.0.2.10", "not-an-address", 50001, 443)])])
    b_blob(1)
    sealed = HOUR_END + pd.Timedelta(hours=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        convert(tmp_path / "json", tmp_path / "ds", now=sealed)
        a.unlink()
        b_blob(2)
        again = convert(tmp_path / "json", tmp_path / "ds", now=sealed)
        frame, report = read_flow_logs(tmp_path / "ds", with_report=True)
    assert (again.units_written, again.blobs_read, again.rows_kept) == (1, 1, 1)
    [unit] = Manifest.load(tmp_path / "ds").units.values()
    assert (unit.tuples, unit.quarantined) == (5, 2)
    assert sorted(frame["src_port"].tolist()) == [50000, 50100, 50101]
    assert (report.tuples, report.rows, report.quarantined) == (5, 3, 2)
    assert report.quarantine["raw"].str.contains("not-an-address|bad-address").tolist() == [True, True]


def test_a_failed_conversion_removes_the_folder_it_made_and_keeps_one_the_user_made(tmp_path: Path) -> None:
    from flowkit.errors import QuarantineError

    page = tmp_path / "PT1H.json"
    page.write_text("<html>error</html>")  # an error page saved for a blob: strict stops at it
    with pytest.raises(QuarantineError, match="^not-json at "):
        convert(page, tmp_path / "made" / "ds", strict=True)
    assert not (tmp_path / "made" / "ds").exists()  # no empty dataset left to read as "no traffic"
    (tmp_path / "mine").mkdir()
    with pytest.raises(QuarantineError):
        convert(page, tmp_path / "mine", strict=True)
    assert (tmp_path / "mine").is_dir()


def test_a_failed_conversion_keeps_a_folder_it_made_once_a_unit_is_written(tmp_path: Path) -> None:
    from flowkit.errors import QuarantineError

    logs = tmp_path / "logs"
    write_blob(logs, "vnet", NIC_A, [vnet_record(1, NIC_A, [vnet_tuple(65, "192.0.2.1", "198.51.100.2", 40000, 443)])])
    write_blob(logs, "vnet", NIC_A, raw=b"<html>error</html>", hour="2024-05-01T11:00Z")  # read after 10:00's
    with pytest.raises(QuarantineError):
        convert(logs, tmp_path / "ds", strict=True)
    assert (tmp_path / "ds").is_dir() and len(list((tmp_path / "ds").iterdir())) > 1


def test_a_unit_is_published_before_a_later_units_read_fails(tmp_path: Path, monkeypatch) -> None:
    from flowkit.store import convert as convert_module

    logs = tmp_path / "logs"
    write_blob(logs, "vnet", NIC_A, [vnet_record(1, NIC_A, [vnet_tuple(65, "192.0.2.1", "198.51.100.2", 40000, 443)])])
    write_blob(logs, "vnet", NIC_A, [vnet_record(1, NIC_A, [vnet_tuple(65, "192.0.2.1", "198.51.100.3", 40000, 443)])],
               hour="2024-05-01T11:00Z")
    real = convert_module.in_order

    def failing_at_11(src, refs, size):  # the 11:00 unit's first batch is read, then its reading fails
        yield from real(src, refs, size)
        if any("h=11" in ref.name for ref in refs):
            raise OSError("the 11:00 blob cannot be read")

    monkeypatch.setattr(convert_module, "in_order", failing_at_11)
    with pytest.raises(OSError, match="the 11:00 blob cannot be read"):
        convert(logs, tmp_path / "ds")
    assert len(Manifest.load(tmp_path / "ds").units) == 1
    assert read_flow_logs(tmp_path / "ds").dst_ip.astype(str).tolist() == ["198.51.100.2"]


def test_a_folder_converted_into_a_dataset_inside_it_is_converted_again(tmp_path: Path) -> None:
    """``convert logs logs/parquet``: the next run read the dataset's marker as a damaged log and
    failed at its quarantine file, replaced while it was read ("cannot read …/_quarantine/….json")."""
    from tests.blobs import VNET_TUPLES, blob
    from tests.blobs import vnet_record as record

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "vnet.json").write_bytes(blob([record([("acl", "UserRule_A", [*VNET_TUPLES, "1714557600000,192.0.2.4"])])]))
    for dest in (logs / "parquet", logs / "parquet", logs / "parquet2", logs, logs):  # beside the logs, among them
        report = convert(logs, dest, now=HOUR_END)
        assert (report.blobs_read, report.rows_written) == (1, len(VNET_TUPLES))
        assert report.load.problems == ()
        assert (report.load.quarantined, report.load.records) == (1, 1)


def test_converting_only_files_that_are_not_json_fails_as_reading_them_does(tmp_path: Path) -> None:
    """A UTF-16 copy of a blob (Windows PowerShell 5's ``>``) converted into an empty dataset, exit 0,
    its reason a count of "not-json"; ``read_flow_logs`` and ``inspect`` refuse it, saying what it is."""
    from flowkit.errors import FormatError
    from tests.blobs import VNET_TUPLES, blob
    from tests.blobs import vnet_record as record

    data = blob([record([("acl", "UserRule_A", VNET_TUPLES)])])
    utf16 = tmp_path / "PT1H.json"
    utf16.write_bytes(data.decode("utf-8").encode("utf-16"))
    message = (f"no flow-log records found: '{utf16}' is not JSON ('byte 0: UTF-16 text (as Windows PowerShell 5 "
               "writes a redirected file): save it as UTF-8')")
    for call in (lambda: read_flow_logs(utf16), lambda: convert(utf16, tmp_path / "ds", now=HOUR_END)):
        with pytest.raises(FormatError) as info:
            call()
        assert str(info.value) == message
    assert not (tmp_path / "ds").exists()  # not left behind as an empty dataset (its quarantine kept it)
    good = tmp_path / "good.json"
    good.write_bytes(data)
    report = convert([utf16, good], tmp_path / "ds2", now=HOUR_END)  # one readable: converted, the other said
    assert (report.rows_written, report.load.problems[0].reason) == (len(VNET_TUPLES), "not-json")
