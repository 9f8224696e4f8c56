"""Shared fixtures: paths to the repository, the samples and the third-party conformance logs;
and a guard that fails any test whose process opens a connection off this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.network_guard import OFF_MACHINE

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data-samples"
CONFORMANCE = (REPO / ".." / "shared" / "conformance").resolve()


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The third-party logs in ../shared/conformance (read in place, never copied)."""
    if not CONFORMANCE.is_dir():
        pytest.skip(f"third-party conformance logs not found at {CONFORMANCE}")
    return CONFORMANCE


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The committed data-samples/ folder."""
    return SAMPLES



@pytest.fixture(autouse=True)
def _stays_on_this_machine() -> Iterator[None]:
    """Fail the test that tried to connect off this machine, even if the code swallowed the error
    (:mod:`tests.network_guard`)."""
    before = len(OFF_MACHINE)
    yield
    tried = OFF_MACHINE[before:]
    assert not tried, f"this test tried to connect off this machine: {', '.join(tried)}"
