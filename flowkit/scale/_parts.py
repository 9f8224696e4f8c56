"""Shared steps of the distributed aggregations: per-partition keys as values, and the shuffle.

Inside a partition, work is done on category codes (fast, as the pandas
analyses do); what leaves a partition carries *values* (addresses as text),
because every partition has its own categories.

Examples
--------
>>> import pandas as pd
>>> values(pd.Series(pd.Categorical(["a", None]))).tolist()
['a', None]
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["values", "is_dask", "as_dask", "shuffle_apply", "shuffled", "small_concat", "per_partition",
           "from_parts", "hashed", "hash_values", "value_map", "MISSING", "KEY5"]

#: The flow key columns (whoever observed the flow).
KEY5 = ["src_ip", "dst_ip", "src_port", "dst_port", "protocol"]


def values(series: pd.Series) -> np.ndarray:
    """Object array of a column's values, ``None`` where missing (categoricals via their codes)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = np.asarray(series.cat.categories.astype(object), dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.empty(len(codes), dtype=object)
        ok = codes >= 0
        out[ok] = cats[codes[ok]]
        out[~ok] = None
        return out
    arr = series.astype(object).to_numpy()
    return np.where(pd.isna(arr), None, arr)


def is_dask(flows: Any) -> bool:
    """True for a Dask DataFrame (without importing dask when it is a pandas frame)."""
    return not isinstance(flows, pd.DataFrame) and hasattr(flows, "map_partitions") and hasattr(flows, "dask")


def as_dask(flows: Any, rows_per_partition: int = 250_000) -> Any:
    """``flows`` as a Dask DataFrame: a pandas frame (its text columns made categorical, as
    the pandas analyses take them) is split into partitions of ``rows_per_partition`` rows.

    For a function given a Dask frame and a pandas frame (the pandas one is in memory
    already: it is sent to the workers as it is).

    Examples
    --------
    >>> ddf = as_dask(pd.DataFrame({"log_type": ["nsg", "vnet", "vnet"]}), rows_per_partition=2)
    >>> ddf.npartitions, str(ddf["log_type"].dtype)
    (2, 'category')
    """
    if is_dask(flows):
        return flows
    import dask.dataframe as dd

    from flowkit.schema import categorical

    return dd.from_pandas(categorical(flows), npartitions=max(1, -(-len(flows) // rows_per_partition)), sort=False)


def shuffled(partials: Any, on: Sequence[str]) -> Any:
    """``partials`` hash-partitioned on ``on``, so that equal keys meet in one partition."""
    n = max(1, partials.npartitions)
    return partials.shuffle(on=list(on), npartitions=n) if n > 1 else partials


def shuffle_apply(partials: Any, on: Sequence[str], func: Callable[..., pd.DataFrame],
                  meta: pd.DataFrame, *args: Any) -> Any:
    """Hash-partition ``partials`` on ``on`` so equal keys meet, then run ``func(partition, *args)``
    per partition (``args`` may be delayed objects, computed once)."""
    return shuffled(partials, on).map_partitions(func, *args, meta=meta, enforce_metadata=False)


def small_concat(parts: list[pd.DataFrame], meta: pd.DataFrame) -> pd.DataFrame:
    """Concatenate small per-partition results, keeping ``meta``'s columns when all are empty."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return meta.iloc[:0].copy()
    return pd.concat(parts, ignore_index=True)


def per_partition(flows: Any, func: Callable[..., Any], *args: Any, numbered: bool = False) -> list[Any]:
    """One delayed ``func(partition, *args)`` per partition of ``flows`` (``func(partition, i, *args)``
    with ``numbered``).

    A function that returns several small tables from one partition reads the
    partition once (several ``map_partitions`` calls would each read it).
    """
    from dask import delayed

    call = delayed(func, pure=True)
    return [call(part, i, *args) if numbered else call(part, *args) for i, part in enumerate(flows.to_delayed())]


def from_parts(parts: list[Any], meta: pd.DataFrame) -> Any:
    """A Dask DataFrame from delayed pandas frames."""
    import dask.dataframe as dd

    return dd.from_delayed(parts, meta=meta, verify_meta=False)


#: Hash of a missing value (a real value hashing to it is reported as a collision).
MISSING = np.int64(-1)
_HASH_KEY = "flowkit-scale-v1"


def hash_values(items: np.ndarray) -> np.ndarray:
    """64-bit hashes (int64) of text values; stable across processes and machines."""
    if len(items) == 0:
        return np.zeros(0, dtype=np.int64)
    return pd.util.hash_array(np.asarray(items, dtype=object), hash_key=_HASH_KEY,
                              categorize=False).view(np.int64)


def hashed(series: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """Per row, the 64-bit hash of the value (:data:`MISSING` where missing), and the
    ``(h, value)`` map of the values present.

    Distinct values are hashed once (through the categories of a categorical); the
    map travels with the partial results so the client can turn hashes back into
    values and check that no two values share a hash (:func:`value_map`).
    """
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    cats = np.asarray(series.cat.categories.astype(object), dtype=object)
    codes = series.cat.codes.to_numpy()
    used = np.unique(codes[codes >= 0])
    h_cats = hash_values(cats)
    out = np.where(codes >= 0, h_cats[np.clip(codes, 0, None)] if len(cats) else MISSING, MISSING)
    return out.astype(np.int64), pd.DataFrame({"h": h_cats[used], "value": cats[used]})


def value_map(maps: list[pd.DataFrame]) -> dict[int, Any]:
    """Merge ``(h, value)`` maps; raise if two values share a hash (never seen in practice)."""
    frame = pd.concat([m for m in maps if len(m)], ignore_index=True) if any(len(m) for m in maps) \
        else pd.DataFrame({"h": pd.Series([], dtype=np.int64), "value": pd.Series([], dtype=object)})
    frame = frame.drop_duplicates()
    if frame["h"].duplicated().any() or (frame["h"] == MISSING).any():
        raise RuntimeError("flowkit.scale: two values share a 64-bit hash; aggregate with pandas instead")
    return dict(zip(frame["h"].tolist(), frame["value"].tolist()))
