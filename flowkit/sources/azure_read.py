"""Reading blobs for :class:`flowkit.sources.azure.AzureBlobSource`: downloads, the local mirror.

:class:`BlobReader` holds the methods of the Azure source that fetch bytes: a checked
download of a blob or a byte range (:meth:`BlobReader.download`), the read of one listed
blob through the local mirror (:mod:`flowkit.sources.blob_cache`), and the bounded
concurrent iteration :func:`flowkit.read_flow_logs` consumes (:meth:`BlobReader.iter_bytes`).

A mirror that cannot be written (a full disk, a file where a folder should be, no
permission) never fails a read: the blob was downloaded, so it is returned, one warning
names the cache folder, and that source stops writing to it.

Examples
--------
>>> from flowkit.sources.azure import AzureBlobSource
>>> issubclass(AzureBlobSource, BlobReader)
True
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Iterator, Sequence

import pandas as pd

from flowkit.errors import FlowkitDataWarning, SourceError
from flowkit.sources.azure_auth import plain_etag
from flowkit.sources.base import BlobRef, read_concurrently
from flowkit.sources.blob_cache import BlobCache, is_sealed
from flowkit.sources.redact import neutralize_exception

__all__ = ["BlobReader", "BlobGoneError"]


class BlobGoneError(SourceError):
    """A blob that was listed is no longer there when it is downloaded (deleted in between)."""


class BlobReader:
    """Download and cache methods of the Azure blob source (a mixin; it holds no state of its own).

    The class using it provides ``_client(container)``, ``_guard(...)``, ``_secrets``,
    ``account``, ``cache`` (a :class:`flowkit.sources.blob_cache.BlobCache` or None),
    ``max_concurrency`` and ``progress``.

    Examples
    --------
    >>> BlobReader.download.__name__
    'download'
    """

    cache: BlobCache | None
    _cache_off = False
    _cache_lock = threading.Lock()

    def _split(self, ref: BlobRef) -> tuple[str, str]:
        container = getattr(ref, "container", None) or ""
        blob = getattr(ref, "blob", "")
        if blob:
            return container, blob
        first, _, rest = ref.name.partition("/")
        return (container, ref.name[len(container) + 1:]) if container else (first, rest)

    def download(self, container: str, blob: str, offset: int | None = None,
                 length: int | None = None, etag: str | None = None) -> tuple[bytes, Any]:
        """Download a blob or a byte range of it; return ``(bytes, BlobProperties)``.

        With ``etag`` the download fails with :class:`flowkit.errors.SourceError` if the
        blob changed. A body shorter than announced is an error, never a short result.

        Examples
        --------
        >>> data, props = src.download(VNET_CONTAINER, "flowLogResourceID=/…/PT1H.json")  # doctest: +SKIP
        """
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        client = self._client(container).get_blob_client(blob)
        cond = ({"etag": f'"{plain_etag(etag)}"', "match_condition": MatchConditions.IfNotModified}
                if etag else {})
        for attempt in range(4):
            with self._guard("reading", container, blob, "blob"):
                try:  # caught inside the guard, which would turn it into a generic error
                    stream = client.download_blob(offset=offset, length=length, max_concurrency=1, **cond)
                    data = stream.readall()
                except ResourceModifiedError as exc:
                    if etag or attempt == 3:  # the caller asked for this version only
                        neutralize_exception(exc, self._secrets)  # it stays the new error's __context__
                        raise SourceError(f"{self._secrets.clean(container)}/{self._secrets.clean(blob)} "
                                          "changed while it was read") from None
                    continue
                except ResourceNotFoundError as exc:
                    if getattr(exc, "error_code", None) not in (None, "BlobNotFound"):
                        raise  # a missing container or account: the guard says so
                    neutralize_exception(exc, self._secrets)
                    raise BlobGoneError(f"{self._secrets.clean(container)}/{self._secrets.clean(blob)} "
                                        f"was not found while reading it") from None
            expected = stream.size
            if len(data) != expected:
                raise SourceError(f"short read of {self._secrets.clean(container)}/{self._secrets.clean(blob)}: "
                                  f"{len(data)} of {expected} bytes")
            return data, stream.properties
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_one(self, ref: BlobRef) -> bytes:
        container, blob = self._split(ref)
        etag = getattr(ref, "etag", None)
        if self.cache is not None:
            cached = self.cache.get(self.account, container, blob, etag)
            if cached is not None:
                return cached
        try:
            data, props = self.download(container, blob)
        except BlobGoneError:
            # Listed, then deleted before its turn came (a retention policy at work on the
            # oldest hours of a long read): the read goes on without it, and says so
            # (iter_bytes warns, in the reader's thread, not this download thread).
            with self._cache_lock:
                self.__dict__.setdefault("_gone", set()).add((container, blob))
            return b""
        if "_gone" in self.__dict__:  # there again (re-created): an empty blob is empty, not gone
            with self._cache_lock:
                self.__dict__["_gone"].discard((container, blob))
        if self.cache is not None and not self._cache_off:
            lm = pd.Timestamp(props.last_modified) if props.last_modified else None
            if is_sealed(ref.meta.hour, lm, settle=self.cache.settle):
                self._keep(container, blob, data, plain_etag(props.etag), lm)
        return data

    def _keep(self, container: str, blob: str, data: bytes, etag: str | None,
              last_modified: pd.Timestamp | None) -> None:
        """Write a downloaded blob to the mirror; warn (once) instead of failing the read."""
        assert self.cache is not None
        try:
            stored = self.cache.put(self.account, container, blob, data, etag=etag, last_modified=last_modified)
        except OSError as exc:
            with self._cache_lock:
                first, self._cache_off = not self._cache_off, True
            if first:
                why = exc.strerror or type(exc).__name__
                warnings.warn(f"flowkit: cannot write to the cache folder "
                              f"{self._secrets.clean(str(self.cache.root))!r} ({why}); blobs are read "
                              f"but no longer cached by this source", stacklevel=4)
            return
        if not stored:
            warnings.warn(f"flowkit: blob name {self._secrets.clean(blob)!r} is unsafe "
                          f"for the cache folder; read but not cached", stacklevel=4)

    def iter_bytes(self, refs: Sequence[BlobRef], *, progress: bool | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index into refs, content)`` for every ref, as downloads complete.

        At most ``max_concurrency`` downloads run at once and ``2 * max_concurrency``
        contents wait in memory. Any blob that cannot be read completely raises
        :class:`flowkit.errors.SourceError`: the iteration never ends early in silence.
        A cache folder that cannot be written is warned about once, never an error.

        Examples
        --------
        >>> for i, data in src.iter_bytes(src.list_blobs(log_type="vnet").refs):  # doctest: +SKIP
        ...     print(i, len(data))
        """
        from flowkit.progress import progress_bar

        show = self.progress if progress is None else progress
        total = sum(r.size or 0 for r in refs)
        bar = progress_bar(total or None, f"flowkit: downloading {len(refs)} blob(s)", unit="B",
                           unit_scale=True, enabled=show if refs else False)
        done = 0
        try:
            for i, data in read_concurrently(refs, self._read_one, self.max_concurrency):
                if not data and self._split(refs[i]) in self.__dict__.get("_gone", ()):
                    container, blob = self._split(refs[i])
                    warnings.warn(f"flowkit: {self._secrets.clean(container)}/{self._secrets.clean(blob)} was "
                                  f"deleted after it was listed (a retention policy?); read without it",
                                  FlowkitDataWarning, stacklevel=2)
                done += 1
                bar.update(len(data))
                bar.set_postfix_str(f"{done}/{len(refs)} blobs", refresh=False)
                yield i, data
        finally:
            bar.close()
