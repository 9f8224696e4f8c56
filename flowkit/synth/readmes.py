"""README text of each scenario, with its numbers taken from that scenario's ``expected.json``.

Examples
--------
>>> table([["a", 1]], ["name", "n"])
'| name | n |\\n|---|---|\\n| a | 1 |\\n'
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["table", "connectivity_readme", "nsg_vs_vnet_readme", "encryption_readme"]

_COUNTS = """\
## How the counts in `expected.json` count
- `totals.files`: `PT1H.json` blobs (one per log, NIC and hour that has tuples).
- `totals.records`: records in them: one per minute per blob, only for minutes that have tuples.
- `totals.tuples`: flow tuple strings in all records. A loader must return exactly this many
  rows from this folder, with nothing quarantined (there is no damage in these samples);
  `files` and `records` count only the blobs under the `insights-logs-*` container folders,
  not this README, `expected.json` or the inventory.
- `tuples_by_state`: tuples by the state field as written (`B`, `C`, `E`, and for VNet `D`).
  A denied NSG tuple is written with state `B` and decision `D`, so it counts under `B`.
- Per observation (`observed`, `nsg`, `vnet`): `tuples` are the tuples written there;
  `packets_sent`, `bytes_sent`, `packets_received`, `bytes_received` are **sums of the C and E
  counters** (deltas since the previous update, never cumulative; `B` and `D` tuples add 0),
  `packets_sent` being source -> destination of the flow, whichever NIC logged it.
- `flows` counts 5-tuples (`src_ip, src_port, dst_ip, dst_port, protocol`); every planned
  flow has its own source port, so a flow is a key and a key is a flow.
- Times are UTC; `start`/`end` are the planned first and last tuple times of a flow at its
  source (a denied or dropped flow is logged once, at `start`).
- Ground truth is written by the generator from its own plan (`flowkit/synth`), not by reading
  these files back; `python -m flowkit.synth data-samples` regenerates every byte.
"""


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Return a Markdown table.

    Examples
    --------
    >>> print(table([[1, None]], ["a", "b"]), end="")
    | a | b |
    |---|---|
    | 1 |  |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _totals(t: dict[str, Any]) -> str:
    rows = [[log, v["files"], v["records"], v["tuples"],
             ", ".join(f"{k} {n}" for k, n in v["tuples_by_state"].items())]
            for log, v in t["by_log_type"].items()]
    rows.append(["**all**", t["files"], t["records"], t["tuples"], ""])
    return table(rows, ["log type", "files", "records", "tuples", "tuples by state"])


def connectivity_readme(expected: dict[str, Any]) -> str:
    """README of the connectivity scenario, numbers taken from its ``expected``.

    Examples
    --------
    >>> from flowkit.synth.connectivity import build
    >>> build(0).readme.startswith("# connectivity:")
    True
    """
    d = expected["diagnoses"]
    key = [x for x in d if x["verdict"] != "denied" or not x["src"].startswith("192.0.2.")]
    scan = [x for x in d if x["verdict"] == "denied" and x["src"].startswith("192.0.2.")]
    rows = [[x["src"], x["dst"], x["port"], x["protocol"], f"**{x['verdict']}**", x["where"], x["flows"],
             "; ".join(f"{o['vm']} {o['direction']} {o['decision']} ({o['tuples']} tuples, "
                       f"packets sent/received {o['packets_sent']}/{o['packets_received']})" for o in x["observed"])]
            for x in key]
    storm = next(x for x in scan if x["src"] == "192.0.2.66")
    return f"""# connectivity: "the app can't reach the database"

VNet flow logs (version 4) of `vnet-app`, 2024-05-01 10:00-12:00 UTC, flow log `fl-vnet-app`
enabled on the VNet, so all six NICs are logged. VNet encryption is off: every tuple says `NX`.
Inventory: `nics.json` (as `az network nic list -o json`), `nics.csv`.

## What happened
- **web-01 -> db-01:1433 is blocked.** From 10:15 someone points web-01 straight at SQL. web-01
  opens a new connection every minute for 30 minutes; its own NIC lets the SYNs out (B, then E
  with a few packets sent and none received), and db-01's NIC drops every one of them inbound:
  state `D`, rule `UserRule_DenyWebToSql`, aclID the resource ID of `nsg-snet-data`.
- **app-01 -> cache-01:6379 is lost in transit.** From 10:20 to 11:20 app-01 retries Redis every
  minute. app-01 sends (packets out, nothing back), but cache-01's NIC, logged all the time and
  busy with app-02's healthy Redis traffic, never sees one packet of it. Something between the
  two NICs (a UDR to an appliance, a peering, a host firewall upstream) eats it.
- **web-02 -> app-02:8080 gets no reply.** From 10:30 to 11:30 both NICs log the connections as
  allowed, packets arrive at app-02, and app-02 never answers: the service or the guest firewall
  on app-02, not the network.
- Around it, healthy traffic: web tier to app-01:8080, app-01 to SQL on db-01 (a connection pool),
  app-02 to Redis on cache-01, internet clients (203.0.113.0/24) to the web tier on 443, the web
  tier to an external API 198.51.100.10:443, and syslog from app-01 to a collector on db-01 over
  UDP 514 (the collector acknowledges batches with small datagrams, so there are bytes both ways).
- Internet scanners from 192.0.2.0/24 knock on web-01 ports 22 and 3389 and are denied by
  `DefaultRule_DenyAllInBound` (aclID: `nsg-snet-web`'s default-rule GUID). 192.0.2.66 is a retry
  storm: {storm['flows']} attempts on port 22 between 10:05 and 10:15.

## What a good investigation finds
`diagnose(src, dst, port)` per pair of endpoints (one row per src, dst, port, protocol; the
internet scanners are summarised below):

{table(rows, ["src", "dst", "port", "proto", "verdict", "where", "flows", "observed at"])}
- `denied`: the flow is seen and a NIC's rule denies it; `where` says which side
  (`destination-inbound`: the destination's NSG), and `rule`/`acl_id` in `expected.json` name it.
- `lost-in-transit`: the source sends (allowed, packets sent > 0, none received) and the
  destination NIC, although logged in that window, never sees the flow.
- `no-reply`: both ends log the flow as allowed; the destination receives packets and never
  sends any back.
- `ok`: allowed, with packets both ways. An internet end is never logged: replies seen at the
  logged end are enough (web-01 -> 198.51.100.10:443 is `ok`, not `lost-in-transit`).
- `not-observed`: nothing in the logs (10.10.9.9 is no logged NIC).
- Scanners: {len(scan)} (source, port) pairs from {len({x['src'] for x in scan})} addresses,
  {sum(x['flows'] for x in scan)} denied attempts in all, each a single `D` tuple at web-01 inbound.

## Files
{_totals(expected["totals"])}
Flows planned: {expected["totals"]["flows"]} (`expected.json` `flows` lists each with its 5-tuple,
verdict and tuples written). NSG aclIDs: user rules carry the NSG's resource ID, default rules a
GUID per NSG (real data shows both forms; which one appears where is this generator's
choice). The destination NIC's host logs 2 ms after the source's, so
timestamps do not join exactly across NICs.

## `expected.json`
- `diagnoses[]`: `src`, `dst`, `port`, `protocol`, `verdict`, `rule` and `acl_id` (the denying
  rule, `null` unless denied), `where`, `flows` (5-tuples), `first`/`last` (planned times) and
  `observed[]`: one entry per NIC, direction, rule and decision where the pair was logged, with
  `mac`, `vm`, `direction`, `log_type`, `decision`, `rule`, `acl_id`, `tuples`, `states`, and the
  counter sums. The last entry is the `not-observed` query.
- `flows[]`: every planned flow: 5-tuple, `verdict`, `start`, `end`, `tuples` (at all NICs).
- `totals`: see below.

{_COUNTS}"""


def nsg_vs_vnet_readme(expected: dict[str, Any]) -> str:
    """README of the nsg-vs-vnet scenario, numbers taken from its ``expected``.

    Examples
    --------
    >>> from flowkit.synth.nsg_vs_vnet import build
    >>> build(0).readme.startswith("# nsg-vs-vnet:")
    True
    """
    t = expected["totals"]
    nsgs = ", ".join(f"`{g['nsg']}` ({len(g['macs'])} NIC{'s' if len(g['macs']) > 1 else ''})"
                     for g in expected["flow_logs"]["nsg"])
    classes = table([[k, v] for k, v in t["by_class"].items()], ["class", "keys"])
    causes = table([[k, v] for k, v in t["by_cause"].items()], ["cause", "keys listing it"])
    return f"""# nsg-vs-vnet: "do the new VNet flow logs cover what the NSG flow logs did?"

The same estate (`vnet-app`) logged two ways on 2024-05-01, in the middle of the migration from
NSG flow logs (retiring 30 September 2027) to VNet flow logs:
- NSG flow logs version 2 for {nsgs}, hours 10:00 and 11:00; they were switched off at 12:00.
  `snet-data` (db-01, cache-01) has an NSG, `nsg-snet-data`, but it never had a flow log.
  app-01 has an NSG on its NIC (`nsg-nic-app-01`) as well as its subnet's.
- VNet flow log `fl-vnet-app` on the VNet: all six NICs, hours 10:00, 11:00 **and 12:00**.

Compare the two over the **common window {expected['window']['start']} - {expected['window']['end']}**
by key (`src_ip, src_port, dst_ip, dst_port, protocol`).

## What a good comparison finds
{classes}
{causes}
- **matched**: web <-> app, app -> db, internet <-> web traffic, and scanners denied by both.
- **subnet-and-nic-nsg**: every flow of app-01 is in the NSG logs twice, once from
  `nsg-snet-app` and once from `nsg-nic-app-01` (allowed there by its default rules). Still one key,
  matched; a tuple count per key that is double the VNet one at that NIC is explained by the two
  NSGs, not by duplicates.
- **nsg-v2-counts-tcp-only**: syslog, UDP 514 from app-01 and app-02 to db-01. NSG v2 C/E
  tuples carry `0,0,0,0` (its counters count TCP only); the VNet tuples carry real counters.
  Matched, with a counter mismatch.
- **nsg-inbound-tcp-not-counted**: internet clients -> web-01/web-02:443, allowed inbound by
  `nsg-snet-web`'s user rule `UserRule_AllowHttpsInbound`. NSGs enforce user-defined inbound TCP
  rules statelessly: the NSG log has the B tuple, then C tuples with `0,0,0,0` and never an E
  (the flow does not terminate for the NSG); the VNet tuples carry real counters and end with E.
  Matched, with a counter mismatch: the VNet flow log shows traffic the NSG log never counted.
  (Inbound flows under a default rule, such as app-01's NIC NSG's `DefaultRule_AllowVnetInBound`,
  and every outbound flow keep their counters, so web -> app keys still agree: their busiest
  observer in the NSG log is the web NIC's outbound tuples.)
  `counter_mismatch_keys` = {t['counter_mismatch_keys']} (this cause and the one above).
- **encryption-drop**: from 11:00 db-01 accepts only encrypted traffic. app-02's new connections to
  SQL are allowed by `nsg-snet-app` in the NSG log, but the VNet flow log shows them dropped:
  state `D`, encryption `NX_NOT_ACCEPTED`, rule and aclID `unspecified`. Matched, with a
  decision mismatch (`decision_mismatch_keys` = {t['decision_mismatch_keys']}). (app-02's earlier
  pooled SQL connection, before 11:00, is plainly matched.)
- **avnm-rule**: web-02 tries SMB to 198.51.100.200:445; the AVNM security admin rule
  `DenyHighRiskPorts_d04abb96-…` denies it before any NSG is evaluated, so only the VNet flow log
  has it (state `D`). vnet-only.
- **mac-not-logged**: db-01 -> cache-01:6379 stays inside `snet-data`, which no NSG flow log
  covers. vnet-only.
- **clock-skew**: one short web-01 -> app-01:8080 connection starts at 11:59:58 by the NSG log's
  clock and at 12:00:03 by the VNet log's (5 s apart): the NSG log has its B tuple in the 11:00
  blob, the VNet log has B and E in the 12:00 blob. Inside the window it is nsg-only; a report
  should flag it as an edge effect of the window, not a gap in coverage.
- **hour-not-logged**: flows that start at 12:00 or later exist only in the VNet log because the
  NSG flow logs were already off: outside the common window, reported as such, not as vnet-only.
- A long SQL connection from app-01 runs from 11:20 to 12:25: matched in the window; its last C
  and its E tuple are in the 12:00 VNet blob only (`tuples_outside_window`).

## Files
{_totals(t)}
Tuples inside the window: NSG {t['tuples_in_window']['nsg']}, VNet {t['tuples_in_window']['vnet']}.

## `expected.json`
- `keys[]`: one per planned flow (= key): the 5-tuple, `class` (`matched`, `nsg-only`,
  `vnet-only`, `outside-window`), `cause` (the one that explains the class or the mismatch;
  `null` for a plain match), `causes` (every cause that applies, `cause` first), `start`, `end`,
  and `nsg` / `vnet`: `null` when that log never wrote the key, else `tuples` (inside the window),
  `tuples_outside_window`, `decision` in the window (`deny` if any tuple there denies, `null` when
  no tuple is in the window), `states` and the counter sums over the tuples inside the window
  (all NICs and NSGs added up: a key logged by two NSGs counts twice), and, over all its tuples
  in or out of the window, `macs`, `rules`, `nsgs` (NSG) or `acl_ids` and `encryption` (VNet).
- Class rule: `matched` when both logs have a tuple of the key inside the window; `nsg-only` /
  `vnet-only` when only one does; `outside-window` when neither does (the key only has tuples
  at or after 12:00).
- `totals.by_class`, `totals.by_cause` (keys whose `causes` list it), `counter_mismatch_keys`,
  `decision_mismatch_keys`, `tuples_in_window`; files/records/tuples as below.

{_COUNTS}"""


def encryption_readme(expected: dict[str, Any]) -> str:
    """README of the encryption scenario, numbers taken from its ``expected``.

    Examples
    --------
    >>> from flowkit.synth.encryption import build
    >>> build(0).readme.startswith("# encryption:")
    True
    """
    t = expected["totals"]
    enc = table([[k, t["flows_by_encryption"][k], v] for k, v in t["tuples_by_encryption"].items()],
                ["encryption", "flows", "tuples"])
    dropped = expected["dropped"]
    return f"""# encryption: "is traffic in vnet-secure encrypted, and what breaks when we enforce it?"

VNet flow logs of `vnet-secure` (10.20.0.0/16), 2024-05-01 10:00-12:00 UTC, flow log
`fl-vnet-secure` on the VNet. VNet encryption is on; enforcement was switched from
**AllowUnencrypted** to **DropUnencrypted** at 11:00.

| vm | MAC | IP | note |
|---|---|---|---|
| sec-app-01 | 000D3A000401 | 10.20.1.4 | |
| sec-app-02 | 000D3A000402 | 10.20.1.5 | same host as sec-app-01 |
| sec-db-01 | 000D3A000403 | 10.20.2.4 | |
| legacy-01 | 000D3A000404 | 10.20.1.6 | VM size without encryption support |

## What happened
- sec-app-01 and sec-app-02 talk to SQL on sec-db-01 (1433) encrypted, `X`, in both hours, at
  both NICs.
- sec-app-01 -> sec-app-02:8080 is `NX_LOCAL_DST`: both VMs are on the same host, so the traffic
  never leaves it and is not encrypted.
- sec-app-01 -> 198.51.100.20:443 is `NX`: traffic to the internet is not VNet-encrypted.
- legacy-01 runs on a VM size that cannot encrypt. At 10:00 its SQL connections are allowed
  unencrypted (`NX_HW_NOT_SUPPORTED` at legacy-01 outbound and at sec-db-01 inbound). From 11:00,
  with DropUnencrypted, every attempt (one every 2 minutes, a new source port each) is dropped at
  legacy-01: a single tuple, state `D`, encryption `NX_NOT_ACCEPTED`, rule and aclID
  `unspecified`, counters `0,0,0,0`; sec-db-01 never sees them.

## What a good investigation finds
{enc}
- Dropped for lack of encryption: {dropped['flows']} flows ({dropped['tuples']} tuples), all from
  {', '.join(dropped['macs'])}, the first at {dropped['first']}. These are denials (decision
  `deny`) although no NSG rule denies them.
- `unsupported_macs` = {expected['unsupported_macs']}: NICs whose **outbound** tuples carry
  `NX_HW_NOT_SUPPORTED` (the sending VM cannot encrypt). sec-db-01 also logs
  `NX_HW_NOT_SUPPORTED` inbound, for legacy-01's connections: it is the peer, not the cause.
- The fix is to resize legacy-01 to a size that supports encryption, or to move it out of the
  enforced VNet; `NX_LOCAL_DST` and internet `NX` need no action.

## Files
{_totals(t)}
## `expected.json`
- `flows[]`: every planned flow: 5-tuple, `encryption` (one state per flow, the same at both
  NICs), `by_hour` (blob hour -> encryption state of its tuples in that hour), `decision`
  (`deny` for dropped flows), `start`, `end`, and `observed[]` per NIC: `mac`, `direction`,
  `encryption`, `rule`, `acl_id`, `tuples`, `states`, counter sums.
- `totals.tuples_by_encryption`: tuples (all NICs) per encryption state;
  `totals.flows_by_encryption`: flows per encryption state.
- `dropped`: flows and tuples with `NX_NOT_ACCEPTED`, the MACs that logged them, the first time.
- `unsupported_macs`, `enforcement` (hour -> mode).

{_COUNTS}"""
