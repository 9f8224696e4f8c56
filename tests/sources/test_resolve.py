"""What a user passes becomes the right source; a list may mix local paths and Azure addresses.

No address a user gives is ever echoed with its SAS or its user info, whichever source
the text ends up in.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_address import parse_address
from flowkit.sources.base import BlobRef, CompositeSource, Listing
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER
from flowkit.sources.local import LocalSource
from flowkit.sources.resolve import is_azure_url, resolve_source

from conftest import ACCOUNT, KEY, _vnet_blob
from secrets_check import assert_no_secret, exception_texts

SECRET = "TOPSECRET"
#: A SAS query that looks real to Azurite but whose signature is wrong.
FORGED_SAS = f"sv=2024-08-04&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&spr=https,http&sig={SECRET}"
WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")



def _container_sas(container: str) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(ACCOUNT, container, account_key=KEY,
                                  permission=ContainerSasPermissions(read=True, list=True),
                                  expiry=datetime.now(timezone.utc) + timedelta(hours=1))


@pytest.mark.parametrize("text, azure", [
    pytest.param("azure://acct/insights-logs-flowlogflowevent", True, id="azure-scheme"),
    pytest.param("https://acct.blob.core.windows.net/c?sv=1&sig=x", True, id="account-url"),
    pytest.param("HTTPS://logs.example.com/c", True, id="custom-domain-upper-case"),
    pytest.param("http://azurite:10000/devstoreaccount1/c", True, id="compose-service-name"),
    pytest.param("http://[::1]:10000/devstoreaccount1/c", True, id="ipv6-loopback"),
    pytest.param("http://localhost:10000/devstoreaccount1/c", True, id="localhost"),
    pytest.param("data/x.json", False, id="relative-path"),
    pytest.param("https-logs/x.json", False, id="path-starting-with-https"),
    pytest.param(r"C:\logs\PT1H.json", False, id="windows-path"),
])
def test_every_http_address_is_azure_and_no_path_is(text, azure):
    assert is_azure_url(text) is azure


@pytest.mark.parametrize("url, account_url, container", [
    pytest.param(f"http://azurite:10000/devstoreaccount1/{VNET_CONTAINER}?{FORGED_SAS}",
                 "http://azurite:10000/devstoreaccount1", VNET_CONTAINER, id="compose-service-name"),
    pytest.param(f"http://[::1]:10000/devstoreaccount1/{VNET_CONTAINER}?{FORGED_SAS}",
                 "http://[::1]:10000/devstoreaccount1", VNET_CONTAINER, id="ipv6-loopback"),
    pytest.param(f"https://logs.example.com/{VNET_CONTAINER}?{FORGED_SAS}",
                 "https://logs.example.com", VNET_CONTAINER, id="custom-domain"),
])
def test_emulator_and_custom_addresses_are_read_from_azure_without_their_sas(url, account_url, container):
    for given in (url, [url]):
        src = resolve_source(given)
        assert isinstance(src, AzureBlobSource)
        assert (src.account_url, src.container, src.credential_kind) == (account_url, container, "SAS")
        assert src.describe() == f"azure: {account_url}/{container}"
        assert_no_secret(repr(src) + src.describe() + repr(vars(src)), SECRET)


def test_a_list_with_a_sas_url_is_read_from_azure_and_its_error_has_no_sas(azurite, estate, capsys):
    """The reviewer's case: one SAS address in a list used to reach LocalSource and be echoed."""
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{FORGED_SAS}"
    with pytest.raises(SourceError) as info:
        flowkit.read_flow_logs([url])
    assert str(info.value) == (
        f"authentication failed while listing (container '{VNET_CONTAINER}') at {azurite.endpoint}: "
        f"the account key, SAS or token was refused or lacks permission (AuthorizationFailure). "
        f"Check the credential and that it grants read and list on this container")
    out = capsys.readouterr()
    assert_no_secret(exception_texts(info.value) + out.out + out.err, SECRET)


def test_cli_inspect_with_a_sas_url_and_a_folder_fails_without_the_sas(azurite, estate, samples_dir, capsys):
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{FORGED_SAS}"
    assert cli_main(["inspect", url, str(samples_dir / "connectivity")]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (
        f"flowkit inspect: error: authentication failed while listing (container '{VNET_CONTAINER}') at "
        f"{azurite.endpoint}: the account key, SAS or token was refused or lacks permission "
        f"(AuthorizationFailure). Check the credential and that it grants read and list on this container\n")
    assert_no_secret(out.out + out.err, SECRET)


def test_a_list_mixing_an_azure_address_and_local_folders_reads_each_with_its_own_source(azurite, estate,
                                                                                          samples_dir):
    sas = _container_sas(VNET_CONTAINER)
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"
    local = str(estate / NSG_CONTAINER)  # the NSG blobs of the estate, as local files (other hours skipped)
    azure_alone = flowkit.read_flow_logs(url, with_report=True, progress=False, **WINDOW)
    local_alone = flowkit.read_flow_logs(local, with_report=True, progress=False, **WINDOW)
    src = resolve_source([local, url, str(samples_dir / "connectivity")])
    assert isinstance(src, CompositeSource)
    assert [type(p).__name__ for p in src.parts] == ["LocalSource", "AzureBlobSource", "LocalSource"]

    frame, report = flowkit.read_flow_logs([local, url], with_report=True, progress=False, **WINDOW)
    assert len(frame) == len(azure_alone[0]) + len(local_alone[0]) > len(local_alone[0])
    assert report.files == azure_alone[1].files + local_alone[1].files
    assert report.files_skipped == azure_alone[1].files_skipped + local_alone[1].files_skipped
    assert local_alone[1].files_skipped > 0
    assert report.sources == (f"local: {local}", f"azure: {azurite.endpoint}/{VNET_CONTAINER}")
    blobs = list(dict.fromkeys(frame.sort_index()["blob"]))  # first the local files, then the blobs
    assert blobs[0].startswith(local) and blobs[-1].startswith(f"{VNET_CONTAINER}/")
    assert_no_secret(repr(src) + src.describe() + repr(report.to_dict()), sas)


class _Fixed:
    """A source of fixed names, read as their own bytes; counts progress= it was handed."""

    def __init__(self, *names: str, skipped: int = 0) -> None:
        self.names, self.skipped, self.progress = names, skipped, []

    def list_blobs(self, **kwargs) -> Listing:
        return Listing(tuple(BlobRef(n) for n in self.names), skipped=self.skipped)

    def iter_bytes(self, refs, *, progress=None):
        self.progress.append(progress)
        return ((i, r.name.encode()) for i, r in reversed(list(enumerate(refs))))

    def describe(self) -> str:
        return "fixed: " + ",".join(self.names)


def test_a_list_keeps_its_local_paths_on_both_sides_of_an_address_in_order():
    """Local paths next to each other make one LocalSource; none is dropped before or after an address."""
    url = f"https://logs.example.com/{VNET_CONTAINER}?{FORGED_SAS}"
    src = resolve_source(["a.json", "b.json", url, "c.json"])
    assert isinstance(src, CompositeSource)
    assert [type(p).__name__ for p in src.parts] == ["LocalSource", "AzureBlobSource", "LocalSource"]
    assert [p.paths for p in src.parts if isinstance(p, LocalSource)] == [("a.json", "b.json"), ("c.json",)]
    assert src.describe() == f"local: a.json, b.json; azure: https://logs.example.com/{VNET_CONTAINER}; local: c.json"
    assert resolve_source([url, "c.json"]).describe() == \
        f"azure: https://logs.example.com/{VNET_CONTAINER}; local: c.json"


def test_composite_keeps_order_sums_skips_reads_each_ref_from_its_part_once():
    a, b = _Fixed("a", "b", skipped=2), _Fixed("c", "a", skipped=3)
    src = CompositeSource([a, b])
    listing = src.list_blobs(start="2024-05-01T10:00Z")
    assert [r.name for r in listing.refs] == ["a", "b", "c"]  # "a" listed twice is read once
    assert listing.skipped == 5
    assert src.describe() == "fixed: a,b; fixed: c,a"
    subset = [listing.refs[2], listing.refs[0]]
    assert sorted(src.iter_bytes(subset, progress=False)) == [(0, b"c"), (1, b"a")]
    assert (a.progress, b.progress) == ([False], [False])
    with pytest.raises(SourceError, match="'zzz' was not listed by this source"):
        list(src.iter_bytes([BlobRef("zzz")]))


def test_other_schemes_are_clear_errors_without_user_info():
    with pytest.raises(SourceError) as info:
        resolve_source(["data-samples/connectivity", "ftp://user:PASSWORD@files.example.com/logs"])
    assert str(info.value) == (
        "not a local path or a blob storage address: 'ftp://REDACTED@files.example.com/logs' (flowkit "
        "reads files, folders, globs, azure://ACCOUNT/CONTAINER addresses and http(s) blob URLs)")
    assert_no_secret(exception_texts(info.value), "PASSWORD")


@pytest.mark.parametrize("url, message", [
    pytest.param("ftp://user:PASSWORD@files.example.com/c", "not a blob storage address: "
                 "'ftp://REDACTED@files.example.com/c'", id="other-scheme"),
    pytest.param("http://user:PASSWORD@127.0.0.1:99999/devstoreaccount1/c?sv=1&sig=TOPSECRET",
                 "not a valid blob storage address: 'http://REDACTED@127.0.0.1:99999/devstoreaccount1/c?REDACTED' "
                 "(Port out of range 0-65535)", id="port-out-of-range"),
])
def test_parse_address_errors_drop_user_info_and_sas(url, message):
    with pytest.raises(SourceError) as info:
        parse_address(url)
    assert str(info.value) == message
    assert_no_secret(exception_texts(info.value), "PASSWORD", SECRET)


@pytest.mark.parametrize("path, message", [
    pytest.param(f"https://acct.blob.core.windows.net/c?sv=1&se=x&sig={SECRET}",
                 "no file matches the pattern 'https://acct.blob.core.windows.net/c?REDACTED'", id="glob"),
    pytest.param(f"ftp://user:{SECRET}@host/logs", "no such file or folder: 'ftp://REDACTED@host/logs'", id="missing"),
])
def test_local_source_errors_pass_paths_through_redaction(path, message):
    src = LocalSource([path])
    with pytest.raises(SourceError) as info:
        src.list_blobs()
    assert str(info.value) == message
    assert_no_secret(exception_texts(info.value) + repr(src) + src.describe(), SECRET)


def test_a_growing_blob_named_twice_in_a_list_is_read_once(azurite, service):
    """Azure commits a block between the two listings: the refs differ in ETag and size, the blob is one."""
    import base64
    import json

    from azure.storage.blob import BlobBlock

    from flowkit.sources.layout import vnet_blob_name


    service.create_container(VNET_CONTAINER)
    name = vnet_blob_name("00000000-0000-0000-0000-000000000001", "RG", "NW", "FL", "2024-05-01T10:00Z", "000D3A000001")
    records = _vnet_blob("2024-05-01T10:00Z", "000D3A000001", "/X", 1, n_records=3)  # 2 tuples each
    blob = service.get_container_client(VNET_CONTAINER).get_blob_client(name)
    blocks = [b'{"records":[', json.dumps(records[0]).encode(), b"," + json.dumps(records[1]).encode(), b"]}"]
    ids = [base64.b64encode(f"b{i:04d}".encode()).decode() for i in range(len(blocks))]
    for i, b in zip(ids, blocks):
        blob.stage_block(i, b)
    blob.commit_block_list([BlobBlock(i) for i in ids])
    committed: list[bool] = []

    def commit_on_list(request) -> None:
        if not committed and "comp=list" in request.http_request.url:
            committed.append(True)
            new = base64.b64encode(b"b9999").decode()
            blob.stage_block(new, b"," + json.dumps(records[2]).encode())
            blob.commit_block_list([BlobBlock(i) for i in ids[:-1]] + [BlobBlock(new), BlobBlock(ids[-1])])

    whole = AzureBlobSource.from_connection_string(azurite.connection_string, container=VNET_CONTAINER)
    folder = AzureBlobSource.from_connection_string(azurite.connection_string, container=VNET_CONTAINER,
                                                    prefix=name.rsplit("/y=", 1)[0] + "/",
                                                    client_kwargs={"raw_request_hook": commit_on_list})
    frame, report = flowkit.read_flow_logs([whole, folder], with_report=True)
    assert committed
    assert (len(frame), report.files) == (6, 1)  # 3 records of 2 tuples, read once (12 if read twice)


def test_a_local_file_named_twice_under_two_spellings_is_read_once(azurite, service, samples_dir, tmp_path):
    import shutil

    folder = tmp_path / "logs"
    shutil.copytree(samples_dir / "connectivity", folder)
    one = sorted(folder.rglob("PT1H.json"))[0]
    alone = flowkit.read_flow_logs(str(one))
    service.create_container("empty")
    # an address between the two spellings: two local sources, each listing the file
    same = str(folder / ".." / "logs" / one.relative_to(folder))
    frame, report = flowkit.read_flow_logs(
        [str(one), AzureBlobSource(account_url=f"{azurite.endpoint}/empty", credential=KEY), same], with_report=True)
    assert (len(frame), report.files) == (len(alone), 1)
    assert len(alone) > 0
