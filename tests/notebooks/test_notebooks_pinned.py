"""What the curated notebooks show a reader, pinned where the text promises it."""

from __future__ import annotations

import pytest

from nbrun import EXECUTED, displayed

#: The samples: FLOWKIT_DATA unset (it names the user's logs), no inventory of the user's.
ENV: dict[str, str | None] = {"FLOWKIT_DATA": None, "FLOWKIT_INVENTORY": None}


@pytest.mark.slow
def test_02_shows_the_two_nsgs_of_the_nic_by_name(notebook_runner) -> None:
    """The text says the table names two NSGs for app-01's traffic; the full resource IDs share
    their first 50 characters, which is all pandas shows of a cell, so both rows read the same
    "/SUBSCRIPTIONS/00000000-0000-0000-0000-0000000..." and the two NSGs could not be told apart."""
    got = notebook_runner("02-nsg-vs-vnet", {"nic": "nic"}, env=ENV)
    assert got["nic"] == "000D3A000201"
    table = next(text for text in displayed(got[EXECUTED]) if "tuples" in text and "acl_id" in text)
    for name in ("NSG-SNET-APP", "NSG-NIC-APP-01", "FL-VNET-APP"):
        assert name in table


@pytest.mark.slow
def test_03_shows_the_nics_to_resize(notebook_runner) -> None:
    """The text says `unsupported` lists the NICs to resize: the notebook shows it, not only computes it."""
    got = notebook_runner("03-encryption-audit", {"unsupported": "unsupported"}, env=ENV)
    assert got["unsupported"] == ["000D3A000404"]
    shown = displayed(got[EXECUTED])
    assert any("'NICs to resize (unsupported_macs)': ['000D3A000404']" in text for text in shown)
    assert any("'dropped flows': 30" in text for text in shown)
