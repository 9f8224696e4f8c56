"""What the filter panel's text boxes accept, and the messages for what they do not."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.widgets.inputs import as_text, has_date, parse_addresses, parse_ports, parse_time, present_values


@pytest.mark.parametrize("text, ports", [("443", "443"), (" 0 , 65535 ", "0,65535"), ("8000 - 8100,22", "8000-8100,22"),
                                         ("", None), (" , ", None)])
def test_ports_are_read_into_the_filter_flows_form(text, ports):
    assert parse_ports(text) == ports


@pytest.mark.parametrize("text, message", [
    ("65536", "ports: '65536' is not a port or a range (ports run from 0 to 65535)"),
    ("443/tcp", "ports: '443/tcp' is not a port or a range (use 443 or 8000-8100)"),
    ("1-2-3", "ports: '1-2-3' is not a port or a range (use 443 or 8000-8100)"),
    ("90-80", "ports: '90-80' runs backwards, so no port is in it (use 80-90)"),
])
def test_ports_that_are_not_ports_say_how_to_write_them(text, message):
    with pytest.raises(ValueError) as info:
        parse_ports(text)
    assert str(info.value) == message


def test_addresses_and_blocks_of_both_families_are_kept_as_written():
    assert parse_addresses("source", " 192.0.2.7,2001:db8::/32  198.51.100.9/24") == [
        "192.0.2.7", "2001:db8::/32", "198.51.100.9/24"]
    assert parse_addresses("source", "  ") is None
    with pytest.raises(ValueError, match=r"^destination: '192\.0\.2\.300' is not an IP address or CIDR block$"):
        parse_addresses("destination", "192.0.2.1, 192.0.2.300")


def test_times_are_utc_and_a_time_without_a_date_is_refused():
    assert parse_time("end", "2024-05-01 10:15") == pd.Timestamp("2024-05-01T10:15Z")
    assert parse_time("end", "2024-05-01T10:15-05:00") == pd.Timestamp("2024-05-01T15:15Z")
    assert parse_time("end", "") is None
    with pytest.raises(ValueError) as info:
        parse_time("end", "May 1 10:15", day="2024-05-02")
    assert str(info.value) == ("end: 'May 1 10:15' has no full date, so it is not applied (it would read as today): "
                               "write the day too, as 2024-05-02T10:15Z")
    with pytest.raises(ValueError, match=r"^start: cannot read 'soonish' as a time \(use 2024-05-01T10:15Z\)$"):
        parse_time("start", "soonish")
    with pytest.raises(ValueError, match=r"^start: cannot read 'ish' in 'yesterday-ish' as a duration: give e\.g\. "
                                         r"now-2h, now-90min or yesterday\+6h$"):
        parse_time("start", "yesterday-ish")
    assert (has_date("2024-05-01"), has_date("10:15"), has_date("May 1")) == (True, False, False)


def test_values_present_keep_category_order_and_skip_unused_and_missing():
    series = pd.Series(pd.Categorical(["E", None, "B", "E"], categories=["B", "C", "E"]))
    assert present_values(series) == ["B", "E"]
    assert present_values(pd.Series(["b", None, "a"])) == ["a", "b"]


def test_initial_values_are_shown_as_the_boxes_read_them():
    assert as_text(range(80, 83)) == "80,81,82"
    assert as_text(pd.Timestamp("2024-05-01T12:00+02:00")) == "2024-05-01T10:00:00Z"
    assert as_text(pd.Timestamp("2024-05-01T12:00")) == "2024-05-01T12:00:00"
    assert parse_time("start", as_text(pd.Timestamp("2024-05-01T12:00+02:00"))) == pd.Timestamp("2024-05-01T10:00Z")


@pytest.mark.parametrize("text", ["443", " 443, 8000 - 8100", "000443", "65536", "90-80", "443/tcp", "1-2-3",
                                  "80 80", ",,", "22,"])
def test_the_ports_box_accepts_and_refuses_what_filter_flows_does(text):
    """One reading of port text: the box's value, or its error, is filter_flows' own."""
    from flowkit.errors import ArgumentError
    from flowkit.filters import _ports

    try:
        want = sorted(set(_ports(text).tolist()))
    except ArgumentError as exc:
        with pytest.raises(ArgumentError) as error:
            parse_ports(text)
        assert str(error.value) == str(exc)
    else:
        got = parse_ports(text)
        assert (sorted(set(_ports(got).tolist())) if got else []) == want


def test_a_year_nothing_can_print_is_refused_by_the_box_as_by_the_api():
    # "-5" reads as the year -5; the box's message printed it and raised NotImplementedError.
    with pytest.raises(ValueError, match=r"^start: cannot read '-5' as a time \(use 2024-05-01T10:15Z\)$"):
        parse_time("start", "-5")
