"""A storage account whose host name DNS does not know fails at once, not after a minute of retries.

The resolver is replaced by a stand-in that answers as the system's does (``socket.gaierror``),
so that no test sends a DNS query out; the SDK, its retry policy and the HTTP stack are real.
"""

from __future__ import annotations

import socket
import time
import warnings

import pytest

from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_auth import UnreachableError
from flowkit.sources.azure_host import missing_host

HOST = "contosoflowlgs.blob.core.windows.net"
SAS = "sv=2024-08-04&ss=b&srt=co&sp=rl&se=2026-12-01T00:00:00Z&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
NO_SUCH_NAME = (socket.EAI_NONAME, "Name or service not known")
NO_ANSWER = (socket.EAI_AGAIN, "Temporary failure in name resolution")


@pytest.fixture
def resolver(monkeypatch):
    """Every name looked up is recorded and answered with ``answer[0]`` (a gaierror's errno, text)."""
    asked: list[str] = []
    answer = [NO_SUCH_NAME]

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(*answer[0])

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked, answer


def _source(**kwargs) -> AzureBlobSource:
    return AzureBlobSource.from_sas_url(f"https://{HOST}/insights-logs-flowlogflowevent?{SAS}", **kwargs)


def test_missing_host_is_found_behind_the_wrappers_and_only_for_no_such_name():
    inner = socket.gaierror(*NO_SUCH_NAME)
    outer = RuntimeError("MaxRetryError")
    outer.reason = OSError("NameResolutionError")
    outer.reason.__cause__ = inner
    wrapped = ConnectionError(outer)
    assert missing_host(wrapped) is inner
    assert missing_host(ConnectionError(socket.gaierror(*NO_ANSWER))) is None
    assert missing_host(ConnectionRefusedError(111, "Connection refused")) is None


def test_listing_a_mistyped_account_fails_after_one_attempt_without_its_sas(resolver):
    asked, _ = resolver
    began = time.monotonic()
    with pytest.raises(UnreachableError) as info:
        _source().list_blobs()
    assert time.monotonic() - began < 30  # five retries with back-off took over a minute
    assert asked == [HOST]  # one attempt: no retry
    assert str(info.value) == (
        f"cannot reach the storage account https://{HOST} while listing (container "
        f"'insights-logs-flowlogflowevent'): its host name {HOST} does not exist in DNS (Name or service not "
        f"known). Check the account name")
    assert "sig=" not in str(info.value) and "c2VjcmV0" not in str(info.value)


def test_a_resolver_that_does_not_answer_is_still_retried(resolver):
    asked, answer = resolver
    answer[0] = NO_ANSWER
    with pytest.raises(UnreachableError, match="after retries: .*Temporary failure in name resolution"):
        _source(retry_total=2, retry_backoff=0.01).list_blobs()
    assert asked == [HOST] * 3  # the first attempt and two retries


def test_with_a_cache_a_mistyped_or_offline_account_lists_the_cache_instead(resolver, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listing = _source(cache_dir=tmp_path).list_blobs()
    assert listing.refs == ()
    assert [str(w.message) for w in caught] == [
        f"flowkit: cannot reach the storage account https://{HOST} while listing (container "
        f"'insights-logs-flowlogflowevent'): its host name {HOST} does not exist in DNS (Name or service not "
        f"known). Check the account name; listing the local cache instead"]
