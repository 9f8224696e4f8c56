"""What no reader of this design can go below: the issue's recipe and the column contract.

Two floors put the parse benchmark's targets in context:

* :func:`recipe_floor`: one thread's CPU time for the four steps the issue's recipe cannot
  skip, on flowkit's own code: read the files; decode the JSON skeleton with msgspec, each
  ``flowTuples`` array kept raw; collect those arrays and join them into CSV lines; parse the
  lines with ``pyarrow.csv`` and explicit column types. Checking the values, attaching the
  record-level columns and building the pandas frame come on top. Divided by the cores, it
  bounds the tuples per second any implementation of the recipe can reach on this machine.
* :func:`scanner_floor`: the same for what flowkit does instead on whole blobs (VNet here): its
  compiled scanner (:mod:`flowkit.formats.native_scan`), batch by batch as a read does it.
* :func:`contract_bytes_per_row`: the bytes per row a frame would take with every column in
  the narrowest dtype the column contract (:mod:`flowkit.schema`) allows: category codes and
  timestamps as they are, and the four nullable counters without their one-byte masks (what an
  Arrow-backed integer column without missing values takes). A frame of this schema cannot be
  smaller than that.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"dst_port": pd.array([443, 53], dtype="uint16"),
...                       "bytes_sent": pd.array([1, None], dtype="UInt64")})
>>> contract_bytes_per_row(frame)
10.0
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["recipe_floor", "scanner_floor", "contract_bytes_per_row"]


def contract_bytes_per_row(frame: pd.DataFrame) -> float:
    """The least bytes per row of ``frame``'s columns under the column contract.

    Categoricals count their codes and their categories (deep), nullable integers their
    values only, everything else its item size.

    Examples
    --------
    >>> contract_bytes_per_row(pd.DataFrame({"ip": pd.Categorical(["192.0.2.1"] * 4)})) > 1
    True
    """
    n = len(frame)
    if not n:
        return float("nan")
    total = 0
    for name in frame.columns:
        column = frame[name]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            total += column.cat.codes.dtype.itemsize * n + int(column.cat.categories.memory_usage(deep=True))
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and hasattr(dtype, "numpy_dtype"):
            total += dtype.numpy_dtype.itemsize * n  # values, no mask
        else:
            total += int(column.memory_usage(index=False, deep=True))
    return total / n


def recipe_floor(corpus: str | Path, *, repeat: int = 3) -> dict[str, Any]:
    """One thread's CPU seconds (best of ``repeat``) for each step the recipe cannot skip.

    Parameters
    ----------
    corpus : str or Path
        A folder of ``PT1H.json`` blobs (one log type).
    repeat : int
        Times each step is run; the least CPU time counts.

    Returns
    -------
    dict
        ``steps`` (name -> CPU seconds), ``total`` (their sum), ``tuples`` (lines parsed).
    """
    from flowkit.formats.decode import _Records, _walk
    from flowkit.formats.framing import frame_records, gc_paused
    from flowkit.formats.groups import Codes, FormatGroups
    from flowkit.formats.tuples import FIELDS, _FAST_TYPES, _read
    from flowkit.sources.local import LocalSource

    refs = LocalSource(str(corpus)).list_blobs().refs
    best: dict[str, float] = {}

    def step(name: str, fn: Any) -> Any:
        c0 = time.thread_time()
        out = fn()
        best[name] = min(best.get(name, float("inf")), time.thread_time() - c0)
        return out

    tuples = 0
    for _ in range(repeat):
        def read_all() -> list[bytes]:
            out = []
            for ref in refs:
                with open(ref.name, "rb") as fh:
                    out.append(fh.read())
            return out

        blobs = step("read the files", read_all)
        with gc_paused():
            framed = step("msgspec skeleton", lambda: [frame_records(data) for data in blobs])

            def collect() -> dict[str, FormatGroups]:
                groups = {fmt: FormatGroups() for fmt in FIELDS}
                strings = {"mac": Codes(), "resource": Codes(), "target": Codes()}
                records = _Records()
                for b, (f, ref) in enumerate(zip(framed, refs)):
                    _walk(f.records, b, ref, records, strings, groups, [], False)
                return groups

            groups = step("collect the tuple arrays", collect)
            built = step("join them into CSV lines",
                         lambda: {fmt: g.build() for fmt, g in groups.items() if len(g)})
            types = {fmt: _FAST_TYPES["vnet4" if fmt == "vnet4" else "nsg"] for fmt in built}
            tables = step("pyarrow.csv typed parse",
                          lambda: {fmt: _read(b.buffer, FIELDS[fmt], types[fmt], b.sparse)
                                   for fmt, b in built.items()})
        tuples = sum(t.num_rows for t in tables.values())
    return {"steps": best, "total": sum(best.values()), "tuples": tuples}


def scanner_floor(corpus: str | Path, *, repeat: int = 3, batch_bytes: int = 8 << 20) -> dict[str, Any]:
    """One thread's CPU seconds (best of ``repeat``) for the compiled scanner over the corpus's blobs.

    The blobs are scanned in batches of about ``batch_bytes``, batched by the reader's own
    :func:`flowkit.read.ordered_batches`, each batch joined first; checking the values, attaching the record-level
    columns and building the frame come on top.

    Returns
    -------
    dict
        ``steps`` (name -> CPU seconds), ``total``, ``tuples`` (tuples scanned), ``scanned``
        (whether every batch was in the form the scanner reads).
    """
    import numpy as np

    from flowkit.formats.native_scan import OK, scan_blobs, warm_up
    from flowkit.read import ordered_batches
    from flowkit.sources.local import LocalSource

    refs = LocalSource(str(corpus)).list_blobs().refs
    blobs = []
    for ref in refs:
        with open(ref.name, "rb") as fh:
            blobs.append(fh.read())
    batches = [[blob for _, blob in batch] for batch in ordered_batches(enumerate(blobs), batch_bytes)]
    warm_up()  # compiled, or loaded from numba's cache, before anything is timed
    best: dict[str, float] = {}
    tuples, scanned = 0, True
    for _ in range(repeat):
        c0 = time.thread_time()
        joined = [(b"".join(batch), np.cumsum([0, *map(len, batch)])) for batch in batches]
        c1 = time.thread_time()
        outs = [scan_blobs(np.frombuffer(data, dtype=np.uint8), bounds) for data, bounds in joined]
        c2 = time.thread_time()
        for name, cpu in (("join each batch", c1 - c0), ("compiled scan", c2 - c1)):
            best[name] = min(best.get(name, float("inf")), cpu)
        tuples = sum(o.n_tuples for o in outs)
        scanned = all(o.status == OK for o in outs)
    return {"steps": best, "total": sum(best.values()), "tuples": tuples, "scanned": scanned}
