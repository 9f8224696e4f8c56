"""In a real browser: the filter panels of notebooks 02 (NSG vs VNet) and 03 (encryption audit).

One Voilà server serves the notebooks folder; each notebook runs on its sample scenario. A
network engineer's changes (MAC, log type, decision, encryption, state, addresses, ports,
time, rule) must give the numbers and rows ``filter_flows`` gives in Python, an empty
selection must say which filter to clear, and bad input must say what is wrong and keep the
selection. Screenshots of the panels go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest

from browser_servers import LOAD_TIMEOUT, serve, voila_tree_argv
from panel_page import UPDATE_TIMEOUT, cells, choose, expect_summary, screenshot, summary, type_in

pytestmark = pytest.mark.slow

# Columns of the panel's table (1-based), then resource and, with an inventory, vm.
SRC, DST, PORT, DECISION, STATE, ENCRYPTION, RULE, MAC, LOG_TYPE, RESOURCE, VM = 2, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15
APP01, APP02, LEGACY = "000D3A000201", "000D3A000202", "000D3A000404"


@pytest.fixture(scope="module")
def voila() -> Iterator[tuple[str, str]]:
    with serve(voila_tree_argv(), "/voila/static/favicon.ico", "voila-panels") as server:
        yield server


def _open(browser: Any, voila: tuple[str, str], notebook: str) -> Any:
    base, token = voila
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/voila/render/{notebook}?token={token}", timeout=LOAD_TIMEOUT)
    summary(page).wait_for(timeout=LOAD_TIMEOUT)
    return page


def _column(page: Any, column: int, want: set[str]) -> set[str]:
    return set(cells(page, column, lambda c: set(c) == want))


def _expect_message(page: Any, css: str, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(f".flowkit-message {css}")).to_have_text(text, timeout=UPDATE_TIMEOUT)


def _add_view(page: Any, shown: str) -> None:
    """Click *Add view to report* (the notebook gives the panel its report) and read what it says."""
    from playwright.sync_api import expect

    button = page.locator(".flowkit-filter-panel button", has_text="Add view to report")
    assert button.is_enabled() and button.get_attribute("title") == "Add this view as a finding to the report"
    button.click()
    expect(page.locator(".flowkit-message .flowkit-exported")).to_have_text(
        re.compile(r"^Added “Filtered view: .*" + re.escape(shown) + r".*” to the report\.$"), timeout=UPDATE_TIMEOUT)


def _no_traceback(page: Any) -> None:
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error" not in page.locator(".flowkit-filter-panel").inner_text()


def test_voila_nsg_vs_vnet_panel(browser: Any, voila: tuple[str, str],
                                 sample_numbers: Callable[..., dict[str, int]]) -> None:
    def want(**filters: Any) -> dict[str, int]:
        return sample_numbers("nsg-vs-vnet", **filters)

    page = _open(browser, voila, "02-nsg-vs-vnet.ipynb")
    try:
        # The panel starts on the notebook's NIC: app-01, behind its subnet's NSG and its own.
        expect_summary(page, want(mac=APP01))
        assert want(mac=APP01) == {"rows": 359, "flows": 13, "bytes": 460206664, "denied": 0}
        assert _column(page, MAC, {APP01}) == {APP01}
        rows = [r.strip() for r in page.locator(".flowkit-table tbody tr").all_inner_texts()]
        assert len(rows) == 15 and len(set(rows)) == 15  # the two NSGs' copies of a tuple are told apart
        assert page.locator(".flowkit-table thead th").all_inner_texts()[-2:] == ["resource", "vm"]
        assert _column(page, VM, {"app-01"}) == {"app-01"}  # the sample's inventory names the VMs

        choose(page, "log_type", "nsg")
        expect_summary(page, want(mac=APP01, log_type="nsg"))
        assert _column(page, RESOURCE, {"NSG-NIC-APP-01", "NSG-SNET-APP"}) == {"NSG-NIC-APP-01", "NSG-SNET-APP"}
        assert _column(page, ENCRYPTION, {""}) == {""}  # NSG flow logs have no encryption state
        choose(page, "log_type", "vnet")
        expect_summary(page, want(mac=APP01, log_type="vnet"))
        assert _column(page, RESOURCE, {"FL-VNET-APP"}) == {"FL-VNET-APP"}

        # The encryption drop the NSG log shows as allowed: app-02 -> db-01:1433 from 11:00.
        choose(page, "mac", "any")
        choose(page, "decision", "deny")
        choose(page, "encryption", "NX_NOT_ACCEPTED")
        dropped = want(log_type="vnet", decision="deny", encryption="NX_NOT_ACCEPTED")
        assert dropped == {"rows": 10, "flows": 10, "bytes": 0, "denied": 10}
        expect_summary(page, dropped)
        assert _column(page, SRC, {"10.10.2.5"}) == {"10.10.2.5"}
        assert _column(page, DST, {"10.10.3.4"}) == {"10.10.3.4"}
        assert _column(page, PORT, {"1433"}) == {"1433"}
        assert _column(page, RULE, {"unspecified"}) == {"unspecified"}
        assert _column(page, MAC, {APP02}) == {APP02}

        # No NSG row carries an encryption state: an empty selection says which filter to clear.
        choose(page, "log_type", "nsg")
        expect_summary(page, want(log_type="nsg", decision="deny", encryption="NX_NOT_ACCEPTED"))
        assert want(log_type="nsg", decision="deny")["rows"] == 4  # NSG flow logs' denials: state B
        _expect_message(page, ".flowkit-empty", "ⓘ No row matches these filters together: clear encryption "
                        "(4 rows without it), or log type (10 rows without it).")
        screenshot(page, "voila-02-empty-selection.png")

        choose(page, "encryption", "any")
        choose(page, "decision", "any")
        choose(page, "log_type", "any")
        expect_summary(page, want())
        assert page.locator(".flowkit-message").inner_text().strip() == ""
        type_in(page, "dst", "10.10.3.4")
        type_in(page, "ports", "1433")
        type_in(page, "start", "2024-05-01T11:00Z")
        type_in(page, "end", "2024-05-01T12:00Z")
        window = dict(dst="10.10.3.4", ports=1433, start="2024-05-01T11:00Z", end="2024-05-01T12:00Z")
        expect_summary(page, want(**window))
        type_in(page, "src", "10.10.2.5")
        choose(page, "state", "D (denied)")
        expect_summary(page, want(**window, src="10.10.2.5", state="D"))
        assert _column(page, STATE, {"D"}) == {"D"} and _column(page, DECISION, {"deny"}) == {"deny"}
        _add_view(page, "dst=10.10.3.4")  # the notebook's findings, which hold the reconciliation

        type_in(page, "start", "11:00")  # a time of day: not applied, the selection stays
        _expect_message(page, ".flowkit-error", "⚠ start: '11:00' has no full date, so it is not applied (it would "
                        "read as today): write the day too, as 2024-05-01T11:00Z — showing the previous selection.")
        expect_summary(page, want(**window, src="10.10.2.5", state="D"))

        _no_traceback(page)
        screenshot(page, "voila-02-filter-panel.png")
    finally:
        page.close()


def test_voila_encryption_audit_panel(browser: Any, voila: tuple[str, str],
                                      sample_numbers: Callable[..., dict[str, int]]) -> None:
    def want(**filters: Any) -> dict[str, int]:
        return sample_numbers("encryption", **filters)

    page = _open(browser, voila, "03-encryption-audit.ipynb")
    try:
        # The panel starts on the flows enforcement dropped: legacy-01 -> sec-db-01:1433 from 11:00.
        expect_summary(page, want(encryption="NX_NOT_ACCEPTED"))
        assert want(encryption="NX_NOT_ACCEPTED") == {"rows": 30, "flows": 30, "bytes": 0, "denied": 30}
        assert page.locator(".flowkit-message").inner_text().strip() == ""  # the state occurs: no note
        assert _column(page, ENCRYPTION, {"NX_NOT_ACCEPTED"}) == {"NX_NOT_ACCEPTED"}
        assert _column(page, VM, {"legacy-01"}) == {"legacy-01"}  # the sample inventory names the VMs
        assert _column(page, RULE, {"unspecified"}) == {"unspecified"}
        assert _column(page, RESOURCE, {"FL-VNET-SECURE"}) == {"FL-VNET-SECURE"}

        choose(page, "encryption", "X")
        expect_summary(page, want(encryption="X"))
        choose(page, "mac", f"{LEGACY} (legacy-01)")  # legacy-01's size cannot encrypt
        expect_summary(page, want(encryption="X", mac=LEGACY))
        _expect_message(page, ".flowkit-empty", "ⓘ No row matches these filters together: clear encryption "
                        f"({want(mac=LEGACY)['rows']} rows without it), or MAC / VM "
                        f"({want(encryption='X')['rows']} rows without it).")

        choose(page, "encryption", "NX_HW_NOT_SUPPORTED")
        expect_summary(page, want(encryption="NX_HW_NOT_SUPPORTED", mac=LEGACY))
        type_in(page, "dst", "10.20.2.0/24")
        type_in(page, "end", "2024-05-01T10:30Z")
        hw = dict(encryption="NX_HW_NOT_SUPPORTED", dst="10.20.2.0/24", end="2024-05-01T10:30Z")
        expect_summary(page, want(**hw, mac=LEGACY))
        assert want(**hw, mac=LEGACY) == {"rows": 6, "flows": 3, "bytes": 11922588, "denied": 0}

        # sec-db-01's inbound rule: not at legacy-01's NIC, which logs the flows outbound.
        page.locator(".flowkit-filter-rule select").select_option(["UserRule_AllowAppToSql"])
        expect_summary(page, want(**hw, mac=LEGACY, rule="UserRule_AllowAppToSql"))
        _expect_message(page, ".flowkit-empty", "ⓘ No row matches these filters together: clear rule "
                        "(6 rows without it), or MAC / VM (6 rows without it).")
        choose(page, "mac", "any")
        expect_summary(page, want(**hw, rule="UserRule_AllowAppToSql"))
        assert _column(page, VM, {"sec-db-01"}) == {"sec-db-01"}
        assert _column(page, SRC, {"10.20.1.6"}) == {"10.20.1.6"}

        _add_view(page, "encryption=NX_HW_NOT_SUPPORTED")  # the notebook's findings, which hold the audit

        type_in(page, "dst", "10.20.2.0/33")
        _expect_message(page, ".flowkit-error", "⚠ destination: '10.20.2.0/33' is not an IP address or CIDR block "
                        "— showing the previous selection.")
        expect_summary(page, want(**hw, rule="UserRule_AllowAppToSql"))
        _no_traceback(page)
        screenshot(page, "voila-03-filter-panel.png")
    finally:
        page.close()
