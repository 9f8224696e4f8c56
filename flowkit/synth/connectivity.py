"""Scenario (a) ``connectivity``: VNet flow logs, a denied, a lost and an unanswered flow.

Examples
--------
>>> built = build(seed=1)
>>> [d["verdict"] for d in built.expected["diagnoses"][:3]]
['denied', 'lost-in-transit', 'no-reply']
"""

from __future__ import annotations

import random
from typing import Any

from flowkit.synth.emit import emit
from flowkit.synth.estate import Nic, VnetFlowLog, seeded_guid, vnet_id
from flowkit.synth.estates import app_nics, by_vm
from flowkit.synth.flows import TCP, UDP, Flow, Sighting, protocol_name
from flowkit.synth.plan import DEFAULT_SEED, Built, Planner, acl_default, acl_user, iso, tally, totals
from flowkit.synth.readmes import connectivity_readme

__all__ = ["build", "FLOW_LOG"]

FLOW_LOG = "fl-vnet-app"
HOURS = (10, 11)
LATEST_END = 118  # minutes after 10:00: every healthy flow ends by 11:58
NO_REPLY = (4.0 / 21, 60, 0.0, 0)  # SYN and its retries, about 4 packets in 21 s
#: Where each verdict locates the problem.
WHERE = {"denied": "destination-inbound", "lost-in-transit": "in-transit", "no-reply": "destination",
         "ok": None}


def _vnet(nic: Nic, direction: str, rule: str, acl: str, allowed: bool = True,
          offset_ms: int = 0) -> Sighting:
    return Sighting("vnet", FLOW_LOG, nic.mac, direction, rule, allowed, acl, "NX", offset_ms)


def _out(nic: Nic, internet: bool = False) -> Sighting:
    rule = "DefaultRule_AllowInternetOutBound" if internet else "DefaultRule_AllowVnetOutBound"
    return _vnet(nic, "O", rule, acl_default(nic.subnet_nsg or ""))


def _in(nic: Nic, rule: str, allowed: bool = True) -> Sighting:
    # The destination host's clock runs 2 ms behind the source's: no exact timestamp joins.
    acl = acl_user(nic.subnet_nsg or "") if rule.startswith("UserRule_") else acl_default(nic.subnet_nsg or "")
    return _vnet(nic, "I", rule, acl, allowed, offset_ms=2)


def _plan(p: Planner, nics: dict[str, Nic]) -> None:
    web1, web2, app1, app2, db1, cache1 = (nics[v] for v in
                                           ("web-01", "web-02", "app-01", "app-02", "db-01", "cache-01"))
    rng = p.rng
    # 1. denied at the destination: web-01 -> db-01:1433, one attempt a minute 10:15-10:44.
    for minute in range(15, 45):
        start = p.at(10, minute, rng.randint(0, 30))
        f = p.flow(web1.ip, db1.ip, 1433, TCP, start, start + 21_000, NO_REPLY, "denied",
                   rule="UserRule_DenyWebToSql", acl_id=acl_user("nsg-snet-data"))
        f.sightings += [_out(web1), _in(db1, "UserRule_DenyWebToSql", allowed=False)]
    # 2. lost in transit: app-01 -> cache-01:6379 10:20-11:19, never reaches cache-01.
    for minute in range(20, 80):
        start = p.at(10, minute, rng.randint(0, 30))
        f = p.flow(app1.ip, cache1.ip, 6379, TCP, start, start + 21_000, NO_REPLY, "lost-in-transit")
        f.sightings.append(_out(app1))
    # 3. no reply: web-02 -> app-02:8080 10:30-11:29, seen at both ends, never answered.
    for minute in range(30, 90):
        start = p.at(10, minute, rng.randint(0, 30))
        f = p.flow(web2.ip, app2.ip, 8080, TCP, start, start + 21_000, NO_REPLY, "no-reply")
        f.sightings += [_out(web2), _in(app2, "UserRule_AllowWebToApp")]
    # 4. healthy traffic.
    for web in (web1, web2):
        for _ in range(5):
            f = p.flow(web.ip, app1.ip, 8080, TCP, *p.span(0, 110, 2, 40, LATEST_END), (8.0, 350, 7.0, 1400))
            f.sightings += [_out(web), _in(app1, "UserRule_AllowWebToApp")]
    for _ in range(3):
        f = p.flow(app1.ip, db1.ip, 1433, TCP, *p.span(0, 2, 110, 118, LATEST_END), (15.0, 250, 14.0, 1100))
        f.sightings += [_out(app1), _in(db1, "UserRule_AllowAppToSql")]
    for lo, hi in ((0, 5), (0, 5), (30, 100), (60, 110)):
        f = p.flow(app2.ip, cache1.ip, 6379, TCP, *p.span(lo, hi, 3, 110, LATEST_END), (30.0, 120, 30.0, 200))
        f.sightings += [_out(app2), _in(cache1, "UserRule_AllowAppToRedis")]
    for _ in range(12):
        web = rng.choice((web1, web2))
        client = f"203.0.113.{rng.randint(10, 250)}"
        f = p.flow(client, web.ip, 443, TCP, *p.span(0, 112, 1, 8, LATEST_END), (3.0, 300, 4.0, 1200))
        f.sightings.append(_in(web, "UserRule_AllowHttpsInbound"))
    for web in (web1, web2):
        for _ in range(3):
            f = p.flow(web.ip, "198.51.100.10", 443, TCP, *p.span(0, 108, 1, 10, LATEST_END),
                       (2.0, 400, 3.0, 1300))
            f.sightings.append(_out(web, internet=True))
    for start, end in ((p.at(10, 0, 7), p.at(10, 59, 40)), (p.at(11, 0, 5), p.at(11, 58, 30))):
        # syslog to the collector on db-01, which acknowledges batches with small datagrams
        f = p.flow(app1.ip, db1.ip, 514, UDP, start, end, (2.0, 300, 0.2, 64))
        f.sightings += [_out(app1), _in(db1, "UserRule_AllowSyslog")]
    # 5. internet scanners, denied by the default rule at web-01.
    for i in range(40):
        start = p.at(10, 5 + i // 4, (i % 4) * 12 + rng.randint(0, 8))
        f = p.flow("192.0.2.66", web1.ip, 22, TCP, start, start, NO_REPLY, "denied",
                   rule="DefaultRule_DenyAllInBound", acl_id=acl_default("nsg-snet-web"))
        f.sightings.append(_in(web1, "DefaultRule_DenyAllInBound", allowed=False))
    scanners = sorted({rng.randint(2, 250) for _ in range(12)} - {66})
    for _ in range(20):
        start = p.at(10, rng.randint(0, 118), rng.randint(0, 50))
        f = p.flow(f"192.0.2.{rng.choice(scanners)}", web1.ip, rng.choice((22, 3389)), TCP, start, start,
                   NO_REPLY, "denied", rule="DefaultRule_DenyAllInBound", acl_id=acl_default("nsg-snet-web"))
        f.sightings.append(_in(web1, "DefaultRule_DenyAllInBound", allowed=False))


def _diagnoses(built_flows: list[Flow], emission: Any, nics: dict[str, Nic]) -> list[dict[str, Any]]:
    vm_of = {n.mac: n.vm for n in nics.values()}
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(built_flows):
        groups.setdefault((f.src_ip, f.dst_ip, f.dst_port, f.protocol), []).append(i)
    out = []
    for (src, dst, port, proto), indexes in groups.items():
        labels = {built_flows[i].label for i in indexes}
        assert len(labels) == 1, labels
        verdict = labels.pop()
        first = built_flows[indexes[0]]
        where: dict[tuple, list] = {}
        for i in indexes:
            for si, s in enumerate(built_flows[i].sightings):
                where.setdefault((s.mac, s.direction, s.log, s.rule, s.acl_id, s.allowed), []).extend(
                    emission.logged[(i, si)])
        observed = [{"mac": mac, "vm": vm_of[mac], "direction": "inbound" if d == "I" else "outbound",
                     "log_type": log, "decision": "allow" if allowed else "deny", "rule": rule,
                     "acl_id": acl, **tally(logged)}
                    for (mac, d, log, rule, acl, allowed), logged in where.items()]
        out.append({"src": src, "dst": dst, "port": port, "protocol": protocol_name(proto),
                    "verdict": verdict, "rule": first.notes.get("rule"), "acl_id": first.notes.get("acl_id"),
                    "where": WHERE[verdict], "flows": len(indexes),
                    "first": iso(min(built_flows[i].start_ms for i in indexes)),
                    "last": iso(max(built_flows[i].end_ms for i in indexes)),
                    "observed": observed})
    out.append({"src": "10.10.1.4", "dst": "10.10.9.9", "port": 443, "protocol": "TCP",
                "verdict": "not-observed", "rule": None, "acl_id": None, "where": None, "flows": 0,
                "first": None, "last": None, "observed": []})
    return out


def build(seed: int = DEFAULT_SEED) -> Built:
    """Generate the connectivity scenario.

    Parameters
    ----------
    seed : int
        Seed of every random choice (ports, times, counters, record times).

    Returns
    -------
    Built
        Blobs, inventory, ``expected.json`` content and README text.

    Examples
    --------
    >>> b = build(0)
    >>> b.expected["totals"]["tuples"] == b.emission.tuples
    True
    """
    nic_list = app_nics()
    nics = by_vm(nic_list)
    p = Planner(seed)
    _plan(p, nics)
    log = VnetFlowLog(FLOW_LOG, vnet_id("vnet-app"), seeded_guid(random.Random(f"guid-{FLOW_LOG}")),
                      frozenset(n.mac for n in nic_list), HOURS)
    emission = emit(p.flows, [log], seed)
    expected = {
        "scenario": "connectivity",
        "log_types": ["vnet"],
        "hours": [f"2024-05-01T{h:02d}:00:00Z" for h in HOURS],
        "flow_log": {"name": FLOW_LOG, "resource_id": log.resource_id,
                     "target_resource_id": log.target_resource_id, "guid": log.guid},
        "totals": {**totals(emission, p.flows), "flows": len(p.flows)},
        "diagnoses": _diagnoses(p.flows, emission, nics),
        "flows": [{**f.key_dict(), "verdict": f.label, "start": iso(f.start_ms), "end": iso(f.end_ms),
                   "tuples": sum(len(emission.logged[(i, si)]) for si in range(len(f.sightings)))}
                  for i, f in enumerate(p.flows)],
    }
    return Built("connectivity", nic_list, emission, expected, connectivity_readme(expected))
