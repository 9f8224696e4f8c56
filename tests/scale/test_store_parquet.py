"""The Parquet dataset: round trip, pruning, incremental conversion, atomic layout, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from flowkit.schema import COLUMNS
from flowkit.sources.local import LocalSource
from flowkit.store.manifest import MARKER, Manifest
from flowkit.store.convert import convert
from flowkit.store.parquet import (dataset_files, drop_unused_categories, is_parquet_dataset,
                                   read_parquet_dataset)
from flowkit.synth import encode_record

from scale_helpers import SAMPLES, SCENARIOS, assert_same_frame, read_json


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name in SCENARIOS:
        dest = tmp_path_factory.mktemp(f"parquet-{name}")
        convert(SAMPLES / name, dest)
        out[name] = dest
    return out


@pytest.mark.parametrize("name", SCENARIOS)
def test_round_trip_equals_json_read(datasets: dict[str, Path], name: str) -> None:
    json_frame = read_json(SAMPLES / name)
    back = read_json(datasets[name])
    assert len(back) == len(json_frame) > 0
    assert back.dtypes.equals(json_frame.dtypes)
    assert [str(t) for t in back.dtypes] == [str(t) for t in json_frame.dtypes]
    assert_same_frame(back, json_frame)


@pytest.mark.parametrize("name", SCENARIOS)
def test_report_counts_rows_per_format_like_the_json_read(datasets: dict[str, Path], name: str) -> None:
    import flowkit

    _, json_report = flowkit.read_flow_logs(SAMPLES / name, with_report=True)
    frame, report = read_parquet_dataset(datasets[name], with_report=True)
    assert report.formats == json_report.formats and sum(report.formats.values()) == len(frame)
    assert (report.start, report.end) == (json_report.start, json_report.end)


def test_a_whole_dataset_read_reports_from_the_files_statistics_not_the_frame(
        datasets: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit
    from flowkit.store import parquet

    _, json_report = flowkit.read_flow_logs(SAMPLES / "nsg-vs-vnet", with_report=True)
    counted = parquet._format_counts
    monkeypatch.setattr(parquet, "_format_counts", lambda frame: pytest.fail("counted the frame"))
    _, report = read_parquet_dataset(datasets["nsg-vs-vnet"], with_report=True)
    assert report.formats == json_report.formats == {"nsg-v2": 390, "vnet-v4": 461}
    assert (report.start, report.end) == (json_report.start, json_report.end)
    assert str(report.start.tz) == "UTC" and report.start.unit == "ms"
    monkeypatch.setattr(parquet, "_format_counts", counted)
    _, part = read_parquet_dataset(datasets["nsg-vs-vnet"], start="2024-05-01T10:30Z", with_report=True)
    assert 0 < sum(part.formats.values()) == part.rows < sum(report.formats.values())


def test_report_counts_formats_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowkit.store import parquet

    frame = pd.DataFrame({
        "log_type": pd.Categorical(["nsg", "vnet", "nsg", "nsg", "vnet"], categories=["nsg", "vnet"]),
        "version": pd.array([2, 4, 1, 2, 4], dtype="uint8"),
    })
    expected = {"nsg-v1": 1, "nsg-v2": 2, "vnet-v4": 2}
    assert parquet._format_counts(frame) == expected
    monkeypatch.setattr(parquet, "_SLICE", 2)  # slices that split the formats
    assert parquet._format_counts(pd.concat([frame] * 3, ignore_index=True)) == {k: 3 * v for k, v in expected.items()}


@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(start="2024-05-01T10:30Z", end="2024-05-01T11:10Z", columns=["src_ip", "bytes_sent"]),
                 id="window-and-columns"),
    pytest.param(dict(log_type="vnet", columns=["flow_time", "dst_port", "encryption", "log_type"]), id="log-type"),
    pytest.param(dict(mac="00-0d-3a-00-01-01"), id="mac"),
    pytest.param(dict(start="2024-05-01T11:00Z"), id="from-11h"),
])
def test_pruned_reads_equal_json_reads(datasets: dict[str, Path], kwargs: dict) -> None:
    # A JSON read keeps the categories of every blob it opened; a pruned Parquet read
    # has those of the rows it returns. Values and dtypes are compared on the latter.
    json_frame = drop_unused_categories(read_json(SAMPLES / "nsg-vs-vnet", **kwargs))
    back = read_json(datasets["nsg-vs-vnet"], **kwargs)
    assert len(back) == len(json_frame) > 0
    assert_same_frame(back, json_frame)


@pytest.mark.parametrize("kwargs", [{}, {"start": "2024-05-01T10:30Z", "columns": ["src_ip", "rule"]}],
                         ids=["whole-files", "filtered"])
def test_one_thread_reads_the_same_frame_as_two(datasets: dict[str, Path], kwargs: dict) -> None:
    """The Dask workers' way (threads=1: every file and copy in the calling thread)."""
    from flowkit.store.parquet import read_parquet_file

    dest = datasets["nsg-vs-vnet"]
    paths = [str(dest / f.path) for f in dataset_files(dest)]
    assert len(paths) > 3
    two, one = (read_parquet_file(paths, threads=n, **kwargs) for n in (2, 1))
    assert len(one) > 0
    pd.testing.assert_frame_equal(one, two)


def test_time_pruning_skips_files_and_reads_only_columns(datasets: dict[str, Path]) -> None:
    dest = datasets["nsg-vs-vnet"]
    every = dataset_files(dest)
    late = dataset_files(dest, start="2024-05-01T12:00Z")
    assert len(every) == 9
    assert 0 < len(late) < len(every)
    assert all(pd.Timestamp(f.max_time) >= pd.Timestamp("2024-05-01T12:00Z") for f in late)
    frame, report = read_parquet_dataset(dest, start="2024-05-01T12:00Z", columns=["dst_port"], with_report=True)
    assert list(frame.columns) == ["dst_port"]
    assert report.files == len(late) and report.files_skipped == len(every) - len(late)
    assert report.rows == len(frame) == len(read_json(SAMPLES / "nsg-vs-vnet", start="2024-05-01T12:00Z"))


def test_layout_is_hive_partitioned_with_a_marker(datasets: dict[str, Path]) -> None:
    import pyarrow.dataset as ds

    dest = datasets["nsg-vs-vnet"]
    assert is_parquet_dataset(dest) and not is_parquet_dataset(SAMPLES / "nsg-vs-vnet")
    marker = json.loads((dest / MARKER).read_text())
    assert marker["flowkit_dataset"] is True and len(marker["units"]) == 9
    parts = sorted(str(p.relative_to(dest).parent) for p in dest.rglob("*.parquet"))
    assert parts[0] == "type=nsg/date=2024-05-01/hour=10"
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    hive = ds.dataset(dest, format="parquet", partitioning="hive")
    assert {"type", "date", "hour"} <= set(hive.schema.names) and set(COLUMNS) <= set(hive.schema.names)
    assert hive.count_rows(filter=ds.field("type") == "vnet") == len(read_json(SAMPLES / "nsg-vs-vnet",
                                                                               log_type="vnet"))


def _append_record(blob: Path) -> int:
    """Append a copy of the blob's first record (as Azure appends a block); return its tuple count."""
    data = blob.read_bytes()
    record = json.loads(data)["records"][0]
    record["time"] = record["time"].replace(":00:", ":59:")
    blob.write_bytes(data[:-2] + b"," + encode_record(record) + b"]}")
    return sum(len(g["flowTuples"]) for f in record["flowRecords"]["flows"] for g in f["flowGroups"])


def test_incremental_convert_skips_sealed_hours_and_rewrites_the_open_one(corpus_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "logs"
    shutil.copytree(corpus_dir, src)
    refs = LocalSource(src).list_blobs().refs
    last = max(r.meta.hour for r in refs)
    now = last + pd.Timedelta(minutes=30)  # the last hour is still being written
    dest = tmp_path / "flows.parquet"
    first = convert(src, dest, now=now)
    n_units = len(Manifest.load(dest).units)
    open_units = len({r.name.rsplit("/", 2)[0] for r in refs if r.meta.hour == last})
    assert first.units_written == n_units and first.open_units == open_units >= 1
    assert first.rows_written == len(read_json(src))

    added = _append_record(next(Path(r.name) for r in refs if r.meta.hour == last))
    second = convert(src, dest, now=now)
    assert (second.units_written, second.open_units, second.units_skipped) == (open_units, open_units,
                                                                                n_units - open_units)
    after = read_json(dest)
    assert len(after) == first.rows_written + added
    assert_same_frame(after, read_json(src))

    # Hours later everything is sealed, and unchanged since it was read: nothing is read again.
    third = convert(src, dest, now=now + pd.Timedelta(hours=2))
    assert (third.units_written, third.units_skipped, third.blobs_read) == (0, n_units, 0)
    assert all(u.sealed for u in Manifest.load(dest).units.values())

    # A sealed hour whose blob changed (late data, reprocessing) is converted again.
    early = next(Path(r.name) for r in refs if r.meta.hour == min(r.meta.hour for r in refs))
    more = _append_record(early)
    fifth = convert(src, dest, now=now + pd.Timedelta(hours=2))
    assert (fifth.units_written, fifth.units_skipped) == (1, n_units - 1)
    final = read_json(dest)
    assert len(final) == len(after) + more
    assert_same_frame(final, read_json(src))

    # Retention deletes an old blob: its converted rows stay in the dataset.
    early.unlink()
    sixth = convert(src, dest, now=now + pd.Timedelta(hours=2))
    assert (sixth.units_written, sixth.units_skipped) == (0, n_units)
    assert len(read_json(dest)) == len(final)


def test_convert_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flowkit.cli import main

    dest = tmp_path / "ds"
    assert main(["convert", str(SAMPLES / "encryption"), str(dest), "--log-type", "vnet"]) == 0
    out = capsys.readouterr().out
    assert "units        2 written (0 still open), 0 sealed and unchanged (skipped)" in out
    assert f"rows         {len(read_json(SAMPLES / 'encryption'))} in 2 file(s)" in out
    assert main(["convert", str(SAMPLES / "encryption"), str(dest)]) == 0
    assert "0 written (0 still open), 2 sealed and unchanged (skipped)" in capsys.readouterr().out


def test_small_batches_decoded_ahead_give_the_same_dataset_and_progress_in_order(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit.store.convert as store

    whole = convert(corpus_dir, tmp_path / "whole")
    monkeypatch.setattr(store, "BATCH_BYTES", 20_000)  # several batches per unit, decoded ahead
    batches: list[int] = []
    decode = store.decode_batch
    monkeypatch.setattr(store, "decode_batch", lambda items, **kw: batches.append(len(items)) or decode(items, **kw))
    calls: list[tuple[int, int]] = []
    small = convert(corpus_dir, tmp_path / "small", progress=lambda done, total: calls.append((done, total)))
    n_units = len(Manifest.load(tmp_path / "small").units)
    assert len(batches) > 2 * n_units >= 6 and calls == [(i, n_units) for i in range(1, n_units + 1)]
    assert (small.units_written, small.rows_written, small.files_written) == (
        whole.units_written, whole.rows_written, whole.files_written)
    assert small.load.tuples == whole.load.tuples and small.load.records == whole.load.records
    assert_same_frame(read_json(tmp_path / "small"), read_json(tmp_path / "whole"))


def test_a_strict_failure_keeps_the_units_written_before_it_and_leaves_no_temporary_files(
        tmp_path: Path) -> None:
    from flowkit.errors import QuarantineError

    src = tmp_path / "logs"
    shutil.copytree(SAMPLES / "encryption", src)
    blobs = sorted(src.rglob("PT1H.json"))
    bad = blobs[-1]  # the last unit in listing order holds a bad tuple
    bad.write_bytes(bad.read_bytes().replace(b'"flowTuples":["', b'"flowTuples":["not-a-tuple","', 1))
    dest = tmp_path / "ds"
    with pytest.raises(QuarantineError):
        convert(src, dest, strict=True)
    units = Manifest.load(dest).units
    assert 0 < len(units) < len({str(b.parent) for b in blobs})  # the units before the bad one are kept
    assert not [p for p in dest.iterdir() if p.name.startswith(".tmp-")]
    assert len(read_parquet_dataset(dest)) == sum(u.tuples for u in units.values())
