"""``to_window`` names the bound it cannot read, so ``read_flow_logs(start=..., end=...)`` says which
of the two was wrong ("messages that say what and where"), as ``filter_flows`` already did."""

from __future__ import annotations

import pytest

from flowkit.errors import ArgumentError
from flowkit.read import read_flow_logs
from flowkit.sources.layout import check_selection, to_window
from tests.blobs import VNET_TUPLES, blob, vnet_record

NO_DATE = "has no date (it would read as today): give the day too, such as"
NOT_A_TIME = "as a time: give ISO 8601 such as 2024-05-01T10:00Z (UTC unless it has an offset)"


@pytest.mark.parametrize("start, end, message", [
    pytest.param("10:30", "2024-05-01T11:00Z", f"start: '10:30' {NO_DATE} 2024-05-01T10:30Z", id="start-time-of-day"),
    pytest.param("2024-05-01T10:00Z", "May 1 11:00", f"end: 'May 1 11:00' {NO_DATE} 2024-05-01T11:00Z",
                 id="end-without-year"),
    pytest.param("soon", None, f"start: cannot read 'soon' {NOT_A_TIME}", id="start-not-a-time"),
    pytest.param(None, "later", f"end: cannot read 'later' {NOT_A_TIME}", id="end-not-a-time"),
])
def test_a_bound_that_is_not_a_time_is_named(start, end, message):
    with pytest.raises(ArgumentError) as info:
        to_window(start, end)
    assert str(info.value) == message


def test_the_reader_names_the_bound_too(tmp_path):
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    with pytest.raises(ArgumentError) as info:
        read_flow_logs(path, start="2024-05-01T10:00Z", end="11:00")
    assert str(info.value) == f"end: '11:00' {NO_DATE} 2024-05-01T11:00Z"


def test_an_empty_window_keeps_its_message():
    with pytest.raises(ArgumentError) as info:
        to_window("2024-05-01T11:00Z", "2024-05-01T10:00Z")
    assert str(info.value) == ("empty time window: start 2024-05-01T11:00:00+00:00 is not before end "
                               "2024-05-01T10:00:00+00:00 (rows are kept when start <= flow_time < end)")


@pytest.mark.parametrize("log_type, mac, message", [
    pytest.param("NSG", None, "log_type: 'NSG' is not one of nsg, vnet", id="log-type"),
    pytest.param(None, "000D3A00010", "mac: '000D3A00010' is not a MAC address (12 hex digits, such as "
                 "00-0D-3A-00-01-01)", id="mac-11-digits"),
])
def test_check_selection_refuses_what_no_log_can_hold(log_type, mac, message):
    with pytest.raises(ArgumentError) as info:
        check_selection(log_type, mac)
    assert str(info.value) == message


@pytest.mark.parametrize("log_type, mac", [
    pytest.param(None, None, id="nothing"),
    pytest.param("nsg", "00:0d:3a:00:01:01", id="colons"),
    pytest.param("vnet", "000d.3a00.0101", id="dots"),
])
def test_check_selection_accepts_what_a_log_can_hold(log_type, mac):
    assert check_selection(log_type, mac) is None
