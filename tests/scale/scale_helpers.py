"""Helpers shared by the scale tests (imported by name: ``from scale_helpers import read_json``)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from flowkit.errors import FlowkitDataWarning

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data-samples"
SCENARIOS = ("connectivity", "nsg-vs-vnet", "encryption")


def read_json(source: Any, **kwargs: Any) -> pd.DataFrame:
    """The pandas reader, quiet about quarantined tuples (the report is not what is tested here)."""
    from flowkit.read import read_flow_logs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        return read_flow_logs(source, **kwargs)


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes (pandas equality) and values, row by row.

    Category order is not compared: it follows the order blobs were decoded in.
    """
    assert list(left.columns) == list(right.columns)
    assert left.dtypes.equals(right.dtypes), (left.dtypes[left.dtypes != right.dtypes],
                                              right.dtypes[left.dtypes != right.dtypes])
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    for name in left.columns:
        pd.testing.assert_series_equal(left[name], right[name], check_exact=True, check_category_order=False)


def graph_dict(G: Any) -> dict:
    """A graph as comparable data (NaN shares made equal to each other)."""
    def norm(d: dict) -> dict:
        return {k: ("NaN" if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

    return {"graph": dict(G.graph), "nodes": {n: norm(d) for n, d in G.nodes(data=True)},
            "edges": {(u, v): norm(d) for u, v, d in G.edges(data=True)}}
