"""Glob patterns: glob's matches, but no folder passed over in silence and no file read twice."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

import flowkit
from flowkit.sources.local import LocalSource
from flowkit.sources.patterns import match_pattern
from flowkit.synth import blob_bytes

from conftest import SUB1, _nsg_blob

HOUR = "2024-05-01T10:00Z"
NSG_ID = f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB"
TUPLES_PER_BLOB = 6  # _nsg_blob: 3 records of 2 tuples


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch) -> Path:
    """Hour folders two deep, a hidden folder, side files and a link to a folder."""
    for rel in ("logs/h=10/PT1H.json", "logs/h=10/m=00/PT1H.json", "logs/h=10/m=00/deep/x.json",
                "logs/.hidden/PT1H.json", "logs/h=11/y.JSON", "logs/top.json", "logs/h=10/.dot.json"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "to-h10").symlink_to(tmp_path / "logs" / "h=10")
    monkeypatch.chdir(tmp_path)
    return tmp_path


PATTERNS = ["logs/**/*.json", "logs/*/PT1H.json", "logs/*", "**/PT1H.json", "logs/**/m=00/*.json",
            "logs/h=1?/*", "logs/[h]=10/**/*.json", "./logs/*/*.json", "logs/**/.dot.json",
            "other/*/*.json", "other/**/*.json", "logs/h=1[!0]/*", "logs/*/", "logs/**/", "logs/**",
            "logs/h=10/**"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_pattern_matches_what_glob_matches(tree, pattern):
    assert match_pattern(pattern) == sorted(glob.glob(pattern, recursive=True))
    absolute = str(tree / pattern.removeprefix("./"))
    assert match_pattern(absolute) == sorted(glob.glob(absolute, recursive=True))


def test_a_pattern_that_matches_nothing_is_empty(tree):
    assert match_pattern("logs/*/nothing-*.json") == []
    assert match_pattern("missing/**/*.json") == []


def _refuse(monkeypatch, locked: Path) -> None:
    """Root reads any folder, so the refusal is simulated where the walk lists one."""
    real_scandir = os.scandir

    def scandir(path):
        if os.path.abspath(os.fspath(path)) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_folder_the_pattern_reaches_is_an_error_naming_it(tree, monkeypatch):
    _refuse(monkeypatch, tree / "logs" / "h=10" / "m=00")
    with pytest.raises(flowkit.SourceError) as info:
        match_pattern("logs/**/PT1H.json")
    assert str(info.value) == ("cannot read folder 'logs/h=10/m=00' (reached by the pattern "
                               "'logs/**/PT1H.json'): Permission denied")
    with pytest.raises(flowkit.SourceError, match="^cannot read folder 'logs/h=10/m=00'"):
        LocalSource("logs/*/*/PT1H.json").list_blobs()


def test_an_unreadable_folder_the_pattern_cannot_reach_is_no_error(tree, monkeypatch):
    _refuse(monkeypatch, tree / "logs" / "h=10" / "m=00")
    assert match_pattern("logs/h=11/*") == ["logs/h=11/y.JSON"]
    assert match_pattern("logs/*/PT1H.json") == ["logs/h=10/PT1H.json"]  # lists h=10, not m=00


def test_a_link_loop_under_a_recursive_pattern_ends_and_gives_each_name_once(tree):
    (tree / "logs" / "h=10" / "m=00" / "up").symlink_to(tree / "logs")
    assert match_pattern("logs/**/PT1H.json") == ["logs/h=10/PT1H.json", "logs/h=10/m=00/PT1H.json"]


def _write_blob(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob_bytes(_nsg_blob(HOUR, "000D3A000101", NSG_ID, seed)))
    return path


def test_a_file_named_twice_or_reached_through_a_link_is_read_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_blob(tmp_path / "logs" / "h=10" / "PT1H.json")
    (tmp_path / "alias").symlink_to(tmp_path / "logs" / "h=10")
    sources = ["logs/h=10/PT1H.json", "./logs/h=10/PT1H.json", str(tmp_path / "logs/h=10/PT1H.json"),
               "alias/PT1H.json", "**/PT1H.json"]
    listing = LocalSource(sources).list_blobs()
    assert [r.name for r in listing.refs] == ["logs/h=10/PT1H.json"]
    flows, report = flowkit.read_flow_logs(sources, with_report=True)
    assert len(flows) == TUPLES_PER_BLOB
    assert (report.files, report.tuples) == (1, TUPLES_PER_BLOB)


def test_a_pattern_alone_gives_the_files_it_matches_and_those_in_the_folders_it_matches(tree):
    assert [r.name for r in LocalSource("logs/*/PT1H.json").list_blobs().refs] == ["logs/h=10/PT1H.json"]
    # "logs/h=1?" names two folders: the one holding PT1H.json gives only its layout files
    assert [r.name for r in LocalSource("logs/h=1?").list_blobs().refs] == [
        "logs/h=10/PT1H.json", "logs/h=10/m=00/PT1H.json", "logs/h=11/y.JSON"]


def test_links_that_lead_into_each_other_end(tmp_path, monkeypatch):
    """a/to-b -> b and b/to-a -> a: each folder is entered once through each link path that does
    not come back into a folder already entered through a link, and the walk ends."""
    for rel in ("a/x.json", "b/y.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "a" / "to-b").symlink_to(tmp_path / "b")
    (tmp_path / "b" / "to-a").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    assert match_pattern("**/*.json") == ["a/to-b/to-a/x.json", "a/to-b/y.json", "a/x.json",
                                          "b/to-a/to-b/y.json", "b/to-a/x.json", "b/y.json"]
    refs = LocalSource("**/*.json").list_blobs().refs  # each file read once, whatever its name
    assert sorted(os.path.basename(r.name) for r in refs) == ["x.json", "y.json"]
