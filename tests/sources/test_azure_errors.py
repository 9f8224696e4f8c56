"""Clear errors, no secret anywhere, and no silently partial read when Azurite goes away."""

from __future__ import annotations

import base64
import logging
import threading
import traceback

import pandas as pd
import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER

from conftest import ACCOUNT, KEY, upload_tree, write_estate

WRONG_KEY = base64.b64encode(b"this-is-not-the-key-of-devstoreaccount1-0123456789abcdef").decode()
WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")



def _sas(container: str | None = None) -> str:
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import (AccountSasPermissions, ContainerSasPermissions, ResourceTypes,
                                    generate_account_sas, generate_container_sas)

    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    if container:
        return generate_container_sas(ACCOUNT, container, account_key=KEY, expiry=expiry,
                                      permission=ContainerSasPermissions(read=True, list=True))
    return generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True),
                                AccountSasPermissions(read=True, list=True), expiry)


def _secret_texts(sas: str) -> list[str]:
    sig = [p.split("=", 1)[1] for p in sas.split("&") if p.startswith("sig=")][0]
    from urllib.parse import unquote

    return [KEY, KEY[:20], WRONG_KEY, WRONG_KEY[:20], sig, unquote(sig), sas]


def _sources(azurite) -> list[AzureBlobSource]:
    sas = _sas()
    opts = dict(retry_backoff=0.1, retry_total=1, progress=True)
    return [
        AzureBlobSource(account_url=azurite.endpoint, credential=KEY, **opts),
        AzureBlobSource(account_url=azurite.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY}, **opts),
        AzureBlobSource.from_connection_string(azurite.connection_string, **opts),
        AzureBlobSource.from_sas_url(f"{azurite.endpoint}/?{sas}", **opts),
        AzureBlobSource.from_sas_url(f"{azurite.endpoint}/{VNET_CONTAINER}?{_sas(VNET_CONTAINER)}", **opts),
        AzureBlobSource.from_connection_string(
            f"BlobEndpoint={azurite.endpoint};SharedAccessSignature={sas}", **opts),
    ], sas


def _assert_clean(text: str, secrets: list[str]) -> None:
    for s in secrets:
        assert s not in text, f"secret leaked: {s[:6]}…"
    assert "sig=" not in text and "AccountKey=" not in text


def test_no_secret_in_repr_describe_logs_progress_or_frames(azurite, estate, caplog, capsys):
    sources, sas = _sources(azurite)
    secrets = _secret_texts(sas) + [_sas(VNET_CONTAINER)]
    caplog.set_level(logging.DEBUG)
    texts = []
    for src in sources:
        texts += [repr(src), str(src), src.describe(), repr(vars(src))]
        flows, report = flowkit.read_flow_logs(src, log_type="vnet", with_report=True, progress=True, **WINDOW)
        assert len(flows) > 0
        texts += [flows["blob"].astype(str).str.cat(sep="\n"), repr(report.to_dict()), report._repr_html_()]
    out = capsys.readouterr()
    texts += [out.out, out.err, caplog.text]
    assert "flowkit: reading" in out.err  # the progress bar was shown (read_flow_logs owns the one bar)
    _assert_clean("\n".join(texts), secrets)


def test_wrong_key_is_a_clear_error_without_the_key(azurite, estate, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    src = AzureBlobSource(account_url=azurite.endpoint, credential=WRONG_KEY, retry_backoff=0.1, retry_total=1)
    with pytest.raises(flowkit.SourceError) as info:
        flowkit.read_flow_logs(src, log_type="vnet", **WINDOW)
    message = str(info.value)
    assert "authentication failed" in message and VNET_CONTAINER in message
    shown = "\n".join([message, repr(info.value), "".join(traceback.format_exception(info.value)),
                       caplog.text, capsys.readouterr().err, repr(src)])
    _assert_clean(shown, [WRONG_KEY, WRONG_KEY[:20]])


def test_wrong_key_in_connection_string_through_the_cli(azurite, estate, capsys, monkeypatch):
    conn = azurite.connection_string.replace(KEY, WRONG_KEY)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    status = cli_main(["follow", f"azure://{ACCOUNT}/{VNET_CONTAINER}", "--log-type", "vnet", "--once",
                       "--checkpoint", str(estate.parent / "cp.json")])
    out = capsys.readouterr()
    assert status == 2 and "authentication failed" in out.err
    _assert_clean(out.out + out.err, [WRONG_KEY, WRONG_KEY[:20], conn])


def test_wrong_container_names_container_and_prefix(azurite, estate):
    src = AzureBlobSource.from_connection_string(azurite.connection_string, container="no-such-container",
                                                 retry_backoff=0.1)
    with pytest.raises(flowkit.SourceError, match="container 'no-such-container'.*does not exist"):
        src.list_blobs(**WINDOW)


def test_missing_flow_log_container_for_the_log_type(azurite, service):
    src = AzureBlobSource.from_connection_string(azurite.connection_string, retry_backoff=0.1)
    with pytest.raises(flowkit.SourceError, match=f"container '{NSG_CONTAINER}'.*does not exist"):
        flowkit.read_flow_logs(src, log_type="nsg")
    with pytest.raises(flowkit.SourceError, match="does not exist"):
        flowkit.read_flow_logs(src)  # neither container exists


def test_no_such_account_fails_fast_and_clearly(azurite):
    src = AzureBlobSource.from_connection_string(
        azurite.connection_string.replace(str(azurite.port), "9"), retry_total=1, retry_backoff=0.1,
        connection_timeout=2)
    with pytest.raises(flowkit.SourceError, match="cannot reach the storage account http://127.0.0.1:9/"):
        src.list_blobs(log_type="vnet")


def test_paused_during_a_read_completes_after_retry(azurite, estate):
    """SIGSTOP Azurite during a read, SIGCONT 3 s later: retries finish the read correctly."""
    paused: list[threading.Timer] = []

    def hook(response) -> None:
        req = response.http_request
        if req.method == "GET" and "PT1H.json" in req.url and not paused:
            paused.append(azurite.pause(3.0))

    src = AzureBlobSource.from_connection_string(
        azurite.connection_string, max_concurrency=2, retry_total=6, retry_backoff=0.3, read_timeout=1,
        connection_timeout=1, client_kwargs={"raw_response_hook": hook})
    try:
        flows = flowkit.read_flow_logs(src, **WINDOW)
    finally:
        for t in paused:
            t.join()
    assert paused, "the read was never interrupted"
    local = flowkit.read_flow_logs(estate, **WINDOW)
    assert len(flows) == len(local)
    pd.testing.assert_frame_equal(flows.drop(columns="blob").astype(str).reset_index(drop=True),
                                  local.drop(columns="blob").astype(str).reset_index(drop=True))


def test_killed_and_restarted_during_a_read_never_returns_a_partial_frame(azurite, service, tmp_path):
    """Kill Azurite mid-read and restart it (in-memory data is gone): a clear error, no frame."""
    root = tmp_path / "tree"
    write_estate(root)
    upload_tree(service, root)
    killed: list[bool] = []

    def hook(response) -> None:
        req = response.http_request
        if req.method == "GET" and "PT1H.json" in req.url and not killed:
            killed.append(True)
            azurite.restart()

    src = AzureBlobSource.from_connection_string(
        azurite.connection_string, max_concurrency=1, retry_total=3, retry_backoff=0.2,
        client_kwargs={"raw_response_hook": hook})
    try:
        with pytest.raises(flowkit.SourceError) as info:
            flowkit.read_flow_logs(src)
    finally:
        if not azurite.running:
            azurite.start()
    assert killed
    message = str(info.value)
    assert "does not exist" in message or "cannot reach" in message or "not found" in message
    assert NSG_CONTAINER in message or VNET_CONTAINER in message


def _expired_sas() -> str:
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    return generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True),
                                AccountSasPermissions(read=True, list=True),
                                datetime.now(timezone.utc) - timedelta(hours=1))


def _refused(action) -> flowkit.SourceError:
    with pytest.raises(flowkit.SourceError) as info:
        action()
    return info.value


def test_no_secret_is_reachable_from_an_error_raised_for_an_sdk_error(azurite, estate):
    """Not in the text, nor in the SDK exception kept as __context__: its response's request URL
    (with sig=), its headers, its traceback's frames (which hold the credential)."""
    from urllib.parse import unquote

    from secrets_check import assert_no_secret, reachable_texts

    expired = _expired_sas()
    sig = [p.split("=", 1)[1] for p in expired.split("&") if p.startswith("sig=")][0]
    sas_source = AzureBlobSource(account_url=f"{azurite.endpoint}?{expired}", retry_total=0)
    listing = _refused(lambda: flowkit.read_flow_logs(sas_source))
    assert str(listing).startswith("authentication failed while listing (container")
    key_source = AzureBlobSource(account_url=azurite.endpoint, credential=KEY, container="no-such-container",
                                 retry_total=0)
    missing = _refused(lambda: flowkit.read_flow_logs(key_source))
    assert "'no-such-container' does not exist" in str(missing)
    sas = _sas(VNET_CONTAINER)
    ref = AzureBlobSource.from_connection_string(azurite.connection_string).list_blobs(log_type="vnet", **WINDOW).refs[0]
    pinned = AzureBlobSource(account_url=f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}", retry_total=0)
    changed = _refused(lambda: pinned.download(ref.container, ref.blob, etag="0x8D000000000BAD"))
    assert str(changed) == f"{ref.container}/{ref.blob} changed while it was read"
    for error in (listing, missing, changed):
        assert error.__context__ is not None  # the SDK's exception, emptied
        assert vars(error.__context__).get("response") is None and error.__context__.__traceback__ is None
        text = reachable_texts(error)
        assert_no_secret(text, KEY, sig, unquote(sig), sas, *[p.split("=", 1)[1] for p in sas.split("&")
                                                                if p.startswith("sig=")])
        assert "sig=" not in text and "SharedKey " not in text


@pytest.mark.parametrize("credential, kind", [
    pytest.param(123, "int", id="int"),
    pytest.param(KEY.encode(), "bytes", id="key-as-bytes"),
    pytest.param((ACCOUNT, KEY), "tuple", id="name-and-key-tuple"),
])
def test_an_unsupported_credential_type_is_a_clear_error_without_its_value(azurite, credential, kind):
    with pytest.raises(flowkit.SourceError) as info:
        AzureBlobSource(account_url=azurite.endpoint, credential=credential)
    assert str(info.value) == (
        f"unsupported credential of type {kind}: pass an account key or SAS token (str), a {{'account_name', "
        f"'account_key'}} dict, AzureNamedKeyCredential, AzureSasCredential or an azure-identity token credential")
    _assert_clean("".join(traceback.format_exception(info.value)), [KEY, KEY[:20]])
