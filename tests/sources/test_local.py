"""Local files: which files a folder gives, whatever the case of their names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowkit
from flowkit.sources.layout import NSG_CONTAINER, nsg_blob_name
from flowkit.sources.local import LocalSource
from flowkit.synth import blob_bytes

from conftest import SUB1, _nsg_blob, real_case

HOUR = "2024-05-01T10:00Z"
NSG_ID = f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB"
#: One hour blob per MAC, each named as some tool left it: Azure's name, then copies whose
#: case changed on the way (Windows tools, azcopy to a case-insensitive disk, a rename by
#: hand), and a fragment saved from the middle of a growing blob.
NAMES = {"000D3A000101": "PT1H.json", "000D3A000102": "pt1h.json",
         "000D3A000103": "PT1H.JSON", "000D3A000104": "PT1H-fragment.json"}
TUPLES_PER_BLOB = 6  # _nsg_blob: 3 records of 2 tuples


def _blob_path(root: Path, mac: str, name: str) -> Path:
    blob = real_case(nsg_blob_name(SUB1, "RG-APP", "NSG-WEB", HOUR, mac))
    return root / NSG_CONTAINER / (blob.rsplit("/", 1)[0] + "/" + name)


@pytest.fixture()
def mixed_case_layout(tmp_path: Path) -> tuple[Path, list[str]]:
    """A folder in the blob layout, with side files beside the containers and inside one."""
    root = tmp_path / "logs"
    wanted = []
    for seed, (mac, name) in enumerate(NAMES.items()):
        path = _blob_path(root, mac, name)
        path.parent.mkdir(parents=True)
        records = _nsg_blob(HOUR, mac, NSG_ID, seed)
        if "fragment" in name:  # what a reader holding a byte offset reads: ",{…},{…}"
            path.write_bytes(b"".join(b"," + json.dumps(r).encode() for r in records))
        else:
            path.write_bytes(blob_bytes(records))
        wanted.append(str(path))
    for side in ("nics.json", "expected.json", "NOTES.JSON", f"{NSG_CONTAINER}/inventory.json"):
        (root / side).write_text("{}")
    return root, sorted(wanted)


def test_a_layout_folder_gives_blobs_whatever_the_case_of_their_names(mixed_case_layout):
    root, wanted = mixed_case_layout
    listing = LocalSource(root).list_blobs()
    assert [r.name for r in listing.refs] == wanted
    assert listing.skipped == 0
    assert {r.meta.mac for r in listing.refs} == set(NAMES)
    assert all(r.meta.hour == flowkit.sources.layout.to_utc(HOUR) for r in listing.refs)


def test_a_layout_folder_still_leaves_side_files_out(mixed_case_layout):
    root, wanted = mixed_case_layout
    names = [Path(r.name).name for r in LocalSource(root).list_blobs().refs]
    assert sorted(names) == sorted(NAMES.values())
    assert not {"nics.json", "expected.json", "NOTES.JSON", "inventory.json"} & set(names)


@pytest.mark.parametrize("kwargs, refs, skipped", [
    pytest.param(dict(start="2024-05-01T12:00Z"), 0, 4, id="outside-the-window"),
    pytest.param(dict(mac="000D3A000103"), 1, 3, id="other-macs"),
    pytest.param(dict(log_type="vnet"), 0, 4, id="other-log-type"),
])
def test_every_case_variant_is_counted_when_skipped_by_its_path(mixed_case_layout, kwargs, refs, skipped):
    root, _ = mixed_case_layout
    listing = LocalSource(root).list_blobs(**kwargs)
    assert (len(listing.refs), listing.skipped) == (refs, skipped)


def test_reading_a_layout_folder_reads_every_case_variant(mixed_case_layout):
    root, wanted = mixed_case_layout
    frame, report = flowkit.read_flow_logs(root, with_report=True)
    assert (report.files, report.files_skipped) == (4, 0)
    assert report.rows == len(frame) == 4 * TUPLES_PER_BLOB
    assert sorted(frame["blob"].unique()) == wanted


def test_a_plain_folder_gives_json_files_in_any_case(tmp_path):
    for name in ("a.json", "b.JSON", "c.Json", "d.txt", "e.json.bak", "sub/f.json", "sub/deeper/G.JSON"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "folder.json").mkdir()  # a folder, not a file
    refs = LocalSource(tmp_path).list_blobs().refs
    assert [Path(r.name).relative_to(tmp_path).as_posix() for r in refs] == [
        "a.json", "b.JSON", "c.Json", "sub/deeper/G.JSON", "sub/f.json"]


def test_names_are_spelt_as_the_folder_was_given_without_dot_or_trailing_slash(mixed_case_layout, monkeypatch):
    root, wanted = mixed_case_layout
    monkeypatch.chdir(root.parent)
    names = [r.name for r in LocalSource("./logs/").list_blobs().refs]
    assert names == [str(Path(w).relative_to(root.parent)) for w in wanted]
    assert names[0].startswith(f"logs/{NSG_CONTAINER}/resourceId=/SUBSCRIPTIONS/")


# -- folders that cannot be read -------------------------------------------------------
def _tree_with_a_locked_folder(root: Path) -> tuple[Path, Path]:
    """Two hour blobs of a layout; the folder of the second one is the one to lock."""
    first, second = _blob_path(root, "000D3A000101", "PT1H.json"), _blob_path(root, "000D3A000102", "PT1H.json")
    for seed, path in enumerate((first, second)):
        path.parent.mkdir(parents=True)
        path.write_bytes(blob_bytes(_nsg_blob(HOUR, f"000D3A00010{seed + 1}", NSG_ID, seed)))
    return first, second.parent


def test_an_unreadable_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    """Root reads any folder, so the refusal is simulated where the walk lists one."""
    import os

    _, locked = _tree_with_a_locked_folder(tmp_path / "logs")
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(flowkit.SourceError) as info:
        LocalSource(tmp_path / "logs").list_blobs()
    assert str(info.value) == f"cannot read folder {str(locked)!r}: Permission denied"
    with pytest.raises(flowkit.SourceError, match="^cannot read folder .*: Permission denied$"):
        flowkit.read_flow_logs(tmp_path / "logs")


# -- links, loops and sameness ---------------------------------------------------------
def test_a_link_to_a_folder_inside_a_folder_is_not_walked(tmp_path):
    """As Path.rglob: a walk never follows a link into a folder (a link to a parent would never end)."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.json").write_text("{}")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.json").write_text("{}")
    (tmp_path / "logs" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "logs" / "up").symlink_to(tmp_path / "logs")
    refs = LocalSource(tmp_path / "logs").list_blobs().refs
    assert [Path(r.name).name for r in refs] == ["a.json"]


def test_links_that_cannot_be_looked_at_are_each_listed_and_reading_says_why(tmp_path):
    """A link loop is listed (not passed over in silence), each under its own name; reading it fails."""
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "loop1.json").symlink_to(tmp_path / "loop1.json")
    (tmp_path / "loop2.json").symlink_to(tmp_path / "loop2.json")
    refs = LocalSource(tmp_path).list_blobs().refs
    assert [Path(r.name).name for r in refs] == ["a.json", "loop1.json", "loop2.json"]
    with pytest.raises(flowkit.SourceError, match=r"^cannot read '.*loop1\.json': Too many levels of symbolic links$"):
        flowkit.read_flow_logs(tmp_path)


def test_two_local_sources_in_a_composite_read_a_file_they_share_once(mixed_case_layout):
    """CompositeSource asks each LocalSource for a file's identity: two spellings of one file are one."""
    from flowkit.sources.base import CompositeSource

    root, wanted = mixed_case_layout
    other = str(root / ".." / root.name / Path(wanted[0]).relative_to(root))
    listing = CompositeSource([LocalSource(wanted[:2]), LocalSource([other, wanted[2]])]).list_blobs()
    assert [r.name for r in listing.refs] == wanted[:3]
    frame, report = flowkit.read_flow_logs([LocalSource(wanted[:2]), LocalSource([other, wanted[2]])],
                                           with_report=True)
    assert (report.files, len(frame)) == (3, 3 * TUPLES_PER_BLOB)
