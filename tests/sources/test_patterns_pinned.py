"""flowkit.sources.patterns pinned: what counts as a wildcard, hidden folders a recursive pattern does
not enter (so cannot fail on), and a link back into a folder a link already entered."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

import flowkit
from flowkit.sources import patterns
from flowkit.sources.patterns import has_magic, match_pattern
from flowkit.synth import blob_bytes

from conftest import SUB1, _nsg_blob


def test_public_names() -> None:
    assert patterns.__all__ == ["match_pattern", "has_magic"]


@pytest.mark.parametrize("text, magic", [
    ("logs/*.json", True), ("PT1H.jso?", True), ("h=1[01]", True),
    ("logs/PT1H.json", False), ("XX/X.json", False), ("h=10]", False), ("", False),
])
def test_the_three_wildcards_and_nothing_else(text: str, magic: bool) -> None:
    assert has_magic(text) is magic


def test_a_recursive_pattern_does_not_enter_a_hidden_folder_so_cannot_fail_on_it(tmp_path: Path,
                                                                                monkeypatch) -> None:
    for rel in ("logs/h=10/PT1H.json", "logs/.private/PT1H.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    monkeypatch.chdir(tmp_path)
    locked = str(tmp_path / "logs" / ".private")
    real_scandir = os.scandir

    def scandir(path):  # root reads any folder: the refusal is simulated where the walk lists one
        if os.path.abspath(os.fspath(path)) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    expected = ["logs/", "logs/h=10", "logs/h=10/PT1H.json"]
    assert sorted(glob.glob("logs/**", recursive=True)) == expected
    assert match_pattern("logs/**") == expected


def test_a_link_to_a_folder_above_one_a_link_entered_is_not_followed(tmp_path: Path, monkeypatch) -> None:
    """top/L1 -> a/b, a/b/L2 -> c, c/L3 -> a: L3 leads back above a/b, which L1 entered."""
    for rel in ("a/b/x.json", "c/y.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "L1").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "a" / "b" / "L2").symlink_to(tmp_path / "c")
    (tmp_path / "c" / "L3").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    assert match_pattern("top/**/*.json") == ["top/L1/L2/y.json", "top/L1/x.json"]


@pytest.mark.parametrize("pattern", ["logs/.h*/*.json", "logs/*/.*.json", "logs/.*", "logs/*", "logs/top.json",
                                     "logs/missing.json", "logs/h=10/PT1H.json"])
def test_a_wildcard_written_with_its_leading_dot_matches_hidden_names_and_a_plain_path_itself(
        tmp_path: Path, monkeypatch, pattern: str) -> None:
    for rel in ("logs/.hidden/PT1H.json", "logs/h=10/.dot.json", "logs/h=10/PT1H.json", "logs/top.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    monkeypatch.chdir(tmp_path)
    expected = {"logs/.h*/*.json": ["logs/.hidden/PT1H.json"], "logs/*/.*.json": ["logs/h=10/.dot.json"],
                "logs/.*": ["logs/.hidden"], "logs/*": ["logs/h=10", "logs/top.json"],
                "logs/top.json": ["logs/top.json"], "logs/missing.json": [],
                "logs/h=10/PT1H.json": ["logs/h=10/PT1H.json"]}[pattern]
    assert sorted(glob.glob(pattern, recursive=True)) == expected
    assert match_pattern(pattern) == expected


@pytest.mark.parametrize("pattern", ["**", "**/", "**/*.json", "*/"])
def test_a_recursive_pattern_from_the_current_folder_names_no_empty_path(tmp_path: Path, monkeypatch,
                                                                          pattern: str) -> None:
    (tmp_path / "logs" / "h=10").mkdir(parents=True)
    (tmp_path / "logs" / "h=10" / "PT1H.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    expected = {"**": ["logs", "logs/h=10", "logs/h=10/PT1H.json"], "**/": ["logs/", "logs/h=10/"],
                "**/*.json": ["logs/h=10/PT1H.json"], "*/": ["logs/"]}[pattern]
    assert sorted(glob.glob(pattern, recursive=True)) == expected
    assert match_pattern(pattern) == expected  # "**" gave "" first: reading it failed, "cannot read ''"


def test_logs_read_with_a_bare_recursive_pattern(tmp_path: Path, monkeypatch) -> None:
    nsg = f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB"
    path = tmp_path / "logs" / "h=10" / "PT1H.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(blob_bytes(_nsg_blob("2024-05-01T10:00Z", "000D3A000101", nsg, 0)))
    monkeypatch.chdir(tmp_path)
    flows, report = flowkit.read_flow_logs("**", with_report=True)
    assert (len(flows), report.files) == (6, 1)  # it raised SourceError: cannot read '': No such file


def _refuse(monkeypatch, locked: str) -> None:
    """Root reads any folder: the refusal is simulated where the walk lists one."""
    real_scandir = os.scandir

    def scandir(path):
        if os.path.abspath(os.fspath(path)) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_only_the_folders_each_level_of_the_pattern_names_are_entered(tmp_path: Path, monkeypatch) -> None:
    for rel in ("logs/h=10/m=00/PT1H.json", "logs/h=10/other/PT1H.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    monkeypatch.chdir(tmp_path)
    _refuse(monkeypatch, str(tmp_path / "logs" / "h=10" / "other"))  # not m=00: never listed, no error
    assert match_pattern("logs/*/m=00/*.json") == ["logs/h=10/m=00/PT1H.json"]


def test_an_unreadable_current_folder_is_named_as_dot(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _refuse(monkeypatch, str(tmp_path))
    with pytest.raises(flowkit.SourceError) as info:
        match_pattern("*.json")
    assert str(info.value) == "cannot read folder '.' (reached by the pattern '*.json'): Permission denied"


def test_a_hidden_folder_below_a_recursive_pattern_is_entered_only_when_named(tmp_path: Path, monkeypatch) -> None:
    for rel in ("logs/h=10/PT1H.json", "logs/h=10/.git/x.json", "logs/h=10/.cache/y.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert match_pattern("logs/**/.cache/*.json") == sorted(glob.glob("logs/**/.cache/*.json", recursive=True)) == [
        "logs/h=10/.cache/y.json"]
    _refuse(monkeypatch, str(tmp_path / "logs" / "h=10" / ".git"))  # "**" does not enter it: no error
    assert match_pattern("logs/**/*.json") == ["logs/h=10/PT1H.json"]
