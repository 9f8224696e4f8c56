"""The NSG flow log (version 2) a NIC's NSG writes for the hour a VNet flow log blob covers.

During a migration both logs run side by side and see the same flows, each in its
own way (FORMATS.md). :func:`nsg_twin` turns a VNet blob into the NSG v2 blob of
the same NIC and hour, the way Azure would have logged those flows, so that a
benchmark or a test of the NSG vs VNet reconciliation has two logs whose every
difference has a known cause:

* a flow denied by an AVNM security admin rule (any rule but ``DefaultRule_*``, ``UserRule_*``
  and ``unspecified``: bare as in Microsoft's sample, or with a GUID suffix; state ``D``)
  never reaches the NSG: **absent** from the NSG log (``avnm-rule``);
* a flow allowed by an AVNM rule is still evaluated by the NSG, logged under
  ``DefaultRule_AllowVnetInBound`` or ``...OutBound`` (by the direction of the
  group's first tuple: the rule name is not what a reconciliation compares);
* a flow dropped for lack of encryption (``NX_NOT_ACCEPTED``, ACL ``unspecified``)
  was allowed by the NSG: logged as allowed, state ``B`` (``encryption-drop``);
* a flow denied by an NSG rule (state ``D``): decision ``D``, state ``B``, empty counters;
* ``B`` tuples carry empty counters, and UDP tuples zeros, since NSG v2 counts TCP
  only (``nsg-v2-counts-tcp-only``);
* inbound TCP allowed by a user-defined rule (not ``DefaultRule_*``) is enforced
  statelessly (Microsoft's "Non-default inbound TCP rules"): its ``C`` tuples carry
  ``0,0,0,0`` and its ``E`` becomes a zero ``C`` tuple, since the NSG neither counts
  nor ends such a flow (``nsg-inbound-tcp-not-counted``);
* other ``C``/``E`` TCP tuples (outbound, or under a default rule) carry the VNet counters;
* timestamps are whole seconds; protocols ``T``/``U``.

Examples
--------
>>> from flowkit.synth.records import vnet_record
>>> from flowkit.synth.blobs import blob_bytes
>>> vnet = blob_bytes([vnet_record("2024-05-01T10:00:52.5625085Z", "g", "000D3A000101", "/FL", "/VNET",
...     [("acl", [("UserRule_AllowWebToApp", ["1714557600123,10.10.1.4,10.10.2.4,50000,8080,6,O,E,X,5,500,4,400",
...                                           "1714557601000,10.10.1.4,10.10.2.4,50001,53,17,O,C,X,1,80,1,90"]),
...               ("UserRule_AllowHttpsInbound",
...                ["1714557603000,203.0.113.7,10.10.1.4,41000,443,6,I,E,NX,3,300,2,900"]),
...               ("DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11",
...                ["1714557602000,192.0.2.9,10.10.1.4,40000,22,6,I,D,NX,0,0,0,0"])])])])
>>> import msgspec
>>> nsg = msgspec.json.decode(nsg_twin(vnet, "/SUBSCRIPTIONS/S/NSG", "sys"))
>>> for group in nsg["records"][0]["properties"]["flows"]:  # no AVNM denial; inbound HTTPS uncounted
...     print(group["rule"], *group["flows"][0]["flowTuples"], sep="\\n")
UserRule_AllowWebToApp
1714557600,10.10.1.4,10.10.2.4,50000,8080,T,O,A,E,5,500,4,400
1714557601,10.10.1.4,10.10.2.4,50001,53,U,O,A,C,0,0,0,0
UserRule_AllowHttpsInbound
1714557603,203.0.113.7,10.10.1.4,41000,443,T,I,A,C,0,0,0,0
"""

from __future__ import annotations

from typing import Any

import msgspec

from flowkit.schema import is_security_admin_rule
from flowkit.synth.records import nsg_record
from flowkit.synth.tuples import TCP, nsg_v2_uncounted

__all__ = ["nsg_twin", "nsg_twin_counted", "nsg_twin_tuple"]

_PROTOCOLS = {"6": "T", "17": "U"}


def nsg_twin_tuple(vnet_tuple: str, rule: str) -> str | None:
    """The NSG v2 tuple of one VNet tuple (None for a protocol NSG v2 cannot write).

    ``rule`` is the NSG rule that logged it (:func:`nsg_twin` picks it; AVNM denials never
    reach the NSG): inbound TCP allowed by a rule that is not ``DefaultRule_*`` gets zero
    counters and no ``E`` state.

    Examples
    --------
    >>> nsg_twin_tuple("1714557600123,10.10.1.4,10.10.2.4,50000,8080,6,O,B,NX,0,0,0,0", "DefaultRule_AllowVnetOutBound")
    '1714557600,10.10.1.4,10.10.2.4,50000,8080,T,O,A,B,,,,'
    >>> nsg_twin_tuple("1714557600123,192.0.2.9,10.10.1.4,40000,22,6,I,D,NX,0,0,0,0", "DefaultRule_DenyAllInBound")
    '1714557600,192.0.2.9,10.10.1.4,40000,22,T,I,D,B,,,,'
    >>> nsg_twin_tuple("1714557600123,10.10.1.4,10.10.2.4,50000,443,6,O,D,NX_NOT_ACCEPTED,0,0,0,0",
    ...                "DefaultRule_AllowVnetOutBound")
    '1714557600,10.10.1.4,10.10.2.4,50000,443,T,O,A,B,,,,'
    >>> nsg_twin_tuple("1714557600123,203.0.113.7,10.10.1.4,41000,443,6,I,E,NX,3,300,2,900", "UserRule_AllowHttps")
    '1714557600,203.0.113.7,10.10.1.4,41000,443,T,I,A,C,0,0,0,0'
    """
    ts, src, dst, sport, dport, proto, direction, state, encryption, p1, b1, p2, b2 = vnet_tuple.split(",")
    letter = _PROTOCOLS.get(proto)
    if letter is None:
        return None
    head = f"{int(ts) // 1000},{src},{dst},{sport},{dport},{letter},{direction}"
    if state == "D":
        decision = "A" if encryption == "NX_NOT_ACCEPTED" else "D"
        return f"{head},{decision},B,,,,"
    if state == "B":
        return f"{head},A,B,,,,"
    if letter == "U":
        return f"{head},A,{state},0,0,0,0"
    if nsg_v2_uncounted(direction, TCP, True, rule):
        return f"{head},A,C,0,0,0,0"
    return f"{head},A,{state},{p1},{b1},{p2},{b2}"


def _nsg_rule(rule: str, tuples: list[str]) -> str | None:
    """The NSG rule that logged a VNet group's flows; None when the NSG never saw them."""
    if rule == "unspecified" or is_security_admin_rule(rule):
        if tuples and tuples[0].split(",")[7] == "D" and rule != "unspecified":
            return None  # denied by an AVNM admin rule before the NSG
        inbound = bool(tuples) and tuples[0].split(",")[6] == "I"
        return "DefaultRule_AllowVnetInBound" if inbound else "DefaultRule_AllowVnetOutBound"
    return rule


def nsg_twin(vnet_blob: bytes, nsg_resource_id: str, system_id: str) -> bytes:
    """The NSG v2 blob of the NIC and hour of ``vnet_blob`` (a whole VNet flow log blob).

    Parameters
    ----------
    vnet_blob : bytes
        A VNet flow log blob ``{"records": [...]}`` of one NIC and hour.
    nsg_resource_id : str
        The NIC's NSG resource ID, upper-case as Azure writes it.
    system_id : str
        The NSG's system GUID.

    Returns
    -------
    bytes
        The NSG blob: one record per VNet record (same time and MAC), one rule
        entry per VNet flow group the NSG saw, tuples by :func:`nsg_twin_tuple`.
    """
    return nsg_twin_counted(vnet_blob, nsg_resource_id, system_id)[0]


def nsg_twin_counted(vnet_blob: bytes, nsg_resource_id: str, system_id: str) -> tuple[bytes, int]:
    """:func:`nsg_twin`, and the number of tuples in the NSG blob.

    Examples
    --------
    >>> nsg_twin_counted(b'{"records":[]}', "/NSG", "sys")
    (b'{"records":[]}', 0)
    """
    out: list[dict[str, Any]] = []
    count = 0
    for record in msgspec.json.decode(vnet_blob)["records"]:
        rules: list[tuple[str, list[str]]] = []
        for acl in record["flowRecords"]["flows"]:
            for group in acl["flowGroups"]:
                rule = _nsg_rule(group["rule"], group["flowTuples"])
                if rule is None:
                    continue
                tuples = [t for t in (nsg_twin_tuple(v, rule) for v in group["flowTuples"]) if t is not None]
                if tuples:
                    rules.append((rule, tuples))
                    count += len(tuples)
        out.append(nsg_record(record["time"], system_id, record["macAddress"], nsg_resource_id, 2, rules))
    return msgspec.json.encode({"records": out}), count
