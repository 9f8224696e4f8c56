"""The naive baseline: what a first script to read Azure flow logs looks like.

``json.load`` each blob, walk records -> rules/ACLs -> groups -> tuples in Python
loops, ``str.split(",")`` each tuple, build one dict per row, ``pd.DataFrame`` from
the list of dicts, then type the columns like flowkit's output (categoricals,
``uint16`` ports, nullable ``UInt`` counters, ``datetime64[ms, UTC]``). It is
written plainly but not badly: record-level values are computed once per record,
and the typing is done column by column with pandas (no per-row conversion).

Handles VNet v4 and NSG v1/v2 records; assumes well-formed JSON (no BOM, no
growing-blob fragments), which is what the benchmark corpora are.

Examples
--------
>>> frame = read("data-samples/connectivity")  # doctest: +SKIP
>>> str(frame["src_port"].dtype)  # doctest: +SKIP
'uint16'
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

import pandas as pd

from flowkit.schema import COLUMNS, DECISIONS, DIRECTIONS, ENCRYPTION_DROPS, ENCRYPTION_STATES, LOG_TYPES, STATES

from readers._common import OPEN, UINT_TYPES, list_blobs

__all__ = ["read", "rows_of_record"]

_DIRECTION = {"I": "inbound", "O": "outbound"}
_PROTOCOL = {"T": 6, "U": 17}
_DECISION = {"A": "allow", "D": "deny"}
_DROPS = frozenset(ENCRYPTION_DROPS)  # VNet: these encryption states drop the packet (a deny)


def _mac(value: str | None) -> str | None:
    if not value:
        return None
    return value.replace("-", "").replace(":", "").replace(".", "").upper() or None


def _counter(text: str) -> int | None:
    return int(text) if text != "" else None


def rows_of_record(rec: dict[str, Any], blob: str) -> list[dict[str, Any]]:
    """One dict per tuple of one record (VNet v4 or NSG v1/v2)."""
    rows: list[dict[str, Any]] = []
    if "flowRecords" in rec:
        base = {"record_time": rec.get("time"), "log_type": "vnet", "version": rec.get("flowLogVersion", 4),
                "mac": _mac(rec.get("macAddress")), "resource_id": rec.get("flowLogResourceID"),
                "target_resource_id": rec.get("targetResourceID"), "blob": blob}
        for acl in rec["flowRecords"].get("flows", []):
            for group in acl.get("flowGroups", []):
                for text in group.get("flowTuples", []):
                    f = text.split(",")
                    ts = int(f[0])
                    state, enc = f[7], f[8]
                    row = dict(base)
                    row.update(
                        flow_time=ts * 1000 if ts < 10**11 else ts, src_ip=f[1], dst_ip=f[2],
                        src_port=int(f[3]), dst_port=int(f[4]), protocol=int(f[5]),
                        direction=_DIRECTION[f[6]],
                        decision="deny" if state == "D" or enc in _DROPS else "allow",
                        state=state, encryption=enc,
                        packets_sent=_counter(f[9]), bytes_sent=_counter(f[10]),
                        packets_received=_counter(f[11]), bytes_received=_counter(f[12]),
                        rule=group.get("rule"), acl_id=acl.get("aclID"))
                    rows.append(row)
        return rows
    props = rec.get("properties") or {}
    version = props.get("Version")
    base = {"record_time": rec.get("time"), "log_type": "nsg", "version": version,
            "resource_id": rec.get("resourceId") or rec.get("resourceid"), "target_resource_id": None,
            "acl_id": None, "blob": blob}
    for rule in props.get("flows", []):
        for group in rule.get("flows", []):
            mac = _mac(group.get("mac") or rec.get("macAddress"))
            for text in group.get("flowTuples", []):
                f = text.split(",")
                ts = int(f[0])
                row = dict(base)
                row.update(
                    flow_time=ts * 1000 if ts < 10**11 else ts, src_ip=f[1], dst_ip=f[2],
                    src_port=int(f[3]), dst_port=int(f[4]), protocol=_PROTOCOL[f[5]],
                    direction=_DIRECTION[f[6]], decision=_DECISION[f[7]],
                    rule=rule.get("rule"), mac=mac, encryption=None)
                if len(f) >= 13:
                    row.update(state=f[8], packets_sent=_counter(f[9]), bytes_sent=_counter(f[10]),
                               packets_received=_counter(f[11]), bytes_received=_counter(f[12]))
                else:
                    row.update(state=None, packets_sent=None, bytes_sent=None,
                               packets_received=None, bytes_received=None)
                if version is None:
                    row["version"] = 2 if len(f) >= 13 else 1
                rows.append(row)
    return rows


def read(source: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read every blob under ``source`` into the canonical flow table, the naive way.

    Parameters
    ----------
    source : str, PathLike or list of them
        Files or folders (folders give their ``PT1H.json`` blobs, as flowkit does).

    Returns
    -------
    pandas.DataFrame
        One row per tuple, canonical columns and dtypes.
    """
    rows: list[dict[str, Any]] = []
    for path in list_blobs(source):
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        records = doc["records"] if "records" in doc else [doc]
        for rec in records:
            rows.extend(rows_of_record(rec, path))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    del rows
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Type the columns like flowkit's output, with plain pandas calls."""
    frame["flow_time"] = pd.to_datetime(frame["flow_time"].astype("int64"), unit="ms", utc=True).dt.as_unit("ms")
    frame["record_time"] = pd.to_datetime(frame["record_time"], format="ISO8601", utc=True).dt.as_unit("ns")
    addresses = pd.CategoricalDtype(pd.unique(pd.concat([frame["src_ip"], frame["dst_ip"]])))
    frame["src_ip"] = frame["src_ip"].astype(addresses)
    frame["dst_ip"] = frame["dst_ip"].astype(addresses)
    for name in ("src_port", "dst_port"):
        frame[name] = frame[name].astype("uint16")
    frame["protocol"] = frame["protocol"].astype("uint8")
    frame["version"] = frame["version"].astype("uint8")
    for name, canonical in (("direction", DIRECTIONS), ("decision", DECISIONS), ("state", STATES),
                            ("encryption", ENCRYPTION_STATES), ("log_type", LOG_TYPES)):
        extra = sorted(set(frame[name].dropna().unique()) - set(canonical))
        frame[name] = frame[name].astype(pd.CategoricalDtype(list(canonical) + extra))
    for name, dtype in UINT_TYPES.items():
        frame[name] = frame[name].astype(dtype)
    for name in OPEN:
        frame[name] = frame[name].astype("category")
    return frame
