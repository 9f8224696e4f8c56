"""What every reader shares: finding the blobs, and the last step to the canonical dtypes.

The peers (polars, DuckDB) do their parsing and casting in their own engine and
then hand a pandas frame to :func:`finish`, which only does what those engines
cannot express in their pandas export: ``src_ip``/``dst_ip`` with one shared set
of categories, the closed categoricals (direction, decision, state, encryption,
log_type) with the canonical, *unordered* categories of :mod:`flowkit.schema`,
and the canonical column order. It is timed as part of each reader.

Examples
--------
>>> list_blobs("data-samples/connectivity")[0].endswith("PT1H.json")  # doctest: +SKIP
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from flowkit.schema import COLUMNS, DECISIONS, DIRECTIONS, ENCRYPTION_STATES, LOG_TYPES, STATES

__all__ = ["list_blobs", "finish", "read_flowkit", "CLOSED", "OPEN", "UINT_TYPES"]

#: Closed categoricals and their canonical categories.
CLOSED: dict[str, tuple[str, ...]] = {"direction": DIRECTIONS, "decision": DECISIONS, "state": STATES,
                                      "encryption": ENCRYPTION_STATES, "log_type": LOG_TYPES}
#: Open categoricals other than the addresses.
OPEN: tuple[str, ...] = ("rule", "acl_id", "mac", "resource_id", "target_resource_id", "blob")
#: Counter dtypes (nullable: NSG v2 ``B`` tuples have empty counters, NSG v1 none at all).
UINT_TYPES: dict[str, str] = {"packets_sent": "UInt32", "bytes_sent": "UInt64",
                              "packets_received": "UInt32", "bytes_received": "UInt64"}


def list_blobs(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Files to read: for the benchmark corpora, the files :class:`flowkit.sources.local.LocalSource` reads.

    A folder gives its ``PT1H.json`` files (recursively, sorted) or, when it has
    none, every ``*.json``; a file gives itself. The strings are the ``blob`` column.
    (LocalSource also matches names in any case and reads other JSON files in the hour
    folders; the generated corpora have neither.)
    """
    specs = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    found: list[str] = []
    for spec in specs:
        path = os.fspath(spec)
        if os.path.isdir(path):
            blobs = sorted(str(p) for p in Path(path).rglob("PT1H.json") if p.is_file())
            found.extend(blobs or sorted(str(p) for p in Path(path).rglob("*.json") if p.is_file()))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _shared_addresses(src: pd.Series, dst: pd.Series) -> tuple[pd.Categorical, pd.Categorical]:
    """One category set for both address columns (recoding codes, not strings, when possible)."""
    if isinstance(src.dtype, pd.CategoricalDtype) and isinstance(dst.dtype, pd.CategoricalDtype):
        cats = src.cat.categories.union(dst.cat.categories, sort=False)
        return (pd.Categorical(src.cat.set_categories(cats)), pd.Categorical(dst.cat.set_categories(cats)))
    both = np.concatenate([np.asarray(src, dtype=object), np.asarray(dst, dtype=object)])
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    dtype = pd.CategoricalDtype(pd.Index(uniques, dtype="str"))
    n = len(src)
    return (pd.Categorical.from_codes(codes[:n], dtype=dtype, validate=False),
            pd.Categorical.from_codes(codes[n:], dtype=dtype, validate=False))


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical column order, shared address categories, canonical closed categories.

    Parameters
    ----------
    frame : pandas.DataFrame
        Every canonical column present, numbers and times already in their final dtype.

    Returns
    -------
    pandas.DataFrame
        The same frame (columns replaced in place where needed), in canonical order.
    """
    src, dst = _shared_addresses(frame["src_ip"], frame["dst_ip"])
    frame["src_ip"], frame["dst_ip"] = src, dst
    for name, canonical in CLOSED.items():
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = list(col.cat.categories)
            extra = sorted(c for c in cats if c not in canonical)
            if cats != list(canonical) + extra or col.cat.ordered:
                frame[name] = col.cat.as_unordered().cat.set_categories(list(canonical) + extra)
        else:
            extra = sorted(set(pd.unique(col.dropna())) - set(canonical))
            frame[name] = col.astype(pd.CategoricalDtype(list(canonical) + extra))
    for name in OPEN:
        col = frame[name]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            frame[name] = col.astype("category")
        elif col.cat.ordered:
            frame[name] = col.cat.as_unordered()
    return frame[list(COLUMNS)]


def read_flowkit(source: Any) -> pd.DataFrame:
    """flowkit itself, as the benchmark calls it (two decode workers, with the load report)."""
    from flowkit import read_flow_logs

    frame, _report = read_flow_logs(source, max_workers=2, with_report=True)
    return frame
