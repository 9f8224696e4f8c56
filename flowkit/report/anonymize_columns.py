"""Which columns, labels and cells of a report hold what: the anonymiser's view of a table.

A column (or facts key, or axis name) named like ``vm``, ``src_nic`` or ``nsgs`` holds resource
names; one with ``rule`` in its name holds rule names; ``mac`` or ``*_mac`` holds MAC
addresses. Cells can be text, address objects or containers of them.

Examples
--------
>>> is_name_label("dst_vm"), is_rule_label("Rule"), is_mac_label("src_mac"), is_name_label("bytes")
(True, True, True, False)
>>> distinct_texts(pd.Series(["vm-1", ["vm-2", "vm-1"], None]))
['vm-1', 'vm-2']
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

import pandas as pd

__all__ = ["NAME_COLUMNS", "KEPT_WORDS", "COMMON_WORDS", "IP_OBJECTS", "CONTAINERS", "is_name_label",
           "is_rule_label", "is_mac_label", "in_free_text", "distinct_texts", "is_text"]

#: Evidence columns (and facts keys) whose values are resource or VM names.
NAME_COLUMNS = frozenset({"vm", "src_vm", "dst_vm", "nic", "src_nic", "dst_nic", "subnet", "src_subnet",
                          "dst_subnet", "vnet", "nsg", "nsgs", "nsg_nsgs", "vnet_nsgs", "resource_group",
                          "flow_log", "node"})
NAME_SUFFIXES = ("_vm", "_nic", "_subnet", "_nsgs")
#: Values that name nothing: never replaced.
KEPT_WORDS = frozenset({"", "internet", "unknown", "unspecified", "none", "null", "nan", "private", "public"})
#: Short words of report text: a name equal to one is replaced as a whole field, never in free text.
COMMON_WORDS = frozenset({
    "a", "an", "and", "any", "all", "are", "as", "at", "be", "by", "do", "for", "from", "go", "id", "if", "in",
    "ip", "is", "it", "me", "my", "nic", "no", "not", "nsg", "nx", "of", "ok", "on", "or", "os", "out", "so",
    "tcp", "the", "to", "udp", "up", "us", "vm", "we"})

#: Address objects in a cell or fact: anonymised like the text they print as (and keeping their type).
IP_OBJECTS = (ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network, ipaddress.IPv6Network,
              ipaddress.IPv4Interface, ipaddress.IPv6Interface)
#: Cells and facts that hold other values.
CONTAINERS = (list, tuple, set, frozenset, dict)


def is_name_label(label: Any) -> bool:
    """Whether a column, facts key or axis named ``label`` holds VM, NIC, subnet or NSG names."""
    low = str(label).lower()
    return low in NAME_COLUMNS or low.endswith(NAME_SUFFIXES)


def is_rule_label(label: Any) -> bool:
    """Whether a column, facts key or axis named ``label`` holds rule names."""
    return "rule" in str(label).lower()


def is_mac_label(label: Any) -> bool:
    """Whether a column named ``label`` holds MAC addresses."""
    low = str(label).lower()
    return low in ("mac", "macaddress", "mac_address") or low.endswith("_mac")


def in_free_text(name: str) -> bool:
    """Whether a learned name is replaced in free text too (not one character, digits or a common word)."""
    return len(name) > 1 and not name.isdigit() and name not in COMMON_WORDS


def distinct_texts(series: pd.Series, nested: bool = True) -> list[str]:
    """The distinct strings of a column; with ``nested``, also those inside list, tuple, set and dict cells."""
    obj = series.astype(object)
    try:
        cells = pd.unique(obj)
    except TypeError:  # unhashable cells (lists, sets, dicts)
        cells = obj.tolist()
    out: dict[str, None] = {}

    def add(values: Iterable[Any]) -> None:
        for v in values:
            if isinstance(v, str):
                out[v] = None
            elif nested and isinstance(v, dict):
                add([*v.keys(), *v.values()])
            elif nested and isinstance(v, CONTAINERS):
                add(v)

    add(cells)
    return list(out)


def is_text(dtype: Any) -> bool:
    """Whether cells of ``dtype`` can hold text (object, string or categorical)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return dtype == object or pd.api.types.is_string_dtype(dtype)
