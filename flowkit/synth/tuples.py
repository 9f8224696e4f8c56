"""Flow tuples and record times, byte-exact to what Azure writes.

Three tuple formats exist (see ``/work/shared/FORMATS.md``):

* NSG version 1, 8 fields: ``ts_s,src,dst,sport,dport,T|U,I|O,A|D``;
* NSG version 2, 13 fields: the 8 above, then ``state,pkts_sd,bytes_sd,pkts_ds,bytes_ds``,
  with **empty** counters on ``B`` tuples (``,,,,``), zeros on UDP tuples, and zeros and no
  ``E`` for inbound TCP allowed by a user-defined rule (:func:`nsg_v2_uncounted`);
* VNet version 4, 13 fields: ``ts_ms,src,dst,sport,dport,6|17,I|O,state,encryption,
  pkts_sd,bytes_sd,pkts_ds,bytes_ds``, with ``0,0,0,0`` on ``B`` and ``D`` tuples.

Examples
--------
>>> nsg_v2_tuple(1714557600, "192.0.2.7", "10.10.1.4", 50123, 443, 6, "I", "A", "B")
'1714557600,192.0.2.7,10.10.1.4,50123,443,T,I,A,B,,,,'
>>> vnet_tuple(1714557600123, "10.10.1.4", "198.51.100.10", 50123, 443, 6, "O", "C", "NX", (3, 767, 2, 1580))
'1714557600123,10.10.1.4,198.51.100.10,50123,443,6,O,C,NX,3,767,2,1580'
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = [
    "Counters",
    "TCP",
    "UDP",
    "nsg_v1_tuple",
    "nsg_v2_tuple",
    "nsg_v2_uncounted",
    "vnet_tuple",
    "record_time",
]

#: IANA protocol numbers used by flow logs (neither format logs ICMP).
TCP = 6
UDP = 17
_NSG_PROTOCOL = {TCP: "T", UDP: "U"}

#: ``(packets_src_to_dst, bytes_src_to_dst, packets_dst_to_src, bytes_dst_to_src)``.
Counters = tuple[int, int, int, int]
_ZERO: Counters = (0, 0, 0, 0)


def nsg_v1_tuple(ts: int, src: str, dst: str, sport: int, dport: int, protocol: int,
                 direction: str, decision: str) -> str:
    """Return an NSG flow log version 1 tuple (8 fields, epoch seconds).

    Parameters
    ----------
    ts : int
        Epoch seconds.
    src, dst : str
        Source and destination addresses.
    sport, dport : int
        Ports.
    protocol : int
        6 (TCP, written ``T``) or 17 (UDP, written ``U``).
    direction : {"I", "O"}
        As seen by the logged NIC.
    decision : {"A", "D"}
        Allowed or denied.

    Examples
    --------
    >>> nsg_v1_tuple(1714557600, "192.0.2.1", "10.10.1.4", 40000, 22, 6, "I", "D")
    '1714557600,192.0.2.1,10.10.1.4,40000,22,T,I,D'
    """
    return f"{ts},{src},{dst},{sport},{dport},{_NSG_PROTOCOL[protocol]},{direction},{decision}"


def nsg_v2_tuple(ts: int, src: str, dst: str, sport: int, dport: int, protocol: int,
                 direction: str, decision: str, state: str,
                 counters: Counters | None = None) -> str:
    """Return an NSG flow log version 2 tuple (13 fields, epoch seconds).

    ``B`` tuples always carry empty counters (unknown, not zero), whatever
    ``counters`` says; ``C`` and ``E`` tuples carry ``counters`` (zeros when None).

    Examples
    --------
    >>> nsg_v2_tuple(1714557600, "10.10.2.4", "10.10.3.4", 40000, 514, 17, "O", "A", "C", (0, 0, 0, 0))
    '1714557600,10.10.2.4,10.10.3.4,40000,514,U,O,A,C,0,0,0,0'
    >>> nsg_v2_tuple(1714557600, "192.0.2.1", "10.10.1.4", 40000, 22, 6, "I", "D", "B")
    '1714557600,192.0.2.1,10.10.1.4,40000,22,T,I,D,B,,,,'
    """
    head = nsg_v1_tuple(ts, src, dst, sport, dport, protocol, direction, decision)
    if state == "B":
        return f"{head},B,,,,"
    p1, b1, p2, b2 = counters or _ZERO
    return f"{head},{state},{p1},{b1},{p2},{b2}"


def nsg_v2_uncounted(direction: str, protocol: int, allowed: bool, rule: str) -> bool:
    """Whether NSG v2 records no counters and no end for a flow: inbound TCP allowed by a user rule.

    Microsoft's NSG flow logs overview ("Non-default inbound TCP rules"): NSGs enforce
    user-defined inbound TCP rules statelessly, so those flows become non-terminating and
    their byte and packet counts are not recorded. Such a flow's ``C`` tuples carry
    ``0,0,0,0`` and its end is one more zero ``C`` tuple, never an ``E``; its ``B`` tuple keeps
    empty counters. Default rules (``DefaultRule_*``), outbound and UDP flows and denials
    are logged as usual.

    Parameters
    ----------
    direction : {"I", "O"}
        As seen by the logged NIC.
    protocol : int
        6 (TCP) or 17 (UDP).
    allowed : bool
        The NSG allowed the flow.
    rule : str
        The NSG rule that allowed it, as the NSG log names it.

    Examples
    --------
    >>> nsg_v2_uncounted("I", TCP, True, "UserRule_AllowHttpsInbound")
    True
    >>> nsg_v2_uncounted("I", TCP, True, "DefaultRule_AllowVnetInBound"), nsg_v2_uncounted("O", TCP, True, "UserRule_A")
    (False, False)
    """
    return direction == "I" and protocol == TCP and allowed and not rule.startswith("DefaultRule_")


def vnet_tuple(ts_ms: int, src: str, dst: str, sport: int, dport: int, protocol: int,
               direction: str, state: str, encryption: str,
               counters: Counters | None = None) -> str:
    """Return a VNet flow log (version 4) tuple (13 fields, epoch milliseconds).

    ``B`` and ``D`` tuples carry ``0,0,0,0`` as in real data.

    Examples
    --------
    >>> vnet_tuple(1714557600000, "192.0.2.66", "10.10.1.4", 41000, 22, 6, "I", "D", "NX")
    '1714557600000,192.0.2.66,10.10.1.4,41000,22,6,I,D,NX,0,0,0,0'
    """
    p1, b1, p2, b2 = _ZERO if state in ("B", "D") or counters is None else counters
    return (f"{ts_ms},{src},{dst},{sport},{dport},{protocol},{direction},{state},{encryption},"
            f"{p1},{b1},{p2},{b2}")


def record_time(epoch_s: int, ticks: int) -> str:
    """Return a record ``time`` with 7 fractional digits, as Azure writes it.

    Parameters
    ----------
    epoch_s : int
        Whole epoch seconds (UTC).
    ticks : int
        Fraction of the second in 100 ns ticks, ``0 <= ticks < 10_000_000``.

    Examples
    --------
    >>> record_time(1714557652, 5625085)
    '2024-05-01T10:00:52.5625085Z'
    """
    if not 0 <= ticks < 10_000_000:
        raise ValueError(f"ticks out of range: {ticks}")
    stamp = datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ticks:07d}Z"
