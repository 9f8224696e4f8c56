"""In a real browser: change filters in the page, the summary and table follow with the right numbers.

Voilà serves ``01-connectivity-failures.ipynb`` (the panel starts on web-01 -> db-01:1433);
JupyterLab opens ``00-getting-started.ipynb``, runs all cells, and the panel covers every flow.
Screenshots of the panel go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest

from browser_servers import ARTIFACTS, LOAD_TIMEOUT, lab_argv, run_all_in_lab, serve, voila_argv

pytestmark = pytest.mark.slow

UPDATE_TIMEOUT = 30_000  # ms: one filter change


def _summary(page: Any) -> Any:
    return page.locator(".flowkit-summary .flowkit-summary-text")


def _expect_summary(page: Any, want: dict[str, int]) -> None:
    from playwright.sync_api import expect

    summary = _summary(page)
    expect(summary).to_have_attribute("data-rows", str(want["rows"]), timeout=UPDATE_TIMEOUT)
    for key in ("flows", "bytes", "denied"):
        expect(summary).to_have_attribute(f"data-{key}", str(want[key]), timeout=UPDATE_TIMEOUT)
    text = summary.inner_text()
    assert f"{want['rows']:,} rows" in text and f"{want['flows']:,} flows" in text
    assert f"{want['denied']:,} denied" in text
    # The table shows the earliest rows of the selection (at most 15).
    expect(page.locator(".flowkit-table tbody tr")).to_have_count(min(15, want["rows"]), timeout=UPDATE_TIMEOUT)


def _screenshot(page: Any, name: str) -> None:
    """The page with the panel's controls at the top, as a test artifact."""
    page.locator(".flowkit-filter-panel").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / name))


def _type(page: Any, name: str, text: str) -> None:
    box = page.locator(f".flowkit-filter-{name} input")
    box.fill(text)
    box.press("Enter")  # text boxes apply on Enter (continuous_update=False)


def _choose(page: Any, name: str, label: str) -> None:
    page.locator(f".flowkit-filter-{name} select").select_option(label=label)


def _cells(page: Any, column: int, ok: Callable[[list[str]], bool]) -> list[str]:
    """The table's cells in ``column`` (1-based) once ``ok(cells)`` holds (the table updates asynchronously)."""
    cells: list[str] = []
    for _ in range(UPDATE_TIMEOUT // 250):
        cells = [c.strip() for c in page.locator(f".flowkit-table tbody tr td:nth-child({column})").all_inner_texts()]
        if cells and ok(cells):
            break
        page.wait_for_timeout(250)
    return cells


def test_voila_connectivity_panel(browser: Any, numbers: Callable[..., dict[str, int]]) -> None:
    with serve(voila_argv("01-connectivity-failures.ipynb"), "/voila/static/favicon.ico", "voila") as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/?token={token}", timeout=LOAD_TIMEOUT)
            _summary(page).wait_for(timeout=LOAD_TIMEOUT)
            pair = dict(src="10.10.1.4", dst="10.10.3.4", ports=1433)
            _expect_summary(page, numbers(**pair))

            _type(page, "ports", "8080")
            _type(page, "dst", "10.10.2.0/24")
            want = numbers(src="10.10.1.4", dst="10.10.2.0/24", ports=8080)
            assert want["rows"] > 0
            _expect_summary(page, want)
            assert set(_cells(page, 4, lambda c: set(c) == {"10.10.2.4"})) == {"10.10.2.4"}
            assert set(_cells(page, 5, lambda c: set(c) == {"8080"})) == {"8080"}

            _choose(page, "direction", "inbound")
            _expect_summary(page, numbers(src="10.10.1.4", dst="10.10.2.0/24", ports=8080, direction="inbound"))
            assert set(_cells(page, 7, lambda c: set(c) == {"inbound"})) == {"inbound"}

            _type(page, "src", "10.0.0.0/33")  # bad input: a message, the selection stays
            message = page.locator(".flowkit-message .flowkit-error")
            message.wait_for(timeout=UPDATE_TIMEOUT)
            assert "10.0.0.0/33" in message.inner_text()
            _expect_summary(page, numbers(src="10.10.1.4", dst="10.10.2.0/24", ports=8080, direction="inbound"))
            _screenshot(page, "voila-01-filter-panel.png")
        finally:
            page.close()


def test_jupyterlab_getting_started_panel(browser: Any, numbers: Callable[..., dict[str, int]], tmp_path: Any) -> None:
    with serve(lab_argv(tmp_path / "lab-settings"), "/api/status?token={token}", "jupyterlab") as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            run_all_in_lab(page, base, token, "00-getting-started.ipynb")
            _summary(page).wait_for(timeout=LOAD_TIMEOUT)
            page.locator(".flowkit-filter-panel").scroll_into_view_if_needed()
            _expect_summary(page, numbers())

            _type(page, "src", "192.0.2.0/24")
            _expect_summary(page, numbers(src="192.0.2.0/24"))
            scanners = _cells(page, 2, lambda c: all(ip.startswith("192.0.2.") for ip in c))
            assert scanners and all(re.fullmatch(r"192\.0\.2\.\d+", ip) for ip in scanners), scanners

            _choose(page, "decision", "deny")
            _type(page, "ports", "22")
            _expect_summary(page, numbers(src="192.0.2.0/24", decision="deny", ports=22))
            assert set(_cells(page, 5, lambda c: set(c) == {"22"})) == {"22"}
            assert set(_cells(page, 8, lambda c: set(c) == {"deny"})) == {"deny"}
            _screenshot(page, "jupyterlab-00-filter-panel.png")
        finally:
            page.close()
