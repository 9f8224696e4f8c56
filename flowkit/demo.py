"""``python -m flowkit.demo notebooks reports``: run every notebook headless, keep HTML copies.

Each notebook is executed with nbclient in its own folder (so the default data
path ``../data-samples`` resolves as it does in JupyterLab), with the widget
state stored, and written as HTML by nbconvert's ``HTMLExporter``. The notebooks
themselves are not modified. The exit status is 1 when a notebook fails.

Examples
--------
>>> from pathlib import Path
>>> html_name(Path("notebooks/01-connectivity-failures.ipynb"))
'01-connectivity-failures.html'
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["execute_notebook", "export_html", "html_name", "main"]


def html_name(notebook: Path) -> str:
    """The HTML file name of a notebook.

    Examples
    --------
    >>> html_name(Path("a/00-getting-started.ipynb"))
    '00-getting-started.html'
    """
    return notebook.with_suffix(".html").name


def execute_notebook(path: str | os.PathLike, *, timeout: int = 600, kernel_name: str = "python3") -> Any:
    """Execute a notebook in its own folder and return the executed ``NotebookNode``.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell fails.

    Examples
    --------
    >>> nb = execute_notebook("notebooks/00-getting-started.ipynb")  # doctest: +SKIP
    >>> nb.cells[0].cell_type                                        # doctest: +SKIP
    'markdown'
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    return nb


def export_html(nb: Any, dest: str | os.PathLike) -> Path:
    """Write an executed notebook as HTML (with its widget state) and return the path.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> out = export_html(nbformat.v4.new_notebook(), Path(tempfile.mkdtemp()) / "x.html")
    >>> out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
    True
    """
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """Execute every ``*.ipynb`` in a folder and write HTML copies; 1 if any notebook fails."""
    parser = argparse.ArgumentParser(prog="python -m flowkit.demo",
                                     description="Execute the notebooks headless and write HTML copies.")
    parser.add_argument("notebooks", nargs="?", default="notebooks", help="folder of notebooks")
    parser.add_argument("reports", nargs="?", default="reports", help="folder for the HTML copies")
    parser.add_argument("--data", help="folder of the scenarios (sets FLOWKIT_DATA; default: ../data-samples "
                                       "from the notebooks' folder)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.data:
        os.environ["FLOWKIT_DATA"] = str(Path(args.data).resolve())
    notebooks = sorted(Path(args.notebooks).glob("*.ipynb"))
    if not notebooks:
        print(f"flowkit demo: no notebooks in {args.notebooks}", file=sys.stderr)
        return 1
    failed = []
    for path in notebooks:
        began = time.perf_counter()
        try:
            nb = execute_notebook(path, timeout=args.timeout)
        except Exception as exc:  # report every notebook, then fail
            failed.append(path.name)
            print(f"FAILED {path.name}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__}",
                  file=sys.stderr, flush=True)
            continue
        out = export_html(nb, Path(args.reports) / html_name(path))
        print(f"ok     {path.name} -> {out} ({time.perf_counter() - began:.1f} s)", flush=True)
    if failed:
        print(f"flowkit demo: {len(failed)} of {len(notebooks)} notebook(s) failed: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
