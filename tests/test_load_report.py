"""LoadReport: combining, the invariant, the summary, and free copies."""

from __future__ import annotations

import copy

import pandas as pd

from flowkit.load_report import LoadReport, Problem


def test_combine_adds_up_and_keeps_quarantine_and_problems():
    q = pd.DataFrame({"blob": ["a"], "record": pd.array([0], dtype="Int64"), "tuple": pd.array([1], dtype="Int64"),
                      "reason": ["wrong-field-count"], "raw": ["x"]})
    a = LoadReport(files=1, records=2, tuples=5, rows=4, quarantined=1, formats={"nsg-v1": 4}, quarantine=q)
    b = LoadReport(files=1, records=1, tuples=3, rows=2, filtered_out=1, formats={"nsg-v1": 1, "vnet-v4": 1},
                   problems=(Problem("b", "truncated-record", "byte 10"),))
    r = LoadReport.combine([a, b], files_skipped=3)
    assert (r.files, r.files_skipped, r.records, r.tuples, r.rows, r.quarantined, r.filtered_out) == (2, 3, 3, 8, 6, 1, 1)
    assert r.formats == {"nsg-v1": 5, "vnet-v4": 1} and r.consistent
    assert r.problem_counts == {"wrong-field-count": 1, "record:truncated-record": 1}
    assert "6 row(s), 1 quarantined" in r.summary() and "record:truncated-record: 1" in r.summary()
    assert r.to_dict()["problems"] == {"wrong-field-count": 1, "record:truncated-record": 1}


def test_copies_are_free_because_reports_are_immutable():
    r = LoadReport(files=1)
    assert copy.deepcopy(r) is r and copy.copy(r) is r


def test_to_dict_times_are_as_precise_as_the_values():
    def span(start: str, end: str) -> tuple[str, str]:
        d = LoadReport(start=pd.Timestamp(start), end=pd.Timestamp(end)).to_dict()
        return d["start"], d["end"]

    assert span("2024-05-01T10:00:07Z", "2024-05-01T11:58:44.163Z") == ("2024-05-01T10:00:07Z",
                                                                         "2024-05-01T11:58:44.163Z")
    assert span("2024-05-01T10:00:07.0004Z", "2024-05-01T10:00:52.5625085Z") == (
        "2024-05-01T10:00:07.000400Z", "2024-05-01T10:00:52.562508500Z")
    assert LoadReport().to_dict()["start"] is None


def test_combine_spans_the_parts_time_ranges_unless_overridden():
    t = pd.Timestamp
    parts = [LoadReport(start=t("2024-05-01T10:05Z"), end=t("2024-05-01T10:50Z")), LoadReport(),
             LoadReport(start=t("2024-05-01T09:59Z"), end=t("2024-05-01T10:20Z"))]
    combined = LoadReport.combine(parts)
    assert (combined.start, combined.end) == (t("2024-05-01T09:59Z"), t("2024-05-01T10:50Z"))
    assert LoadReport.combine([LoadReport()]).start is None
    assert LoadReport.combine(parts, start=None).start is None


def test_summary_names_what_was_not_selected_and_every_problem():
    r = LoadReport(files=1, records=1, tuples=3, rows=2, filtered_out=1)
    assert r.summary() == ("1 file(s), 1 record(s), 3 tuple(s): 2 row(s), 0 quarantined, "
                           "1 not selected (time window, log type or MAC)")
    assert LoadReport(files=1, records=1, tuples=2, rows=2).summary(records=False) == (
        "1 file(s), 2 tuple(s): 2 row(s), 0 quarantined")
    damaged = LoadReport(files=1, problems=(Problem("b", "truncated-record", "byte 9"),))  # no tuple lost
    assert damaged.summary() == ("1 file(s), 0 record(s), 0 tuple(s): 0 row(s), 0 quarantined "
                                 "(record:truncated-record: 1)")
