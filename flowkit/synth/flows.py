"""Planned flows: a 5-tuple, its lifecycle, and every place it is logged.

A :class:`Flow` is the generator's ground truth. Its :attr:`Flow.events` are the
lifecycle as an allowing NIC logs it: ``B`` at the start (no counters), ``C``
every :data:`UPDATE_MS` with counters **since the previous update**, ``E`` at the
end with the final deltas. A :class:`Sighting` that denies the flow logs one
tuple at the start instead (VNet state ``D``; NSG decision ``D``).

Examples
--------
>>> import random
>>> f = make_flow(random.Random(0), "10.10.1.4", 50000, "10.10.2.4", 8080, TCP,
...               start_ms=1714557605000, end_ms=1714558330000, rate=(20.0, 300, 18.0, 900))
>>> [state for _, state, _ in f.events]
['B', 'C', 'C', 'E']
>>> f.events[1][0] - f.events[0][0]
300000
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from flowkit.synth.tuples import TCP, UDP, Counters

__all__ = ["UPDATE_MS", "Sighting", "Flow", "Event", "make_flow", "sum_bytes", "protocol_name", "TCP", "UDP"]

#: Interval between ``C`` updates of a long flow (Azure: about every 5 minutes).
UPDATE_MS = 300_000

#: ``(timestamp_ms, state, counters or None)``.
Event = tuple[int, str, "Counters | None"]


def protocol_name(protocol: int) -> str:
    """Return ``"TCP"`` or ``"UDP"`` for an IANA protocol number.

    Examples
    --------
    >>> protocol_name(17)
    'UDP'
    """
    return {TCP: "TCP", UDP: "UDP"}[protocol]


@dataclass(frozen=True)
class Sighting:
    """One place a flow is logged: a log (VNet flow log or NSG), a NIC, a direction.

    Attributes
    ----------
    log : {"vnet", "nsg"}
        Log type.
    resource : str
        VNet flow log name, or NSG name.
    mac : str
        Logged NIC.
    direction : {"I", "O"}
        As seen by that NIC.
    rule : str
        Rule that allowed or denied the flow here.
    allowed : bool
        False: one denial tuple at the flow's start.
    acl_id : str
        VNet ``aclID`` (ignored for NSG).
    encryption : str
        VNet encryption state (ignored for NSG).
    offset_ms : int
        Clock offset of this NIC's host: added to every timestamp logged here.
    """

    log: str
    resource: str
    mac: str
    direction: str
    rule: str
    allowed: bool = True
    acl_id: str = ""
    encryption: str = "NX"
    offset_ms: int = 0


@dataclass
class Flow:
    """One 5-tuple flow as planned by a scenario (the ground truth).

    ``label`` and ``notes`` carry the scenario's meaning (e.g. ``"denied"``,
    ``{"cause": "avnm-rule"}``) into ``expected.json``.
    """

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    protocol: int
    start_ms: int
    end_ms: int
    events: tuple[Event, ...]
    sightings: list[Sighting] = field(default_factory=list)
    label: str = "ok"
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, str, int, int]:
        """``(src_ip, src_port, dst_ip, dst_port, protocol)``."""
        return (self.src_ip, self.src_port, self.dst_ip, self.dst_port, self.protocol)

    def key_dict(self) -> dict[str, Any]:
        """The 5-tuple as JSON-ready fields (protocol as its name)."""
        return {"src_ip": self.src_ip, "src_port": self.src_port, "dst_ip": self.dst_ip,
                "dst_port": self.dst_port, "protocol": protocol_name(self.protocol)}


def _segment(rng: random.Random, ms: int, rate: tuple[float, int, float, int]) -> Counters:
    pps_out, size_out, pps_back, size_back = rate
    seconds = ms / 1000
    p1 = max(1, round(pps_out * seconds * rng.uniform(0.6, 1.4))) if pps_out else 0
    p2 = max(1, round(pps_back * seconds * rng.uniform(0.6, 1.4))) if pps_back else 0
    b1 = sum_bytes(rng, p1, size_out)
    b2 = sum_bytes(rng, p2, size_back)
    return (p1, b1, p2, b2)


def sum_bytes(rng: random.Random, packets: int, mean_size: int) -> int:
    """Bytes for ``packets`` packets of about ``mean_size`` bytes (at least 40 each).

    Examples
    --------
    >>> sum_bytes(random.Random(0), 0, 500)
    0
    """
    if packets == 0:
        return 0
    return max(40 * packets, round(packets * mean_size * rng.uniform(0.8, 1.2)))


def make_flow(rng: random.Random, src_ip: str, src_port: int, dst_ip: str, dst_port: int,
              protocol: int, *, start_ms: int, end_ms: int,
              rate: tuple[float, int, float, int], label: str = "ok",
              notes: dict[str, Any] | None = None) -> Flow:
    """Plan one flow with its B/C/E lifecycle and seeded counters.

    Parameters
    ----------
    rng : random.Random
        Source of counter jitter.
    src_ip, src_port, dst_ip, dst_port, protocol
        The 5-tuple.
    start_ms, end_ms : int
        Epoch milliseconds of the ``B`` and the ``E`` tuple.
    rate : (pps_out, mean_size_out, pps_back, mean_size_back)
        Packets per second and mean packet size each way; ``pps_back = 0`` gives a
        flow that never got a reply (counters ``n,m,0,0``).

    Examples
    --------
    >>> f = make_flow(random.Random(0), "10.10.1.4", 50001, "10.10.3.4", 1433, TCP,
    ...               start_ms=0, end_ms=21000, rate=(0.19, 60, 0, 0))
    >>> f.events[-1][1], f.events[-1][2][2:]
    ('E', (0, 0))
    """
    events: list[Event] = [(start_ms, "B", None)]
    last = start_ms
    t = start_ms + UPDATE_MS
    while t < end_ms:
        events.append((t, "C", _segment(rng, t - last, rate)))
        last = t
        t += UPDATE_MS
    events.append((end_ms, "E", _segment(rng, max(end_ms - last, 1000), rate)))
    return Flow(src_ip, src_port, dst_ip, dst_port, protocol, start_ms, end_ms, tuple(events),
                label=label, notes=dict(notes or {}))
