"""The Report object: what it accepts and the counts it gives every writer."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from flowkit.findings import Finding
from flowkit.load_report import LoadReport, Problem
from flowkit.report import Report
from flowkit.report.report import format_for

from report_data import CREATED


def test_negative_max_rows_is_refused():
    with pytest.raises(ValueError, match=r"^max_rows must be 0 or more, not -1$"):
        Report(max_rows=-1)


def test_zero_max_rows_shows_no_row_and_counts_them_all():
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1, 2, 3]})})
    lines = Report([f], max_rows=0, created=CREATED).to_markdown().splitlines()
    assert "### e (3 row(s), first 0 shown)" in lines
    assert "_3 more row(s) not shown; write the report to a file (or as XLSX) to keep them._" in lines


# -- choosing the output format ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, fmt, want", [
    pytest.param("out/r.md", None, "md", id="md"),
    pytest.param("out/R.MARKDOWN", None, "md", id="markdown-upper"),
    pytest.param("r.HTM", None, "html", id="htm"),
    pytest.param("r.xlsx", None, "xlsx", id="xlsx"),
    pytest.param("r.csv", None, "csv", id="csv"),
    pytest.param("out/findings", None, "csv", id="no-suffix"),
    pytest.param("r.bin", "MarkDown", "md", id="format-markdown"),
    pytest.param("r.bin", ".htm", "html", id="format-htm"),
    pytest.param("r.md", "xlsx", "xlsx", id="format-wins"),
])
def test_format_for(path, fmt, want):
    assert format_for(path, fmt) == want


def test_format_for_a_folder_with_a_dot_is_csv(tmp_path):
    (tmp_path / "run.v1").mkdir()
    assert format_for(tmp_path / "run.v1") == "csv"


def test_format_for_refuses_what_it_cannot_tell():
    with pytest.raises(ValueError, match=r"^format must be one of \['csv', 'html', 'md', 'xlsx'\], not 'pdf'$"):
        format_for("r.md", "pdf")
    with pytest.raises(ValueError,
                       match=r"^cannot tell the format from 'r\.pdf': pass format= \(html, md, xlsx, csv\)$"):
        format_for("r.pdf")


# -- collecting -------------------------------------------------------------------------------------------------------
def _load(sources=(), start=None, end=None, **kw) -> LoadReport:
    return LoadReport(files=1, sources=tuple(sources), start=None if start is None else pd.Timestamp(start),
                      end=None if end is None else pd.Timestamp(end), **kw)


def test_sources_are_redacted_and_kept_once_in_order():
    lr = _load(["blob: https://acct.blob.core.windows.net/c?sv=2024&sig=SECRET", "local: a/"])
    r = Report(sources=["local: b/", "local: a/"], load_reports=[lr, lr])
    assert r.sources == ["local: b/", "local: a/", "blob: https://acct.blob.core.windows.net/c?REDACTED"]
    assert r.load_reports == [lr]
    r.sources.append("x")  # a copy
    assert len(r.sources) == 3


def test_equal_but_distinct_load_reports_are_both_kept():
    a, b = _load(), _load()
    r = Report().add_load_report(a).add_load_report(b).add_load_report(None)
    assert len(r.load_reports) == 2 and r.load_reports[0] is a and r.load_reports[1] is b


def test_flows_given_as_one_frame_or_several_add_their_load_reports():
    lr1, lr2 = _load(["local: one"]), _load(["local: two"])
    f1, f2, plain = pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [2]}), pd.DataFrame({"x": [3]})
    f1.attrs["load_report"], f2.attrs["load_report"] = lr1, lr2
    plain.attrs["load_report"] = {"files": 1}  # not a LoadReport: ignored
    assert Report(flows=f1).load_reports == [lr1]
    assert Report(flows=[f1, plain, f2]).load_reports == [lr1, lr2]
    assert Report(flows=[f1, plain, f2]).sources == ["local: one", "local: two"]


def test_add_refuses_what_is_not_a_finding():
    with pytest.raises(TypeError, match=r"^a report collects Finding objects, not str$"):
        Report().add(Finding("a", "ok"), "b")


def test_constructor_arguments_are_normalised():
    r = Report([Finding("a", "ok"), Finding("b", "ok", "high")], title=7, notes=[1, "two"], max_rows=3.0,
               created="2024-05-02T11:00:00+02:00")
    assert (r.title, r.notes, r.max_rows, r.anonymized, len(r)) == ("7", ["1", "two"], 3, False, 2)
    assert r.created == pd.Timestamp("2024-05-02T09:00:00Z")
    assert repr(r) == "Report('7', 2 finding(s): high 1, info 1)"
    assert repr(Report(title="t")) == "Report('t', 0 finding(s))"


def test_created_defaults_to_now_in_whole_seconds():
    before = pd.Timestamp.now(tz="UTC").floor("s")
    created = Report().created
    assert str(created.tz) == "UTC" and created.microsecond == 0 and created.nanosecond == 0
    assert before <= created


# -- what it holds ----------------------------------------------------------------------------------------------------
def test_window_is_the_span_of_the_load_reports_unless_given():
    lrs = [LoadReport(start=pd.NaT, end=pd.NaT), _load(start="2024-05-01T10:05Z", end="2024-05-01T10:50Z"), _load(),
           _load(start="2024-05-01T09:59Z", end="2024-05-01T10:20Z")]  # an unknown (NaT) bound first: skipped
    assert Report(load_reports=lrs).window == (pd.Timestamp("2024-05-01T09:59Z"), pd.Timestamp("2024-05-01T10:50Z"))
    assert Report(load_reports=lrs, start="2024-05-01T10:30Z").window == (
        pd.Timestamp("2024-05-01T10:30Z"), pd.Timestamp("2024-05-01T10:50Z"))
    assert Report(load_reports=lrs, end="2024-05-01T10:00Z").window == (
        pd.Timestamp("2024-05-01T09:59Z"), pd.Timestamp("2024-05-01T10:00Z"))
    assert Report(load_reports=[_load()]).window == (None, None)


def test_severity_counts_and_summary_table():
    r = Report([Finding("a", "ok", "critical"), Finding("b", "denied", "high"), Finding("c", "ok", "critical")])
    assert list(r.severity_counts().items()) == [("critical", 2), ("high", 1), ("medium", 0), ("low", 0), ("info", 0)]
    assert r.summary_table().to_dict("records") == [
        {"finding": 1, "severity": "critical", "verdict": "ok", "title": "a"},
        {"finding": 2, "severity": "high", "verdict": "denied", "title": "b"},
        {"finding": 3, "severity": "critical", "verdict": "ok", "title": "c"}]
    assert list(Report().summary_table().columns) == ["finding", "severity", "verdict", "title"]


def test_metadata():
    from flowkit import __version__

    lr = _load(["local: a?sig=SECRET"], start="2024-05-01T10:00Z", end="2024-05-01T11:00Z",
               problems=(Problem("https://a.blob.core.windows.net/c/b?sig=SECRET", "truncated-record",
                                 "at ?sig=SECRET", 3),))
    meta = Report([Finding("a", "ok")], title="T", load_reports=[lr], created="2024-05-02T09:00Z").metadata()
    assert {k: v for k, v in meta.items() if k != "load_reports"} == {
        "title": "T", "created": "2024-05-02T09:00:00Z", "flowkit_version": __version__,
        "sources": ["local: a?REDACTED"], "start": "2024-05-01T10:00:00Z", "end": "2024-05-01T11:00:00Z",
        "anonymized": False, "findings": 1}
    (d,) = meta["load_reports"]
    assert d["sources"] == ["local: a?REDACTED"]
    assert d["problem_details"] == [{"blob": "https://a.blob.core.windows.net/c/b?REDACTED",
                                     "reason": "truncated-record", "detail": "at ?REDACTED", "record": 3}]
    assert Report(created=CREATED).metadata()["start"] is None


def test_quarantine_table_masks_blob_and_raw_text_only():
    q = pd.DataFrame({"blob": ["https://a/c/b?sig=SECRET", "b.json"], "record": pd.array([1, 2], dtype="Int64"),
                      "tuple": pd.array([0, 1], dtype="Int64"), "reason": ["bad", "bad"],
                      "raw": ["x?sig=SECRET", 5]})
    lr = LoadReport(quarantined=2, quarantine=q)
    table = Report.quarantine_table(lr)
    assert table["blob"].tolist() == ["https://a/c/b?REDACTED", "b.json"]
    assert table["raw"].tolist() == ["x?REDACTED", 5]
    assert lr.quarantine["blob"][0] == "https://a/c/b?sig=SECRET"  # the load report is left alone
    assert Report.quarantine_table(LoadReport(quarantine=q.drop(columns=["raw"]))).columns.tolist() == [
        "blob", "record", "tuple", "reason"]


# -- writing ----------------------------------------------------------------------------------------------------------
def test_write_chooses_the_writer_and_where_it_writes(tmp_path):
    r = Report([Finding("a", "ok", evidence={"e": pd.DataFrame({"n": [1]})})], created=CREATED)
    out = r.write(tmp_path / "deep" / "er" / "r.md")  # missing folders are made
    assert out == tmp_path / "deep" / "er" / "r.md" and out.read_text(encoding="utf-8").startswith("# flowkit report")
    assert (tmp_path / "deep" / "er" / "r_files").is_dir()
    page = r.write(tmp_path / "p.html")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert r.write(tmp_path / "r.CSV") == tmp_path / "r" and (tmp_path / "r").is_dir()
    assert r.write(tmp_path / "folder", format="csv") == tmp_path / "folder"
    assert r.write(tmp_path / "w.bin", format="xlsx") == tmp_path / "w.bin"
    assert (tmp_path / "w.bin").read_bytes()[:2] == b"PK"


def test_a_missing_writer_names_the_extra_that_installs_it(monkeypatch):
    import importlib

    from flowkit.errors import FlowkitError

    real = importlib.import_module

    def no_jinja(name, *args):
        if name == "jinja2":
            raise ModuleNotFoundError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_jinja)
    with pytest.raises(FlowkitError) as err:
        Report().to_html()
    assert str(err.value) == "writing this report needs jinja2: pip install 'flowkit[notebooks]'"


def test_defaults_and_exported_names():
    from flowkit.report import report

    assert Report().max_rows == 50 and Report().title == "flowkit report"
    assert report.__all__ == ["Report", "FORMATS", "format_for"]
    assert all(hasattr(report, name) for name in report.__all__)


def test_a_secret_pasted_into_a_title_note_or_finding_never_reaches_the_report(tmp_path):
    """A user's own text (a report title, a note, a finding written by hand) may hold the SAS URL they
    read from: it is masked like a source is, in every format."""
    from flowkit.findings import Finding
    from flowkit.report.report import Report

    sas = "https://acct.blob.core.windows.net/logs?sv=2024-08-04&sp=rl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    key = "AccountKey=" + "A" * 86 + "=="
    finding = Finding(f"Read {sas}", "ok", summary=f"with {key}", notes=[f"from {sas}"])
    report = Report([finding], title=f"Incident {sas}", notes=[f"key {key}"])
    assert report.findings[0].title == "Read https://acct.blob.core.windows.net/logs?REDACTED"
    assert report.title == "Incident https://acct.blob.core.windows.net/logs?REDACTED"
    for text in (report.to_html(), report.to_markdown(), report.anonymize("k").to_markdown()):
        assert "c2VjcmV0" not in text and "A" * 86 not in text and "sig=" not in text
    clean = Finding("Connectivity 192.0.2.1 -> 198.51.100.2", "ok")
    assert Report([clean]).findings[0] is clean  # nothing to mask: the same finding


def test_a_secret_in_a_hand_written_findings_facts_or_evidence_never_reaches_the_report(tmp_path):
    """The SAS URL a notebook user read from, kept in a finding's facts or an evidence table they
    built, is masked like one in its title: in every format, the CSV files beside them included."""
    from flowkit.findings import Finding
    from flowkit.report.report import Report

    sas = "https://acct.blob.core.windows.net/logs/PT1H.json?sv=2024-08-04&sp=rl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    masked = "https://acct.blob.core.windows.net/logs/PT1H.json?REDACTED"
    table = pd.DataFrame({"blob": [sas, "b.json"], "rule": pd.Categorical([sas, "r"]), "cells": [[sas], [1]],
                          "n": [1, 2], f"from {sas}": [3, 4]})
    finding = Finding("Read", "ok", evidence={"blobs": table}, facts={"source": sas, "more": {"urls": [sas, 5]}})
    report = Report([finding])
    kept = report.findings[0]
    assert kept.facts == {"source": masked, "more": {"urls": [masked, 5]}}
    assert kept.evidence["blobs"].to_dict("list") == {"blob": [masked, "b.json"], "rule": [masked, "r"],
                                                      "cells": [[masked], [1]], "n": [1, 2], f"from {masked}": [3, 4]}
    assert finding.facts["source"] == sas and table["blob"][0] == sas  # the user's finding is left alone
    report.write(tmp_path / "r.html")
    report.write(tmp_path / "r.md")
    report.write(tmp_path / "r.xlsx")
    report.write(tmp_path / "csv", "csv")
    texts = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".xlsx"]
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        texts += [z.read(n) for n in z.namelist()]
    assert len(texts) > 10 and not any(b"c2VjcmV0" in t or b"sig=" in t for t in texts)
    clean = Finding("t", "ok", evidence={"e": pd.DataFrame({"a": ["x"], "b": [[1]]})}, facts={"k": ["v"]})
    assert Report([clean]).findings[0] is clean  # nothing to mask: the same finding
