"""In a real browser: change filters in the page, the summary and table follow with the right numbers.

Voilà serves ``01-connectivity-failures.ipynb`` (the panel starts on web-01 -> db-01:1433);
JupyterLab opens ``00-getting-started.ipynb``, runs all cells, and the panel covers every flow.
Screenshots of the panel go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import socket
from typing import Any, Callable

import pytest

from browser_servers import LOAD_TIMEOUT, free_port, lab_argv, run_all_in_lab, serve, voila_argv
from panel_page import UPDATE_TIMEOUT, cells as _cells, choose as _choose, expect_summary as _expect_summary
from panel_page import screenshot as _screenshot, summary as _summary, type_in as _type

pytestmark = pytest.mark.slow

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


def test_the_browser_resolves_no_host_name_but_this_machines(browser: Any) -> None:
    """The browser tests' Chromium resolves no name but 127.0.0.1 and localhost, so no request
    leaves the machine (Voila asks a CDN for an icon font). The machine's own host name, which
    the system resolves, is refused too: the rule is Chromium's, not the network's. The requests
    are a page's images, not navigations (a failed navigation makes Chromium probe DNS)."""
    urls = [f"http://{socket.gethostname()}:{free_port()}/a.png", "https://cdn.jsdelivr.net/npm/b.png"]
    page = browser.new_page()
    failed: dict[str, str] = {}
    page.on("requestfailed", lambda request: failed.__setitem__(request.url, request.failure or ""))
    try:
        page.set_content("".join(f'<img src="{url}">' for url in urls))
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=10_000)
        assert failed == {url: "net::ERR_NAME_NOT_RESOLVED" for url in urls}
    finally:
        page.close()
