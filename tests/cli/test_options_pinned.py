"""``flowkit.cli.options``: the bounds of each checked value and how a refused value is shown."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from flowkit.cli import options
from flowkit.cli.options import count, duration, port


def _refused(check, text: str) -> str:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        check(text)
    return str(caught.value)


def test_star_import_gives_every_check():
    namespace: dict = {}
    exec("from flowkit.cli.options import *", namespace)
    assert sorted(k for k in namespace if not k.startswith("__")) == \
        ["address", "count", "duration", "mac", "polls", "port", "seconds", "time_value"]
    assert all(namespace[k] is getattr(options, k) for k in options.__all__)


def test_port_bounds_are_inclusive():
    assert (port("0"), port("65535")) == (0, 65535)
    assert _refused(port, "65536") == "'65536' is not a port (give 0 to 65535)"
    assert _refused(port, "https") == "'https' is not a port (give 0 to 65535)"


def test_count_refuses_text_and_negatives():
    assert count("0") == 0
    assert _refused(count, "ten") == "'ten' is not a whole number of 0 or more"


def test_duration_zero_is_a_duration_and_not_a_time_is_not():
    assert duration("0s") == pd.Timedelta(0)
    assert _refused(duration, "nan") == "'nan' is not a duration of 0 or more (give e.g. 2min, 90s or 1h)"


@pytest.mark.parametrize("text, shown", [
    pytest.param("x" * 60, repr("x" * 60), id="60-shown-whole"),
    pytest.param("x" * 61, repr("x" * 57) + "...", id="61-cut-to-57"),
])
def test_a_long_refused_value_is_cut(text, shown):
    assert _refused(port, text) == f"{shown} is not a port (give 0 to 65535)"


@pytest.mark.parametrize("text", ["4_43", "٤٤٣", "+443", "-1", "1e3", ""])
def test_ports_and_counts_are_ascii_digits_only(text):
    assert _refused(port, text) == f"{text!r} is not a port (give 0 to 65535)"
    assert _refused(count, text) == f"{text!r} is not a whole number of 0 or more"
    assert (port(" 443 "), count(" 7")) == (443, 7)


def test_a_value_starting_with_a_dash_reaches_its_option_check(capsys):
    # argparse took "-2min" for an unknown option: "expected one argument", nothing about the value.
    from flowkit.cli import main

    sample = str(Path(__file__).resolve().parents[2] / "data-samples" / "nsg-vs-vnet")
    assert main(["compare", "--nsg", sample, "--vnet", sample, "--max-skew", "-2min"]) == 2
    assert capsys.readouterr().err == ("flowkit compare: error: argument --max-skew: '-2min' is not a duration "
                                       "of 0 or more (give e.g. 2min, 90s or 1h)\n")
    # An option name after an option that needs a value is still a missing value, not a value.
    assert main(["inspect", sample, "--start", "--json"]) == 2
    assert capsys.readouterr().err == "flowkit inspect: error: argument --start: expected one argument\n"


@pytest.mark.parametrize("text", ["120", "2", " 90 ", "+30"])
def test_a_duration_without_its_unit_is_refused(text):
    # pandas reads "120" as 120 nanoseconds: `--max-skew 120` meant seconds and silently tolerated no skew
    # (the sample's clock-skew key then turned "unexplained" and the verdict "not-ready").
    assert _refused(duration, text) == f"{text!r} is a duration without its unit (give e.g. 2min, 90s or 1h)"
    assert duration("0") == pd.Timedelta(0) and duration("120s") == pd.Timedelta(seconds=120)


def test_a_relative_time_too_far_away_is_refused_in_words():
    assert _refused(options.time_value, "now-99999999h") == \
        "'now-99999999h' is out of the range of times flowkit can hold (1678 to 2261)"


@pytest.mark.parametrize("text", ["inf", "nan", "-5", "1e400", "1e300", "1000000001", "soon", ""])
def test_seconds_are_finite_and_not_negative(text):
    # 1e300 passed, then time.sleep raised OverflowError in the follow's loop
    assert _refused(options.seconds, text) == f"{text!r} is not a number of seconds from 0 to 1e9 (give e.g. 60 or 0.5)"
    assert options.seconds("1e9") == 1e9 and options.seconds("0") == 0.0


def test_seconds_and_polls_that_are_taken():
    assert (options.seconds("0"), options.seconds("0.5"), options.polls("1")) == (0.0, 0.5, 1)
    assert _refused(options.polls, "0") == "'0' is not a whole number of 1 or more"
    assert _refused(options.polls, "-1") == "'-1' is not a whole number of 1 or more"
