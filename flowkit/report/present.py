"""How values read on the pages people read (HTML and Markdown): shares as percentages,
protocols by name and number, counts with thousands separators, figures described in words.

Only the presentation changes: findings, their facts and evidence tables are left as they
are, and the machine formats (the CSV files, the XLSX data) keep the exact values.

Examples
--------
>>> percent(1 / 3), percent(40 / 41), percent(1.0), percent(0.0)
('33.3 %', '97.6 %', '100.0 %', '0.0 %')
>>> protocol_label(6), protocol_label("udp"), protocol_label(47)
('TCP (6)', 'UDP (17)', 'GRE (47)')
>>> count(521361325)
'521,361,325'
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np
import pandas as pd

from flowkit.figure_text import figure_alt
from flowkit.report.tables import cell_text

__all__ = ["percent", "protocol_label", "count", "is_share", "fact_display", "column_formats", "column_label",
           "figure_alt", "right_aligned", "whole", "column_help", "COLUMN_HELP", "PROTOCOL_NAMES", "SHARE_TABLES"]

#: IANA protocol numbers people know by name.
PROTOCOL_NAMES = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 51: "AH", 58: "ICMPv6", 132: "SCTP"}
_PROTOCOL_WORDS = {name.lower(): number for number, name in PROTOCOL_NAMES.items()}
#: Evidence tables whose every number is a share (0 to 1): the encryption audit's subnet matrix.
SHARE_TABLES = frozenset({"subnet_matrix"})
#: Column labels that need a word more on a page (the data keeps its names).
_LABELS = {"hours": "hours (UTC)"}


def _number(value: Any) -> float | None:
    """A real number (not a bool, not missing), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def percent(value: Any) -> str:
    """A share (0 to 1) as a percentage with one decimal; text for anything else ('' if missing).

    A share that is not 0 or 1 never rounds to ``0.0 %`` or ``100.0 %``: 39,999 of 40,000 flows
    encrypted is not all of them.

    Examples
    --------
    >>> percent(0.9999), percent(0.00001), percent(None), percent(float("nan"))
    ('> 99.9 %', '< 0.1 %', '', '')
    """
    number = _number(value)
    if number is None:
        return cell_text(value)
    if 0.999 < number < 1 and f"{number * 100:.1f}" == "100.0":
        return "> 99.9 %"
    if 0 < number < 0.001 and f"{number * 100:.1f}" == "0.0":
        return "< 0.1 %"
    return f"{number * 100:.1f} %"


def protocol_label(value: Any) -> str:
    """A protocol as ``TCP (6)``: name and IANA number (the number alone when it has no common name).

    Examples
    --------
    >>> protocol_label(17), protocol_label("ICMPv6"), protocol_label(253), protocol_label(None)
    ('UDP (17)', 'ICMPv6 (58)', '253', '')
    """
    number = _number(value)
    if number is not None and number.is_integer():
        n = int(number)
        return f"{PROTOCOL_NAMES[n]} ({n})" if n in PROTOCOL_NAMES else str(n)
    if isinstance(value, str) and value.strip().lower() in _PROTOCOL_WORDS:
        n = _PROTOCOL_WORDS[value.strip().lower()]
        return f"{PROTOCOL_NAMES[n]} ({n})"
    return cell_text(value)


def count(value: Any) -> str:
    """A whole number with thousands separators (other values as :func:`cell_text` writes them).

    Examples
    --------
    >>> count(1234), count(7), count("x")
    ('1,234', '7', 'x')
    """
    number = _number(value)
    if number is not None and number.is_integer():
        return f"{int(number):,}"
    return cell_text(value)


def is_share(name: Any) -> bool:
    """Whether a fact or column of this name holds a share (0 to 1).

    Examples
    --------
    >>> is_share("encrypted_share"), is_share("coverage"), is_share("flows")
    (True, True, False)
    """
    text = str(name)
    return text == "coverage" or text == "share" or text.endswith("_share")


def fact_display(key: Any, value: Any) -> Any:
    """A fact's value as a page shows it: a share as a percentage, anything else unchanged.

    Examples
    --------
    >>> fact_display("coverage", 0.975609756097561), fact_display("flows", 60)
    ('97.6 %', 60)
    """
    if is_share(key) and _number(value) is not None:
        return percent(value)
    return value


def _is_number_column(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def whole(value: Any) -> str:
    """A whole number written without a decimal part ('' if missing).

    Examples
    --------
    >>> whole(6761.0), whole(float("nan")), whole(2.5)
    ('6761', '', '2.5')
    """
    number = _number(value)
    if number is not None and number.is_integer():
        return str(int(number))
    return cell_text(value)


def _all_whole(series: pd.Series) -> bool:
    values = series.dropna().to_numpy(dtype=float)
    return bool(np.isfinite(values).all() and (values == np.floor(values)).all())


def column_formats(name: Any, frame: pd.DataFrame) -> list[Callable[[Any], str] | None]:
    """Per column of evidence table ``name``: how a page writes its cells (None: as :func:`cell_text` does).

    Shares become percentages (columns named like :func:`is_share`, and every number column of
    the tables in :data:`SHARE_TABLES`); a ``protocol`` column reads ``TCP (6)``; a float column
    of whole numbers (counters that may be missing) loses its ``.0``.

    Examples
    --------
    >>> t = pd.DataFrame({"protocol": [6], "flows": [3], "encrypted_share": [1 / 3]})
    >>> [fmt(t[c][0]) if fmt else None for fmt, c in zip(column_formats("vm_pairs", t), t.columns)]
    ['TCP (6)', None, '33.3 %']
    """
    whole_table = str(name) in SHARE_TABLES
    out: list[Callable[[Any], str] | None] = []
    for label, series in frame.items():
        if str(label) == "protocol":
            out.append(protocol_label)
        elif _is_number_column(series) and (whole_table or is_share(label)):
            out.append(percent)
        elif pd.api.types.is_float_dtype(series.dtype) and _all_whole(series):
            out.append(whole)  # counters kept as floats for their gaps: 6761, not 6761.0
        else:
            out.append(None)
    return out


def right_aligned(frame: pd.DataFrame, formats: list[Callable[[Any], str] | None]) -> list[bool]:
    """Per column: whether a page right-aligns it (numbers and percentages, not protocol names).

    Examples
    --------
    >>> t = pd.DataFrame({"protocol": [6], "flows": [3], "rule": ["a"]})
    >>> right_aligned(t, column_formats("x", t))
    [False, True, False]
    """
    return [fmt is percent or fmt is whole or (fmt is None and _is_number_column(series))
            for fmt, (_, series) in zip(formats, frame.items())]


def column_label(label: str) -> str:
    """A column label as a page shows it (a time of day says its zone).

    Examples
    --------
    >>> column_label("hours"), column_label("src_ip")
    ('hours (UTC)', 'src_ip')
    """
    return _LABELS.get(label, label)


#: What the columns of evidence tables hold, in words (a page shows it on the column's label).
COLUMN_HELP = {
    "src_ip": "source address", "dst_ip": "destination address", "src_port": "source port",
    "dst_port": "destination port", "protocol": "IP protocol: name and IANA number",
    "mac": "MAC address of the NIC that logged the tuple", "vm": "virtual machine (from the inventory)",
    "direction": "as the logging NIC saw it: inbound or outbound", "decision": "allow or deny",
    "state": "flow state: B began, C continuing (counter update), E ended, D denied",
    "encryption": "VNet encryption: X encrypted, NX not encrypted, NX_... why not",
    "rule": "the NSG or AVNM rule that decided",
    "acl_id": ("VNet flow logs' aclID of what decided: a GUID, an NSG's resource ID, all zeros, or "
               "'unspecified' (dropped by VNet encryption)"),
    "where": "where it was denied: at the source NIC (outbound) or the destination NIC (inbound)",
    "tuples": "flow-log tuples (state changes and counter updates, per logging NIC)",
    "src_ports": "distinct source ports (a retry usually takes a new one)",
    "max_in_window": "most attempts within one retry-storm window",
    "retry_storm": "whether max_in_window reached the retry-storm threshold",
    "observers": "MAC addresses of the NICs that logged it",
    "log_types": "which flow logs saw it: nsg (NSG flow logs), vnet (VNet flow logs)",
    "first_seen": "earliest time seen (UTC)", "last_seen": "latest time seen (UTC)",
    "hours": "hours with tuples, as HH:00 in UTC",
    "log_type": "nsg (NSG flow logs) or vnet (VNet flow logs)",
    "flow_time": "the tuple's time (UTC)",
    "class": "matched (in both logs), nsg-only, vnet-only, or outside-window (outside the common window)",
    "kind": "private or public address", "out": "sent or started by the node", "in": "received by the node",
    "total": "out + in", "peers": "distinct nodes it talked with",
}
#: What the per-log columns of the NSG vs VNet key table hold (after their ``nsg_``/``vnet_`` prefix).
_SIDE_HELP = {
    "first": "first tuple time (UTC)", "last": "last tuple time (UTC)", "tuples": "tuples",
    "deny": "any tuple denied", "enc_drop": "dropped by VNet encryption (NX_NOT_ACCEPTED and the like)",
    "avnm": "decided by an Azure Virtual Network Manager security admin rule", "macs": "MACs that logged it",
    "rules": "rules that decided", "decision": "allow or deny", "known": "counters are given (C/E tuples)",
    "mac_other": "logged at a NIC the other log covers too",
    "hour_gap": "at such a NIC, in an hour the other log did not write",
}


def column_help(label: Any) -> str | None:
    """What a column holds, in words (None for a column without a description).

    Examples
    --------
    >>> column_help("nsg_enc_drop")
    'NSG flow logs: dropped by VNet encryption (NX_NOT_ACCEPTED and the like)'
    >>> column_help("where") is not None, column_help("zzz")
    (True, None)
    """
    text = str(label)
    if text in COLUMN_HELP:
        return COLUMN_HELP[text]
    for prefix, log in (("nsg_", "NSG flow logs"), ("vnet_", "VNet flow logs")):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            what = _SIDE_HELP.get(rest) or COLUMN_HELP.get(rest)
            return f"{log}: {what}" if what else None
    return None
