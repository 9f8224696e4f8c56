"""Inventory pinned: how a file is told JSON from CSV, the names it exports, no signature in an error."""

from __future__ import annotations

import json

import pytest

from flowkit.errors import FormatError
from flowkit.inventory import read_inventory

#: A made-up SAS query, as `wget URL` keeps it in the name of the file it saves.
FAKE_SAS = "?sv=2022-11-02&sr=b&sig=bm90LWEtcmVhbC1zaWduYXR1cmU%3D"


def test_json_is_read_whatever_the_file_is_called(tmp_path):
    path = tmp_path / "nics.txt"
    path.write_text(json.dumps([{"name": "web-01-nic", "macAddress": "00-0D-3A-00-01-01",
                                 "ipConfigurations": [{"privateIPAddress": "192.0.2.4"}]}]))
    assert read_inventory(path).by_ip("192.0.2.4")["nic"] == "web-01-nic"


def test_a_json_file_holding_csv_is_not_valid_json(tmp_path):
    path = tmp_path / "nics.json"
    path.write_text("mac,ip,vm\n00-0D-3A-00-01-01,192.0.2.4,web-01\n")
    with pytest.raises(FormatError, match=r"^inventory .*nics\.json is not valid JSON: "):
        read_inventory(path)


def test_a_csv_without_mac_or_ip_names_the_file_but_not_its_signature(tmp_path):
    path = tmp_path / f"nics.csv{FAKE_SAS}"
    path.write_text("name,owner\nx,y\n")
    with pytest.raises(FormatError) as info:
        read_inventory(path)
    message = str(info.value)
    assert message == f"inventory CSV {tmp_path}/nics.csv?REDACTED needs a header with a mac or ip column"
    assert "sig=" not in message and "bm90LWEtcmVhbC1zaWduYXR1cmU" not in message


def test_the_cli_does_not_print_the_signature_of_an_inventory_file(tmp_path, capsys):
    from pathlib import Path

    from flowkit.cli import main

    log = Path(__file__).resolve().parents[1] / "data-samples" / "connectivity" / "insights-logs-flowlogflowevent"
    inventory = tmp_path / f"nics.csv{FAKE_SAS}"
    inventory.write_text("name,owner\nx,y\n")
    assert main(["diagnose", str(log), "--src", "10.10.1.4", "--dst", "10.10.3.4",
                 "--inventory", str(inventory)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("flowkit diagnose: error: inventory CSV ")
    assert "bm90LWEtcmVhbC1zaWduYXR1cmU" not in captured.err


def test_star_import_gives_the_public_names():
    names: dict = {}
    exec("from flowkit.inventory import *", names)
    assert {"Inventory", "INVENTORY_COLUMNS", "read_inventory", "inventory_from_records",
            "inventory_from_az_json", "enrich", "ENRICH_COLUMNS"} <= set(names)


def test_a_single_nic_object_is_read_whatever_the_file_is_called(tmp_path):
    path = tmp_path / "nic.txt"
    path.write_text(json.dumps({"name": "db-01-nic", "macAddress": "00-0D-3A-00-03-01"}))
    assert read_inventory(path).by_mac("000D3A000301")["nic"] == "db-01-nic"


@pytest.mark.parametrize("text, key, value", [
    pytest.param("MAC,vm\n00-0D-3A-00-01-01,web-01\n", "000D3A000101", "web-01", id="mac-only"),
    pytest.param("Ip,vm\n192.0.2.4,web-01\n", "192.0.2.4", "web-01", id="ip-only"),
])
def test_a_csv_needs_only_one_of_mac_and_ip(tmp_path, text, key, value):
    path = tmp_path / "nics.csv"
    path.write_text(text)
    inv = read_inventory(path)
    hit = inv.by_mac(key) if ":" not in key and "." not in key else inv.by_ip(key)
    assert hit["vm"] == value and len(inv) == 1


def test_error_messages(tmp_path):
    from flowkit.errors import SourceError
    from flowkit.inventory import inventory_from_az_json

    with pytest.raises(SourceError) as info:
        read_inventory(tmp_path / "missing.csv")
    assert str(info.value) == f"cannot read inventory {tmp_path / 'missing.csv'}: No such file or directory"
    with pytest.raises(FormatError) as info:
        inventory_from_az_json(42)
    assert str(info.value) == "inventory JSON must be a list of NICs (az network nic list -o json)"


def test_names_ending_in_any_character_are_kept_whole():
    from flowkit.inventory import inventory_from_az_json

    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/SQLBOX"
    inv = inventory_from_az_json([{"name": "nic-X", "macAddress": "00-0D-3A-00-00-0A",
                                   "virtualMachine": {"id": rid + "/"}}])
    assert inv.by_mac("000D3A00000A")["vm"] == "SQLBOX"


def test_subnet_of_an_inventory_address_is_its_nics_subnet_without_a_prefix():
    from flowkit.inventory import inventory_from_records

    inv = inventory_from_records([{"ip": "192.0.2.4", "subnet": "snet-web"},
                                  {"ip": "192.0.2.5", "subnet": "snet-other", "subnet_prefix": "192.0.2.0/24"}])
    assert inv.subnet_of("192.0.2.4") == "snet-web"
    assert inv.subnet_of("192.0.2.9") == "snet-other"


def test_an_inventory_cannot_be_changed():
    import dataclasses

    from flowkit.inventory import Inventory

    inv = Inventory.empty()
    with pytest.raises(dataclasses.FrozenInstanceError):
        inv.nics = None  # type: ignore[misc]


def test_private_ip_address_in_either_spelling_and_a_prefix_with_host_bits():
    from flowkit.inventory import inventory_from_az_json

    inv = inventory_from_az_json([{"name": "n", "ipConfigurations": [
        {"privateIpAddress": "192.0.2.4", "subnet": {"name": "s1", "addressPrefix": "192.0.2.4/24"}}]}])
    assert inv.by_ip("192.0.2.4")["nic"] == "n"
    assert inv.subnet_of("192.0.2.200") == "s1"
