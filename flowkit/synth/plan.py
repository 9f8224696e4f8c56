"""Helpers scenarios share: a seeded planner, times on 2024-05-01, and tallies for ``expected.json``.

Examples
--------
>>> p = Planner(seed=7)
>>> p.at(10, 0, 52) - DAY_MS
36052000
>>> p.port("10.10.1.4") != p.port("10.10.1.4")
True
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from flowkit.synth.emit import DAY_MS, HOUR_MS, Emission, Logged
from flowkit.synth.estate import Nic, nsg_id, seeded_guid
from flowkit.synth.flows import Flow, make_flow

__all__ = ["DEFAULT_SEED", "Built", "Planner", "iso", "acl_default", "acl_user", "tally", "totals", "states_dict",
           "DAY_MS", "HOUR_MS"]

#: The seed the committed ``data-samples`` were generated with, every scenario's default.
DEFAULT_SEED = 20240501


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC, millisecond precision.

    Examples
    --------
    >>> iso(DAY_MS + 1500)
    '2024-05-01T00:00:01.500Z'
    """
    whole = datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ms % 1000:03d}Z"


def acl_user(nsg: str) -> str:
    """``aclID`` of an NSG's user rules in VNet flow logs: the NSG resource ID.

    Examples
    --------
    >>> acl_user("nsg-snet-data").endswith("/networkSecurityGroups/nsg-snet-data")
    True
    """
    return nsg_id(nsg)


def acl_default(nsg: str) -> str:
    """``aclID`` of an NSG's default rules in VNet flow logs: a GUID fixed per NSG.

    Examples
    --------
    >>> acl_default("nsg-snet-web") == acl_default("nsg-snet-web")
    True
    """
    return seeded_guid(random.Random(f"acl-{nsg}"))


class Planner:
    """A seeded source of flows, ports and times for one scenario.

    Source ports are unique per source address, so every flow has its own 5-tuple.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.flows: list[Flow] = []
        self._ports: dict[str, set[int]] = {}

    def at(self, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> int:
        """Epoch milliseconds of ``hour:minute:second.ms`` on 2024-05-01 (minutes may exceed 59).

        Examples
        --------
        >>> iso(Planner(0).at(10, 75, 3))
        '2024-05-01T11:15:03.000Z'
        """
        return DAY_MS + hour * HOUR_MS + minute * 60_000 + second * 1000 + ms

    def port(self, src_ip: str) -> int:
        """A fresh ephemeral source port for ``src_ip`` (49152-65535, never repeated).

        Examples
        --------
        >>> 49152 <= Planner(0).port("10.10.1.4") <= 65535
        True
        """
        used = self._ports.setdefault(src_ip, set())
        while True:
            port = self.rng.randint(49152, 65535)
            if port not in used:
                used.add(port)
                return port

    def flow(self, src: str, dst: str, dport: int, protocol: int, start_ms: int, end_ms: int,
             rate: tuple[float, int, float, int], label: str = "ok", **notes: Any) -> Flow:
        """Plan a flow from a fresh source port and keep it; returns it so sightings can be added.

        Examples
        --------
        >>> p = Planner(0)
        >>> f = p.flow("10.10.1.4", "10.10.2.4", 8080, 6, p.at(10, 1), p.at(10, 2), (1.0, 100, 1.0, 100))
        >>> p.flows == [f], f.label
        (True, 'ok')
        """
        flow = make_flow(self.rng, src, self.port(src), dst, dport, protocol, start_ms=start_ms,
                         end_ms=end_ms, rate=rate, label=label, notes=notes)
        self.flows.append(flow)
        return flow

    def span(self, first_min: int, last_min: int, min_len: int, max_len: int,
             latest_end_min: int) -> tuple[int, int]:
        """A random (start_ms, end_ms) from 10:00 + ``first_min`` minutes, ending by ``latest_end_min``.

        Start seconds are 0-50 and end seconds 0-54, so a record written at second 52-59
        always follows its tuples.

        Examples
        --------
        >>> p = Planner(0)
        >>> start, end = p.span(0, 10, 1, 5, 118)
        >>> p.at(10) <= start < end <= p.at(10, 118, 55)
        True
        """
        start_min = self.rng.randint(first_min, last_min)
        end_min = min(start_min + self.rng.randint(min_len, max_len), latest_end_min)
        start = self.at(10, start_min, self.rng.randint(0, 50), self.rng.randint(0, 999))
        end = self.at(10, end_min, self.rng.randint(0, 54), self.rng.randint(0, 999))
        if end <= start:
            end = start + 20_000
        return start, end


def states_dict(counter: Counter) -> dict[str, int]:
    """States in the fixed order B, C, E, D (only those present).

    Examples
    --------
    >>> states_dict(Counter({"E": 1, "B": 2}))
    {'B': 2, 'E': 1}
    """
    return {s: counter[s] for s in "BCED" if counter.get(s)}


def tally(logged: Iterable[Logged]) -> dict[str, Any]:
    """Count tuples by state and sum their counters (``C``/``E`` deltas; ``B`` and ``D`` add 0).

    Examples
    --------
    >>> t = tally([(0, "B", None), (1, "E", (3, 180, 0, 0))])
    >>> t["tuples"], t["states"], t["packets_sent"], t["bytes_sent"], t["packets_received"]
    (2, {'B': 1, 'E': 1}, 3, 180, 0)
    """
    states: Counter = Counter()
    sums = [0, 0, 0, 0]
    n = 0
    for _, state, counters in logged:
        n += 1
        states[state] += 1
        if counters:
            for i, v in enumerate(counters):
                sums[i] += v
    return {"tuples": n, "states": states_dict(states), "packets_sent": sums[0], "bytes_sent": sums[1],
            "packets_received": sums[2], "bytes_received": sums[3]}


@dataclass
class Built:
    """One generated scenario: inventory, blobs, ground truth and README text."""

    name: str
    nics: list[Nic]
    emission: Emission
    expected: dict[str, Any]
    readme: str


def totals(emission: Emission, flows: Sequence[Flow]) -> dict[str, Any]:
    """Files, records and tuples written, overall and per log type, from the generator's books.

    ``tuples_by_state`` counts the state field as written (NSG v2 and VNet alike);
    NSG tuples with decision ``D`` are counted under ``B`` like Azure writes them.

    Examples
    --------
    >>> t = totals(Emission(), [])
    >>> t["files"], t["tuples"], t["by_log_type"]
    (0, 0, {})
    """
    per: dict[str, dict[str, Any]] = {}
    for rel, records in emission.blobs.items():
        log = "nsg" if rel.startswith("insights-logs-networksecuritygroupflowevent/") else "vnet"
        entry = per.setdefault(log, {"files": 0, "records": 0, "tuples": 0, "states": Counter()})
        entry["files"] += 1
        entry["records"] += len(records)
    for (fi, si), logged in emission.logged.items():
        entry = per.setdefault(flows[fi].sightings[si].log,
                               {"files": 0, "records": 0, "tuples": 0, "states": Counter()})
        entry["tuples"] += len(logged)
        entry["states"].update(state for _, state, _ in logged)
    assert sum(e["tuples"] for e in per.values()) == emission.tuples
    by_log = {log: {"files": e["files"], "records": e["records"], "tuples": e["tuples"],
                    "tuples_by_state": states_dict(e["states"])} for log, e in sorted(per.items())}
    return {"files": emission.files, "records": emission.records, "tuples": emission.tuples,
            "by_log_type": by_log}
