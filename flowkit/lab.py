"""``python -m flowkit.lab``: open JupyterLab on the curated notebooks with sensible settings.

Binds to 127.0.0.1, prints the token it generated, turns off the news pop-up and
the update check (no requests to the internet), and makes the extension manager
read-only.

``FLOWKIT_DATA`` is where *your* logs are (``make lab DATA=/path/to/logs``): every
notebook reads that folder (notebook 02 splits it into NSG and VNet logs by
``log_type``). When it is not set, or names the sample folder the notebooks sit
next to (``data-samples/``, what ``make lab`` passes by default), each notebook
reads its own sample scenario (``data-samples/connectivity``, ...) with that
scenario's inventory. The sample inventory is never used with your logs:
``FLOWKIT_INVENTORY`` can name yours (``nics.json`` or ``nics.csv``).

The curated notebooks are tracked by git, so this JupyterLab saves them without
outputs (:func:`strip_outputs_hook`): running them never leaves the repository
dirty. A notebook that git does not track (a copy saved under another name, a new
one) keeps its outputs.

Examples
--------
>>> "--ServerApp.ip=127.0.0.1" in lab_arguments("notebooks", 8888, "t")
True
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, MutableMapping

__all__ = ["lab_arguments", "write_overrides", "settle_data", "strip_outputs_hook", "clean_notebook", "main"]

#: JupyterLab settings applied to this environment (overrides.json).
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

#: Names of the curated notebooks (used when git cannot say whether a notebook is tracked).
CURATED = re.compile(r"^\d\d-[^/]+\.ipynb$")
#: Cell metadata that only records a run (JupyterLab writes it; it is not part of the notebook).
RUN_METADATA = ("execution", "scrolled", "collapsed")


def write_overrides(prefix: str | os.PathLike = sys.prefix) -> Path:
    """Write the settings overrides into the environment's JupyterLab settings folder.

    Examples
    --------
    >>> import tempfile
    >>> write_overrides(tempfile.mkdtemp()).name
    'overrides.json'
    """
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(OVERRIDES)
    path.write_text(json.dumps(current, indent=2))
    return path


def lab_arguments(notebooks: str, port: int, token: str) -> list[str]:
    """The command-line arguments for ``jupyter lab``.

    Examples
    --------
    >>> lab_arguments("nb", 8888, "t")[0]
    '--ServerApp.root_dir=nb'
    >>> "--ContentsManager.pre_save_hook=flowkit.lab.strip_outputs_hook" in lab_arguments("nb", 8888, "t")
    True
    """
    return [
        f"--ServerApp.root_dir={notebooks}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=None",
        "--MappingKernelManager.cull_idle_timeout=3600",
        "--ContentsManager.pre_save_hook=flowkit.lab.strip_outputs_hook",
    ] + (["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])


def settle_data(notebooks: str | os.PathLike, environ: MutableMapping[str, str] | None = None) -> str:
    """Decide what the notebooks read, adjust ``environ`` and say it in one line.

    ``FLOWKIT_DATA`` naming the sample folder next to the notebooks
    (``<notebooks>/../data-samples``) is dropped, so that each notebook reads its
    own scenario; any other value is the user's logs and is kept.

    Examples
    --------
    >>> env = {"FLOWKIT_DATA": str(Path("notebooks/../data-samples").resolve())}
    >>> settle_data("notebooks", env).startswith("flowkit: notebooks read their sample scenarios")
    True
    >>> env
    {}
    >>> settle_data("notebooks", {"FLOWKIT_DATA": "/var/logs/flows"})
    'flowkit: notebooks read your logs in /var/logs/flows (FLOWKIT_DATA); FLOWKIT_INVENTORY can name your nics.json'
    """
    environ = os.environ if environ is None else environ
    data = environ.get("FLOWKIT_DATA", "")
    samples = (Path(notebooks) / ".." / "data-samples").resolve()
    if data and Path(data).resolve() == samples:
        del environ["FLOWKIT_DATA"]
        data = ""
    if not data:
        environ.pop("FLOWKIT_DATA", None)
        return (f"flowkit: notebooks read their sample scenarios in {samples} "
                "(make lab DATA=/path/to/logs reads yours)")
    from flowkit.sources.redact import redact

    inventory = environ.get("FLOWKIT_INVENTORY")
    named = f", inventory {redact(inventory)} (FLOWKIT_INVENTORY)" if inventory else \
        "; FLOWKIT_INVENTORY can name your nics.json"
    # FLOWKIT_DATA may be a blob URL carrying a SAS: the line is printed, its secrets are not
    return f"flowkit: notebooks read your logs in {redact(data)} (FLOWKIT_DATA){named}"


def clean_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """Remove what a run adds to a notebook (in place): outputs, execution counts, widget state.

    Code, markdown, tags and the kernel are kept; ``language_info`` is cut back to
    its name (a kernel fills in its version).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "execution_count": 3, "outputs": [{"output_type": "stream"}],
    ...                  "metadata": {"tags": ["parameters"], "execution": {}}, "source": "x = 1"}],
    ...       "metadata": {"widgets": {}, "language_info": {"name": "python", "version": "3.11"}}}
    >>> clean_notebook(nb)["cells"][0]
    {'cell_type': 'code', 'execution_count': None, 'outputs': [], 'metadata': {'tags': ['parameters']}, 'source': 'x = 1'}
    >>> nb["metadata"]
    {'language_info': {'name': 'python'}}
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in RUN_METADATA:
            metadata.pop(key, None)
    metadata = nb.get("metadata", {})
    metadata.pop("widgets", None)
    if isinstance(metadata.get("language_info"), dict) and "name" in metadata["language_info"]:
        metadata["language_info"] = {"name": metadata["language_info"]["name"]}
    return nb


def _tracked(os_path: Path) -> bool | None:
    """Whether git tracks ``os_path``; None when git cannot say (no git, not a repository)."""
    try:
        done = subprocess.run(["git", "ls-files", "--error-unmatch", "--", os_path.name], cwd=os_path.parent,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return {0: True, 1: False}.get(done.returncode)


def strip_outputs_hook(model: dict[str, Any], path: str, contents_manager: Any, **kwargs: Any) -> None:
    """Jupyter server ``pre_save_hook``: save the curated notebooks without outputs.

    A notebook git tracks is saved as :func:`clean_notebook` leaves it, with the
    kernel metadata of the file on disk when the kernel is the same (a kernel
    rewrites its display name), so that running it in JupyterLab (autosave
    included) never dirties the repository.
    Where git cannot tell, notebooks named like the curated ones (``NN-name.ipynb``)
    at the top of the folder are cleaned. Other notebooks keep their outputs.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import tempfile
    >>> model = {"type": "notebook", "content": {"cells": [{"cell_type": "code", "outputs": [1],
    ...          "execution_count": 1, "metadata": {}, "source": ""}], "metadata": {}}}
    >>> strip_outputs_hook(model, "99-example.ipynb", SimpleNamespace(root_dir=tempfile.mkdtemp()))
    >>> model["content"]["cells"][0]["outputs"]
    []
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    os_path = Path(contents_manager.root_dir) / path.strip("/")
    tracked = _tracked(os_path)
    if tracked is None:
        tracked = "/" not in path.strip("/") and bool(CURATED.match(os_path.name))
    if tracked:
        clean_notebook(model["content"])
        _keep_kernel_metadata(model["content"], os_path)


def _keep_kernel_metadata(nb: dict[str, Any], os_path: Path) -> None:
    """Keep the file's ``kernelspec`` and ``language_info`` when the kernel is the same one.

    A running kernel rewrites them (``display_name`` "Python 3 (ipykernel)", the
    language version): cosmetic changes that would dirty the file at every save.
    """
    try:
        on_disk = json.loads(os_path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return
    metadata = nb.setdefault("metadata", {})
    if on_disk.get("kernelspec", {}).get("name") == metadata.get("kernelspec", {}).get("name"):
        for key in ("kernelspec", "language_info"):
            if key in on_disk:
                metadata[key] = on_disk[key]


def main(argv: list[str] | None = None) -> int:
    """Start JupyterLab (blocks until it is stopped)."""
    parser = argparse.ArgumentParser(prog="python -m flowkit.lab")
    parser.add_argument("notebooks", nargs="?", default="notebooks")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    write_overrides()
    token = os.environ.get("FLOWKIT_LAB_TOKEN") or secrets.token_urlsafe(24)
    print(f"flowkit: JupyterLab on http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    print(settle_data(args.notebooks), flush=True)
    print("flowkit: the notebooks git tracks are saved without outputs, so the repository stays clean; "
          "to keep a run's outputs, save a copy under another name (File > Save Notebook As)", flush=True)
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=lab_arguments(args.notebooks, args.port, token))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
