"""Helpers of the browser tests: Voilà and JupyterLab as subprocesses, Debian's Chromium.

Servers bind to 127.0.0.1 on a free port with a random token, write their log to
``test-artifacts/``, cull idle kernels, and are stopped by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

from tests.chromium import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SAMPLES = REPO / "data-samples"
ARTIFACTS = REPO / "test-artifacts"
#: Idle kernels are culled after this many seconds (the servers live for one test module).
CULL = ["--MappingKernelManager.cull_idle_timeout=120", "--MappingKernelManager.cull_interval=30"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s; log:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a server started by :func:`serve` by its PID (its process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(grace)


@contextlib.contextmanager
def serve(argv: Sequence[str], ready_path: str, name: str, *, timeout: float = 90.0) -> Iterator[tuple[str, str]]:
    """Run a server (``{port}`` and ``{token}`` in ``argv`` are filled in); yield (base URL, token).

    The server gets its own process group so that its kernels stop with it.
    """
    port, token = free_port(), secrets.token_hex(16)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}.log"
    # FLOWKIT_DATA names a user's logs: unset, every notebook reads its own sample scenario.
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWKIT_DATA", "FLOWKIT_INVENTORY")}
    env["PYTHONUNBUFFERED"] = "1"
    args = [a.format(port=port, token=token) for a in argv]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}{ready_path.format(token=token)}", proc, log, timeout)
        yield base, token
    finally:
        stop(proc)


def voila_argv(notebook: str) -> list[str]:
    """Voilà serving one notebook (kernels run in the notebook's folder)."""
    return [str(Path(sys.executable).parent / "voila"), str(NOTEBOOKS / notebook), "--no-browser",
            "--Voila.ip=127.0.0.1", "--Voila.port={port}", "--Voila.token={token}",
            "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=True", *CULL]


def voila_tree_argv() -> list[str]:
    """Voilà serving the notebooks folder: one server for several notebooks (``/voila/render/<name>``)."""
    return [str(Path(sys.executable).parent / "voila"), str(NOTEBOOKS), "--no-browser",
            "--Voila.ip=127.0.0.1", "--Voila.port={port}", "--Voila.token={token}",
            "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=True", *CULL]


def lab_argv(settings_dir: Path) -> list[str]:
    """JupyterLab with the arguments ``make lab`` uses, plus test settings.

    ``windowingMode: none`` renders every cell (no virtual scrolling), and the app is
    exposed as ``window.jupyterapp`` so a test can run its commands.
    """
    from flowkit.lab import lab_arguments

    tracker = settings_dir / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    workspaces = settings_dir / "workspaces"
    workspaces.mkdir(exist_ok=True)
    args = lab_arguments(str(NOTEBOOKS), 0, "t")
    args = [a for a in args if not a.startswith(("--ServerApp.port=", "--IdentityProvider.token=",
                                                 "--MappingKernelManager.cull"))]
    return [sys.executable, "-m", "jupyterlab", *args, "--ServerApp.port={port}",
            "--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
            "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings_dir}",
            f"--LabApp.workspaces_dir={workspaces}", *CULL] + (
                [] if "--ServerApp.allow_root=True" in args else ["--ServerApp.allow_root=True"])


#: How long a page may take to load and run a notebook (ms): the kernel starts on a busy machine.
LOAD_TIMEOUT = 150_000


def run_all_in_lab(page, base: str, token: str, name: str) -> None:
    """Open notebook ``name`` in JupyterLab, wait for its kernel and run every cell."""
    page.goto(f"{base}/lab/tree/{name}?token={token}", timeout=LOAD_TIMEOUT)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext",
                           timeout=LOAD_TIMEOUT)
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
