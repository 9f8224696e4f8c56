"""Addresses, keys and credentials that cannot work give one clear line (exit 2), never a
traceback, never the secret, and never a page of azure-identity warnings."""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_auth import Secrets, storage_errors
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER

from conftest import ACCOUNT, KEY, REPO, free_port
from secrets_check import assert_no_secret, exception_texts

MALFORMED_KEY = "not-a-base64-key!"
BOTH = f"{NSG_CONTAINER}|{VNET_CONTAINER}"


def _conn(endpoint: str, key: str = KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={endpoint};"


# -- 3. addresses and clients the SDK refuses: flowkit errors, not tracebacks ------------
def test_http_address_without_sas_or_key_is_a_clear_error(capsys):
    endpoint = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"
    assert cli_main(["inspect", f"{endpoint}/{VNET_CONTAINER}"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (f"flowkit inspect: error: cannot read {endpoint} without a SAS or key: Azure sign-in "
                       f"(DefaultAzureCredential) works over https only. Add a SAS to the URL (?sv=…&sig=…), "
                       f"pass an account key, or use a connection string\n")


def test_a_token_credential_over_http_is_a_clear_error():
    class TokenCredential:
        def get_token(self, *scopes, **kwargs):  # pragma: no cover - never called
            raise AssertionError

    endpoint = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"
    with pytest.raises(SourceError) as info:
        AzureBlobSource(account_url=endpoint, credential=TokenCredential())
    assert str(info.value) == (f"invalid storage address or credential while connecting (the account) at "
                               f"{endpoint}: Token credential is only supported with HTTPS.")


def test_a_connection_string_with_a_port_out_of_range_is_a_clear_error(capsys, monkeypatch):
    conn = _conn(f"http://127.0.0.1:99999/{ACCOUNT}")
    with pytest.raises(SourceError) as info:
        AzureBlobSource.from_connection_string(conn)
    message = f"the storage endpoint http://127.0.0.1:99999/{ACCOUNT} is not valid: Port out of range 0-65535"
    assert str(info.value) == message
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    assert cli_main(["inspect", f"azure://{ACCOUNT}/{VNET_CONTAINER}"]) == 2
    out = capsys.readouterr()
    assert out.err == f"flowkit inspect: error: {message}\n"
    assert_no_secret(exception_texts(info.value) + out.out + out.err, KEY, conn)


def test_a_url_with_a_port_out_of_range_is_a_clear_error_without_its_sas(capsys):
    assert cli_main(["inspect", f"http://127.0.0.1:99999/{ACCOUNT}/c?sv=1&sig=TOPSECRET"]) == 2
    out = capsys.readouterr()
    assert out.err == (f"flowkit inspect: error: not a valid blob storage address: "
                       f"'http://127.0.0.1:99999/{ACCOUNT}/c?REDACTED' (Port out of range 0-65535)\n")


def test_value_errors_of_the_sdk_become_source_errors_without_secrets():
    with pytest.raises(SourceError) as info:
        with storage_errors(Secrets([KEY]), "listing", "c", account_url="http://127.0.0.1:1/acct?sig=x"):
            raise ValueError(f"cannot use AccountKey={KEY[:10]} or {KEY}")
    assert str(info.value) == ("invalid storage address or credential while listing (container 'c') at "
                               "http://127.0.0.1:1/acct: cannot use AccountKey=REDACTED or REDACTED")
    assert_no_secret(exception_texts(info.value), KEY, KEY[:10])
    with pytest.raises(TypeError):  # a bug of ours stays a bug
        with storage_errors(Secrets(), "listing", "c"):
            raise TypeError("not the SDK's")


# -- 4. a malformed account key ---------------------------------------------------------
def test_a_malformed_key_in_a_connection_string_is_named_as_such(capsys, monkeypatch):
    endpoint = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"  # the key fails before any request is sent
    conn = _conn(endpoint, MALFORMED_KEY)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    assert cli_main(["inspect", f"azure://{ACCOUNT}/{VNET_CONTAINER}"]) == 2
    out = capsys.readouterr()
    assert out.err == (f"flowkit inspect: error: the account key is malformed while listing (container "
                       f"'{VNET_CONTAINER}') at {endpoint}: it is not valid base64; the key is not shown. "
                       f"Copy it again from the storage account's access keys or connection string\n")
    assert "az login" not in out.err
    assert_no_secret(out.out + out.err, MALFORMED_KEY, conn)


def test_a_malformed_key_passed_as_credential_is_named_as_such(azurite, service):
    src = AzureBlobSource(account_url=azurite.endpoint, credential=MALFORMED_KEY, retry_total=1)
    with pytest.raises(SourceError, match=r"^the account key is malformed while listing") as info:
        flowkit.read_flow_logs(src, log_type="vnet")
    assert_no_secret(exception_texts(info.value) + repr(src), MALFORMED_KEY)


# -- 5. no credential at all: one line, fast, no azure-identity warnings on stderr ------
class NoManagedIdentity:
    """A stand-in for the instance metadata service (IMDS) on 127.0.0.1 that says what IMDS says
    on a machine with no managed identity (HTTP 400, "Identity not found"). The credential chain
    asks it instead of 169.254.169.254 (``AZURE_POD_IDENTITY_AUTHORITY_HOST``), which on an Azure
    VM with an identity would hand out a real token, and a test must not leave this machine."""

    def __init__(self) -> None:
        self.asked = 0
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.asked += 1
                body = json.dumps({"error": "invalid_request", "error_description": "Identity not found"}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def no_managed_identity():
    stand_in = NoManagedIdentity()
    try:
        yield stand_in
    finally:
        stand_in.close()


def _no_azure_env(home: Path, imds: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "MSI_", "IDENTITY_", "IMDS_"))}
    env["HOME"] = str(home)  # no az CLI or shared token cache of the machine
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = imds  # the managed identity is asked here, not at 169.254.169.254
    return env


def test_no_credential_prints_one_line_not_the_identity_warnings(tmp_path, no_managed_identity):
    done = subprocess.run([sys.executable, "-m", "flowkit", "inspect", "azure://someacct/" + VNET_CONTAINER],
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          env=_no_azure_env(tmp_path, no_managed_identity.url))
    assert no_managed_identity.asked == 1
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"flowkit inspect: error: no Azure credential available while listing (container "
                           f"'{VNET_CONTAINER}') at https://someacct.blob.core.windows.net: "
                           f"ClientAuthenticationError. Sign in (az login), set the AZURE_* environment "
                           f"variables, or pass a key, SAS or connection string\n")


def test_no_credential_tries_the_chain_once_and_configured_logging_still_sees_it(tmp_path, monkeypatch, caplog,
                                                                                 no_managed_identity):
    for name in [k for k in os.environ if k.startswith(("AZURE_", "MSI_", "IDENTITY_", "IMDS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", no_managed_identity.url)
    caplog.set_level(logging.WARNING)  # a program that set up logging (a handler on the root logger)
    src = AzureBlobSource.from_url(f"azure://someacct/{VNET_CONTAINER}")
    with pytest.raises(SourceError, match="^no Azure credential available while listing"):
        src.list_blobs(log_type="vnet")
    chain_failures = [r for r in caplog.records if r.name.startswith("azure.identity")
                      and "failed to retrieve a token" in r.getMessage()]
    assert len(chain_failures) == 1  # not once more per storage retry
    assert no_managed_identity.asked == 1
    assert logging.getLogger("azure.identity").propagate


# -- 6. the repr names the kind of credential, never the credential --------------------
@pytest.mark.parametrize("credential, kind", [
    pytest.param(KEY, "account key or SAS", id="key-string"),
    pytest.param({"account_name": ACCOUNT, "account_key": KEY}, "account key", id="key-dict"),
])
def test_repr_shows_the_kind_of_credential(credential, kind):
    src = AzureBlobSource(account_url="https://acct.blob.core.windows.net", credential=credential)
    assert repr(src) == (f"AzureBlobSource('https://acct.blob.core.windows.net', container='{BOTH}', "
                         f"credential='{kind}')")
    assert_no_secret(repr(src) + str(src) + src.describe(), KEY)


def test_repr_names_a_token_credential_by_its_type_and_a_sas_url_as_sas():
    class MyTokenCredential:
        def get_token(self, *scopes, **kwargs):  # pragma: no cover - never called
            raise AssertionError

    src = AzureBlobSource(account_url="https://acct.blob.core.windows.net/c", credential=MyTokenCredential())
    assert repr(src) == ("AzureBlobSource('https://acct.blob.core.windows.net', container='c', "
                         "credential='MyTokenCredential')")
    sas = AzureBlobSource(account_url="https://acct.blob.core.windows.net/c/pre?sv=1&sig=TOPSECRET")
    assert repr(sas) == ("AzureBlobSource('https://acct.blob.core.windows.net', container='c', prefix='pre', "
                         "credential='SAS')")
