"""A local file saved from a SAS URL keeps the SAS in its name (``wget URL`` does): the name is
shown without it wherever flowkit shows or writes a blob's name (rows, quarantined tuples,
problems, QuarantineError, the CLI, a converted dataset's manifest)."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import QuarantineError
from flowkit.sources import local
from flowkit.sources.layout import VNET_CONTAINER
from flowkit.sources.local import LocalSource
from flowkit.store.convert import convert
from flowkit.synth import blob_bytes

from conftest import ACCOUNT, KEY, SUB1, _nsg_blob
from secrets_check import assert_no_secret, exception_texts


def _saved_from_sas_url(azurite, service, folder: Path) -> tuple[Path, list[str]]:
    """The first 10:00 VNet blob, downloaded with a blob SAS as ``wget`` saves it, then cut short."""
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    blob = sorted(b.name for b in service.get_container_client(VNET_CONTAINER).list_blobs() if "/h=10/" in b.name)[0]
    sas = generate_blob_sas(ACCOUNT, VNET_CONTAINER, blob, account_key=KEY, permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    url = f"{azurite.endpoint}/{VNET_CONTAINER}/{blob}?{sas}"
    with urllib.request.urlopen(url, timeout=30) as response:
        data = response.read()
    saved = f"{blob.rsplit('/', 1)[1]}?{sas}".replace("/", "%2F")  # PT1H.json?se=…&sig=…, as wget names it
    path = folder / saved
    path.write_bytes(data[: len(data) * 2 // 3])  # the download was cut: a truncated record
    sig = parse_qs(sas)["sig"][0]
    return path, [sas, sig, sas.replace("/", "%2F"), sig.replace("/", "%2F")]


def _frame_text(frame) -> str:
    return frame.astype(str).to_csv()


def test_a_file_named_with_a_sas_is_read_and_shown_without_it(azurite, estate, service, tmp_path, capsys):
    path, secrets = _saved_from_sas_url(azurite, service, tmp_path)
    shown = f"{tmp_path}/PT1H.json?REDACTED"
    flows, report = flowkit.read_flow_logs(str(path), with_report=True)
    assert len(flows) > 0 and set(flows["blob"].astype(str)) == {shown}
    assert report.quarantined == 2 and list(report.quarantine["blob"].astype(str)) == [shown, shown]
    assert {p.blob for p in report.problems} == {shown}
    dask_flows = flowkit.read_flow_logs(str(path), engine="dask").compute()
    assert set(dask_flows["blob"].astype(str)) == {shown}
    with pytest.raises(QuarantineError) as info:
        flowkit.read_flow_logs(str(path), strict=True)
    assert str(info.value).startswith(f"truncated-record at {shown}, record ")
    assert cli_main(["inspect", str(path), "--quarantine", "5"]) == 0
    out = capsys.readouterr()
    text = "\n".join([_frame_text(flows), _frame_text(report.quarantine), repr(report.to_dict()), report._repr_html_(),
                      _frame_text(dask_flows), exception_texts(info.value), out.out, out.err])
    assert "PT1H.json?REDACTED" in out.out
    assert_no_secret(text, KEY, *secrets)
    assert "sig=" not in text


def test_a_file_named_with_a_sas_converts_without_it_in_the_dataset(azurite, estate, service, tmp_path):
    path, secrets = _saved_from_sas_url(azurite, service, tmp_path)
    dest = tmp_path / "ds"
    first = convert(str(path), dest)
    again = convert(str(path), dest)  # no hour in its path: an open unit, converted again in place
    assert (first.units_written, first.load.quarantined) == (1, 2)
    assert (again.units_written, again.open_units) == (1, 1)
    manifest = json.loads((dest / "_flowkit_dataset.json").read_text())
    [unit] = manifest["units"]  # one id for the file, both times
    assert unit.startswith(f"{tmp_path}/PT1H.json?REDACTED#")
    written = "\n".join(p.read_bytes().decode("latin-1") for p in sorted(dest.rglob("*")) if p.is_file())
    written += _frame_text(flowkit.read_flow_logs(str(dest)))
    assert_no_secret(written, KEY, *secrets)
    assert "sig=" not in written


# -- pinned by mutation testing (helper M) --------------------------------------------------
def test_copies_of_a_blob_downloaded_into_one_folder_are_all_read(tmp_path):
    """A browser saves a second and third download of ``PT1H.json`` as ``PT1H (1).json`` and
    ``PT1H (2).json``: each holds an hour of tuples, and none may be left out in silence."""
    nsg_id = f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB"
    names = ["PT1H.json", "PT1H (1).json", "pt1h (2).JSON"]
    for seed, name in enumerate(names):
        records = _nsg_blob("2024-05-01T10:00Z", f"000D3A00010{seed + 1}", nsg_id, seed)
        (tmp_path / name).write_bytes(blob_bytes(records))
    (tmp_path / "nics.json").write_text("{}")  # a side file: not a log
    listing = LocalSource(tmp_path).list_blobs()
    in_order = ("PT1H (1).json", "PT1H.json", "pt1h (2).JSON")
    assert [r.name for r in listing.refs] == [str(tmp_path / n) for n in in_order]
    assert listing.skipped == 0
    frame, report = flowkit.read_flow_logs(tmp_path, with_report=True)
    assert (report.files, report.rows, len(frame)) == (3, 18, 18)  # 3 blobs of 3 records of 2 tuples


def test_a_local_source_shows_its_paths_without_a_sas():
    src = LocalSource(["logs/PT1H.json", "dl/PT1H.json?sv=2024-08-04&sig=abc%2Fdef"])
    assert repr(src) == "LocalSource(['logs/PT1H.json', 'dl/PT1H.json?REDACTED'])"
    assert src.describe() == "local: logs/PT1H.json, dl/PT1H.json?REDACTED"


def test_the_module_exports_its_source():
    assert local.__all__ == ["LocalSource"] and local.LocalSource is LocalSource


def test_a_link_to_nothing_in_a_folder_is_not_passed_over_in_silence(tmp_path):
    """A link to a loop of links failed the read, naming it; a link to a file gone was skipped
    without a word (the tuples the user expected behind it, lost from view)."""
    (tmp_path / "a.json").write_bytes(b'{"records": []}')
    (tmp_path / "b.json").symlink_to(tmp_path / "gone.json")
    assert [Path(r.name).name for r in LocalSource(tmp_path).list_blobs().refs] == ["a.json", "b.json"]
    with pytest.raises(flowkit.SourceError) as info:
        flowkit.read_flow_logs(tmp_path)
    assert str(info.value) == f"cannot read '{tmp_path}/b.json': No such file or directory"


@pytest.mark.parametrize("target", ["gone.json", "loop.json"])
def test_a_link_named_that_leads_nowhere_says_so(tmp_path, target):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / target)
    if target == "loop.json":
        (tmp_path / "loop.json").symlink_to(link)
    reason = "No such file or directory" if target == "gone.json" else "Too many levels of symbolic links"
    with pytest.raises(flowkit.SourceError) as info:
        flowkit.read_flow_logs(link)
    assert str(info.value) == f"cannot read '{link}': it is a link, and following it fails: {reason}"
