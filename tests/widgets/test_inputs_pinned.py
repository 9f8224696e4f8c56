"""Pinned by mutation testing: the exact messages and names of the filter panel's box readers."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.widgets import inputs
from flowkit.widgets.inputs import as_text, parse_time


def test_every_exported_name_is_a_reader_of_the_module():
    assert sorted(inputs.__all__) == ["as_text", "has_date", "parse_addresses", "parse_ports", "parse_time",
                                      "present_values"]
    assert all(callable(getattr(inputs, name)) for name in inputs.__all__)


def test_a_time_without_a_date_suggests_the_default_day():
    with pytest.raises(ValueError) as info:
        parse_time("start", " 10:15 ")
    assert str(info.value) == ("start: '10:15' has no full date, so it is not applied (it would read as today): "
                               "write the day too, as 2024-05-01T10:15Z")


def test_a_date_that_reads_as_two_days_is_not_applied_and_both_days_are_named():
    with pytest.raises(ValueError) as info:
        parse_time("end", "03/04/2024 10:15")
    assert str(info.value) == ("end: '03/04/2024 10:15' could be 2024-03-04 or 2024-04-03, so it is not applied: "
                               "write the date year first, as 2024-04-03T10:15Z")
    assert parse_time("end", "13/04/2024 10:15") == pd.Timestamp("2024-04-13T10:15Z")


@pytest.mark.parametrize("text", ["NaT", "nan"])
def test_text_that_pandas_reads_as_no_time_is_refused_with_the_usual_message(text):
    with pytest.raises(ValueError) as info:
        parse_time("end", text)
    assert str(info.value) == f"end: cannot read {text!r} as a time (use 2024-05-01T10:15Z)"


@pytest.mark.parametrize("value, text", [
    pytest.param(pd.Timestamp("2024-05-01T12:58:44.002+02:00"), "2024-05-01T10:58:44.002000Z", id="milliseconds"),
    pytest.param(pd.Timestamp("2024-05-01T10:00Z"), "2024-05-01T10:00:00Z", id="whole-seconds"),
])
def test_an_initial_time_is_shown_to_the_fraction_of_a_second_and_read_back_unchanged(value, text):
    # strftime dropped the fraction before: start=<a flow's time> became a box 2 ms earlier.
    assert as_text(value) == text
    assert parse_time("start", as_text(value)) == value
