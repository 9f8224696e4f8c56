"""The per-pair value lists of the distributed talker graph (ports, rules)."""

from __future__ import annotations

import numpy as np

from flowkit.scale.graph import _grouped_tuples


def test_distinct_sorted_values_per_group_with_empty_groups() -> None:
    group = np.array([2, 0, 2, 2, 0, 4])
    value = np.array([5, 1, 5, 3, 1, 0])
    assert _grouped_tuples(group, value, 5) == [(1,), (), (3, 5), (), (0,)]


def test_every_group_single_or_several_values_and_names() -> None:
    group = np.array([1, 0, 1, 2])
    value = np.array([0, 1, 2, 1])
    names = np.array([-7, 2**62, 11], dtype=np.int64)
    out = _grouped_tuples(group, value, 3, names=names)
    assert out == [(2**62,), (-7, 11), (2**62,)]
    assert all(type(v) is int for t in out for v in t)


def test_no_rows() -> None:
    assert _grouped_tuples(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 2) == [(), ()]
