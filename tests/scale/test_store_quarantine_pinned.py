"""A dataset's quarantine files keep every quarantined tuple with its blob, record, tuple index,
reason and raw text, and every problem with its record (flowkit.store.quarantine)."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd

import flowkit.store.quarantine as quarantine_module
from flowkit.load_report import Problem
from flowkit.store.quarantine import QUARANTINE_DIR, of_blobs, quarantine_frame, read_quarantine, write_quarantine

ROWS = [
    ("a/PT1H.json", 0, 1, "wrong-field-count", "1714557600,192.0.2.1,198.51.100.1,443"),
    ("a/PT1H.json", 2, None, "truncated-record", '{"time": "2024-05-01T10:0'),
    ("b/PT1H.json", None, 0, "misplaced-tuples", "1714557600,203.0.113.9,192.0.2.1,53,53,U,I,A,B"),
]
PROBLEMS = (Problem("a/PT1H.json", "truncated-record", "byte 9: {\"ti", 2),
            Problem("b/PT1H.json", "misplaced-tuples", "1 tuple string(s)", None))


def test_the_public_names():
    assert quarantine_module.__all__ == ["QUARANTINE_DIR", "quarantine_frame", "write_quarantine",
                                         "read_quarantine", "of_blobs"]
    assert QUARANTINE_DIR == "_quarantine"


def test_a_unit_quarantine_is_written_as_json_and_read_back_entry_for_entry(tmp_path):
    frame = quarantine_frame(ROWS)
    rel = write_quarantine(tmp_path, "unit-key", frame, PROBLEMS)
    digest = hashlib.sha1(b"unit-key").hexdigest()[:16]
    assert re.fullmatch(rf"_quarantine/{digest}-[0-9a-f]{{8}}\.json", rel)
    assert json.loads((tmp_path / rel).read_bytes()) == {
        "quarantine": [list(r) for r in ROWS],
        "problems": [["a/PT1H.json", "truncated-record", "byte 9: {\"ti", 2],
                     ["b/PT1H.json", "misplaced-tuples", "1 tuple string(s)", None]],
    }
    back, problems = read_quarantine(tmp_path, rel)
    pd.testing.assert_frame_equal(back, frame)
    assert back["record"].tolist() == [0, 2, pd.NA] and back["tuple"].tolist() == [1, pd.NA, 0]
    assert problems == PROBLEMS


def test_numpy_and_missing_indices_are_written_as_plain_numbers_or_null(tmp_path):
    frame = pd.DataFrame({"blob": ["a.json"] * 3,
                          "record": pd.array([np.int64(4), None, 7], dtype="Int64"),
                          "tuple": [np.int64(5), np.nan, 1.0],
                          "reason": ["wrong-field-count"] * 3, "raw": ["1,2", "3", "4,5"]})
    rel = write_quarantine(tmp_path, "k", frame, ())
    assert json.loads((tmp_path / rel).read_bytes())["quarantine"] == [
        ["a.json", 4, 5, "wrong-field-count", "1,2"], ["a.json", None, None, "wrong-field-count", "3"],
        ["a.json", 7, 1, "wrong-field-count", "4,5"]]


def test_an_empty_quarantine_round_trips_to_the_report_schema(tmp_path):
    rel = write_quarantine(tmp_path, "k", quarantine_frame([]), ())
    back, problems = read_quarantine(tmp_path, rel)
    pd.testing.assert_frame_equal(back, quarantine_frame([]))
    assert problems == ()


def test_every_write_gets_a_new_name_in_the_folder(tmp_path):
    frame = quarantine_frame(ROWS[:1])
    first = write_quarantine(tmp_path, "k", frame, ())
    second = write_quarantine(tmp_path, "k", frame, ())  # the folder exists already
    assert first != second
    assert sorted(p.name for p in (tmp_path / QUARANTINE_DIR).iterdir()) == sorted(
        [first.split("/")[1], second.split("/")[1]])


def test_a_file_without_one_of_its_lists_reads_as_empty(tmp_path):
    (tmp_path / QUARANTINE_DIR).mkdir()
    (tmp_path / QUARANTINE_DIR / "x.json").write_text('{"problems": [["a.json", "not-json", "<", null]]}')
    (tmp_path / QUARANTINE_DIR / "y.json").write_text('{"quarantine": [["a.json", 1, 2, "r", "raw"]]}')
    back, problems = read_quarantine(tmp_path, f"{QUARANTINE_DIR}/x.json")
    assert (len(back), problems) == (0, (Problem("a.json", "not-json", "<", None),))
    back, problems = read_quarantine(tmp_path, f"{QUARANTINE_DIR}/y.json")
    assert (back.to_dict("records"), problems) == (
        [{"blob": "a.json", "record": 1, "tuple": 2, "reason": "r", "raw": "raw"}], ())


def test_of_blobs_keeps_the_entries_of_the_named_blobs_renumbered():
    frame = quarantine_frame(ROWS)
    kept, problems = of_blobs(frame, PROBLEMS, {"b/PT1H.json"})
    assert kept.to_dict("records") == [{"blob": "b/PT1H.json", "record": None, "tuple": 0,
                                        "reason": "misplaced-tuples", "raw": ROWS[2][4]}]
    assert kept.index.tolist() == [0]
    assert problems == PROBLEMS[1:]
    kept, problems = of_blobs(frame, PROBLEMS, set())
    assert (len(kept), problems) == (0, ())
    assert list(kept.columns) == ["blob", "record", "tuple", "reason", "raw"]
    empty = quarantine_frame([])
    kept, problems = of_blobs(empty, (), {"a/PT1H.json"})
    pd.testing.assert_frame_equal(kept, empty)
