"""ordering: the stable, read-order-free orders of rows every table shares (pinned by mutation testing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.analysis import ordering
from flowkit.analysis.ordering import sort_order, text_ranks, value_order


def test_ordering_exports_its_three_functions():
    assert ordering.__all__ == ["sort_order", "text_ranks", "value_order"]
    assert all(callable(getattr(ordering, name)) for name in ordering.__all__)


def test_sort_order_takes_unsigned_keys_past_2_63():
    """A uint64 key whose values all lie past 2**63 (a narrow range: combined, not sorted as it is)
    used to raise OverflowError; it sorts like np.lexsort."""
    big = np.array([2**63 + 5, 2**63, 2**63 + 5, 2**63 + 9], dtype=np.uint64)
    assert sort_order(big).tolist() == [1, 0, 2, 3]
    second = np.array([1, 0, 0, 0], dtype=np.uint8)
    assert sort_order(big, second).tolist() == [1, 2, 0, 3]
    assert sort_order(second, big).tolist() == [1, 2, 3, 0]


@pytest.mark.parametrize("base", [pytest.param(2**62, id="near-2**62"), pytest.param(-2**62, id="near-minus-2**62"),
                                  pytest.param(2**63 - 3, id="near-int64-max"),
                                  pytest.param(-2**63 + 1, id="near-int64-min")])
def test_sort_order_int64_keys_near_the_ends_of_their_range(base):
    """Narrow ranges far from zero are shifted to start at 0 before they are combined."""
    key = np.array([base + 1, base - 1, base, base - 1], dtype=np.int64)
    assert sort_order(key).tolist() == [1, 3, 2, 0]
    assert sort_order(np.array([0, 0, 0, 1]), key).tolist() == [1, 2, 0, 3]


def test_sort_order_without_keys_says_so():
    with pytest.raises(ValueError, match=r"^sort_order needs at least one key$"):
        sort_order()


def test_text_ranks_of_a_categorical_rank_text_and_leave_missing_at_minus_one():
    s = pd.Series(pd.Categorical(["b", "a", None, "b", "c"], categories=["c", "b", "a"]))
    assert text_ranks(s).tolist() == [1, 0, -1, 1, 2]


def test_text_ranks_of_plain_columns_compare_text_and_leave_missing_at_minus_one():
    assert text_ranks(pd.Series(["b", None, "a", "b"], dtype=object)).tolist() == [1, -1, 0, 1]
    assert text_ranks(pd.Series([10, 9, 100])).tolist() == [0, 2, 1]  # as text: "10" < "100" < "9"
    assert text_ranks(pd.Series([2.5, np.nan, 1.0])).tolist() == [1, -1, 0]


def test_value_order_numbers_as_numbers_text_as_text_missing_first():
    frame = pd.DataFrame({
        "n": [10.0, 9.0, 100.0, np.nan, 9.0],
        "s": pd.Series(["y", "x", "x", "z", "w"], dtype=object),
        "c": pd.Categorical(["b", "a", "c", "a", "b"], categories=["c", "b", "a"]),
    })
    assert value_order(frame, ["n"]).tolist() == [3, 1, 4, 0, 2]
    assert value_order(frame, ["n", "s"]).tolist() == [3, 4, 1, 0, 2]
    assert value_order(frame, ["s"]).tolist() == [4, 1, 2, 0, 3]
    assert value_order(frame, ["c", "n"]).tolist() == [3, 1, 4, 0, 2]
    assert value_order(frame, ["c", "s"]).tolist() == [1, 3, 4, 0, 2]
    assert value_order(pd.DataFrame({"u": pd.array([7, None, 3], dtype="UInt64")}), ["u"]).tolist() == [1, 2, 0]


def test_value_order_of_no_columns_keeps_the_rows_as_they_are():
    assert value_order(pd.DataFrame({"n": [3, 1, 2]}), []).tolist() == [0, 1, 2]
