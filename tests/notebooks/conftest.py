"""Fixtures of the notebook tests (helpers in ``nbrun.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from nbrun import SAMPLES, run_notebook


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts kernels, servers or a browser (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def notebook_runner(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """``runner(name, values, parameters=None, env=None)`` -> the values the notebook computed."""
    def runner(name: str, values: dict[str, str], parameters: dict[str, Any] | None = None,
               env: dict[str, str | None] | None = None) -> dict[str, Any]:
        return run_notebook(name, tmp_path_factory.mktemp(name), values, parameters, env)
    return runner


@pytest.fixture(scope="session")
def expected() -> Callable[[str], dict[str, Any]]:
    """``expected("connectivity")``: a scenario's documented answers."""
    return lambda scenario: json.loads((SAMPLES / scenario / "expected.json").read_text())


@pytest.fixture(scope="session")
def user_logs(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``user_logs(scenario, *containers)``: a folder of logs as a user has them, copied from a scenario.

    Only the log containers are copied: no inventory, README or expected answers beside them,
    and no scenario folder name for a notebook to append.
    """
    def make(scenario: str, *containers: str) -> Path:
        dest = tmp_path_factory.mktemp(f"logs-{scenario}")
        for name in containers:
            shutil.copytree(SAMPLES / scenario / name, dest / name)
        return dest
    return make
