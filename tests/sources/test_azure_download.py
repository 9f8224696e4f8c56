"""AzureBlobSource.download against Azurite when the blob changes under it."""

from __future__ import annotations

import warnings

import pandas as pd
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
