"""flowkit.sources.times: ``now``, ``now-2h``, ``today``, ``yesterday`` read in UTC whatever the machine's time zone;
epoch numbers by their magnitude; values that cannot be a time refused clearly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import ArgumentError
from flowkit.sources.layout import relative_time, to_utc, to_window
from flowkit.widgets.inputs import parse_time

AT = pd.Timestamp("2024-05-01T10:30:15Z")
SAMPLE = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"


@pytest.fixture()
def berlin(monkeypatch):
    """This process's local clock in Berlin (UTC+1 in winter, UTC+2 in summer)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("text, expected", [
    ("now", "2024-05-01T10:30:15+00:00"),
    ("now-2h", "2024-05-01T08:30:15+00:00"),
    ("NOW - 90min", "2024-05-01T09:00:15+00:00"),
    ("now+1d", "2024-05-02T10:30:15+00:00"),
    ("now-1d12h", "2024-04-29T22:30:15+00:00"),
    ("now - 2 weeks", "2024-04-17T10:30:15+00:00"),
    ("now-1.5 hours", "2024-05-01T09:00:15+00:00"),
    ("today", "2024-05-01T00:00:00+00:00"),
    (" Today - 30s ", "2024-04-30T23:59:30+00:00"),
    ("yesterday", "2024-04-30T00:00:00+00:00"),
    ("yesterday + 6h", "2024-04-30T06:00:00+00:00"),
])
def test_relative_times_are_read_against_now_in_utc(text, expected):
    assert relative_time(text, AT).isoformat() == expected


@pytest.mark.parametrize("text", ["2024-05-01", "nowhere", "10:30", "now2h"])
def test_text_that_is_not_relative_is_left_to_the_date_reader(text):
    assert relative_time(text, AT) is None


@pytest.mark.parametrize("text, amount", [("now-x", "x"), ("now--2h", "-2h"), ("today+ soon", "soon"),
                                          ("now-2", "2"), ("now-2 months", "2 months"), ("now-h", "h")])
def test_a_duration_that_cannot_be_read_or_is_negative_is_refused(text, amount):
    with pytest.raises(ArgumentError) as info:
        relative_time(text, AT)
    assert str(info.value) == (f"cannot read {amount!r} in {text.strip()!r} as a duration: give e.g. now-2h, "
                               "now-90min or yesterday+6h")


def test_now_is_utc_now_on_a_machine_in_berlin(berlin):
    assert pd.Timestamp("now").utcoffset() is None  # pandas gives Berlin's wall clock, naive
    before = pd.Timestamp.now(tz="UTC")
    got = to_utc("now")
    after = pd.Timestamp.now(tz="UTC")
    assert before <= got <= after  # before: Berlin's wall clock taken for UTC, an hour or two ahead
    assert to_utc("today") == before.normalize() or to_utc("today") == after.normalize()
    lo, hi = to_window("now-2h", "now")
    end = pd.Timestamp.now(tz="UTC")
    assert before - pd.Timedelta(hours=2) <= lo <= end - pd.Timedelta(hours=2) and before <= hi <= end


def test_the_filter_panel_reads_relative_times_and_names_its_box():
    before = pd.Timestamp.now(tz="UTC")
    got = parse_time("start", "now-1h")
    assert before - pd.Timedelta(hours=1) <= got <= pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1)
    with pytest.raises(ValueError) as info:
        parse_time("end", "now-soon")
    assert str(info.value) == ("end: cannot read 'soon' in 'now-soon' as a duration: give e.g. now-2h, "
                               "now-90min or yesterday+6h")


def test_a_reader_given_the_last_hours_skips_every_older_blob_by_its_path():
    flows, report = flowkit.read_flow_logs(SAMPLE, start="now-2h", with_report=True)
    assert len(flows) == 0
    assert (report.files, report.files_skipped) == (0, 12)


def test_the_cli_reads_a_relative_window_and_refuses_a_bad_one(capsys):
    assert cli_main(["inspect", str(SAMPLE), "--start", "now-2h", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["files"], out["rows"]) == (0, 0)
    assert cli_main(["inspect", str(SAMPLE), "--start", "yesterday", "--end", "now-3d"]) == 2
    assert "empty time window: start " in capsys.readouterr().err
    assert cli_main(["inspect", str(SAMPLE), "--start", "now-2 months"]) == 2
    assert capsys.readouterr().err.endswith(
        "argument --start: cannot read '2 months' in 'now-2 months' as a duration: give e.g. now-2h, now-90min "
        "or yesterday+6h\n")


@pytest.mark.parametrize("value, expected", [
    pytest.param(1714557600, "2024-05-01T10:00:00+00:00", id="seconds"),
    pytest.param("1714557600", "2024-05-01T10:00:00+00:00", id="seconds-text"),
    pytest.param(1714557600123, "2024-05-01T10:00:00.123000+00:00", id="milliseconds"),
    pytest.param(" 1714557600123 ", "2024-05-01T10:00:00.123000+00:00", id="milliseconds-text"),
    pytest.param(1714557600.5, "2024-05-01T10:00:00.500000+00:00", id="float-seconds"),
    pytest.param(1714557600123456, "2024-05-01T10:00:00.123456+00:00", id="microseconds"),
    pytest.param(1714557600123456789, "2024-05-01T10:00:00.123456789+00:00", id="nanoseconds"),
    pytest.param("20240501", "2024-05-01T00:00:00+00:00", id="eight-digits-are-a-date"),
])
def test_an_epoch_number_is_read_by_its_magnitude_as_tuple_timestamps_are(value, expected):
    # pandas reads a number as nanoseconds: 1714557600 was 1970-01-01 00:00:01.7146.
    assert to_utc(value).isoformat() == expected


def test_an_epoch_pasted_into_the_filter_panel_reads_as_in_the_api():
    assert parse_time("start", "1714557600") == pd.Timestamp("2024-05-01T10:00Z")


@pytest.mark.parametrize("text", ["-5", "-2024-05-01"])
def test_a_negative_year_is_refused_clearly_not_a_crash(text, capsys):
    # "-5" read as the year -5, which nothing could print: a NotImplementedError escaped.
    with pytest.raises(ArgumentError) as info:
        to_utc(text)
    assert str(info.value) == (f"cannot read {text!r} as a time: give ISO 8601 such as 2024-05-01T10:00Z "
                               "(UTC unless it has an offset)")
    assert cli_main(["inspect", str(SAMPLE), "--start", text]) == 2
    assert capsys.readouterr().err == (f"flowkit inspect: error: argument --start: cannot read {text!r} as a time: "
                                       "give ISO 8601 such as 2024-05-01T10:00Z (UTC unless it has an offset)\n")
