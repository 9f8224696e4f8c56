"""Fixtures of the investigation tests: hand-written frames, the data-samples scenarios,
the shared conformance files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from flowkit_frames import CONFORMANCE, frame, read_scenario, scenario_dir, tuple_row


@pytest.fixture
def make_row() -> Callable[..., dict[str, Any]]:
    return tuple_row


@pytest.fixture
def make_frame() -> Callable[[list[dict[str, Any]]], pd.DataFrame]:
    return frame


@pytest.fixture(scope="session")
def connectivity() -> tuple[pd.DataFrame, dict[str, Any], Path]:
    path = scenario_dir("connectivity")
    return read_scenario("connectivity"), json.loads((path / "expected.json").read_text()), path


@pytest.fixture(scope="session")
def nsg_vs_vnet() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], Path]:
    path = scenario_dir("nsg-vs-vnet")
    return (read_scenario("nsg-vs-vnet", "insights-logs-networksecuritygroupflowevent"),
            read_scenario("nsg-vs-vnet", "insights-logs-flowlogflowevent"),
            json.loads((path / "expected.json").read_text()), path)


@pytest.fixture(scope="session")
def encryption_scenario() -> tuple[pd.DataFrame, dict[str, Any], Path]:
    path = scenario_dir("encryption")
    return read_scenario("encryption"), json.loads((path / "expected.json").read_text()), path


@pytest.fixture(scope="session")
def conformance_flows() -> pd.DataFrame:
    if not CONFORMANCE.is_dir():
        pytest.skip("../shared/conformance is not present beside the repository")
    from flowkit.read import read_flow_logs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A folder read takes the .json files; the growing-blob fragment is named explicitly.
        return read_flow_logs([str(CONFORMANCE), str(CONFORMANCE / "fragment-nsg-v1_msconnector-sampleStage3Input.txt")])
