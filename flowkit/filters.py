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

from flowkit.addresses import normalize_mac
from flowkit.analysis.keys import address_mask, category_mask, protocol_number

__all__ = ["filter_flows", "filter_mask"]


def _as_list(value: object) -> list:
    if isinstance(value, (str, bytes, int, np.integer)):
        return [value]
    return list(value)  # type: ignore[arg-type]


def _timestamp(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _ports(value: int | str | Iterable[int] | range) -> np.ndarray:
    if isinstance(value, str):
        out: list[int] = []
        for part in value.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            elif part:
                out.append(int(part))
        return np.asarray(out, dtype=np.int64)
    return np.asarray(_as_list(value), dtype=np.int64)


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
    keep = np.ones(len(flows), dtype=bool)
    if start is not None:
        keep &= (flows["flow_time"] >= _timestamp(start)).to_numpy()
    if end is not None:
        keep &= (flows["flow_time"] < _timestamp(end)).to_numpy()
    if src is not None:
        keep &= address_mask(flows["src_ip"], src)
    if dst is not None:
        keep &= address_mask(flows["dst_ip"], dst)
    if ports is not None:
        keep &= np.isin(flows["dst_port"].to_numpy(), _ports(ports))
    if protocol is not None:
        wanted = [protocol_number(p) for p in _as_list(protocol)]
        keep &= np.isin(flows["protocol"].to_numpy(), np.asarray(wanted, dtype=np.int64))
    for name, value in (("direction", direction), ("decision", decision), ("state", state),
                        ("encryption", encryption), ("rule", rule), ("log_type", log_type)):
        if value is not None:
            keep &= category_mask(flows[name], [str(v) for v in _as_list(value)])
    if mac is not None:
        keep &= category_mask(flows["mac"], [normalize_mac(str(m)) or "" for m in _as_list(mac)])
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
        ``"tcp"``, ``"udp"`` or IANA numbers.
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
