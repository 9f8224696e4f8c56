"""Copies of a tuple: rows that repeat an earlier row's observation exactly.

flowkit keeps every tuple it reads, copies included (a saved fragment read beside its
blob, a tuple Azure wrote twice); the investigations count a copy once. Rows are
hashed, and only rows that share a hash are compared field by field.

Examples
--------
>>> from flowkit.schema import coerce
>>> f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:00Z"] * 2, "src_ip": ["192.0.2.1"] * 2,
...                          "dst_ip": ["198.51.100.2"] * 2, "state": ["E", "E"]}))
>>> repeated_tuples(f).tolist()
[False, True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowkit.analysis.keys import COUNTER_NAMES, combine_codes, epoch_ms

__all__ = ["TUPLE_IDENTITY", "original_rows", "repeated_tuples"]

#: What makes a row one observation: the tuple's own fields and who logged it. Two rows
#: equal on all of these are one observation written twice (a copy: a saved fragment
#: read beside its blob, or a tuple Azure wrote twice), whichever blob or record holds them.
TUPLE_IDENTITY = ("flow_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction",
                  "decision", "state", "encryption", *COUNTER_NAMES, "rule", "acl_id", "mac",
                  "log_type", "resource_id")


def _identity_arrays(flows: pd.DataFrame) -> list[np.ndarray]:
    """Integer arrays holding every :data:`TUPLE_IDENTITY` field (missing values coded apart)."""
    out: list[np.ndarray] = []
    for name in TUPLE_IDENTITY:
        series = flows[name]
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out.append(series.cat.codes.to_numpy())
        elif isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
            out.append(epoch_ms(series))
        elif dtype.kind in "iub":
            out.append(series.to_numpy(np.uint64 if dtype.kind == "u" else np.int64, na_value=0))
            missing = series.isna().to_numpy()
            if missing.any():
                out.append(missing)
        else:
            out.append(pd.factorize(series, use_na_sentinel=True)[0])
    return out


def _row_hashes(arrays: list[np.ndarray], n: int) -> np.ndarray:
    """A 64-bit hash per row of the given columns (equal rows, equal hashes; rows that share
    a hash are compared field by field afterwards)."""
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in arrays:
            h *= np.uint64(0x9E3779B97F4A7C15)
            h += a.astype(np.uint64)
    return h


def original_rows(flows: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """For each row, the position of the first row with the same :data:`TUPLE_IDENTITY`.

    A row whose original is itself is no copy, and so is every row of a frame that
    lacks one of those columns (a projection). ``rows`` (a boolean mask) limits the
    search to those rows; positions are then among the selected rows. Rows are
    hashed first and only rows sharing a hash are compared field by field, so the
    answer is exact and costs one sort when nothing repeats.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:00Z"] * 3, "src_ip": ["192.0.2.1"] * 3,
    ...                          "dst_ip": ["198.51.100.2"] * 3, "src_port": [5000, 5001, 5000],
    ...                          "dst_port": [443] * 3, "state": ["E"] * 3}))
    >>> original_rows(f).tolist()
    [0, 1, 0]
    """
    n = len(flows) if rows is None else int(np.count_nonzero(rows))
    positions = np.arange(n, dtype=np.int64)
    if n < 2 or not set(TUPLE_IDENTITY) <= set(flows.columns):
        return positions  # without every field, rows cannot be told apart: none is a copy
    arrays = _identity_arrays(flows)
    h = _row_hashes(arrays, len(flows))
    if rows is not None:
        h = h[rows]
    ordered = np.sort(h)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return positions
    shared = np.unique(ordered[1:][same])
    cand = np.flatnonzero(shared[np.minimum(np.searchsorted(shared, h), len(shared) - 1)] == h)
    at = cand if rows is None else np.flatnonzero(rows)[cand]
    ids = combine_codes(*(a[at] for a in arrays))  # exact: dense ids in order of first appearance
    _, first = np.unique(ids, return_index=True)
    positions[cand] = cand[first[ids]]
    return positions


def repeated_tuples(flows: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows that repeat an earlier row's :data:`TUPLE_IDENTITY` exactly (copies), as a mask.

    flowkit keeps every tuple it reads, copies included (duplicate tuples exist in
    real data). The investigations count a copy's counters once, never stitch it
    into a session of its own, and say how many copies they met. ``rows`` limits the
    search as in :func:`original_rows`.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:00Z"] * 2, "src_ip": ["192.0.2.1"] * 2,
    ...                          "dst_ip": ["198.51.100.2"] * 2, "state": ["E", "E"],
    ...                          "packets_sent": [3, 3], "blob": ["PT1H.json", "PT1H-fragment.json"]}))
    >>> repeated_tuples(f).tolist()
    [False, True]
    """
    positions = original_rows(flows, rows)
    return positions != np.arange(len(positions))
