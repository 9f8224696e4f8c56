"""Pinned by mutation testing of flowkit.formats.table: the exact schema, bounds in every unit, one-row tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import flowkit.formats.table as table_module
from flowkit.formats.table import (ARROW_SCHEMA, closed_column, count_formats, dictionary_column, ms_bound,
                                   select_rows)

MS = pa.timestamp("ms", "UTC")
BASE = 1714557600000  # 2024-05-01T10:00:00Z


def test_the_public_names_are_exactly_the_helpers_and_all_resolve():
    assert table_module.__all__ == ["ARROW_SCHEMA", "time_range", "blob_order", "count_formats", "select_rows",
                                    "ms_bound", "dictionary_column", "closed_column",
                                    "without_unused_values"]
    assert all(hasattr(table_module, name) for name in table_module.__all__)


def test_the_arrow_schema_has_exact_types_and_utc_times():
    open_ = pa.dictionary(pa.int32(), pa.string())
    closed = pa.dictionary(pa.int8(), pa.string())
    expected = [
        ("flow_time", pa.timestamp("ms", tz="UTC")), ("record_time", pa.timestamp("ns", tz="UTC")),
        ("src_ip", open_), ("dst_ip", open_), ("src_port", pa.uint16()), ("dst_port", pa.uint16()),
        ("protocol", pa.uint8()), ("direction", closed), ("decision", closed), ("state", closed),
        ("encryption", closed), ("packets_sent", pa.uint32()), ("bytes_sent", pa.uint64()),
        ("packets_received", pa.uint32()), ("bytes_received", pa.uint64()), ("rule", open_), ("acl_id", open_),
        ("mac", open_), ("log_type", closed), ("version", pa.uint8()), ("resource_id", open_),
        ("target_resource_id", open_), ("blob", open_),
    ]
    assert [(f.name, f.type) for f in ARROW_SCHEMA] == expected
    assert ARROW_SCHEMA.field("flow_time").type.tz == "UTC" and ARROW_SCHEMA.field("record_time").type.tz == "UTC"


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_ms_bound_counts_in_the_timestamps_own_unit(unit):
    ts = pd.Timestamp("2024-05-01T10:00:01Z").as_unit(unit)
    bound = ms_bound(ts)
    assert bound.value == BASE + 1000
    assert bound.type == MS and bound.type.tz == "UTC"


@pytest.mark.parametrize("text, unit, expected", [
    pytest.param("2024-05-01T10:00:00.001Z", "ms", BASE + 1, id="ms"),
    pytest.param("2024-05-01T10:00:00.0015Z", "us", BASE + 2, id="us-rounds-up"),
    pytest.param("2024-05-01T09:59:59.9999999Z", "ns", BASE, id="ns-rounds-up"),
    pytest.param("0001-01-01T00:00:01Z", "s", -62135596799000, id="year-1-seconds"),
])
def test_ms_bound_rounds_up_to_a_whole_millisecond(text, unit, expected):
    assert ms_bound(pd.Timestamp(text).as_unit(unit)).value == expected


def test_count_formats_of_one_row():
    t = pa.table({"log_type": closed_column(np.array([1]), ["nsg", "vnet"]), "version": pa.array([4], pa.uint8())})
    assert count_formats(t) == {"vnet-v4": 1}


def test_select_rows_filters_a_one_row_table():
    t = pa.table({"flow_time": pa.array([BASE], MS)})
    assert select_rows(t, pd.Timestamp(BASE + 1, unit="ms", tz="UTC"), None, None, None).num_rows == 0
    assert select_rows(t, None, pd.Timestamp(BASE, unit="ms", tz="UTC"), None, None).num_rows == 0


def test_select_rows_drops_rows_whose_mac_or_log_type_is_missing_when_asked_for_one():
    t = pa.table({
        "flow_time": pa.array([BASE, BASE + 1, BASE + 2], MS),
        "mac": dictionary_column(np.array([0, -1, 0]), ["000D3A000001"]),
        "log_type": closed_column(np.array([0, 0, -1]), ["nsg", "vnet"]),
    })
    assert select_rows(t, None, None, None, "00-0D-3A-00-00-01").column("flow_time").to_pylist() == \
        t.column("flow_time").to_pylist()[0::2]
    assert select_rows(t, None, None, "nsg", None).column("flow_time").to_pylist() == \
        t.column("flow_time").to_pylist()[:2]


def test_an_empty_closed_column_is_empty_with_int8_indices():
    col = closed_column(np.array([], dtype=np.int64), ["allow", "deny"])
    assert col.to_pylist() == [] and col.type.index_type == pa.int8()
