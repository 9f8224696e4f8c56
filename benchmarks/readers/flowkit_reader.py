"""flowkit as the parse benchmark times it: its compiled scanner loaded before timing.

Importing this module loads the scanner (:func:`flowkit.load_scanner`), as the other readers'
libraries (polars, DuckDB) are imported before they are timed; the one-time cost is kept in
:data:`SCANNER_LOAD` and printed by the benchmark. ``readers._common.read_flowkit`` is the same
read in a fresh process where nothing is loaded ("flowkit-fresh": a 100 MB read takes the
general path, the scanner being loaded only for reads of 256 MB or more).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

import flowkit
from readers._common import read_flowkit

__all__ = ["read", "SCANNER_LOAD"]


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


_before, _t0 = _rss_mib(), time.perf_counter()
_loaded = flowkit.load_scanner()
#: What loading the scanner cost this process: seconds, RSS added (MiB), and whether it loaded.
SCANNER_LOAD: dict[str, Any] = {"seconds": time.perf_counter() - _t0, "rss_mib": _rss_mib() - _before,
                                "loaded": _loaded}


def read(source: Any) -> pd.DataFrame:
    """flowkit's read of ``source`` with the scanner loaded (two decode workers, with the load report)."""
    return read_flowkit(source)
