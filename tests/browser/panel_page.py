"""Helpers of the browser tests that drive a filter panel in a page (Playwright locators)."""

from __future__ import annotations

from typing import Any, Callable

from browser_servers import ARTIFACTS

UPDATE_TIMEOUT = 30_000  # ms: one filter change


def summary(page: Any) -> Any:
    return page.locator(".flowkit-summary .flowkit-summary-text")


def expect_summary(page: Any, want: dict[str, int]) -> None:
    """Wait until the panel shows ``want`` (rows, flows, bytes, denied) and its table the earliest rows."""
    from playwright.sync_api import expect

    shown = summary(page)
    expect(shown).to_have_attribute("data-rows", str(want["rows"]), timeout=UPDATE_TIMEOUT)
    for key in ("flows", "bytes", "denied"):
        expect(shown).to_have_attribute(f"data-{key}", str(want[key]), timeout=UPDATE_TIMEOUT)
    text = shown.inner_text()
    assert f"{want['rows']:,} rows" in text and f"{want['flows']:,} flows" in text
    assert f"{want['denied']:,} denied" in text
    # The table shows the earliest rows of the selection (at most 15).
    expect(page.locator(".flowkit-table tbody tr")).to_have_count(min(15, want["rows"]), timeout=UPDATE_TIMEOUT)


def screenshot(page: Any, name: str) -> None:
    """The page with the panel's controls at the top, as a test artifact."""
    page.locator(".flowkit-filter-panel").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / name))


def type_in(page: Any, name: str, text: str) -> None:
    box = page.locator(f".flowkit-filter-{name} input")
    box.fill(text)
    box.press("Enter")  # text boxes apply on Enter (continuous_update=False)


def choose(page: Any, name: str, label: str) -> None:
    page.locator(f".flowkit-filter-{name} select").select_option(label=label)


def cells(page: Any, column: int, ok: Callable[[list[str]], bool]) -> list[str]:
    """The table's cells in ``column`` (1-based) once ``ok(cells)`` holds (the table updates asynchronously)."""
    found: list[str] = []
    for _ in range(UPDATE_TIMEOUT // 250):
        found = [c.strip() for c in page.locator(f".flowkit-table tbody tr td:nth-child({column})").all_inner_texts()]
        if found and ok(found):
            break
        page.wait_for_timeout(250)
    return found
