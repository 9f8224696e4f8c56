"""fill_frame and FrameFiller pinned: the schema's closed categories, narrow codes, missing values
where the contract has none, and drop_unused_categories on frames of any shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import flowkit.frame_fill as frame_fill
from flowkit.frame_fill import FrameFiller, drop_unused_categories, fill_frame, with_both_addresses
from flowkit.schema import dtypes


def test_every_public_name_exists() -> None:
    assert [name for name in frame_fill.__all__ if not hasattr(frame_fill, name)] == []
    assert {"fill_frame", "FrameFiller", "drop_unused_categories", "with_both_addresses"} <= set(frame_fill.__all__)


def test_closed_categoricals_have_the_schemas_categories_whatever_values_came() -> None:
    # one value each, the last of its list: the categories are still the schema's, in its order
    t = pa.table({name: pa.array([value, value]).dictionary_encode() for name, value in
                  [("direction", "outbound"), ("decision", "deny"), ("state", "D"),
                   ("encryption", "NX_FALLBACK"), ("log_type", "vnet")]})
    frame = fill_frame([t], t.column_names)
    for name in t.column_names:
        assert list(frame[name].cat.categories) == list(dtypes()[name].categories), name
        assert frame[name].tolist() == [t.column(name)[0].as_py()] * 2, name


def test_codes_start_narrow_and_widen_only_when_needed() -> None:
    with FrameFiller(303, ["rule", "state"], threads=1) as filler:
        assert filler._columns["rule"].values.dtype == np.int8  # int8 until a table brings more
        assert filler._columns["state"].values.dtype == np.int8
        filler.add(pa.table({"rule": pa.array(["r0", "r1", "r0"]).dictionary_encode(),
                             "state": pa.array(["C"] * 3).dictionary_encode()}))
        assert filler._columns["rule"].values.dtype == np.int8
        filler.add(pa.table({"rule": pa.array([f"x{i}" for i in range(300)]).dictionary_encode(),
                             "state": pa.array(["E"] * 300).dictionary_encode()}))
        assert filler._columns["rule"].values.dtype == np.int16
        assert filler._columns["state"].values.dtype == np.int8
        frame = filler.finish()
    assert frame["rule"].tolist()[:4] == ["r0", "r1", "r0", "x0"] and frame["state"].tolist()[-1] == "E"


def test_two_threads_copy_with_a_pool_of_their_own() -> None:
    with FrameFiller(1, ["dst_port"], threads=2) as filler:
        assert filler._pool is not None and filler._pool._max_workers == 2
        filler.add(pa.table({"dst_port": pa.array([443], pa.uint16())}))
        assert filler.finish()["dst_port"].tolist() == [443]


def test_a_chunk_of_missing_times_gives_not_a_time() -> None:
    t = pa.table({"record_time": pa.nulls(2, pa.timestamp("ns", "UTC")),
                  "flow_time": pa.array([None, 1_714_557_600_000], pa.timestamp("ms", "UTC"))})
    frame = fill_frame([t], ["record_time", "flow_time"])
    assert frame["record_time"].isna().tolist() == [True, True]
    assert frame["flow_time"].isna().tolist() == [True, False]
    assert frame["flow_time"].iloc[1] == pd.Timestamp("2024-05-01T10:00Z")
    assert frame.dtypes.tolist() == [dtypes()["record_time"], dtypes()["flow_time"]]


@pytest.mark.parametrize("ports", [[None, None], [1, None]], ids=["all-missing", "one-missing"])
def test_a_missing_port_is_refused_in_plain_words(ports: list) -> None:
    t = pa.table({"dst_port": pa.array(ports, pa.uint16())})
    with pytest.raises(ValueError) as caught:
        fill_frame([t], ["dst_port"])
    assert str(caught.value) == "missing values in a column that has none by contract (uint16)"


def test_wider_counters_are_narrowed_to_the_schema_and_refused_when_they_do_not_fit() -> None:
    frame = fill_frame([pa.table({"packets_sent": pa.array([5, None, 2**32 - 1], pa.uint64())})], ["packets_sent"])
    assert frame["packets_sent"].dtype == pd.UInt32Dtype()
    assert frame["packets_sent"].tolist() == [5, pd.NA, 2**32 - 1]
    with pytest.raises(pa.ArrowInvalid):  # never cut down to 32 bits silently
        fill_frame([pa.table({"packets_sent": pa.array([2**32], pa.uint64())})], ["packets_sent"])


def addresses(src: list, dst: list, categories: list[str]) -> pd.DataFrame:
    dtype = pd.CategoricalDtype(categories)
    return pd.DataFrame({"src_ip": pd.Categorical(src, dtype=dtype), "dst_ip": pd.Categorical(dst, dtype=dtype)})


def test_drop_unused_categories_keeps_the_addresses_either_column_uses() -> None:
    cats = ["192.0.2.1", "192.0.2.2", "198.51.100.7", "203.0.113.9"]
    frame = addresses(["198.51.100.7", None], ["192.0.2.1", "198.51.100.7"], cats)
    frame["state"] = pd.Categorical(["C", "C"], dtype=dtypes()["state"])
    frame["rule"] = pd.Categorical(["r1", "r1"], categories=["r0", "r1"])
    frame["dst_port"] = np.array([1, 2], np.uint16)
    out = drop_unused_categories(frame)
    assert list(out["src_ip"].cat.categories) == ["192.0.2.1", "198.51.100.7"]
    assert out["src_ip"].dtype == out["dst_ip"].dtype
    assert out["src_ip"].tolist()[0] == "198.51.100.7" and pd.isna(out["src_ip"].iloc[1])
    assert list(out["state"].cat.categories) == ["B", "C", "E", "D"]  # a closed list stays whole
    assert list(out["rule"].cat.categories) == ["r1"] and out["dst_port"].tolist() == [1, 2]


def test_drop_unused_categories_on_an_empty_frame_keeps_no_address() -> None:
    # as the rules of an empty frame: before, the addresses alone kept every category
    frame = addresses([], [], ["192.0.2.1", "198.51.100.7"])
    frame["rule"] = pd.Categorical([], categories=["r0"])
    out = drop_unused_categories(frame)
    assert list(out["src_ip"].cat.categories) == [] and list(out["dst_ip"].cat.categories) == []
    assert list(out["rule"].cat.categories) == []


def test_drop_unused_categories_without_both_addresses() -> None:
    rules = pd.DataFrame({"rule": pd.Categorical(["a"], categories=["a", "b"])})
    assert list(drop_unused_categories(rules)["rule"].cat.categories) == ["a"]
    lone = pd.DataFrame({"src_ip": pd.Categorical(["192.0.2.1"], categories=["192.0.2.1", "198.51.100.7"])})
    # alone, a column cannot tell which addresses the other uses: its categories are left whole
    assert list(drop_unused_categories(lone)["src_ip"].cat.categories) == ["192.0.2.1", "198.51.100.7"]


@pytest.mark.parametrize("columns, filled", [
    pytest.param(["src_ip"], ["src_ip", "dst_ip"], id="sources"),
    pytest.param(["dst_ip", "rule"], ["dst_ip", "rule", "src_ip"], id="destinations"),
    pytest.param(["dst_ip", "src_ip"], ["dst_ip", "src_ip"], id="both"),
    pytest.param(["rule"], ["rule"], id="neither"),
])
def test_with_both_addresses(columns: list[str], filled: list[str]) -> None:
    assert with_both_addresses(columns) == filled
    assert with_both_addresses(tuple(columns)) == filled
