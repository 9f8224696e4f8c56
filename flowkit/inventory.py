"""Inventory enrichment: name VMs, NICs, subnets and NSGs instead of bare addresses.

Reads what ``az network nic list -o json`` prints, or a simple CSV with the
columns ``mac,ip,nic,vm,subnet,subnet_prefix,vnet,nsg`` (any subset but ``mac``
or ``ip``), into an :class:`Inventory`; :func:`enrich` adds ``vm``, ``src_vm``,
``dst_vm``, ``src_subnet``, … columns to a flow table.

Examples
--------
>>> inv = inventory_from_records([{"mac": "00-0D-3A-00-01-01", "ip": "10.10.1.4", "vm": "web-01",
...                                "subnet": "snet-web", "subnet_prefix": "10.10.1.0/24"}])
>>> inv.by_ip("10.10.1.4")["vm"], inv.by_mac("000d3a000101")["ip"]
('web-01', '10.10.1.4')
>>> inv.subnet_of("10.10.1.99")
'snet-web'
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from flowkit.addresses import canonical_ip, is_mac, normalize_mac
from flowkit.errors import FormatError, SourceError

__all__ = ["Inventory", "INVENTORY_COLUMNS", "read_inventory", "inventory_from_records",
           "inventory_from_az_json", "enrich", "ENRICH_COLUMNS"]

#: Columns of :attr:`Inventory.nics`, one row per (NIC, IP address).
INVENTORY_COLUMNS = ("mac", "ip", "nic", "vm", "subnet", "subnet_prefix", "vnet", "nsg",
                     "resource_group")

#: Columns :func:`enrich` adds.
ENRICH_COLUMNS = ("vm", "nic", "src_vm", "dst_vm", "src_nic", "dst_nic", "src_subnet",
                  "dst_subnet")


def _last_segment(resource_id: Any, after: str | None = None) -> str | None:
    """Name at the end of an Azure resource ID (or the segment following ``after``)."""
    if not resource_id:
        return None
    parts = str(resource_id).strip("/").split("/")
    if after is None:
        return parts[-1] or None
    lowered = [p.lower() for p in parts]
    try:
        i = lowered.index(after.lower())
    except ValueError:
        return None
    return parts[i + 1] if i + 1 < len(parts) else None


@dataclass(frozen=True)
class Inventory:
    """NICs with their MAC, addresses, VM, subnet, VNet and NSG names.

    Attributes
    ----------
    nics : pandas.DataFrame
        One row per (NIC, IP address) with :data:`INVENTORY_COLUMNS` (text, missing as None).

    Examples
    --------
    >>> inv = Inventory.empty()
    >>> inv.by_mac("000D3A000101") is None
    True
    """

    nics: pd.DataFrame = field(repr=False)

    @classmethod
    def empty(cls) -> "Inventory":
        """An inventory that knows nothing."""
        return cls(pd.DataFrame({c: pd.Series([], dtype=object) for c in INVENTORY_COLUMNS}))

    def __len__(self) -> int:
        return len(self.nics)

    def __repr__(self) -> str:
        return f"Inventory({self.nics['mac'].nunique()} NIC(s), {self.nics['ip'].nunique()} address(es))"

    def _lookup(self, column: str, value: str | None) -> dict[str, Any] | None:
        if value is None:
            return None
        hit = self.nics[self.nics[column] == value]
        if hit.empty:
            return None
        row = hit.iloc[0]
        return {c: (None if pd.isna(row[c]) else row[c]) for c in INVENTORY_COLUMNS}

    def by_mac(self, mac: str) -> dict[str, Any] | None:
        """The NIC with this MAC (any common form), as a dict, or None.

        Examples
        --------
        >>> inventory_from_records([{"mac": "000D3A000101", "vm": "web-01"}]).by_mac("00:0d:3a:00:01:01")["vm"]
        'web-01'
        """
        return self._lookup("mac", normalize_mac(mac))

    def by_ip(self, ip: str) -> dict[str, Any] | None:
        """The NIC holding this address (any spelling of it), as a dict, or None.

        Examples
        --------
        >>> inventory_from_records([{"ip": "10.0.0.4", "vm": "a"}]).by_ip("10.0.0.4")["vm"]
        'a'
        >>> inventory_from_records([{"ip": "2001:DB8:0::4", "vm": "b"}]).by_ip("2001:db8::4")["vm"]
        'b'
        """
        return self._lookup("ip", canonical_ip(str(ip)))

    def _networks(self) -> list[tuple[Any, str]]:
        nets = []
        seen = set()
        for prefix, subnet in zip(self.nics["subnet_prefix"], self.nics["subnet"]):
            if not prefix or pd.isna(prefix) or (prefix, subnet) in seen:
                continue
            seen.add((prefix, subnet))
            try:
                nets.append((ipaddress.ip_network(str(prefix), strict=False), subnet))
            except ValueError:
                continue
        return nets

    def subnet_of(self, ip: str) -> str | None:
        """Subnet name of an address: its NIC's, else the subnet whose prefix holds it.

        Examples
        --------
        >>> inventory_from_records([{"ip": "10.0.0.4", "subnet": "s", "subnet_prefix": "10.0.0.0/24"}]).subnet_of("10.0.0.9")
        's'
        """
        hit = self.by_ip(ip)
        if hit and hit.get("subnet"):
            return hit["subnet"]
        try:
            addr = ipaddress.ip_address(str(ip))
        except ValueError:
            return None
        for net, subnet in self._networks():
            if addr.version == net.version and addr in net:
                return subnet
        return None

    def ip_map(self, column: str) -> dict[str, str]:
        """``{ip: value}`` for one column (first NIC wins).

        Examples
        --------
        >>> inventory_from_records([{"ip": "10.0.0.4", "vm": "a"}]).ip_map("vm")
        {'10.0.0.4': 'a'}
        """
        part = self.nics.dropna(subset=["ip", column]).drop_duplicates("ip")
        return dict(zip(part["ip"], part[column]))

    def mac_map(self, column: str) -> dict[str, str]:
        """``{mac: value}`` for one column (first row wins).

        Examples
        --------
        >>> inventory_from_records([{"mac": "000D3A000101", "vm": "a"}]).mac_map("vm")
        {'000D3A000101': 'a'}
        """
        part = self.nics.dropna(subset=["mac", column]).drop_duplicates("mac")
        return dict(zip(part["mac"], part[column]))


def inventory_from_records(records: Iterable[dict[str, Any]], *, source: str | None = None) -> Inventory:
    """Build an :class:`Inventory` from flat dicts (CSV rows).

    A ``mac`` that is no MAC address or an ``ip`` that is no IP address could never name
    a flow: it is a :class:`~flowkit.errors.FormatError` saying which row (counted from 1)
    of ``source`` holds it, not a NIC kept in silence.

    Examples
    --------
    >>> len(inventory_from_records([{"mac": "000D3A000101", "ip": "10.0.0.4"}]))
    1
    >>> inventory_from_records([{"mac": "web-01", "ip": "10.0.0.4"}], source="nics.csv")
    Traceback (most recent call last):
    ...
    flowkit.errors.FormatError: inventory nics.csv, row 1: mac 'web-01' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)
    """
    return _from_rows(records, f"inventory {source}" if source else "inventory", "row")


def _from_rows(records: Iterable[dict[str, Any]], where: str, item: str,
               numbers: Iterable[int] | None = None) -> Inventory:
    """:func:`inventory_from_records` whose errors name the ``item`` of ``where`` (its number in
    ``numbers``, else the row's from 1)."""
    from flowkit.sources.redact import redact

    rows = []
    numbers = iter(numbers) if numbers is not None else None
    for n, rec in enumerate(records, 1):
        number = next(numbers) if numbers is not None else n
        row = {c: rec.get(c) for c in INVENTORY_COLUMNS}
        for c in INVENTORY_COLUMNS:
            v = row[c]
            if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
                row[c] = None
            else:
                row[c] = str(v).strip()
        row["mac"] = normalize_mac(row["mac"]) if row["mac"] else None
        row["ip"] = canonical_ip(row["ip"]) if row["ip"] else None  # as the flow table spells it
        if row["mac"] is not None and not is_mac(row["mac"]):
            raise FormatError(f"{where}, {item} {number}: mac {redact(rec.get('mac'))!r} is not a MAC address "
                              "(12 hex digits, such as 00-0D-3A-00-01-01)")
        if row["ip"] is not None and not _is_address(row["ip"]):
            raise FormatError(f"{where}, {item} {number}: ip {redact(rec.get('ip'))!r} is not an IP address")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(INVENTORY_COLUMNS)).astype(object)
    return Inventory(frame.where(frame.notna(), None))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def inventory_from_az_json(data: Any, *, source: str | None = None) -> Inventory:
    """Build an :class:`Inventory` from parsed ``az network nic list -o json`` output.

    Examples
    --------
    >>> nic = {"name": "web-01-nic", "macAddress": "00-0D-3A-00-01-01",
    ...        "virtualMachine": {"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-01"},
    ...        "ipConfigurations": [{"privateIPAddress": "10.10.1.4",
    ...            "subnet": {"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/snet-web"}}]}
    >>> inventory_from_az_json([nic]).by_ip("10.10.1.4")["vnet"]
    'vnet-app'

    Anything else is a :class:`~flowkit.errors.FormatError` naming the NIC (counted from 1):
    an entry that is not an object, a ``macAddress`` or address that is not one, or NICs of
    which none has a MAC or an address (JSON of something else).
    """
    where = f"inventory {source}" if source else "inventory JSON"
    if isinstance(data, dict):
        data = data.get("value", [data])
    if not isinstance(data, list):
        raise FormatError(f"{where} must be a list of NICs (az network nic list -o json)")
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, nic in enumerate(data, 1):
        if not isinstance(nic, dict):
            raise FormatError(f"{where}, NIC {number}: {type(nic).__name__} where a NIC object was expected "
                              "(az network nic list -o json)")
        try:  # a field of another shape (a string where an object was expected)
            props = nic.get("properties") if isinstance(nic.get("properties"), dict) else {}
            get = lambda key: nic.get(key, props.get(key))  # noqa: E731 - ARM JSON nests under properties
            vm = _last_segment((get("virtualMachine") or {}).get("id"))
            nsg = _last_segment((get("networkSecurityGroup") or {}).get("id"))
            configs = get("ipConfigurations") or []
            if not configs:
                configs = [{}]
            for conf in configs:
                cprops = conf.get("properties") if isinstance(conf.get("properties"), dict) else {}
                cget = lambda key: conf.get(key, cprops.get(key))  # noqa: E731
                subnet = cget("subnet") or {}
                prefix = subnet.get("addressPrefix")
                if not prefix and subnet.get("addressPrefixes"):
                    prefix = subnet["addressPrefixes"][0]
                rows.append({
                    "mac": get("macAddress"),
                    "ip": cget("privateIPAddress") or cget("privateIpAddress"),
                    "nic": nic.get("name") or _last_segment(nic.get("id")),
                    "vm": vm,
                    "subnet": _last_segment(subnet.get("id"), "subnets") or subnet.get("name"),
                    "subnet_prefix": prefix,
                    "vnet": _last_segment(subnet.get("id"), "virtualNetworks"),
                    "nsg": nsg,
                    "resource_group": nic.get("resourceGroup") or _last_segment(nic.get("id"), "resourceGroups"),
                })
                numbers.append(number)
        except (AttributeError, TypeError, IndexError) as exc:
            raise FormatError(f"{where}, NIC {number}: not shaped as az network nic list -o json prints a NIC "
                              f"({exc})") from None
    inventory = _from_rows(rows, where, "NIC", numbers)
    if rows and inventory.nics[["mac", "ip"]].isna().all(axis=None):
        raise FormatError(f"{where} names no NIC: none of its {len(data)} object(s) has a macAddress or "
                          "privateIPAddress (az network nic list -o json)")
    return inventory


def read_inventory(path: str | Path) -> Inventory:
    """Read an inventory: ``az network nic list -o json`` output or a CSV.

    Parameters
    ----------
    path : str or Path
        A ``.json`` file (a list of NICs as ``az`` prints it) or a ``.csv`` with
        columns among ``mac,ip,nic,vm,subnet,subnet_prefix,vnet,nsg``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "nics.csv")
    >>> _ = open(p, "w").write("mac,ip,vm\\n00-0D-3A-00-01-01,10.10.1.4,web-01\\n")
    >>> read_inventory(p).by_mac("000D3A000101")["vm"]
    'web-01'
    """
    from flowkit.sources.redact import neutralize_exception, redact

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        utf16 = exc.object[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise FormatError(f"inventory {redact(p)} is not UTF-8 text (byte {exc.start}): " + (
            "it is UTF-16 (as Windows PowerShell 5 writes a redirected file): save it as UTF-8" if utf16
            else "save it as UTF-8")) from None
    except OSError as exc:  # a SAS URL given for a path: its signature stays out of both errors
        neutralize_exception(exc)  # kept as the cause: its text redacted, its frames (the path) dropped
        raise SourceError(f"cannot read inventory {redact(p)}: {redact(exc.strerror or exc)}") from exc
    stripped = text.lstrip()
    if p.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"inventory {redact(p)} is not valid JSON: {exc}") from exc
        return inventory_from_az_json(data, source=redact(p))
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not ({"mac", "ip"} & {f.strip().lower() for f in reader.fieldnames}):
        raise FormatError(f"inventory CSV {redact(p)} needs a header with a mac or ip column")
    return inventory_from_records(
        ({k.strip().lower(): v for k, v in row.items() if k is not None} for row in reader), source=redact(p))


def _map_categorical(series: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Map a categorical column through ``mapping`` on its categories (vectorised)."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    cats = series.cat.categories.astype(str)
    mapped = np.array([mapping.get(c) for c in cats] + [None], dtype=object)
    codes = series.cat.codes.to_numpy()
    values = mapped[np.where(codes >= 0, codes, len(cats))]
    return pd.Series(pd.Categorical(values), index=series.index)


def enrich(flows: pd.DataFrame, inventory: Inventory | None) -> pd.DataFrame:
    """Return ``flows`` with VM, NIC and subnet names added where the inventory knows them.

    Adds ``vm`` and ``nic`` (of the observing NIC, by ``mac``), ``src_vm``,
    ``dst_vm``, ``src_nic``, ``dst_nic`` (by address) and ``src_subnet``,
    ``dst_subnet`` (by address, then by subnet prefix). Categorical, missing where
    unknown. ``flows`` itself is not changed.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> inv = inventory_from_records([{"mac": "000D3A000101", "ip": "10.10.1.4", "vm": "web-01",
    ...                                "subnet": "snet-web", "subnet_prefix": "10.10.1.0/24"}])
    >>> f = coerce(pd.DataFrame({"src_ip": ["10.10.1.4"], "dst_ip": ["198.51.100.10"], "mac": ["000D3A000101"]}))
    >>> out = enrich(f, inv)
    >>> out["vm"].iloc[0], out["src_vm"].iloc[0], out["src_subnet"].iloc[0], bool(out["dst_vm"].isna().iloc[0])
    ('web-01', 'web-01', 'snet-web', True)
    """
    out = flows.copy(deep=False)
    if inventory is None or len(inventory) == 0:
        for c in ENRICH_COLUMNS:
            out[c] = pd.Series(pd.Categorical([None] * len(out)), index=out.index)
        return out
    out["vm"] = _map_categorical(flows["mac"], inventory.mac_map("vm"))
    out["nic"] = _map_categorical(flows["mac"], inventory.mac_map("nic"))
    for end in ("src", "dst"):
        col = flows[f"{end}_ip"]
        out[f"{end}_vm"] = _map_categorical(col, inventory.ip_map("vm"))
        out[f"{end}_nic"] = _map_categorical(col, inventory.ip_map("nic"))
        cats = col.cat.categories.astype(str) if isinstance(col.dtype, pd.CategoricalDtype) \
            else pd.Index(col.dropna().astype(str).unique())
        subnets = inventory.ip_map("subnet")
        nets = inventory._networks()
        if nets:
            for c in cats:
                if c in subnets:
                    continue
                try:
                    addr = ipaddress.ip_address(c)
                except ValueError:
                    continue
                for net, name in nets:
                    if addr.version == net.version and addr in net:
                        subnets[c] = name
                        break
        out[f"{end}_subnet"] = _map_categorical(col, subnets)
    return out
