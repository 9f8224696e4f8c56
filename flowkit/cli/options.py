"""Checked option values of the ``flowkit`` command (argparse ``type=`` functions).

A value that cannot be what its option means (a MAC that is not one, port 70000, a
time that is not a time) is an input error: argparse reports it on one line
(``flowkit diagnose: error: argument --port: ...``) and exits with status 2, before
any log is read.

Examples
--------
>>> port("443"), mac("00-0d-3a-00-01-01"), address("10.0.0.0/8"), count("0")
(443, '000D3A000101', '10.0.0.0/8', 0)
>>> port("70000")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: '70000' is not a port (give 0 to 65535)
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["time_value", "address", "port", "mac", "count", "polls", "seconds", "duration"]


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."


def time_value(text: str) -> str:
    """A time flowkit can read (see :func:`flowkit.sources.layout.to_utc`); returned as given,
    except ``now-2h`` and the like, returned as the one UTC time they mean for the whole command.

    Examples
    --------
    >>> time_value("2024-05-01T10:00Z")
    '2024-05-01T10:00Z'
    >>> time_value("now-1h") < time_value("now")
    True
    """
    from flowkit.errors import ArgumentError
    from flowkit.sources.times import relative_time, to_utc

    try:
        to_utc(text)
        now = relative_time(text)
    except ArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text if now is None else now.isoformat()


def address(text: str) -> str:
    """An IP address, or a CIDR block (``10.1.0.0/16``) as the filters accept; returned as given.

    Examples
    --------
    >>> address("2001:db8::1")
    '2001:db8::1'
    """
    from flowkit.errors import ArgumentError
    from flowkit.filters import check_addresses

    try:
        check_addresses("address", text.strip())
    except ArgumentError:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not an IP address or CIDR block "
                                         "(give e.g. 10.1.0.4 or 10.1.0.0/16)") from None
    return text.strip()


def _whole(text: str) -> int:
    """The number written in ASCII digits (blanks around allowed), or -1: ``int`` alone would
    also take ``4_43`` and other scripts' digits."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else -1


def port(text: str) -> int:
    """A port number, 0 to 65535.

    Examples
    --------
    >>> port("0")
    0
    """
    value = _whole(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a port (give 0 to 65535)")
    return value


def mac(text: str) -> str:
    """A NIC's MAC address (any of ``000D3A000101``, ``00-0D-3A-00-01-01``, ``00:0d:…``), normalised.

    Examples
    --------
    >>> mac("00:0d:3a:00:01:01")
    '000D3A000101'
    """
    from flowkit.addresses import is_mac, normalize_mac

    value = normalize_mac(text)
    if not is_mac(value):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a MAC address "
                                         "(give 12 hex digits, e.g. 00-0D-3A-00-01-01)")
    return value  # type: ignore[return-value]


def count(text: str) -> int:
    """A whole number, 0 or more.

    Examples
    --------
    >>> count("50")
    50
    """
    return _at_least(text, 0)


def polls(text: str) -> int:
    """A whole number, 1 or more (``--max-polls``: 0 or fewer polls would end at once, doing nothing).

    Examples
    --------
    >>> polls("3")
    3
    """
    return _at_least(text, 1)


def _at_least(text: str, least: int) -> int:
    """``text`` as a whole number of ``least`` or more, or the argparse error saying so."""
    value = _whole(text)
    if value < least:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a whole number of {least} or more")
    return value


def seconds(text: str) -> float:
    """A number of seconds from 0 to 1e9 (about 31 years: ``90``, ``0.5``): not ``nan``, ``inf``,
    negative or larger, which ``float`` alone takes (``time.sleep(inf)`` fails; a negative pause polls without one).

    Examples
    --------
    >>> seconds("0.5"), seconds("900")
    (0.5, 900.0)
    """
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > 1e9:  # time.sleep(1e300) overflows
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a number of seconds from 0 to 1e9 "
                                         "(give e.g. 60 or 0.5)")
    return value


def duration(text: str) -> Any:
    """A duration of 0 or more (``2min``, ``90s``, ``1h``) as a :class:`pandas.Timedelta`.

    Examples
    --------
    >>> duration("90s")
    Timedelta('0 days 00:01:30')
    """
    import pandas as pd

    from flowkit.sources.times import unitless_duration

    try:
        value = pd.Timedelta(text)
    except (ValueError, TypeError, OverflowError):
        value = None
    if value is None or pd.isna(value) or value < pd.Timedelta(0):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a duration of 0 or more "
                                         "(give e.g. 2min, 90s or 1h)")
    if unitless_duration(text):
        # pandas reads a number without a unit as nanoseconds: "--max-skew 120" meant seconds.
        raise argparse.ArgumentTypeError(f"{_shown(text)} is a duration without its unit "
                                         "(give e.g. 2min, 90s or 1h)")
    return value
