"""Listing by layout and reading, against a real Azurite, row for row against local files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest

import flowkit
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER

from conftest import ACCOUNT, KEY, _nsg_blob, _vnet_blob


class Requests:
    """Every HTTP request the SDK sends (observed, not mocked)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict]] = []

    def __call__(self, request) -> None:
        req = request.http_request
        parts = urlsplit(req.url)
        self.seen.append((req.method, unquote(parts.path), parse_qs(parts.query)))

    def lists(self, delimiter: bool) -> list[str]:
        return [q.get("prefix", [""])[0] for m, p, q in self.seen
                if q.get("comp") == ["list"] and ("delimiter" in q) == delimiter]

    def reads(self) -> list[str]:
        out = []
        for method, path, q in self.seen:
            if method == "GET" and "comp" not in q and "restype" not in q:
                out.append(path.split("/", 2)[2])  # drop the account
        return out



def _source(azurite, **kw) -> AzureBlobSource:
    return AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1,
                                                  retry_total=2, **kw)


def _same_rows(remote: pd.DataFrame, local: pd.DataFrame, root: Path) -> None:
    prefix = str(root) + "/"
    local = local.copy()
    local["blob"] = local["blob"].astype(str).str.removeprefix(prefix)
    remote = remote.copy()
    remote["blob"] = remote["blob"].astype(str)
    assert len(remote) == len(local) > 0
    pd.testing.assert_frame_equal(remote.reset_index(drop=True).astype(str),
                                  local.reset_index(drop=True).astype(str))


WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")


def _expected_hours(names: list[str]) -> set[str]:
    return {n for n in names if any(f"/h={h}/" in n for h in ("09", "10", "11")) and "/y=2024/" in n}


def test_window_lists_hour_prefixes_and_reads_only_those_blobs(azurite, estate):
    seen = Requests()
    src = _source(azurite, client_kwargs={"raw_request_hook": seen})
    flows = flowkit.read_flow_logs(src, log_type="vnet", **WINDOW)
    local = flowkit.read_flow_logs(estate, log_type="vnet", **WINDOW)
    _same_rows(flows, local, estate)

    all_vnet = [p.relative_to(estate).as_posix() for p in (estate / VNET_CONTAINER).rglob("*.json")]
    expected = _expected_hours(all_vnet)
    assert len(expected) == 15  # 3 hours x (2 flow logs x 2 MACs + 1 short-form NIC)
    assert sorted(seen.reads()) == sorted(expected)
    # blob listings only at hour level: 3 hours x 3 flow logs (two long form, one short form)
    prefixes = seen.lists(delimiter=False)
    assert len(prefixes) == 9 and all(p.endswith("/") and "/h=" in p for p in prefixes)
    assert {p.rsplit("/", 2)[-2] for p in prefixes} == {"h=09", "h=10", "h=11"}
    assert all("y=" not in p for p in seen.lists(delimiter=True))  # discovery stops above time
    assert not any(NSG_CONTAINER in path for _, path, _ in seen.seen)


def test_mac_filter_lists_down_to_the_mac(azurite, estate):
    seen = Requests()
    src = _source(azurite, client_kwargs={"raw_request_hook": seen})
    flows = flowkit.read_flow_logs(src, mac="00-0d-3a-00-01-01", **WINDOW)
    local = flowkit.read_flow_logs(estate, mac="00-0d-3a-00-01-01", **WINDOW)
    _same_rows(flows, local, estate)
    assert set(flows["log_type"].astype(str)) == {"nsg", "vnet"}
    prefixes = seen.lists(delimiter=False)
    assert prefixes and all(p.endswith("/m=00/macAddress=000D3A000101/") for p in prefixes)
    assert all("macAddress=000D3A000101" in r for r in seen.reads())
    # 3 hours x (2 VNet flow logs + 2 NSGs)
    assert len(seen.reads()) == 12


def test_every_layout_both_containers_whole_account(azurite, estate):
    src = _source(azurite)
    flows = flowkit.read_flow_logs(src)
    local = flowkit.read_flow_logs(estate)
    _same_rows(flows, local, estate)
    listing = src.list_blobs()
    names = {r.name for r in listing.refs}
    assert any("/NSG-OLD/y=2017/m=06/d=01/h=10/m=00/PT1H.json" in n for n in names)  # no macAddress=
    assert any(n.startswith(VNET_CONTAINER + "/flowLogResourceID=/00000000-") for n in names)  # short form
    assert any("/FLOWLOGS/FL-B/" in n for n in names)  # long form
    assert all("?" not in n and "http" not in n for n in names)


def test_legacy_nsg_blobs_without_mac_level_are_found_with_a_mac_filter(azurite, estate):
    src = _source(azurite)
    listing = src.list_blobs(log_type="nsg", start="2017-06-01T10:20Z", end="2017-06-01T10:30Z",
                             mac="000D3A000301")
    assert [r.meta.nsg for r in listing.refs] == ["NSG-OLD"]


@pytest.mark.parametrize("kw, expected", [
    pytest.param(dict(nsg="nsg-web"), {"NSG-WEB"}, id="nsg"),
    pytest.param(dict(flow_log="fl-short"), {"fl-short"}, id="flow-log-short-form"),
    pytest.param(dict(flow_log="FL-A", subscription="00000000-0000-0000-0000-000000000001"), {"FL-A"}, id="flow-log-long"),
    pytest.param(dict(resource_group="rg-app"), {"NSG-WEB", "NSG-APP"}, id="resource-group"),
])
def test_resource_filters(azurite, estate, kw, expected):
    src = _source(azurite, **kw)
    refs = src.list_blobs(start="2024-05-01T10:20Z", end="2024-05-01T10:40Z").refs
    assert refs and {r.meta.nsg or r.meta.flow_log for r in refs} == expected


def test_fixed_container_and_prefix_from_url(azurite, estate):
    prefix = "flowLogResourceID=/00000000-0000-0000-0000-000000000002_NetworkWatcherRG/"
    src = _source(azurite, container=VNET_CONTAINER, prefix=prefix)
    refs = src.list_blobs(**WINDOW).refs
    assert len(refs) == 3 and all(r.blob.startswith(prefix) for r in refs)


def test_injected_container_client(azurite, estate):
    from azure.storage.blob import ContainerClient

    cc = ContainerClient.from_connection_string(azurite.connection_string, NSG_CONTAINER)
    src = AzureBlobSource(container_client=cc, max_concurrency=3)
    flows = flowkit.read_flow_logs(src, **WINDOW)
    local = flowkit.read_flow_logs(estate / NSG_CONTAINER, **WINDOW)
    assert len(flows) == len(local) > 0
    assert set(flows["blob"].astype(str).str.split("/").str[0]) == {NSG_CONTAINER}


def test_sas_url_source(azurite, estate):
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas


    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"
    src = AzureBlobSource.from_sas_url(url, retry_backoff=0.1)
    flows = flowkit.read_flow_logs(url, **WINDOW)  # resolve_source -> AzureBlobSource.from_url
    assert len(flows) == len(flowkit.read_flow_logs(estate / VNET_CONTAINER, **WINDOW))
    assert sas not in repr(src) and "sig=" not in src.describe()


def test_cache_keeps_sealed_blobs_and_reads_offline(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    seen = Requests()
    src = _source(azurite, cache_dir=cache, client_kwargs={"raw_request_hook": seen})
    first = flowkit.read_flow_logs(src, log_type="vnet", **WINDOW)
    assert len(seen.reads()) == 15
    seen.seen.clear()
    second = flowkit.read_flow_logs(src, log_type="vnet", **WINDOW)
    assert seen.reads() == []  # every blob came from the cache
    pd.testing.assert_frame_equal(first.astype(str), second.astype(str))
    # offline: the account cannot be reached at all
    offline = AzureBlobSource.from_connection_string(
        azurite.connection_string.replace(str(azurite.port), "1"), cache_dir=cache,
        retry_total=0, retry_backoff=0.1, connection_timeout=2)
    with pytest.warns(UserWarning, match="listing the local cache"):
        third = flowkit.read_flow_logs(offline, log_type="vnet", **WINDOW)
    pd.testing.assert_frame_equal(first.astype(str), third.astype(str))
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert all(str(p.resolve()).startswith(str(cache.resolve())) for p in files)


def test_cache_refreshes_a_replaced_sealed_blob(azurite, service, estate, tmp_path):
    src = _source(azurite, cache_dir=tmp_path / "cache")
    ref = src.list_blobs(log_type="vnet", **WINDOW).refs[0]
    before = dict(src.iter_bytes([ref]))[0]
    service.get_container_client(ref.container).upload_blob(ref.blob, before + b"\n", overwrite=True)
    ref2 = src.list_blobs(log_type="vnet", **WINDOW).refs[0]
    assert ref2.etag != ref.etag
    assert dict(src.iter_bytes([ref2]))[0] == before + b"\n"


def _put(service, container: str, name: str, data: bytes) -> None:
    cc = service.get_container_client(container)
    if not cc.exists():
        cc.create_container()
    cc.upload_blob(name, data, overwrite=True)


NAMED_SUB = "00000000-0000-0000-0000-00000000000a"


@pytest.fixture()
def underscored(service):
    """Two short-form flow logs of one default-named watcher, one of them named with a '_'."""
    from flowkit.sources.layout import vnet_blob_name
    from flowkit.synth import blob_bytes


    for seed, name in enumerate(("my_flowlog", "fl2"), start=1):
        blob = vnet_blob_name(NAMED_SUB, "NETWORKWATCHERRG", "NETWORKWATCHER_EASTUS", name.upper(),
                              "2024-05-01T10:00Z", "000D3A000101", short=True)  # upper-case, as Azure writes it
        _put(service, VNET_CONTAINER, blob, blob_bytes(_vnet_blob("2024-05-01T10:00Z", "000D3A000101", f"/X/{name}", seed)))


@pytest.mark.parametrize("window", [pytest.param(WINDOW, id="window"), pytest.param({}, id="no-window")])
@pytest.mark.parametrize("kw, rows, flow_logs", [
    pytest.param(dict(flow_log="my_flowlog"), 6, {"MY_FLOWLOG"}, id="flow-log-with-underscore"),
    pytest.param(dict(flow_log="FL2"), 6, {"FL2"}, id="plain-flow-log"),
    pytest.param(dict(flow_log="flowlog"), 0, set(), id="tail-of-a-name-is-not-the-name"),
    pytest.param(dict(network_watcher="NetworkWatcher_eastus"), 12, {"MY_FLOWLOG", "FL2"}, id="watcher"),
    pytest.param(dict(network_watcher="NetworkWatcher_eastus", flow_log="my_flowlog"), 6, {"MY_FLOWLOG"}, id="both"),
])
def test_short_form_names_with_underscores_are_planned_and_kept_alike(azurite, underscored, kw, rows, flow_logs, window):
    src = _source(azurite, **kw)
    flows, report = flowkit.read_flow_logs(src, with_report=True, **window)
    assert (len(flows), report.files, report.files_skipped) == (rows, len(flow_logs), 0)
    assert {r.meta.flow_log for r in src.list_blobs(**window).refs} == flow_logs
    assert all(r.meta.network_watcher == "NETWORKWATCHER_EASTUS" for r in src.list_blobs(**window).refs)


def test_a_mac_spelt_in_lower_case_in_the_path_is_found_with_a_window_too(azurite, service):
    from flowkit.sources.layout import nsg_blob_name
    from flowkit.synth import blob_bytes


    hour = "2024-05-01T10:00Z"
    name = nsg_blob_name("SUB", "RG", "NSG1", hour, "000D3A0000AB").replace("000D3A0000AB", "000d3a0000ab")
    _put(service, NSG_CONTAINER, name, blob_bytes(_nsg_blob(hour, "000d3a0000ab", "/X", 1)))
    src = _source(azurite)
    without = flowkit.read_flow_logs(src, mac="000D3A0000AB")
    within = flowkit.read_flow_logs(src, mac="00-0D-3A-00-00-AB", **WINDOW)
    assert len(without) == len(within) == 6
    assert flowkit.read_flow_logs(src, mac="000D3A0000CD", **WINDOW).empty  # another NIC: still nothing


def test_skipped_counts_only_blobs_listed_then_left_out(azurite, estate):
    """files_skipped of an Azure read: listed blobs left out by name, not what the plan never listed."""
    src = _source(azurite)
    _, narrow = flowkit.read_flow_logs(src, with_report=True, **WINDOW)
    assert narrow.files == 27 and narrow.files_skipped == 0  # other hours are never listed
    # a MAC over more than a week is listed by day prefixes: the other MACs are listed, then left out
    _, wide = flowkit.read_flow_logs(src, with_report=True, mac="000D3A000101", start="2024-04-20", end="2024-05-10")
    assert (wide.files, wide.files_skipped) == (20, 25)


@pytest.fixture
def year_edges(service) -> str:
    """VNet blobs in the first hour of 2023 and the first and last hours of 2024, in a container of their own."""
    from flowkit.sources.layout import vnet_blob_name
    from flowkit.synth import blob_bytes

    container = "year-edges"
    for hour in ("2023-01-01T00:00Z", "2024-01-01T00:00Z", "2024-12-31T23:00Z"):
        name = vnet_blob_name("00000000-0000-0000-0000-00000000000e", "NetworkWatcherRG", "NetworkWatcher_eastus",
                              "fl-edges", hour, "000D3A0000E1")
        _put(service, container, name, blob_bytes(_vnet_blob(hour, "000D3A0000E1", "/FL-EDGES", 1, n_records=1)))
    return container


@pytest.mark.parametrize("window, hours", [
    pytest.param({}, ["2023-01-01 00", "2024-01-01 00", "2024-12-31 23"], id="no-window"),
    pytest.param({"start": "2024-01-01T00:00Z"}, ["2024-01-01 00", "2024-12-31 23"], id="start-only"),
    pytest.param({"end": "2025-01-01T00:00Z"}, ["2023-01-01 00", "2024-01-01 00", "2024-12-31 23"], id="end-only"),
    pytest.param({"start": "2024-12-31T23:00Z"}, ["2024-12-31 23"], id="start-only-in-the-last-hour"),
    pytest.param({"end": "2024-01-01T01:00Z"}, ["2023-01-01 00", "2024-01-01 00"], id="end-only-in-the-next-year"),
])
def test_a_window_open_on_one_side_reaches_the_first_and_last_hour_of_the_years_found(
        azurite, year_edges, window, hours):
    """With one bound missing, the listing closes the window at the first (or after the last)
    year it finds: the first hour of the first year and the last hour of the last are listed."""
    flows = flowkit.read_flow_logs(_source(azurite, container=year_edges), **window)
    assert sorted(flows["flow_time"].dt.strftime("%Y-%m-%d %H").unique().tolist()) == hours
    assert len(flows) == 2 * len(hours)
