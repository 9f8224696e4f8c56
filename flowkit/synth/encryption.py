"""Scenario (c) ``encryption``: VNet encryption states, and a drop when enforcement tightens.

Examples
--------
>>> b = build(seed=1)
>>> b.expected["unsupported_macs"]
['000D3A000404']
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from flowkit.synth.emit import DAY_MS, HOUR_MS, emit
from flowkit.synth.estate import Nic, VnetFlowLog, seeded_guid, vnet_id
from flowkit.synth.estates import by_vm, secure_nics
from flowkit.synth.flows import TCP, Sighting
from flowkit.synth.plan import DEFAULT_SEED, Built, Planner, acl_default, acl_user, iso, tally, totals
from flowkit.synth.readmes import encryption_readme

__all__ = ["build", "FLOW_LOG", "DROP"]

FLOW_LOG = "fl-vnet-secure"
HOURS = (10, 11)
DROP = "NX_NOT_ACCEPTED"
NO_REPLY = (4.0 / 21, 60, 0.0, 0)


def _s(nic: Nic, direction: str, rule: str, encryption: str, allowed: bool = True) -> Sighting:
    if rule == "unspecified":
        acl = "unspecified"
    elif rule.startswith("UserRule_"):
        acl = acl_user(nic.subnet_nsg or "")
    else:
        acl = acl_default(nic.subnet_nsg or "")
    return Sighting("vnet", FLOW_LOG, nic.mac, direction, rule, allowed, acl, encryption,
                    2 if direction == "I" else 0)


def _plan(p: Planner, nics: dict[str, Nic]) -> None:
    app1, app2, db, legacy = (nics[v] for v in ("sec-app-01", "sec-app-02", "sec-db-01", "legacy-01"))
    rng = p.rng
    sql = (12.0, 250, 11.0, 1100)
    out = "DefaultRule_AllowVnetOutBound"

    def both(src: Nic, dst: Nic, port: int, span: tuple[int, int], rate: tuple, in_rule: str, enc: str) -> None:
        f = p.flow(src.ip, dst.ip, port, TCP, *span, rate, "allowed")
        f.sightings += [_s(src, "O", out, enc), _s(dst, "I", in_rule, enc)]

    for hour in HOURS:
        base = (hour - 10) * 60
        for app in (app1, app2):
            both(app, db, 1433, (p.at(hour, 0, rng.randint(5, 40)), p.at(hour, 57, rng.randint(0, 50))), sql,
                 "UserRule_AllowAppToSql", "X")
            for _ in range(3):
                both(app, db, 1433, p.span(base, base + 50, 1, 5, base + 58), sql, "UserRule_AllowAppToSql", "X")
        for _ in range(3):
            both(app1, app2, 8080, p.span(base, base + 50, 1, 8, base + 58), (6.0, 400, 6.0, 1500),
                 "UserRule_AllowAppToApp", "NX_LOCAL_DST")
        for _ in range(2):
            f = p.flow(app1.ip, "198.51.100.20", 443, TCP, *p.span(base, base + 50, 1, 6, base + 58),
                       (2.0, 400, 3.0, 1300), "allowed")
            f.sightings.append(_s(app1, "O", "DefaultRule_AllowInternetOutBound", "NX"))
    # legacy-01 cannot encrypt: allowed while enforcement is AllowUnencrypted ...
    for _ in range(4):
        both(legacy, db, 1433, p.span(0, 45, 2, 12, 58), sql, "UserRule_AllowAppToSql", "NX_HW_NOT_SUPPORTED")
    # ... and dropped from 11:00, when DropUnencrypted is switched on: one attempt every 2 minutes.
    for minute in range(0, 60, 2):
        start = p.at(11, minute, rng.randint(0, 40))
        f = p.flow(legacy.ip, db.ip, 1433, TCP, start, start + 21_000, NO_REPLY, "dropped")
        f.sightings.append(_s(legacy, "O", "unspecified", DROP, allowed=False))


def build(seed: int = DEFAULT_SEED) -> Built:
    """Generate the encryption scenario.

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
    >>> sum(b.expected["totals"]["tuples_by_encryption"].values()) == b.expected["totals"]["tuples"]
    True
    """
    nic_list = secure_nics()
    p = Planner(seed)
    _plan(p, by_vm(nic_list))
    log = VnetFlowLog(FLOW_LOG, vnet_id("vnet-secure"), seeded_guid(random.Random(f"guid-{FLOW_LOG}")),
                      frozenset(n.mac for n in nic_list), HOURS)
    emission = emit(p.flows, [log], seed)
    flows: list[dict[str, Any]] = []
    by_enc: Counter = Counter()
    flows_by_enc: Counter = Counter()
    unsupported: set[str] = set()
    for i, f in enumerate(p.flows):
        by_hour: dict[str, str] = {}
        observed = []
        for si, s in enumerate(f.sightings):
            logged = emission.logged[(i, si)]
            for ts, _, _ in logged:
                by_hour[f"2024-05-01T{(ts - DAY_MS) // HOUR_MS:02d}:00:00Z"] = s.encryption
            by_enc[s.encryption] += len(logged)
            if s.direction == "O" and s.encryption == "NX_HW_NOT_SUPPORTED" and logged:
                unsupported.add(s.mac)
            observed.append({"mac": s.mac, "direction": "inbound" if s.direction == "I" else "outbound",
                             "encryption": s.encryption, "rule": s.rule, "acl_id": s.acl_id, **tally(logged)})
        (enc,) = {s.encryption for s in f.sightings}
        flows_by_enc[enc] += 1
        flows.append({**f.key_dict(), "encryption": enc, "by_hour": dict(sorted(by_hour.items())),
                      "decision": "deny" if f.label == "dropped" else "allow", "start": iso(f.start_ms),
                      "end": iso(f.end_ms), "observed": observed})
    dropped = [x for x in flows if x["encryption"] == DROP]
    expected = {
        "scenario": "encryption",
        "log_types": ["vnet"],
        "hours": [f"2024-05-01T{h:02d}:00:00Z" for h in HOURS],
        "enforcement": {"2024-05-01T10:00:00Z": "AllowUnencrypted", "2024-05-01T11:00:00Z": "DropUnencrypted"},
        "flow_log": {"name": FLOW_LOG, "resource_id": log.resource_id,
                     "target_resource_id": log.target_resource_id, "guid": log.guid},
        "totals": {**totals(emission, p.flows), "flows": len(flows),
                   "tuples_by_encryption": {k: by_enc[k] for k in sorted(by_enc)},
                   "flows_by_encryption": {k: flows_by_enc[k] for k in sorted(flows_by_enc)}},
        "dropped": {"flows": len(dropped), "tuples": sum(o["tuples"] for x in dropped for o in x["observed"]),
                    "macs": sorted({o["mac"] for x in dropped for o in x["observed"]}),
                    "first": dropped[0]["start"] if dropped else None},
        "unsupported_macs": sorted(unsupported),
        "flows": flows,
    }
    return Built("encryption", nic_list, emission, expected, encryption_readme(expected))
