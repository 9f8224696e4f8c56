"""AzureBlobSource.download against Azurite when the blob changes under it."""

from __future__ import annotations

import warnings

import pytest

from flowkit.errors import SourceError
from flowkit.sources.follow import Follower
from flowkit.sources.layout import VNET_CONTAINER

from test_azure_follow import GrowingBlob, _blob_name, _hour, _records, _src


def test_a_pinned_download_of_a_blob_that_changed_says_so(azurite, service):
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A0000E1"), _records(hour, "000D3A0000E1", 3))
    blob.add()
    src = _src(azurite)
    _, props = src.download(VNET_CONTAINER, blob.client.blob_name)
    blob.add()
    with pytest.raises(SourceError, match="changed while it was read$"):
        src.download(VNET_CONTAINER, blob.client.blob_name, etag=props.etag)


def test_a_blob_committed_to_while_the_follower_reads_it_is_read_on_the_next_attempt(azurite, service, tmp_path):
    hour, mac = _hour(), "000D3A0000E2"
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, mac), _records(hour, mac, 4))
    blob.add()
    src = _src(azurite)
    follower = Follower(src, log_type="vnet", checkpoint=tmp_path / "cp.json", start=hour)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = len(follower.poll())
        blob.add()
        real = src.download

        def racing(*args, **kwargs):  # Azure commits the next minute's block as the follower reads
            src.download = real
            blob.add()
            return real(*args, **kwargs)

        src.download = racing
        second = len(follower.poll())
        third = len(follower.poll())
    total = sum(len(g["flowTuples"]) for r in _records(hour, mac, 4)[:3]
                for acl in r["flowRecords"]["flows"] for g in acl["flowGroups"])
    assert first > 0 and first + second + third == total


def test_a_blob_deleted_between_listing_and_download_is_warned_about_and_the_read_goes_on(azurite, service):
    """A retention policy deletes the oldest hour while a long read is under way."""
    import flowkit
    from flowkit.errors import FlowkitDataWarning

    hour = _hour()
    kept = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A0000E3"), _records(hour, "000D3A0000E3", 2))
    gone = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A0000E4"), _records(hour, "000D3A0000E4", 2))
    kept.add(), gone.add()
    src = _src(azurite)
    listed = src.list_blobs

    def list_then_delete(**kwargs):
        listing = listed(**kwargs)
        assert len(listing.refs) == 2
        gone.client.delete_blob()
        return listing

    src.list_blobs = list_then_delete
    with pytest.warns(FlowkitDataWarning, match=r"macAddress=000D3A0000E4/PT1H\.json was deleted after it was listed "
                                                r"\(a retention policy\?\); read without it$"):
        flows, report = flowkit.read_flow_logs(src, with_report=True)
    tuples = sum(len(g["flowTuples"]) for r in _records(hour, "000D3A0000E3", 2)[:1]
                 for acl in r["flowRecords"]["flows"] for g in acl["flowGroups"])
    assert len(flows) == tuples > 0 and set(flows["mac"].astype(str)) == {"000D3A0000E3"}
    assert report.files == 2 and report.consistent


def test_a_missing_container_while_reading_is_still_an_error(azurite, service):
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A0000E5"), _records(hour, "000D3A0000E5", 2))
    blob.add()
    src = _src(azurite)
    refs = src.list_blobs().refs
    service.delete_container(VNET_CONTAINER)
    with pytest.raises(SourceError, match="^container .insights-logs-flowlogflowevent. does not exist in the storage account"):
        list(src.iter_bytes(refs))
