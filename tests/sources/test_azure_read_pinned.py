"""Reading Azure blobs pinned where mutation testing found it unchecked."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest

from flowkit.errors import FlowkitDataWarning, SourceError
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_read import BlobGoneError
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import VNET_CONTAINER

from conftest import ACCOUNT, KEY
from secrets_check import assert_no_secret, reachable_texts
from test_azure_listing import Requests

WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")


def _source(azurite, **kw) -> AzureBlobSource:
    return AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1,
                                                  retry_total=2, **kw)


def test_a_plain_blob_ref_is_read_by_its_container_and_blob_name(azurite, estate):
    src = _source(azurite)
    listed = src.list_blobs(log_type="vnet", **WINDOW).refs[0]
    plain = [BlobRef(name=listed.name), BlobRef(name=listed.name, container=VNET_CONTAINER)]
    got = dict(src.iter_bytes(plain))
    assert got == {0: (estate / listed.name).read_bytes(), 1: (estate / listed.name).read_bytes()}
    assert {src.identity(r) for r in plain} == {src.identity(listed)} == {
        ("azure", src.account_url.casefold(), VNET_CONTAINER, listed.blob)}


def test_an_empty_blob_is_read_as_empty_without_a_deletion_warning(azurite, service):
    cc = service.create_container("archive")
    cc.upload_blob("2024/empty.json", b"")
    cc.upload_blob("2024/flows.json", b'{"records":[]}')
    src = _source(azurite, container="archive")
    refs = src.list_blobs().refs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dict(src.iter_bytes(refs))
    assert [r.blob for r in refs] == ["2024/empty.json", "2024/flows.json"]
    assert got == {0: b"", 1: b'{"records":[]}'}


def test_a_blob_that_is_not_there_is_gone_and_no_secret_is_reachable_from_the_error(azurite, service):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    service.create_container(VNET_CONTAINER)
    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    sig = [p.split("=", 1)[1] for p in sas.split("&") if p.startswith("sig=")][0]
    src = AzureBlobSource(account_url=f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}", retry_total=0)
    with pytest.raises(BlobGoneError) as info:
        src.download(VNET_CONTAINER, "gone/PT1H.json")
    assert str(info.value) == f"{VNET_CONTAINER}/gone/PT1H.json was not found while reading it"
    assert info.value.__context__ is not None  # the SDK's exception, emptied
    text = reachable_texts(info.value)
    assert_no_secret(text, KEY, sig, unquote(sig), sas)
    assert "sig=" not in text and "SharedKey " not in text


def test_a_pinned_download_of_a_changed_blob_is_refused_at_the_first_request(azurite, service):
    cc = service.create_container(VNET_CONTAINER)
    old = cc.upload_blob("a/PT1H.json", b'{"records":[]}').get_blob_properties().etag
    cc.upload_blob("a/PT1H.json", b'{"records":[ ]}', overwrite=True)
    seen = Requests()
    src = _source(azurite, client_kwargs={"raw_request_hook": seen})
    with pytest.raises(SourceError) as info:
        src.download(VNET_CONTAINER, "a/PT1H.json", etag=old)
    assert str(info.value) == f"{VNET_CONTAINER}/a/PT1H.json changed while it was read"
    assert seen.reads() == [f"{VNET_CONTAINER}/a/PT1H.json"]  # no retry: that version is gone for good


def test_a_cache_folder_that_cannot_be_written_is_warned_about_once_by_a_one_at_a_time_read(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "devstoreaccount1").write_text("a file where the account folder should be")
    src = _source(azurite, cache_dir=cache, max_concurrency=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = dict(src.iter_bytes(src.list_blobs(log_type="vnet", **WINDOW).refs))
    assert len(got) == 15 and all(got.values())
    assert [str(w.message) for w in caught] == [
        f"flowkit: cannot write to the cache folder {str(cache)!r} (Not a directory); blobs are read "
        f"but no longer cached by this source"]


class Recommit:
    """Commit a new version of the blob (one byte longer) when its download's first chunk is answered."""

    def __init__(self, blob_client, times: int) -> None:
        self.blob, self.times, self.done = blob_client, times, 0

    def body(self, version: int) -> bytes:
        return b'{"records":[' + b" " * (3000 + version) + b"]}"

    def __call__(self, response) -> None:
        req = response.http_request
        if (req.method == "GET" and "PT1H.json" in req.url and self.done < self.times
                and (req.headers.get("x-ms-range") or "").startswith("bytes=0-")):
            self.done += 1
            self.blob.upload_blob(self.body(self.done), overwrite=True)


def _chunked(azurite, service, times: int) -> tuple[AzureBlobSource, Recommit]:
    cc = service.create_container("archive")
    recommit = Recommit(cc.get_blob_client("x/PT1H.json"), times)
    cc.upload_blob("x/PT1H.json", recommit.body(0))
    src = _source(azurite, client_kwargs={"raw_response_hook": recommit, "max_single_get_size": 1024,
                                          "max_chunk_get_size": 1024})
    return src, recommit


def test_a_blob_committed_to_during_a_chunked_download_is_downloaded_again_whole(azurite, service):
    src, recommit = _chunked(azurite, service, times=1)
    data, props = src.download("archive", "x/PT1H.json")
    assert data == recommit.body(1) and props.size == len(data) == 3015
    assert recommit.done == 1


def test_a_blob_committed_to_at_every_attempt_fails_clearly_after_four_attempts(azurite, service):
    src, recommit = _chunked(azurite, service, times=10)
    with pytest.raises(SourceError) as info:
        src.download("archive", "x/PT1H.json")
    assert str(info.value) == "archive/x/PT1H.json changed while it was read"
    assert recommit.done == 4


def test_a_blob_deleted_then_created_again_empty_is_read_as_empty_not_as_deleted(azurite, service):
    cc = service.create_container("archive")
    cc.upload_blob("2024/flows.json", b'{"records":[]}')
    src = _source(azurite, container="archive")
    refs = src.list_blobs().refs
    cc.delete_blob("2024/flows.json")
    with pytest.warns(FlowkitDataWarning, match="archive/2024/flows.json was deleted after it was listed"):
        assert dict(src.iter_bytes(refs)) == {0: b""}
    cc.upload_blob("2024/flows.json", b"")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dict(src.iter_bytes(refs)) == {0: b""}


def test_a_window_no_listed_hour_holds_warns_rather_than_an_empty_frame_in_silence(azurite, estate):
    # `start="yesterday"` on last year's logs: an Azure read lists only the window's hours, finds
    # no blob, and skipped none by its path; it returned an empty frame with no word (a local read
    # of the same blobs warns), and `flowkit diagnose` answered "the flows hold no tuple at all"
    import flowkit

    with pytest.warns(FlowkitDataWarning) as caught:
        flows = flowkit.read_flow_logs(_source(azurite), start="2030-01-01", end="2030-01-02")
    assert len(flows) == 0
    assert [str(w.message) for w in caught] == [
        "flowkit: no rows from 2030-01-01 00:00:00Z until 2030-01-02 00:00:00Z: no file or blob was found "
        "for it (blob storage is listed only under the hours, MACs and log type asked for)"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a window that keeps rows warns of nothing
        assert len(flowkit.read_flow_logs(_source(azurite), **WINDOW)) > 0
