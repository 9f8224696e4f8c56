"""Benchmark corpora: a busy estate's flow logs, streamed to disk blob by blob.

Each hourly blob has 60 records (one a minute); each record has 1-3 ACLs (VNet)
or 1-4 rules (NSG) whose tuple counts are heavy-tailed between 1 and 5000 (median
3, mean about 12). Peers are a realistic mix: VNet-private ``10.x`` addresses,
many public RFC 5737 documentation addresses, and some IPv6 (``2001:db8::/32``).
VNet corpora use every state (B/C/E/D), every encryption value, AVNM rule names
and ``unspecified`` ACLs for encryption drops; NSG corpora version 2 use B/C/E
with empty B counters and zero UDP counters, version 1 the 8-field tuples. A
``both`` corpus holds, for every NIC and hour, a VNet blob and the NSG v2 blob of
the same flows (:func:`flowkit.synth.twin.nsg_twin`): two logs of a migration.
Tuples are built with numpy draws and one f-string each; a blob is written as
soon as it is built, so memory stays flat however large the corpus (about 150 MB
resident for 1 GB).

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     info = write_corpus(tmp, target_bytes=300_000)
>>> info.bytes >= 300_000, info.records == 60 * info.files
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from flowkit.errors import ArgumentError
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.synth.emit import keep_key_case
from flowkit.synth.estate import NETWORK_WATCHER, NETWORK_WATCHER_RG, RESOURCE_GROUP, SUBSCRIPTION, vnet_id
from flowkit.synth.twin import nsg_twin_counted

__all__ = ["CorpusInfo", "write_corpus", "MAX_TUPLES_PER_RULE"]

MAX_TUPLES_PER_RULE = 5000
_START = datetime(2024, 5, 1, tzinfo=timezone.utc)
_SERVICES = np.array([443, 443, 443, 80, 8080, 1433, 5432, 6379, 22, 3389, 445, 9092, 53, 123, 514])
_UDP_PORTS = {53, 123, 514}
_ENCRYPTION = np.array(["NX", "X", "NX_LOCAL_DST", "NX_HW_NOT_SUPPORTED", "NX_SW_NOT_READY",
                        "NX_NOT_SUPPORTED", "NX_FALLBACK"], dtype=object)
_ENCRYPTION_P = [0.70, 0.20, 0.03, 0.02, 0.02, 0.01, 0.02]
_NSG_ALLOW = ["DefaultRule_AllowVnetOutBound", "DefaultRule_AllowVnetInBound",
              "DefaultRule_AllowInternetOutBound", "UserRule_AllowHttpsInbound", "UserRule_AllowAppToSql",
              "UserRule_AllowWebToApp"]
_NSG_DENY = ["DefaultRule_DenyAllInBound", "UserRule_DenyRdpFromInternet"]
#: VNet flow logs also show AVNM security admin rules (here a name with a GUID suffix).
_RULES = {"nsg": (_NSG_ALLOW, _NSG_DENY),
          "vnet": (_NSG_ALLOW + ["Internet_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"],
                   _NSG_DENY + ["DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"])}


@dataclass(frozen=True)
class CorpusInfo:
    """What :func:`write_corpus` wrote: blobs, records, tuples and bytes on disk."""

    files: int
    records: int
    tuples: int
    bytes: int


def _guid(rng: np.random.Generator) -> str:
    h = "".join(f"{int(x):08x}" for x in rng.integers(0, 2**32, 4))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _peers(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Peer address pool (object array) and whether each one is IPv6."""
    public = [f"{net}.{h}" for net in ("192.0.2", "198.51.100", "203.0.113") for h in range(1, 255)]
    private = [f"10.{a}.{b}.{c}" for a, b, c in rng.integers([0, 0, 4], [8, 16, 250], size=(600, 3))]
    v6 = [f"2001:db8:{a:x}::{b:x}" for a, b in rng.integers(1, 0xFFFF, size=(150, 2))]
    pool = np.array(public + private + v6, dtype=object)
    return pool, np.array([":" in p for p in pool])


class _Estate:
    """MACs with their addresses, and the ACL / NSG names they are logged under."""

    def __init__(self, n_macs: int, rng: np.random.Generator) -> None:
        self.macs = [f"000D3A{0x100000 + i:06X}" for i in range(n_macs)]
        self.ipv4 = [f"10.{100 + i // 250}.{(i // 50) % 5}.{4 + i % 50}" for i in range(n_macs)]
        self.ipv6 = [f"2001:db8:100::{i + 4:x}" for i in range(n_macs)]
        self.nsgs = [f"nsg-corpus-{i // 10:03d}" for i in range(n_macs)]
        self.acls = [_guid(rng) for _ in range(8)]
        self.acls.append(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
                         "/providers/Microsoft.Network/networkSecurityGroups/nsg-corpus-000")
        self.peers, self.peer_v6 = _peers(rng)

    def nsg_id(self, mac_i: int) -> str:
        """Resource ID of the NSG of NIC ``mac_i``, upper-case as Azure writes it in NSG records."""
        return (f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{RESOURCE_GROUP}/PROVIDERS/"
                f"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{self.nsgs[mac_i]}").upper()


def _counters(rng: np.random.Generator, n: int) -> tuple[list[int], list[int], list[int], list[int]]:
    p1 = np.maximum(1, rng.lognormal(3.0, 1.6, n)).astype(np.int64)
    p2 = np.maximum(0, p1 * rng.uniform(0.0, 1.6, n)).astype(np.int64)
    b1 = p1 * rng.integers(60, 1400, n)
    b2 = p2 * rng.integers(60, 1400, n)
    return p1.tolist(), b1.tolist(), p2.tolist(), b2.tolist()


def _tuples(rng: np.random.Generator, est: _Estate, mac_i: int, minute_ms: np.ndarray,
            log_type: str, version: int, denied: np.ndarray, dropped: np.ndarray) -> list[str]:
    """All tuples of one blob, in record/group order.

    ``minute_ms``, ``denied`` (by a rule) and ``dropped`` (for lack of encryption) are per tuple.
    """
    n = len(minute_ms)
    peer_i = rng.integers(0, len(est.peers), n)
    peers = est.peers[peer_i]
    v6 = est.peer_v6[peer_i]
    local = np.where(v6, est.ipv6[mac_i], est.ipv4[mac_i])
    inbound = rng.random(n) < 0.5
    src = np.where(inbound, peers, local).tolist()
    dst = np.where(inbound, local, peers).tolist()
    direction = np.where(inbound, "I", "O").tolist()
    dport_a = _SERVICES[rng.integers(0, len(_SERVICES), n)]
    dport = dport_a.tolist()
    sport = rng.integers(1024, 65536, n).tolist()
    udp = np.isin(dport_a, list(_UDP_PORTS))
    ts_ms = minute_ms + rng.integers(0, 52_000, n)
    state = np.array(["B", "C", "E"], dtype=object)[rng.choice(3, n, p=[0.3, 0.4, 0.3])]
    p1, b1, p2, b2 = _counters(rng, n)
    if log_type == "vnet":
        proto = np.where(udp, 17, 6).tolist()
        state = np.where(denied | dropped, "D", state)
        enc = _ENCRYPTION[rng.choice(len(_ENCRYPTION), n, p=_ENCRYPTION_P)]
        enc = np.where(dropped, "NX_NOT_ACCEPTED", np.where(denied, "NX", enc)).tolist()
        zero = (state == "B") | (state == "D")
        state = state.tolist()
        return [f"{t},{s},{d},{sp},{dp},{pr},{dr},{st},{e},0,0,0,0" if z else
                f"{t},{s},{d},{sp},{dp},{pr},{dr},{st},{e},{a},{b},{c},{f}"
                for t, s, d, sp, dp, pr, dr, st, e, a, b, c, f, z in
                zip(ts_ms.tolist(), src, dst, sport, dport, proto, direction, state, enc, p1, b1, p2, b2,
                    zero.tolist(), strict=True)]
    ts = (ts_ms // 1000).tolist()
    proto = np.where(udp, "U", "T").tolist()
    decision = np.where(denied, "D", "A").tolist()
    if version == 1:
        return [f"{t},{s},{d},{sp},{dp},{pr},{dr},{de}"
                for t, s, d, sp, dp, pr, dr, de in
                zip(ts, src, dst, sport, dport, proto, direction, decision, strict=True)]
    state = np.where(denied, "B", state)
    empty = (state == "B").tolist()
    zero = udp.tolist()  # NSG v2 counters count TCP only
    return [f"{t},{s},{d},{sp},{dp},{pr},{dr},{de},B,,,," if em else
            f"{t},{s},{d},{sp},{dp},{pr},{dr},{de},{st},0,0,0,0" if z else
            f"{t},{s},{d},{sp},{dp},{pr},{dr},{de},{st},{a},{b},{c},{f}"
            for t, s, d, sp, dp, pr, dr, de, st, a, b, c, f, em, z in
            zip(ts, src, dst, sport, dport, proto, direction, decision, state.tolist(), p1, b1, p2, b2,
                empty, zero, strict=True)]


def _group_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.minimum(MAX_TUPLES_PER_RULE, np.floor(rng.pareto(1.3, n) * 4) + 1).astype(np.int64)


def _blob(rng: np.random.Generator, est: _Estate, mac_i: int, hour: datetime, log_type: str,
          version: int, guid: str, target: str, fl_id: str) -> tuple[bytes, int]:
    """Return (blob bytes, tuples) for one MAC and hour."""
    mac = est.macs[mac_i]
    hour_ms = int(hour.timestamp() * 1000)
    # Layout of the hour: records -> ACLs (VNet only) -> groups (one rule each) -> tuples.
    allow_rules, deny_rules = _RULES[log_type]
    per_record = rng.integers(1, 4, 60) if log_type == "vnet" else rng.integers(1, 5, 60)
    n_acls = int(per_record.sum())
    acl_index = rng.integers(0, len(est.acls), n_acls)
    # aclID "unspecified": flows dropped because they were not encrypted, one group each.
    unspecified = (rng.random(n_acls) < 0.03) if log_type == "vnet" else np.zeros(n_acls, bool)
    rules_per_acl = (np.where(unspecified, 1, rng.integers(1, 4, n_acls)) if log_type == "vnet"
                     else np.ones(n_acls, np.int64))
    n_groups = int(rules_per_acl.sum())
    dropped = np.repeat(unspecified, rules_per_acl)
    sizes = _group_sizes(rng, n_groups)
    deny_group = (rng.random(n_groups) < 0.12) & ~dropped
    group_rule = np.where(deny_group, rng.integers(0, len(deny_rules), n_groups),
                          rng.integers(0, len(allow_rules), n_groups))
    groups_per_record = np.add.reduceat(rules_per_acl, np.r_[0, np.cumsum(per_record)[:-1]])
    group_minute = np.repeat(np.arange(60), groups_per_record)
    minute_ms = np.repeat(hour_ms + group_minute * 60_000, sizes)
    texts = _tuples(rng, est, mac_i, minute_ms, log_type, version, np.repeat(deny_group, sizes),
                    np.repeat(dropped, sizes))
    seconds = rng.integers(52, 60, 60).tolist()
    ticks = rng.integers(0, 10_000_000, 60).tolist()
    stamp = hour.strftime("%Y-%m-%dT%H:")
    records: list[str] = []
    g = t = a = 0
    for minute in range(60):
        time = f"{stamp}{minute:02d}:{seconds[minute]:02d}.{ticks[minute]:07d}Z"
        parts = []
        if log_type == "vnet":
            for _ in range(int(per_record[minute])):
                acl = "unspecified" if unspecified[a] else est.acls[int(acl_index[a])]
                fgs = []
                for _ in range(int(rules_per_acl[a])):
                    rule = "unspecified" if unspecified[a] else (
                        deny_rules if deny_group[g] else allow_rules)[int(group_rule[g])]
                    fgs.append('{"rule":"%s","flowTuples":["%s"]}' % (rule, '","'.join(texts[t:t + sizes[g]])))
                    t += int(sizes[g])
                    g += 1
                a += 1
                parts.append('{"aclID":"%s","flowGroups":[%s]}' % (acl, ",".join(fgs)))
            records.append(
                '{"time":"%s","flowLogVersion":4,"flowLogGUID":"%s","macAddress":"%s",'
                '"category":"FlowLogFlowEvent","flowLogResourceID":"%s","targetResourceID":"%s",'
                '"operationName":"FlowLogFlowEvent","flowRecords":{"flows":[%s]}}'
                % (time, guid, mac, fl_id, target, ",".join(parts)))
        else:
            for _ in range(int(per_record[minute])):
                rule = (deny_rules if deny_group[g] else allow_rules)[int(group_rule[g])]
                parts.append('{"rule":"%s","flows":[{"mac":"%s","flowTuples":["%s"]}]}'
                             % (rule, mac, '","'.join(texts[t:t + sizes[g]])))
                t += int(sizes[g])
                g += 1
            nsg_id = est.nsg_id(mac_i)
            records.append(
                '{"time":"%s","systemId":"%s","macAddress":"%s","category":"NetworkSecurityGroupFlowEvent",'
                '"resourceId":"%s","operationName":"NetworkSecurityGroupFlowEvents",'
                '"properties":{"Version":%d,"flows":[%s]}}' % (time, guid, mac, nsg_id, version, ",".join(parts)))
    body = '{"records":[' + ",".join(records) + "]}"
    return body.encode("ascii"), len(texts)


def write_corpus(dest: str | Path, log_type: str = "vnet", target_bytes: int = 100_000_000,
                 seed: int = 0, version: int = 2) -> CorpusInfo:
    """Write a benchmark corpus of about ``target_bytes`` under ``dest`` in Azure's blob layout.

    Parameters
    ----------
    dest : str or Path
        Folder to write into; the container folder is created inside it.
    log_type : {"vnet", "nsg", "both"}
        VNet flow logs (version 4), NSG flow logs, or both: per NIC and hour a VNet
        blob and its NSG v2 twin (:func:`flowkit.synth.twin.nsg_twin`).
    target_bytes : int
        Blobs are written (MAC by MAC, hour by hour from 2024-05-01T00:00Z) until at
        least this many bytes are on disk; the result overshoots by less than one blob.
    seed : int
        Same seed, same bytes.
    version : {1, 2}
        NSG flow log version (ignored for VNet).

    Returns
    -------
    CorpusInfo
        Files, records, tuples and bytes written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     info = write_corpus(tmp, log_type="nsg", target_bytes=200_000, version=1)
    ...     names = [p.name for p in Path(tmp).rglob("*.json")]
    >>> set(names), info.files == len(names)
    ({'PT1H.json'}, True)
    """
    if log_type not in ("vnet", "nsg", "both"):
        raise ArgumentError(f"log_type must be 'vnet', 'nsg' or 'both', not {log_type!r}")
    if log_type == "nsg" and version not in (1, 2):
        raise ArgumentError(f"NSG flow logs have version 1 or 2, not {version!r}")
    rng = np.random.default_rng(seed)
    est_blob = {"vnet": 230_000, "nsg": 190_000, "both": 420_000}[log_type]
    n_macs = int(min(1000, max(8, round(1.5 * math.sqrt(max(target_bytes, 1) / est_blob)))))
    est = _Estate(n_macs, rng)
    guid = _guid(rng)  # flowLogGUID (VNet) or systemId (NSG)
    fl_id = (f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{NETWORK_WATCHER_RG}/PROVIDERS/"
             f"MICROSOFT.NETWORK/NETWORKWATCHERS/{NETWORK_WATCHER}/FLOWLOGS/FL-CORPUS").upper()
    target = vnet_id("vnet-corpus")
    root = Path(dest)
    files = records = tuples = written = 0
    hour_index = 0
    while written < target_bytes:
        hour = _START + timedelta(hours=hour_index)
        stamp = hour.strftime("%Y-%m-%dT%H:%MZ")
        for mac_i, mac in enumerate(est.macs):
            if written >= target_bytes:
                break
            if log_type != "nsg":
                name = keep_key_case(vnet_blob_name(SUBSCRIPTION, NETWORK_WATCHER_RG, NETWORK_WATCHER,
                                                    "fl-corpus", stamp, mac), "flowLogResourceID=")
                path = root / VNET_CONTAINER / name
            else:
                name = keep_key_case(nsg_blob_name(SUBSCRIPTION, RESOURCE_GROUP, est.nsgs[mac_i], stamp, mac),
                                     "resourceId=")
                path = root / NSG_CONTAINER / name
            data, n = _blob(rng, est, mac_i, hour, "vnet" if log_type == "both" else log_type, version, guid,
                            target, fl_id)
            blobs = [(path, data, n)]
            if log_type == "both":
                twin, twin_tuples = nsg_twin_counted(data, est.nsg_id(mac_i), guid)
                name = keep_key_case(nsg_blob_name(SUBSCRIPTION, RESOURCE_GROUP, est.nsgs[mac_i], stamp, mac),
                                     "resourceId=")
                blobs.append((root / NSG_CONTAINER / name, twin, twin_tuples))
            for path, data, n in blobs:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                files += 1
                records += 60
                tuples += n
                written += len(data)
        hour_index += 1
    return CorpusInfo(files, records, tuples, written)
