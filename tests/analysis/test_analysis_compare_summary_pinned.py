"""compare_summary: the tally, the finding's text, verdicts, tables and chart, pinned."""

from __future__ import annotations

import numpy as np
import pandas as pd

import flowkit.analysis.compare_summary as cs
from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.compare_summary import (CAUSES, KeyTally, no_overlap_finding, readable_times,
                                              reconciliation_finding, tally)
from flowkit_frames import SCANNER, WEB, WEB_MAC, frame, tuple_row

LO = pd.Timestamp("2024-05-01T10:00Z")
W = (LO, LO + pd.Timedelta("2h"))
NSG = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
AVNM = "BlockHighRiskPorts_456b4993-6e57-4e46-aa4d-81767afff09c"
HEAD = "VNet logs cover {} of NSG-logged flows ({} of {} keys, 2024-05-01 10:00Z to 2024-05-01 12:00Z)"


def _finding(counts: KeyTally, nsg_macs=frozenset({"A"}), vnet_macs=frozenset({"A"}), **kw):
    return reconciliation_finding(counts, W, set(nsg_macs), set(vnet_macs), differences=pd.DataFrame(),
                                  figures=kw.pop("figures", False), **kw)


def test_coverage_short_of_all_never_reads_100_percent():
    """One NSG-logged key in 2000 missing with no known cause: not ready, and not "100.0%"."""
    f = _finding(KeyTally({"matched": 1999, "nsg-only": 1}, explained={"unexplained": 1},
                          gap_causes={"unexplained": 1}, unexplained_gap=1))
    assert f.summary.startswith(HEAD.format(">99.9%", 1999, 2000) + "; the rest, by cause: unexplained ")
    assert (f.verdict, f.facts["coverage"]) == ("not-ready", 0.9995)
    f = _finding(KeyTally({"matched": 1, "nsg-only": 2999}, gap_causes={"mac-not-logged": 2999}),
                 nsg_macs={"A", "B"})
    assert f.summary.startswith(HEAD.format("<0.1%", 1, 3000))
    assert _finding(KeyTally({"matched": 3})).summary.startswith(HEAD.format("100.0%", 3, 3))
    assert _finding(KeyTally({"vnet-only": 3})).summary.startswith(HEAD.format("n/a", 0, 0))


def test_a_realistic_migration_is_ready():
    """A TCP flow, one logged by the subnet's and the NIC's NSG, DNS over UDP (NSG v2 counts no
    UDP packets), IPv6, and RDP denied by an AVNM security admin rule that only VNet logs see."""
    rows = [tuple_row(1, sport=1, log_type=t, counters=(5, 500, 4, 400)) for t in ("nsg", "vnet")]
    rows += [tuple_row(2, sport=2, log_type="nsg", resource_id=NSG + n, counters=(5, 500, 4, 400))
             for n in ("nsg-snet-web", "nsg-nic-web")] + [tuple_row(2, sport=2, counters=(5, 500, 4, 400))]
    rows += [tuple_row(3, sport=3, proto=17, dport=53, log_type="nsg", counters=(0, 0, 0, 0)),
             tuple_row(3, sport=3, proto=17, dport=53, counters=(2, 150, 2, 300))]
    rows += [tuple_row(4, src=SCANNER, dst=WEB, sport=4, dport=3389, direction="inbound", decision="deny",
                       state="D", rule=AVNM)]
    rows += [tuple_row(5, src="2001:db8::4", dst="2001:db8::5", sport=5, log_type=t, counters=(1, 100, 1, 100))
             for t in ("nsg", "vnet")]
    f = compare_nsg_vnet(frame(rows), figures=False)
    assert (f.verdict, f.severity) == ("ready", "info")
    assert f.summary == (
        "VNet logs cover 100.0% of NSG-logged flows (4 of 4 keys, 2024-05-01 10:00Z to 2024-05-01 11:00Z). "
        "1 key(s) only in VNet logs, 0 outside the common window; 0 decision and 0 counter mismatch(es) among "
        "matched keys. Every NSG-logged flow is covered or explained: ready to rely on VNet flow logs.")
    assert f.evidence["causes"].to_dict("list") == {
        "cause": ["avnm-rule", "subnet-and-nic-nsg"], "keys": [1, 1],
        "meaning": [CAUSES["avnm-rule"], CAUSES["subnet-and-nic-nsg"]]}
    assert CAUSES["avnm-rule"].startswith("denied by an Azure Virtual Network Manager security admin rule")
    assert (f.facts["common_macs"], f.facts["nsg_only_macs"], f.facts["vnet_only_macs"]) == ([WEB_MAC], [], [])
    assert f.facts == {"matched": 4, "nsg_only": 0, "vnet_only": 1, "outside_window": 0, "decision_mismatch": 0,
                       "counter_mismatch": 0, "explained": {"avnm-rule": 1, "subnet-and-nic-nsg": 1},
                       "coverage": 1.0, "window": {"start": LO, "end": LO + pd.Timedelta("1h")},
                       "common_macs": [WEB_MAC], "nsg_only_macs": [], "vnet_only_macs": []}
    assert f.evidence["coverage_by_hour"][["matched", "nsg-only", "vnet-only", "coverage"]].values.tolist() == [
        [4, 0, 1, 1.0]]
    assert f.title == "NSG vs VNet flow logs: migration readiness" and f.figures == {}


def test_every_blocker_is_named():
    macs = {f"000D3A0000{i:02d}" for i in range(11)}
    f = _finding(KeyTally({"matched": 5, "nsg-only": 9}, decision_mismatch=3, counter_mismatch=1,
                          gap_causes={"mac-not-logged": 4, "hour-not-logged": 3, "unexplained": 2},
                          unexplained_gap=2, unexplained_decisions=1), nsg_macs=macs | {"A"})
    listed = ", ".join(sorted(macs)[:10]) + " …"
    assert f.summary == (
        HEAD.format("35.7%", 5, 14) + "; the rest, by cause: hour-not-logged (3: in an hour the other log did not write (outside the "
        "common window, or a gap for that NIC)), mac-not-logged (4: seen at NICs the other log does not cover), "
        "unexplained (2: no known cause: investigate). "
        "0 key(s) only in VNet logs, 0 outside the common window; 3 decision and 1 counter mismatch(es) among "
        "matched keys. Not ready to migrate: 2 NSG-logged key(s) are missing from the VNet logs with no known "
        f"cause; 4 NSG-logged key(s) are at NICs the VNet flow logs do not cover ({listed}): enable VNet flow "
        "logs on them; 3 NSG-logged key(s) are in hours the VNet flow logs did not write for their NIC; "
        "1 matched key(s) were allowed by one log and denied by the other with no known cause.")
    assert (f.verdict, f.severity) == ("not-ready", "high")
    assert f.facts["nsg_only_macs"] == sorted(macs) and f.facts["common_macs"] == ["A"]
    assert (f.facts["decision_mismatch"], f.facts["counter_mismatch"], f.facts["coverage"]) == (3, 1, 5 / 14)


def test_the_chart_is_drawn_unless_asked_not_to():
    hours = pd.DataFrame({"hour": [LO], "class": ["matched"], "keys": [1]})
    f = reconciliation_finding(KeyTally({"matched": 1}, hours=hours), W, {"A"}, {"A"}, differences=pd.DataFrame())
    assert list(f.figures) == ["coverage"]


def test_ten_uncovered_nics_are_all_listed():
    macs = {f"000D3A0000{i:02d}" for i in range(10)}
    f = _finding(KeyTally({"nsg-only": 10}, gap_causes={"mac-not-logged": 10}), nsg_macs=macs | {"A"})
    assert f"({', '.join(sorted(macs))}): enable VNet flow logs on them." in f.summary


def test_each_blocker_alone_makes_not_ready():
    for counts in (KeyTally({"matched": 1, "nsg-only": 1}, gap_causes={"hour-not-logged": 1}),
                   KeyTally({"matched": 1}, decision_mismatch=1, unexplained_decisions=1),
                   KeyTally({"matched": 1, "nsg-only": 1}, gap_causes={"unexplained": 1}, unexplained_gap=1)):
        assert (_finding(counts).verdict, _finding(counts).severity) == ("not-ready", "high")


def test_explained_differences_are_ready_with_low_severity():
    f = _finding(KeyTally({"matched": 4, "nsg-only": 1}, decision_mismatch=1, explained={"clock-skew": 1},
                          gap_causes={"clock-skew": 1}))
    assert (f.verdict, f.severity) == ("ready", "low")
    assert _finding(KeyTally({"matched": 4}, counter_mismatch=1)).severity == "low"
    assert _finding(KeyTally({"matched": 4})).severity == "info"
    assert f.summary.endswith("1 decision and 0 counter mismatch(es) among matched keys. Every NSG-logged flow "
                              "is covered or explained: ready to rely on VNet flow logs.")


def test_no_overlap_findings_in_full():
    f = no_overlap_finding(3, 4)
    assert (f.title, f.verdict, f.severity) == ("NSG vs VNet flow logs", "no-overlap", "medium")
    assert f.summary == "The NSG and VNet flow logs given share no hour: nothing to compare."
    assert f.facts == {"matched": 0, "nsg_only": 0, "vnet_only": 0, "outside_window": 0, "decision_mismatch": 0,
                       "counter_mismatch": 0, "explained": {}, "coverage": None, "nsg_rows": 3, "vnet_rows": 4}
    f = no_overlap_finding(np.int64(2), np.int64(5), (LO, LO + pd.Timedelta("90min")))
    assert f.summary == ("The NSG or the VNet flow logs given have no tuple from 2024-05-01 10:00Z to "
                         "2024-05-01 11:30Z: nothing to compare.")
    assert type(f.facts["nsg_rows"]) is int and (f.facts["nsg_rows"], f.facts["vnet_rows"]) == (2, 5)


def test_no_overlap_says_which_side_holds_no_tuple_of_its_log_type():
    """VNet logs given as the NSG side (a swapped or mistyped path) share every hour with the VNet
    side: "share no hour" sent the reader to the times; the summary names the empty side."""
    assert no_overlap_finding(0, 461).summary == (
        "No NSG flow-log tuple among the NSG flows given (the VNet side holds 461): nothing to compare; "
        "NSG flow logs are the blobs under insights-logs-networksecuritygroupflowevent.")
    assert no_overlap_finding(np.int64(390), 0, W).summary == (
        "No VNet flow-log tuple among the VNet flows given (the NSG side holds 390): nothing to compare; "
        "VNet flow logs are the blobs under insights-logs-flowlogflowevent.")
    f = no_overlap_finding(0, 0)
    assert f.summary == ("No NSG flow-log tuple among the NSG flows given and no VNet flow-log tuple among the "
                         "VNet flows given: nothing to compare.")
    assert (f.facts["nsg_rows"], f.facts["vnet_rows"]) == (0, 0)
    vnet_only = frame([tuple_row(0, sport=1)])  # a VNet tuple on both sides
    assert compare_nsg_vnet(vnet_only, vnet_only, figures=False).summary.startswith(
        "No NSG flow-log tuple among the NSG flows given (the VNet side holds 1)")


def test_the_coverage_chart_stacks_classes_per_hour():
    hours = pd.DataFrame({"hour": [LO, LO, LO + pd.Timedelta("1h")], "class": ["matched", "nsg-only", "vnet-only"],
                          "keys": [3, 1, 2]})
    f = _finding(KeyTally({"matched": 3, "nsg-only": 1, "vnet-only": 2}, gap_causes={"clock-skew": 1}, hours=hours),
                 figures=True)
    ax, ax2 = f.figures["coverage"].axes
    bars = [(round(p.get_x() + p.get_width() / 2), p.get_y(), p.get_height()) for p in ax.patches]
    assert bars == [(0, 0, 3), (1, 0, 0), (0, 3, 1), (1, 0, 0), (0, 4, 0), (1, 0, 2)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["matched", "NSG only", "VNet only", "coverage %"]
    assert ax.get_xlabel() == "hour (UTC)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["05-01 10:00", "05-01 11:00"]
    assert (ax.get_title(), ax.get_ylabel(), ax2.get_ylabel(), ax2.get_ylim()) == (
        "NSG vs VNet coverage per hour", "flow keys (by first hour)", "VNet coverage of NSG keys (%)", (0, 105))
    np.testing.assert_array_equal(ax2.lines[0].get_ydata(), [75.0, np.nan])
    assert _finding(KeyTally({"matched": 1}), figures=False).figures == {}


def test_readable_times_turns_epoch_milliseconds_into_utc():
    keys = pd.DataFrame({"nsg_first": pd.array([1714557600000, None], dtype="Int64"),
                         "vnet_last": [1714557600500.0, np.nan], "src_port": [1, 2]})
    both = readable_times(keys.assign(nsg_last=keys["nsg_first"], vnet_first=keys["vnet_last"]))
    assert [str(both[c].dtype) for c in ("nsg_first", "nsg_last", "vnet_first", "vnet_last")] == [
        "datetime64[ms, UTC]"] * 4
    t = readable_times(keys)
    assert t["nsg_first"].tolist()[0] == LO and pd.isna(t["nsg_first"].tolist()[1])
    assert t["vnet_last"].tolist()[0] == LO + pd.Timedelta(milliseconds=500)
    assert str(t["vnet_last"].dtype) == "datetime64[ms, UTC]" and t["src_port"].tolist() == [1, 2]
    assert readable_times(t) is t  # already readable: the same frame
    plain = pd.DataFrame({"src_port": [1]})
    assert readable_times(plain) is plain


def test_tally_of_hours_uses_the_vnet_time_of_vnet_only_keys_and_skips_outside_keys():
    keys = pd.DataFrame({"class": ["vnet-only", "outside-window", "matched"], "causes": ["", "outside-window", ""],
                         "cause": [None, "outside-window", None], "decision_mismatch": [False, False, True],
                         "counter_mismatch": [False, False, False],
                         "vnet_first": [7_200_000.0, 0.0, 3_600_000.0]})  # no NSG column: no NSG row in the window
    t = tally(keys)
    assert t.hours.to_dict("list") == {"hour": [pd.Timestamp("1970-01-01T01:00Z"), pd.Timestamp("1970-01-01T02:00Z")],
                                       "class": ["matched", "vnet-only"], "keys": [1, 1]}
    assert (t.decision_mismatch, t.counter_mismatch, t.unexplained_decisions, t.unexplained_gap) == (1, 0, 0, 0)
    empty = tally(keys[keys["class"] == "outside-window"]).hours
    assert empty.empty and {c: str(d) for c, d in empty.dtypes.items()} == {
        "hour": "datetime64[ns, UTC]", "class": "object", "keys": "int64"}
    assert (KeyTally() + KeyTally()).hours.columns.tolist() == ["hour", "class", "keys"]


def test_every_public_name_is_there():
    assert all(hasattr(cs, name) for name in cs.__all__) and len(cs.__all__) == 8
    assert cs.CLASSES == ("matched", "nsg-only", "vnet-only", "outside-window")


def test_difference_rows_keep_the_key_columns_only():
    keys = pd.DataFrame({"src_port": [1, 2, 3, 4], "class": ["matched", "nsg-only", "matched", "matched"],
                         "decision_mismatch": [False, False, True, False],
                         "counter_mismatch": [False, False, False, True]}, index=[10, 11, 12, 13])
    d = cs.difference_rows(keys)
    assert d.to_dict("list") == {"src_port": [2, 3, 4], "class": ["nsg-only", "matched", "matched"],
                                 "decision_mismatch": [False, True, False], "counter_mismatch": [False, False, True]}
    assert d.index.tolist() == [0, 1, 2]


def test_added_tallies_keep_their_hours_in_order():
    late = KeyTally(hours=pd.DataFrame({"hour": [LO + pd.Timedelta("1h")], "class": ["matched"], "keys": [2]}))
    early = KeyTally(hours=pd.DataFrame({"hour": [LO, LO], "class": ["nsg-only", "matched"], "keys": [1, 3]}))
    assert (late + early).hours.to_dict("list") == {
        "hour": [LO, LO, LO + pd.Timedelta("1h")], "class": ["matched", "nsg-only", "matched"], "keys": [3, 1, 2]}
