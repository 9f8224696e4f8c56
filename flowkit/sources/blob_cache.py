"""A local mirror of sealed flow-log blobs, so a notebook's second run reads offline.

A blob is *sealed* when its hour is over and Azure has stopped writing it: the hour
ended more than ``settle`` ago (Azure commits the last block a few minutes after the
hour). Only sealed blobs are kept; a blob whose ETag changed since is downloaded
again. Files are written atomically (temporary file, then :func:`os.replace`) with a
small ``.flowkit-meta`` file beside each, written last, that records the ETag.

Blob names are untrusted. :func:`safe_parts` refuses every name that could land
outside the cache folder (``..``, absolute paths, backslashes, drive letters, the
same URL-encoded once or several times), and every path is checked again after
resolving symbolic links.

Examples
--------
>>> safe_parts("resourceId=/SUBSCRIPTIONS/S/y=2024/PT1H.json")[-1]
'PT1H.json'
>>> safe_parts("../../etc/passwd")
Traceback (most recent call last):
...
flowkit.sources.blob_cache.UnsafeBlobName: blob name '../../etc/passwd' is refused by the cache: '..' segment
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote

import pandas as pd

from flowkit.atomic import atomic_write
from flowkit.errors import SourceError

__all__ = ["BlobCache", "CacheEntry", "UnsafeBlobName", "safe_parts", "is_sealed", "SETTLE"]

META_SUFFIX = ".flowkit-meta"

#: How long after the end of its hour a blob is taken as final.
SETTLE = pd.Timedelta(minutes=15)

_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeBlobName(SourceError):
    """A blob name that could write outside the cache folder; it is never cached."""


def _refuse(name: str, why: str) -> UnsafeBlobName:
    shown = name if len(name) <= 200 else name[:200] + "…"
    return UnsafeBlobName(f"blob name {shown!r} is refused by the cache: {why}")


def safe_parts(name: str) -> list[str]:
    """Split a blob name into path segments that are safe under a folder, or raise.

    Parameters
    ----------
    name : str
        A blob name as the service returned it.

    Raises
    ------
    UnsafeBlobName
        For ``..`` or ``.`` segments, empty segments, absolute paths, backslashes,
        drive letters or ``:``, control characters, over-long segments, and names
        that become any of these when URL-decoded (once or repeatedly).

    Examples
    --------
    >>> safe_parts("%2E%2E/x")
    Traceback (most recent call last):
    ...
    flowkit.sources.blob_cache.UnsafeBlobName: blob name '%2E%2E/x' is refused by the cache: '..' segment
    """
    forms = [name]
    decoded = name
    for _ in range(4):
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        forms.append(nxt)
        decoded = nxt
    for form in forms:
        if not form:
            raise _refuse(name, "empty name")
        if _CONTROL.search(form):
            raise _refuse(name, "control character")
        if "\\" in form:
            raise _refuse(name, "backslash")
        if ":" in form:
            raise _refuse(name, "':' (drive letter or stream)")
        if form.startswith("/") or form.startswith("~"):
            raise _refuse(name, "absolute path")
        for seg in form.split("/"):
            if seg == "..":
                raise _refuse(name, "'..' segment")
            if seg in ("", "."):
                raise _refuse(name, "empty or '.' segment")
            if len(seg.encode("utf-8")) > 200:
                raise _refuse(name, "segment too long")
    if name.endswith(META_SUFFIX) or name.split("/")[-1].startswith(".flowkit-tmp"):
        raise _refuse(name, "reserved file name")
    return name.split("/")


def is_sealed(hour: pd.Timestamp | None, last_modified: pd.Timestamp | None,
              now: pd.Timestamp | None = None, settle: pd.Timedelta = SETTLE) -> bool:
    """True when a blob will not change any more: its hour ended more than ``settle`` ago.

    A blob outside the layout (no hour) is sealed when it has not changed for ``settle``.

    Examples
    --------
    >>> now = pd.Timestamp("2024-05-01T12:00Z")
    >>> is_sealed(pd.Timestamp("2024-05-01T10:00Z"), None, now), is_sealed(pd.Timestamp("2024-05-01T11:00Z"), None, now)
    (True, False)
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    if hour is not None:
        return now >= hour + pd.Timedelta(hours=1) + settle
    return last_modified is not None and now >= last_modified + settle


@dataclass(frozen=True)
class CacheEntry:
    """One cached blob, as its meta file records it."""

    container: str
    blob: str
    etag: str | None
    size: int
    last_modified: pd.Timestamp | None
    path: Path


class BlobCache:
    """A folder that mirrors sealed blobs: ``root/{account}/{container}/{blob name}``.

    Parameters
    ----------
    root : str or PathLike
        The cache folder; created when needed.
    settle : pandas.Timedelta
        See :func:`is_sealed`.

    Examples
    --------
    >>> import tempfile
    >>> cache = BlobCache(tempfile.mkdtemp())
    >>> cache.put("acct", "c", "a/PT1H.json", b"{}", etag="0x1")
    True
    >>> cache.get("acct", "c", "a/PT1H.json", etag="0x1"), cache.get("acct", "c", "a/PT1H.json", etag="0x2")
    (b'{}', None)
    """

    def __init__(self, root: str | os.PathLike, *, settle: pd.Timedelta = SETTLE) -> None:
        self.root = Path(os.path.expanduser(os.fspath(root)))
        self.settle = settle

    def __repr__(self) -> str:
        return f"BlobCache({str(self.root)!r})"

    def path_for(self, account: str, container: str, blob: str) -> Path:
        """The file a blob is cached in; raise :class:`UnsafeBlobName` if it would escape.

        Examples
        --------
        >>> BlobCache("/tmp/c").path_for("acct", "c", "/etc/passwd")
        Traceback (most recent call last):
        ...
        flowkit.sources.blob_cache.UnsafeBlobName: blob name '/etc/passwd' is refused by the cache: absolute path
        """
        for label, value in (("account", account), ("container", container)):
            if not _NAME_PART.match(value or ""):
                raise _refuse(blob, f"unexpected {label} name {value!r}")
        parts = safe_parts(blob)
        root = Path(os.path.realpath(self.root))
        path = root.joinpath(account, container, *parts)
        real_parent = os.path.realpath(path.parent)
        if os.path.commonpath([str(root), real_parent]) != str(root):
            raise _refuse(blob, "resolves outside the cache folder")
        return path

    def get(self, account: str, container: str, blob: str, etag: str | None) -> bytes | None:
        """The cached content when its ETag equals ``etag`` (any ETag when None), else None."""
        try:
            path = self.path_for(account, container, blob)
            meta = json.loads(path.with_name(path.name + META_SUFFIX).read_text("utf-8"))
            if etag is not None and meta.get("etag") != etag:
                return None
            data = path.read_bytes()
        except (OSError, ValueError, UnsafeBlobName):
            return None
        return data if len(data) == meta.get("size") else None

    def put(self, account: str, container: str, blob: str, data: bytes, *, etag: str | None,
            last_modified: pd.Timestamp | None = None) -> bool:
        """Store a blob atomically; return False when the name is refused.

        Raises nothing on an unsafe name (the read itself is fine); see :meth:`path_for`.
        A folder that cannot be written (a full disk, a file in the way, no permission)
        raises the :class:`OSError`; the Azure source then warns once and reads on.
        """
        try:
            path = self.path_for(account, container, blob)
        except UnsafeBlobName:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        # check again after creating folders (a symbolic link may have been followed)
        self.path_for(account, container, blob)
        meta = {"container": container, "blob": blob, "etag": etag, "size": len(data),
                "last_modified": None if last_modified is None else pd.Timestamp(last_modified).isoformat()}
        meta_path = path.with_name(path.name + META_SUFFIX)
        # the old meta goes first: stopped between the two writes, the cache holds content without
        # meta (never served), not new content under the old ETag and size
        meta_path.unlink(missing_ok=True)
        # readable by this user only, as the account the blobs came from is
        atomic_write(path, data, private=True)
        atomic_write(meta_path, json.dumps(meta).encode("utf-8"), private=True)
        return True

    def entries(self, account: str, container: str) -> Iterator[CacheEntry]:
        """Every blob cached for a container (used to list offline)."""
        if not _NAME_PART.match(account or "") or not _NAME_PART.match(container or ""):
            return
        base = self.root / account / container
        if not base.is_dir():
            return
        for meta_path in sorted(base.rglob("*" + META_SUFFIX)):
            try:
                meta = json.loads(meta_path.read_text("utf-8"))
                path = self.path_for(account, container, meta["blob"])
            except (OSError, ValueError, KeyError, UnsafeBlobName):
                continue
            if path.with_name(path.name + META_SUFFIX) != meta_path or not path.is_file():
                continue
            lm = meta.get("last_modified")
            yield CacheEntry(container=container, blob=meta["blob"], etag=meta.get("etag"),
                             size=int(meta.get("size", 0)),
                             last_modified=pd.Timestamp(lm) if lm else None, path=path)


