"""Helpers of the notebook tests: run a curated notebook headless with papermill and read back the values it computed.

The test appends one cell that prints chosen expressions as JSON; the notebook
itself is executed unchanged (in ``notebooks/``, as JupyterLab would), with the
parameters papermill injects after the cell tagged ``parameters``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SAMPLES = REPO / "data-samples"
MARKER = "FLOWKIT-VALUES "
#: Key of the executed notebook's path in what :func:`run_notebook` returns.
EXECUTED = "_executed"


def run_notebook(name: str, workdir: Path, values: dict[str, str], parameters: dict[str, Any] | None = None,
                 env: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Execute ``notebooks/<name>.ipynb`` and return ``{key: value of expression}`` for ``values``."""
    nbformat = pytest.importorskip("nbformat")
    papermill = pytest.importorskip("papermill")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    pairs = ", ".join(f"{key!r}: ({expr})" for key, expr in values.items())
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json as _json\nfrom flowkit.findings import json_safe as _json_safe\n"
        f"print({MARKER!r} + _json.dumps(_json_safe({{{pairs}}})))"))
    src, out = workdir / f"{name}.ipynb", workdir / f"{name}.out.ipynb"
    nbformat.write(nb, src)
    saved = {k: os.environ.get(k) for k in (env or {})}
    try:
        for k, v in (env or {}).items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        papermill.execute_notebook(str(src), str(out), parameters=parameters or {}, cwd=str(NOTEBOOKS),
                                   kernel_name="python3", progress_bar=False, log_output=False,
                                   execution_timeout=300)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    executed = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")
    line = next(x for x in text.splitlines() if x.startswith(MARKER))
    return {**json.loads(line[len(MARKER):]), EXECUTED: str(out)}


def displayed(path: str) -> list[str]:
    """What each code cell of an executed notebook displayed (text/plain and text/html joined), cell by cell."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    shown = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            parts = [o.get("text", "") for o in cell.outputs if o.output_type == "stream"]
            parts += [str(o.get("data", {}).get(m, "")) for o in cell.outputs for m in ("text/plain", "text/html")]
            shown.append("\n".join(parts))
    return shown
