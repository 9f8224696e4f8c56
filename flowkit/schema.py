"""The canonical flow table: column names, dtypes and meanings.

Every log format maps onto this one table. Notebooks, reports and users rely on
the names; change them only with a migration note.

Examples
--------
>>> from flowkit.schema import COLUMNS, empty_frame
>>> frame = empty_frame()
>>> list(frame.columns) == list(COLUMNS)
True
>>> str(frame["src_port"].dtype)
'uint16'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from flowkit.errors import ArgumentError

__all__ = [
    "COLUMNS",
    "Column",
    "DIRECTIONS",
    "DECISIONS",
    "STATES",
    "ENCRYPTION_STATES",
    "ENCRYPTION_DROPS",
    "ENCRYPTION_FORM",
    "LOG_TYPES",
    "COUNTER_COLUMNS",
    "EPOCH_SECONDS_BELOW",
    "NSG_RULE_PREFIXES",
    "is_security_admin_rule",
    "describe",
    "empty_frame",
    "dtypes",
    "coerce",
    "categorical",
    "require_columns",
]

#: Values of the closed categorical columns, in a fixed order so that frames
#: from different calls concatenate without re-coding.
DIRECTIONS = ("inbound", "outbound")
DECISIONS = ("allow", "deny")
STATES = ("B", "C", "E", "D")
#: Encryption states documented by Microsoft. Unknown future NX_* reasons are
#: kept (appended after these), never dropped.
ENCRYPTION_STATES = (
    "X",
    "NX",
    "NX_HW_NOT_SUPPORTED",
    "NX_SW_NOT_READY",
    "NX_NOT_ACCEPTED",
    "NX_NOT_SUPPORTED",
    "NX_LOCAL_DST",
    "NX_FALLBACK",
)
#: The encryption states whose packets are dropped, as Microsoft's "Virtual network flow logs"
#: overview documents them: ``NX_NOT_ACCEPTED`` (enforcement "drop unencrypted" and encryption
#: failed), ``NX_SW_NOT_READY`` (the host's networking software not ready: VM starting,
#: restarting or redeployed, a host update) and ``NX_NOT_SUPPORTED`` (the host networking stack
#: cannot discover, so no encryption session). A VNet tuple in one of them is a ``deny``.
ENCRYPTION_DROPS = ("NX_NOT_ACCEPTED", "NX_SW_NOT_READY", "NX_NOT_SUPPORTED")
#: The form of an encryption state: ``X``, ``NX`` or ``NX_`` and upper-case letters, digits and
#: ``_``. A tuple whose state has another form is quarantined (``invalid-encryption``), so no
#: row holds one, and :func:`flowkit.filters.filter_flows` refuses one.
ENCRYPTION_FORM = re.compile(r"^(X|NX(_[A-Z0-9_]+)?)$")
LOG_TYPES = ("nsg", "vnet")

COUNTER_COLUMNS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")
#: How NSG rules are named in both kinds of flow log (compared in lower case). In a VNet flow
#: log, any other rule but ``unspecified`` (a flow dropped for encryption) is an Azure Virtual
#: Network Manager security admin rule: bare in Microsoft's AVNM sample
#: (``BlockHighRiskTCPPortsFromInternet``, ``Internet``), with a GUID suffix in another.
NSG_RULE_PREFIXES = ("defaultrule_", "userrule_")
#: Epoch timestamps below this are seconds, above it milliseconds (NSG tuples give seconds, VNet
#: tuples milliseconds, a documentation example seconds for VNet: read by magnitude, FORMATS.md).
EPOCH_SECONDS_BELOW = 10**11


@dataclass(frozen=True)
class Column:
    """One column of the canonical table."""

    name: str
    dtype: object
    meaning: str


def _cat(values: tuple[str, ...] | None = None) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(values) if values is not None else None)


_COLUMNS: tuple[Column, ...] = (
    Column("flow_time", pd.DatetimeTZDtype("ms", "UTC"),
           "Tuple timestamp (epoch seconds for NSG, milliseconds for VNet; detected by magnitude)."),
    Column("record_time", pd.DatetimeTZDtype("ns", "UTC"),
           "The record's `time`, all fractional digits kept."),
    Column("src_ip", _cat(), "Source address as text (IPv4 or IPv6); categories shared with dst_ip."),
    Column("dst_ip", _cat(), "Destination address as text; categories shared with src_ip."),
    Column("src_port", "uint16", "Source port."),
    Column("dst_port", "uint16", "Destination port."),
    Column("protocol", "uint8", "IANA protocol number (NSG T -> 6, U -> 17)."),
    Column("direction", _cat(DIRECTIONS), "inbound / outbound, as seen by the logged NIC."),
    Column("decision", _cat(DECISIONS),
           "allow / deny. VNet: state D, or an encryption state whose packets are dropped "
           "(NX_NOT_ACCEPTED, NX_SW_NOT_READY, NX_NOT_SUPPORTED), is deny."),
    Column("state", _cat(STATES), "B began, C continuing, E ended, D denied; missing for NSG v1."),
    Column("encryption", _cat(ENCRYPTION_STATES), "VNet encryption state (X, NX, NX_*); missing for NSG."),
    Column("packets_sent", pd.UInt32Dtype(),
           "Packets source -> destination since the last update; missing where the log gives none."),
    Column("bytes_sent", pd.UInt64Dtype(),
           "Bytes source -> destination since the last update; missing where the log gives none."),
    Column("packets_received", pd.UInt32Dtype(),
           "Packets destination -> source since the last update; missing where the log gives none."),
    Column("bytes_received", pd.UInt64Dtype(),
           "Bytes destination -> source since the last update; missing where the log gives none."),
    Column("rule", _cat(), "Rule name (NSG rule, DefaultRule_*, UserRule_*, AVNM rule, unspecified)."),
    Column("acl_id", _cat(), "VNet aclID: GUID, NSG resource ID, zeros or `unspecified`; missing for NSG."),
    Column("mac", _cat(), "NIC MAC address, 12 upper-case hex digits."),
    Column("log_type", _cat(LOG_TYPES), "nsg or vnet."),
    Column("version", "uint8", "Format version: 1 or 2 (NSG), 4 (VNet)."),
    Column("resource_id", _cat(), "NSG resource ID (NSG logs) or flow-log resource ID (VNet logs)."),
    Column("target_resource_id", _cat(), "VNet, subnet or NIC the VNet flow log is enabled on."),
    Column("blob", _cat(), "File or blob path the row came from."),
)

COLUMNS: tuple[str, ...] = tuple(c.name for c in _COLUMNS)


def dtypes() -> dict[str, object]:
    """Return ``{column: dtype}`` for the canonical table.

    Examples
    --------
    >>> dtypes()["protocol"]
    'uint8'
    """
    return {c.name: c.dtype for c in _COLUMNS}


def describe() -> pd.DataFrame:
    """Return the schema as a small table (column, dtype, meaning) for documentation.

    Examples
    --------
    >>> describe().loc[0, "column"]
    'flow_time'
    """
    return pd.DataFrame(
        {"column": [c.name for c in _COLUMNS],
         "dtype": [str(c.dtype) for c in _COLUMNS],
         "meaning": [c.meaning for c in _COLUMNS]}
    )


def empty_frame() -> pd.DataFrame:
    """Return an empty flow table with exactly the canonical columns and dtypes.

    Examples
    --------
    >>> empty_frame().shape
    (0, 23)
    """
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in _COLUMNS})


def coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the canonical columns, order and dtypes.

    Missing columns are added as all-missing (0 for ports, protocol and version); extra columns are kept at the end.
    ``src_ip`` and ``dst_ip`` get shared categories. Values of text columns are kept as
    their text (an ``ipaddress`` object becomes its address). Useful for frames built by
    hand (tests, notebooks) or read from elsewhere.

    Raises
    ------
    flowkit.errors.ArgumentError
        A port, protocol or version its unsigned column cannot hold exactly (negative, too
        large, fractional or missing: it would wrap round or be cut), or a time column of
        numbers (epoch seconds or milliseconds: convert them with ``pd.to_datetime(unit=...)``).

    Examples
    --------
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"], "dst_ip": ["198.51.100.2"],
    ...                          "dst_port": [443]}))
    >>> str(f["dst_port"].dtype), list(f["src_ip"].cat.categories) == list(f["dst_ip"].cat.categories)
    ('uint16', True)
    """
    out = {}
    n = len(frame)
    types = dtypes()
    ips = pd.Index([])
    for name in ("src_ip", "dst_ip"):
        if name in frame:
            ips = ips.union(pd.Index(frame[name].dropna().astype(str).unique()))
    for name, dtype in types.items():
        if name not in frame:
            # numpy integer columns cannot hold "missing": they get 0.
            fill = 0 if isinstance(dtype, str) else None
            out[name] = pd.Series([fill] * n, dtype=dtype, index=frame.index)
            continue
        col = frame[name]
        if name in ("src_ip", "dst_ip"):
            out[name] = pd.Series(pd.Categorical(_text(col), categories=ips), index=frame.index)
        elif isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
            extra = [v for v in pd.unique(col.dropna().astype(str)) if v not in set(dtype.categories)]
            cats = list(dtype.categories) + sorted(extra)
            out[name] = pd.Series(pd.Categorical(_text(col), categories=cats), index=frame.index)
        elif isinstance(dtype, pd.DatetimeTZDtype):
            if pd.api.types.is_numeric_dtype(col.dtype):
                raise ArgumentError(f"column {name!r} holds numbers, not times; convert epoch values with "
                                    f"pd.to_datetime(..., unit='s' or 'ms', utc=True)")
            s = pd.to_datetime(col, utc=True)
            out[name] = s.astype(dtype)
        elif isinstance(dtype, str):
            out[name] = _unsigned(col, dtype, name)
        else:
            out[name] = col.astype(dtype)
    result = pd.DataFrame(out, index=frame.index)
    for name in frame.columns:
        if name not in types:
            result[name] = frame[name]
    return result


def _text(col: pd.Series) -> pd.Series:
    """``col`` as text, missing values kept missing (the categories are built from the text)."""
    return col.astype(str).where(col.notna(), None)


def _unsigned(col: pd.Series, dtype: str, name: str) -> pd.Series:
    """``col`` as the numpy unsigned ``dtype``, refusing values it cannot hold (numpy would wrap them)."""
    try:
        # the nullable type casts only what it holds exactly: 70000, -1 or 443.5 raise instead of wrapping
        return col.astype(dtype.replace("uint", "UInt")).astype(dtype)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"column {name!r} cannot be {dtype}: {exc}") from exc


def categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text column of the schema categorical, as the reader gives it.

    Frames joined with ``pd.concat`` (categories that differ become plain text) or
    anonymised ones hold those columns as text; the investigations work on category
    codes, so they take their frames through this. A frame whose columns are already
    categorical is returned as it is (no copy).

    Examples
    --------
    >>> joined = pd.DataFrame({"mac": ["000D3A000101"], "log_type": ["vnet"], "dst_port": [443]})
    >>> {c: str(t) for c, t in categorical(joined).dtypes.items()}
    {'mac': 'category', 'log_type': 'category', 'dst_port': 'int64'}
    """
    text = [name for name, dtype in dtypes().items()
            if isinstance(dtype, pd.CategoricalDtype) and name in frame
            and not isinstance(frame[name].dtype, pd.CategoricalDtype)]
    if not text:
        return frame
    out = frame.copy(deep=False)
    for name in text:
        out[name] = frame[name].astype("category")
    return out


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Refuse a frame that lacks columns of the flow table ``what`` reads, naming them.

    An investigation given another table (the sessions of :func:`flowkit.flow_sessions`,
    a finding's evidence) or a projection read with ``columns=`` would otherwise stop on
    a bare ``KeyError`` deep inside.

    Raises
    ------
    flowkit.errors.ArgumentError
        When a column is missing; the message names ``what`` and every missing column.

    Examples
    --------
    >>> require_columns(empty_frame(), ["flow_time", "state"], "flow_sessions")
    >>> require_columns(pd.DataFrame({"src_ip": []}), ["flow_time", "state"], "flow_sessions")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: flow_sessions reads a flow table (read_flow_logs); this frame lacks its column(s) flow_time, state
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ArgumentError(f"{what} reads a flow table (read_flow_logs); this frame lacks its column(s) "
                            + ", ".join(missing))


def is_security_admin_rule(rule: object) -> bool:
    """True for a rule name that is no NSG rule (:data:`NSG_RULE_PREFIXES`), not ``unspecified``
    and not missing: in a VNet flow log, an AVNM security admin rule.

    Examples
    --------
    >>> is_security_admin_rule("Internet"), is_security_admin_rule("Internet_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11")
    (True, True)
    >>> is_security_admin_rule("UserRule_x"), is_security_admin_rule("unspecified"), is_security_admin_rule(None)
    (False, False, False)
    """
    if rule is None or rule is pd.NA or (isinstance(rule, float) and rule != rule):  # missing
        return False
    low = str(rule).strip().lower()
    return bool(low) and low != "unspecified" and not low.startswith(NSG_RULE_PREFIXES)
