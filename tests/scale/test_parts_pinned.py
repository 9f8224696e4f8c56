"""Pinned behaviour of flowkit.scale._parts found by mutation testing (synchronous scheduler)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.scale import _parts
from flowkit.scale._parts import (KEY5, MISSING, as_dask, from_parts, hash_values, hashed, is_dask, per_partition,
                                  shuffle_apply, shuffled, small_concat, value_map, values)

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")


pytestmark = pytest.mark.usefixtures("synchronous_dask")  # tests/scale/conftest.py


def _i64(*xs: int) -> pd.Series:
    return pd.Series(list(xs), dtype=np.int64)


def test_the_public_names_and_the_flow_key() -> None:
    assert set(_parts.__all__) == {"values", "is_dask", "as_dask", "shuffle_apply", "shuffled", "small_concat",
                                   "per_partition", "from_parts", "hashed", "hash_values", "value_map", "MISSING",
                                   "KEY5"}
    assert all(hasattr(_parts, name) for name in _parts.__all__)
    assert KEY5 == ["src_ip", "dst_ip", "src_port", "dst_port", "protocol"]


@pytest.mark.parametrize("series", [
    pytest.param(pd.Series(pd.Categorical(["192.0.2.1", None, "192.0.2.2", "192.0.2.1"])), id="categorical"),
    pytest.param(pd.Series(["192.0.2.1", None, "192.0.2.2", "192.0.2.1"], dtype=object), id="text"),
    pytest.param(pd.Series(["192.0.2.1", np.nan, "192.0.2.2", "192.0.2.1"], dtype=object), id="text-with-nan"),
])
def test_values_are_the_column_values_with_none_where_missing(series: pd.Series) -> None:
    got = values(series)
    assert got.dtype == object
    assert got.tolist() == ["192.0.2.1", None, "192.0.2.2", "192.0.2.1"]
    assert got[1] is None


def test_is_dask_only_for_a_dask_frame() -> None:
    frame = pd.DataFrame({"a": [1, 2]})

    class MapsOnly:  # has map_partitions but no graph: not a Dask frame
        def map_partitions(self):  # pragma: no cover - never called
            raise AssertionError

    assert is_dask(dd.from_pandas(frame, npartitions=1)) is True
    assert [is_dask(x) for x in (frame, None, [], MapsOnly())] == [False, False, False, False]


def test_as_dask_splits_a_pandas_frame_and_leaves_a_dask_frame_alone() -> None:
    frame = pd.DataFrame({"log_type": ["nsg", "vnet", "vnet", "nsg", "vnet"], "n": range(5)}, index=[4, 0, 3, 1, 2])
    ddf = as_dask(frame, rows_per_partition=2)
    assert ddf.npartitions == 3
    assert str(ddf["log_type"].dtype) == "category"
    got = ddf.compute()
    assert got.index.tolist() == [4, 0, 3, 1, 2]  # the rows stay in their order, the index is not sorted
    assert got["n"].tolist() == [0, 1, 2, 3, 4]
    assert as_dask(ddf) is ddf
    assert as_dask(frame.iloc[:0]).npartitions == 1


def test_as_dask_takes_250000_rows_per_partition_by_default() -> None:
    frame = pd.DataFrame({"n": np.arange(250_001, dtype=np.int32)})
    assert as_dask(frame).npartitions == 2
    assert as_dask(frame.iloc[:250_000]).npartitions == 1


def test_shuffled_brings_equal_keys_into_one_partition() -> None:
    parts = [pd.DataFrame({"k": [1, 2, 3, 4], "v": [10, 20, 30, 40]}),
             pd.DataFrame({"k": [4, 3, 2, 1], "v": [41, 31, 21, 11]})]
    ddf = from_parts([dask.delayed(p) for p in parts], parts[0].iloc[:0])
    out = shuffled(ddf, ["k"])
    assert out.npartitions == 2
    seen = [set(p["k"]) for p in dask.compute(*out.to_delayed())]
    assert sum(len(s) for s in seen) == 4  # no key in both partitions
    assert sorted(out.compute()["v"].tolist()) == [10, 11, 20, 21, 30, 31, 40, 41]


def test_one_partition_is_not_shuffled() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"k": [1, 1, 2]}), npartitions=1)
    out = shuffled(ddf, ["k"])
    assert out is ddf
    assert out.npartitions == 1


def test_shuffle_apply_passes_the_function_frames_on_as_they_are() -> None:
    """``meta`` only describes the result: a partition's frame is not checked against it."""
    ddf = dd.from_pandas(pd.DataFrame({"k": [1, 2, 1, 2]}), npartitions=2)
    meta = pd.DataFrame({"k": _i64(), "n": _i64()})

    def count(part: pd.DataFrame, bonus: int) -> pd.DataFrame:
        got = part.groupby("k").size().rename("n").reset_index()
        return got[["n", "k"]].assign(n=lambda f: f["n"] + bonus)  # columns not in meta's order

    got = shuffle_apply(ddf, ["k"], count, meta, 100).compute()
    assert sorted(zip(got["k"], got["n"])) == [(1, 102), (2, 102)]


def test_small_concat() -> None:
    meta = pd.DataFrame({"a": np.array([7], dtype=np.int64), "b": np.array(["x"], dtype=object)}, index=[5])
    empty = meta.iloc[:0]
    none = small_concat([empty, empty], meta)
    assert none.columns.tolist() == ["a", "b"] and len(none) == 0
    assert small_concat([], meta).dtypes.tolist() == meta.dtypes.tolist()
    one = pd.DataFrame({"a": [1], "b": ["p"]}, index=[9])
    two = pd.DataFrame({"a": [2, 3], "b": ["q", "r"]}, index=[9, 10])
    got = small_concat([empty, one, empty, two], meta)
    assert got.index.tolist() == [0, 1, 2]
    assert got.to_dict("list") == {"a": [1, 2, 3], "b": ["p", "q", "r"]}


def test_per_partition_calls_the_function_once_per_partition() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"a": [1, 2, 3, 4, 5]}), npartitions=2)
    plain = per_partition(ddf, lambda part, extra: (len(part), extra), "x")
    assert dask.compute(*plain) == ((3, "x"), (2, "x"))
    numbered = per_partition(ddf, lambda part, i, extra: (i, len(part), extra), "x", numbered=True)
    assert dask.compute(*numbered) == ((0, 3, "x"), (1, 2, "x"))


def test_per_partition_tasks_are_pure() -> None:
    """The same call gives the same keys, so a graph holding it twice computes it once."""
    ddf = dd.from_pandas(pd.DataFrame({"a": [1, 2, 3]}), npartitions=2)
    assert [d.key for d in per_partition(ddf, len)] == [d.key for d in per_partition(ddf, len)]


def test_from_parts_does_not_check_each_part_against_meta() -> None:
    meta = pd.DataFrame({"x": _i64()})
    got = from_parts([dask.delayed(pd.DataFrame({"x": ["a"]})), dask.delayed(pd.DataFrame({"x": [1]}))], meta)
    assert got.npartitions == 2
    assert got.compute()["x"].tolist() == ["a", 1]


def test_hashes_are_stable_across_releases() -> None:
    """Partial results hashed by one worker are read by another (and possibly another machine)."""
    got = hash_values(np.array(["192.0.2.1", "198.51.100.7"], dtype=object))
    assert got.dtype == np.int64
    assert got.tolist() == [8835315518965567110, 5799550853822615754]
    assert hash_values(np.array(["192.0.2.1"], dtype=object)).tolist() == [8835315518965567110]
    empty = hash_values(np.array([], dtype=object))
    assert empty.dtype == np.int64 and len(empty) == 0


@pytest.mark.parametrize("series", [
    pytest.param(pd.Series(pd.Categorical(["192.0.2.2", None, "192.0.2.1", "192.0.2.2"],
                                          categories=["192.0.2.1", "192.0.2.2", "203.0.113.9"])), id="categorical"),
    pytest.param(pd.Series(["192.0.2.2", None, "192.0.2.1", "192.0.2.2"], dtype=object), id="text"),
])
def test_hashed_gives_the_row_hashes_and_the_map_of_the_values_present(series: pd.Series) -> None:
    h1, h2 = hash_values(np.array(["192.0.2.1", "192.0.2.2"], dtype=object)).tolist()
    rows, table = hashed(series)
    assert rows.dtype == np.int64
    assert rows.tolist() == [h2, -1, h1, h2]
    assert table.columns.tolist() == ["h", "value"]
    assert sorted(zip(table["h"], table["value"])) == sorted([(h1, "192.0.2.1"), (h2, "192.0.2.2")])


def test_hashed_all_missing() -> None:
    rows, table = hashed(pd.Series([None, None], dtype=object))
    assert rows.tolist() == [-1, -1] and MISSING == -1
    assert len(table) == 0 and table.columns.tolist() == ["h", "value"]


def test_value_map_merges_the_maps() -> None:
    a = pd.DataFrame({"h": _i64(1, 2), "value": pd.Series(["192.0.2.1", "192.0.2.2"], dtype=object)})
    b = pd.DataFrame({"h": _i64(2, 3), "value": pd.Series(["192.0.2.2", "192.0.2.3"], dtype=object)})
    assert value_map([a, a.iloc[:0], b]) == {1: "192.0.2.1", 2: "192.0.2.2", 3: "192.0.2.3"}
    assert value_map([]) == {}
    assert value_map([a.iloc[:0]]) == {}


@pytest.mark.parametrize("maps", [
    pytest.param([pd.DataFrame({"h": _i64(5), "value": ["192.0.2.1"]}),
                  pd.DataFrame({"h": _i64(5), "value": ["192.0.2.2"]})], id="two-values-one-hash"),
    pytest.param([pd.DataFrame({"h": _i64(-1), "value": ["192.0.2.1"]})], id="a-value-hashing-to-missing"),
])
def test_value_map_refuses_a_collision(maps: list[pd.DataFrame]) -> None:
    with pytest.raises(RuntimeError, match=r"^flowkit\.scale: two values share a 64-bit hash; aggregate with "
                                           r"pandas instead$"):
        value_map(maps)
