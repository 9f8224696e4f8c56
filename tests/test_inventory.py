"""Inventory: az network nic list JSON, CSV, lookups, enrich()."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowkit.errors import FormatError, SourceError
from flowkit.inventory import (ENRICH_COLUMNS, Inventory, enrich, inventory_from_az_json,
                               inventory_from_records, read_inventory)
from flowkit.schema import coerce

SAMPLES = Path(__file__).resolve().parents[1] / "data-samples"


def _sample(name: str, file: str) -> Path:
    path = SAMPLES / name / file
    if not path.is_file():
        pytest.fail(f"data-samples/{name}/{file} is missing: run `make samples`")
    return path


def test_az_json_of_the_nsg_vs_vnet_scenario():
    inv = read_inventory(_sample("nsg-vs-vnet", "nics.json"))
    assert len(inv) == 6
    app = inv.by_mac("00-0D-3A-00-02-01")
    assert app == {"mac": "000D3A000201", "ip": "10.10.2.4", "nic": "app-01-nic", "vm": "app-01",
                   "subnet": "snet-app", "subnet_prefix": None, "vnet": "vnet-app", "nsg": "nsg-nic-app-01",
                   "resource_group": "RG-FLOWKIT-DEMO"}
    # Subnet NSGs are not on the NIC in az output.
    assert inv.by_ip("10.10.1.4")["nsg"] is None


@pytest.mark.parametrize("scenario", ["connectivity", "nsg-vs-vnet", "encryption"])
def test_json_and_csv_agree(scenario):
    a = read_inventory(_sample(scenario, "nics.json")).nics
    b = read_inventory(_sample(scenario, "nics.csv")).nics
    cols = ["mac", "ip", "nic", "vm", "subnet", "vnet"]
    pd.testing.assert_frame_equal(a[cols].sort_values("mac").reset_index(drop=True),
                                  b[cols].sort_values("mac").reset_index(drop=True))


def test_csv_prefixes_and_subnet_of():
    inv = read_inventory(_sample("encryption", "nics.csv"))
    assert inv.by_ip("10.20.1.6")["vm"] == "legacy-01"
    assert inv.subnet_of("10.20.2.99") == "snet-sec-data"
    assert inv.subnet_of("198.51.100.20") is None
    assert inv.subnet_of("not-an-ip") is None
    assert inv.ip_map("vm")["10.20.1.4"] == "sec-app-01"
    assert inv.mac_map("vm")["000D3A000404"] == "legacy-01"


def test_ipv6_addresses_are_kept_as_the_flow_table_spells_them(tmp_path):
    path = tmp_path / "nics.csv"
    path.write_text("mac,ip,vm\n00-0D-3A-00-01-01,2001:DB8:0:0::4,web-v6\n00-0D-3A-00-01-02,::FFFF:192.0.2.9,dual\n")
    inv = read_inventory(path)
    assert inv.nics["ip"].tolist() == ["2001:db8::4", "::ffff:192.0.2.9"]
    assert inv.by_ip("2001:db8::4")["vm"] == "web-v6" and inv.by_ip("2001:DB8::0:4")["vm"] == "web-v6"
    assert inv.by_ip("::ffff:c000:209")["vm"] == "dual"
    flows = coerce(pd.DataFrame({"src_ip": ["2001:db8::4"], "dst_ip": ["2001:db8::5"], "mac": ["000D3A000103"]}))
    assert enrich(flows, inv)["src_vm"].tolist() == ["web-v6"]


def test_arm_properties_nesting_and_single_object():
    nic = {"name": "n1", "properties": {
        "macAddress": "00:0d:3a:00:00:09",
        "virtualMachine": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm9"},
        "networkSecurityGroup": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg9"},
        "ipConfigurations": [
            {"properties": {"privateIPAddress": "10.0.0.9", "subnet": {
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s1",
                "addressPrefix": "10.0.0.0/24"}}},
            {"properties": {"privateIPAddress": "10.0.0.10", "subnet": {
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s1"}}}]}}
    inv = inventory_from_az_json({"value": [nic]})
    assert inv.nics["ip"].tolist() == ["10.0.0.9", "10.0.0.10"]
    assert inv.by_ip("10.0.0.10")["vm"] == "vm9" and inv.by_ip("10.0.0.10")["mac"] == "000D3A000009"
    assert inv.by_mac("000D3A000009")["nsg"] == "nsg9"
    assert inv.subnet_of("10.0.0.77") == "s1"
    assert len(inventory_from_az_json({"name": "lonely", "macAddress": "00-0D-3A-00-00-01"})) == 1


def test_bad_inputs(tmp_path):
    with pytest.raises(SourceError):
        read_inventory(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(FormatError):
        read_inventory(tmp_path / "bad.json")
    (tmp_path / "bad.csv").write_text("name,owner\nx,y\n")
    with pytest.raises(FormatError):
        read_inventory(tmp_path / "bad.csv")
    with pytest.raises(FormatError):
        inventory_from_az_json("nope")
    (tmp_path / "bom.csv").write_text("\ufeffMAC,IP,VM\n000d3a000001,10.0.0.1,a\n", encoding="utf-8")
    assert read_inventory(tmp_path / "bom.csv").by_ip("10.0.0.1")["vm"] == "a"


def test_enrich_adds_names():
    inv = inventory_from_records([
        {"mac": "000D3A000101", "ip": "10.10.1.4", "vm": "web-01", "nic": "web-01-nic", "subnet": "snet-web",
         "subnet_prefix": "10.10.1.0/24"},
        {"mac": "000D3A000301", "ip": "10.10.3.4", "vm": "db-01", "subnet": "snet-data",
         "subnet_prefix": "10.10.3.0/24"}])
    flows = coerce(pd.DataFrame({"src_ip": ["10.10.1.4", "192.0.2.9", "10.10.1.77"],
                                 "dst_ip": ["10.10.3.4", "10.10.1.4", "10.10.3.4"],
                                 "mac": ["000D3A000101", "000D3A000101", "000D3A000301"]}))
    out = enrich(flows, inv)
    assert sorted(c for c in out.columns if c in ENRICH_COLUMNS) == sorted(ENRICH_COLUMNS)
    assert out["vm"].tolist() == ["web-01", "web-01", "db-01"]
    assert out["src_vm"].astype(object).where(out["src_vm"].notna(), None).tolist() == ["web-01", None, None]
    assert out["dst_vm"].tolist() == ["db-01", "web-01", "db-01"]
    assert out["src_subnet"].astype(object).where(out["src_subnet"].notna(), None).tolist() == \
        ["snet-web", None, "snet-web"]
    assert isinstance(out["src_vm"].dtype, pd.CategoricalDtype)
    assert "vm" not in flows.columns  # the input is not changed
    empty = enrich(flows, None)
    assert empty["src_vm"].isna().all() and len(empty) == 3
    assert len(Inventory.empty()) == 0 and repr(inv) == "Inventory(2 NIC(s), 2 address(es))"


def test_names_come_from_the_nic_fields_else_from_its_resource_id():
    nic_id = "/subscriptions/s/resourceGroups/rg-from-id/providers/Microsoft.Network/networkInterfaces/nic-from-id"
    subnet = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s1",
              "addressPrefixes": ["192.0.2.0/25", "192.0.2.128/25"]}
    inv = inventory_from_az_json([
        {"name": "named", "resourceGroup": "RG-GIVEN", "macAddress": "00-0D-3A-00-00-01",
         "ipConfigurations": [{"privateIPAddress": "192.0.2.4", "subnet": subnet}]},
        {"id": nic_id, "macAddress": "00-0D-3A-00-00-02",
         "ipConfigurations": [{"privateIPAddress": "192.0.2.5", "subnet": subnet}]},
    ])
    assert inv.nics[["nic", "resource_group", "subnet_prefix"]].values.tolist() == [
        ["named", "RG-GIVEN", "192.0.2.0/25"], ["nic-from-id", "rg-from-id", "192.0.2.0/25"]]
    assert inv.subnet_of("192.0.2.100") == "s1" and inv.subnet_of("192.0.2.200") is None


def test_a_truncated_resource_id_gives_no_name_rather_than_an_error():
    inv = inventory_from_az_json([{"name": "n", "id": "/subscriptions/s/resourceGroups", "ipConfigurations": [
        {"privateIPAddress": "192.0.2.4",
         "subnet": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets",
                    "name": "s2"}}]}])
    assert inv.by_ip("192.0.2.4") == {"mac": None, "ip": "192.0.2.4", "nic": "n", "vm": None,
                                      "subnet": "s2", "subnet_prefix": None, "vnet": "v", "nsg": None,
                                      "resource_group": None}


def test_enrich_takes_plain_text_columns_too():
    """A flow table built by hand (object columns, not categoricals) is enriched the same way."""
    inv = inventory_from_records([{"mac": "000D3A000101", "ip": "192.0.2.4", "vm": "web-01", "nic": "web-01-nic",
                                   "subnet": "snet-web", "subnet_prefix": "192.0.2.0/24"}])
    flows = pd.DataFrame({"src_ip": ["192.0.2.4", "198.51.100.7"], "dst_ip": ["198.51.100.7", "192.0.2.99"],
                          "mac": ["000D3A000101", "000D3A000101"]})
    out = enrich(flows, inv)
    got = {c: out[c].astype(object).where(out[c].notna(), None).tolist() for c in ENRICH_COLUMNS}
    assert got == {"vm": ["web-01", "web-01"], "nic": ["web-01-nic", "web-01-nic"], "src_vm": ["web-01", None],
                   "dst_vm": [None, None], "src_nic": ["web-01-nic", None], "dst_nic": [None, None],
                   "src_subnet": ["snet-web", None], "dst_subnet": [None, "snet-web"]}
