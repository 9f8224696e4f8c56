"""Parsing and building the Azure blob layout of flow logs."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.errors import ArgumentError
from flowkit.sources.layout import ambiguous_date, hour_overlaps, nsg_blob_name, parse_blob_path, to_utc, vnet_blob_name

H = pd.Timestamp("2024-05-01T10:00Z")


@pytest.mark.parametrize("path, expected", [
    pytest.param("insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/"
                 "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000001/PT1H.json",
                 dict(log_type="nsg", subscription="S1", resource_group="RG1", nsg="NSG1", mac="000D3A000001",
                      short_form=False), id="nsg"),
    pytest.param("resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/"
                 "NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=10/m=00/PT1H.json",
                 dict(log_type="nsg", nsg="NSG1", mac=None), id="nsg-before-2018-no-mac"),
    pytest.param("resourceId%3D/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/"
                 "NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000001/PT1H.json",
                 dict(log_type="nsg", nsg="NSG1", mac="000D3A000001"), id="nsg-encoded"),
    pytest.param("C:\\logs\\resourceId=\\SUBSCRIPTIONS\\S1\\RESOURCEGROUPS\\RG1\\PROVIDERS\\MICROSOFT.NETWORK\\"
                 "NETWORKSECURITYGROUPS\\NSG1\\y=2024\\m=05\\d=01\\h=10\\m=00\\macAddress=000D3A000001\\PT1H.json",
                 dict(log_type="nsg", nsg="NSG1"), id="windows-path"),
    pytest.param("flowLogResourceID=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/NWRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"
                 "NETWORKWATCHER_EASTUS/FLOWLOGS/FL1/y=2024/m=05/d=01/h=10/m=00/macAddress=00-0d-3a-00-00-02/PT1H.json",
                 dict(log_type="vnet", network_watcher="NETWORKWATCHER_EASTUS", flow_log="FL1", mac="000D3A000002",
                      short_form=False), id="vnet-long"),
    pytest.param("flowLogResourceID=/00000000-0000-0000-0000-000000000001_NWRG/NetworkWatcher_eastus_fl1/"
                 "y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000002/PT1H.json",
                 dict(log_type="vnet", subscription="00000000-0000-0000-0000-000000000001", resource_group="NWRG",
                      network_watcher="NetworkWatcher_eastus", flow_log="fl1", short_form=True), id="vnet-short"),
])
def test_parse(path, expected):
    meta = parse_blob_path(path)
    assert meta.hour == H
    for k, v in expected.items():
        assert getattr(meta, k) == v, k


def test_unlaid_path_has_no_metadata():
    meta = parse_blob_path("/tmp/some/flows.json")
    assert meta.log_type is None and meta.hour is None


def test_build_then_parse_round_trips():
    for name in (nsg_blob_name("S", "RG", "NSG", H, "000d3a000001"),
                 vnet_blob_name("S", "RG", "NW", "FL", H, "000D3A000001"),
                 vnet_blob_name("00000000-0000-0000-0000-000000000001", "RG", "NW", "FL", H, "000D3A000001", short=True)):
        meta = parse_blob_path(name)
        assert meta.hour == H and meta.mac == "000D3A000001"


def test_resource_id_from_path():
    meta = parse_blob_path(nsg_blob_name("s", "rg", "nsg1", H))
    assert meta.resource_id == "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"


VNET_ID = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/NWRG/PROVIDERS/MICROSOFT.NETWORK/"
           "NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/FL_1")


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
def test_vnet_resource_id_from_path_in_either_form(short):
    """The decoder falls back on it for records without flowLogResourceID."""
    name = vnet_blob_name("00000000-0000-0000-0000-000000000001", "nwrg", "NetworkWatcher_eastus", "fl_1", H,
                          "000D3A000001", short=short)
    meta = parse_blob_path(name)
    assert (meta.log_type, meta.short_form, meta.resource_id) == ("vnet", short, VNET_ID)


def test_an_unlaid_path_names_no_resource():
    assert parse_blob_path("/tmp/some/flows.json").resource_id is None


def test_to_utc_takes_a_missing_value_as_no_bound_but_refuses_the_text_nat():
    assert to_utc(pd.NaT) is None
    assert to_utc(float("nan")) is None
    with pytest.raises(ArgumentError, match=r"^cannot read 'NaT' as a time: give ISO 8601"):
        to_utc("NaT")


def test_text_the_date_parser_cannot_read_is_left_to_pandas():
    from flowkit.sources.layout import has_date

    assert has_date("now") is True
    now = to_utc("now")
    assert now is not None and str(now.tz) == "UTC"


@pytest.mark.parametrize("start, end, expected", [
    (None, None, True),
    ("2024-05-01T11:09Z", None, True),    # within the skew margin after the hour
    ("2024-05-01T11:10Z", None, False),
    (None, "2024-05-01T09:51Z", True),    # a record at 10:00:20 may hold 09:59 tuples
    (None, "2024-05-01T09:50Z", False),
    ("2024-05-01T10:30Z", "2024-05-01T10:31Z", True),
])
def test_hour_overlaps(start, end, expected):
    assert hour_overlaps(H, to_utc(start), to_utc(end)) is expected


@pytest.mark.parametrize("text", ["10:30", "May 1 10:30", "10:30Z", " 23:59:59 "])
def test_to_utc_refuses_a_time_of_day_without_its_date(text):
    with pytest.raises(ArgumentError, match=r"has no date \(it would read as today\): give the day too"):
        to_utc(text)


@pytest.mark.parametrize("text, readings", [
    ("01/05/2024", "2024-01-05 or 2024-05-01"),
    ("1.5.2024 10:00", "2024-01-05 or 2024-05-01"),
    ("12-01-2024T10:00Z", "2024-12-01 or 2024-01-12"),
    ("01/05/24", "2024-01-05 or 2024-05-01"),
])
def test_to_utc_refuses_a_date_that_reads_as_two_days(text, readings):
    # pandas would read 01/05/2024 as 5 January; much of the world means 1 May
    with pytest.raises(ArgumentError) as info:
        to_utc(text)
    assert str(info.value) == (f"{text!r} could be {readings}: write the date year first, "
                               "such as 2024-05-01T10:00Z")


@pytest.mark.parametrize("text, when", [
    ("13/05/2024", "2024-05-13"),        # one reading only: 13 is no month
    ("05/05/2024 10:00", "2024-05-05 10:00"),  # both readings are the same day
    ("2024/01/05", "2024-01-05"),        # year first
    ("May 1 2024", "2024-05-01"),
])
def test_to_utc_reads_a_date_with_one_reading(text, when):
    assert to_utc(text) == pd.Timestamp(when, tz="UTC")


def test_ambiguous_date_names_both_readings_with_the_century_pandas_gives():
    assert ambiguous_date("1/2/2024") == ("2024-01-02", "2024-02-01")
    assert ambiguous_date("11.02.99") == ("1999-11-02", "1999-02-11")
    assert ambiguous_date("01/05/2024/7") is None and ambiguous_date("0/5/2024") is None


@pytest.mark.parametrize("text, when", [("2024-06", "2024-06-01"), ("2024", "2024-01-01"), ("May 2024", "2024-05-01")])
def test_to_utc_reads_a_month_or_a_year_as_its_first_day(text, when):
    assert to_utc(text) == pd.Timestamp(when, tz="UTC")


def test_to_utc_treats_naive_as_utc():
    assert to_utc("2024-05-01 10:00") == H
    assert to_utc(pd.Timestamp("2024-05-01T12:00+02:00")) == H


SHORT = "flowLogResourceID=/00000000-0000-0000-0000-000000000001_NETWORKWATCHERRG/{}/y=2024/m=05/d=01/h=10/m=00/PT1H.json"


@pytest.mark.parametrize("segment, watcher, flow_log", [
    pytest.param("NETWORKWATCHER_EASTUS_MY_FLOWLOG", "NETWORKWATCHER_EASTUS", "MY_FLOWLOG", id="default-watcher-upper"),
    pytest.param("NetworkWatcher_eastus_my_flowlog", "NetworkWatcher_eastus", "my_flowlog", id="default-watcher"),
    pytest.param("NetworkWatcher_westeurope_a_b_c", "NetworkWatcher_westeurope", "a_b_c", id="many-underscores"),
    pytest.param("NetworkWatcher_eastus_fl1", "NetworkWatcher_eastus", "fl1", id="plain"),
    pytest.param("nw-prod_fl_1", "nw-prod", "fl_1", id="custom-watcher"),
])
def test_short_form_names_with_underscores(segment, watcher, flow_log):
    meta = parse_blob_path(SHORT.format(segment))
    assert (meta.log_type, meta.network_watcher, meta.flow_log, meta.short_form) == ("vnet", watcher, flow_log, True)
    assert meta.hour == H


@pytest.mark.parametrize("filters, segment, allowed", [
    pytest.param(dict(flow_log="my_flowlog"), "NETWORKWATCHER_EASTUS_MY_FLOWLOG", True, id="flow-log-with-underscore"),
    pytest.param(dict(flow_log="flowlog"), "NETWORKWATCHER_EASTUS_MY_FLOWLOG", False, id="flow-log-tail-is-not-it"),
    pytest.param(dict(flow_log="eastus_my_flowlog"), "NETWORKWATCHER_EASTUS_MY_FLOWLOG", False, id="region-is-the-watcher's"),
    pytest.param(dict(network_watcher="NetworkWatcher_eastus"), "NETWORKWATCHER_EASTUS_MY_FLOWLOG", True, id="watcher"),
    pytest.param(dict(network_watcher="NetworkWatcher_westus"), "NETWORKWATCHER_EASTUS_MY_FLOWLOG", False, id="other-watcher"),
    pytest.param(dict(network_watcher="NetworkWatcher_eastus", flow_log="MY_FLOWLOG"),
                 "NETWORKWATCHER_EASTUS_MY_FLOWLOG", True, id="both"),
    pytest.param(dict(flow_log="fl_1"), "nw-prod_fl_1", True, id="custom-watcher-flow-log-suffix"),
    pytest.param(dict(flow_log="1"), "nw-prod_fl_1", True, id="custom-watcher-split-unknown"),
    pytest.param(dict(network_watcher="nw-prod_fl"), "nw-prod_fl_1", True, id="custom-watcher-prefix"),
    pytest.param(dict(network_watcher="nw-prod", flow_log="1"), "nw-prod_fl_1", False, id="custom-both-must-make-it-whole"),
    pytest.param(dict(flow_log="nw-prod_fl_1"), "nw-prod_fl_1", False, id="no-watcher-left"),
])
def test_one_rule_for_short_form_filters(filters, segment, allowed):
    from flowkit.sources.azure_prefixes import ResourceFilter

    assert ResourceFilter(**filters).allows_short(segment) is allowed
