"""fill_frame: Arrow tables -> canonical frame, compared with pyarrow's own conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from flowkit.formats.decode import ARROW_SCHEMA, decode_blob
from flowkit.frame_fill import CLOSED_CATEGORIES, FrameFiller, fill_frame, small_pages
from flowkit.schema import COLUMNS, dtypes
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import parse_blob_path

SAMPLES = Path(__file__).resolve().parents[1] / "data-samples"
INT_TYPES = {pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}


def appearance(tables: list[pa.Table], names: tuple[str, ...]) -> list[str]:
    """Values of the dictionaries of ``names``, in first-appearance order, table by table."""
    seen: dict[str, None] = {}
    for t in tables:
        for name in names:
            if name in t.column_names:
                column = t.column(name)
                if not pa.types.is_dictionary(column.type):
                    column = column.dictionary_encode()
                for chunk in column.chunks:
                    seen.update(dict.fromkeys(v for v in chunk.dictionary.to_pylist() if v is not None))
    return list(seen)


def reference(tables: list[pa.Table], columns: list[str]) -> pd.DataFrame:
    """The same frame by another route: concatenate, unify, ``to_pandas``, then set categories in pandas.

    Expected categories: first appearance over the tables in order (within a table,
    ``src_ip`` before ``dst_ip``, which share them); closed categoricals canonical first.
    """
    table = pa.concat_tables(tables).unify_dictionaries().combine_chunks()
    frame = table.to_pandas(types_mapper=INT_TYPES.get)
    both = all(name in frame for name in ("src_ip", "dst_ip"))
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            canonical = list(CLOSED_CATEGORIES.get(name, ()))
            names = ("src_ip", "dst_ip") if both and name in ("src_ip", "dst_ip") else (name,)
            frame[name] = frame[name].cat.set_categories(
                canonical + [v for v in appearance(tables, names) if v not in canonical])
    return frame[columns]


def assert_same(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    for name in frame.columns:
        assert frame[name].dtype == dtypes()[name] or isinstance(dtypes()[name], pd.CategoricalDtype), name
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            assert list(frame[name].cat.categories) == list(expected[name].cat.categories), name


def sample_tables(sample: str) -> list[pa.Table]:
    tables = []
    for path in sorted((SAMPLES / sample).rglob("*.json")):
        name = str(path.relative_to(SAMPLES / sample))
        tables.append(decode_blob(path.read_bytes(), BlobRef(name=name, meta=parse_blob_path(name))).table)
    return [t for t in tables if t.num_rows]


@pytest.mark.parametrize("sample", ["connectivity", "nsg-vs-vnet", "encryption"])
def test_samples_equal_pyarrow_conversion(sample: str) -> None:
    tables = sample_tables(sample)
    assert len(tables) > 3  # many tables, each with its own dictionaries
    expected = reference(tables, list(COLUMNS))
    frame = fill_frame(list(tables), list(COLUMNS))
    assert len(frame) == sum(t.num_rows for t in tables)
    assert_same(frame, expected)


def table(rows: list[tuple], ips_first: bool = True) -> pa.Table:
    """A small table of some canonical columns, one dictionary per table (as decode makes them)."""
    flow, src, dst, port, state, sent, rule = zip(*rows)
    return pa.table({
        "flow_time": pa.array(flow, pa.timestamp("ms", "UTC")),
        "src_ip": pa.array(src).dictionary_encode(),
        "dst_ip": pa.array(dst).dictionary_encode(),
        "dst_port": pa.array(port, pa.uint16()),
        "state": pa.array(state, pa.string()).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
        "bytes_sent": pa.array(sent, pa.uint64()),
        "rule": pa.array(rule, pa.string()).dictionary_encode(),
    })


COLS = ["flow_time", "src_ip", "dst_ip", "dst_port", "state", "bytes_sent", "rule"]


def test_tables_with_different_dictionaries_nulls_and_chunks() -> None:
    t1 = table([(1_714_557_600_000, "192.0.2.1", "198.51.100.7", 443, "C", 10, "r1"),
                (1_714_557_600_001, "192.0.2.2", "192.0.2.1", 53, None, None, None)])
    t2 = table([(1_714_557_600_002, "203.0.113.9", "192.0.2.2", 22, "E", 2**63, "r2"),
                (1_714_557_600_003, "198.51.100.7", "2001:db8::1", 80, "B", 0, "r1")])
    two_chunks = pa.concat_tables([t2.slice(0, 1), t2.slice(1, 1)])  # chunks with their own slices
    assert two_chunks.column("src_ip").num_chunks == 2
    tables = [t1, two_chunks]
    frame = fill_frame(list(tables), COLS)
    assert_same(frame, reference(tables, COLS))
    # first appearance, table by table: t1's sources, t1's destinations, then t2's
    assert list(frame["src_ip"].cat.categories) == ["192.0.2.1", "192.0.2.2", "198.51.100.7", "203.0.113.9",
                                                   "2001:db8::1"]
    assert frame["bytes_sent"].tolist() == [10, pd.NA, 2**63, 0]
    assert frame["state"].isna().tolist() == [False, True, False, False]
    assert list(frame["state"].cat.categories) == ["B", "C", "E", "D"]  # canonical, not first-seen
    assert frame["flow_time"].iloc[-1] == pd.Timestamp(1_714_557_600_003, unit="ms", tz="UTC")


def test_one_address_column_still_shares_categories_with_the_other() -> None:
    t = table([(0, "192.0.2.1", "198.51.100.7", 1, "C", 1, "r")])
    frame = fill_frame([t], ["src_ip"])
    assert list(frame.columns) == ["src_ip"]
    assert list(frame["src_ip"].cat.categories) == ["192.0.2.1", "198.51.100.7"]


def test_many_categories_take_wider_codes() -> None:
    n = 40_000  # above int16: int32 codes
    ips = [f"2001:db8::{i:x}" for i in range(n)]
    t = pa.table({"rule": pa.array(ips).dictionary_encode()})
    frame = fill_frame([t], ["rule"])
    assert frame["rule"].cat.codes.dtype == np.int32
    assert frame["rule"].tolist() == ips


def test_consumes_the_list_and_keeps_the_callers_tables_intact() -> None:
    t = table([(5, "192.0.2.1", "198.51.100.7", 1, "C", 1, "r")])
    tables = [t, t]
    frame = fill_frame(tables, COLS)
    assert tables == [] and len(frame) == 2 and t.num_rows == 1


def test_the_frame_does_not_alias_arrow_memory() -> None:
    t = table([(5, "192.0.2.1", "198.51.100.7", 1, "C", 1, "r")])
    frame = fill_frame([t], COLS)
    frame.loc[0, "dst_port"] = 9
    assert t.column("dst_port")[0].as_py() == 1 and frame["dst_port"].iloc[0] == 9


def test_missing_value_where_the_contract_has_none_is_an_error() -> None:
    t = pa.table({"dst_port": pa.array([1, None], pa.uint16())})
    with pytest.raises(ValueError, match="missing values"):
        fill_frame([t], ["dst_port"])


def test_timestamps_of_another_unit_are_converted() -> None:
    t = pa.table({"record_time": pa.array([1_500_000], pa.timestamp("us", "UTC"))})
    frame = fill_frame([t], ["record_time"])
    assert frame["record_time"].iloc[0] == pd.Timestamp(1_500_000, unit="us", tz="UTC")
    assert str(frame["record_time"].dtype) == "datetime64[ns, UTC]"


def test_empty_dictionaries_and_empty_tables() -> None:
    empty = ARROW_SCHEMA.empty_table()
    t = pa.table({"acl_id": pa.DictionaryArray.from_arrays(pa.array([None, None], pa.int32()),
                                                          pa.array([], pa.string()))})
    frame = fill_frame([empty.select(["acl_id"]), t], ["acl_id"])
    assert len(frame) == 2 and frame["acl_id"].isna().all() and len(frame["acl_id"].cat.categories) == 0


def test_plain_text_columns_become_categoricals() -> None:
    t = pa.table({"mac": pa.array(["000D3A000002", None, "000D3A000001"]),
                  "rule": pa.array(["r"] * 3, pa.large_string())})
    frame = fill_frame([t], ["mac", "rule"])
    assert list(frame["mac"].cat.categories) == ["000D3A000002", "000D3A000001"]
    assert frame["mac"].isna().tolist() == [False, True, False] and frame["rule"].tolist() == ["r"] * 3


def test_codes_widen_when_a_later_table_brings_more_categories() -> None:
    few = pa.table({"rule": pa.array(["r0", "r1", "r0"]).dictionary_encode()})
    many_values = [f"r{i}" for i in range(300)]  # past int8: int16 codes from the second table on
    many = pa.table({"rule": pa.array(many_values).dictionary_encode()})
    with FrameFiller(303, ["rule"]) as filler:
        filler.add(few)
        filler.add(many)
        frame = filler.finish()
    assert frame["rule"].cat.codes.dtype == np.int16
    assert frame["rule"].tolist() == ["r0", "r1", "r0"] + many_values
    assert list(frame["rule"].cat.categories) == many_values  # r0 and r1 first, as they appeared


def test_closed_categories_keep_canonical_order_and_add_unknown_values_as_they_appear() -> None:
    enc = pa.array(["NX_ZETA", None, "X", "NX_ALPHA"]).dictionary_encode()
    frame = fill_frame([pa.table({"encryption": enc})], ["encryption"])
    assert list(frame["encryption"].cat.categories) == [*CLOSED_CATEGORIES["encryption"], "NX_ZETA", "NX_ALPHA"]
    assert frame["encryption"].tolist()[2:] == ["X", "NX_ALPHA"] and pd.isna(frame["encryption"].iloc[1])


def test_missing_counters_are_masked_with_zero_underneath() -> None:
    sent = pa.array([7, None, 2**40, None], pa.uint64())
    all_missing = pa.nulls(2, pa.uint64())
    frame = fill_frame([pa.table({"bytes_sent": sent}), pa.table({"bytes_sent": all_missing})], ["bytes_sent"])
    array = frame["bytes_sent"].array
    assert frame["bytes_sent"].tolist() == [7, pd.NA, 2**40, pd.NA, pd.NA, pd.NA]
    assert array._data.tolist() == [7, 0, 2**40, 0, 0, 0]  # defined values under the mask


def test_sliced_chunks_with_nulls_keep_their_offsets() -> None:
    t = table([(i, f"192.0.2.{i}", "198.51.100.7", i, None if i % 3 else "C", None if i % 2 else i, "r")
               for i in range(1, 20)])
    sliced = t.slice(5, 9)  # offsets that are not multiples of 8 in the validity bitmaps
    frame = fill_frame([sliced], COLS)
    assert_same(frame, reference([sliced], COLS))
    assert frame["dst_port"].tolist() == list(range(6, 15))


def test_one_copying_thread_fills_the_same_frame() -> None:
    import pyarrow as pa

    tables = [pa.table({"dst_port": pa.array([443, 53], pa.uint16()),
                        "rule": pa.array(["a", None]).dictionary_encode()}),
              pa.table({"dst_port": pa.array([22], pa.uint16()), "rule": pa.array(["b"]).dictionary_encode()})]
    with FrameFiller(3, ["dst_port", "rule"], threads=1) as filler:
        assert filler._pool is None  # no thread of its own
        for t in tables:
            filler.add(t)
        one = filler.finish()
    pd.testing.assert_frame_equal(one, fill_frame(list(tables), ["dst_port", "rule"]))
    assert one["rule"].tolist()[:1] == ["a"] and one["rule"].isna().tolist() == [False, True, False]


def test_the_filler_refuses_more_rows_than_it_was_given_and_fewer_at_the_end() -> None:
    t = pa.table({"dst_port": pa.array([1, 2], pa.uint16())})
    with FrameFiller(3, ["dst_port"]) as filler:
        filler.add(t)
        with pytest.raises(ValueError, match="4 rows for a frame of 3"):
            filler.add(t)
        with pytest.raises(ValueError, match="2 rows added to a frame of 3"):
            filler.finish()


@pytest.mark.parametrize("estimate", [1, 7, 19, 500])
def test_a_growable_filler_gives_the_exact_frame_whatever_the_estimate(estimate: int) -> None:
    # 19 rows in 4 tables, with nulls, widening codes (300 rules) and masks: the estimate is too
    # small (growth, several times for 1), exact, or far too large (the frame is cut to the rows)
    tables = [table([(i, f"192.0.2.{i}", "198.51.100.7", i, None if i % 3 else "C", None if i % 2 else i,
                      f"r{i}") for i in range(lo, hi)]) for lo, hi in ((1, 4), (4, 5), (5, 12), (12, 20))]
    rules = pa.table({"rule": pa.array([f"x{i}" for i in range(300)]).dictionary_encode()})
    with FrameFiller(estimate, COLS, threads=1, growable=True) as filler:
        for t in tables:
            filler.add(t)
        frame = filler.finish()
    assert_same(frame, reference(tables, COLS))
    assert len(frame) == 19 and all(len(frame[c].array) == 19 for c in COLS)
    with FrameFiller(estimate, ["rule", "bytes_sent"], threads=1, growable=True) as filler:
        filler.add(tables[0].select(["rule", "bytes_sent"]))
        filler.add(rules.append_column("bytes_sent", pa.nulls(300, pa.uint64())))
        wide = filler.finish()
    assert wide["rule"].cat.codes.dtype == np.int16 and len(wide) == 303
    assert wide["rule"].tolist() == ["r1", "r2", "r3"] + [f"x{i}" for i in range(300)]
    assert wide["bytes_sent"].isna().tolist() == [True, False, True] + [True] * 300


def test_a_growable_filler_with_no_rows_gives_an_empty_frame() -> None:
    with FrameFiller(100, ["dst_port", "bytes_sent"], growable=True) as filler:
        frame = filler.finish()
    assert frame.shape == (0, 2) and frame.dtypes.tolist() == [np.dtype("uint16"), pd.UInt64Dtype()]


@pytest.mark.parametrize("user_choice", [None, "1"])
def test_small_pages_turns_numpys_huge_page_hint_off_and_back_unless_the_user_chose(
        monkeypatch: pytest.MonkeyPatch, user_choice: str | None) -> None:
    toggle = np._core.multiarray._set_madvise_hugepage
    if user_choice is None:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    else:
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", user_choice)
    before = toggle(True)
    try:
        with small_pages():
            inside = toggle(False)  # returns the state it replaces
            toggle(inside)
        after = toggle(True)
    finally:
        toggle(before)
    assert inside is (user_choice is not None) and after is True


def test_known_values_keep_their_codes_and_new_values_are_appended_in_order() -> None:
    first = [f"192.0.2.{i}" for i in range(200)] + [f"198.51.100.{i}" for i in range(200)]
    second = first[::-1] + ["203.0.113.1", None, "203.0.113.2"]  # known values reversed, two new, a null
    t1 = pa.table({"src_ip": pa.array(first).dictionary_encode()})
    t2 = pa.table({"src_ip": pa.DictionaryArray.from_arrays(pa.array(range(len(second)), pa.int32()),
                                                            pa.array(second))})
    frame = fill_frame([t1, t2], ["src_ip"])
    assert list(frame["src_ip"].cat.categories) == first + ["203.0.113.1", "203.0.113.2"]
    assert frame["src_ip"].tolist()[:len(first)] == first
    assert frame["src_ip"].iloc[len(first):].tolist()[:-3] == first[::-1]
    assert frame["src_ip"].tolist()[-3] == "203.0.113.1" and pd.isna(frame["src_ip"].iloc[-2])
