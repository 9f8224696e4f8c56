"""AzureBlobSource is built right from every way a user names it (URL, azure:// address, SAS URL,
connection string, client), shows itself without secrets, and lists the containers its log
type and filters allow (flowkit.sources.azure). No test here talks to a storage service, but the
last, which follows through a SAS connection string against Azurite."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import flowkit.sources.azure as azure_module
from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.sources.azure import AzureBlobRef, AzureBlobSource
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER

from conftest import ACCOUNT, KEY, read_list_sas
from secrets_check import assert_no_secret
from test_azure_follow import GrowingBlob, _blob_name, _hour, _records

SECRET = "TOPSECRET"
SAS = f"sv=2024-08-04&sp=rl&sig={SECRET}"
ACCT = "https://acct.blob.core.windows.net"
LOCAL = f"http://127.0.0.1:10000/{ACCOUNT}"  # nothing is asked of it


def _conn(account: str = ACCOUNT) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={KEY};BlobEndpoint={LOCAL};"


def test_the_public_names():
    assert azure_module.__all__ == ["AzureBlobSource", "AzureBlobRef", "plain_etag"]


def test_without_an_address_a_client_or_a_connection_string_it_says_what_it_needs():
    for given in (None, ""):
        with pytest.raises(SourceError) as info:
            AzureBlobSource(account_url=given, credential=KEY)
        assert str(info.value) == ("AzureBlobSource needs an account_url, a connection string "
                                   "(from_connection_string) or a container_client")


@pytest.mark.parametrize("kwargs, container, prefix", [
    pytest.param({}, "c", "a/b", id="from-the-address"),
    pytest.param({"container": "other"}, "other", "a/b", id="container-given"),
    pytest.param({"prefix": "p/"}, "c", "p/", id="prefix-given"),
])
def test_container_and_prefix_come_from_the_address_unless_given(kwargs, container, prefix):
    src = AzureBlobSource(account_url=f"{ACCT}/c/a/b", credential=KEY, **kwargs)
    assert (src.account, src.account_url, src.container, src.prefix) == ("acct", ACCT, container, prefix)
    assert src.describe() == f"azure: {ACCT}/{container}/{prefix}"


@pytest.mark.parametrize("given, used", [(0, 1), (-3, 1), (1, 1), ("3", 3), (8.9, 8)])
def test_max_concurrency_is_at_least_one(given, used):
    assert AzureBlobSource(account_url=ACCT, credential=KEY, max_concurrency=given).max_concurrency == used


def test_a_sas_url_is_read_with_its_sas_and_shown_without_it():
    src = AzureBlobSource.from_sas_url(f"{ACCT}/c?{SAS}")
    assert (src.credential_kind, src.container, src.prefix) == ("SAS", "c", "")
    assert repr(src) == f"AzureBlobSource('{ACCT}', container='c', credential='SAS')"
    assert src.describe() == f"azure: {ACCT}/c"
    assert_no_secret(repr(src) + src.describe(), SECRET)
    assert src._client("c").url == f"{ACCT}/c?{SAS}"  # the SDK sends it


def test_a_sas_url_without_its_sas_is_refused():
    with pytest.raises(SourceError) as info:
        AzureBlobSource.from_sas_url(f"{ACCT}/c")
    assert str(info.value) == "the URL carries no SAS token (expected ?sv=…&sig=…)"


def test_a_sas_given_as_credential_copied_out_of_html_is_unescaped():
    src = AzureBlobSource(account_url=f"{ACCT}/c", credential=SAS.replace("&", "&amp;"))
    assert src._client("c").url.endswith(f"/c?{SAS}")
    assert_no_secret(repr(src) + src.describe(), SECRET)


@pytest.mark.parametrize("container, prefix, shown, described", [
    pytest.param(None, "", f"container='{NSG_CONTAINER}|{VNET_CONTAINER}'",
                 f"{{{NSG_CONTAINER},{VNET_CONTAINER}}}", id="both-containers"),
    pytest.param(VNET_CONTAINER, "", f"container='{VNET_CONTAINER}'", VNET_CONTAINER, id="one-container"),
    pytest.param(VNET_CONTAINER, "flowLogResourceID=/X", f"container='{VNET_CONTAINER}', prefix='flowLogResourceID=/X'",
                 f"{VNET_CONTAINER}/flowLogResourceID=/X", id="with-prefix"),
])
def test_repr_and_describe(container, prefix, shown, described):
    src = AzureBlobSource(account_url=ACCT, credential=KEY, container=container, prefix=prefix)
    assert repr(src) == f"AzureBlobSource('{ACCT}', {shown}, credential='account key or SAS')"
    assert src.describe() == f"azure: {ACCT}/{described}"


def test_a_connection_string_builds_the_source_of_its_account():
    src = AzureBlobSource.from_connection_string(_conn(), container=VNET_CONTAINER, prefix="p/")
    assert (src.account, src.account_url, src.container, src.prefix, src.credential_kind) == (
        ACCOUNT, LOCAL, VNET_CONTAINER, "p/", "connection string")
    assert repr(src) == (f"AzureBlobSource('{LOCAL}', container='{VNET_CONTAINER}', prefix='p/', "
                         f"credential='connection string')")
    assert_no_secret(repr(src) + src.describe(), KEY)


def test_a_container_client_is_used_as_it_is():
    from azure.storage.blob import ContainerClient

    client = ContainerClient.from_container_url(f"{LOCAL}/{VNET_CONTAINER}", credential=KEY)
    src = AzureBlobSource(container_client=client)
    assert (src.account, src.account_url, src.container) == (ACCOUNT, LOCAL, VNET_CONTAINER)
    assert src._client(VNET_CONTAINER) is client
    assert src.credential_kind == "account key"
    assert KEY not in src._secrets.clean(f"refused: {KEY}")  # the client's key is kept out of messages
    assert src.describe() == f"azure: {LOCAL}/{VNET_CONTAINER}"


@pytest.mark.parametrize("env_account, kind", [
    pytest.param(ACCOUNT, "connection string", id="same-account"),
    pytest.param(ACCOUNT.upper(), "connection string", id="same-account-other-case"),
    pytest.param(ACCOUNT + "2", "DefaultAzureCredential", id="other-account"),
    pytest.param(None, "DefaultAzureCredential", id="no-connection-string"),
])
def test_an_azure_address_uses_the_connection_string_of_its_account_only(monkeypatch, env_account, kind):
    if env_account is None:
        monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    else:
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _conn(env_account))
    src = AzureBlobSource.from_url(f"azure://{ACCOUNT}/{VNET_CONTAINER}/flowLogResourceID=/X")
    assert (src.credential_kind, src.container, src.prefix) == (kind, VNET_CONTAINER, "flowLogResourceID=/X")
    expected_url = LOCAL if kind == "connection string" else f"https://{ACCOUNT}.blob.core.windows.net"
    assert src.account_url == expected_url


def test_an_azure_address_of_an_account_only_reads_both_containers(monkeypatch):
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    src = AzureBlobSource.from_url("azure://acct")
    assert (src.account_url, src.container, src.prefix) == (ACCT, None, "")
    assert AzureBlobSource.from_url("azure://acct", prefix="p/").prefix == "p/"


def test_an_http_url_is_read_as_it_is():
    src = AzureBlobSource.from_url(f"{ACCT}/c/pre?{SAS}")
    assert (src.account_url, src.container, src.prefix, src.credential_kind) == (ACCT, "c", "pre", "SAS")


def test_clients_are_made_once_per_container():
    src = AzureBlobSource(account_url=ACCT, credential=KEY)
    first = src._client(VNET_CONTAINER)
    assert src._client(VNET_CONTAINER) is first
    assert src._client(NSG_CONTAINER) is not first


@pytest.mark.parametrize("kwargs, log_type, targets", [
    pytest.param({}, None, [(NSG_CONTAINER, ("nsg",)), (VNET_CONTAINER, ("vnet",))], id="both"),
    pytest.param({}, "vnet", [(VNET_CONTAINER, ("vnet",))], id="vnet"),
    pytest.param({}, "nsg", [(NSG_CONTAINER, ("nsg",))], id="nsg"),
    pytest.param({"nsg": "NSG-A"}, None, [(NSG_CONTAINER, ("nsg",))], id="an-nsg-filter-names-nsg-logs"),
    pytest.param({"flow_log": "FL"}, None, [(VNET_CONTAINER, ("vnet",))], id="a-flow-log-filter-names-vnet-logs"),
    pytest.param({"network_watcher": "NW"}, None, [(VNET_CONTAINER, ("vnet",))], id="a-watcher-filter"),
    pytest.param({"nsg": "NSG-A"}, "vnet", [], id="nsg-filter-and-vnet-type"),
    pytest.param({"subscription": "S", "resource_group": "RG"}, None,
                 [(NSG_CONTAINER, ("nsg",)), (VNET_CONTAINER, ("vnet",))], id="other-filters-keep-both"),
    pytest.param({"container": VNET_CONTAINER}, None, [(VNET_CONTAINER, ("vnet",))], id="vnet-container"),
    pytest.param({"container": NSG_CONTAINER}, None, [(NSG_CONTAINER, ("nsg",))], id="nsg-container"),
    pytest.param({"container": VNET_CONTAINER}, "nsg", [(VNET_CONTAINER, ())], id="vnet-container-nsg-type"),
    pytest.param({"container": "copies"}, None, [("copies", ("nsg", "vnet"))], id="other-container"),
    pytest.param({"container": "copies", "nsg": "N"}, None, [("copies", ("nsg",))], id="other-container-nsg"),
])
def test_the_containers_listed_for_a_log_type_and_filters(kwargs, log_type, targets):
    src = AzureBlobSource(account_url=ACCT, credential=KEY, **kwargs)
    assert src._targets(log_type) == targets


def test_a_blob_is_the_same_blob_whatever_the_case_of_the_account_address():
    upper = AzureBlobSource(account_url="https://ACCT.blob.core.windows.net", credential=KEY)
    ref = AzureBlobRef(name="c/a/PT1H.json", container="c", blob="a/PT1H.json", etag="0x1")
    again = AzureBlobRef(name="c/a/PT1H.json", container="c", blob="a/PT1H.json", etag="0x2", size=9)
    assert upper.identity(ref) == ("azure", ACCT, "c", "a/PT1H.json") == upper.identity(again)


def _transport(service):
    return service._client._client._pipeline._transport


def test_default_options_are_the_documented_ones():
    src = AzureBlobSource(account_url=ACCT, credential=KEY)
    assert src.max_concurrency == 8
    opts = src._options
    assert (opts["retry_policy"].total_retries, opts["retry_policy"].initial_backoff) == (5, 2.0)
    assert (opts["connection_timeout"], opts["read_timeout"], "transport" in opts) == (20, 60, False)


def test_a_connection_string_source_gets_the_options_it_is_given():
    default = AzureBlobSource.from_connection_string(_conn())._service
    assert (default._config.retry_policy.total_retries, default._config.retry_policy.initial_backoff) == (5, 2.0)
    assert (_transport(default).connection_config.timeout, _transport(default).connection_config.read_timeout) == \
        (20, 60)
    given = AzureBlobSource.from_connection_string(_conn(), retry_total=1, retry_backoff=0.5, connection_timeout=3,
                                                   read_timeout=4, max_concurrency=2,
                                                   client_kwargs={"user_agent": "flowkit-test"})._service
    assert (given._config.retry_policy.total_retries, given._config.retry_policy.initial_backoff) == (1, 0.5)
    assert (_transport(given).connection_config.timeout, _transport(given).connection_config.read_timeout) == (3, 4)
    assert "flowkit-test" in given._config.user_agent_policy.user_agent
    many = AzureBlobSource.from_connection_string(_conn(), max_concurrency=9)._service
    assert _transport(many).session.get_adapter("http://").poolmanager.connection_pool_kw["maxsize"] == 18


def test_a_text_that_is_no_connection_string_is_refused_without_being_shown():
    with pytest.raises(SourceError) as info:
        AzureBlobSource.from_connection_string(f"AccountKey={KEY}")
    assert str(info.value) == "the connection string is not valid (its text is not shown)"


def test_an_azure_address_matches_a_connection_string_that_ends_with_its_account(monkeypatch):
    conn = f"DefaultEndpointsProtocol=http;AccountKey={KEY};BlobEndpoint={LOCAL};AccountName={ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    assert AzureBlobSource.from_url(f"azure://{ACCOUNT}/{VNET_CONTAINER}").credential_kind == "connection string"


@pytest.mark.parametrize("conn", [None, f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY}"])
def test_an_azure_address_with_a_sas_reads_with_that_sas(monkeypatch, conn):
    """azure://ACCOUNT/CONTAINER?<SAS> dropped the SAS in silence and tried other credentials; the SAS
    given is the credential now, before a connection string of the same account in the environment."""
    if conn is None:
        monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    else:
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    src = AzureBlobSource.from_url("azure://acct/insights-logs-flowlogflowevent/pre?sv=2024-08-04&sig=TOPSECRET")
    assert (src.credential_kind, src.account_url, src.container, src.prefix) == \
        ("SAS", "https://acct.blob.core.windows.net", "insights-logs-flowlogflowevent", "pre")
    assert src._service.url.endswith("?sv=2024-08-04&sig=TOPSECRET")  # the client sends it
    assert_no_secret(repr(src) + src.describe(), "TOPSECRET", KEY)


@pytest.mark.parametrize("conn, used", [
    pytest.param(f"BlobEndpoint={LOCAL};SharedAccessSignature={SAS}", True, id="sas-emulator-endpoint"),
    pytest.param(f"BlobEndpoint=https://{ACCOUNT}.blob.core.windows.net/;QueueEndpoint=https://{ACCOUNT}.queue."
                 f"core.windows.net/;SharedAccessSignature={SAS}", True, id="sas-as-the-portal-gives-it"),
    pytest.param(f"BlobEndpoint=http://127.0.0.1:10000/{ACCOUNT}2;SharedAccessSignature={SAS}", False,
                 id="sas-of-another-account"),
    pytest.param(f"BlobEndpoint=http://[::1/{ACCOUNT};SharedAccessSignature={SAS}", False, id="malformed-endpoint"),
])
def test_a_sas_connection_string_of_the_account_is_used(monkeypatch, conn, used):
    """A SAS connection string has no AccountName: it was passed over for DefaultAzureCredential,
    whose "no Azure credential available" left the user wondering why their string was not used."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    src = AzureBlobSource.from_url(f"azure://{ACCOUNT}/{VNET_CONTAINER}")
    assert src.credential_kind == ("connection string" if used else "DefaultAzureCredential")
    assert_no_secret(repr(src) + src.describe(), SECRET)


def test_follow_with_a_sas_connection_string_of_the_account(azurite, service, tmp_path, capsys, monkeypatch):
    """A SAS connection string (no AccountName) was passed over for DefaultAzureCredential."""
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000113"), _records(hour, "000D3A000113", 2))
    blob.add()
    sas = read_list_sas(VNET_CONTAINER)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"BlobEndpoint={azurite.endpoint};SharedAccessSignature={sas}")
    assert cli_main(["follow", f"azure://{ACCOUNT}/{VNET_CONTAINER}", "--checkpoint", str(tmp_path / "c.json"),
                     "--once", "--json", "--start", (hour - pd.Timedelta(hours=1)).isoformat()]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["rows"] == 2
    assert "sig=" not in out.out + out.err and "sig=" not in (tmp_path / "c.json").read_text()
