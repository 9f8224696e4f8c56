"""Local flow-log files: a file, a folder (recursively), a glob, or a list of them.

Folders are searched recursively, in one walk, and names are matched whatever their case
(files copied through Windows tools or renamed by hand may read ``pt1h.json`` or ``PT1H.JSON``).
A folder holding ``PT1H.json`` blobs gives those, their copies named ``PT1H…json`` (``PT1H (1).json``,
as a browser saves a second download into one folder) and any other ``*.json`` inside the hour
folders of the layout (``PT1H-fragment.json``), not side files like ``nics.json``; any other folder
gives every ``*.json``. Files named explicitly are read whatever their extension. Paths laid out
as Azure writes blobs are parsed for their hour, MAC and resource, and the hour is used to
skip files outside ``start``/``end`` before they are opened.

Examples
--------
>>> src = LocalSource("data-samples/connectivity")  # doctest: +SKIP
>>> len(src.list_blobs(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z").refs)  # doctest: +SKIP
6
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from flowkit.addresses import normalize_mac
from flowkit.errors import SourceError
from flowkit.sources.base import BlobRef, Listing, read_concurrently
from flowkit.sources.layout import hour_overlaps, parse_blob_path, to_utc
from flowkit.sources.patterns import has_magic, match_pattern
from flowkit.sources.redact import redact, scrub_exception

__all__ = ["LocalSource"]

#: The name Azure gives every flow-log blob, lower-cased (names are compared lower-cased).
_BLOB_NAME = "pt1h.json"
#: How copies of a blob saved side by side begin (``PT1H (1).json``, ``PT1H-fragment.json``).
_BLOB_STEM = "pt1h"


def _json_files(root: str) -> list[str]:
    """Every regular file named ``*.json`` (in any case) under ``root``, sorted.

    One walk with :func:`os.scandir`, whose entries know their type without a ``stat``
    per file; links to folders are not followed (as :meth:`pathlib.Path.rglob`). A folder
    that cannot be read is a :class:`SourceError` naming it, as an unreadable file is: a
    walk never gives part of a tree in silence. A folder gone since its parent was listed
    is passed over.
    """
    found: list[str] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                            continue
                    except OSError:
                        continue
                    if entry.name.lower().endswith(".json"):
                        try:
                            # a link to nothing (is_file() False) or to a loop of links (it raises):
                            # reading it says why, rather than the walk passing it over in silence
                            wanted = entry.is_file() or entry.is_symlink()
                        except OSError:
                            wanted = True
                        if wanted:
                            found.append(entry.path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            scrub_exception(exc)  # it stays reachable as the error's __context__
            raise SourceError(f"cannot read folder {redact(folder)!r}: {exc.strerror or type(exc).__name__}") from None
    found.sort()
    return found


def _file_identity(path: str) -> tuple:
    """A file's device and inode (one ``stat``; ``os.path.realpath`` costs a ``lstat`` per
    folder of the path, 40 ms for 369 blobs of the Azure layout); its real path when it
    cannot be looked at (reading it will say why)."""
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return ("inode", st.st_dev, st.st_ino)


class LocalSource:
    """Flow-log files on a local disk.

    Parameters
    ----------
    paths : str, PathLike, or a list of them
        Files, folders (searched recursively for ``*.json``) and glob patterns. Paths and
        patterns shown in messages, reprs and :meth:`describe` pass through
        :func:`flowkit.sources.redact.redact`.
    """

    def __init__(self, paths: str | os.PathLike | Iterable[str | os.PathLike]) -> None:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths: tuple[str, ...] = tuple(os.fspath(p) for p in paths)

    def __repr__(self) -> str:
        return redact(f"LocalSource({list(self.paths)!r})")

    def describe(self) -> str:
        """Say what is read (for reports)."""
        return redact("local: " + ", ".join(self.paths))

    def _files(self) -> list[str]:
        found: list[str] = []
        for spec in self.paths:
            if has_magic(spec) and not os.path.exists(spec):
                matches = match_pattern(spec)
                if not matches:
                    raise SourceError(f"no file matches the pattern {redact(spec)!r}")
                for m in matches:
                    found.extend(self._expand(m))
                continue
            if not os.path.exists(spec):
                if os.path.islink(spec):  # a link to nothing, or a loop of links: not "no such file"
                    try:
                        os.stat(spec)
                    except OSError as exc:
                        raise SourceError(f"cannot read {redact(spec)!r}: it is a link, and following it "
                                          f"fails: {exc.strerror or type(exc).__name__}") from None
                raise SourceError(f"no such file or folder: {redact(spec)!r}")
            found.extend(self._expand(spec))
        # a file named twice (or reached through a link) is read once, under its first name
        unique: dict[tuple, str] = {}
        for path in found:
            unique.setdefault(_file_identity(path), path)
        return list(unique.values())

    @staticmethod
    def _expand(path: str) -> list[str]:
        """The flow-log files a path names: itself when a file, else the ``*.json`` under it.

        Names match whatever their case. A folder holding a ``PT1H.json`` is laid out as
        Azure writes blobs: it gives the ``PT1H.json`` files, the ``PT1H…json`` copies saved
        beside them (a browser names a second download ``PT1H (1).json``: leaving it out
        would lose its tuples without a word) and the other ``*.json`` whose path is in the
        layout (inside an hour folder); side files outside the hour folders (inventories,
        ``expected.json``) are not logs. Any other folder gives every ``*.json``.
        """
        if not os.path.isdir(path):
            return [path]
        files = _json_files(str(Path(path)))  # names spelt as before (no './', no '//')
        if not any(os.path.basename(f).lower() == _BLOB_NAME for f in files):
            return files
        return [f for f in files
                if os.path.basename(f).lower().startswith(_BLOB_STEM) or parse_blob_path(f).log_type is not None]

    def list_blobs(self, *, log_type: str | None = None, start: object = None, end: object = None,
                   mac: str | None = None) -> Listing:
        """List the files that may hold tuples of that type, time window and MAC.

        Parameters
        ----------
        log_type : {"nsg", "vnet"}, optional
        start, end : str or Timestamp, optional
            Files whose path hour misses ``[start, end)`` (with a small margin for
            tuples written just after their hour) are skipped unopened.
        mac : str, optional
            Files whose path names another MAC are skipped.

        Returns
        -------
        Listing
        """
        start_ts, end_ts = to_utc(start), to_utc(end)
        want_mac = normalize_mac(mac)
        refs: list[BlobRef] = []
        skipped = 0
        hours = []
        for path in self._files():
            meta = parse_blob_path(path)
            if meta.hour is not None:
                hours.append(meta.hour)
            if ((log_type and meta.log_type and meta.log_type != log_type)
                    or (want_mac and meta.mac and meta.mac != want_mac)
                    or not hour_overlaps(meta.hour, start_ts, end_ts)):
                skipped += 1
                continue
            try:
                size = os.path.getsize(path)
            except OSError:
                size = None
            refs.append(BlobRef(name=path, meta=meta, size=size))
        return Listing(refs=tuple(refs), skipped=skipped, hours=(min(hours), max(hours)) if hours else None)

    @staticmethod
    def identity(ref: BlobRef) -> tuple:
        """What makes two refs the same file: its device and inode (any spelling, any link).

        Examples
        --------
        >>> LocalSource.identity(BlobRef("a/../b.json")) == LocalSource.identity(BlobRef("b.json"))
        True
        """
        return _file_identity(ref.name)

    def iter_bytes(self, refs: Sequence[BlobRef]) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, content)`` of each file, in order."""

        def read(ref: BlobRef) -> bytes:
            try:
                with open(ref.name, "rb") as fh:
                    return fh.read()
            except OSError as exc:
                scrub_exception(exc)
                raise SourceError(f"cannot read {redact(ref.name)!r}: {exc.strerror or type(exc).__name__}") from None

        return read_concurrently(refs, read, max_workers=1)


