"""flowkit.store.manifest pinned: the unit of a blob is its hour folder (all NICs of the hour), with
or without a ``macAddress=`` level; a blob outside the layout is a unit of its own."""

from __future__ import annotations

import pytest

from flowkit.store.manifest import unit_key_of

HOUR = "c/resourceId=/SUBSCRIPTIONS/S/NSG1/y=2024/m=05/d=01/h=10/m=00"


@pytest.mark.parametrize("blob, has_hour, unit", [
    pytest.param(f"{HOUR}/macAddress=000D3A000001/PT1H.json", True, HOUR, id="with-mac-level"),
    pytest.param(f"{HOUR}/MACADDRESS=000D3A000001/PT1H.json", True, HOUR, id="mac-level-any-case"),
    pytest.param(f"{HOUR}/PT1H.json", True, HOUR, id="without-mac-level"),
    pytest.param("PT1H.json", True, "", id="a-bare-name"),
    pytest.param("/data/x/flows.json", False, "/data/x/flows.json", id="outside-the-layout"),
])
def test_the_unit_of_a_blob_is_its_hour_folder(blob: str, has_hour: bool, unit: str) -> None:
    assert unit_key_of(blob, has_hour) == unit
