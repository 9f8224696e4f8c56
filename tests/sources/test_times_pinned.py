"""flowkit.sources.times pinned at its edges: blank bounds, the magnitudes that make an epoch number
seconds, milliseconds, microseconds or nanoseconds, the first and last years, dates that read as two
days (or one), and the exact words of each refusal. No test reads the wall clock."""

from __future__ import annotations

import pytest

from flowkit.errors import ArgumentError
from flowkit.sources import times
from flowkit.sources.times import to_utc, to_window


def test_public_names() -> None:
    assert times.__all__ == ["to_utc", "to_window", "relative_time", "epoch_time", "text_timestamp",
                             "ambiguous_date", "has_date", "unitless_duration"]


@pytest.mark.parametrize("value, expected", [
    ("120", True), (" 2 ", True), ("+1.5", True), (".5", True), ("1e3", True), (120, True), (2.5, True),
    ("0", False), (0, False), ("0.0", False), ("2min", False), ("90 s", False), ("", False), (None, False),
    (True, False), ("-1", True),
])
def test_unitless_duration(value, expected) -> None:
    """The one check behind ``--max-skew`` and ``compare_nsg_vnet(max_skew=)``: pandas reads these as ns."""
    assert times.unitless_duration(value) is expected


@pytest.mark.parametrize("value", ["", " ", " \t\n", None])
def test_a_blank_bound_is_no_bound(value) -> None:
    assert to_utc(value) is None
    assert to_window(value, value) == (None, None)


@pytest.mark.parametrize("value, expected", [
    # the tuple reader's rule (schema.EPOCH_SECONDS_BELOW): below 10**11 seconds, else milliseconds, ...
    pytest.param(10**11 - 1, "5138-11-16T09:46:39+00:00", id="largest-seconds"),
    pytest.param(10**11, "1973-03-03T09:46:40+00:00", id="smallest-milliseconds"),
    pytest.param(-(10**10), "1653-02-10T06:13:20+00:00", id="negative-seconds"),
    pytest.param(-(10**11), "1966-10-31T14:13:20+00:00", id="negative-milliseconds"),
    pytest.param(10**14 - 1, "5138-11-16T09:46:39.999000+00:00", id="largest-milliseconds"),
    pytest.param(10**14, "1973-03-03T09:46:40+00:00", id="smallest-microseconds"),
    pytest.param(10**17 - 1, "5138-11-16T09:46:39.999999+00:00", id="largest-microseconds"),
    pytest.param(10**17, "1973-03-03T09:46:40+00:00", id="smallest-nanoseconds"),
    pytest.param("100000000", "1973-03-03T09:46:40+00:00", id="nine-digits-of-text-are-seconds"),
    pytest.param("99999999999", "5138-11-16T09:46:39+00:00", id="eleven-digits-of-text-are-seconds"),
    pytest.param("100000000000", "1973-03-03T09:46:40+00:00", id="twelve-digits-of-text-are-milliseconds"),
])
def test_an_epoch_number_changes_unit_exactly_where_the_tuple_reader_does(value, expected) -> None:
    assert to_utc(value).isoformat() == expected


@pytest.mark.parametrize("text, expected", [
    ("0001-01-01", "0001-01-01T00:00:00+00:00"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"),
])
def test_the_first_and_last_years_are_times(text, expected) -> None:
    assert to_utc(text).isoformat() == expected


@pytest.mark.parametrize("length, shown", [
    pytest.param(78, "'" + "x" * 78 + "'", id="80-characters-shown-whole"),
    pytest.param(79, "'" + "x" * 76 + "...", id="81-characters-cut-to-80"),
])
def test_a_long_value_is_shown_cut_to_80_characters(length, shown) -> None:
    with pytest.raises(ArgumentError) as info:
        to_utc("x" * length)
    assert str(info.value) == (f"cannot read {shown} as a time: give ISO 8601 such as 2024-05-01T10:00Z "
                               "(UTC unless it has an offset)")


def test_each_bound_of_a_window_is_named_in_its_error() -> None:
    with pytest.raises(ArgumentError) as info:
        to_window(" 10:30 ", None)
    assert str(info.value) == ("start: '10:30' has no date (it would read as today): give the day too, "
                               "such as 2024-05-01T10:30Z")
    with pytest.raises(ArgumentError) as info:
        to_window(None, "soon")
    assert str(info.value) == ("end: cannot read 'soon' as a time: give ISO 8601 such as 2024-05-01T10:00Z "
                               "(UTC unless it has an offset)")


@pytest.mark.parametrize("text, first, second", [
    ("01.05.24", "2024-01-05", "2024-05-01"),
    ("12/11/99 10:00", "1999-12-11", "1999-11-12"),
    ("12-01-2024", "2024-12-01", "2024-01-12"),
    ("01/12/2024", "2024-01-12", "2024-12-01"),
])
def test_a_date_that_reads_as_two_days_is_refused_naming_both(text, first, second) -> None:
    with pytest.raises(ArgumentError) as info:
        to_utc(text)
    assert str(info.value) == (f"{text!r} could be {first} or {second}: write the date year first, "
                               "such as 2024-05-01T10:00Z")


@pytest.mark.parametrize("text, expected", [
    pytest.param("13/05/2024", "2024-05-13T00:00:00+00:00", id="day-13-first"),
    pytest.param("05/13/2024", "2024-05-13T00:00:00+00:00", id="day-13-second"),
    pytest.param("05/05/2024 10:00", "2024-05-05T10:00:00+00:00", id="both-readings-agree"),
    pytest.param("2024/01/05", "2024-01-05T00:00:00+00:00", id="year-first"),
])
def test_a_date_only_one_day_fits_is_read(text, expected) -> None:
    assert to_utc(text).isoformat() == expected


@pytest.mark.parametrize("text", ["Feb 29 10:30", "29 February", "May 1", "10:30"])
def test_a_day_without_its_year_has_no_date_even_the_29th_of_february(text) -> None:
    # The defaults were 1901 and 1902: "Feb 29" could not be read with them and was taken for a
    # date, so in a leap year to_utc read it as this year's 29 February.
    assert times.has_date(text) is False


@pytest.mark.parametrize("text", ["now-99999999h", "now+1000000w", "today-200000d", "yesterday+999999999999999999s"])
def test_a_relative_time_past_the_range_of_times_says_so(text) -> None:
    # was pandas' OutOfBoundsTimedelta or OverflowError: "seconds=359999996399999975424, milliseconds=0, ..."
    with pytest.raises(ArgumentError) as info:
        to_window(text, None)
    assert str(info.value) == f"start: {text!r} is out of the range of times flowkit can hold (1678 to 2261)"
