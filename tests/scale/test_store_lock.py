"""One conversion at a time per dataset, and files on disk before the manifest names them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowkit.cli import main
from flowkit.store.convert import convert
from flowkit.store.lock import DatasetBusyError, dataset_lock
from flowkit.store.manifest import MARKER, Manifest

from scale_helpers import SAMPLES, read_json

HOLD = ("import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n")


def test_a_second_conversion_into_a_dataset_being_written_fails_and_changes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "ds"
    convert(SAMPLES / "encryption", dest, log_type="vnet")
    before = {p.relative_to(dest).as_posix(): p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(dest)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(DatasetBusyError, match=r"^another conversion is writing the dataset '.*ds'; "
                                                   r"run this one when it has finished$"):
            convert(SAMPLES / "connectivity", dest)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    after = {p.relative_to(dest).as_posix(): p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    assert after == before
    report = convert(SAMPLES / "connectivity", dest)  # the lock went with the process
    assert report.units_written > 0
    assert len(read_json(dest)) == len(read_json(SAMPLES / "encryption", log_type="vnet")) + len(
        read_json(SAMPLES / "connectivity"))


def test_the_cli_says_the_dataset_is_busy_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "ds"
    dest.mkdir()
    with dataset_lock(dest):
        assert main(["convert", str(SAMPLES / "encryption"), str(dest)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowkit convert: error: another conversion is writing the dataset ") and err.count("\n") == 1
    assert not (dest / MARKER).exists()
    assert main(["convert", str(SAMPLES / "encryption"), str(dest)]) == 0


def test_the_cli_says_how_many_rows_were_kept_from_earlier_conversions(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    blobs = sorted((SAMPLES / "encryption").rglob("PT1H.json"))
    first, rest = blobs[0], blobs[1:]
    one_hour = [b for b in rest if b.parent.parent.parent.parent.parent == first.parent.parent.parent.parent.parent
                and b.parent.parent.parent == first.parent.parent.parent]
    assert one_hour, "the sample has two NICs logged in one hour"
    dest = tmp_path / "ds"
    assert main(["convert", str(first), str(dest)]) == 0
    kept = len(read_json(first))
    capsys.readouterr()
    assert main(["convert", str(one_hour[0]), str(dest)]) == 0
    out = capsys.readouterr().out
    total = kept + len(read_json(one_hour[0]))
    assert (f"rows         {total} in 1 file(s) ({kept} of them kept from blobs converted before "
            f"and not read now)\n") in out


def test_a_published_file_is_flushed_before_its_rename_and_its_folder_after(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit.atomic as atomic
    import flowkit.store.writer as writer

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = atomic.fsync_path, os.replace

    def fsync_path(path):
        events.append(("fsync", Path(path).name))
        real_fsync(path)

    def replace(src, dst):
        events.append(("rename", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(writer, "fsync_path", fsync_path)
    monkeypatch.setattr(atomic, "fsync_path", fsync_path)
    monkeypatch.setattr(writer.os, "replace", replace)
    dest = tmp_path / "ds"
    convert(SAMPLES / "encryption", dest, log_type="vnet")
    parquet = [f.path for f in Manifest.load(dest).files()]
    assert parquet
    for rel in parquet:
        name, folder = Path(rel).name, Path(rel).parent.name
        i = events.index(("rename", name))
        assert events[i - 1] == ("fsync", events[i - 1][1]) and events[i - 1][1].endswith(".parquet")
        assert events[i + 1] == ("fsync", folder)
        saved = [j for j, e in enumerate(events) if e == ("rename", MARKER)]
        assert any(j > i for j in saved)  # the manifest naming it is saved after it is on disk
        assert ("fsync", "ds") in events[saved[-1]:]  # and the manifest's rename is flushed too


def test_a_file_system_without_flock_converts_unlocked_with_a_warning(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import flowkit.store.lock as lock
    from flowkit.errors import FlowkitDataWarning

    def no_locks(fd, op):  # what an NFS or SMB mount without lock support answers
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", no_locks)
    dest = tmp_path / "ds"
    with pytest.warns(FlowkitDataWarning, match=r"cannot lock the dataset .*\(No locks available\); converting "
                                                r"without the lock: run one conversion at a time into it$"):
        report = convert(SAMPLES / "encryption", dest, log_type="vnet")
    assert report.rows_written == len(read_json(SAMPLES / "encryption", log_type="vnet"))
