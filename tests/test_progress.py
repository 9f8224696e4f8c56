"""interactive(): progress bars show in a Jupyter kernel or a terminal, not because ipykernel was imported."""

from __future__ import annotations

import subprocess
import sys

import nbformat
from nbclient import NotebookClient

from flowkit.progress import interactive


def test_an_imported_ipykernel_is_not_a_kernel() -> None:
    code = "import ipykernel, ipywidgets; from flowkit.progress import interactive; print(interactive())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "False\n", done.stderr


def test_a_jupyter_kernel_is_interactive() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from flowkit.progress import interactive\nprint(interactive())")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"] == "True\n"


def test_this_pytest_process_is_not_interactive() -> None:
    assert interactive() is False  # stderr is captured, and no kernel runs here
