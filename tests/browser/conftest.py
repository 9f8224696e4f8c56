"""Fixtures of the browser tests: Debian's Chromium through Playwright, and the expected numbers."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pandas as pd
import pytest

from browser_servers import ARTIFACTS, SAMPLES, chromium_available
from tests.chromium import CHROMIUM, CHROMIUM_ARGS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts kernels, servers or a browser (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not chromium_available():  # fail, not skip: a test skipped in CI is a test that does not exist
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium", pytrace=False)
    from playwright import sync_api
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def connectivity_flows() -> pd.DataFrame:
    from flowkit.read import read_flow_logs

    return read_flow_logs(SAMPLES / "connectivity", progress=False)


def expected_numbers(flows: pd.DataFrame, **filters: Any) -> dict[str, int]:
    """The summary the panel must show for ``filter_flows(flows, **filters)``.

    Flows, bytes and denied are counted with plain pandas, not with the panel's code. Bytes
    count each flow once, as the talker graph does: per flow, the largest sum of C and E
    counters of one observer (NIC, log type, NSG), sent and received each.
    """
    from flowkit.filters import filter_flows

    key = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol"]
    rows = filter_flows(flows, **filters)
    counted = rows[rows["state"].isin(["C", "E"]) & rows["packets_sent"].notna()]
    counters = counted[key + ["mac", "log_type", "resource_id", "bytes_sent", "bytes_received"]].astype(
        {"bytes_sent": "float64", "bytes_received": "float64"})
    per_observer = counters.groupby(key + ["mac", "log_type", "resource_id"], observed=True, dropna=False)[
        ["bytes_sent", "bytes_received"]].sum()
    per_flow = per_observer.groupby(level=list(range(len(key)))).max()
    return {"rows": len(rows),
            "flows": len(rows[key].drop_duplicates()),
            "bytes": int(per_flow["bytes_sent"].sum() + per_flow["bytes_received"].sum()),
            "denied": int(((rows["decision"] == "deny") | (rows["state"] == "D")).sum())}


@pytest.fixture(scope="session")
def numbers(connectivity_flows: pd.DataFrame) -> Callable[..., dict[str, int]]:
    """``numbers(**filters)``: the summary the panel must show on the connectivity sample (:func:`expected_numbers`)."""
    return lambda **filters: expected_numbers(connectivity_flows, **filters)


@pytest.fixture(scope="session")
def sample_numbers() -> Callable[..., dict[str, int]]:
    """``sample_numbers(scenario, **filters)``: :func:`expected_numbers` on ``data-samples/<scenario>``."""
    from flowkit.read import read_flow_logs

    read: dict[str, pd.DataFrame] = {}

    def compute(scenario: str, **filters: Any) -> dict[str, int]:
        if scenario not in read:
            read[scenario] = read_flow_logs(SAMPLES / scenario, progress=False)
        return expected_numbers(read[scenario], **filters)
    return compute
