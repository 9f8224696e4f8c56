"""The Azure listing pinned where mutation testing found it unchecked: the plan, the offline listing's skipped count."""

from __future__ import annotations

import warnings

import pytest

import flowkit
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER

from conftest import ACCOUNT, KEY, _nsg_blob, _vnet_blob
from test_azure_listing import _put

WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")
SHORT = "flowLogResourceID=/00000000-0000-0000-0000-000000000002_NetworkWatcherRG/"
LONG = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/{rg}/PROVIDERS/MICROSOFT.NETWORK/"
        "{kind}/{name}/y=2024/m=05/d=01/h=10/")


def _source(azurite, **kw) -> AzureBlobSource:
    return AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1,
                                                  retry_total=2, **kw)


def _offline(azurite, **kw) -> AzureBlobSource:
    return AzureBlobSource.from_connection_string(azurite.connection_string.replace(str(azurite.port), "1"),
                                                  retry_total=0, retry_backoff=0.1, connection_timeout=2, **kw)


def test_plan_names_the_hour_prefixes_of_the_window_without_listing_a_blob(azurite, estate):
    src = _source(azurite)
    vnet = [(VNET_CONTAINER, "vnet", SHORT + "NetworkWatcher_westus_fl-short/y=2024/m=05/d=01/h=10/")] + [
        (VNET_CONTAINER, "vnet", "flowLogResourceID=" + LONG.format(
            rg="NETWORKWATCHERRG", kind="NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS", name=fl))
        for fl in ("FL-A", "FL-B")]
    assert src.plan(log_type="vnet", start="2024-05-01T10:20Z", end="2024-05-01T10:40Z") == vnet


def test_plan_with_a_dashed_mac_lists_down_to_the_mac_level(azurite, estate):
    src = _source(azurite)
    nsg = "resourceId=" + LONG.format(rg="RG-APP", kind="NETWORKSECURITYGROUPS", name="{}") + "m=00/macAddress=000D3A000101/"
    old = nsg.format("NSG-OLD").replace("000000000001/RESOURCEGROUPS/RG-APP", "000000000002/RESOURCEGROUPS/RG-OLD")
    assert src.plan(log_type="nsg", start="2024-05-01T10:20Z", end="2024-05-01T10:40Z", mac="00-0d-3a-00-01-01") == [
        (NSG_CONTAINER, "nsg", nsg.format("NSG-APP")), (NSG_CONTAINER, "nsg", nsg.format("NSG-WEB")),
        (NSG_CONTAINER, "nsg", old)]


def test_an_offline_read_of_a_prefix_counts_no_cached_blob_outside_the_prefix_as_skipped(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    flowkit.read_flow_logs(_source(azurite, cache_dir=cache), log_type="vnet", **WINDOW)  # caches all 15 VNet blobs
    online = _source(azurite, container=VNET_CONTAINER, prefix=SHORT, cache_dir=cache)
    _, expected = flowkit.read_flow_logs(online, with_report=True, **WINDOW)
    offline = _offline(azurite, container=VNET_CONTAINER, prefix=SHORT, cache_dir=cache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flows, report = flowkit.read_flow_logs(offline, with_report=True, **WINDOW)
    assert [str(w.message).endswith("; listing the local cache instead") for w in caught] == [True]
    assert (len(flows), report.files, report.files_skipped) == (6, expected.files, expected.files_skipped) == (6, 3, 0)
    # inside the prefix, a cached hour outside the window is skipped by its name, as a local folder's file is
    with pytest.warns(UserWarning, match="; listing the local cache instead$"):
        _, narrow = flowkit.read_flow_logs(offline, with_report=True, start="2024-05-01T10:20Z",
                                           end="2024-05-01T10:40Z")
    assert (narrow.files, narrow.files_skipped) == (1, 2)


def test_an_offline_read_of_one_named_blob_counts_no_other_cached_blob_as_skipped(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    flowkit.read_flow_logs(_source(azurite, cache_dir=cache), log_type="vnet", **WINDOW)
    name = SHORT + "NetworkWatcher_westus_fl-short/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000201/PT1H.json"
    offline = AzureBlobSource(account_url=f"http://127.0.0.1:1/devstoreaccount1/{VNET_CONTAINER}/{name}",
                              credential=KEY, cache_dir=cache, retry_total=0, retry_backoff=0.1, connection_timeout=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flows, report = flowkit.read_flow_logs(offline, with_report=True)
    assert [str(w.message).endswith("; listing the local cache instead") for w in caught] == [True]
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    assert flows["blob"].astype(str).unique().tolist() == [f"{VNET_CONTAINER}/{name}"]


def test_an_offline_listing_gives_the_blobs_of_the_online_one_in_its_order(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    online = _source(azurite, cache_dir=cache).list_blobs(**WINDOW)
    flowkit.read_flow_logs(_source(azurite, cache_dir=cache), **WINDOW)  # caches every blob of both containers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        offline = _offline(azurite, cache_dir=cache).list_blobs(**WINDOW)
    names = [r.name for r in offline.refs]
    assert names == [r.name for r in online.refs] == sorted(names) and len(names) == 27
    assert names[0].startswith(VNET_CONTAINER) and names[-1].startswith(NSG_CONTAINER)


def test_a_short_form_watcher_not_named_by_azure_is_kept_by_a_filter_that_the_plan_allows(azurite, service):
    """``NW1_MY_FLOWLOG`` may be watcher ``NW1_MY`` and flow log ``FLOWLOG``: planned, listed and kept."""
    from flowkit.sources.layout import vnet_blob_name
    from flowkit.synth import blob_bytes

    hour = "2024-05-01T10:00Z"
    name = vnet_blob_name("00000000-0000-0000-0000-00000000000b", "RG", "NW1", "MY_FLOWLOG", hour, "000D3A000101",
                          short=True)
    _put(service, VNET_CONTAINER, name, blob_bytes(_vnet_blob(hour, "000D3A000101", "/X/MY_FLOWLOG", 1)))
    flows, report = flowkit.read_flow_logs(_source(azurite, network_watcher="nw1_my"), with_report=True, **WINDOW)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    _, other = flowkit.read_flow_logs(_source(azurite, network_watcher="nw2"), with_report=True, **WINDOW)
    assert (other.files, other.files_skipped) == (0, 0)


def test_a_container_outside_the_layout_counts_its_flow_logs_of_other_hours_as_skipped(azurite, service, tmp_path):
    """Flow-log folders copied under a folder of their own: read whole, as a local folder is, hours filtered."""
    from flowkit.sources.layout import nsg_blob_name
    from flowkit.synth import blob_bytes

    nsg = "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"
    for hour in ("2024-05-01T10:00Z", "2024-05-01T14:00Z"):
        name = "export/" + nsg_blob_name("S", "RG", "NSG1", hour, "000D3A000101")
        data = blob_bytes(_nsg_blob(hour, "000D3A000101", nsg, 1))
        _put(service, "archive", name, data)
        (tmp_path / "archive" / name).parent.mkdir(parents=True)
        (tmp_path / "archive" / name).write_bytes(data)
    _, local = flowkit.read_flow_logs(tmp_path / "archive", with_report=True, **WINDOW)
    flows, report = flowkit.read_flow_logs(_source(azurite, container="archive"), with_report=True, **WINDOW)
    assert (len(flows), report.files, report.files_skipped) == (6, local.files, local.files_skipped) == (6, 1, 1)


def test_a_sas_that_may_list_but_not_read_lists_a_prefix_named_without_a_trailing_slash(azurite, estate):
    """Asking whether the address names one blob is refused (403): it is then a prefix, and listed."""
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY, permission=ContainerSasPermissions(list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/{VNET_CONTAINER}/{SHORT.rstrip('/')}?{sas}",
                          retry_total=0, retry_backoff=0.1)
    listing = src.list_blobs(**WINDOW)
    assert (len(listing.refs), listing.skipped) == (3, 0)
    assert all(r.blob.startswith(SHORT) for r in listing.refs)


def test_an_offline_read_of_a_container_outside_the_layout_reads_its_cached_blobs(azurite, service, tmp_path):
    from flowkit.sources.blob_cache import BlobCache
    from flowkit.synth import blob_bytes

    nsg = "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"
    data = blob_bytes(_nsg_blob("2024-05-01T10:00Z", "000D3A000101", nsg, 1))
    assert BlobCache(tmp_path / "cache").put("devstoreaccount1", "archive", "2024/05/01/PT1H.json", data, etag="0x1")
    offline = _offline(azurite, container="archive", cache_dir=tmp_path / "cache")
    with pytest.warns(UserWarning, match="; listing the local cache instead$"):
        flows, report = flowkit.read_flow_logs(offline, with_report=True)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    assert flows["blob"].astype(str).unique().tolist() == ["archive/2024/05/01/PT1H.json"]


def test_a_named_long_form_blob_is_filtered_by_its_watcher_name_whole(azurite, service):
    """Only a short-form segment leaves unknown where the watcher's name ends; a long-form path says it."""
    from flowkit.sources.layout import vnet_blob_name
    from flowkit.synth import blob_bytes

    hour = "2024-05-01T10:00Z"
    name = vnet_blob_name("00000000-0000-0000-0000-00000000000b", "RG", "NW1", "MY_FLOWLOG", hour, "000D3A000101")
    _put(service, VNET_CONTAINER, name, blob_bytes(_vnet_blob(hour, "000D3A000101", "/X/MY_FLOWLOG", 1)))
    url = f"{azurite.endpoint}/{VNET_CONTAINER}/{name}"
    _, other = flowkit.read_flow_logs(AzureBlobSource(account_url=url, credential=KEY, network_watcher="nw1_my"),
                                      with_report=True)
    assert (other.files, other.files_skipped) == (0, 1)
    flows, same = flowkit.read_flow_logs(AzureBlobSource(account_url=url, credential=KEY, network_watcher="nw1"),
                                         with_report=True)
    assert (len(flows), same.files, same.files_skipped) == (6, 1, 0)


def test_an_offline_read_with_an_nsg_filter_reads_no_cached_vnet_blob_of_a_mixed_container(azurite, tmp_path):
    from flowkit.sources.blob_cache import BlobCache
    from flowkit.sources.layout import nsg_blob_name, vnet_blob_name
    from flowkit.synth import blob_bytes

    hour = "2024-05-01T10:00Z"
    cache = BlobCache(tmp_path / "cache")
    nsg = "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"
    nsg_name = nsg_blob_name("S", "RG", "NSG1", hour, "000D3A000101")
    vnet_name = vnet_blob_name("S", "RG", "NW1", "FL1", hour, "000D3A000101")
    assert cache.put("devstoreaccount1", "archive", nsg_name, blob_bytes(_nsg_blob(hour, "000D3A000101", nsg, 1)), etag="0x1")
    assert cache.put("devstoreaccount1", "archive", vnet_name, blob_bytes(_vnet_blob(hour, "000D3A000101", "/X/FL1", 2)),
                     etag="0x2")
    offline = _offline(azurite, container="archive", nsg="nsg1", cache_dir=tmp_path / "cache")
    with pytest.warns(UserWarning, match="; listing the local cache instead$"):
        flows, report = flowkit.read_flow_logs(offline, with_report=True)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 1)
    assert set(flows["log_type"].astype(str)) == {"nsg"}


def test_a_folder_of_a_hierarchical_namespace_named_without_a_slash_is_listed_not_read_as_a_blob(azurite, service):
    """ADLS Gen2 keeps a folder as an empty blob with metadata hdi_isfolder=true."""
    from flowkit.synth import blob_bytes

    nsg = "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"
    _put(service, "archive", "2024/PT1H.json", blob_bytes(_nsg_blob("2024-05-01T10:00Z", "000D3A000101", nsg, 1)))
    service.get_container_client("archive").upload_blob("2024", b"", metadata={"hdi_isfolder": "true"})
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/archive/2024", credential=KEY, retry_backoff=0.1)
    flows, report = flowkit.read_flow_logs(src, with_report=True)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    assert flows["blob"].astype(str).unique().tolist() == ["archive/2024/PT1H.json"]


def test_a_container_outside_the_layout_is_read_whole_with_a_resource_filter_too(azurite, service):
    """Its paths name no NSG: as for a local folder, what the path does not say does not exclude a blob."""
    from flowkit.synth import blob_bytes

    nsg = "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"
    _put(service, "archive", "2024/05/01/PT1H.json", blob_bytes(_nsg_blob("2024-05-01T10:00Z", "000D3A000101", nsg, 1)))
    flows, report = flowkit.read_flow_logs(_source(azurite, container="archive", nsg="nsg1"), with_report=True)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
