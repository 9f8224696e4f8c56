"""Scenario (b) ``nsg-vs-vnet``: NSG flow logs v2 and VNet flow logs over the same estate.

Every flow is planned with the class its key must get when the two logs are
compared over the common window 10:00-12:00, and the cause that explains it;
the generator checks that what it wrote agrees with that plan.

Examples
--------
>>> b = build(seed=1)
>>> sorted(b.expected["totals"]["by_class"])
['matched', 'nsg-only', 'outside-window', 'vnet-only']
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from flowkit.synth.emit import emit
from flowkit.synth.estate import Nic, NsgFlowLog, VnetFlowLog, seeded_guid, vnet_id
from flowkit.synth.estates import app_nics, by_vm
from flowkit.synth.flows import TCP, UDP, Flow, Sighting
from flowkit.synth.plan import DEFAULT_SEED, Built, Planner, acl_default, acl_user, iso, tally, totals
from flowkit.synth.readmes import nsg_vs_vnet_readme

__all__ = ["build", "WINDOW", "AVNM_RULE", "AVNM_ACL"]

FLOW_LOG = "fl-vnet-app"
LOGGED_NSGS = ("nsg-snet-web", "nsg-snet-app", "nsg-nic-app-01")
#: The common window, as ISO strings and as minutes after 10:00.
WINDOW = ("2024-05-01T10:00:00Z", "2024-05-01T12:00:00Z")
AVNM_RULE = "DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"
AVNM_ACL = "7c1e3a52-9d40-4f8b-b1a6-2e5d9c0f4a17"
NO_REPLY = (4.0 / 21, 60, 0.0, 0)
IN_WINDOW_END = 118
#: Causes of a matched key whose counters differ (the NSG's are zeros, the VNet's are not).
COUNTER_CAUSES = ("nsg-v2-counts-tcp-only", "nsg-inbound-tcp-not-counted")
DIRECTION = {"I": "inbound", "O": "outbound"}


def _at(nic: Nic, direction: str, rule: str, *, allowed: bool = True, internet: bool = False,
        nsg: bool = True, vnet: bool = True, offset_ms: int = 0, encryption: str = "NX",
        vnet_rule: str | None = None, vnet_acl: str | None = None) -> list[Sighting]:
    """Sightings of a flow at one NIC: the VNet flow log, and every logged NSG on the NIC.

    ``rule`` is the subnet NSG's rule; a NIC-level NSG (app-01) allows by its default
    rules. The VNet flow log names the rule of the NSG evaluated last (inbound: the
    NIC's; outbound: the subnet's).
    """
    default = ("DefaultRule_AllowInternetOutBound" if internet else "DefaultRule_AllowVnetOutBound") \
        if direction == "O" else "DefaultRule_AllowVnetInBound"
    out = []
    if vnet:
        if vnet_rule is None and direction == "I" and nic.nic_nsg:
            vnet_rule, vnet_acl = default, acl_default(nic.nic_nsg)
        vnet_rule = vnet_rule or rule
        if vnet_acl is None:
            vnet_acl = acl_user(nic.subnet_nsg or "") if vnet_rule.startswith("UserRule_") \
                else acl_default(nic.subnet_nsg or "")
        out.append(Sighting("vnet", FLOW_LOG, nic.mac, direction, vnet_rule, allowed and vnet_rule != "unspecified",
                            vnet_acl, encryption, offset_ms))
    if nsg:
        for name in nic.nsgs:
            if name in LOGGED_NSGS:
                out.append(Sighting("nsg", name, nic.mac, direction, rule if name == nic.subnet_nsg else default,
                                    allowed))
    return out


def _plan(p: Planner, nics: dict[str, Nic]) -> None:
    web1, web2, app1, app2, db1, cache1 = (nics[v] for v in
                                           ("web-01", "web-02", "app-01", "app-02", "db-01", "cache-01"))
    rng = p.rng

    def intra(src: Nic, dst: Nic, port: int, proto: int, span: tuple[int, int], rate: tuple, in_rule: str,
              klass: str = "matched", cause: str | None = None, **kw: Any) -> Flow:
        f = p.flow(src.ip, dst.ip, port, proto, *span, rate, klass, cause=cause)
        f.sightings += _at(src, "O", "DefaultRule_AllowVnetOutBound", **kw)
        f.sightings += _at(dst, "I", in_rule, offset_ms=2, **kw)
        return f

    web_app = (8.0, 350, 7.0, 1400)
    sql = (15.0, 250, 14.0, 1100)
    # matched: web -> app, app -> db, internet <-> web, inside the window.
    for web in (web1, web2):
        for app, n in ((app1, 3), (app2, 2)):
            for _ in range(n):
                intra(web, app, 8080, TCP, p.span(0, 110, 2, 40, IN_WINDOW_END), web_app, "UserRule_AllowWebToApp")
    for _ in range(2):
        intra(app1, db1, 1433, TCP, p.span(0, 2, 110, 118, IN_WINDOW_END), sql, "UserRule_AllowAppToSql")
    intra(app2, db1, 1433, TCP, (p.at(10, 1, 12), p.at(10, 58, 41)), sql, "UserRule_AllowAppToSql")
    # a pooled connection that outlives the NSG flow logs: matched, its E only in the 12:00 VNet blob.
    intra(app1, db1, 1433, TCP, (p.at(11, 20, 9), p.at(12, 25, 33)), sql, "UserRule_AllowAppToSql")
    # nsg-inbound-tcp-not-counted: internet clients -> web 443, allowed inbound by a user rule, which the
    # NSG enforces statelessly: NSG C tuples 0,0,0,0 and no E; VNet real counters -> counter mismatch.
    for _ in range(6):
        web = rng.choice((web1, web2))
        f = p.flow(f"203.0.113.{rng.randint(10, 250)}", web.ip, 443, TCP, *p.span(0, 110, 1, 8, IN_WINDOW_END),
                   (3.0, 300, 4.0, 1200), "matched", cause="nsg-inbound-tcp-not-counted")
        f.sightings += _at(web, "I", "UserRule_AllowHttpsInbound")
    for web in (web1, web2):
        for _ in range(2):
            f = p.flow(web.ip, "198.51.100.10", 443, TCP, *p.span(0, 108, 1, 10, IN_WINDOW_END),
                       (2.0, 400, 3.0, 1300), "matched", cause=None)
            f.sightings += _at(web, "O", "DefaultRule_AllowInternetOutBound", internet=True)
    for _ in range(4):  # scanners: denied by both logs
        start = p.at(10, rng.randint(0, 118), rng.randint(0, 50))
        f = p.flow(f"192.0.2.{rng.randint(2, 250)}", web1.ip, 3389, TCP, start, start, NO_REPLY, "matched",
                   cause=None)
        f.sightings += _at(web1, "I", "DefaultRule_DenyAllInBound", allowed=False)
    # nsg-v2-counts-tcp-only: syslog over UDP; NSG v2 writes 0 counters, VNet the real ones.
    for app in (app1, app2):
        intra(app, db1, 514, UDP, (p.at(10, 0, rng.randint(0, 20)), p.at(11, 58, rng.randint(0, 50))),
              (2.0, 300, 0.2, 64), "UserRule_AllowSyslog", cause="nsg-v2-counts-tcp-only")
    # avnm-rule: a security admin rule denies SMB to the internet before any NSG sees it.
    for minute in (40, 42, 44, 46, 48):
        start = p.at(10, minute, rng.randint(0, 50))
        f = p.flow(web2.ip, "198.51.100.200", 445, TCP, start, start, NO_REPLY, "vnet-only", cause="avnm-rule")
        f.sightings += _at(web2, "O", AVNM_RULE, allowed=False, nsg=False, vnet_acl=AVNM_ACL)
    # encryption-drop: from 11:00 db-01 only accepts encrypted traffic; NSG still allows it.
    for minute in range(0, 30, 3):
        start = p.at(11, minute, rng.randint(0, 30))
        f = p.flow(app2.ip, db1.ip, 1433, TCP, start, start + 21_000, NO_REPLY, "matched", cause="encryption-drop")
        f.sightings += _at(app2, "O", "DefaultRule_AllowVnetOutBound", vnet_rule="unspecified",
                           vnet_acl="unspecified", encryption="NX_NOT_ACCEPTED")
    # mac-not-logged: inside snet-data, which no NSG flow log covers.
    for lo, hi in ((0, 10), (30, 60), (70, 100)):
        intra(db1, cache1, 6379, TCP, p.span(lo, hi, 3, 15, IN_WINDOW_END), (20.0, 120, 20.0, 200),
              "UserRule_AllowDataToRedis", "vnet-only", "mac-not-logged")
    # clock-skew: NSG logs the start at 11:59:58, the VNet flow log (5 s ahead) at 12:00:03.
    f = p.flow(web1.ip, app1.ip, 8080, TCP, p.at(11, 59, 58), p.at(12, 0, 40), web_app, "nsg-only",
               cause="clock-skew")
    for nic, d, rule in ((web1, "O", "DefaultRule_AllowVnetOutBound"), (app1, "I", "UserRule_AllowWebToApp")):
        f.sightings += _at(nic, d, rule, vnet=False)
        f.sightings += _at(nic, d, rule, nsg=False, offset_ms=5000 + (2 if d == "I" else 0))
    # hour-not-logged: flows that start after the NSG flow logs were switched off at 12:00.
    for web in (web1, web2):
        for _ in range(2):
            intra(web, rng.choice((app1, app2)), 8080, TCP, p.span(121, 170, 2, 8, 178), web_app,
                  "UserRule_AllowWebToApp", "outside-window", "hour-not-logged")
    intra(app1, db1, 1433, TCP, p.span(125, 140, 10, 30, 178), sql, "UserRule_AllowAppToSql",
          "outside-window", "hour-not-logged")
    for _ in range(3):
        web = rng.choice((web1, web2))
        f = p.flow(f"203.0.113.{rng.randint(10, 250)}", web.ip, 443, TCP, *p.span(121, 170, 1, 6, 178),
                   (3.0, 300, 4.0, 1200), "outside-window", cause="hour-not-logged")
        f.sightings += _at(web, "I", "UserRule_AllowHttpsInbound")


def _side(logged: list[tuple[Sighting, list]], lo: int, hi: int) -> dict[str, Any] | None:
    inside = [(s, t) for s, ts in logged for t in ts if lo <= t[0] < hi]
    outside = sum(1 for _, ts in logged for t in ts if not lo <= t[0] < hi)
    if not inside and not outside:
        return None
    sightings = [s for s, ts in logged if ts]
    denied = any(not s.allowed for s, _ in inside)
    entry = {"tuples": len(inside), "tuples_outside_window": outside,
             "decision": ("deny" if denied else "allow") if inside else None,
             "macs": sorted({s.mac for s in sightings}),
             **{k: v for k, v in tally(t for _, t in inside).items() if k != "tuples"}}
    if sightings[0].log == "nsg":
        entry["nsgs"] = sorted({s.resource for s in sightings})
        entry["rules"] = sorted({s.rule for s in sightings})
    else:
        entry["rules"] = sorted({s.rule for s in sightings})
        entry["acl_ids"] = sorted({s.acl_id for s in sightings})
        entry["encryption"] = sorted({s.encryption for s in sightings})
    return entry


def _keys(p: Planner, emission: Any, lo: int, hi: int) -> list[dict[str, Any]]:
    keys = []
    for i, f in enumerate(p.flows):
        pairs = [(s, emission.logged[(i, si)]) for si, s in enumerate(f.sightings)]
        nsg = _side([x for x in pairs if x[0].log == "nsg"], lo, hi)
        vnet = _side([x for x in pairs if x[0].log == "vnet"], lo, hi)
        in_nsg, in_vnet = bool(nsg and nsg["tuples"]), bool(vnet and vnet["tuples"])
        klass = {(True, True): "matched", (True, False): "nsg-only", (False, True): "vnet-only",
                 (False, False): "outside-window"}[(in_nsg, in_vnet)]
        assert klass == f.label, (f.key, klass, f.label)
        causes = [f.notes["cause"]] if f.notes.get("cause") else []
        if nsg and {"nsg-snet-app", "nsg-nic-app-01"} <= set(nsg["nsgs"]) and klass != "outside-window":
            causes.append("subnet-and-nic-nsg")
        keys.append({**f.key_dict(), "class": klass, "cause": causes[0] if causes else None, "causes": causes,
                     "start": iso(f.start_ms), "end": iso(f.end_ms), "nsg": nsg, "vnet": vnet})
    return keys


def build(seed: int = DEFAULT_SEED) -> Built:
    """Generate the nsg-vs-vnet scenario.

    Parameters
    ----------
    seed : int
        Seed of every random choice.

    Returns
    -------
    Built

    Examples
    --------
    >>> b = build(0)
    >>> b.expected["totals"]["keys"] == len(b.expected["keys"])
    True
    """
    nic_list = app_nics(nic_nsg_on_app_01=True)
    nics = by_vm(nic_list)
    p = Planner(seed)
    _plan(p, nics)
    vnet_log = VnetFlowLog(FLOW_LOG, vnet_id("vnet-app"), seeded_guid(random.Random(f"guid-{FLOW_LOG}")),
                           frozenset(n.mac for n in nic_list), (10, 11, 12))
    nsg_logs = [NsgFlowLog(name, seeded_guid(random.Random(f"system-{name}")),
                           frozenset(n.mac for n in nic_list if name in n.nsgs), (10, 11))
                for name in LOGGED_NSGS]
    emission = emit(p.flows, [vnet_log, *nsg_logs], seed)
    lo, hi = p.at(10), p.at(12)
    keys = _keys(p, emission, lo, hi)
    by_cause = Counter(c for k in keys for c in k["causes"])
    expected = {
        "scenario": "nsg-vs-vnet",
        "log_types": ["nsg", "vnet"],
        "window": {"start": WINDOW[0], "end": WINDOW[1]},
        "hours": {"nsg": ["2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"],
                  "vnet": ["2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"]},
        "flow_logs": {"vnet": {"name": FLOW_LOG, "resource_id": vnet_log.resource_id,
                               "target_resource_id": vnet_log.target_resource_id, "guid": vnet_log.guid},
                      "nsg": [{"nsg": g.nsg, "resource_id": g.resource_id, "system_id": g.system_id,
                               "macs": sorted(g.macs), "version": g.version} for g in nsg_logs]},
        "totals": {**totals(emission, p.flows), "keys": len(keys),
                   "by_class": dict(sorted(Counter(k["class"] for k in keys).items())),
                   "by_cause": dict(sorted(by_cause.items())),
                   "counter_mismatch_keys": sum(k["cause"] in COUNTER_CAUSES for k in keys),
                   "decision_mismatch_keys": sum(k["cause"] == "encryption-drop" for k in keys),
                   "tuples_in_window": {log: sum((k[log] or {}).get("tuples", 0) for k in keys)
                                        for log in ("nsg", "vnet")}},
        "keys": keys,
    }
    return Built("nsg-vs-vnet", nic_list, emission, expected, nsg_vs_vnet_readme(expected))
