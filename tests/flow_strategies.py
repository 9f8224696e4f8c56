"""Hypothesis strategies for small canonical flow frames, shaped like what the readers give.

Imported by the property tests of the investigations (``from tests.flow_strategies import
flow_frames``). Every row is one a real log can hold (FORMATS.md):

- the observing NIC is a VNet-internal host (10.x) at one end of the tuple: outbound at
  the source's NIC, inbound at the destination's;
- VNet rows (version 4): times in milliseconds; ``D`` tuples are denied; B and D tuples carry
  ``0,0,0,0``; ``NX_NOT_ACCEPTED`` tuples are denied ``D`` tuples with rule and aclID
  ``unspecified``;
- NSG rows: times in whole seconds; version 2 B tuples (and denied ones, always B) carry
  empty counters, version 1 tuples no state and no counters;
- peers outside the VNet use documentation addresses (RFC 5737, RFC 3849).

A frame may also hold copies of its tuples (the same tuple read from a second blob).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import strategies as st

from flowkit.schema import coerce, empty_frame

BASE = pd.Timestamp("2024-05-01T10:00:00Z")

#: VNet-internal hosts and their NICs.
INTERNAL = {"10.0.0.4": "000D3A000004", "10.0.0.5": "000D3A000005", "10.0.1.4": "000D3A000104"}
EXTERNAL = ("192.0.2.10", "198.51.100.20", "203.0.113.30", "2001:db8::5")
HOSTS = tuple(INTERNAL) + EXTERNAL
NSG_ID = "/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-{}"
VNET_ID = "/SUBSCRIPTIONS/X/RESOURCEGROUPS/NW/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL"
ALLOW_RULES = ("DefaultRule_AllowVnetOutBound", "UserRule_AllowWeb")
DENY_RULES = ("DefaultRule_DenyAllInBound", "UserRule_DenySql")
ENCRYPTION = ("X", "NX", "NX_HW_NOT_SUPPORTED", "NX_NOT_ACCEPTED")
ACLS = ("00000000-1234-abcd-ef00-c1c2c3c4c5c6", "11111111-1234-abcd-ef00-c1c2c3c4c5c6")


@st.composite
def tuple_rows(draw: Any, log_types: tuple[str, ...] = ("vnet", "nsg")) -> dict[str, Any]:
    """One canonical row (a dict) a real NSG or VNet flow log can hold."""
    src = draw(st.sampled_from(HOSTS))
    dst = draw(st.sampled_from([h for h in HOSTS if h != src and (h in INTERNAL or src in INTERNAL)]))
    ends = [h for h in (src, dst) if h in INTERNAL]
    observer = draw(st.sampled_from(ends))
    direction = "outbound" if observer == src else "inbound"
    log_type = draw(st.sampled_from(log_types))
    minute = draw(st.integers(0, 179)) + 24 * 60 * draw(st.sampled_from((0, 0, 0, 1)))  # a day later too
    row: dict[str, Any] = {
        "src_ip": src, "dst_ip": dst, "src_port": draw(st.sampled_from((50000, 50001, 50002))),
        "dst_port": draw(st.sampled_from((22, 443, 1433))), "protocol": draw(st.sampled_from((6, 17))),
        "direction": direction, "mac": INTERNAL[observer], "log_type": log_type,
        "blob": (f"{log_type}/d={minute // 1440 + 1:02d}/h={minute // 60 % 24:02d}/"
                 f"macAddress={INTERNAL[observer]}/PT1H.json"),
    }
    counters = (draw(st.integers(1, 50)), draw(st.integers(60, 5000)), draw(st.integers(0, 50)),
                draw(st.integers(0, 5000)))
    if log_type == "vnet":
        millis = draw(st.integers(0, 59_999))
        state = draw(st.sampled_from(("B", "C", "E", "D")))
        encryption = draw(st.sampled_from(ENCRYPTION))
        if encryption == "NX_NOT_ACCEPTED":
            state, rule, acl = "D", "unspecified", "unspecified"
        elif state == "D":
            rule, acl = draw(st.sampled_from(DENY_RULES)), draw(st.sampled_from(ACLS))
        else:
            rule, acl = draw(st.sampled_from(ALLOW_RULES)), draw(st.sampled_from(ACLS))
        row.update(decision="deny" if state == "D" else "allow", state=state, encryption=encryption,
                   rule=rule, acl_id=acl, version=4, resource_id=VNET_ID, target_resource_id=VNET_ID)
        if state in ("B", "D"):
            counters = (0, 0, 0, 0)
    else:
        millis = draw(st.integers(0, 59)) * 1000
        version = draw(st.sampled_from((2, 2, 1)))
        deny = draw(st.booleans())
        state = None if version == 1 else ("B" if deny else draw(st.sampled_from(("B", "C", "E"))))
        row.update(decision="deny" if deny else "allow", state=state, encryption=None,
                   rule=draw(st.sampled_from(DENY_RULES if deny else ALLOW_RULES)), acl_id=None,
                   version=version, resource_id=NSG_ID.format(draw(st.sampled_from(("A", "B")))),
                   target_resource_id=None)
        if state in (None, "B"):
            counters = (None, None, None, None)
    row["flow_time"] = BASE + pd.Timedelta(minutes=minute, milliseconds=millis)
    row["record_time"] = row["flow_time"].floor("min") + pd.Timedelta(seconds=30)
    row.update(zip(("packets_sent", "bytes_sent", "packets_received", "bytes_received"), counters))
    return row


#: One observer (NIC, direction, log) writes one tuple of a flow per state and timestamp: two
#: E tuples of one flow in one millisecond (or second, NSG) from one NIC and log do not happen.
_ONE_TUPLE = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "mac", "direction", "log_type",
              "resource_id", "flow_time", "state")


def distinct_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without the later of two rows a real log cannot both hold (:data:`_ONE_TUPLE`)."""
    seen: set[tuple] = set()
    out = []
    for row in rows:
        key = tuple(row[k] for k in _ONE_TUPLE)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def frame_of(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The canonical frame of ``rows`` (all columns, canonical dtypes)."""
    if not rows:
        return empty_frame()
    return coerce(pd.DataFrame(rows))


@st.composite
def flow_frames(draw: Any, min_rows: int = 0, max_rows: int = 25, copies: bool = True,
                log_types: tuple[str, ...] = ("vnet", "nsg")) -> pd.DataFrame:
    """A canonical frame of generated rows; with ``copies``, some tuples read a second time
    from another blob (a saved fragment beside its blob)."""
    rows = distinct_rows(draw(st.lists(tuple_rows(log_types), min_size=min_rows, max_size=max_rows)))
    if copies and rows:
        again = draw(st.lists(st.sampled_from(range(len(rows))), max_size=3))
        rows = rows + [dict(rows[i], blob=rows[i]["blob"].replace("PT1H.json", "fragment.json")) for i in again]
    return frame_of(rows)


def shuffled(frame: pd.DataFrame, order: list[int]) -> pd.DataFrame:
    """``frame``'s rows in ``order`` (a permutation), on an index with gaps that does not start at 0."""
    out = frame.iloc[order]
    out.index = pd.Index([1000 + 3 * i for i in range(len(out))])
    return out


def recategorised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every categorical column's categories reversed and unused values added
    (what a concatenation or a widened read gives); src_ip and dst_ip keep sharing theirs."""
    out = frame.copy()
    ips = list(reversed(list(frame["src_ip"].cat.categories))) + ["203.0.113.250", "2001:db8::ff"]
    for name in out.columns:
        col = out[name]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            continue
        if name in ("src_ip", "dst_ip"):
            cats = ips
        else:
            cats = list(reversed(list(col.cat.categories)))
            extra = "000D3A0000FF" if name == "mac" else f"unused-{name}"
            if name in ("direction", "decision", "state", "log_type"):
                extra = None  # closed vocabularies: reorder only
            if extra is not None:
                cats = cats + [extra]
        out[name] = col.cat.set_categories(cats)
    return out


def plain(value: Any) -> Any:
    """``value`` with missing numbers as ``None`` (NaN never equals itself), recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, pd.DataFrame):
        # Rows in their order, session numbers included: every table an investigation gives
        # (flow_encryption, flow_sessions, a diagnosis's tuples...) lists its rows by their
        # values, whatever the order the reader met the logs in.
        t = value.reset_index(drop=isinstance(value.index, pd.RangeIndex))
        rows = plain(t.astype(object).where(t.notna(), None).values.tolist())
        return {"columns": [str(c) for c in t.columns], "rows": rows}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def as_joined(frame: pd.DataFrame, text: bool) -> pd.DataFrame:
    """``frame`` as ``pd.concat`` of differently coded frames gives it: its text columns as plain
    text (``text``), or each categorical with only its own values (src_ip and dst_ip apart)."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out[name] = col.astype(object) if text else col.cat.remove_unused_categories()
    return out


def finding_view(finding: Any) -> dict[str, Any]:
    """A finding's verdict, summary, facts and evidence tables, in a form ``==`` compares."""
    return plain({"verdict": finding.verdict, "severity": finding.severity, "summary": finding.summary,
                  "title": finding.title, "facts": finding.facts, "evidence": dict(finding.evidence)})
