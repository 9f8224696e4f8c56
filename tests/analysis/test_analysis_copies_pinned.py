"""copies: which rows repeat an earlier row, at the boundaries (no row, one row, two rows, masks)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from flowkit.analysis import copies
from flowkit.analysis.copies import TUPLE_IDENTITY, original_rows, repeated_tuples
from flowkit.analysis.counting import counted_values
from flowkit.read import read_flow_logs
from flowkit.schema import empty_frame
from flowkit_frames import frame, scenario_dir, tuple_row


def _e(**kw):
    return tuple_row(1, state="E", counters=(2, 200, 1, 100), **kw)


def test_the_public_names_and_the_fields_of_a_tuple():
    assert copies.__all__ == ["TUPLE_IDENTITY", "original_rows", "repeated_tuples"]
    assert TUPLE_IDENTITY == (
        "flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction", "decision", "state",
        "encryption", "packets_sent", "bytes_sent", "packets_received", "bytes_received", "rule", "acl_id", "mac",
        "log_type", "resource_id")


@pytest.mark.parametrize("rows, want", [
    pytest.param([], [], id="no-row"),
    pytest.param([_e()], [0], id="one-row"),
    pytest.param([_e(), _e()], [0, 0], id="two-rows-one-copy"),
    pytest.param([_e(), _e(sport=1)], [0, 1], id="two-rows-no-copy"),
])
def test_small_frames(rows, want):
    f = frame(rows) if rows else empty_frame()
    assert original_rows(f).tolist() == want
    assert repeated_tuples(f).tolist() == [p != i for i, p in enumerate(want)]


def test_a_frame_of_exactly_the_tuple_fields_still_finds_copies():
    f = frame([_e(), _e(sport=1), _e()])[list(TUPLE_IDENTITY)]
    assert original_rows(f).tolist() == [0, 1, 0]


@pytest.mark.parametrize("mask, want", [
    pytest.param([False, False, False], [], id="none-selected"),
    pytest.param([False, False, True], [0], id="copy-whose-original-is-left-out"),
    pytest.param([True, False, True], [0, 0], id="original-and-copy"),
])
def test_a_mask_searches_only_its_rows(mask, want):
    f = frame([_e(), _e(sport=1), _e()])
    assert original_rows(f, np.array(mask)).tolist() == want
    assert repeated_tuples(f, np.array(mask)).tolist() == [p != i for i, p in enumerate(want)]


def test_a_blob_saved_again_as_pt1h_1_counts_once(tmp_path):
    """A browser download saved beside its blob as `PT1H (1).json`: every row is kept, each of the
    copy's rows is found, and the counted bytes are those of the blob read once."""
    root = tmp_path / "encryption"
    shutil.copytree(scenario_dir("encryption"), root)
    blob = sorted(root.rglob("PT1H.json"))[0]
    shutil.copy(blob, blob.with_name("PT1H (1).json"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expected.json and nics.json are not flow logs
        plain, copied = read_flow_logs(str(scenario_dir("encryption"))), read_flow_logs(str(root))
    in_copy = int(copied["blob"].astype(str).str.endswith("PT1H (1).json").sum())
    assert in_copy > 0 and len(copied) == len(plain) + in_copy
    assert int(repeated_tuples(copied).sum()) == in_copy
    assert int(repeated_tuples(plain).sum()) == 0
    once, twice = counted_values(plain)[1], counted_values(copied)[1]
    assert {n: v.sum() for n, v in twice.items()} == {n: v.sum() for n, v in once.items()}
