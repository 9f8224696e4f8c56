"""How Parquet files are written: required columns where a file has no missing value, the
rewrite when a later batch brings some, and the encodings read back fast."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flowkit.schema import COLUMNS
from flowkit.store.manifest import Manifest
from flowkit.store.convert import convert
from flowkit.store.parquet import read_parquet_dataset
from flowkit.store.writer import CATEGORICAL, file_schema

from scale_helpers import SAMPLES, assert_same_frame, read_json
from tests.blobs import NSG_ID, NSG_V1_TUPLES, NSG_V2_TUPLES, blob, nsg_record

HOUR = "y=2024/m=05/d=01/h=10/m=00"


def _nulls_per_column(path: Path) -> dict[str, int]:
    table = pq.read_table(path, read_dictionary=CATEGORICAL)
    return {name: table.column(name).null_count for name in COLUMNS}


def test_sample_files_mark_exactly_the_columns_without_missing_values_required(tmp_path: Path) -> None:
    dest = tmp_path / "ds"
    convert(SAMPLES / "nsg-vs-vnet", dest)
    files = sorted(dest.rglob("*.parquet"))
    assert len(files) == 9
    optional_seen = set()
    for path in files:
        pf = pq.ParquetFile(path)
        nulls = _nulls_per_column(path)
        schema = pf.schema_arrow
        assert {name for name in COLUMNS if schema.field(name).nullable} == {n for n, c in nulls.items() if c}
        optional_seen |= {n for n, c in nulls.items() if c}
        assert b"ARROW:schema" not in (pf.metadata.metadata or {})  # the Parquet types carry it
        group = pf.metadata.row_group(0)
        encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)}
        assert "DELTA_BINARY_PACKED" in encodings["flow_time"]
        assert "RLE_DICTIONARY" in encodings["src_ip"] and "RLE_DICTIONARY" in encodings["bytes_sent"]
    # NSG files lack the VNet-only columns; NSG v2 B tuples have no counters.
    assert {"encryption", "acl_id", "target_resource_id", "bytes_sent"} <= optional_seen
    assert "flow_time" not in optional_seen and "src_ip" not in optional_seen


def test_a_later_batch_with_missing_values_rewrites_the_file_with_those_columns_optional(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit.store.convert as store

    # One unit (one NSG, one hour), two NICs: the first blob has counters on every tuple,
    # the second has NSG v1 tuples (no state, no counters).
    src = tmp_path / "logs" / f"resourceId={NSG_ID}" / HOUR
    with_counters = [t for t in NSG_V2_TUPLES if ",B," not in t]
    (src / "macAddress=000D3A000001").mkdir(parents=True)
    (src / "macAddress=000D3A000001" / "PT1H.json").write_bytes(
        blob([nsg_record({"UserRule_web": with_counters}, mac="000D3A000001")]))
    (src / "macAddress=000D3A000002").mkdir(parents=True)
    (src / "macAddress=000D3A000002" / "PT1H.json").write_bytes(
        blob([nsg_record({"UserRule_v1": NSG_V1_TUPLES}, version=1, mac="000D3A000002")]))
    import flowkit.store.writer as writer

    monkeypatch.setattr(store, "BATCH_BYTES", 1)  # one blob per batch
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 1)  # the rewrite copies row group by row group
    batches: list[int] = []
    decode = store.decode_batch
    monkeypatch.setattr(store, "decode_batch", lambda items, **kw: batches.append(len(items)) or decode(items, **kw))

    dest = tmp_path / "ds"
    result = convert(tmp_path / "logs", dest)
    assert batches == [1, 1] and result.units_written == 1 and result.files_written == 1
    (path,) = dest.rglob("*.parquet")
    assert pq.ParquetFile(path).metadata.num_row_groups == 5 and not list(dest.rglob("*.old"))
    schema = pq.ParquetFile(path).schema_arrow
    optional = {name for name in COLUMNS if schema.field(name).nullable}
    assert {"state", "packets_sent", "bytes_sent", "packets_received", "bytes_received"} <= optional
    assert optional == {n for n, c in _nulls_per_column(path).items() if c}
    assert not schema.field("flow_time").nullable and not schema.field("mac").nullable

    back = read_parquet_dataset(dest)
    assert len(back) == len(with_counters) + len(NSG_V1_TUPLES) == sum(
        u.tuples for u in Manifest.load(dest).units.values())
    assert_same_frame(back, read_json(tmp_path / "logs"))
    assert back["bytes_sent"].isna().tolist() == [False, False, True, True, True]
    # One row group holds both NSG versions: the report counts the frame, not the statistics.
    _, report = read_parquet_dataset(dest, with_report=True)
    assert report.formats == {"nsg-v1": 3, "nsg-v2": 2}


def test_file_schema_marks_the_columns_with_missing_values_optional_and_keeps_the_types() -> None:
    from flowkit.formats.decode import ARROW_SCHEMA

    one_row = pa.table({f.name: pa.array([None], f.type) for f in ARROW_SCHEMA})
    one_row = one_row.set_column(0, "flow_time", pa.array([0], ARROW_SCHEMA.field("flow_time").type))
    schema = file_schema(one_row)
    assert [f.type for f in schema] == list(ARROW_SCHEMA.types)
    assert [f.name for f in schema if not f.nullable] == ["flow_time"]
    assert not any(f.nullable for f in file_schema(ARROW_SCHEMA.empty_table()))
    assert [f.name for f in file_schema(ARROW_SCHEMA.empty_table(), ["mac"]) if f.nullable] == ["mac"]


def test_duckdb_reads_the_dataset_with_its_mixed_required_and_optional_columns(tmp_path: Path) -> None:
    import duckdb  # a dev dependency: installed wherever the tests run

    dest = tmp_path / "ds"
    convert(SAMPLES / "nsg-vs-vnet", dest)
    frame = read_json(SAMPLES / "nsg-vs-vnet")
    rows = duckdb.connect().sql(
        f"select type, count(*), count(state), count(encryption), sum(bytes_sent), min(flow_time), max(dst_port) "
        f"from read_parquet('{dest}/**/*.parquet', hive_partitioning=true) group by type order by type").fetchall()
    expected = []
    for log_type, part in frame.groupby("log_type", observed=True):
        expected.append((log_type, len(part), int(part["state"].notna().sum()), int(part["encryption"].notna().sum()),
                         int(part["bytes_sent"].sum()), part["flow_time"].min().to_pydatetime(),
                         int(part["dst_port"].max())))
    assert [(t, n, s, e, int(b), lo, p) for t, n, s, e, b, lo, p in rows] == expected


def test_datasets_written_the_earlier_way_read_back_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of earlier versions: every column optional, Arrow schema stored (8-bit indices for
    the closed categoricals), flow_time dictionary-encoded. A dataset mixing both reads back exactly."""
    import flowkit.store.writer as writer
    from flowkit.formats.decode import ARROW_SCHEMA

    dest = tmp_path / "ds"
    with monkeypatch.context() as m:
        m.setattr(writer, "PARQUET_OPTIONS", {"compression": "lz4", "dictionary_pagesize_limit": 16 << 20})
        m.setattr(writer, "file_schema", lambda table, optional=(): ARROW_SCHEMA)
        convert(SAMPLES / "nsg-vs-vnet", dest, log_type="nsg")
    convert(SAMPLES / "nsg-vs-vnet", dest, log_type="vnet")  # the current way, into the same dataset
    old = [p for p in dest.rglob("*.parquet") if "type=nsg" in str(p)]
    new = [p for p in dest.rglob("*.parquet") if "type=vnet" in str(p)]
    assert old and new
    assert all(b"ARROW:schema" in pq.ParquetFile(p).metadata.metadata for p in old)
    assert all(pq.ParquetFile(p).schema_arrow.field("encryption").type.index_type == pa.int8() for p in old)
    assert not any(b"ARROW:schema" in (pq.ParquetFile(p).metadata.metadata or {}) for p in new)
    assert_same_frame(read_parquet_dataset(dest), read_json(SAMPLES / "nsg-vs-vnet"))
    window = {"start": "2024-05-01T10:30Z", "end": "2024-05-01T11:30Z", "columns": ["src_ip", "state", "log_type"]}
    from flowkit.store.parquet import drop_unused_categories

    assert_same_frame(read_parquet_dataset(dest, **window),
                      drop_unused_categories(read_json(SAMPLES / "nsg-vs-vnet", **window)))
