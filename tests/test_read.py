"""read_flow_logs: sources, time windows, filters, strictness, warnings, errors, empty input."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import flowkit
from flowkit.errors import FlowkitDataWarning, FormatError, QuarantineError, SourceError
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from tests.blobs import NSG_V1_TUPLES, T0_MS, blob, nsg_record, vnet_record

SUB = "00000000-0000-0000-0000-000000000001"
MACS = ("000D3A000001", "000D3A000002")


def vnet_hour(hour: int, mac: str) -> bytes:
    base = T0_MS + (hour - 10) * 3_600_000
    tuples = [f"{base + m * 60_000 + 500},10.0.0.5,192.0.2.80,{40000 + m},443,6,O,C,X,1,100,1,100"
              for m in range(0, 60, 10)]  # 6 tuples at minutes 0,10,..,50
    return blob([vnet_record([("a", "r", tuples)], mac=mac, time=f"2024-05-01T{hour:02d}:59:00.0000000Z")])


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """VNet logs for hours 08..12 and two MACs, plus NSG logs, in the Azure blob layout."""
    for hour in range(8, 13):
        for mac in MACS:
            name = vnet_blob_name(SUB, "NetworkWatcherRG", "NetworkWatcher_eastus", "fl1",
                                  f"2024-05-01T{hour:02d}:00Z", mac)
            path = tmp_path / VNET_CONTAINER / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(vnet_hour(hour, mac))
    nsg = tmp_path / NSG_CONTAINER / nsg_blob_name(SUB, "RG", "NSG1", "2024-05-01T10:00Z", MACS[0])
    nsg.parent.mkdir(parents=True, exist_ok=True)
    nsg.write_bytes(blob([nsg_record({"R": NSG_V1_TUPLES}, version=1, mac=MACS[0])]))
    return tmp_path


def test_folder_reads_every_file(layout):
    frame, report = flowkit.read_flow_logs(layout, with_report=True)
    assert report.files == 11 and report.rows == 10 * 6 + 3
    assert report.formats == {"vnet-v4": 60, "nsg-v1": 3}
    assert list(frame.columns) == list(COLUMNS)
    assert frame.attrs["load_report"] is report and flowkit.load_report(frame) is report


def test_time_window_skips_files_by_hour_and_filters_rows(layout):
    frame, report = flowkit.read_flow_logs(layout, start="2024-05-01T10:00Z", end="2024-05-01T11:00Z",
                                           log_type="vnet", with_report=True)
    # hours 10 and (for the skew margin) 09 and 11 are opened; 08 and 12 are not
    assert report.files_skipped == 2 * 2 + 1  # 08 and 12 for both MACs, and the NSG file (log type)
    assert report.files == 6
    assert len(frame) == 12 and report.filtered_out == 24 and report.consistent
    assert frame["flow_time"].min() >= pd.Timestamp("2024-05-01T10:00Z")
    assert frame["flow_time"].max() < pd.Timestamp("2024-05-01T11:00Z")


def test_mac_filter_accepts_any_spelling(layout):
    frame, report = flowkit.read_flow_logs(layout, mac="00-0d-3a-00-00-02", with_report=True)
    assert set(frame["mac"]) == {"000D3A000002"} and len(frame) == 30
    assert report.files == 5


def test_glob_and_list_sources(layout):
    pattern = str(layout / VNET_CONTAINER / "**" / "h=1[01]" / "**" / "PT1H.json")
    assert len(flowkit.read_flow_logs(pattern)) == 4 * 6
    files = sorted(str(p) for p in (layout / VNET_CONTAINER).rglob("PT1H.json"))[:3]
    frame = flowkit.read_flow_logs(files + files[:1])  # a file named twice is read once
    assert len(frame) == 18 and frame["blob"].nunique() == 3


def test_rows_come_in_file_order(layout):
    frame = flowkit.read_flow_logs(layout, log_type="vnet")
    blobs = frame["blob"].astype(str).tolist()
    assert blobs == sorted(blobs)


def test_empty_folder_gives_the_full_schema(tmp_path):
    frame, report = flowkit.read_flow_logs(tmp_path, with_report=True)
    assert frame.shape == (0, len(COLUMNS))
    assert frame.dtypes.to_dict() == empty_frame().dtypes.to_dict()
    assert report.files == 0 and report.tuples == 0


def test_missing_path_is_a_source_error_naming_it(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder.*nope"):
        flowkit.read_flow_logs(tmp_path / "nope")
    with pytest.raises(SourceError, match="no file matches"):
        flowkit.read_flow_logs(str(tmp_path / "*.nothing"))


def test_non_json_input_is_a_format_error(tmp_path):
    (tmp_path / "x.json").write_text("this is not json")
    with pytest.raises(FormatError, match="x.json"):
        flowkit.read_flow_logs(tmp_path / "x.json")


def test_quarantine_warns_once_and_strict_raises(tmp_path):
    path = tmp_path / "q.json"
    path.write_bytes(blob([nsg_record({"R": NSG_V1_TUPLES + ["1714557600,192.0.2.1,10.0.0.4,1,2,T,I"]}, version=1)]))
    with pytest.warns(FlowkitDataWarning, match="1 quarantined.*wrong-field-count: 1"):
        frame = flowkit.read_flow_logs(path)
    assert len(frame) == 3
    with pytest.raises(QuarantineError, match=r"wrong-field-count at .*q.json, record 0, tuple 3"):
        flowkit.read_flow_logs(path, strict=True)


def test_clean_input_does_not_warn(layout):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flowkit.read_flow_logs(layout)


def test_one_worker_and_two_workers_agree(layout):
    a = flowkit.read_flow_logs(layout, max_workers=1)
    b = flowkit.read_flow_logs(layout, max_workers=2)
    assert a.equals(b)


def test_consumed_tables_are_released():
    from flowkit.formats.decode import decode_blob
    from flowkit.read import frame_from_tables
    from flowkit.sources.base import BlobRef

    tables = [decode_blob(blob([vnet_record([("a", "r", [f"{T0_MS},10.0.0.5,192.0.2.80,1,443,6,O,C,X,1,2,3,4"])])]),
                          BlobRef("x.json")).table]
    kept = frame_from_tables(list(tables))
    frame = frame_from_tables(tables, consume=True)
    assert tables == [] and len(frame) == 1 and frame.equals(kept)


@pytest.mark.parametrize("min_tuple_bytes", [10**12, 1])
def test_the_frame_is_exact_whether_its_size_was_guessed_low_or_high(monkeypatch, min_tuple_bytes):
    import flowkit.read as read_module
    from flowkit.formats.decode import decode_blob
    from flowkit.sources.local import LocalSource

    samples = Path(__file__).resolve().parents[1] / "data-samples" / "nsg-vs-vnet"
    refs = LocalSource(samples).list_blobs().refs
    # the reference: every blob decoded alone, then one exact-size fill of all the tables
    expected = read_module.frame_from_tables([decode_blob(Path(r.name).read_bytes(), r).table for r in refs])
    monkeypatch.setattr(read_module, "BATCH_BYTES", 20_000)  # many batches
    usual = flowkit.read_flow_logs(samples)
    # sized for 1 row (grows many times) or for a row per input byte (cut down at the end)
    monkeypatch.setattr(read_module, "MIN_TUPLE_BYTES", min_tuple_bytes)
    frame, report = flowkit.read_flow_logs(samples, with_report=True)
    assert len(frame) == report.rows == len(expected) == 851
    pd.testing.assert_frame_equal(frame, usual)
    # categories come in first-appearance order per batch, so only their order may differ
    pd.testing.assert_frame_equal(frame, expected, check_categorical=False)


def test_columns_are_the_same_values_and_report_as_the_whole_read(layout):
    whole, whole_report = flowkit.read_flow_logs(layout, with_report=True)
    some, report = flowkit.read_flow_logs(layout, columns=["dst_ip", "bytes_sent"], with_report=True)
    assert list(some.columns) == ["dst_ip", "bytes_sent"] and len(some) == len(whole) > 0
    pd.testing.assert_frame_equal(some, whole[["dst_ip", "bytes_sent"]])  # addresses still share categories
    assert (report.start, report.end, report.rows) == (whole_report.start, whole_report.end, whole_report.rows)
    assert report.start == whole["flow_time"].min() and report.end == whole["flow_time"].max()
    empty = flowkit.read_flow_logs(layout, columns=["dst_port"], start="2030-01-01T00:00Z")
    assert list(empty.columns) == ["dst_port"] and len(empty) == 0 and empty["dst_port"].dtype == "uint16"
