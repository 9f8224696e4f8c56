"""A storage account whose host name DNS does not know, or a local port nothing listens on, fails
at once, not after a minute of retries.

The resolver is replaced by a stand-in that answers as the system's does (``socket.gaierror``),
or by a spy that records each name looked up (one per connection attempt) and asks the system's
resolver for the local address only, so that no test sends a DNS query out; the SDK, its retry
policy and the HTTP stack are real.
"""

from __future__ import annotations

import socket
import time
import warnings

import pytest

from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_auth import UnreachableError
from flowkit.sources.azure_host import is_loopback, missing_host, refused_locally

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


#: Azurite's well-known development key (public, in Microsoft's documentation).
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lookups(monkeypatch):
    """Names looked up, one per connection attempt; ``HOST`` is answered as 127.0.0.1."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        return real("127.0.0.1" if host in (HOST, "127.0.0.1") else "invalid.", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:10000/devstoreaccount1", True),
    ("http://127.8.9.10:10000/x", True),
    ("http://[::1]:10000/devstoreaccount1", True),
    ("http://localhost:10000/devstoreaccount1", True),
    ("http://azurite.localhost:10000/devstoreaccount1", True),
    ("http://192.0.2.10:10000/devstoreaccount1", False),
    ("http://[2001:db8::1]:10000/x", False),
    (f"https://{HOST}/c", False),
    ("http://localhostx:10000/x", False),
    ("http://[::1:10000/x", False),  # not a URL: not this machine
])
def test_is_loopback(url, expected):
    assert is_loopback(url) is expected


def test_refused_locally_is_found_behind_the_wrappers_only_for_this_machine_and_a_refusal():
    refused = ConnectionRefusedError(111, "Connection refused")
    outer = RuntimeError("MaxRetryError")
    outer.reason = OSError("NewConnectionError")
    outer.reason.__context__ = refused
    wrapped = ConnectionError(outer)
    assert refused_locally(wrapped, "http://127.0.0.1:10000/devstoreaccount1") is refused
    assert refused_locally(wrapped, "http://192.0.2.10:10000/devstoreaccount1") is None
    assert refused_locally(ConnectionError(TimeoutError("timed out")), "http://127.0.0.1:10000/x") is None
    assert refused_locally(ConnectionError(socket.gaierror(*NO_SUCH_NAME)), "http://localhost:1/x") is None


def test_a_local_port_nothing_listens_on_fails_after_one_attempt_and_says_so(lookups):
    port = _closed_port()
    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    source = AzureBlobSource.from_connection_string(conn)  # the default retries: five, with back-off
    with pytest.raises(UnreachableError) as info:
        source.list_blobs(log_type="vnet")
    assert lookups == ["127.0.0.1"]  # one attempt: no retry
    assert str(info.value) == (
        f"cannot reach the storage account http://127.0.0.1:{port}/devstoreaccount1 while listing (container "
        f"'insights-logs-flowlogflowevent'): nothing listens on 127.0.0.1:{port} on this machine (connection "
        f"refused). Start the storage emulator (Azurite) or the port forward, or check the port")
    assert DEV_KEY not in str(info.value) and DEV_KEY[:20] not in repr(info.value)


def test_a_remote_host_that_refuses_is_still_retried(lookups):
    port = _closed_port()
    source = AzureBlobSource.from_sas_url(f"https://{HOST}:{port}/insights-logs-flowlogflowevent?{SAS}",
                                          retry_total=2, retry_backoff=0.01)
    with pytest.raises(UnreachableError, match=r"after retries: .*[Cc]onnection refused") as info:
        source.list_blobs()
    assert lookups == [HOST] * 3  # the first attempt and two retries
    assert "sig=" not in str(info.value) and "c2VjcmV0" not in str(info.value)
