"""Writing files so that a crash never leaves half a file behind.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "state.json"
>>> atomic_write(p, b"{}")
>>> p.read_bytes()
b'{}'
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

__all__ = ["atomic_write", "fsync_path"]


def atomic_write(path: str | os.PathLike, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    Readers see the old content or the new one, never a mix; the temporary file
    is removed if anything fails. A symbolic link is written through (its target
    is replaced, not the link). Something that exists and is not a regular file (a
    device such as ``/dev/stdout``, a named pipe) cannot be replaced by a rename and
    must not be: it is written to directly.

    A new file gets the mode a plain ``open`` gives (0666 less the umask), or 0600 when
    ``private`` (data downloaded with the user's credentials, such as cached blobs); a file
    written over keeps its mode.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(target, b"one"); atomic_write(target, b"two"); target.read_bytes()
    b'two'
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        with open(path, "wb") as fh:
            fh.write(data)
        return
    keep_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    fd, tmp = _new_temp(path, 0o600 if private else 0o666)
    try:
        if keep_mode is not None:  # overwriting keeps the file's permissions
            if hasattr(os, "fchmod"):
                os.fchmod(fd, keep_mode)
            else:  # Windows before Python 3.13 has no fchmod (a mode there is the read-only flag)
                os.chmod(tmp, keep_mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_path(path.parent)  # the rename itself reaches the disk
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _new_temp(path: Path, mode: int) -> tuple[int, str]:
    """A new file beside ``path``, created with ``mode`` less the umask (0666: what a plain ``open`` gives).

    (``tempfile.mkstemp`` creates 0600: a report or a dataset written for others to read
    would be readable by its writer only.)
    """
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file, or a folder's entries (after a rename into it), to disk.

    A folder that cannot be opened for this (some file systems refuse) is passed over:
    the data are then as safe as that file system makes them.

    Examples
    --------
    >>> import tempfile
    >>> fsync_path(tempfile.mkdtemp())
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        if not os.path.isdir(path):
            raise
    finally:
        os.close(fd)
