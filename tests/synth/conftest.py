"""Fixtures for the generator's tests: one fresh generation of the scenarios per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowkit.synth import write_scenarios


@pytest.fixture(scope="session")
def fresh_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenarios generated now with the default seed, in a temporary folder."""
    dest = tmp_path_factory.mktemp("fresh-samples")
    write_scenarios(dest)
    return dest
