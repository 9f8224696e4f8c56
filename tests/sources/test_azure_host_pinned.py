"""azure_host pinned: its public names, and how far behind an error the search for the cause goes (pure)."""

from __future__ import annotations

import socket

import pytest

from flowkit.sources import azure_host
from flowkit.sources.azure_host import missing_host


def test_public_names():
    assert azure_host.__all__ == ["missing_host", "is_loopback", "refused_locally", "retry_policy"]


def _chain(depth: int) -> tuple[BaseException, socket.gaierror]:
    """``depth`` wrappers, each the ``__cause__`` of the one before, then the resolver's "no such name"."""
    inner = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    err: BaseException = inner
    for k in range(depth):
        outer = RuntimeError(f"wrapper {k}")
        outer.__cause__ = err
        err = outer
    return err, inner


@pytest.mark.parametrize("depth, found", [(0, True), (50, True), (51, False)])
def test_the_cause_is_looked_for_among_the_first_51_errors_only(depth, found):
    outer, inner = _chain(depth)
    assert (missing_host(outer) is inner) is found
    assert (missing_host(outer) is None) is not found


@pytest.mark.parametrize("url, expected", [
    pytest.param("http://[::ffff:127.0.0.1]:10000/devstoreaccount1", True, id="ipv4-mapped-loopback"),
    pytest.param("http://[::ffff:127.8.9.10]:10000/x", True, id="ipv4-mapped-127/8"),
    pytest.param("http://localhost.:10000/devstoreaccount1", True, id="trailing-dot"),
    pytest.param("http://azurite.localhost.:10000/x", True, id="sub-localhost-trailing-dot"),
    pytest.param("http://LOCALHOST:10000/x", True, id="upper-case"),
    pytest.param("http://127.0.0.2:10000/x", True, id="127/8"),
    pytest.param("http://[::1%25lo]:10000/x", True, id="ipv6-zone"),
    pytest.param("http://[::ffff:192.0.2.10]:10000/x", False, id="ipv4-mapped-remote"),
    pytest.param("http://0.0.0.0:10000/x", False, id="unspecified-v4"),
    pytest.param("http://[::]:10000/x", False, id="unspecified-v6"),
    pytest.param("http://localhost..:10000/x", False, id="two-dots"),
    pytest.param("http://localhost.example.:10000/x", False, id="localhost-label-elsewhere"),
])
def test_is_loopback_for_every_spelling_of_this_machine(url, expected):
    assert azure_host.is_loopback(url) is expected


#: Azurite's well-known development key (public, in Microsoft's documentation).
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def test_a_refused_ipv4_mapped_loopback_port_is_not_retried_and_says_nothing_listens():
    from flowkit.sources.azure import AzureBlobSource
    from flowkit.sources.azure_auth import UnreachableError

    with socket.socket() as s:  # a port of 127.0.0.1 nothing listens on (bound, then closed)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://[::ffff:127.0.0.1]:{port}/devstoreaccount1"
    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
            f"BlobEndpoint={endpoint};")
    source = AzureBlobSource.from_connection_string(conn, retry_total=2, retry_backoff=0.01)
    with pytest.raises(UnreachableError) as info:
        source.list_blobs(log_type="vnet")
    assert str(info.value) == (
        f"cannot reach the storage account {endpoint} while listing (container "
        f"'insights-logs-flowlogflowevent'): nothing listens on [::ffff:127.0.0.1]:{port} on this machine "
        f"(connection refused). Start the storage emulator (Azurite) or the port forward, or check the port")
