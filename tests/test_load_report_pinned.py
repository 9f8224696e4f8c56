"""LoadReport pinned: a report merged from many batches adds up, its dict and text exactly, and
the one check of every reader (no flow-log record and a file that is not JSON)."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from flowkit.errors import FormatError
from flowkit.load_report import QUARANTINE_COLUMNS, LoadReport, Problem, check_some_records, quarantine_frame

T = pd.Timestamp
load_report = importlib.import_module("flowkit.load_report")  # flowkit.load_report is also a function


def kinds(quarantine: pd.DataFrame) -> list[str]:
    """The quarantine's dtypes, text columns as "text" (object when empty, str otherwise, in pandas 3)."""
    return ["Int64" if str(t) == "Int64" else "text" for t in quarantine.dtypes]


def batch(i: int) -> LoadReport:
    """The report of batch ``i``: 10 tuples, i % 3 quarantined, 1 left out, 2 records, a format each."""
    bad = i % 3
    rows = [(f"b{i}.json", 0, k, "wrong-field-count" if k % 2 else "invalid-ip", f"raw{i}.{k}") for k in range(bad)]
    return LoadReport(files=1, files_skipped=i % 2, records=2, tuples=10, rows=9 - bad, quarantined=bad,
                      filtered_out=1, formats={"nsg-v2" if i % 2 else "vnet-v4": 9 - bad},
                      quarantine=quarantine_frame(rows),
                      problems=(Problem(f"b{i}.json", "truncated-record", "byte 7", 1),) if i % 5 == 0 else (),
                      start=T("2024-05-01T10:00Z") + pd.Timedelta(minutes=i), end=T("2024-05-01T10:30Z") - pd.Timedelta(minutes=i),
                      sources=(f"s{i}",))


def test_a_report_merged_from_many_batches_adds_up() -> None:
    parts = [batch(i) for i in range(12)]
    r = LoadReport.combine(parts)
    assert (r.files, r.files_skipped, r.records, r.tuples, r.rows, r.quarantined, r.filtered_out) == (
        12, 6, 24, 120, 96, 12, 12)
    assert r.consistent and sum(r.formats.values()) == r.rows
    assert r.formats == {"vnet-v4": 9 * 6 - (0 + 2 + 1 + 0 + 2 + 1), "nsg-v2": 9 * 6 - (1 + 0 + 2 + 1 + 0 + 2)}
    assert len(r.quarantine) == r.quarantined == 12 and list(r.quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert r.quarantine["blob"].tolist()[:3] == ["b1.json", "b2.json", "b2.json"]
    assert r.quarantine["raw"].tolist()[-2:] == ["raw11.0", "raw11.1"]
    assert r.quarantine.index.tolist() == list(range(12))
    assert kinds(r.quarantine) == ["text", "Int64", "Int64", "text", "text"]
    assert r.reasons == {"invalid-ip": 8, "wrong-field-count": 4}  # most frequent first
    assert r.problems == tuple(Problem(f"b{i}.json", "truncated-record", "byte 7", 1) for i in (0, 5, 10))
    assert r.problem_counts == {"invalid-ip": 8, "wrong-field-count": 4, "record:truncated-record": 3}
    assert (r.start, r.end) == (T("2024-05-01T10:00Z"), T("2024-05-01T10:30Z"))
    assert r.sources == ()  # a merge names no source unless told
    assert LoadReport.combine(parts, sources=("x",)).sources == ("x",)


def test_merging_nothing_is_the_empty_report() -> None:
    r = LoadReport.combine([])
    assert r.to_dict() == LoadReport.empty().to_dict() and len(r.quarantine) == 0
    assert kinds(r.quarantine) == ["text", "Int64", "Int64", "text", "text"]
    assert LoadReport.combine([LoadReport(files=1, tuples=2, rows=2)]).quarantine.columns.tolist() == list(
        QUARANTINE_COLUMNS)


def test_to_dict_exactly() -> None:
    r = LoadReport(files=2, files_skipped=1, records=3, tuples=7, rows=4, quarantined=2, filtered_out=1,
                   formats={"nsg-v1": 4}, quarantine=quarantine_frame([("a", 0, 1, "invalid-ip", "x")] * 2),
                   problems=(Problem("a", "not-json", "<Error>"),), start=T("2024-05-01T10:00Z"),
                   end=T("2024-05-01T10:59:59.999Z"), sources=("data/", "https://acct.blob.core.windows.net/c"))
    assert r.to_dict() == {
        "files": 2, "files_skipped": 1, "records": 3, "tuples": 7, "rows": 4, "quarantined": 2,
        "filtered_out": 1, "formats": {"nsg-v1": 4}, "start": "2024-05-01T10:00:00Z",
        "end": "2024-05-01T10:59:59.999Z", "problems": {"invalid-ip": 2, "record:not-json": 1},
        "sources": ["data/", "https://acct.blob.core.windows.net/c"]}
    assert r.summary() == ("2 file(s), 3 record(s), 7 tuple(s): 4 row(s), 2 quarantined, 1 not selected "
                           "(time window, log type or MAC) (invalid-ip: 2, record:not-json: 1)")
    assert r.consistent and not LoadReport(tuples=8, rows=4, quarantined=2, filtered_out=1).consistent


def test_a_missing_time_is_none_in_the_dict() -> None:
    assert LoadReport(start=pd.NaT, end=pd.NaT).to_dict()["start"] is None
    assert LoadReport(start=pd.NaT, end=pd.NaT).to_dict()["end"] is None


def test_a_quarantine_alone_is_named_in_the_summary() -> None:
    r = LoadReport(files=1, records=1, tuples=2, rows=1, quarantined=1,
                   quarantine=quarantine_frame([("a", 0, 1, "invalid-port", "x")]))
    assert r.summary(records=False) == "1 file(s), 2 tuple(s): 1 row(s), 1 quarantined (invalid-port: 1)"


def test_quarantine_frame_of_rows_and_of_none() -> None:
    q = quarantine_frame([("a.json", 0, 1, "wrong-field-count", "1,2"), ("b.json", None, None, "not-json", "<")])
    assert list(q.columns) == list(QUARANTINE_COLUMNS) == ["blob", "record", "tuple", "reason", "raw"]
    assert q["record"].tolist() == [0, pd.NA] and q["tuple"].tolist() == [1, pd.NA]
    assert kinds(q) == ["text", "Int64", "Int64", "text", "text"]
    assert q["reason"].tolist() == ["wrong-field-count", "not-json"] and q["raw"].tolist() == ["1,2", "<"]
    empty = quarantine_frame(iter(()))
    assert len(empty) == 0 and kinds(empty) == ["text", "Int64", "Int64", "text", "text"]


def test_every_public_name_exists() -> None:
    assert [name for name in load_report.__all__ if not hasattr(load_report, name)] == []


def not_json(blob: str, detail: str = "<Error>") -> Problem:
    return Problem(blob, "not-json", detail)


@pytest.mark.parametrize("report, blobs", [
    pytest.param(LoadReport(files=2, records=1, problems=(not_json("a"),)), 2, id="another-blob-has-records"),
    pytest.param(LoadReport(problems=(not_json("a"),)), 0, id="no-blob-read"),
    pytest.param(LoadReport(files=1, problems=(Problem("a", "truncated-record", "byte 9"),)), 1,
                 id="damaged-but-json"),
    pytest.param(LoadReport(files=1), 1, id="json-without-records"),
])
def test_a_read_with_records_or_without_a_non_json_blob_passes_the_check(report: LoadReport, blobs: int) -> None:
    assert check_some_records(report, blobs) is None


def test_the_check_names_the_first_non_json_blob_and_counts_the_others() -> None:
    one = LoadReport(files=1, problems=(not_json("PT1H.json", "x" * 200),))
    with pytest.raises(FormatError) as caught:
        check_some_records(one, 1)
    assert str(caught.value) == f"no flow-log records found: 'PT1H.json' is not JSON ({'x' * 120!r})"
    three = LoadReport(files=3, problems=(Problem("a", "truncated-record", "d"), not_json("b"), not_json("c"),
                                          not_json("d")))
    with pytest.raises(FormatError) as caught:
        check_some_records(three, 3)
    assert str(caught.value) == "no flow-log records found: 'b' is not JSON ('<Error>') (and 2 more)"
    with pytest.raises(FormatError) as caught:
        check_some_records(LoadReport(files=2, problems=(not_json("b"), not_json("c"))), 2)
    assert str(caught.value) == "no flow-log records found: 'b' is not JSON ('<Error>') (and 1 more)"


def test_a_report_and_its_problems_cannot_be_changed() -> None:
    # copies of a report are the report itself (pandas copies DataFrame.attrs on every operation)
    import dataclasses

    r, p = LoadReport(files=1), Problem("a", "not-json", "<")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.files = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.reason = "x"  # type: ignore[misc]
    assert len({p, Problem("a", "not-json", "<")}) == 1


def test_the_repr_leaves_the_quarantine_table_out_and_the_html_is_a_table() -> None:
    r = LoadReport(files=1, quarantine=quarantine_frame([("a", 0, 1, "invalid-ip", "x")]))
    assert "quarantine=" not in repr(r) and repr(r).startswith("LoadReport(files=1, files_skipped=0,")
    html = r._repr_html_()
    assert html.startswith("<table><caption>flowkit load report</caption><tr><th style='text-align:left'>files</th>"
                           "<td>1</td></tr>") and html.endswith("<td>[]</td></tr></table>")
    assert html.count("<tr>") == len(r.to_dict()) == 12


def test_each_empty_quarantine_is_a_frame_of_its_own():
    """Empty quarantines are copies of one template: changing one changes no other report's."""
    first, second = LoadReport(), LoadReport()
    assert first.quarantine is not second.quarantine
    first.quarantine["extra"] = []
    first.quarantine.loc[0] = ["b.json", 1, 2, "why", "raw", "x"]
    assert list(second.quarantine.columns) == list(QUARANTINE_COLUMNS) and len(second.quarantine) == 0
    assert list(LoadReport.combine([]).quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert kinds(LoadReport().quarantine) == ["text", "Int64", "Int64", "text", "text"]
