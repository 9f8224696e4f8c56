"""The manifest of a flowkit Parquet dataset: which source blobs became which files.

A dataset written by :func:`flowkit.store.convert.convert` is a folder with a
marker file :data:`MARKER` (JSON) and hive-style partition folders
``type=<nsg|vnet>/date=YYYY-MM-DD/hour=HH``. The marker records, per
*unit*, the source blobs whose rows the unit's files hold (identity and
signature: ETag, or size and modification time), whether the unit was sealed,
the Parquet files with their row counts and ``flow_time`` range (used to prune
files by time without opening them), the tuples seen and quarantined in those
blobs, and the unit's quarantine file (:mod:`flowkit.store.quarantine`).

The manifest is the dataset: a file it does not name is not part of it (a
leftover of an interrupted conversion, removed by the next one).

A unit is the set of blobs of one flow-log resource and one hour (all NICs of
that hour), or one file outside the Azure layout. Blobs are identified by
:func:`blob_id`: an Azure blob by ``container/name``, a local file by its
absolute path with links resolved, so one file named two ways is one blob. The
``blob`` column keeps the name as it was read (:attr:`UnitEntry.labels`).

Examples
--------
>>> from flowkit.sources.base import BlobRef
>>> from flowkit.sources.layout import nsg_blob_name, parse_blob_path
>>> name = nsg_blob_name("S", "RG", "NSG1", "2024-05-01T10:00Z", "000D3A000001")
>>> unit_key(BlobRef(name, meta=parse_blob_path(name))).rsplit("/", 6)[1:]
['NSG1', 'y=2024', 'm=05', 'd=01', 'h=10', 'm=00']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pandas as pd

from flowkit.atomic import atomic_write
from flowkit.sources.base import BlobRef

__all__ = ["MARKER", "is_parquet_dataset", "FORMAT_VERSION", "Manifest", "UnitEntry", "FileEntry", "unit_key",
           "unit_key_of", "blob_id", "blob_signature", "partition_dir", "LocalNames"]

#: Name of the marker file that makes a folder a flowkit Parquet dataset.
MARKER = "_flowkit_dataset.json"
#: 2: blobs identified by :func:`blob_id` (1: local names as typed), labels, quarantine files.
FORMAT_VERSION = 2


def is_parquet_dataset(source: Any) -> bool:
    """True when ``source`` is a folder written by :func:`flowkit.store.convert.convert` (it holds
    the marker file). Cheap: a read asks it first, and importing pyarrow's Parquet modules is not.

    Examples
    --------
    >>> is_parquet_dataset("data-samples/connectivity"), is_parquet_dataset(["a", "b"])
    (False, False)
    """
    if not isinstance(source, (str, os.PathLike)):
        return False
    try:
        return (Path(source) / MARKER).is_file()
    except (OSError, ValueError):
        return False


class LocalNames:
    """Canonical names of local files: absolute, links resolved, case folded where the system
    folds it, ``/``-separated. Each folder is looked at once per instance (one per conversion):
    one ``lstat`` per folder instead of one per path component per file.

    Examples
    --------
    >>> names = LocalNames()
    >>> names.canonical("a/../b.json") == names.canonical(os.path.abspath("b.json"))
    True
    """

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def _folder(self, folder: str) -> str:
        known = self._folders.get(folder)
        if known is None:
            parent, name = os.path.split(folder)
            if not name or parent == folder:
                known = os.path.realpath(folder)
            elif os.path.islink(folder):
                known = os.path.realpath(folder)
            else:
                known = os.path.join(self._folder(parent), name)
            self._folders[folder] = known
        return known

    def canonical(self, path: str) -> str:
        """The canonical name of ``path`` (as :func:`os.path.realpath`, then case and separators)."""
        if ".." in Path(path).parts:  # resolved after the links before it, as realpath does
            real = os.path.realpath(path)
        else:
            path = os.path.abspath(path)
            folder, name = os.path.split(path)
            real = os.path.realpath(path) if os.path.islink(path) else os.path.join(self._folder(folder), name)
        return os.path.normcase(real).replace("\\", "/")


def _is_local(ref: BlobRef) -> bool:
    """A local file: not an Azure blob (no container, no ETag) and there on disk."""
    return (getattr(ref, "container", None) is None and not getattr(ref, "etag", None)
            and os.path.exists(ref.name))


def blob_id(ref: BlobRef, names: LocalNames | None = None) -> str:
    """What identifies a blob from one conversion to the next.

    An Azure blob: its ``container/name``. A local file: its canonical path
    (:class:`LocalNames`), so ``data/x/PT1H.json`` and ``/home/me/data/x/PT1H.json``
    are one blob. Anything else: its name.
    """
    if _is_local(ref):
        return _without_secret((names or LocalNames()).canonical(ref.name))
    return ref.name.replace("\\", "/")


def _without_secret(path: str) -> str:
    """``path``, or when it holds a secret (a file saved from a SAS URL keeps the SAS in its name)
    its redacted text and a digest of it: still one id per file, and no secret in the manifest.

    Examples
    --------
    >>> _without_secret("/logs/PT1H.json")
    '/logs/PT1H.json'
    >>> _without_secret("/logs/PT1H.json?sv=1&sig=abc")
    '/logs/PT1H.json?REDACTED#9e32da3b9b46bb06'
    """
    import hashlib

    from flowkit.sources.redact import redact_name

    shown = redact_name(path)
    if shown == path:
        return path
    return f"{shown}#{hashlib.sha256(path.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


def unit_key_of(blob: str, has_hour: bool) -> str:
    """The unit of a blob, from its :func:`blob_id` and whether its path has an hour."""
    name = blob
    if not has_hour:
        return name
    parent = name.rsplit("/", 1)[0] if "/" in name else ""
    if parent.rsplit("/", 1)[-1].lower().startswith("macaddress="):
        parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
    return parent


def unit_key(ref: BlobRef, names: LocalNames | None = None) -> str:
    """The conversion unit of a blob: its :func:`blob_id` without the ``macAddress=`` level and
    file name.

    Blobs outside the Azure layout (no hour in the path) are units of their own.
    """
    return unit_key_of(blob_id(ref, names), ref.meta.hour is not None)


def blob_signature(ref: BlobRef) -> dict[str, Any]:
    """What identifies the version of a blob that was converted (never a secret).

    Azure blobs give their ETag; local files their size and modification time.
    """
    sig: dict[str, Any] = {"size": ref.size}
    etag = getattr(ref, "etag", None)
    if etag:
        sig["etag"] = str(etag)
    else:
        try:
            sig["mtime_ns"] = os.stat(ref.name).st_mtime_ns
        except OSError:
            lm = getattr(ref, "last_modified", None)
            if lm is not None:
                sig["last_modified"] = str(lm)
    return sig


def partition_dir(log_type: str, hour: pd.Timestamp) -> str:
    """Relative hive-style folder of one partition.

    Examples
    --------
    >>> partition_dir("vnet", pd.Timestamp("2024-05-01T10:00Z"))
    'type=vnet/date=2024-05-01/hour=10'
    """
    return f"type={log_type}/date={hour:%Y-%m-%d}/hour={hour:%H}"


@dataclass
class FileEntry:
    """One Parquet file of the dataset."""

    path: str              # relative to the dataset folder, "/"-separated
    log_type: str
    hour: str              # ISO hour of the partition
    rows: int
    min_time: str | None   # flow_time range (ISO), None when every flow_time is missing
    max_time: str | None
    first_blob: str        # orders files as a listing orders blobs (the unit's first blob id)


@dataclass
class UnitEntry:
    """One conversion unit: the blobs whose rows its files hold, and what they gave.

    ``tuples == rows of the files + quarantined`` (a conversion selects nothing out).
    ``records`` counts the records of the blobs read by the unit's latest conversion
    only (rows of blobs kept from earlier conversions are in ``tuples``, their
    records are not counted again: a dataset keeps rows, not records).
    """

    blobs: dict[str, dict[str, Any]]   # blob id -> signature of the version converted
    sealed: bool
    hour: str | None
    files: list[FileEntry] = field(default_factory=list)
    records: int = 0
    tuples: int = 0
    quarantined: int = 0
    problems: int = 0                  # record-level problems (truncated records, bad times, ...)
    quarantine: str | None = None      # the unit's quarantine file, relative (None: nothing quarantined)
    log_type: str | None = None        # from the blobs' path (None outside the layout)
    # How the blobs were named when read (their rows' `blob` column), where not their id:
    # [id prefix, name prefix] for the common case (``/home/me/data/...`` read as ``data/...``),
    # and ``labels`` for the blobs that prefix does not give.
    spelling: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, blob: str) -> str:
        """The ``blob`` column value of a blob's rows (and quarantine entries).

        Examples
        --------
        >>> u = UnitEntry({}, True, None, spelling=["/home/me/data", "data"], labels={"/x/b": "b"})
        >>> u.label("/home/me/data/a/PT1H.json"), u.label("/x/b"), u.label("c")
        ('data/a/PT1H.json', 'b', 'c')
        """
        name = self.labels.get(blob)
        if name is not None:
            return name
        if self.spelling is not None and blob.startswith(self.spelling[0]):
            return self.spelling[1] + blob[len(self.spelling[0]):]
        return blob

    def set_labels(self, key: str, labels: dict[str, str]) -> None:
        """Record each blob's name as read (``labels``: blob id -> name), compactly: one prefix
        for the names spelt alike (the unit's folder as typed), the others one by one."""
        self.spelling, self.labels = None, {}
        for blob, name in labels.items():
            rest = blob[len(key):] if blob.startswith(key) else None
            if blob != name and rest is not None and name.endswith(rest):
                self.spelling = [key, name[:len(name) - len(rest)]]
                break
        self.labels = {blob: name for blob, name in labels.items() if self.label(blob) != name}


@dataclass
class Manifest:
    """The content of the marker file."""

    units: dict[str, UnitEntry] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    @classmethod
    def load(cls, dest: str | os.PathLike) -> "Manifest":
        """Read the marker of ``dest``; an empty manifest when there is none."""
        path = Path(dest) / MARKER
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        units = {}
        for key, u in data.get("units", {}).items():
            files = [FileEntry(**f) for f in u.pop("files", [])]
            units[key] = UnitEntry(files=files, **u)
        return cls(units=units, sources=list(data.get("sources", [])),
                   format_version=int(data.get("format_version", 1)))

    def save(self, dest: str | os.PathLike) -> None:
        """Write the marker atomically (temporary file flushed to disk, then renamed).

        It is rewritten after every converted unit, so it is encoded with msgspec
        (dataclasses as they are): 8 ms instead of 142 ms with ``asdict`` and
        :mod:`json` for the 2.8 MB marker of a 20 M-tuple dataset.
        """
        data = {"flowkit_dataset": True, "format_version": self.format_version,
                "sources": self.sources, "units": dict(sorted(self.units.items()))}
        atomic_write(Path(dest) / MARKER, msgspec.json.format(msgspec.json.encode(data), indent=1))

    def files(self) -> list[FileEntry]:
        """Every file of the dataset, in source listing order (by first blob name)."""
        out = [f for u in self.units.values() for f in u.files]
        return sorted(out, key=lambda f: (f.first_blob, f.path))

    def referenced(self) -> set[str]:
        """Relative paths of every file the dataset is made of (Parquet and quarantine files)."""
        out = {f.path for u in self.units.values() for f in u.files}
        return out | {u.quarantine for u in self.units.values() if u.quarantine}

    def upgrade(self, names: LocalNames) -> int:
        """Turn a format-1 manifest (local files named as typed) into the current format; return
        how many units were dropped as copies of others.

        Local names (those that exist from the current folder, or are absolute) become
        canonical, their spelling kept as labels. Two units that become one (the same
        logs converted under two spellings) and hold the same blob versions are one:
        the second copy is dropped, and its files are then leftovers. Units that become
        one but differ are both kept (under ``key#2``, ...), rows included.
        """
        if self.format_version >= FORMAT_VERSION:
            return 0
        dropped = 0
        units: dict[str, UnitEntry] = {}
        for key, unit in self.units.items():
            if os.path.isabs(key) or os.path.exists(key):
                ids = {name: names.canonical(name) for name in unit.blobs}
                unit.blobs = {ids[n]: sig for n, sig in unit.blobs.items()}
                for f in unit.files:
                    f.first_blob = ids.get(f.first_blob) or names.canonical(f.first_blob)
                key = names.canonical(key)
                unit.set_labels(key, {ids[n]: n for n in ids})
            if key in units:
                if units[key].blobs == unit.blobs:
                    dropped += 1
                    continue
                n = 2
                while f"{key}#{n}" in units:
                    n += 1
                key = f"{key}#{n}"
            units[key] = unit
        self.units = units
        self.format_version = FORMAT_VERSION
        return dropped
