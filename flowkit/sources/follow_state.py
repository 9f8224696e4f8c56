"""What follow mode hands over and keeps: a poll's batch, and the checkpoint of what was delivered.

:class:`flowkit.sources.follow.Follower` returns a :class:`FollowBatch` per poll and keeps a
:class:`Checkpoint` (per blob, how far it was read) in a JSON file written atomically;
:mod:`flowkit.sources.follow` re-exports both.

Examples
--------
>>> Checkpoint.empty().blobs
{}
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from flowkit.atomic import atomic_write
from flowkit.errors import SourceError
from flowkit.load_report import LoadReport

__all__ = ["FollowBatch", "Checkpoint"]


@dataclass
class FollowBatch:
    """What one poll found.

    Attributes
    ----------
    frame : pandas.DataFrame
        The new rows, in the canonical schema (empty with every column when none).
    report : LoadReport
        The load report of the new bytes.
    polled_at : pandas.Timestamp
    blobs_changed : int
        Blobs that had new blocks (or were new).
    bytes_downloaded : int
        Bytes of blob content downloaded by this poll.
    reread : tuple of str
        Blobs that were replaced or shrank and were read again from the start.

    Examples
    --------
    >>> for batch in src.follow(log_type="vnet", checkpoint="follow.json"):  # doctest: +SKIP
    ...     store(batch.frame)
    ...     if enough():
    ...         batch.commit()  # keep this batch as delivered, then stop
    ...         break
    """

    frame: pd.DataFrame
    report: LoadReport
    polled_at: pd.Timestamp
    blobs_changed: int = 0
    bytes_downloaded: int = 0
    reread: tuple[str, ...] = ()
    _commit: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.frame)

    def commit(self) -> None:
        """Record this batch as delivered now (save the checkpoint), not at the next poll.

        Only needed before stopping: asking for the next batch commits this one.
        Committing again, or after the next poll, does nothing.
        """
        if self._commit is not None:
            self._commit()


@dataclass
class Checkpoint:
    """What a follower has delivered: per blob ``container/name``, its bookkeeping.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cp.json")
    >>> cp = Checkpoint.empty(); cp.blobs["c/x"] = {"etag": "0x1", "offset": 12}
    >>> cp.save(path); Checkpoint.load(path).blobs
    {'c/x': {'etag': '0x1', 'offset': 12}}
    """

    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_type: str | None = None
    mac: str | None = None
    start: str | None = None
    done_before: str | None = None
    source: str | None = None

    @classmethod
    def empty(cls) -> "Checkpoint":
        return cls()

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Checkpoint":
        """Read a checkpoint file; a missing file is an empty checkpoint."""
        p = Path(os.path.expanduser(os.fspath(path)))
        if not p.exists():
            return cls()
        try:
            data = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"checkpoint {str(p)!r} cannot be read: {exc}") from None
        if not isinstance(data, dict):  # JSON, but some other file (a list, a number)
            raise SourceError(f"checkpoint {str(p)!r} is not a flowkit checkpoint (JSON {type(data).__name__}, "
                              f"not an object): give a new file name, or the checkpoint follow wrote")
        version = data.get("version")
        if version != 1 or isinstance(version, bool):  # true == 1 in Python
            raise SourceError(f"checkpoint {str(p)!r} has an unknown version {version!r}")
        blobs = data.get("blobs", {})
        if (wrong := _damage(data, blobs)) is not None:
            raise SourceError(f"checkpoint {str(p)!r} is damaged: {wrong}. Restore it from a copy, or give a new "
                              f"file name (following then starts again from the start)")
        return cls(blobs=blobs, log_type=data.get("log_type"), mac=data.get("mac"),
                   start=data.get("start"), done_before=data.get("done_before"), source=data.get("source"))

    def copy(self) -> "Checkpoint":
        """A copy whose per-blob entries can be changed without touching this one."""
        return replace(self, blobs=copy.deepcopy(self.blobs))

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a temporary file in the same folder, fsync, then os.replace."""
        p = Path(os.path.expanduser(os.fspath(path)))
        p.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": 1, "source": self.source, "log_type": self.log_type,
                           "mac": self.mac, "start": self.start, "done_before": self.done_before,
                           "blobs": self.blobs}, indent=1, sort_keys=True).encode("utf-8")
        atomic_write(p, body)


#: The JSON types of a checkpoint's fields, and of the fields of a blob's entry (null is allowed).
_FIELDS = {"log_type": str, "mac": str, "start": str, "done_before": str, "source": str}
_ENTRY = {"mode": str, "etag": str, "blocks": int, "offset": int, "ids": str, "check": str, "tail": bool,
          "hour": str}


def _json_kind(value: Any) -> str:
    """How JSON names the type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _wrong(value: Any, kind: type) -> bool:
    """True when ``value`` (not null) is not of ``kind`` (a boolean is not a number)."""
    return value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool)))


def _damage(data: dict[str, Any], blobs: Any) -> str | None:
    """What is wrong with a version 1 checkpoint's fields (JSON ``data``), or None."""
    for key, kind in _FIELDS.items():
        if _wrong(data.get(key), kind):
            return f"{key!r} is {_json_kind(data[key])}, not a string"
    if not isinstance(blobs, dict):
        return f"'blobs' is {_json_kind(blobs)}, not an object"
    for name, entry in blobs.items():
        if not isinstance(entry, dict):
            return f"the entry of blob {name!r} is {_json_kind(entry)}, not an object"
        for key, kind in _ENTRY.items():
            if _wrong(entry.get(key), kind):
                want = {str: "a string", int: "a whole number", bool: "a boolean"}[kind]
                return f"{key!r} of blob {name!r} is {_json_kind(entry[key])}, not {want}"
    return None
