"""One pure, vectorised filter over the canonical flow table.

Notebook panels and widgets gather arguments and call :func:`filter_flows`;
all the work happens here, on category codes and integer columns.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> flows = coerce(pd.DataFrame({"src_ip": ["10.0.0.4", "192.0.2.9"], "dst_ip": ["198.51.100.1"] * 2,
...                              "dst_port": [443, 22], "protocol": [6, 6],
...                              "decision": ["allow", "deny"]}))
>>> len(filter_flows(flows, src="10.0.0.0/8", ports=443))
1
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

import ipaddress

from flowkit.addresses import is_mac, normalize_mac
from flowkit.analysis.keys import address_mask, category_mask, protocol_number
from flowkit.errors import ArgumentError
from flowkit.schema import DECISIONS, DIRECTIONS, ENCRYPTION_FORM, LOG_TYPES, STATES, require_columns
from flowkit.sources.times import to_utc, to_window

__all__ = ["filter_flows", "filter_mask", "check_addresses", "check_ports"]


def _as_list(value: object) -> list:
    if isinstance(value, (str, bytes, int, np.integer)):
        return [value]
    return list(value)  # type: ignore[arg-type]


def _timestamp(name: str, value: object) -> pd.Timestamp | None:
    try:
        return to_utc(value)
    except ArgumentError as exc:
        raise ArgumentError(f"{name}: {exc}") from None


def check_addresses(name: str, value: str | Iterable[str]) -> list[str]:
    """The addresses and CIDR blocks of ``value`` as given, each checked; ``name`` heads the error.

    The one check of an address argument: the filter panel's boxes and the command line's
    ``--src``/``--dst`` use it too.

    Examples
    --------
    >>> check_addresses("src", ["192.0.2.1", "2001:db8::/32"])
    ['192.0.2.1', '2001:db8::/32']
    >>> check_addresses("dst", "10.0.0.400")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: dst: '10.0.0.400' is not an IP address or CIDR block
    """
    specs = [value] if isinstance(value, str) else [str(v) for v in value]
    for spec in specs:
        text = spec.strip()
        try:
            ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
        except ValueError:
            raise ArgumentError(f"{name}: {spec!r} is not an IP address or CIDR block") from None
    return specs


def _ports(value: int | str | Iterable[int] | range) -> np.ndarray:
    if isinstance(value, str):
        out: list[int] = []
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            bounds = [b.strip() for b in part.split("-", 1)]
            if not all(b.isascii() and b.isdigit() for b in bounds):
                raise ArgumentError(f"ports: {part!r} is not a port or a range (use 443 or 8000-8100)")
            lo, hi = int(bounds[0]), int(bounds[-1])
            if hi > 65535:
                raise ArgumentError(f"ports: {part!r} is not a port or a range (ports run from 0 to 65535)")
            if lo > hi:
                raise ArgumentError(f"ports: {part!r} runs backwards, so no port is in it (use {hi}-{lo})")
            out.extend(range(lo, hi + 1))
        return np.asarray(out, dtype=np.int64)
    numbers = np.asarray(_as_list(value), dtype=np.int64)
    bad = numbers[(numbers < 0) | (numbers > 65535)]
    if len(bad):
        raise ArgumentError(f"ports: {int(bad[0])} is not a port (ports run from 0 to 65535)")
    return numbers


def check_ports(text: str) -> str | None:
    """The ports of a text (``443, 8000 - 8100``) checked as ``filter_flows`` reads them, and written
    as it takes them (``443,8000-8100``); None when there is none.

    The one reading of port text: the filter panel's box uses it too.

    Raises
    ------
    flowkit.errors.ArgumentError
        A part that is not a port or a range, a port above 65535, a range that runs backwards.

    Examples
    --------
    >>> check_ports(" 443, 8000 - 8100")
    '443,8000-8100'
    >>> check_ports("8100-8000")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: ports: '8100-8000' runs backwards, so no port is in it (use 8000-8100)
    """
    _ports(text)
    return ",".join(p.strip().replace(" ", "") for p in text.split(",") if p.strip()) or None


def _protocols(value: int | str | Iterable[int | str]) -> np.ndarray:
    numbers = []
    for p in _as_list(value):
        try:
            number = protocol_number(p)
        except (TypeError, ValueError):
            number = None
        if number is None or not 0 <= number <= 255:
            raise ArgumentError(f"protocol: {p!r} is not tcp, udp, icmp, icmpv6 or an IANA protocol number (0-255)")
        numbers.append(number)
    return np.asarray(numbers, dtype=np.int64)


#: Columns with a closed vocabulary: a value outside it can only be a mistake.
_VOCABULARY = {"direction": DIRECTIONS, "decision": DECISIONS, "state": STATES, "log_type": LOG_TYPES}


def _values(name: str, value: str | Iterable[str]) -> list[str]:
    values = [str(v) for v in _as_list(value)]
    allowed = _VOCABULARY.get(name)
    for v in values if allowed else ():
        if v not in allowed:
            raise ArgumentError(f"{name}: {v!r} is not one of {', '.join(allowed)}")
    for v in values if name == "encryption" else ():
        if not ENCRYPTION_FORM.match(v):  # the reader quarantines such a state: no row holds one
            raise ArgumentError(f"encryption: {v!r} is not an encryption state "
                                "(X, NX or NX_ and upper-case letters, such as NX_NOT_ACCEPTED)")
    return values


def _macs(value: str | Iterable[str]) -> list[str]:
    macs = [normalize_mac(str(m)) or "" for m in _as_list(value)]
    for given, mac in zip(_as_list(value), macs):
        if not is_mac(mac):
            raise ArgumentError(f"mac: {given!r} is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)")
    return macs


def filter_mask(
    flows: pd.DataFrame,
    *,
    start: object | None = None,
    end: object | None = None,
    src: str | Iterable[str] | None = None,
    dst: str | Iterable[str] | None = None,
    ports: int | str | Iterable[int] | None = None,
    protocol: int | str | Iterable[int | str] | None = None,
    direction: str | Iterable[str] | None = None,
    decision: str | Iterable[str] | None = None,
    state: str | Iterable[str] | None = None,
    encryption: str | Iterable[str] | None = None,
    rule: str | Iterable[str] | None = None,
    log_type: str | Iterable[str] | None = None,
    mac: str | Iterable[str] | None = None,
) -> np.ndarray:
    """Boolean mask of the rows :func:`filter_flows` keeps (same arguments).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"], "dst_ip": ["198.51.100.2"], "dst_port": [22]}))
    >>> filter_mask(f, ports="20-25").tolist()
    [True]
    """
    start_ts, end_ts = _timestamp("start", start), _timestamp("end", end)
    to_window(start_ts, end_ts)  # start before end
    given = {"flow_time": start_ts if start_ts is not None else end_ts, "src_ip": src, "dst_ip": dst,
             "dst_port": ports, "protocol": protocol, "direction": direction, "decision": decision, "state": state,
             "encryption": encryption, "rule": rule, "log_type": log_type, "mac": mac}
    require_columns(flows, [c for c, v in given.items() if v is not None], "filter_flows")
    keep = np.ones(len(flows), dtype=bool)
    if start_ts is not None:
        keep &= (flows["flow_time"] >= start_ts).to_numpy()
    if end_ts is not None:
        keep &= (flows["flow_time"] < end_ts).to_numpy()
    if src is not None:
        keep &= address_mask(flows["src_ip"], check_addresses("src", src))
    if dst is not None:
        keep &= address_mask(flows["dst_ip"], check_addresses("dst", dst))
    if ports is not None:
        keep &= np.isin(flows["dst_port"].to_numpy(), _ports(ports))
    if protocol is not None:
        keep &= np.isin(flows["protocol"].to_numpy(), _protocols(protocol))
    for name, value in (("direction", direction), ("decision", decision), ("state", state),
                        ("encryption", encryption), ("rule", rule), ("log_type", log_type)):
        if value is not None:
            keep &= category_mask(flows[name], _values(name, value))
    if mac is not None:
        keep &= category_mask(flows["mac"], _macs(mac))
    return keep


def filter_flows(
    flows: pd.DataFrame,
    *,
    start: object | None = None,
    end: object | None = None,
    src: str | Iterable[str] | None = None,
    dst: str | Iterable[str] | None = None,
    ports: int | str | Iterable[int] | None = None,
    protocol: int | str | Iterable[int | str] | None = None,
    direction: str | Iterable[str] | None = None,
    decision: str | Iterable[str] | None = None,
    state: str | Iterable[str] | None = None,
    encryption: str | Iterable[str] | None = None,
    rule: str | Iterable[str] | None = None,
    log_type: str | Iterable[str] | None = None,
    mac: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return the rows of a canonical flow table that match every given condition.

    ``None`` means "any". Each argument takes one value or a list of values
    (any of them matches). The result keeps the columns, dtypes and categories.
    A value that cannot match anything by its form (a time without a date, an address
    that is not one, a port range that runs backwards, ``"Deny"`` for ``"deny"``) is an
    :class:`~flowkit.errors.ArgumentError` naming the argument, not an empty result.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table (:mod:`flowkit.schema`).
    start, end : timestamp-like, optional
        Keep ``start <= flow_time < end``; naive times are UTC.
    src, dst : str or list of str, optional
        IP addresses or CIDR blocks (``10.10.1.4``, ``10.10.0.0/16``, ``2001:db8::/32``).
    ports : int, str or list of int, optional
        Destination ports: ``443``, ``[80, 443]``, ``range(1024)`` or ``"80,443,8000-8100"``.
    protocol : int, str or list, optional
        ``"tcp"``, ``"udp"``, ``"icmp"``, ``"icmpv6"`` or IANA numbers.
    direction, decision, state, encryption, rule, log_type : str or list of str, optional
        Values of those categorical columns (``"inbound"``, ``"deny"``, ``"D"``,
        ``"NX_NOT_ACCEPTED"``, ``"DefaultRule_DenyAllInBound"``, ``"vnet"``).
    mac : str or list of str, optional
        Observing NIC MAC addresses, in any common form (``00-0D-3A-…`` too).

    Returns
    -------
    pandas.DataFrame
        The matching rows (a copy-on-write slice of ``flows``).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1", "192.0.2.2"], "dst_ip": ["10.0.0.4"] * 2,
    ...                          "decision": ["deny", "allow"], "protocol": [6, 17]}))
    >>> filter_flows(f, decision="deny")["src_ip"].tolist()
    ['192.0.2.1']
    >>> len(filter_flows(f, protocol="udp", src=["192.0.2.0/24"]))
    1
    """
    keep = filter_mask(flows, start=start, end=end, src=src, dst=dst, ports=ports,
                       protocol=protocol, direction=direction, decision=decision, state=state,
                       encryption=encryption, rule=rule, log_type=log_type, mac=mac)
    if keep.all():
        return flows.copy(deep=False)
    return flows.loc[keep]
