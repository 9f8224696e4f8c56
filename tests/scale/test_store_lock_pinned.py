"""Pinned by mutation testing of flowkit.store.lock: the exact warning of an unlocked conversion, and where it points."""

from __future__ import annotations

import errno
import warnings
from pathlib import Path

import pytest

import flowkit.store.lock as lock
from flowkit.errors import FlowkitDataWarning
from flowkit.store.convert import convert
from flowkit.store.lock import DatasetBusyError, dataset_lock

from scale_helpers import SAMPLES


def test_the_public_names_are_the_error_and_the_lock():
    assert lock.__all__ == ["DatasetBusyError", "dataset_lock"]
    assert lock.DatasetBusyError is DatasetBusyError and lock.dataset_lock is dataset_lock


def test_an_unlocked_conversion_warns_in_full_and_points_at_the_callers_line(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", no_locks)
    dest = tmp_path / "ds"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert(SAMPLES / "encryption", dest, log_type="vnet")
    mine = [w for w in caught if issubclass(w.category, FlowkitDataWarning)]
    assert [str(w.message) for w in mine] == [
        f"flowkit: cannot lock the dataset {str(dest)!r} (No locks available); converting without the lock: "
        f"run one conversion at a time into it"]
    assert mine[0].filename == __file__  # the user's call of convert, not flowkit's insides


def test_an_error_without_a_text_is_named_by_its_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd, op):
        raise PermissionError()

    monkeypatch.setattr(lock.fcntl, "flock", refuse)
    with pytest.warns(FlowkitDataWarning) as caught:
        with dataset_lock(tmp_path):
            pass
    assert [str(w.message) for w in caught] == [
        f"flowkit: cannot lock the dataset {str(tmp_path)!r} (PermissionError); converting without the lock: "
        f"run one conversion at a time into it"]
