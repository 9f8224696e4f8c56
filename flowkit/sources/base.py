"""What every flow-log source provides: a listing of blobs and their bytes.

Sources know nothing of JSON; decoders know nothing of Azure (STYLE.md example 3).
:func:`flowkit.read_flow_logs` accepts any object with these methods.

Examples
--------
>>> ref = BlobRef(name="a/PT1H.json")
>>> ref.meta.log_type is None
True
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator, Protocol, Sequence, runtime_checkable

import pandas as pd

from flowkit.sources.layout import BlobMeta

__all__ = ["BlobRef", "Listing", "FlowSource", "read_concurrently"]


@dataclass(frozen=True)
class BlobRef:
    """One file or blob to read.

    Attributes
    ----------
    name : str
        Path or blob name; becomes the ``blob`` column. Never holds a secret.
    meta : BlobMeta
        What the path says (log type, hour, MAC, resource).
    size : int or None
        Size in bytes when the listing knows it.
    """

    name: str
    meta: BlobMeta = field(default_factory=BlobMeta)
    size: int | None = None
    container: str | None = None


@dataclass(frozen=True)
class Listing:
    """The blobs a source will read, and how many it skipped by their path (time, MAC, type)."""

    refs: tuple[BlobRef, ...]
    skipped: int = 0


@runtime_checkable
class FlowSource(Protocol):
    """Protocol of flow-log sources (local files, Azure Blob Storage, …)."""

    def list_blobs(self, *, log_type: str | None = None, start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None, mac: str | None = None) -> Listing:
        """Return the blobs that may hold tuples of that type, window and MAC."""
        ...

    def iter_bytes(self, refs: Sequence[BlobRef]) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index into refs, content)`` for every ref, in any order.

        Raise :class:`flowkit.errors.SourceError` when one cannot be read: a read
        never returns a silently partial result.
        """
        ...

    def describe(self) -> str:
        """Say what is read, for reports; never includes a secret."""
        ...


def read_concurrently(refs: Sequence[BlobRef], read_one, max_workers: int) -> Iterator[tuple[int, bytes]]:
    """Helper for sources: run ``read_one(ref) -> bytes`` over refs with a bounded pool.

    Yields results as they complete; at most ``2 * max_workers`` contents are held
    at once so a large listing does not fill memory.

    Examples
    --------
    >>> sorted(read_concurrently([BlobRef("a"), BlobRef("b")], lambda r: r.name.encode(), 2))
    [(0, b'a'), (1, b'b')]
    """
    if max_workers <= 1 or len(refs) <= 1:
        for i, ref in enumerate(refs):
            yield i, read_one(ref)
        return
    from collections import deque

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        pending: deque = deque()
        it = iter(enumerate(refs))
        for i, ref in it:
            pending.append((i, pool.submit(read_one, ref)))
            if len(pending) >= 2 * max_workers:
                j, fut = pending.popleft()
                yield j, fut.result()
        while pending:
            j, fut = pending.popleft()
            yield j, fut.result()
