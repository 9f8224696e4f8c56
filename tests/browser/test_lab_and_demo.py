"""In a real browser: ``make lab`` cannot dirty the tracked notebooks, and ``make demo``'s HTML works offline.

- JupyterLab with ``make lab``'s arguments runs a curated notebook and saves it: the file on
  disk stays byte for byte what git has (no outputs, no run metadata).
- A notebook executed and exported by ``flowkit.demo`` opens with every network request
  refused: nothing is fetched, the filter panel's static copy is shown with the numbers of the
  run and a note that filtering needs the live notebook, and no empty widget area is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from browser_servers import ARTIFACTS, LOAD_TIMEOUT, NOTEBOOKS, lab_argv, run_all_in_lab, serve

pytestmark = pytest.mark.slow

UPDATE_TIMEOUT = 30_000  # ms


def test_jupyterlab_saves_tracked_notebooks_without_outputs(browser: Any, tmp_path: Path) -> None:
    name = "03-encryption-audit.ipynb"
    path = NOTEBOOKS / name
    committed = path.read_bytes()
    try:
        with serve(lab_argv(tmp_path / "lab-settings"), "/api/status?token={token}", "jupyterlab-save") as (base, token):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                run_all_in_lab(page, base, token, name)
                page.locator(".flowkit-summary .flowkit-summary-text").wait_for(timeout=LOAD_TIMEOUT)
                outputs = page.locator(".jp-OutputArea-output").count()
                assert outputs > 5  # the run produced outputs in the page
                page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
                assert path.read_bytes() == committed, "saving after a run changed the tracked notebook"
                # Saving again raises no "file changed on disk" dialog: the page and the server agree.
                page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
                page.wait_for_timeout(1000)
                assert page.locator(".jp-Dialog").count() == 0
                assert page.locator(".jp-OutputArea-output").count() == outputs  # the page keeps its outputs
                assert path.read_bytes() == committed
            finally:
                page.close()
    finally:
        if path.read_bytes() != committed:  # never leave the tracked notebook dirty, whatever failed
            path.write_bytes(committed)


def test_demo_html_copy_works_offline(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      numbers: Callable[..., dict[str, int]]) -> None:
    from flowkit.demo import execute_notebook, export_html

    monkeypatch.delenv("FLOWKIT_DATA", raising=False)  # the sample scenario, as make demo runs it
    monkeypatch.delenv("FLOWKIT_INVENTORY", raising=False)
    out = export_html(execute_notebook(NOTEBOOKS / "00-getting-started.ipynb"), tmp_path / "00-getting-started.html")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    fetched: list[str] = []

    def refuse(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            fetched.append(url)
            route.abort()

    context.route("**/*", refuse)
    page = context.new_page()
    try:
        page.goto(out.as_uri(), timeout=LOAD_TIMEOUT)
        page.wait_for_load_state("load")
        page.wait_for_timeout(1000)
        assert fetched == [], f"the HTML copy fetches from the network: {fetched}"
        static = page.locator(".flowkit-filter-panel-static")
        assert static.count() == 1
        assert "needs the live notebook" in static.locator(".flowkit-static-note").inner_text()
        want = numbers()
        summary = static.locator(".flowkit-summary-text")
        for key in ("rows", "flows", "bytes", "denied"):
            assert summary.get_attribute(f"data-{key}") == str(want[key])
        assert static.locator("tbody tr").count() == 15
        images = static.locator("img")
        assert images.count() == 2
        assert all(images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(2))
        # No widget area is left empty (the progress bar and the live panel are gone).
        assert page.locator(".jupyter-widgets").count() == 0
        assert page.locator("script[type='application/vnd.jupyter.widget-view+json']").count() == 0
        static.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "demo-00-offline.png"))
    finally:
        context.close()
