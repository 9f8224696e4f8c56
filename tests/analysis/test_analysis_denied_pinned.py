"""denied_summary() and its steps, pinned: labels, storm edges, the summary text, realistic denials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.analysis.denied import (DENIED_IDS, acl_labels, denied_finding, denied_groups, denied_summary,
                                     where_labels)
from flowkit.errors import ArgumentError
from flowkit_frames import SCANNER, WEB, WEB_MAC, frame, tuple_row

NSG_ID = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-nic-web"
S6, D6 = "2001:db8::66", "2001:db8::5"


def _deny(seconds: float, *, src: str = SCANNER, dst: str = WEB, sport: int = 40000, dport: int = 22,
          proto: int = 6, direction: str = "inbound", **kw) -> dict:
    return tuple_row(seconds / 60, src=src, dst=dst, sport=sport, dport=dport, proto=proto, direction=direction,
                     decision="deny", state="D", rule=kw.pop("rule", "DefaultRule_DenyAllInBound"), **kw)


def _storm(n: int, every_s: float = 10, **kw) -> list[dict]:
    return [_deny(i * every_s, sport=kw.pop("sport", 40000) + i, **kw) for i in range(n)]


def test_storm_summary_names_the_protocol_and_brackets_ipv6_destinations():
    """TCP and UDP storms to one port, and an ICMPv6 storm: each line says which it is, and an
    IPv6 destination's port is not read as the last group of the address."""
    rows = (_storm(25, src=S6, dst=D6) + _storm(25, src=S6, dst=D6, proto=17)
            + _storm(25, src=S6, dst=D6, proto=58, dport=0) + _storm(25, src="192.0.2.7", proto=17, dport=53))
    rows = [{**r, "src_port": 0} if r["protocol"] == 58 else r for r in rows]
    f = denied_summary(frame(rows))
    assert f.summary == (
        "100 denied attempt(s) (100 tuple(s)) in 4 group(s) of source, destination, port, protocol and rule. "
        "4 retry storm(s): 192.0.2.7 -> 10.10.1.4:53/udp (25 attempts within 10 min); "
        "2001:db8::66 -> [2001:db8::5]:0/58 (25 attempts within 10 min); "
        "2001:db8::66 -> [2001:db8::5]:22/tcp (25 attempts within 10 min); "
        "2001:db8::66 -> [2001:db8::5]:22/udp (25 attempts within 10 min).")
    t = f.evidence["denied"]
    assert t[["src_ip", "dst_ip", "dst_port", "protocol", "src_ports"]].values.tolist() == [
        ["192.0.2.7", WEB, 53, "udp", 25], [S6, D6, 0, "58", 1], [S6, D6, 22, "tcp", 25], [S6, D6, 22, "udp", 25]]


def test_where_and_acl_labels_read_plain_text_columns():
    """Joined or anonymised frames hold text, not categories."""
    where = where_labels(pd.Series(["outbound", "inbound", "outbound", None], dtype=object))
    assert isinstance(where.dtype, pd.CategoricalDtype)
    assert where.astype(object).tolist() == ["source-outbound", "destination-inbound", "source-outbound", np.nan]
    acl = acl_labels(pd.DataFrame({"acl_id": ["acl-1", None, "acl-1"], "resource_id": [NSG_ID, NSG_ID, None]},
                                  dtype=object))
    assert acl.astype(object).tolist() == ["acl-1", NSG_ID, "acl-1"]
    assert list(acl.cat.categories) == ["acl-1", NSG_ID]


def _one_group(times_ms: list[int]) -> pd.DataFrame:
    n = len(times_ms)
    ids = pd.DataFrame({"src": [0] * n, "dst": [1] * n, "dst_port": np.full(n, 22, dtype=np.uint16),
                        "protocol": np.full(n, 6, dtype=np.uint8), "rule": [0] * n,
                        "src_port": [40000 + i for i in range(n)], "t": times_ms, "acl": [0] * n,
                        "where": [0] * n, "mac": [0] * n, "log_type": [0] * n})
    return ids[list(DENIED_IDS)]


_NAMES = {"src": np.array([SCANNER, WEB], dtype=object), "dst": np.array([SCANNER, WEB], dtype=object),
          "rule": np.array(["DefaultRule_DenyAllInBound"], dtype=object), "acl": np.array(["acl-1"], dtype=object),
          "where": np.array(["destination-inbound"], dtype=object), "mac": np.array([WEB_MAC], dtype=object),
          "log_type": np.array(["vnet"], dtype=object)}


def test_denied_finding_defaults_are_20_attempts_in_10_minutes():
    twenty = denied_groups(_one_group([i * 31_000 for i in range(20)]), 600_000, _NAMES)  # 9 min 49 s
    f = denied_finding(twenty, _NAMES)
    assert (f.verdict, f.facts["storms"][0]["max_in_window"]) == ("retry-storm", 20)
    assert f.summary.endswith(f"({20} attempts within 10 min).")
    nineteen = denied_groups(_one_group([i * 31_000 for i in range(19)]), 600_000, _NAMES)
    assert denied_finding(nineteen, _NAMES).verdict == "denied"


def test_a_window_of_exactly_a_minute_reads_in_minutes():
    f = denied_summary(frame(_storm(3, every_s=1)), storm_threshold=3, storm_window="1min")
    assert f.summary.endswith("(3 attempts within 1 min).")
    f = denied_summary(frame(_storm(3, every_s=1)), storm_threshold=3, storm_window="59s")
    assert f.summary.endswith("(3 attempts within 59 s).")


def test_a_d_state_is_denied_whatever_the_decision_column_says():
    from flowkit.analysis.denied import denied_mask

    f = frame([_deny(0, sport=1), {**_deny(0, sport=2), "decision": None}, tuple_row(0, state="E"),
               tuple_row(0, log_type="nsg", decision="deny", state="B")])
    assert denied_mask(f).tolist() == [True, True, False, True]
    assert denied_summary(f).facts["denied_tuples"] == 3


def test_missing_acl_observer_and_where_are_left_out_of_the_group():
    ids = _one_group([0, 1000, 2000])
    ids["acl"] = [-1, -1, 0]
    ids["mac"] = [-1, 0, -1]
    ids["where"] = [-1, 0, 0]
    ids["log_type"] = [0, -1, 0]
    g = denied_groups(ids, 600_000, _NAMES)
    assert g[["acl_id", "where", "observers", "log_types", "tuples", "attempts"]].values.tolist() == [
        ["acl-1", "destination-inbound", WEB_MAC, "vnet", 3, 3]]
    ids["acl"] = -1
    assert denied_groups(ids, 600_000, _NAMES)["acl_id"].tolist() == [None]


def test_the_storm_window_is_open_at_its_start():
    """(t - window, t]: an attempt exactly one window earlier is outside."""
    f = lambda w: denied_summary(frame(_storm(2, every_s=1)), storm_threshold=2, storm_window=w)  # noqa: E731
    assert int(f("1s").evidence["denied"].loc[0, "max_in_window"]) == 1
    assert int(f("1001ms").evidence["denied"].loc[0, "max_in_window"]) == 2


def test_observers_past_ten_are_counted_not_listed():
    """One address denied at eleven NICs (VNets with overlapping address spaces)."""
    macs = [f"000D3A0001{i:02d}" for i in range(11)]
    rows = [_deny(i, sport=40000 + i, mac=mac) for i, mac in enumerate(macs)]
    row = denied_summary(frame(rows)).evidence["denied"].iloc[0]
    assert row["observers"] == ",".join(macs[:10]) + ",…(+1)"
    assert (int(row["attempts"]), int(row["src_ports"])) == (11, 11)


def test_every_public_name_is_there():
    import flowkit.analysis.denied as denied

    assert all(hasattr(denied, name) for name in denied.__all__) and len(denied.__all__) == 11


def test_no_groups_have_the_columns_and_dtypes_of_groups():
    """The Dask engine's meta is the table of no rows: it must be the table of some rows."""
    ids = _one_group([0])
    full = denied_groups(ids, 600_000, _NAMES)
    empty = denied_groups(ids.iloc[:0], 600_000, _NAMES)
    assert list(empty.columns) == list(full.columns) and len(empty) == 0
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()
    assert str(full["dst_port"].dtype) == "uint16" and str(full["protocol"].dtype) == "uint8"


def test_group_key_ids_are_int64_whatever_they_came_as():
    ids = _one_group([0, 1000]).astype({"src": np.int32, "dst": np.int32, "rule": np.int32})
    g = denied_groups(ids, 600_000, _NAMES)
    assert [str(g[c].dtype) for c in ("src", "dst", "rule")] == ["int64"] * 3
    assert g[["src", "dst", "rule"]].values.tolist() == [[0, 1, 0]]


def test_no_denied_traffic_finding_in_full():
    f = denied_summary(frame([tuple_row(0)]))
    assert (f.title, f.verdict, f.severity, f.summary) == ("Denied traffic", "none", "info",
                                                           "No denied traffic in these logs.")
    assert f.facts == {"groups": 0, "denied_tuples": 0, "attempts": 0, "storms": []}


def test_avnm_and_nsg_denials_finding_in_full():
    """An AVNM security admin rule denies RDP (only VNet flow logs see it); the web NIC's NSG
    denies SSH, logged by both logs (NSG time in seconds, VNet in milliseconds)."""
    avnm = "BlockHighRiskPorts_456b4993-6e57-4e46-aa4d-81767afff09c"
    rdp = [_deny(i, sport=50000 + i, dport=3389, rule=avnm, acl_id="avnm-config-guid") for i in range(3)]
    ssh = _deny(30, rule="UserRule_DenySsh", acl_id="nsg-nic-web-guid")
    ssh_nsg = {**ssh, "log_type": "nsg", "acl_id": None, "encryption": None, "state": "B", "version": 2,
               "resource_id": NSG_ID, "flow_time": ssh["flow_time"]}
    ssh = {**ssh, "flow_time": ssh["flow_time"] + pd.Timedelta(milliseconds=250)}
    f = denied_summary(frame(rdp + [ssh, ssh_nsg]))
    assert (f.title, f.verdict, f.severity) == ("Denied traffic", "denied", "low")
    assert f.summary == ("4 denied attempt(s) (5 tuple(s)) in 2 group(s) of source, destination, port, "
                         "protocol and rule.")
    assert f.facts == {"groups": 2, "denied_tuples": 5, "attempts": 4, "storms": []}
    t = f.evidence["denied"]
    assert t[["dst_port", "rule", "acl_id", "where", "tuples", "attempts", "log_types", "observers"]].values.tolist() == [
        [3389, avnm, "avnm-config-guid", "destination-inbound", 3, 3, "vnet", WEB_MAC],
        [22, "UserRule_DenySsh", NSG_ID, "destination-inbound", 2, 1, "nsg,vnet", WEB_MAC]]


def test_the_summary_lists_five_storms_and_counts_them_all():
    rows = [r for port in range(1, 7) for r in _storm(20, dport=port, sport=1000 * port)]
    f = denied_summary(frame(rows))
    assert f.summary == (
        "120 denied attempt(s) (120 tuple(s)) in 6 group(s) of source, destination, port, protocol and rule. "
        "6 retry storm(s): " + "; ".join(f"{SCANNER} -> {WEB}:{p}/tcp (20 attempts within 10 min)"
                                         for p in range(1, 6)) + ".")
    assert len(f.facts["storms"]) == 6


def test_the_inventory_names_source_and_destination_vms():
    from flowkit.inventory import inventory_from_records

    inv = inventory_from_records([{"ip": WEB, "vm": "web-01"}, {"ip": D6, "vm": "web-v6"}])
    f = denied_summary(frame([_deny(0), _deny(0, src=S6, dst=D6)]), inventory=inv)
    t = f.evidence["denied"]
    assert t[["src_ip", "src_vm", "dst_vm"]].values.tolist() == [[SCANNER, None, "web-01"], [S6, None, "web-v6"]]


def test_another_table_is_refused_naming_denied_summary():
    evidence = denied_summary(frame([_deny(0)])).evidence["denied"]
    with pytest.raises(ArgumentError, match=r"^denied_summary reads a flow table \(read_flow_logs\); "):
        denied_summary(evidence)
