"""Connectivity-failure diagnosis: why does traffic from A to B not work?

:func:`diagnose` looks at every observation of the traffic at both ends — outbound
at the source NIC, inbound at the destination NIC, in NSG and VNet logs alike —
and returns a :class:`~flowkit.findings.Finding` whose verdict is one of
:data:`VERDICTS`.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(flow_time="2024-05-01T10:15:00Z", src_ip="10.10.1.4", dst_ip="10.10.3.4", src_port=50001,
...              dst_port=1433, protocol=6, direction="inbound", decision="deny", state="D",
...              encryption="NX", rule="UserRule_DenyWebToSql", acl_id="nsg-guid", mac="000D3A000301",
...              log_type="vnet")]
>>> f = diagnose(coerce(pd.DataFrame(rows)), "10.10.1.4", "10.10.3.4", port=1433)
>>> f.verdict, f.facts["rule"], f.facts["where"]
('denied', 'UserRule_DenyWebToSql', 'destination-inbound')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowkit.addresses import canonical_ip
from flowkit.analysis.compare_keys import is_avnm_rule
from flowkit.analysis.copies import TUPLE_IDENTITY
from flowkit.analysis.counting import counters
from flowkit.analysis.keys import (SESSION_NOTE, address_mask, category_mask, denied_mask, epoch_ms, hour_floor,
                                   ip_codes, join_labels, protocol_number, value_order)
from flowkit.analysis.replies import reply_counts
from flowkit.analysis.sessions import flow_sessions
from flowkit.filters import filter_mask
from flowkit.findings import Finding
from flowkit.schema import ENCRYPTION_DROPS, categorical, require_columns
from flowkit.sources.times import utc_text

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["diagnose", "VERDICTS", "logged_nics"]

#: Verdicts of :func:`diagnose`, with their severities.
VERDICTS = {
    "denied": "high",
    "encryption-dropped": "high",
    "lost-in-transit": "high",
    "no-reply": "medium",
    "ok": "info",
    "not-observed": "low",
}

#: Why VNet encryption dropped a flow, per state (Microsoft's VNet flow logs overview).
_ENCRYPTION_DROP_WHY = {
    "NX_NOT_ACCEPTED": ("for not being encrypted (NX_NOT_ACCEPTED: VNet encryption enforcement is 'drop "
                        "unencrypted' and one end cannot encrypt)"),
    "NX_SW_NOT_READY": ("while the host's networking software was not ready to encrypt (NX_SW_NOT_READY: "
                        "the VM starting, restarting or redeployed, or an update on its host; it should "
                        "pass, and Microsoft asks for a report if it lasts)"),
    "NX_NOT_SUPPORTED": ("because the host's networking stack cannot discover encryption, so no encryption "
                         "session was set up (NX_NOT_SUPPORTED: Microsoft asks for a report)"),
}
_ROW_COLUMNS = ("flow_time", "mac", "log_type", "direction", "decision", "state", "encryption",
                "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "packets_sent", "bytes_sent",
                "packets_received", "bytes_received", "rule", "acl_id", "resource_id", "blob")


#: A destination NIC that logged nothing this long before the first attempt to this long after the
#: last may have been stopped then: a lost-in-transit summary says so.
QUIET_MARGIN = pd.Timedelta(minutes=10)


def _quiet_note(sent_times: pd.Series, dst_times: pd.Series) -> str:
    """A sentence when the destination NIC logged nothing around the attempts (else "")."""
    first, last = sent_times.min(), sent_times.max()
    near = (dst_times >= first - QUIET_MARGIN) & (dst_times <= last + QUIET_MARGIN)
    if bool(near.any()):
        return ""
    before, after = dst_times[dst_times < first], dst_times[dst_times > last]
    last_before = f"last at {utc_text(before.max())}" if len(before) else "none before"
    next_after = f"next at {utc_text(after.min())}" if len(after) else "none after"
    return (f" But the destination NIC logged nothing within {int(QUIET_MARGIN.total_seconds() // 60)} minutes "
            f"of these attempts (its tuples: {last_before}, {next_after}): if its VM was stopped then, "
            f"that explains it as well.")


#: How summaries name a protocol (any other: "protocol 47").
_PROTOCOL_LABELS = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6"}


def _protocol_label(proto: int | None) -> str:
    """``TCP``, ``UDP``, ``ICMP``, ``ICMPv6`` or ``protocol 47``; empty for any protocol."""
    if proto is None:
        return ""
    return _PROTOCOL_LABELS.get(proto, f"protocol {proto}")


def _nsg_name(resource: Any) -> str | None:
    text = "" if resource is None or pd.isna(resource) else str(resource)
    if "/" in text and "networksecuritygroups" in text.lower():
        return text.rstrip("/").split("/")[-1]
    return None


def logged_nics(flows: pd.DataFrame, inventory: "Inventory | None" = None) -> pd.DataFrame:
    """The NICs (MACs) that have tuples in ``flows``: when, how many, their addresses.

    Returns a frame with mac, vm, addresses, log_types, first_seen, last_seen, tuples,
    hours (logged hours, comma-separated ``HH:00``).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"flow_time": ["2024-05-01T10:00:00Z"], "src_ip": ["10.0.0.4"],
    ...                          "dst_ip": ["192.0.2.1"], "direction": ["outbound"],
    ...                          "mac": ["000D3A000101"], "log_type": ["vnet"]}))
    >>> row = logged_nics(f).iloc[0]
    >>> row["mac"], row["addresses"], int(row["tuples"])
    ('000D3A000101', '10.0.0.4', 1)
    """
    cols = ["mac", "vm", "addresses", "log_types", "first_seen", "last_seen", "tuples", "hours"]
    if len(flows) == 0:
        return pd.DataFrame({c: [] for c in cols})
    src, dst, ips = ip_codes(flows)
    own = np.where(category_mask(flows["direction"], "outbound"), src,
                   np.where(category_mask(flows["direction"], "inbound"), dst, -1))
    macs = flows["mac"]
    mac_codes = macs.cat.codes.to_numpy(np.int64)
    t = epoch_ms(flows["flow_time"])
    work = pd.DataFrame({"m": mac_codes, "t": t, "h": t // 3_600_000, "own": own,
                         "lt": flows["log_type"].cat.codes.to_numpy(np.int64)})
    work = work[work["m"] >= 0]
    base = work.groupby("m", sort=True).agg(first=("t", "min"), last=("t", "max"), tuples=("t", "size"))
    ip_names = np.asarray(ips, dtype=object)
    lt_names = np.asarray(flows["log_type"].cat.categories.astype(str), dtype=object)
    m_index = base.index.to_numpy()
    edge = np.searchsorted(m_index, work["m"].to_numpy())

    def joined(values: np.ndarray, names: np.ndarray) -> np.ndarray:
        """Each NIC's distinct values as sorted, comma-joined names (vectorised: one pass)."""
        ok = values >= 0
        if not ok.any():
            return np.full(len(m_index), "", dtype=object)
        return join_labels(edge[ok], values[ok], len(m_index), limit=len(names) + 1, names=names)

    # The hour of day: the same hour of two days is one "HH:00".
    hour_names = np.array([f"{h:02d}:00" for h in range(24)], dtype=object)
    out = pd.DataFrame({
        "mac": np.asarray(macs.cat.categories.astype(str), dtype=object)[m_index],
        "addresses": joined(work["own"].to_numpy(np.int64), ip_names),
        "log_types": joined(work["lt"].to_numpy(np.int64), lt_names),
        "first_seen": pd.to_datetime(base["first"].to_numpy(), unit="ms", utc=True),
        "last_seen": pd.to_datetime(base["last"].to_numpy(), unit="ms", utc=True),
        "tuples": base["tuples"].to_numpy(np.int64),
        "hours": joined((work["h"].to_numpy(np.int64) % 24), hour_names),
    })
    # By MAC, not by category code: the categories' order is the order the reader met the NICs.
    out = out.sort_values("mac", kind="stable").reset_index(drop=True)
    mac_vm = inventory.mac_map("vm") if inventory is not None else {}
    out["vm"] = [mac_vm.get(m) for m in out["mac"]]
    return out[cols]


def _observations(rows: pd.DataFrame) -> pd.DataFrame:
    """Matching rows grouped by observer, decision, state and rule."""
    c = counters(rows)
    work = pd.DataFrame({
        "mac": rows["mac"].astype(object), "log_type": rows["log_type"].astype(object),
        "direction": rows["direction"].astype(object), "decision": rows["decision"].astype(object),
        "state": rows["state"].astype(object).fillna("-"),
        "encryption": rows["encryption"].astype(object).fillna("-"),
        "rule": rows["rule"].astype(object).fillna("-"),
        "acl_id": rows["acl_id"].astype(object).where(rows["acl_id"].notna(),
                                                      rows["resource_id"].astype(object)).fillna("-"),
        "flow_time": rows["flow_time"], "src_port": rows["src_port"],
        **{k: c[k] for k in ("packets_sent", "bytes_sent", "packets_received", "bytes_received")},
    })
    keys = ["mac", "log_type", "direction", "decision", "state", "encryption", "rule", "acl_id"]
    out = work.groupby(keys, sort=True, dropna=False).agg(
        first_seen=("flow_time", "min"), last_seen=("flow_time", "max"), tuples=("flow_time", "size"),
        src_ports=("src_port", "nunique"), packets_sent=("packets_sent", "sum"),
        bytes_sent=("bytes_sent", "sum"), packets_received=("packets_received", "sum"),
        bytes_received=("bytes_received", "sum")).reset_index()
    for k in ("packets_sent", "bytes_sent", "packets_received", "bytes_received"):
        out[k] = out[k].astype(np.int64)
    return out.sort_values(["first_seen", "mac", "direction"], kind="stable").reset_index(drop=True)


class _Names:
    """Address -> "10.10.1.4 (web-01)" using the inventory or the logged NICs."""

    def __init__(self, inventory: "Inventory | None", nics: pd.DataFrame) -> None:
        self.vm = inventory.ip_map("vm") if inventory is not None else {}
        self.mac_vm = inventory.mac_map("vm") if inventory is not None else {}

    def __call__(self, ip: str) -> str:
        vm = self.vm.get(ip)
        return f"{ip} ({vm})" if vm else ip

    def mac(self, mac: str) -> str:
        vm = self.mac_vm.get(mac)
        return f"{mac} ({vm})" if vm else mac


def _macs_of(flows: pd.DataFrame, address: str, inventory: "Inventory | None") -> set[str]:
    """MACs of the NIC(s) holding ``address``, learned from the rows and the inventory."""
    inbound = category_mask(flows["direction"], "inbound")
    outbound = category_mask(flows["direction"], "outbound")
    own = (inbound & address_mask(flows["dst_ip"], address)) | (outbound & address_mask(flows["src_ip"], address))
    macs = set(flows.loc[own, "mac"].astype(object).dropna().unique())
    if inventory is not None:
        hit = inventory.by_ip(address)
        if hit and hit.get("mac"):
            macs.add(hit["mac"])
    return macs


def diagnose(
    flows: pd.DataFrame,
    src: str,
    dst: str,
    port: int | None = None,
    protocol: int | str | None = None,
    start: Any = None,
    end: Any = None,
    *,
    inventory: "Inventory | None" = None,
) -> Finding:
    """Diagnose traffic from ``src`` to ``dst`` using every observation at both ends.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table (NSG and VNet rows may be mixed).
    src, dst : str
        Source and destination IP addresses (the initiator is the source).
    port : int, optional
        Destination port.
    protocol : {"tcp", "udp", "icmp", "icmpv6"} or int, optional
    start, end : timestamp-like, optional
        Only look at ``start <= flow_time < end``.
    inventory : flowkit.inventory.Inventory, optional
        Names VMs in the summary and evidence.

    Returns
    -------
    Finding
        ``verdict`` is one of :data:`VERDICTS`:

        - ``denied``: a rule dropped it; ``facts`` name the ``rule``, the ``acl_id``
          (the VNet aclID, or the NSG resource ID for NSG logs) and ``where``
          (``source-outbound`` or ``destination-inbound``) and the ``attempts``
          (distinct source port and second: one denial logged by an NSG flow log and
          a VNet flow log counts once) at that place; denials at the destination when
          the source denied too are said apart in the summary;
        - ``encryption-dropped``: dropped by VNet encryption (``NX_NOT_ACCEPTED``, or the
          host could not encrypt: ``NX_SW_NOT_READY``, ``NX_NOT_SUPPORTED``);
          ``facts["encryption"]`` lists the states. Where a rule denied attempts too,
          the verdict is ``denied`` and the summary says the drops apart;
        - ``lost-in-transit``: allowed and sent at the source, never seen at a
          destination NIC that was logged in those hours (a route, NVA or firewall
          in between);
        - ``no-reply``: reached the destination (or left the source, when the
          destination is not logged) but nothing came back;
        - ``ok``: traffic flowed both ways;
        - ``not-observed``: no tuple matches; ``facts["logged_macs"]`` lists the NICs
          that were logged.

        ``facts`` holds verdict, rule, acl_id, where, reason, evidence_rows (the
        matching tuples) and more; ``evidence`` the observations, tuples, sessions
        and logged NICs.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> rows = [dict(flow_time="2024-05-01T10:00:00Z", src_ip="10.0.0.4", dst_ip="198.51.100.10",
    ...              src_port=50000, dst_port=443, protocol=6, direction="outbound", decision="allow",
    ...              state="E", packets_sent=5, bytes_sent=500, packets_received=4, bytes_received=4000,
    ...              mac="000D3A000101", log_type="vnet")]
    >>> diagnose(coerce(pd.DataFrame(rows)), "10.0.0.4", "198.51.100.10", 443).verdict
    'ok'
    >>> diagnose(coerce(pd.DataFrame(rows)), "10.0.0.4", "10.9.9.9").verdict
    'not-observed'
    """
    require_columns(flows, TUPLE_IDENTITY, "diagnose")
    flows = categorical(flows)  # joined or anonymised frames hold text, not categories
    src, dst = canonical_ip(src), canonical_ip(dst)  # the table's spelling: 2001:DB8:0::4 is 2001:db8::4
    proto = protocol_number(protocol)
    window = filter_mask(flows, start=start, end=end)
    scope = flows.loc[window] if not window.all() else flows
    match = filter_mask(scope, src=src, dst=dst, ports=port, protocol=proto)
    rows = scope.loc[match]
    rows = rows.iloc[value_order(rows, [c for c in _ROW_COLUMNS if c in rows.columns])]  # whatever the read order
    nics = logged_nics(scope, inventory)
    name = _Names(inventory, nics)
    service = " ".join(x for x in (_protocol_label(proto), f"port {port}" if port is not None else "") if x)
    what = f"{service} traffic" if service else "traffic"
    title = f"Connectivity {src} -> {dst}" + (f" {service}" if service else "")
    evidence_rows = [c for c in _ROW_COLUMNS if c in rows.columns]
    base_evidence = {"logged_nics": nics}
    facts: dict[str, Any] = {"verdict": None, "rule": None, "acl_id": None, "where": None,
                             "reason": None, "evidence_rows": int(len(rows))}

    def finish(verdict: str, reason: str, **extra: Any) -> Finding:
        reason = reason[:1].upper() + reason[1:]
        facts.update(verdict=verdict, reason=reason, **extra)
        evidence = {}
        if len(rows):
            evidence["observations"] = _observations(rows)
            evidence["tuples"] = rows[evidence_rows].reset_index(drop=True)
            evidence["sessions"] = flow_sessions(rows)
        evidence.update(base_evidence)
        return Finding(title=title, verdict=verdict, severity=VERDICTS[verdict], summary=reason,
                       evidence=evidence, facts=facts, notes=[SESSION_NOTE])

    src_txt, dst_txt = name(src), name(dst)
    if scope.empty:  # nothing to judge by: say so, rather than that neither end is logged
        reason = (f"No tuple of {what} from {src_txt} to {dst_txt}: the flows given hold no tuple at all"
                  + (f" in the window (they run from {utc_text(flows['flow_time'].min())} to "
                     f"{utc_text(flows['flow_time'].max())})" if len(flows) else "")
                  + ". Nothing can be said about the connection: check the path, the time window "
                    "(the logs' hours) and the log type that were read.")
        return finish("not-observed", reason, logged_macs=[])
    if rows.empty:
        macs = nics["mac"].tolist()
        src_macs, dst_macs = _macs_of(scope, src, inventory), _macs_of(scope, dst, inventory)
        logged = ", ".join(name.mac(m) for m in macs) or "none"
        ends = []
        ends.append(f"{src} is {'a logged NIC (' + ', '.join(sorted(src_macs)) + ')' if src_macs & set(macs) else 'not the address of any logged NIC'}")
        ends.append(f"{dst} is {'a logged NIC (' + ', '.join(sorted(dst_macs)) + ')' if dst_macs & set(macs) else 'not the address of any logged NIC'}")
        reason = (f"No tuple of {what} from {src_txt} to {dst_txt} in the logs. "
                  f"{'; '.join(ends)}. Logged NICs (MAC): {logged}.")
        # Flow logs name the end that opened the connection as the source: the same question
        # asked the other way round is the usual slip, and the logs can say so.
        swapped = int(filter_mask(scope, src=dst, dst=src, ports=port, protocol=proto).sum())
        if swapped:
            reason += (f" {swapped} tuple(s) of {what} from {dst_txt} to {src_txt} are in the logs: the source "
                       "is the end that opens the connection; were source and destination swapped?")
        if proto is not None:  # the same pair and port over another protocol (udp asked, tcp logged)
            other = scope.loc[filter_mask(scope, src=src, dst=dst, ports=port)]
            if len(other):
                seen = sorted({int(p) for p in other["protocol"].dropna()})
                labels = ", ".join(_protocol_label(p) or str(p) for p in seen)
                reason += (f" {len(other)} tuple(s) from {src_txt} to {dst_txt}"
                           + (f" port {port}" if port is not None else "")
                           + f" are in the logs over {labels}: was the protocol the one meant?")
        return finish("not-observed", reason, logged_macs=macs)

    deny = denied_mask(rows)
    enc_drop = deny & category_mask(rows["encryption"], ENCRYPTION_DROPS)
    outbound = category_mask(rows["direction"], "outbound")
    inbound = category_mask(rows["direction"], "inbound")
    def between(times: pd.Series) -> str:
        first, last = utc_text(times.min()), utc_text(times.max())
        return f"at {first}" if first == last else f"between {first} and {last}"

    span = between(rows["flow_time"])

    if deny.any():
        # A rule's denials outrank VNet encryption's drops (a VM restarting drops a few
        # attempts, NX_SW_NOT_READY; the rule denies every one): those are said apart.
        by_encryption = bool(enc_drop.any()) and not (deny & ~enc_drop).any()
        dropped = rows.loc[enc_drop if by_encryption else deny & ~enc_drop]
        where_out = category_mask(dropped["direction"], "outbound")
        at = dropped.loc[where_out] if where_out.any() else dropped
        # The place, rule, count and times all describe the drops at the one place named:
        # attempts dropped at the destination (before a rule was added at the source, say)
        # are said apart, not counted as the source rule's.
        span = between(at["flow_time"])  # when the drops happened, not the allowed tuples around them
        where = "source-outbound" if where_out.any() else "destination-inbound"
        acl = at["acl_id"].astype(object).where(at["acl_id"].notna(), at["resource_id"].astype(object))
        pair = pd.DataFrame({"rule": at["rule"].astype(object), "acl": acl}).value_counts(dropna=False)
        # The most frequent (rule, ACL); ties (one denial logged by an NSG and a VNet flow log)
        # go to the alphabetically smallest, as in denied_summary: never to the order of rows.
        rule, acl_id = min(pair.index[pair.to_numpy() == pair.max()],
                           key=lambda k: tuple((pd.isna(v), "" if pd.isna(v) else str(v)) for v in k))
        rule = None if pd.isna(rule) else str(rule)
        acl_id = None if pd.isna(acl_id) else str(acl_id)
        # One attempt per source port and second, as denied_summary counts within a group (whose
        # key holds the rule: there, two logs naming the rule differently make two groups). NSG
        # flow logs time tuples in whole seconds, VNet flow logs in milliseconds; both may log it.
        tried = _attempts(at)
        elsewhere = len(_attempts(dropped.loc[~where_out]).difference(tried)) if where_out.any() else 0
        attempts = len(tried)
        allowed_n = int((~deny).sum())
        macs = ", ".join(name.mac(m) for m in sorted(at["mac"].astype(object).unique()))
        side = "the source NIC, outbound" if where == "source-outbound" else "the destination NIC, inbound"
        extra = ""
        if where == "destination-inbound" and outbound.any() and not (deny & outbound).any():
            extra = " The source NIC let it out (allowed outbound); it was dropped on arrival."
        if elsewhere:
            extra += (f" {elsewhere} other attempt(s) were dropped at the destination NIC, inbound, "
                      f"{between(dropped.loc[~where_out, 'flow_time'])}.")
        if allowed_n:
            extra += f" {allowed_n} other tuple(s) of this traffic were allowed."
        if enc_drop.any() and not by_encryption:
            lost = rows.loc[enc_drop]
            states = ", ".join(s for s in ENCRYPTION_DROPS if category_mask(lost["encryption"], s).any())
            extra += (f" {len(_attempts(lost))} other attempt(s) were dropped by VNet encryption ({states}) "
                      f"{between(lost['flow_time'])}.")
        if by_encryption:
            states = [s for s in ENCRYPTION_DROPS if category_mask(at["encryption"], s).any()]
            why = ", and ".join(_ENCRYPTION_DROP_WHY[s] for s in states)
            reason = (f"{what} from {src_txt} to {dst_txt} was dropped {why} at {side} ({macs}): "
                      f"{attempts} attempt(s) {span}. Rule and aclID "
                      f"are '{rule}' / '{acl_id}': no NSG rule is involved.{extra}")
            return finish("encryption-dropped", reason, rule=rule, acl_id=acl_id, where=where,
                          attempts=attempts, encryption=states)
        nsg = _nsg_name(acl_id) or _nsg_name(at["resource_id"].astype(object).iloc[0])
        # An AVNM security admin rule is found in Virtual Network Manager, not in any NSG: say so
        # (only VNet flow logs see those rules; an NSG flow log's rule is always an NSG's).
        avnm = (", a security admin rule of Azure Virtual Network Manager (evaluated before the NSGs: "
                "look for it there, not in an NSG)"
                if is_avnm_rule(rule) and category_mask(at["log_type"], "vnet").any() else "")
        by = (f"rule {rule}" + (f" of NSG {nsg}" if nsg else "") + (f" (aclID {acl_id})" if acl_id else "")
              + avnm)
        reason = (f"{what} from {src_txt} to {dst_txt} was denied at {side} ({macs}) by {by}: "
                  f"{attempts} denied attempt(s) {span}.{extra}")
        return finish("denied", reason, rule=rule, acl_id=acl_id, where=where, nsg=nsg,
                      attempts=attempts)

    sent, received, known, no_counters = reply_counts(rows)
    at_src, at_dst = bool(outbound.any()), bool(inbound.any())
    seen = " and ".join(s for s, ok in (("outbound at the source NIC", at_src),
                                          ("inbound at the destination NIC", at_dst)) if ok)
    counts = f"{sent} packet(s) sent, {received} received" if known else no_counters
    # UDP needs no answer: a no-reply verdict on one-way UDP (syslog, SNMP traps) is no fault.
    one_way = (" UDP expects no reply: for one-way traffic (syslog, SNMP traps, NetFlow export) "
               "this is normal." if bool((rows["protocol"] == 17).all()) else "")
    if received > 0:
        reason = (f"{what} from {src_txt} to {dst_txt} flowed both ways: seen {seen}, {counts}, {span}.")
        return finish("ok", reason, packets_sent=sent, packets_received=received)
    if at_dst:
        if not known:
            reason = (f"{what} from {src_txt} to {dst_txt} was allowed and reached the destination NIC "
                      f"(seen {seen}) {span}; {no_counters}, so replies cannot be confirmed.")
            return finish("ok", reason, replies_confirmed=False)
        reason = (f"{what} from {src_txt} to {dst_txt} reached the destination NIC (seen {seen}) but "
                  f"nothing came back: {counts}, {span}. The destination accepted the packets at the "
                  f"network level; check that a service listens on the port and that the host "
                  f"firewall answers.{one_way}")
        return finish("no-reply", reason, where="destination", packets_sent=sent, packets_received=0)
    # Seen only at the source: was the destination NIC logged while the source sent?
    # (No counters are needed for this: absence at a logged destination is the evidence.)
    dst_macs = _macs_of(scope, dst, inventory)
    src_hours = set(hour_floor(rows.loc[outbound, "flow_time"]))
    dst_rows = scope.loc[category_mask(scope["mac"], sorted(dst_macs))] if dst_macs else scope.iloc[:0]
    covered = sorted(src_hours & set(hour_floor(dst_rows["flow_time"]))) if len(dst_rows) else []
    sent_facts = {"packets_sent": sent} if known else {"replies_confirmed": False}
    if covered:
        hours = ", ".join(h.strftime("%H:00") for h in covered)
        macs = ", ".join(name.mac(m) for m in sorted(dst_macs))
        sent_at = f"({counts}, {span})" if known else f"{span} (no packet counts: {no_counters})"
        quiet = _quiet_note(rows.loc[outbound, "flow_time"], dst_rows["flow_time"])
        reason = (f"{what} from {src_txt} to {dst_txt} was allowed and sent at the source NIC {sent_at} "
                  f"but never seen at the destination NIC {macs}, which was logged in the same "
                  f"hour(s) ({hours}). Something between them dropped it: a route (UDR), a network "
                  f"virtual appliance or a firewall.{quiet}")
        return finish("lost-in-transit", reason, where="in-transit", packets_received=0,
                      destination_macs=sorted(dst_macs), **sent_facts)
    why = ("is not the address of any NIC in these logs" if not dst_macs else
           "was not logged while the source sent")
    if not known:
        reason = (f"{what} from {src_txt} to {dst_txt} was allowed and left the source NIC {span}; "
                  f"{no_counters}, and the destination {why}, so replies cannot be confirmed.")
        return finish("ok", reason, replies_confirmed=False)
    reason = (f"{what} from {src_txt} to {dst_txt} left the source NIC ({counts}, {span}) but nothing "
              f"came back. The destination {why}, so whether it arrived cannot be told from these logs."
              f"{one_way}")
    return finish("no-reply", reason, where="source", packets_sent=sent, packets_received=0)


def _attempts(dropped: pd.DataFrame) -> pd.MultiIndex:
    """Distinct (source port, second) of dropped tuples: one attempt logged twice counts once."""
    return pd.MultiIndex.from_arrays([dropped["src_port"].to_numpy(np.int64),
                                      epoch_ms(dropped["flow_time"]) // 1000]).unique()
