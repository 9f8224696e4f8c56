"""Baseline readers the parse benchmark compares flowkit against.

Each module exposes ``read(source) -> pandas.DataFrame`` returning the canonical
flow table (:mod:`flowkit.schema`: same 23 columns, same dtypes, one row per flow
tuple) so that every reader is timed doing the same job:

* :mod:`readers.flowkit_reader`: flowkit with its compiled scanner loaded before timing
  (``flowkit-fresh``: the same read in a fresh process, nothing loaded);
* :mod:`readers.naive`: ``json.load``, Python loops, ``str.split``, a DataFrame from
  a list of dicts, then typed;
* :mod:`readers.polars_reader`: ``pl.read_ndjson`` + explode + ``str.split_exact`` + casts;
* :mod:`readers.duckdb_reader`: ``read_json`` + ``unnest`` + ``string_split`` + casts.

``READERS`` maps the names used by ``benchmarks/bench_parse.py`` to ``module:function``.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["READERS", "load_reader"]

READERS: dict[str, str] = {
    "flowkit": "readers.flowkit_reader:read",
    "flowkit-fresh": "readers._common:read_flowkit",
    "naive": "readers.naive:read",
    "polars": "readers.polars_reader:read",
    "duckdb": "readers.duckdb_reader:read",
}


def load_reader(name: str) -> Callable[[Any], Any]:
    """Import and return the ``read`` function of the reader called ``name``.

    Examples
    --------
    >>> callable(load_reader("naive"))  # doctest: +SKIP
    True
    """
    module, func = READERS[name].split(":")
    return getattr(importlib.import_module(module), func)
