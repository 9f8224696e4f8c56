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

import inspect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Sequence, runtime_checkable

import pandas as pd

from flowkit.errors import SourceError
from flowkit.sources.layout import BlobMeta
from flowkit.sources.redact import redact

__all__ = ["BlobRef", "Listing", "FlowSource", "CompositeSource", "read_concurrently"]


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
    """The blobs a source will read, and how many it skipped by their path (time, MAC, type).

    Attributes
    ----------
    refs : tuple of BlobRef
    skipped : int
        Files or blobs the source saw and left out by their path: a local source counts
        every file it found; the Azure source only blobs it listed, not those under
        prefixes its plan never listed (other hours, MACs or resources), which it never
        sees. Becomes the load report's ``files_skipped``.
    hours : tuple of two Timestamps, or None
        The first and last hour named by the path of any file the source saw, read or
        skipped (a local source knows them; None when unknown). Says where the logs are
        when a window misses them all.
    """

    refs: tuple[BlobRef, ...]
    skipped: int = 0
    hours: tuple[pd.Timestamp, pd.Timestamp] | None = None


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


class CompositeSource:
    """Several sources read as one, in their order (a list mixing local paths and Azure addresses).

    Every part lists with the same log type, window and MAC; the listing is the parts'
    listings one after the other, and ``skipped`` is the sum of theirs. A blob that two
    parts list (the same file or blob named twice) is read once, by the first part that
    listed it, as a :class:`flowkit.sources.local.LocalSource` reads a file named twice
    once. Sameness is identity, not the listed properties: a part with an ``identity(ref)``
    method says what it is (the Azure source: account, container and blob name, so a
    blob committed to between two listings is still one blob; local files: their real
    path); for other parts, the ref's container and name. Each ref is read by the part
    that listed it.

    Parameters
    ----------
    parts : sequence of FlowSource

    Examples
    --------
    >>> class Fixed:
    ...     def __init__(self, *names): self.names = names
    ...     def list_blobs(self, **kw): return Listing(tuple(BlobRef(n) for n in self.names), skipped=1)
    ...     def iter_bytes(self, refs): return ((i, r.name.encode()) for i, r in enumerate(refs))
    ...     def describe(self): return "fixed: " + ",".join(self.names)
    >>> src = CompositeSource([Fixed("a", "b"), Fixed("c")])
    >>> listing = src.list_blobs()
    >>> [r.name for r in listing.refs], listing.skipped, src.describe()
    (['a', 'b', 'c'], 2, 'fixed: a,b; fixed: c')
    >>> sorted(src.iter_bytes(listing.refs))
    [(0, b'a'), (1, b'b'), (2, b'c')]
    """

    def __init__(self, parts: Sequence[FlowSource]) -> None:
        self.parts: tuple[FlowSource, ...] = tuple(parts)
        self._owner: dict[BlobRef, int] = {}  # which part listed a ref (refs compare by value)

    def __repr__(self) -> str:
        return "CompositeSource([" + ", ".join(repr(p) for p in self.parts) + "])"

    def describe(self) -> str:
        """What each part reads, joined by ``"; "`` (each part keeps secrets out of its own)."""
        return "; ".join(p.describe() for p in self.parts)

    def list_blobs(self, *, log_type: str | None = None, start: Any = None, end: Any = None,
                   mac: str | None = None) -> Listing:
        """The parts' listings one after the other; ``skipped`` adds up theirs, ``hours`` spans theirs."""
        owner: dict[BlobRef, int] = {}
        seen: set[Any] = set()
        skipped = 0
        hours: list[pd.Timestamp] = []
        for k, part in enumerate(self.parts):
            listing = part.list_blobs(log_type=log_type, start=start, end=end, mac=mac)
            skipped += listing.skipped
            hours += listing.hours or ()
            identity = getattr(part, "identity", None)
            for ref in listing.refs:
                key = identity(ref) if callable(identity) else ("ref", ref.container, ref.name)
                if key in seen:
                    continue
                seen.add(key)
                owner.setdefault(ref, k)
        self._owner.update(owner)
        return Listing(refs=tuple(owner), skipped=skipped, hours=(min(hours), max(hours)) if hours else None)

    def iter_bytes(self, refs: Sequence[BlobRef], *, progress: bool | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index into refs, content)``, each ref read by the part that listed it.

        ``progress`` is handed to the parts that take it (the Azure source's own bar).
        """
        groups: dict[int, list[int]] = {}
        for i, ref in enumerate(refs):
            k = self._owner.get(ref)
            if k is None:
                raise SourceError(f"{redact(ref.name)!r} was not listed by this source: list it first")
            groups.setdefault(k, []).append(i)
        for k in sorted(groups):
            part, index = self.parts[k], groups[k]
            wanted = [refs[i] for i in index]
            if progress is not None and "progress" in inspect.signature(part.iter_bytes).parameters:
                contents = part.iter_bytes(wanted, progress=progress)  # type: ignore[call-arg]
            else:
                contents = part.iter_bytes(wanted)
            for j, data in contents:
                yield index[j], data


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
