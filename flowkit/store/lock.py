"""One conversion at a time per dataset: an advisory lock on the dataset folder.

Two conversions into one dataset (a scheduled job still running when the next one starts)
would each save a manifest without the other's files, and each would remove the other's
files as leftovers of a crash: rows lost. :func:`dataset_lock` takes an exclusive
``flock`` on the dataset folder itself for the whole conversion (no lock file to leave
behind); a second conversion fails at once with an error saying so, instead of waiting an
unknown time. The lock goes with the process: a killed conversion leaves no stale lock.
Where ``fcntl`` does not exist (Windows), no lock is taken; where the file system refuses
``flock`` (some NFS and SMB mounts), a warning says the conversion runs unlocked.

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
import warnings
from pathlib import Path
from typing import Iterator

from flowkit.errors import FlowkitDataWarning, FlowkitError

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
        except OSError as exc:  # a file system without flock (some NFS and SMB mounts): go on unlocked
            warnings.warn(f"flowkit: cannot lock the dataset {os.fspath(dest)!r} "
                          f"({exc.strerror or type(exc).__name__}); converting without the lock: run one "
                          f"conversion at a time into it", FlowkitDataWarning, stacklevel=4)
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
