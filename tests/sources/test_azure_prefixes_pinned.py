"""Which prefixes a listing plans for a window and a MAC (pinned by mutation testing).

A prefix missing from the plan is an hour of blobs never listed: its tuples are lost without a
word. Pure functions over a container tree held in a dict: no Azurite needed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.sources.azure_prefixes import MAX_MAC_HOURS, plan_prefixes, time_prefixes
from flowkit.sources.layout import hour_overlaps, nsg_blob_name, to_utc, vnet_blob_name

SUB = "00000000-0000-0000-0000-000000000001"
MAC = "000D3A000001"
NSG = nsg_blob_name(SUB, "RG", "NSG1", "2024-05-01T10:00Z").split("/y=")[0] + "/"
VNET = f"flowLogResourceID=/{SUB}_NWRG/NetworkWatcher_eastus_fl1/"


def children_of(names: list[str]):
    """``children(prefix)`` as a delimiter listing of a container holding ``names`` gives it."""
    def children(prefix: str) -> list[str]:
        return sorted({prefix + n[len(prefix):].split("/", 1)[0] + "/"
                       for n in names if n.startswith(prefix) and "/" in n[len(prefix):]})
    return children


def nsg_tree(*hours: str) -> list[str]:
    return [nsg_blob_name(SUB, "RG", "NSG1", h, MAC) for h in hours]


def times(plan, resource: str = NSG) -> list[str]:
    assert all(p.startswith(resource) for _, p in plan.prefixes)
    return [p[len(resource):] for _, p in plan.prefixes]


@pytest.mark.parametrize("hour, expected", [
    pytest.param("2018-06-01T10:00Z",
                 ["y=2018/m=06/d=01/h=10/m=00/macAddress=000D3A000001/", "y=2018/m=06/d=01/h=10/m=00/PT1H"],
                 id="before-2019-also-without-the-mac-level"),
    pytest.param("2019-01-01T00:00Z", ["y=2019/m=01/d=01/h=00/m=00/macAddress=000D3A000001/"], id="from-2019"),
])
def test_an_nsg_hour_with_a_mac_is_listed_down_to_the_mac(hour, expected):
    h = to_utc(hour)
    plan = plan_prefixes("nsg", children_of(nsg_tree(hour)), start=h + pd.Timedelta(minutes=20),
                         end=h + pd.Timedelta(minutes=40), mac="00-0d-3a-00-00-01")
    assert times(plan) == expected
    assert {t for t, _ in plan.prefixes} == {"nsg"} and (plan.roots, plan.resources) == (1, 1)


def test_a_vnet_hour_with_a_mac_has_no_legacy_prefix():
    names = [vnet_blob_name(SUB, "NWRG", "NetworkWatcher_eastus", "fl1", "2018-06-01T10:00Z", MAC, short=True)]
    plan = plan_prefixes("vnet", children_of(names), start=to_utc("2018-06-01T10:20Z"),
                         end=to_utc("2018-06-01T10:40Z"), mac=MAC)
    assert times(plan, VNET) == ["y=2018/m=06/d=01/h=10/m=00/macAddress=000D3A000001/"]


@pytest.mark.parametrize("extra_hours, with_mac", [
    pytest.param(0, True, id="a-week-hour-by-hour"),
    pytest.param(1, False, id="longer-by-day"),
])
def test_a_mac_is_listed_hour_by_hour_up_to_a_week(extra_hours, with_mac):
    start = to_utc("2024-05-01T10:30Z")  # hours 10:00 .. 09:00 a week later: 168 of them
    end = start + pd.Timedelta(hours=MAX_MAC_HOURS - 1 + extra_hours, minutes=10)
    plan = plan_prefixes("nsg", children_of(nsg_tree("2024-05-01T10:00Z")), start=start, end=end, mac=MAC)
    listed = times(plan)
    assert MAX_MAC_HOURS == 168
    assert all(t.endswith(f"/m=00/macAddress={MAC}/") for t in listed) is with_mac
    if with_mac:
        assert len(listed) == 168 and listed[0].startswith("y=2024/m=05/d=01/h=10/")
        assert listed[-1].startswith("y=2024/m=05/d=08/h=09/")
    else:
        assert listed[:2] == ["y=2024/m=05/d=01/h=10/", "y=2024/m=05/d=01/h=11/"] and "y=2024/m=05/d=02/" in listed


def test_an_open_end_is_closed_after_the_last_year_found():
    plan = plan_prefixes("nsg", children_of(nsg_tree("2023-03-01T10:00Z", "2024-12-31T23:00Z")),
                         start=to_utc("2024-12-31T22:00Z"))
    assert plan.discovery_calls == 5  # four levels down to the NSG, one for its years
    assert times(plan) == ["y=2024/m=12/d=31/h=21/", "y=2024/m=12/d=31/h=22/", "y=2024/m=12/d=31/h=23/",
                           "y=2025/m=01/d=01/h=00/"]


def test_an_open_start_is_opened_at_the_first_year_found():
    plan = plan_prefixes("nsg", children_of(nsg_tree("2023-03-01T10:00Z", "2024-12-31T23:00Z")),
                         end=to_utc("2023-01-01T01:00Z"))
    assert times(plan) == ["y=2022/m=12/d=31/h=23/", "y=2023/m=01/d=01/h=00/", "y=2023/m=01/d=01/h=01/"]


@pytest.mark.parametrize("start, end", [
    pytest.param(None, "2022-06-01T00:00Z", id="ends-before-the-first-year"),
    pytest.param("2025-06-01T00:00Z", None, id="starts-after-the-last-year"),
])
def test_an_open_window_outside_the_years_found_lists_nothing(start, end):
    plan = plan_prefixes("nsg", children_of(nsg_tree("2023-03-01T10:00Z", "2024-12-31T23:00Z")),
                         start=to_utc(start), end=to_utc(end))
    assert plan.prefixes == () and plan.resources == 1


def test_an_empty_window_lists_nothing():
    at = to_utc("2024-05-01T10:00Z")
    assert plan_prefixes("nsg", children_of(nsg_tree("2024-05-01T10:00Z")), start=at, end=at).prefixes == ()


def test_no_window_lists_each_resource_whole():
    plan = plan_prefixes("nsg", children_of(nsg_tree("2024-05-01T10:00Z")))
    assert plan.prefixes == (("nsg", NSG),)


def test_a_prefix_given_inside_an_hour_is_kept_and_other_hours_dropped():
    user = NSG + f"y=2024/m=05/d=01/h=10/m=00/macAddress={MAC}/"
    plan = plan_prefixes("nsg", children_of(nsg_tree("2024-05-01T10:00Z")), start=to_utc("2024-05-01T00:00Z"),
                         end=to_utc("2024-05-02T00:00Z"), user_prefix=user)
    assert plan.prefixes == (("nsg", user),)


@pytest.mark.parametrize("start, end, expected", [
    pytest.param("2024-02-01T05:00Z", "2024-03-01T00:00Z",
                 [*(f"y=2024/m=02/d=01/h={h:02d}/" for h in range(4, 24)),
                  *(f"y=2024/m=02/d={d:02d}/" for d in range(2, 30)), "y=2024/m=03/d=01/h=00/"],
                 id="every-day-but-the-first-not-whole"),
    pytest.param("2024-05-10T00:30Z", "2024-05-11T23:50Z", ["y=2024/m=05/d=10/", "y=2024/m=05/d=11/"],
                 id="whole-days-not-the-month"),
])
def test_a_month_is_one_prefix_only_when_every_hour_of_it_is_wanted(start, end, expected):
    assert time_prefixes(to_utc(start), to_utc(end)) == expected


@pytest.mark.parametrize("start, end, hour, wanted", [
    pytest.param("2025-01-01T00:05Z", None, "2024-12-31T23:00Z", "y=2024/m=12/d=31/h=23/",
                 id="start-just-after-the-last-year"),
    pytest.param(None, "2022-12-31T23:55Z", "2023-01-01T00:00Z", "y=2023/m=01/d=01/h=00/",
                 id="end-just-before-the-first-year"),
])
def test_an_open_window_keeps_the_hour_that_may_hold_its_tuples(start, end, hour, wanted):
    """The 23:00 blob of the last year found may hold tuples of 00:05 the next day (SKEW): a local read
    keeps it (hour_overlaps); the plan dropped it, as the window seemed to begin after the last year."""
    start_ts, end_ts = to_utc(start), to_utc(end)
    assert hour_overlaps(to_utc(hour), start_ts, end_ts)
    names = nsg_tree("2023-01-01T00:00Z", "2024-12-31T23:00Z")
    assert wanted in times(plan_prefixes("nsg", children_of(names), start=start_ts, end=end_ts))
