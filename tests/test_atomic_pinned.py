"""Pinned by mutation testing of flowkit.atomic: replacement by rename, the hidden temporary, fsync errors."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import pytest

import flowkit.atomic as atomic_module
from flowkit.atomic import atomic_write, fsync_path


def test_the_public_names_are_exactly_the_two_functions():
    assert atomic_module.__all__ == ["atomic_write", "fsync_path"]
    assert all(callable(getattr(atomic_module, name)) for name in atomic_module.__all__)


def test_an_existing_file_is_replaced_by_a_new_one_not_overwritten_in_place(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"old")
    os.link(target, tmp_path / "hard.json")
    with open(target, "rb") as reader:  # a reader that opened the old file keeps reading the old content
        atomic_write(target, b"new")
        assert reader.read() == b"old"
    assert target.read_bytes() == b"new" and (tmp_path / "hard.json").read_bytes() == b"old"


def test_a_named_pipe_gets_the_bytes_and_stays_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader already waiting: the write cannot block
    try:
        atomic_write(fifo, b"through the pipe")
        assert os.read(fd, 100) == b"through the pipe"
    finally:
        os.close(fd)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_while_writing_the_temporary_is_a_hidden_tmp_file_beside_the_target(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "part-0.parquet"
    target.write_bytes(b"old")
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write(target, b"new")
    during = seen[0]  # the file's own fsync, before the rename
    assert len(during) == 2 and during[1] == "part-0.parquet"
    assert re.fullmatch(r"\.part-0\.parquet\.[A-Za-z0-9_]+\.tmp", during[0])
    assert [p.name for p in tmp_path.glob("*.parquet")] == ["part-0.parquet"]
    assert target.read_bytes() == b"new"


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="cross-device"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_fsync_path_passes_over_a_folder_that_refuses_fsync_but_not_a_file(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder, file = tmp_path / "d", tmp_path / "f.bin"
    folder.mkdir()
    file.write_bytes(b"x")

    def refuse(fd: int) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", refuse)
    assert fsync_path(folder) is None
    with pytest.raises(OSError) as caught:
        fsync_path(file)
    assert caught.value.errno == errno.EINVAL
    assert fsync_path(tmp_path / "missing") is None  # cannot be opened: passed over


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_file_gets_the_mode_a_plain_open_gives(tmp_path: Path, umask_022) -> None:
    # A report or a dataset written for others to read: 0644 under umask 022, as `open` gives,
    # not mkstemp's 0600.
    target = tmp_path / "report.xlsx"
    atomic_write(target, b"x")
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o644


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_overwriting_a_file_keeps_its_mode(tmp_path: Path, umask_022, mode: int) -> None:
    target = tmp_path / "findings.csv"
    target.write_bytes(b"old")
    target.chmod(mode)
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == mode


def test_overwriting_works_where_os_has_no_fchmod(tmp_path: Path, umask_022, monkeypatch) -> None:
    # Windows before Python 3.13 has no os.fchmod: every second write of a file (a checkpoint at
    # the next poll, the dataset marker at the next convert, a report written again) raised
    # AttributeError.
    monkeypatch.delattr(os, "fchmod", raising=False)
    target = tmp_path / "checkpoint.json"
    atomic_write(target, b"one")
    target.chmod(0o640)
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json"]
