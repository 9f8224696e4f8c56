"""``to_window`` names the bound it cannot read, so ``read_flow_logs(start=..., end=...)`` says which
of the two was wrong ("messages that say what and where"), as ``filter_flows`` already did."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.errors import ArgumentError
from flowkit.read import read_flow_logs
from flowkit.sources import layout
from flowkit.sources.layout import (NSG_CONTAINER, VNET_CONTAINER, BlobMeta, check_selection, nsg_blob_name,
                                    parse_blob_path, to_window, vnet_blob_name)
from tests.blobs import T0_S, VNET_TUPLES, blob, vnet_record

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


# --- pinned by mutation testing (helper M): path metadata that decides which files are read ---


@pytest.mark.parametrize("meta", [
    pytest.param(BlobMeta(log_type="nsg"), id="nsg-without-its-name"),
    pytest.param(BlobMeta(log_type="vnet"), id="vnet-without-its-flow-log"),
    pytest.param(BlobMeta(nsg="NSG1", flow_log="FL1"), id="names-without-a-log-type"),
    pytest.param(BlobMeta(log_type="vnet", nsg="NSG1"), id="vnet-with-only-an-nsg"),
    pytest.param(BlobMeta(log_type="nsg", flow_log="FL1"), id="nsg-with-only-a-flow-log"),
])
def test_a_meta_without_the_name_of_its_resource_names_none(meta):
    assert meta.resource_id is None


def test_built_names_are_the_blob_names_azure_writes():
    """Built names are used as blob names and prefixes in Azure, where a name must match exactly."""
    assert nsg_blob_name("s1", "rg1", "nsg1", "2024-05-01T09:30+02:00", "00-0d-3a-00-00-01") == (
        "resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1/"
        "y=2024/m=05/d=01/h=07/m=00/macAddress=000D3A000001/PT1H.json")
    assert nsg_blob_name("s1", "rg1", "nsg1", "2017-12-31T23:59Z") == (
        "resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1/"
        "y=2017/m=12/d=31/h=23/m=00/PT1H.json")
    assert vnet_blob_name("s1", "nwrg", "NetworkWatcher_eastus", "fl_1", "2024-05-01T10:00Z", "000d3a000002") == (
        "flowLogResourceID=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/NWRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"
        "NETWORKWATCHER_EASTUS/FLOWLOGS/FL_1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000002/PT1H.json")
    assert vnet_blob_name("s1", "nwrg", "NetworkWatcher_eastus", "fl_1", "2024-05-01T10:00Z", short=True) == (
        "flowLogResourceID=/s1_nwrg/NetworkWatcher_eastus_fl_1/y=2024/m=05/d=01/h=10/m=00/PT1H.json")


def test_the_container_names_are_the_ones_azure_writes():
    """Listing an account reads these two containers by name: a wrong letter reads nothing."""
    assert (NSG_CONTAINER, VNET_CONTAINER) == ("insights-logs-networksecuritygroupflowevent",
                                               "insights-logs-flowlogflowevent")


def test_the_module_exports_what_it_names():
    assert layout.__all__ == ["BlobMeta", "to_window", "ambiguous_date", "check_selection", "NSG_CONTAINER",
                              "VNET_CONTAINER", "parse_blob_path", "nsg_blob_name", "vnet_blob_name", "to_utc",
                              "relative_time", "epoch_time", "has_date", "hour_overlaps", "split_short_name", "SKEW"]
    assert all(hasattr(layout, name) for name in layout.__all__)


def test_a_path_outside_the_layout_says_nothing_of_its_form():
    meta = parse_blob_path("logs/flows.json")
    assert meta == BlobMeta() and meta.short_form is False and meta.resource_id is None


@pytest.mark.parametrize("text, shown", [
    pytest.param("x" * 78, "'" + "x" * 78 + "'", id="80-characters-shown-whole"),
    pytest.param("x" * 79, "'" + "x" * 76 + "...", id="81-characters-cut-to-80"),
])
def test_a_long_bound_is_shown_cut_to_80_characters(text, shown):
    with pytest.raises(ArgumentError) as info:
        to_window(text, None)
    assert str(info.value) == f"start: cannot read {shown} as a time: {NOT_A_TIME[len('as a time: '):]}"


@pytest.mark.parametrize("text, readings", [
    pytest.param("01/12/2024", "2024-01-12 or 2024-12-01", id="december-second"),
    pytest.param("12/11/2024", "2024-12-11 or 2024-11-12", id="december-first"),
])
def test_a_date_with_twelve_in_either_place_reads_as_two_days(text, readings):
    with pytest.raises(ArgumentError) as info:
        to_window(text, None)
    assert str(info.value) == (f"start: {text!r} could be {readings}: write the date year first, "
                               "such as 2024-05-01T10:00Z")


def test_a_date_with_thirteen_second_has_one_reading():
    assert to_window("05/13/2024", None)[0] == pd.Timestamp("2024-05-13", tz="UTC")


def test_epoch_seconds_for_the_bounds_read_the_tuples_of_that_hour(tmp_path):
    """pandas reads a number as nanoseconds: the epoch seconds of the tuples gave a window in January 1970,
    every blob skipped and an empty frame, without a word. They are read by magnitude, as tuples are."""
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    by_text = read_flow_logs(path, start=pd.Timestamp(T0_S, unit="s", tz="UTC"))
    by_number = read_flow_logs(path, start=T0_S, end=T0_S + 3600)
    assert len(by_number) == len(by_text) == len(VNET_TUPLES)


@pytest.mark.parametrize("value, expected", [
    pytest.param(np.int64(1714557600), "2024-05-01T10:00:00+00:00", id="numpy-int-seconds"),
    pytest.param(1714557600000.0, "2024-05-01T10:00:00+00:00", id="float-milliseconds"),
])
def test_any_number_for_a_bound_is_read_by_its_magnitude(value, expected):
    assert to_window(None, value)[1].isoformat() == expected
    assert to_window(None, np.nan) == (None, None)  # a missing value is still no bound
