"""The quarantine of a Parquet dataset: the tuples and records that did not become rows.

Each unit (:class:`flowkit.store.manifest.UnitEntry`) with quarantined tuples or
damaged records has one file, ``_quarantine/<unit hash>-<token>.json``, named in the
manifest. It holds what the JSON read's :class:`flowkit.LoadReport` holds: one entry
per quarantined tuple (blob, record, tuple, reason, raw text) and one per problem
above the tuple level (blob, reason, detail, record). A dataset read puts those of
the units it reads in its report, as a JSON read of the same blobs would.

The folder starts with ``_``, so pyarrow, Dask and Spark leave it out of the dataset;
the files are JSON, so a ``**/*.parquet`` glob (DuckDB) does not pick them up either.

Examples
--------
>>> import tempfile
>>> from flowkit.load_report import Problem
>>> dest = tempfile.mkdtemp()
>>> q = quarantine_frame([("a.json", 0, 1, "wrong-field-count", "1,2")])
>>> rel = write_quarantine(dest, "unit", q, (Problem("a.json", "truncated-record", "byte 9", 3),))
>>> back, problems = read_quarantine(dest, rel)
>>> back["reason"].tolist(), problems[0].record
(['wrong-field-count'], 3)
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence

import msgspec
import pandas as pd

from flowkit.atomic import atomic_write
from flowkit.load_report import Problem, quarantine_frame

__all__ = ["QUARANTINE_DIR", "quarantine_frame", "write_quarantine", "read_quarantine", "of_blobs"]

#: Folder of the quarantine files, inside the dataset.
QUARANTINE_DIR = "_quarantine"


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def write_quarantine(dest: str | os.PathLike, key: str, quarantine: pd.DataFrame,
                     problems: Iterable[Problem]) -> str:
    """Write a unit's quarantine under a new name (never over a file the manifest names);
    return its path relative to ``dest``."""
    rows = [[str(b), _int(r), _int(t), str(reason), str(raw)] for b, r, t, reason, raw in zip(
        quarantine["blob"], quarantine["record"], quarantine["tuple"], quarantine["reason"], quarantine["raw"])]
    data = {"quarantine": rows,
            "problems": [[p.blob, p.reason, p.detail, p.record] for p in problems]}
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    rel = f"{QUARANTINE_DIR}/{digest}-{uuid.uuid4().hex[:8]}.json"
    (Path(dest) / QUARANTINE_DIR).mkdir(exist_ok=True)
    atomic_write(Path(dest) / rel, msgspec.json.encode(data))
    return rel


def read_quarantine(dest: str | os.PathLike, rel: str) -> tuple[pd.DataFrame, tuple[Problem, ...]]:
    """A unit's quarantined tuples and problems."""
    data = msgspec.json.decode((Path(dest) / rel).read_bytes())
    rows = [tuple(r) for r in data.get("quarantine", [])]
    problems = tuple(Problem(blob, reason, detail, record) for blob, reason, detail, record in data.get("problems", []))
    return quarantine_frame(rows), problems


def of_blobs(quarantine: pd.DataFrame, problems: Sequence[Problem],
             labels: set[str]) -> tuple[pd.DataFrame, tuple[Problem, ...]]:
    """The entries of the blobs whose ``blob`` column is in ``labels``."""
    kept = quarantine[quarantine["blob"].isin(labels)].reset_index(drop=True) if len(quarantine) else quarantine
    return kept, tuple(p for p in problems if p.blob in labels)
