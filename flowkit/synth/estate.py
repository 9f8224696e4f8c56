"""The simulated Azure estate: subscription, NICs, NSGs, flow logs, and its inventory files.

The inventory is written as ``az network nic list -o json`` prints it (keys sorted,
two-space indent, MACs dashed) and as a flat CSV.

Examples
--------
>>> nic = Nic("web-01", "000D3A000101", "10.10.1.4", "vnet-app", "snet-web", "10.10.1.0/24")
>>> nic.dashed_mac
'00-0D-3A-00-01-01'
>>> nsg_id("nsg-snet-data")[-36:]
'/networkSecurityGroups/nsg-snet-data'
"""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from dataclasses import dataclass
from typing import Sequence

__all__ = [
    "SUBSCRIPTION",
    "RESOURCE_GROUP",
    "NETWORK_WATCHER_RG",
    "NETWORK_WATCHER",
    "LOCATION",
    "Nic",
    "VnetFlowLog",
    "NsgFlowLog",
    "arm_id",
    "nsg_id",
    "vnet_id",
    "seeded_guid",
    "nics_json",
    "nics_csv",
]

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
RESOURCE_GROUP = "RG-FLOWKIT-DEMO"
NETWORK_WATCHER_RG = "NetworkWatcherRG"
NETWORK_WATCHER = "NetworkWatcher_eastus"
LOCATION = "eastus"


def arm_id(kind: str, name: str, resource_group: str = RESOURCE_GROUP) -> str:
    """Return an ARM resource ID in the case ARM prints it.

    Examples
    --------
    >>> arm_id("virtualNetworks", "vnet-app")
    '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-FLOWKIT-DEMO/providers/Microsoft.Network/virtualNetworks/vnet-app'
    """
    return (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.Network/{kind}/{name}")


def nsg_id(name: str) -> str:
    """Return the ARM ID of a network security group.

    Examples
    --------
    >>> nsg_id("nsg-snet-web").endswith("networkSecurityGroups/nsg-snet-web")
    True
    """
    return arm_id("networkSecurityGroups", name)


def vnet_id(name: str) -> str:
    """Return the ARM ID of a virtual network.

    Examples
    --------
    >>> vnet_id("vnet-app").endswith("/virtualNetworks/vnet-app")
    True
    """
    return arm_id("virtualNetworks", name)


def seeded_guid(rng: random.Random) -> str:
    """Return a GUID drawn from ``rng`` (deterministic, unlike :func:`uuid.uuid4`).

    Examples
    --------
    >>> seeded_guid(random.Random(1)) == seeded_guid(random.Random(1))
    True
    """
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Nic:
    """One VM network interface.

    ``nsgs`` lists the NSGs that judge its traffic: the subnet's first, then the
    NIC's own (only a NIC-level NSG appears in ``az network nic list``).
    """

    vm: str
    mac: str
    ip: str
    vnet: str
    subnet: str
    subnet_prefix: str
    subnet_nsg: str | None = None
    nic_nsg: str | None = None

    @property
    def name(self) -> str:
        """NIC resource name."""
        return f"{self.vm}-nic"

    @property
    def dashed_mac(self) -> str:
        """MAC as ``az`` prints it: ``00-0D-3A-…``."""
        return "-".join(self.mac[i:i + 2] for i in range(0, 12, 2))

    @property
    def nsgs(self) -> tuple[str, ...]:
        """Names of the NSGs that apply, subnet first."""
        return tuple(n for n in (self.subnet_nsg, self.nic_nsg) if n)


@dataclass(frozen=True)
class VnetFlowLog:
    """A VNet flow log: which NICs it covers and which hours it wrote."""

    name: str
    target_resource_id: str
    guid: str
    macs: frozenset[str]
    hours: tuple[int, ...]
    network_watcher: str = NETWORK_WATCHER
    resource_group: str = NETWORK_WATCHER_RG

    @property
    def resource_id(self) -> str:
        """Flow log resource ID, upper-case as records carry it."""
        return (f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{self.resource_group}/PROVIDERS/"
                f"MICROSOFT.NETWORK/NETWORKWATCHERS/{self.network_watcher}/FLOWLOGS/{self.name}").upper()


@dataclass(frozen=True)
class NsgFlowLog:
    """An NSG flow log (one per NSG): which NICs it covers and which hours it wrote."""

    nsg: str
    system_id: str
    macs: frozenset[str]
    hours: tuple[int, ...]
    version: int = 2
    resource_group: str = RESOURCE_GROUP

    @property
    def name(self) -> str:
        """The NSG name (what a sighting refers to)."""
        return self.nsg

    @property
    def resource_id(self) -> str:
        """NSG resource ID, upper-case as records and blob paths carry it."""
        return (f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{self.resource_group}/PROVIDERS/"
                f"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{self.nsg}").upper()


def _nic_entry(nic: Nic) -> dict[str, object]:
    nic_id = arm_id("networkInterfaces", nic.name)
    subnet_id = f"{vnet_id(nic.vnet)}/subnets/{nic.subnet}"
    entry: dict[str, object] = {
        "auxiliaryMode": "None",
        "auxiliarySku": "None",
        "disableTcpStateTracking": False,
        "dnsSettings": {"appliedDnsServers": [], "dnsServers": [],
                        "internalDomainNameSuffix": "flowkitdemo.bx.internal.cloudapp.net"},
        "enableAcceleratedNetworking": True,
        "enableIPForwarding": False,
        "etag": 'W/"00000000-0000-0000-0000-000000000000"',
        "hostedWorkloads": [],
        "id": nic_id,
        "ipConfigurations": [{
            "etag": 'W/"00000000-0000-0000-0000-000000000000"',
            "id": f"{nic_id}/ipConfigurations/ipconfig1",
            "name": "ipconfig1",
            "primary": True,
            "privateIPAddress": nic.ip,
            "privateIPAddressVersion": "IPv4",
            "privateIPAllocationMethod": "Dynamic",
            "provisioningState": "Succeeded",
            "resourceGroup": RESOURCE_GROUP,
            "subnet": {"id": subnet_id, "resourceGroup": RESOURCE_GROUP},
            "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
        }],
        "location": LOCATION,
        "macAddress": nic.dashed_mac,
        "name": nic.name,
        "nicType": "Standard",
        "primary": True,
        "provisioningState": "Succeeded",
        "resourceGroup": RESOURCE_GROUP,
        "tapConfigurations": [],
        "type": "Microsoft.Network/networkInterfaces",
        "virtualMachine": {"id": (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
                                  f"/providers/Microsoft.Compute/virtualMachines/{nic.vm}"),
                           "resourceGroup": RESOURCE_GROUP},
    }
    if nic.nic_nsg:
        entry["networkSecurityGroup"] = {"id": nsg_id(nic.nic_nsg), "resourceGroup": RESOURCE_GROUP}
    return entry


def nics_json(nics: Sequence[Nic]) -> str:
    """Return the inventory as ``az network nic list -o json`` prints it.

    Examples
    --------
    >>> text = nics_json([Nic("web-01", "000D3A000101", "10.10.1.4", "vnet-app", "snet-web", "10.10.1.0/24")])
    >>> json.loads(text)[0]["macAddress"]
    '00-0D-3A-00-01-01'
    """
    return json.dumps([_nic_entry(n) for n in nics], indent=2, sort_keys=True) + "\n"


def nics_csv(nics: Sequence[Nic]) -> str:
    """Return the inventory as CSV: ``mac,ip,nic,vm,subnet,subnet_prefix,vnet,nsg``.

    ``mac`` is 12 upper-case hex digits (as in flow logs); ``nsg`` lists every NSG
    that judges the NIC's traffic, subnet NSG first, separated by ``;``.

    Examples
    --------
    >>> print(nics_csv([Nic("web-01", "000D3A000101", "10.10.1.4", "vnet-app", "snet-web",
    ...                     "10.10.1.0/24", "nsg-snet-web")]), end="")
    mac,ip,nic,vm,subnet,subnet_prefix,vnet,nsg
    000D3A000101,10.10.1.4,web-01-nic,web-01,snet-web,10.10.1.0/24,vnet-app,nsg-snet-web
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["mac", "ip", "nic", "vm", "subnet", "subnet_prefix", "vnet", "nsg"])
    for n in nics:
        writer.writerow([n.mac, n.ip, n.name, n.vm, n.subnet, n.subnet_prefix, n.vnet, ";".join(n.nsgs)])
    return out.getvalue()
