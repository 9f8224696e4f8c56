"""compare_summary: the tally of a key table adds up over a split by key, and makes the finding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.analysis.compare import common_window, compare_nsg_vnet, key_table, mac_hours
from flowkit.analysis.compare_summary import KeyTally, difference_rows, reconciliation_finding, tally
from flowkit.analysis.keys import category_mask
from flowkit_frames import APP_MAC, frame, read_scenario, tuple_row


def _sides(flows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (flows.loc[category_mask(flows["log_type"], "nsg")], flows.loc[category_mask(flows["log_type"], "vnet")])


@pytest.mark.parametrize("window", [None, ("2024-05-01T10:30Z", "2024-05-01T11:30Z")], ids=["common", "given"])
def test_key_tables_of_a_split_by_key_add_up_to_the_whole(window):
    """What the Dask engine relies on: each part of a split by flow key, classified with the
    coverage of the whole, gives that part's keys exactly; tallies add up to the whole's."""
    flows = read_scenario("nsg-vs-vnet")
    whole = compare_nsg_vnet(flows, start=window and window[0], end=window and window[1], figures=False)
    nsg, vnet = _sides(flows)
    w = common_window(nsg, vnet, *(window or (None, None)))
    hours = {"nsg_hours": mac_hours(nsg, w), "vnet_hours": mac_hours(vnet, w)}
    group = (flows["src_port"].to_numpy(np.int64) + flows["dst_port"].to_numpy(np.int64)) % 3
    total, diffs = KeyTally(), []
    for g in range(3):
        keys = key_table(*_sides(flows[group == g]), w, **hours)
        total = total + tally(keys)
        diffs.append(difference_rows(keys))
    assert sum(len(d) for d in diffs) == len(whole.evidence["differences"]) > 0
    assert total.classes == tally(whole.evidence["keys"]).classes
    rebuilt = reconciliation_finding(total, w, {m for m, _ in hours["nsg_hours"]},
                                     {m for m, _ in hours["vnet_hours"]}, differences=pd.concat(diffs),
                                     figures=False)
    assert (rebuilt.verdict, rebuilt.summary, rebuilt.facts) == (whole.verdict, whole.summary, whole.facts)
    pd.testing.assert_frame_equal(rebuilt.evidence["coverage_by_hour"], whole.evidence["coverage_by_hour"])
    pd.testing.assert_frame_equal(rebuilt.evidence["causes"], whole.evidence["causes"])


def test_tally_counts_and_adds():
    keys = pd.DataFrame({
        "class": ["matched", "matched", "nsg-only", "nsg-only", "vnet-only", "outside-window"],
        "causes": ["", "nsg-v2-counts-tcp-only", "mac-not-logged", "unexplained,subnet-and-nic-nsg", "avnm-rule",
                   "hour-not-logged"],
        "cause": [None, "nsg-v2-counts-tcp-only", "mac-not-logged", "unexplained", "avnm-rule", "hour-not-logged"],
        "decision_mismatch": [False, False, False, False, False, False],
        "counter_mismatch": [False, True, False, False, False, False],
        "nsg_first": [0.0, 3_600_000.0, 3_600_000.0, 0.0, np.nan, np.nan],
        "vnet_first": [0.0, 3_600_000.0, np.nan, np.nan, 7_200_000.0, 0.0]})
    t = tally(keys)
    assert t.classes == {"matched": 2, "nsg-only": 2, "outside-window": 1, "vnet-only": 1}
    assert (t.decision_mismatch, t.counter_mismatch, t.unexplained_gap) == (0, 1, 1)
    assert t.explained == {"avnm-rule": 1, "hour-not-logged": 1, "mac-not-logged": 1, "nsg-v2-counts-tcp-only": 1,
                           "subnet-and-nic-nsg": 1, "unexplained": 1}
    assert t.gap_causes == {"mac-not-logged": 1, "unexplained": 1}
    assert t.hours.to_dict("list") == {
        "hour": [pd.Timestamp(0, tz="UTC"), pd.Timestamp(0, tz="UTC"), pd.Timestamp("1970-01-01T01:00Z"),
                 pd.Timestamp("1970-01-01T01:00Z"), pd.Timestamp("1970-01-01T02:00Z")],
        "class": ["matched", "nsg-only", "matched", "nsg-only", "vnet-only"], "keys": [1, 1, 1, 1, 1]}
    twice = t + t
    assert twice.classes["matched"] == 4 and twice.unexplained_gap == 2 and twice.explained["avnm-rule"] == 2
    assert twice.hours["keys"].tolist() == [2, 2, 2, 2, 2]
    finding = reconciliation_finding(twice, (pd.Timestamp(0, tz="UTC"), pd.Timestamp("1970-01-01T03:00Z")),
                                     {"A"}, {"A", "B"}, differences=difference_rows(keys), figures=False)
    assert finding.verdict == "not-ready" and finding.facts["coverage"] == 0.5
    assert finding.facts["vnet_only_macs"] == ["B"] and "keys" not in finding.evidence
    np.testing.assert_array_equal(finding.evidence["coverage_by_hour"]["coverage"].to_numpy(), [0.5, 0.5, np.nan])
    assert len(finding.evidence["differences"]) == 5


@pytest.mark.parametrize("start, end, hours", [
    pytest.param("2024-05-01T10:30Z", "2024-05-01T11:30Z", ["10:00", "11:00"], id="inside-two-hours"),
    pytest.param("2024-05-01T10:00Z", "2024-05-01T11:30Z", ["10:00", "11:00"], id="ends-inside-an-hour"),
    pytest.param("2024-05-01T09:59Z", "2024-05-01T12:00Z", ["09:00", "10:00", "11:00"], id="starts-a-minute-early"),
])
def test_coverage_by_hour_counts_every_hour_a_window_touches(start, end, hours):
    """A window that starts or ends inside an hour keeps that hour's keys in the table."""
    rows = [tuple_row(m, sport=m, log_type=t) for m in (40, 70) for t in ("nsg", "vnet")]
    rows.append(tuple_row(45, sport=99, log_type="nsg", mac=APP_MAC))  # NSG-only, at 10:45
    f = frame(rows)
    finding = compare_nsg_vnet(*_sides(f), start=start, end=end, figures=False)
    table = finding.evidence["coverage_by_hour"]
    assert table["hour"].dt.strftime("%H:%M").tolist() == hours
    by_hour = table.set_index(table["hour"].dt.strftime("%H:%M"))
    assert (by_hour.loc["10:00", "matched"], by_hour.loc["10:00", "nsg-only"]) == (1, 1)
    assert (by_hour.loc["11:00", "matched"], by_hour.loc["11:00", "coverage"]) == (1, 1.0)
    assert by_hour.loc["10:00", "coverage"] == 0.5
    assert int(table[["matched", "nsg-only", "vnet-only"]].to_numpy().sum()) == 3


def test_the_summary_names_the_coverage_the_gap_causes_and_the_verdict():
    rows = [tuple_row(0, sport=1), tuple_row(0, sport=1, log_type="nsg"),
            tuple_row(0, sport=8, src="10.10.2.4", dst="10.10.3.4", mac=APP_MAC, log_type="nsg")]
    nsg, vnet = _sides(frame(rows))
    gap = compare_nsg_vnet(nsg, vnet, figures=False)
    assert gap.summary == (
        "VNet logs cover 50.0% of NSG-logged flows (1 of 2 keys, 2024-05-01 10:00Z to 2024-05-01 11:00Z); "
        "the rest, by cause: mac-not-logged (1: seen at NICs the other log does not cover). "
        "0 key(s) only in VNet logs, 0 outside the common window; 0 decision and 0 counter mismatch(es) among "
        "matched keys. Not ready to migrate: 1 NSG-logged key(s) are at NICs the VNet flow logs do not cover "
        f"({APP_MAC}): enable VNet flow logs on them.")
    covered = compare_nsg_vnet(nsg[nsg["src_port"] == 1], vnet, figures=False)
    assert covered.summary == (
        "VNet logs cover 100.0% of NSG-logged flows (1 of 1 keys, 2024-05-01 10:00Z to 2024-05-01 11:00Z). "
        "0 key(s) only in VNet logs, 0 outside the common window; 0 decision and 0 counter mismatch(es) among "
        "matched keys. Every NSG-logged flow is covered or explained: ready to rely on VNet flow logs.")


def test_tallies_add_every_count():
    a = KeyTally({"matched": 2}, decision_mismatch=1, counter_mismatch=2, explained={"unexplained": 1},
                 gap_causes={"mac-not-logged": 1}, unexplained_gap=1, unexplained_decisions=1)
    b = KeyTally({"matched": 1, "nsg-only": 3}, decision_mismatch=2, counter_mismatch=1,
                 explained={"unexplained": 2, "avnm-rule": 1}, gap_causes={"unexplained": 3}, unexplained_gap=3,
                 unexplained_decisions=2)
    s = a + b
    assert (s.classes, s.decision_mismatch, s.counter_mismatch, s.unexplained_gap, s.unexplained_decisions) == (
        {"matched": 3, "nsg-only": 3}, 3, 3, 4, 3)
    assert (s.explained, s.gap_causes) == ({"avnm-rule": 1, "unexplained": 3}, {"mac-not-logged": 1, "unexplained": 3})


def test_no_matched_key_is_zero_coverage():
    rows = [tuple_row(0, sport=1, log_type="nsg"), tuple_row(0, sport=2)]  # one key each, at one NIC and hour
    f = compare_nsg_vnet(*_sides(frame(rows)), figures=False)
    assert (f.facts["matched"], f.facts["nsg_only"], f.facts["vnet_only"], f.facts["coverage"]) == (0, 1, 1, 0.0)
    assert f.summary.startswith("VNet logs cover 0.0% of NSG-logged flows (0 of 1 keys, ")
    assert f.verdict == "not-ready"
