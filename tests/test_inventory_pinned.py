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


@pytest.mark.parametrize("text, message", [
    pytest.param("mac,ip,vm\n00-0D-3A-00-01-01,192.0.2.4,web-01\nweb-02,192.0.2.5,web-02\n",
                 "row 2: mac 'web-02' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="csv-mac-not-a-mac"),
    pytest.param("mac,ip,vm\n00-0D-3A-00-01-01,192.0.2.400,web-01\n",
                 "row 1: ip '192.0.2.400' is not an IP address", id="csv-ip-not-an-address"),
    pytest.param(json.dumps([{"macAddress": "00-0D-3A-00-01-01"}, 7]),
                 "NIC 2: int where a NIC object was expected (az network nic list -o json)", id="json-not-an-object"),
    pytest.param(json.dumps([{"macAddress": 5}]),
                 "NIC 1: mac '5' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="json-mac-a-number"),
    pytest.param(json.dumps([{"macAddress": "00-0D-3A-00-01-01", "ipConfigurations": ["192.0.2.4"]}]),
                 "NIC 1: not shaped as az network nic list -o json prints a NIC ('str' object has no attribute "
                 "'get')", id="json-config-a-string"),
    pytest.param(json.dumps([{"macAddress": "00-0D-3A-00-01-01", "virtualMachine": "web-01"}]),
                 "NIC 1: not shaped as az network nic list -o json prints a NIC ('str' object has no attribute "
                 "'get')", id="json-vm-a-string"),
    pytest.param(json.dumps({"subscription": "x", "nics": 3}),
                 " names no NIC: none of its 1 object(s) has a macAddress or privateIPAddress "
                 "(az network nic list -o json)", id="json-of-something-else"),
])
def test_an_inventory_entry_that_names_no_nic_is_an_error_naming_it(tmp_path, text, message):
    """Such entries were kept (a NIC 'WEB02' no flow can match), skipped, or raised AttributeError."""
    path = tmp_path / "nics.txt"
    path.write_text(text)
    with pytest.raises(FormatError) as info:
        read_inventory(path)
    separator = "" if message.startswith(" ") else ", "
    assert str(info.value) == f"inventory {path}{separator}{message}"


@pytest.mark.parametrize("encoding, reason", [
    pytest.param("utf-16", "it is UTF-16 (as Windows PowerShell 5 writes a redirected file): save it as UTF-8",
                 id="utf-16"),
    pytest.param("latin-1", "save it as UTF-8", id="latin-1"),
])
def test_an_inventory_that_is_not_utf8_is_a_format_error(tmp_path, encoding, reason):
    """``az network nic list -o json > nics.json`` in Windows PowerShell 5 writes UTF-16: a UnicodeDecodeError
    (a traceback in the CLI) before."""
    path = tmp_path / "nics.json"
    path.write_bytes('[{"name": "nic-é", "macAddress": "00-0D-3A-00-01-01"}]'.encode(encoding))
    with pytest.raises(FormatError) as info:
        read_inventory(path)
    byte = 0 if encoding == "utf-16" else 15  # the é of "nic-é"
    assert str(info.value) == f"inventory {path} is not UTF-8 text (byte {byte}): {reason}"


def test_an_inventory_without_macs_but_with_addresses_is_read(tmp_path):
    path = tmp_path / "nics.json"
    path.write_text(json.dumps([{"name": "n", "ipConfigurations": [{"privateIPAddress": "192.0.2.4"}]}, {"name": "m"}]))
    inv = read_inventory(path)
    assert (len(inv), inv.by_ip("192.0.2.4")["nic"]) == (2, "n")
