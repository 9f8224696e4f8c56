"""``python -m flowkit.demo notebooks reports``: run every notebook headless, keep HTML copies.

Each notebook is executed with nbclient in its own folder (so the default data
path ``../data-samples/<scenario>`` resolves as it does in JupyterLab) and
written as HTML by nbconvert's ``HTMLExporter``. The notebooks themselves are not
modified. The exit status is 1 when a notebook fails.

The HTML copies are static and load nothing from the network (no require.js,
MathJax, Mermaid or widget manager from a CDN). A live widget cannot work in them
(the filter panel filters in the kernel), so :func:`static_copy` replaces each
widget by the static HTML it offers (the filter panel: a note that filtering
needs the live notebook, its summary, table and charts as they were when the
notebook ran), drops widgets closed or hidden when the run ended (finished
progress bars) and names any other widget as needing the live notebook.

Examples
--------
>>> from pathlib import Path
>>> html_name(Path("notebooks/01-connectivity-failures.ipynb"))
'01-connectivity-failures.html'
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["execute_notebook", "static_copy", "export_html", "html_name", "main"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: What stands in for a widget that has no static form.
WIDGET_NOTE = ("<p class='flowkit-static-note' style='color:#555'><i>An interactive widget was here: it needs the "
               "live notebook (open it in JupyterLab with <code>make lab</code> and run it).</i></p>")
#: The lab template without anything fetched from the network (the HTML copies work offline).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


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


def _gone(state: dict[str, Any], model_id: str | None) -> bool:
    """Whether a widget was closed, or hidden by its layout, when the run ended."""
    model = state.get(model_id or "")
    if model is None:
        return True
    layout = state.get(str(model.get("state", {}).get("layout", "")).replace("IPY_MODEL_", ""), {}).get("state", {})
    return layout.get("visibility") == "hidden" or layout.get("display") == "none"


def static_copy(nb: Any) -> Any:
    """A copy of an executed notebook with no live widget left in it (for a static HTML page).

    A widget output that also carries ``text/html`` (the filter panel's static
    copy) keeps only that; a widget closed or hidden when the run ended (a
    finished progress bar) is dropped; any other widget becomes a short note that it needs
    the live notebook. The stored widget state is removed.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("panel")
    >>> cell.outputs = [nbformat.v4.new_output("display_data", {WIDGET_VIEW: {"model_id": "a"},
    ...                                        "text/html": "<p>static</p>", "text/plain": "VBox()"})]
    >>> nb.cells.append(cell)
    >>> sorted(static_copy(nb).cells[0].outputs[0].data)
    ['text/html', 'text/plain']
    """
    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                kept.append(output)
                continue
            view = data.pop(WIDGET_VIEW)
            if "text/html" in data:
                kept.append(output)
            elif state and _gone(state, view.get("model_id")):
                continue  # closed or hidden when the run ended: a finished progress bar
            else:
                output["data"] = {"text/html": WIDGET_NOTE, "text/plain": "(interactive widget: needs the live notebook)"}
                kept.append(output)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    return nb


def export_html(nb: Any, dest: str | os.PathLike) -> Path:
    """Write an executed notebook as a static HTML page that loads nothing from the network.

    Live widgets are replaced as :func:`static_copy` says.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> out = export_html(nbformat.v4.new_notebook(), Path(tempfile.mkdtemp()) / "x.html")
    >>> text = out.read_text(encoding="utf-8")
    >>> text.lstrip().lower().startswith("<!doctype html>"), "<script src=" in text
    (True, False)
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(extra_loaders=[DictLoader({"flowkit-offline.html.j2": OFFLINE_TEMPLATE})],
                            template_file="flowkit-offline.html.j2")
    body, _ = exporter.from_notebook_node(static_copy(nb))
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
    parser.add_argument("--data", help="your logs (sets FLOWKIT_DATA: every notebook reads this folder; "
                                       "default: each notebook's sample scenario in ../data-samples)")
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
