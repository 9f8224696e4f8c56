"""Shared fixtures: paths to the repository, the samples and the third-party conformance logs."""

from __future__ import annotations

from pathlib import Path

import pytest

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
