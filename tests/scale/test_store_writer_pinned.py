"""flowkit.store.writer pinned: what the clean-up after an interrupted conversion removes (and
counts), and the blob runs of several chunks, dictionary-encoded or not."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from flowkit.store.manifest import MARKER
from flowkit.store.quarantine import QUARANTINE_DIR
from flowkit.store.writer import blob_runs, remove_leftovers

KEPT = "type=vnet/date=2024-05-01/hour=10/part-kept.parquet"
GONE = "type=nsg/date=2024-05-02/hour=11/part-gone.parquet"
BESIDE = "type=vnet/date=2024-05-01/hour=12/part-gone.parquet"


def _touch(root: Path, rel: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_clean_dataset_has_nothing_to_remove(tmp_path: Path) -> None:
    _touch(tmp_path, KEPT)
    _touch(tmp_path, MARKER)
    assert remove_leftovers(tmp_path, {KEPT}) == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [MARKER, KEPT]


def test_leftovers_are_removed_and_counted_and_nothing_else_is_touched(tmp_path: Path) -> None:
    for rel in (KEPT, GONE, BESIDE, f"{QUARANTINE_DIR}/kept.jsonl", f"{QUARANTINE_DIR}/gone.jsonl",
                ".tmp-0123/part-a.parquet", f".{MARKER}.4567.tmp", MARKER, "notes.txt", ".tmp-file", "mine.tmp",
                "type=vnet/date=2024-05-01/hour=12/mine.parquet"):
        _touch(tmp_path, rel)
    referenced = {KEPT, f"{QUARANTINE_DIR}/kept.jsonl"}
    # the temporary folder, the marker's temporary file, two Parquet files, one quarantine file
    assert remove_leftovers(tmp_path, referenced) == 5
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [".tmp-file", MARKER, f"{QUARANTINE_DIR}", f"{QUARANTINE_DIR}/kept.jsonl", "mine.tmp", "notes.txt",
                    "type=vnet", "type=vnet/date=2024-05-01", "type=vnet/date=2024-05-01/hour=10", KEPT,
                    "type=vnet/date=2024-05-01/hour=12", "type=vnet/date=2024-05-01/hour=12/mine.parquet"]
    # type=nsg/... held only the removed file: its three folders went with it


def test_blob_runs_of_plain_and_dictionary_chunks() -> None:
    plain = pa.chunked_array([["a", "a", "b"], ["b", "c"]])
    encoded = pa.chunked_array([pa.array(["a", "a", "b"]).dictionary_encode(), pa.array(["b"]).dictionary_encode()])
    for column in (plain, encoded):
        table = pa.table({"blob": column, "n": pa.array(range(len(column)))})
        runs = [(name, rows["n"].to_pylist()) for name, rows in blob_runs(table)]
        expected = [("a", [0, 1]), ("b", [2]), ("b", [3]), ("c", [4])][:3 if column is encoded else 4]
        assert runs == expected  # a run never crosses a chunk: rows are sliced within it
