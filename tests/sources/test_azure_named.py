"""Blobs a user names that the layout does not plan: one blob by URL, folders outside the layout,
``resourceId%3D`` roots. Against a real Azurite."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

import flowkit
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.synth import blob_bytes

from conftest import ACCOUNT, KEY, _nsg_blob, _vnet_blob
from test_azure_listing import Requests, _put

HOUR = "2024-05-01T10:00Z"
WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")
SUB = "00000000-0000-0000-0000-000000000001"
NSG_ID = f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1"


def _nsg_bytes(seed: int = 1) -> bytes:
    return blob_bytes(_nsg_blob(HOUR, "000D3A000101", NSG_ID, seed))  # 3 records, 6 tuples


def test_a_url_with_a_sas_for_one_blob_reads_that_blob_without_listing(azurite, service):
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    name = vnet_blob_name(SUB, "RG", "NW", "FL", HOUR, "000D3A000001")
    _put(service, VNET_CONTAINER, name, blob_bytes(_vnet_blob(HOUR, "000D3A000001", "/X", 1)))
    sas = generate_blob_sas(ACCOUNT, VNET_CONTAINER, name, account_key=KEY, permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    url = f"{azurite.endpoint}/{VNET_CONTAINER}/{quote(name, safe='/')}?{sas}"
    assert len(flowkit.read_flow_logs(url)) == 6  # the portal's "Generate SAS" on one blob
    seen = Requests()
    src = AzureBlobSource(account_url=url, retry_backoff=0.1, client_kwargs={"raw_request_hook": seen})
    flows, report = flowkit.read_flow_logs(src, with_report=True, **WINDOW)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    assert seen.lists(delimiter=True) == seen.lists(delimiter=False) == []
    assert seen.reads() == [f"{VNET_CONTAINER}/{name}"]
    # named, but outside the window: skipped by its hour, as a local file would be
    _, report = flowkit.read_flow_logs(src, with_report=True, start="2024-05-02", end="2024-05-03")
    assert (report.files, report.files_skipped) == (0, 1)


@pytest.mark.parametrize("path", [
    pytest.param("archive/2024/05/01/PT1H.json", id="one-blob"),
    pytest.param("archive/2024/", id="folder"),
    pytest.param("archive/2024", id="folder-without-slash"),
    pytest.param("archive", id="container"),
])
def test_blobs_outside_the_layout_are_read_as_a_local_folder_reads_them(azurite, service, tmp_path, path):
    _put(service, "archive", "2024/05/01/PT1H.json", _nsg_bytes())
    _put(service, "archive", "2024/05/01/inventory.json", b'{"nics": []}')  # a side file beside PT1H.json
    _put(service, "archive", "2024/05/01/notes.txt", b"not a log")
    local = tmp_path / "archive" / "2024" / "05" / "01"
    local.mkdir(parents=True)
    (local / "PT1H.json").write_bytes(_nsg_bytes())
    (local / "inventory.json").write_bytes(b'{"nics": []}')
    expected, local_report = flowkit.read_flow_logs(tmp_path / path, with_report=True)
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/{path}", credential=KEY, retry_backoff=0.1)
    flows, report = flowkit.read_flow_logs(src, with_report=True)
    assert (len(flows), report.files, report.files_skipped) == (len(expected), local_report.files, 0) == (6, 1, 0)
    assert flows["blob"].astype(str).unique().tolist() == ["archive/2024/05/01/PT1H.json"]


def test_a_copy_saved_beside_a_blob_outside_the_layout_is_read_as_locally(azurite, service, tmp_path):
    # A second download of PT1H.json, uploaded as the browser named it: its tuples are not dropped.
    for name, data in (("PT1H.json", _nsg_bytes()), ("PT1H (1).json", _nsg_bytes(2)), ("inventory.json", b"{}")):
        _put(service, "archive", f"2024/05/01/{name}", data)
        (tmp_path / name).write_bytes(data)
    expected = flowkit.read_flow_logs(tmp_path)
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/archive", credential=KEY, retry_backoff=0.1)
    flows, report = flowkit.read_flow_logs(src, with_report=True)
    assert (len(flows), report.files) == (len(expected), 2) == (12, 2)
    assert sorted(flows["blob"].astype(str).unique()) == ["archive/2024/05/01/PT1H (1).json",
                                                          "archive/2024/05/01/PT1H.json"]


def test_a_container_holding_no_flow_log_says_so(azurite, service):
    _put(service, "archive", "2024/notes.txt", b"not a log")
    _put(service, "archive", "2024/flows.csv", b"a,b")
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/archive/2024/", credential=KEY, retry_backoff=0.1)
    with pytest.warns(UserWarning) as caught:
        flows = flowkit.read_flow_logs(src)
    assert flows.empty
    assert [str(w.message) for w in caught] == [
        "flowkit: container 'archive', prefix '2024/' holds 2 blob(s), none of them a flow log: no blob in the "
        "layout (resourceId=/…, flowLogResourceID=/…) and none named *.json"]


def test_blobs_under_a_literal_resourceid_3d_root_are_listed_by_layout(azurite, service):
    name = nsg_blob_name(SUB, "RG", "NSG1", HOUR, "000D3A000101").replace("resourceId=", "resourceId%3D")
    _put(service, NSG_CONTAINER, name, _nsg_bytes())
    _put(service, NSG_CONTAINER, name.replace("h=10", "h=14"), _nsg_bytes(2))
    seen = Requests()
    src = AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1,
                                                 client_kwargs={"raw_request_hook": seen})
    flows, report = flowkit.read_flow_logs(src, with_report=True, **WINDOW)
    assert (len(flows), report.files, report.files_skipped) == (6, 1, 0)
    assert all(p.startswith("resourceId%3D/") and "/h=" in p for p in seen.lists(delimiter=False))
    assert len(flowkit.read_flow_logs(src)) == 12
    by_url = AzureBlobSource(account_url=f"{azurite.endpoint}/{NSG_CONTAINER}/resourceId%253D/", credential=KEY)
    assert len(flowkit.read_flow_logs(by_url, **WINDOW)) == 6
    filtered = AzureBlobSource.from_connection_string(azurite.connection_string, nsg="nsg1")
    assert len(flowkit.read_flow_logs(filtered, mac="000D3A000101", **WINDOW)) == 6


def test_an_empty_container_outside_the_layout_is_an_empty_read_without_warning(azurite, service):
    service.create_container("archive")
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/archive", credential=KEY, retry_backoff=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert flowkit.read_flow_logs(src).empty
