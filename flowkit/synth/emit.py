"""Turn planned flows into hourly blobs: one record per minute per logged NIC.

Every :class:`~flowkit.synth.flows.Sighting` of every flow becomes tuples in
the blob of its log, NIC and hour, if that log covers the NIC and wrote that
hour. Tuples are grouped into one record per minute (only minutes that have
tuples get a record); the record ``time`` falls in the same minute, after its
last tuple. What was written is tallied per sighting, so that ``expected.json``
comes from the generator's own bookkeeping, never from reading files back.

NSG v2 logs write what Azure's do: ``B`` tuples with empty counters, UDP counters
``0,0,0,0``, and, for inbound TCP allowed by a user-defined rule (enforced statelessly,
:func:`~flowkit.synth.tuples.nsg_v2_uncounted`), ``C`` tuples with ``0,0,0,0`` and a
zero ``C`` instead of the ``E``; the tally records those zeros and states.

Examples
--------
>>> import random
>>> from flowkit.synth.flows import make_flow, Sighting, TCP
>>> from flowkit.synth.estate import VnetFlowLog
>>> log = VnetFlowLog("fl", "/vnet", "g", frozenset({"000D3A000101"}), (10,))
>>> f = make_flow(random.Random(0), "10.10.1.4", 50000, "198.51.100.10", 443, TCP,
...               start_ms=DAY_MS + 10 * HOUR_MS + 5000, end_ms=DAY_MS + 10 * HOUR_MS + 50000,
...               rate=(5.0, 200, 5.0, 900))
>>> f.sightings.append(Sighting("vnet", "fl", "000D3A000101", "O", "DefaultRule_AllowInternetOutBound"))
>>> out = emit([f], [log], seed=0)
>>> out.files, out.records, out.tuples
(1, 1, 2)
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.synth.blobs import blob_bytes
from flowkit.synth.estate import NETWORK_WATCHER, SUBSCRIPTION, NsgFlowLog, VnetFlowLog
from flowkit.synth.flows import Flow, Sighting
from flowkit.synth.records import nsg_record, vnet_record
from flowkit.synth.tuples import UDP, Counters, nsg_v1_tuple, nsg_v2_tuple, nsg_v2_uncounted, record_time, vnet_tuple

__all__ = ["DAY_MS", "HOUR_MS", "MINUTE_MS", "Logged", "Emission", "emit", "blob_path", "keep_key_case"]

#: 2024-05-01T00:00:00Z, the day every scenario happens on, in epoch milliseconds.
DAY_MS = 1_714_521_600_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

#: One tuple as written: ``(timestamp_ms, state, counters or None)``; state is the
#: VNet state (``B``/``C``/``E``/``D``) or, for NSG, the v2 state (``B``/``C``/``E``).
Logged = tuple[int, str, "Counters | None"]


@dataclass
class Emission:
    """Blobs to write and what each sighting contributed.

    Attributes
    ----------
    blobs : dict
        Relative path (container/blob name) -> list of records, in minute order.
    logged : dict
        ``(flow index, sighting index)`` -> tuples written for that sighting.
    files, records, tuples : int
        Totals over all blobs.
    """

    blobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    logged: dict[tuple[int, int], list[Logged]] = field(default_factory=dict)
    files: int = 0
    records: int = 0
    tuples: int = 0

    def write(self, dest: Path) -> list[Path]:
        """Write every blob under ``dest``; return the paths written, sorted.

        Examples
        --------
        >>> Emission().write(Path("unused"))
        []
        """
        written = []
        for rel, records in sorted(self.blobs.items()):
            path = Path(dest) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob_bytes(records))
            written.append(path)
        return written


def keep_key_case(name: str, prefix: str) -> str:
    """Restore the mixed-case key of the first path level (``resourceId=``, ``flowLogResourceID=``).

    Examples
    --------
    >>> keep_key_case("RESOURCEID=/SUBSCRIPTIONS/S", "resourceId=")
    'resourceId=/SUBSCRIPTIONS/S'
    """
    # Azure keeps the key of the first path level in mixed case (resourceId=, flowLogResourceID=).
    if name[:len(prefix)].lower() == prefix.lower():
        return prefix + name[len(prefix):]
    return name


def blob_path(log: VnetFlowLog | NsgFlowLog, mac: str, hour: int) -> str:
    """Return ``container/blob name`` of one hourly blob (day 2024-05-01).

    Examples
    --------
    >>> from flowkit.synth.estate import NsgFlowLog
    >>> blob_path(NsgFlowLog("nsg-snet-web", "g", frozenset(), (10,)), "000D3A000101", 10)[:56]
    'insights-logs-networksecuritygroupflowevent/resourceId=/'
    """
    stamp = f"2024-05-01T{hour:02d}:00Z"
    if isinstance(log, NsgFlowLog):
        name = nsg_blob_name(SUBSCRIPTION, log.resource_group, log.nsg, stamp, mac)
        return f"{NSG_CONTAINER}/{keep_key_case(name, 'resourceId=')}"
    name = vnet_blob_name(SUBSCRIPTION, log.resource_group, log.network_watcher or NETWORK_WATCHER,
                          log.name, stamp, mac)
    return f"{VNET_CONTAINER}/{keep_key_case(name, 'flowLogResourceID=')}"


def _tuple_text(log: VnetFlowLog | NsgFlowLog, flow: Flow, s: Sighting, ts_ms: int, state: str,
                counters: Counters | None) -> tuple[str, str, Counters | None]:
    """Return (tuple text, state written, counters written)."""
    args = (flow.src_ip, flow.dst_ip, flow.src_port, flow.dst_port, flow.protocol, s.direction)
    if isinstance(log, VnetFlowLog):
        if state in ("B", "D"):
            counters = (0, 0, 0, 0)
        return vnet_tuple(ts_ms, *args, state, s.encryption, counters), state, counters
    decision = "A" if s.allowed else "D"
    if log.version == 1:
        return nsg_v1_tuple(ts_ms // 1000, *args, decision), "B", None
    if state == "B":
        return nsg_v2_tuple(ts_ms // 1000, *args, decision, "B"), "B", None
    if flow.protocol == UDP:  # NSG v2 counters count TCP only
        counters = (0, 0, 0, 0)
    elif nsg_v2_uncounted(s.direction, flow.protocol, s.allowed, s.rule):
        state, counters = "C", (0, 0, 0, 0)  # stateless: no counts, and the NSG never sees the end
    return nsg_v2_tuple(ts_ms // 1000, *args, decision, state, counters), state, counters


def _events_for(flow: Flow, s: Sighting, log: VnetFlowLog | NsgFlowLog) -> list[tuple[int, str, Counters | None]]:
    if not s.allowed:
        return [(flow.start_ms + s.offset_ms, "D" if isinstance(log, VnetFlowLog) else "B", None)]
    events = [(ts + s.offset_ms, state, c) for ts, state, c in flow.events]
    if isinstance(log, NsgFlowLog) and log.version == 1:
        return events[:1]
    return events


def emit(flows: Sequence[Flow], logs: Sequence[VnetFlowLog | NsgFlowLog], seed: int) -> Emission:
    """Place every sighting's tuples into hourly blobs of one-record-per-minute.

    Parameters
    ----------
    flows : sequence of Flow
        The planned flows, each with its sightings.
    logs : sequence of VnetFlowLog or NsgFlowLog
        The logs that exist; a sighting names its log by ``(log, resource)``.
    seed : int
        Seeds the record times (seconds and 100 ns ticks).

    Returns
    -------
    Emission
    """
    by_name = {("vnet" if isinstance(g, VnetFlowLog) else "nsg", g.name): g for g in logs}
    # (log key, mac, hour) -> minute -> [(ts, flow index, sighting index, group, text)]
    buckets: dict[tuple[tuple[str, str], str, int], dict[int, list[tuple]]] = defaultdict(
        lambda: defaultdict(list))
    out = Emission()
    for fi, flow in enumerate(flows):
        for si, s in enumerate(flow.sightings):
            log = by_name[(s.log, s.resource)]
            written: list[Logged] = []
            for ts, state, counters in _events_for(flow, s, log):
                minute = ts // MINUTE_MS
                hour = (ts - DAY_MS) // HOUR_MS
                if s.mac not in log.macs or hour not in log.hours:
                    continue
                text, state_w, counters_w = _tuple_text(log, flow, s, ts, state, counters)
                group = (s.acl_id, s.rule) if isinstance(log, VnetFlowLog) else s.rule
                buckets[((s.log, s.resource), s.mac, hour)][minute].append((ts, fi, si, group, text))
                written.append((ts, state_w, counters_w))
            out.logged[(fi, si)] = written
    rng = random.Random(f"records-{seed}")
    for (log_key, mac, hour) in sorted(buckets):
        log = by_name[log_key]
        records = []
        for minute, items in sorted(buckets[(log_key, mac, hour)].items()):
            items.sort(key=lambda item: item[:3])
            last_second = (items[-1][0] // 1000) % 60
            second = max(rng.randint(52, 59), min(last_second + 1, 59))
            when = record_time(minute * 60 + second, rng.randrange(10_000_000))
            groups: dict[Any, list[str]] = {}
            for _, _, _, group, text in items:
                groups.setdefault(group, []).append(text)
            if isinstance(log, VnetFlowLog):
                acls: dict[str, list[tuple[str, list[str]]]] = {}
                for (acl_id, rule), texts in groups.items():
                    acls.setdefault(acl_id, []).append((rule, texts))
                records.append(vnet_record(when, log.guid, mac, log.resource_id,
                                           log.target_resource_id, list(acls.items())))
            else:
                records.append(nsg_record(when, log.system_id, mac, log.resource_id, log.version,
                                          list(groups.items())))
            out.tuples += len(items)
        out.blobs[blob_path(log, mac, hour)] = records
        out.records += len(records)
    out.files = len(out.blobs)
    return out
