"""``python -m flowkit.lab``: open JupyterLab on the curated notebooks with sensible settings.

Binds to 127.0.0.1, prints the token it generated, turns off the news pop-up and
the update check (no requests to the internet), and makes the extension manager
read-only. ``FLOWKIT_DATA`` tells the notebooks where the logs are (default:
``data-samples/``).

Examples
--------
>>> "--ServerApp.ip=127.0.0.1" in lab_arguments("notebooks", 8888, "t")
True
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

__all__ = ["lab_arguments", "write_overrides", "main"]

#: JupyterLab settings applied to this environment (overrides.json).
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


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
    ] + (["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])


def main(argv: list[str] | None = None) -> int:
    """Start JupyterLab (blocks until it is stopped)."""
    parser = argparse.ArgumentParser(prog="python -m flowkit.lab")
    parser.add_argument("notebooks", nargs="?", default="notebooks")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    write_overrides()
    token = os.environ.get("FLOWKIT_LAB_TOKEN") or secrets.token_urlsafe(24)
    os.environ.setdefault("FLOWKIT_DATA", str(Path("data-samples").resolve()))
    print(f"flowkit: JupyterLab on http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    print(f"flowkit: notebooks read {os.environ['FLOWKIT_DATA']} (set FLOWKIT_DATA to change)", flush=True)
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=lab_arguments(args.notebooks, args.port, token))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
