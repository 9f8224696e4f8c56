"""An address urlsplit refuses leaves no secret anywhere: not in the message, not in the
ValueError kept as ``__context__`` (its traceback's frames hold the address whole).

An account key pasted as a URL's password mostly holds "/": urlsplit cuts the password there
and quotes the piece before it as the "port" it could not read.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.layout import VNET_CONTAINER

from conftest import ACCOUNT, KEY
from secrets_check import assert_no_secret, exception_texts, reachable_texts

assert "/" in KEY  # the Azurite key holds "/": the case under test
KEY_HEAD = KEY.split("/", 1)[0]  # what urlsplit quotes as a port


def _sas() -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                  permission=ContainerSasPermissions(read=True, list=True),
                                  expiry=datetime.now(timezone.utc) + timedelta(hours=1))


def _error(action) -> SourceError:
    with pytest.raises(SourceError) as info:
        action()
    return info.value


def test_a_key_given_as_the_password_of_a_url_is_not_shown(azurite, estate, capsys):
    url = f"http://{ACCOUNT}:{KEY}@127.0.0.1:{azurite.port}/{ACCOUNT}/{VNET_CONTAINER}"
    error = _error(lambda: flowkit.read_flow_logs(url))
    assert str(error) == (f"not a valid blob storage address: 'http://REDACTED@127.0.0.1:{azurite.port}/"
                          f"{ACCOUNT}/{VNET_CONTAINER}' (Port could not be cast to integer value as 'REDACTED')")
    assert cli_main(["inspect", url, "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == f"flowkit inspect: error: {error}\n"
    assert_no_secret(reachable_texts(error) + out.err, KEY, KEY_HEAD)


@pytest.mark.parametrize("scheme", ["ftp", "file"])
def test_a_key_in_the_user_info_of_another_scheme_is_not_shown(azurite, scheme, capsys):
    url = f"{scheme}://{ACCOUNT}:{KEY}@127.0.0.1:{azurite.port}/{ACCOUNT}"
    assert cli_main(["inspect", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowkit inspect: error: not a local path or a blob storage address: "
                          f"'{scheme}://REDACTED@127.0.0.1:{azurite.port}/{ACCOUNT}' ")
    assert_no_secret(err, KEY, KEY_HEAD)


@pytest.mark.parametrize("netloc, reason", [
    pytest.param("127.0.0.1:99999", "Port out of range 0-65535", id="port-out-of-range"),
    pytest.param("[::1", "Invalid IPv6 URL", id="unclosed-ipv6"),
])
def test_the_sas_of_a_refused_url_is_not_reachable_from_the_error(azurite, netloc, reason):
    sas = _sas()
    sig = parse_qs(sas)["sig"][0]
    error = _error(lambda: flowkit.read_flow_logs(f"http://{netloc}/{ACCOUNT}/{VNET_CONTAINER}?{sas}"))
    assert str(error) == (f"not a valid blob storage address: 'http://{netloc}/{ACCOUNT}/{VNET_CONTAINER}"
                          f"?REDACTED' ({reason})")
    assert error.__context__ is not None and error.__context__.__traceback__ is None  # emptied, still there
    text = reachable_texts(error)
    assert_no_secret(text, sas, sig)
    assert "sig=" not in text


def test_the_sas_of_a_connection_string_with_a_refused_endpoint_is_not_reachable(azurite):
    sas = _sas()
    conn = f"BlobEndpoint=http://127.0.0.1:99999/{ACCOUNT};SharedAccessSignature={sas}"
    error = _error(lambda: AzureBlobSource.from_connection_string(conn))
    assert str(error) == f"the storage endpoint http://127.0.0.1:99999/{ACCOUNT} is not valid: Port out of range 0-65535"
    text = reachable_texts(error)
    assert_no_secret(text, sas, parse_qs(sas)["sig"][0], conn)
    assert "sig=" not in text
    assert_no_secret(exception_texts(error), sas)


def test_a_sas_url_copied_out_of_html_with_amp_entities_reads_as_the_plain_one(azurite, estate):
    sas = _sas()
    sig = parse_qs(sas)["sig"][0]
    url = f"{azurite.endpoint}/{VNET_CONTAINER}"
    plain = flowkit.read_flow_logs(f"{url}?{sas}")
    escaped = sas.replace("&", "&amp;")
    assert escaped != sas
    html = flowkit.read_flow_logs(f"{url}?{escaped}")
    assert len(plain) == len(html) == 150  # the VNet blobs of the estate: read, not refused
    assert html["blob"].astype(str).tolist() == plain["blob"].astype(str).tolist()
    source = AzureBlobSource(account_url=url, credential=escaped)  # the token alone, as a credential
    assert len(flowkit.read_flow_logs(source)) == 150
    assert_no_secret(repr(source), sas, escaped, sig)


def test_a_sas_whose_field_names_are_upper_case_is_still_known_as_a_sas():
    from flowkit.sources.azure_address import parse_address
    from flowkit.sources.azure_auth import credential_secrets, describe_credential

    address = parse_address("https://acct.blob.core.windows.net/c?SV=2024-08-04&SIG=abcdEFgh%2B")
    assert address.sas == "SV=2024-08-04&SIG=abcdEFgh%2B"
    assert credential_secrets("SV=2024-08-04&amp;SIG=abcdEFgh") == ["SV=2024-08-04&amp;SIG=abcdEFgh", "abcdEFgh"]
    assert describe_credential("sv=1&SIG=abc") == "SAS"
    assert parse_address("https://acct.blob.core.windows.net/c?comp=list").sas is None


@pytest.mark.parametrize("concurrency", [1, 8, 9, 32])
def test_the_timeouts_and_block_size_reach_the_transport_at_any_concurrency(concurrency):
    """Above 8 downloads at once the SDK is given a transport of flowkit's (a larger connection
    pool); it took the SDK's defaults instead of the source's settings: 300 s connect and read
    timeouts (a stalled download waited five minutes) and 4 KiB reads."""
    from azure.storage.blob import BlobServiceClient

    from flowkit.sources.azure_auth import client_options

    client = BlobServiceClient("https://acct.blob.core.windows.net", **client_options(2, 0.5, 3, 4, concurrency))
    config = client._pipeline._transport.connection_config
    assert (config.timeout, config.read_timeout, config.data_block_size) == (3, 4, 256 * 1024)


# -- a SAS refused for its own times: expired, or not valid yet ------------------------------
def _timed_sas(kind: str, start: datetime | None, expiry: datetime) -> str:
    from azure.storage.blob import (AccountSasPermissions, ContainerSasPermissions, ResourceTypes,
                                    generate_account_sas, generate_container_sas)

    if kind == "container":
        return generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY, start=start, expiry=expiry,
                                      permission=ContainerSasPermissions(read=True, list=True))
    return generate_account_sas(ACCOUNT, account_key=KEY, start=start, expiry=expiry,
                                resource_types=ResourceTypes(service=True, container=True, object=True),
                                permission=AccountSasPermissions(read=True, list=True))


def _timed_source(azurite, how: str, sas: str) -> AzureBlobSource:
    from azure.core.credentials import AzureSasCredential
    from azure.storage.blob import ContainerClient

    if how == "container-url":
        return AzureBlobSource.from_sas_url(f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}", retry_total=0)
    if how == "credential":
        return AzureBlobSource(f"{azurite.endpoint}/{VNET_CONTAINER}", credential=sas, retry_total=0)
    if how == "sas-credential":
        return AzureBlobSource(f"{azurite.endpoint}/{VNET_CONTAINER}", credential=AzureSasCredential(sas),
                               retry_total=0)
    if how == "connection-string":
        return AzureBlobSource.from_connection_string(
            f"BlobEndpoint={azurite.endpoint};SharedAccessSignature={sas}", container=VNET_CONTAINER, retry_total=0)
    return AzureBlobSource(container_client=ContainerClient.from_container_url(  # "container-client"
        f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"))


_HOW = [pytest.param("container", "container-url", id="container-sas-url"),
        pytest.param("account", "credential", id="account-sas-credential"),
        pytest.param("account", "sas-credential", id="AzureSasCredential"),
        pytest.param("account", "connection-string", id="connection-string"),
        pytest.param("container", "container-client", id="container-client")]


def _refusal(azurite, service, kind: str, how: str, start: datetime | None, expiry: datetime,
             caplog) -> tuple[SourceError, str]:
    service.create_container(VNET_CONTAINER)
    sas = _timed_sas(kind, start, expiry)
    with caplog.at_level("DEBUG"):
        error = _error(lambda: _timed_source(azurite, how, sas).list_blobs(log_type="vnet"))
    text = reachable_texts(error) + caplog.text
    assert_no_secret(text, sas, parse_qs(sas)["sig"][0])
    assert "sig=" not in str(error)
    return error, str(error)


@pytest.mark.parametrize("kind, how", _HOW)
def test_an_expired_sas_is_said_to_have_expired_and_when(azurite, service, kind, how, caplog):
    # Azurite, like Azure, answers 403 to an expired SAS; it was reported as "refused" only
    expiry = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    _, message = _refusal(azurite, service, kind, how, None, expiry, caplog)
    assert message == (f"authentication failed while listing (container '{VNET_CONTAINER}') at {azurite.endpoint}: "
                       f"the SAS expired at {expiry:%Y-%m-%dT%H:%M:%SZ} (AuthorizationFailure). Make a new SAS "
                       f"with a later expiry (se)")


@pytest.mark.parametrize("kind, how", _HOW[:2])
def test_a_sas_whose_start_is_to_come_is_said_to_be_not_valid_yet(azurite, service, kind, how, caplog):
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    _, message = _refusal(azurite, service, kind, how, start, start + timedelta(hours=1), caplog)
    assert message == (f"authentication failed while listing (container '{VNET_CONTAINER}') at {azurite.endpoint}: "
                       f"the SAS is not valid before {start:%Y-%m-%dT%H:%M:%SZ} by this machine's clock "
                       f"(AuthorizationFailure). Wait until then, or make a SAS with an earlier start (st)")


def test_a_sas_in_its_time_but_refused_for_another_reason_is_still_said_to_be_refused(azurite, service, caplog):
    service.create_container(VNET_CONTAINER)
    sas = _timed_sas("container", None, datetime.now(timezone.utc) + timedelta(hours=1))
    forged = sas.replace("sig=", "sig=AAAA")  # a signature that does not match
    error = _error(lambda: _timed_source(azurite, "container-url", forged).list_blobs(log_type="vnet"))
    assert str(error) == (f"authentication failed while listing (container '{VNET_CONTAINER}') at {azurite.endpoint}: "
                          f"the account key, SAS or token was refused or lacks permission (AuthorizationFailure). "
                          f"Check the credential and that it grants read and list on this container")


def test_an_expired_sas_is_said_to_have_expired_by_the_cli(azurite, service, capsys):
    service.create_container(VNET_CONTAINER)
    expiry = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)
    sas = _timed_sas("container", None, expiry)
    assert cli_main(["inspect", f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"]) == 2
    err = capsys.readouterr().err
    assert "the SAS expired at 2024-05-01T08:30:00Z (AuthorizationFailure)" in err
    assert_no_secret(err, sas, parse_qs(sas)["sig"][0])


@pytest.mark.parametrize("query, times", [
    pytest.param("sv=2024-08-04&se=2026-01-02&sig=x", (None, datetime(2026, 1, 2, tzinfo=timezone.utc)),
                 id="date-only"),
    pytest.param("st=2026-01-01T10%3A00Z&se=2026-01-01T11%3A00%3A00.5Z&sig=x",
                 (datetime(2026, 1, 1, 10, tzinfo=timezone.utc),
                  datetime(2026, 1, 1, 11, 0, 0, 500000, tzinfo=timezone.utc)), id="minutes-and-fraction"),
    pytest.param("?SE=2026-01-01T12:00:00%2B01:00&SIG=x", (None, datetime(2026, 1, 1, 11, tzinfo=timezone.utc)),
                 id="upper-case-and-offset"),
    pytest.param("sv=2024-08-04&se=soon&sig=x", (None, None), id="not-a-time"),
    pytest.param("se=2020-01-01&comp=list", (None, None), id="not-a-sas"),
    pytest.param("Xse=2026-01-02&sig=x", (None, None), id="a-field-that-only-ends-in-se"),
    pytest.param("", (None, None), id="empty"),
])
def test_sas_times_reads_the_start_and_expiry_only(query, times):
    from flowkit.sources.azure_auth import sas_times

    assert sas_times(query) == times


def test_a_sas_is_expired_from_its_expiry_on_and_valid_from_its_start_on(monkeypatch):
    # Azure: ``se`` is the time the SAS becomes invalid, ``st`` the time it becomes valid
    from flowkit.sources import azure_auth

    now = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now

    monkeypatch.setattr(azure_auth, "datetime", Clock)
    assert azure_auth._sas_refused((None, now), "AuthenticationFailed") == (
        "the SAS expired at 2026-01-01T10:00:00Z (AuthenticationFailed). Make a new SAS with a later expiry (se)")
    assert azure_auth._sas_refused((now, now + timedelta(hours=1)), "AuthenticationFailed") is None
