"""One conversion at a time per dataset: an advisory lock on the dataset folder.

Two conversions into one dataset (a scheduled job still running when the next one starts)
would each save a manifest without the other's files, and each would remove the other's
files as leftovers of a crash: rows lost. :func:`dataset_lock` takes an exclusive
``flock`` on the dataset folder itself for the whole conversion (no lock file to leave
behind); a second conversion fails at once with an error saying so, instead of waiting an
unknown time. The lock goes with the process: a killed conversion leaves no stale lock.
Where ``fcntl`` does not exist (Windows), no lock is taken.

Examples
--------
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> with dataset_lock(folder):
...     pass
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from flowkit.errors import FlowkitError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DatasetBusyError", "dataset_lock"]


class DatasetBusyError(FlowkitError):
    """Another conversion is writing this dataset."""


@contextlib.contextmanager
def dataset_lock(dest: str | os.PathLike) -> Iterator[None]:
    """Hold the dataset's writer lock for the ``with`` block.

    Parameters
    ----------
    dest : str or PathLike
        The dataset folder (it must exist).

    Raises
    ------
    DatasetBusyError
        Another process (or another conversion in this one) holds the lock.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with dataset_lock(folder):
    ...     try:
    ...         with dataset_lock(folder):
    ...             pass
    ...     except DatasetBusyError as exc:
    ...         print("busy")
    busy
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(Path(dest), os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetBusyError(f"another conversion is writing the dataset {os.fspath(dest)!r}; "
                                   f"run this one when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
