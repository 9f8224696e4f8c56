"""The decoder's Arrow table helpers (flowkit.formats.table): exact rows and values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from flowkit.formats.decode import ARROW_SCHEMA as DECODE_SCHEMA
from flowkit.formats.table import (ARROW_SCHEMA, blob_order, closed_column, count_formats, dictionary_column,
                                   select_rows, time_range)
from flowkit.schema import COLUMNS

MS = pa.timestamp("ms", "UTC")
BASE = 1714557600000  # 2024-05-01T10:00:00Z


def _table(ms: list[int], macs: list[str] | None = None, log_types: list[int] | None = None) -> pa.Table:
    n = len(ms)
    return pa.table({
        "flow_time": pa.array(ms, MS),
        "mac": pa.array(macs or ["000D3A000001"] * n).dictionary_encode(),
        "log_type": closed_column(np.array(log_types or [1] * n), ["nsg", "vnet"]),
    })


def test_schema_is_the_canonical_columns_and_decode_reexports_it():
    assert tuple(ARROW_SCHEMA.names) == COLUMNS
    assert DECODE_SCHEMA is ARROW_SCHEMA


def test_select_rows_rounds_both_bounds_up_to_a_whole_millisecond():
    t = _table([BASE + 1, BASE + 2, BASE + 3])
    start = pd.Timestamp(BASE * 10**6 + 1_500_000, tz="UTC")  # 10:00:00.0015
    assert select_rows(t, start, None, None, None).column("flow_time").to_pylist() == \
        t.column("flow_time").to_pylist()[1:]
    assert select_rows(t, None, start, None, None).column("flow_time").to_pylist() == \
        t.column("flow_time").to_pylist()[:1]


def test_select_rows_end_is_exclusive_and_start_inclusive():
    t = _table([BASE, BASE + 3_600_000])
    kept = select_rows(t, pd.Timestamp(BASE, unit="ms", tz="UTC"), pd.Timestamp(BASE + 3_600_000, unit="ms", tz="UTC"),
                       None, None)
    assert kept.num_rows == 1 and kept.column("flow_time")[0].value == BASE


def test_select_rows_by_log_type_and_by_mac_in_any_spelling():
    t = _table([BASE] * 3, macs=["000D3A000001", "000D3A000002", "000D3A000001"], log_types=[0, 1, 1])
    assert select_rows(t, None, None, "nsg", None).num_rows == 1
    assert select_rows(t, None, None, "vnet", "00-0d-3a-00-00-01").num_rows == 1
    assert select_rows(t, None, None, None, "00:0D:3A:00:00:02").num_rows == 1


def test_select_rows_without_a_condition_returns_the_table_itself():
    t = _table([BASE])
    assert select_rows(t, None, None, None, None) is t


def test_time_range_and_count_formats():
    t = pa.table({"flow_time": pa.array([BASE + 5, BASE, BASE + 9], MS),
                  "log_type": closed_column(np.array([0, 0, 1]), ["nsg", "vnet"]),
                  "version": pa.array([1, 2, 4], pa.uint8())})
    first, last = time_range(t)
    assert (first.value, last.value) == (BASE * 10**6, (BASE + 9) * 10**6)
    assert str(first.tz) == "UTC"
    assert count_formats(t) == {"nsg-v1": 1, "nsg-v2": 1, "vnet-v4": 1}
    assert time_range(t.slice(0, 0)) == (None, None) and count_formats(t.slice(0, 0)) == {}


def test_blob_order_follows_the_input_names():
    t = pa.table({"blob": pa.array(["c", "a", "b", "a"]).dictionary_encode()})
    assert blob_order(t, ["b", "c", "a"]).tolist() == [1, 2, 0, 2]


def test_dictionary_columns_keep_missing_codes_as_nulls_and_their_index_width():
    open_col = dictionary_column(np.array([1, -1, 0]), ["a", "b"])
    closed = closed_column(np.array([-1, 0]), ["allow", "deny"])
    assert open_col.to_pylist() == ["b", None, "a"] and open_col.type.index_type == pa.int32()
    assert closed.to_pylist() == [None, "allow"] and closed.type.index_type == pa.int8()
    assert dictionary_column(np.array([], dtype=np.int64), []).to_pylist() == []
