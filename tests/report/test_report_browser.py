"""Open a report built from hostile logs in headless Chromium: no script runs, nothing loads, the text shows.

Needs Debian's chromium at /usr/bin/chromium (``make browser`` installs it); Playwright's own
browser download is never used.
"""

from __future__ import annotations

import functools
import http.server
import threading
import warnings
from pathlib import Path

import pytest

from flowkit import read_flow_logs
from flowkit.report import Report, investigate
from tests.chromium import CHROMIUM as CHROMIUM_PATH, CHROMIUM_ARGS

from report_data import ARTIFACTS, CREATED, JS_URL, LONG, ONERROR, SCRIPT

CHROMIUM = Path(CHROMIUM_PATH)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def served(tmp_path):
    """Serve ``tmp_path/site`` on 127.0.0.1 (a free port); yields (folder, base URL)."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _hostile_report(logs: Path) -> Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the damaged tuple is quarantined on purpose
        flows = read_flow_logs(str(logs), progress=False)
    findings = investigate(flows, pairs=[("192.0.2.10", "198.51.100.20", 443, None)], progress=False)
    return Report(findings, title=f"Report {SCRIPT}", flows=flows, created=CREATED, notes=[ONERROR, JS_URL])


def test_hostile_report_in_chromium(hostile_logs, served):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing at /usr/bin/chromium: run `make browser`", pytrace=False)
    from playwright.sync_api import sync_playwright

    site, base = served
    report = _hostile_report(hostile_logs)
    rules = set(report.findings[0].evidence["denied"]["rule"]) | set(report.findings[1].evidence["tuples"]["rule"])
    assert SCRIPT in rules and JS_URL + "'\"" in rules  # the hostile text is in the findings
    report.write(site / "report.html")
    url = f"{base}/report.html"
    requests: list[str] = []
    console: list[str] = []

    def drive() -> tuple:
        # In its own thread: an earlier test (papermill, nbclient) may leave an asyncio
        # loop registered on the main thread, where Playwright's sync API refuses to run.
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("request", lambda r: requests.append(r.url))
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
                page.goto(url, wait_until="load")
                page.wait_for_timeout(300)
                pwned = page.evaluate("typeof window.__pwned")
                scripts = page.evaluate("document.scripts.length")
                handlers = page.evaluate(
                    "Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)"
                    ".filter(a => a.name.startsWith('on')).map(a => e.tagName + '.' + a.name))")
                hrefs = page.evaluate("Array.from(document.querySelectorAll('[href],[src]'))"
                                      ".map(e => (e.getAttribute('href') || e.getAttribute('src')).slice(0, 40))")
                text = page.inner_text("body")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "report-hostile.png"), full_page=False)
            finally:
                browser.close()
        return pwned, scripts, handlers, hrefs, text

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pwned, scripts, handlers, hrefs, text = pool.submit(drive).result(timeout=180)
    assert pwned == "undefined"
    assert scripts == 0 and handlers == []
    assert [h for h in hrefs if not h.startswith(("#", "data:"))] == []
    assert [r for r in requests if r != url and not r.startswith("data:")] == []
    assert requests[0] == url
    assert console == []
    for hostile in (SCRIPT, ONERROR, JS_URL, "UserRule_" + "A" * 291 + " … 9709 more character(s), in the CSV"):
        assert hostile in text
    assert LONG not in text  # a 10,000-character string is cut on the page (the CSV has it whole)
