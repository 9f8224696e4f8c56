"""``make lab``: what the notebooks read, and saving that cannot dirty the tracked notebooks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from flowkit.lab import lab_arguments, settle_data, strip_outputs_hook
from nbrun import NOTEBOOKS, SAMPLES


def _run_model(kernel_display: str = "Python 3 (ipykernel)") -> dict:
    """A notebook model as JupyterLab sends it after a run."""
    return {"type": "notebook", "format": "json", "content": {
        "cells": [{"cell_type": "code", "execution_count": 7, "id": "c1", "source": "flows",
                   "metadata": {"tags": ["parameters"], "execution": {"iopub.status.busy": "2024-05-01T10:00:00Z"}},
                   "outputs": [{"output_type": "execute_result", "execution_count": 7, "metadata": {},
                                "data": {"text/plain": "900 rows"}}]},
                  {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# text"}],
        "metadata": {"kernelspec": {"display_name": kernel_display, "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.2", "mimetype": "text/x-python"},
                     "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
        "nbformat": 4, "nbformat_minor": 5}}


@pytest.mark.parametrize("data, reads", [
    pytest.param(None, "sample", id="unset"),
    pytest.param(str(SAMPLES), "sample", id="make-lab-default-is-the-samples"),
    pytest.param(str(NOTEBOOKS / ".." / "data-samples"), "sample", id="samples-spelled-otherwise"),
    pytest.param("/var/log/flows", "yours", id="user-logs"),
])
def test_settle_data(data: str | None, reads: str) -> None:
    # make lab passed FLOWKIT_DATA=<repo>/data-samples, and the notebooks appended a scenario to any value.
    env = {} if data is None else {"FLOWKIT_DATA": data}
    line = settle_data(NOTEBOOKS, env)
    if reads == "sample":
        assert env == {} and "sample scenarios" in line and "DATA=/path/to/logs" in line
    else:
        assert env == {"FLOWKIT_DATA": data} and f"your logs in {data}" in line


def test_make_lab_saves_with_the_hook() -> None:
    assert "--ContentsManager.pre_save_hook=flowkit.lab.strip_outputs_hook" in lab_arguments("notebooks", 8888, "t")


def test_hook_cleans_a_tracked_notebook_back_to_what_git_has() -> None:
    model = _run_model()
    strip_outputs_hook(model, "/03-encryption-audit.ipynb", SimpleNamespace(root_dir=str(NOTEBOOKS)))
    nb = model["content"]
    code = nb["cells"][0]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["parameters"]} and code["source"] == "flows"  # edits are kept
    on_disk = json.loads((NOTEBOOKS / "03-encryption-audit.ipynb").read_text(encoding="utf-8"))["metadata"]
    assert nb["metadata"] == on_disk  # kernel display name and language version as committed, no widget state


def test_hook_leaves_untracked_notebooks_alone() -> None:
    model = _run_model()
    strip_outputs_hook(model, "zz-my-copy-of-03.ipynb", SimpleNamespace(root_dir=str(NOTEBOOKS)))
    assert model == _run_model()  # git does not track it: outputs kept


def test_hook_without_git_cleans_curated_names_only(tmp_path: Path) -> None:
    # Outside a repository git cannot say: the curated names (NN-name.ipynb at the top) are cleaned.
    curated, other, nested = _run_model(), _run_model(), _run_model()
    manager = SimpleNamespace(root_dir=str(tmp_path))
    strip_outputs_hook(curated, "01-connectivity-failures.ipynb", manager)
    strip_outputs_hook(other, "my-analysis.ipynb", manager)
    strip_outputs_hook(nested, "work/01-connectivity-failures.ipynb", manager)
    assert curated["content"]["cells"][0]["outputs"] == []
    assert other == _run_model() and nested == _run_model()


def test_hook_ignores_files_and_folders() -> None:
    model = {"type": "file", "format": "text", "content": "x"}
    before = copy.deepcopy(model)
    strip_outputs_hook(model, "notes.txt", SimpleNamespace(root_dir=str(NOTEBOOKS)))
    assert model == before
