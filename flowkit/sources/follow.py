"""Follow growing flow-log blobs: each poll returns only records added since the last.

Azure writes a ``PT1H.json`` block blob as a 12-byte head block ``{"records":[``, one
block per record (``,{…}`` after the first) inserted about once a minute *before* the
2-byte tail block ``]}``. A follower keeps, per blob, the committed block IDs it has
consumed (as a digest), their byte total and the ETag. On each poll it lists the
window (narrow prefixes), skips blobs whose ETag is unchanged, reads the committed
block list of the others, checks that the consumed blocks are still the first ones,
and downloads only the byte range of the new blocks (``download_blob(offset, length)``
guarded by the ETag). Blobs written without a block list are followed by byte range,
with the bytes before the offset checked by digest. A blob that was replaced or shrank
is read again from the start, with a warning.

The checkpoint is a JSON file written atomically (temporary file and
:func:`os.replace`) *before* a batch is handed over, so a new process given the same
file carries on where the last stopped.

Examples
--------
>>> Checkpoint.empty().blobs
{}
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from flowkit.addresses import normalize_mac
from flowkit.atomic import atomic_write
from flowkit.errors import SourceError
from flowkit.load_report import LoadReport
from flowkit.sources.blob_cache import SETTLE
from flowkit.sources.layout import to_utc

__all__ = ["FollowBatch", "Checkpoint", "Follower"]

#: Seconds a follower reuses the resource discovery of earlier polls.
DISCOVERY_TTL = 300.0
_CHECK_BYTES = 64  # bytes before the offset re-read and compared in byte-range mode


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
    """

    frame: pd.DataFrame
    report: LoadReport
    polled_at: pd.Timestamp
    blobs_changed: int = 0
    bytes_downloaded: int = 0
    reread: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.frame)


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
        if data.get("version") != 1:
            raise SourceError(f"checkpoint {str(p)!r} has an unknown version {data.get('version')!r}")
        return cls(blobs=data.get("blobs", {}), log_type=data.get("log_type"), mac=data.get("mac"),
                   start=data.get("start"), done_before=data.get("done_before"), source=data.get("source"))

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a temporary file in the same folder, fsync, then os.replace."""
        p = Path(os.path.expanduser(os.fspath(path)))
        p.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": 1, "source": self.source, "log_type": self.log_type,
                           "mac": self.mac, "start": self.start, "done_before": self.done_before,
                           "blobs": self.blobs}, indent=1, sort_keys=True).encode("utf-8")
        atomic_write(p, body)


def _digest(ids: list[str]) -> str:
    h = hashlib.sha256()
    for i in ids:
        h.update(i.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _tail_start(data: bytes) -> int | None:
    """Offset of the closing ``]`` of ``…]}`` (whitespace allowed), or None."""
    end = len(data.rstrip())
    if end == 0 or data[end - 1:end] != b"}":
        return None
    k = len(data[:end - 1].rstrip())
    return k - 1 if k and data[k - 1:k] == b"]" else None


class Follower:
    """Polls one :class:`flowkit.sources.azure.AzureBlobSource` for new records.

    Parameters
    ----------
    source : AzureBlobSource
    log_type, mac, start, end
        What to follow; ``start`` defaults to the hour before the first poll.
    checkpoint : str or PathLike, optional
        File keeping the state across processes; without it the state lives in memory.
    strict : bool
    clock : callable, optional
        Returns "now" (UTC Timestamp); for tests.

    Examples
    --------
    >>> f = Follower(src, log_type="vnet", checkpoint="follow.json")  # doctest: +SKIP
    >>> batch = f.poll()  # doctest: +SKIP
    """

    def __init__(self, source: Any, *, log_type: str | None = None,
                 checkpoint: str | os.PathLike | None = None, start: Any = None, end: Any = None,
                 mac: str | None = None, strict: bool = False,
                 clock: Callable[[], pd.Timestamp] | None = None) -> None:
        self.source = source
        self.checkpoint_path = checkpoint
        self.strict = strict
        self.clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self.end = to_utc(end)
        self.state = Checkpoint.load(checkpoint) if checkpoint else Checkpoint()
        self._reasons: dict[str, str] = {}
        mac = normalize_mac(mac)
        st = self.state
        if st.blobs or st.start:
            if (st.log_type, st.mac) != (log_type, mac):
                raise SourceError(f"checkpoint {os.fspath(checkpoint)!r} was written for log_type="
                                  f"{st.log_type!r}, mac={st.mac!r}, not {log_type!r}, {mac!r}")
            if st.source and st.source != source.describe():
                warnings.warn(f"flowkit: checkpoint was written for {st.source}, now following "
                              f"{source.describe()}", stacklevel=3)
        st.log_type, st.mac, st.source = log_type, mac, source.describe()
        if st.start is None:
            first = to_utc(start) or (self.clock().floor("h") - pd.Timedelta(hours=1))
            st.start = first.isoformat()

    # -- one poll -------------------------------------------------------------------
    def poll(self) -> FollowBatch:
        """Read what was committed since the last poll; save the checkpoint; return it."""
        from flowkit.read import frame_from_tables

        now = self.clock()
        st = self.state
        lo = to_utc(st.start)
        if st.done_before:
            lo = max(lo, to_utc(st.done_before))
        hi = self.end or now  # the hour of "now" (and of now + SKEW) is listed
        listing = self.source.list_blobs(log_type=st.log_type, start=lo, end=hi, mac=st.mac,
                                         discovery_ttl=DISCOVERY_TTL)
        todo = [r for r in listing.refs if st.blobs.get(r.name, {}).get("etag") != r.etag]
        self._reasons: dict[str, str] = {}
        workers = max(1, min(self.source.max_concurrency, len(todo)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(self._advance, todo))
        tables, reports, reread, downloaded = [], [], [], 0
        for ref, (decoded, entry, nbytes, was_reread) in sorted(zip(todo, results), key=lambda x: x[0].name):
            st.blobs[ref.name] = entry
            downloaded += nbytes
            if decoded is not None:
                tables.append(decoded.table)
                reports.append(decoded.report)
            if was_reread:
                reread.append(ref.name)
        for name, reason in sorted(self._reasons.items()):
            warnings.warn(f"flowkit: {name} {reason}; reading it again from the start "
                          f"(rows delivered before may repeat)", stacklevel=2)
        frame = frame_from_tables(tables)
        report = LoadReport.combine(reports, sources=(self.source.describe(),))
        self._advance_window(now)
        if self.checkpoint_path:
            st.save(self.checkpoint_path)
        return FollowBatch(frame=frame, report=report, polled_at=now, blobs_changed=len(todo),
                           bytes_downloaded=downloaded, reread=tuple(reread))

    def run(self, *, interval: float = 60.0, max_polls: int | None = None) -> Iterator[FollowBatch]:
        """Poll every ``interval`` seconds and yield each batch (also empty ones)."""
        polls = 0
        while max_polls is None or polls < max_polls:
            began = time.monotonic()
            yield self.poll()
            polls += 1
            if max_polls is not None and polls >= max_polls:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - began)))

    def _advance_window(self, now: pd.Timestamp) -> None:
        """Hours sealed at this poll are final: list from after them next time, forget them."""
        st = self.state
        sealed = (now - pd.Timedelta(hours=1) - SETTLE).floor("h")
        if self.end is not None:
            sealed = min(sealed, self.end.floor("h"))
        old = to_utc(st.done_before) if st.done_before else None
        if old is None or sealed > old:
            st.done_before = sealed.isoformat()
        cutoff = to_utc(st.done_before) - pd.Timedelta(hours=2)
        from flowkit.sources.layout import parse_blob_path

        for key in list(st.blobs):
            hour = parse_blob_path(key).hour
            if hour is not None and hour < cutoff:
                del st.blobs[key]

    # -- one blob -------------------------------------------------------------------
    def _decode(self, data: bytes, ref: Any) -> Any:
        from flowkit.formats.decode import decode_blob

        return decode_blob(data, ref, strict=self.strict)

    def _advance(self, ref: Any) -> tuple[Any, dict[str, Any], int, bool]:
        from flowkit.sources.azure import plain_etag

        src = self.source
        container, blob = ref.container, ref.blob
        entry = self.state.blobs.get(ref.name)
        client = src._client(container).get_blob_client(blob)
        where = "following"
        for attempt in range(4):
            with src._guard(where, container, blob, "blob"):
                blocks = client.get_block_list("committed")[0]
            sizes = [b.size for b in blocks]
            etag, size = ref.etag, ref.size
            if attempt or (blocks and sum(sizes) != size):  # changed since listing: ask again
                with src._guard(where, container, blob, "blob"):
                    props = client.get_blob_properties()
                etag, size = plain_etag(props.etag), props.size
                if blocks and sum(sizes) != size:
                    continue
            try:
                if blocks:
                    return self._by_blocks(ref, entry, [b.id for b in blocks], sizes, etag)
                return self._by_bytes(ref, entry, etag, size)
            except SourceError as exc:
                if "changed while it was read" not in str(exc):
                    raise
        raise SourceError(f"{container}/{blob} kept changing during 4 attempts to follow it")

    def _whole(self, ref: Any, etag: str, reason: str | None) -> tuple[Any, bytes]:
        if reason:  # warned by poll(), in the caller's thread
            self._reasons[ref.name] = reason
        data, _ = self.source.download(ref.container, ref.blob, etag=etag)
        return self._decode(data, ref), data

    def _by_blocks(self, ref: Any, entry: dict | None, ids: list[str], sizes: list[int],
                   etag: str) -> tuple[Any, dict[str, Any], int, bool]:
        tail = len(sizes) >= 2 and sizes[-1] == 2
        body = len(sizes) - 1 if tail else len(sizes)  # head and record blocks
        reason = None
        if entry is not None:
            n, offset = entry.get("blocks", -1), entry.get("offset", -1)
            if entry.get("mode") != "blocks":
                reason = "was replaced or shrank (it now has a block list)"
            elif n > len(ids) or sum(sizes[:n]) != offset or _digest(ids[:n]) != entry.get("ids"):
                reason = "was replaced or shrank"
            elif n > body:
                reason = "was replaced or shrank (its tail block is gone)"
        new_entry = {"mode": "blocks", "etag": etag, "blocks": body, "offset": sum(sizes[:body]),
                     "ids": _digest(ids[:body]), "hour": _hour(ref)}
        if entry is None or reason:
            decoded, data = self._whole(ref, etag, reason)
            return decoded, new_entry, len(data), reason is not None
        n, offset = entry["blocks"], entry["offset"]
        length = sum(sizes[n:body])
        if length == 0:
            return None, new_entry, 0, False
        data, _ = self.source.download(ref.container, ref.blob, offset=offset, length=length, etag=etag)
        return self._decode(data, ref), new_entry, len(data), False

    def _by_bytes(self, ref: Any, entry: dict | None, etag: str,
                  size: int) -> tuple[Any, dict[str, Any], int, bool]:
        reason = None
        if entry is not None:
            if entry.get("mode") != "bytes":
                reason = "was replaced or shrank (its block list is gone)"
            elif size < entry.get("offset", 0) or entry.get("tail") is None:
                reason = "was replaced or shrank"
        if entry is None or reason:
            decoded, data = self._whole(ref, etag, reason)
            tail = _tail_start(data)
            return decoded, _bytes_entry(ref, etag, data, 0, tail), len(data), reason is not None
        offset = entry["offset"]
        begin = max(0, offset - _CHECK_BYTES)
        data, _ = self.source.download(ref.container, ref.blob, offset=begin, length=size - begin, etag=etag)
        if hashlib.sha256(data[:offset - begin]).hexdigest() != entry.get("check"):
            decoded, whole = self._whole(ref, etag, "was replaced or shrank (bytes before the offset changed)")
            return decoded, _bytes_entry(ref, etag, whole, 0, _tail_start(whole)), len(data) + len(whole), True
        rest = data[offset - begin:]
        tail = _tail_start(rest)
        if tail is None:
            decoded, whole = self._whole(ref, etag, "was replaced or shrank (it no longer ends in ']}')")
            return decoded, _bytes_entry(ref, etag, whole, 0, _tail_start(whole)), len(data) + len(whole), True
        fragment = rest[:tail]
        decoded = self._decode(fragment, ref) if fragment.strip() else None
        whole_prefix = data[:offset - begin] + fragment
        return decoded, _bytes_entry(ref, etag, whole_prefix, begin, len(whole_prefix)), len(data), False


def _hour(ref: Any) -> str | None:
    return ref.meta.hour.isoformat() if ref.meta.hour is not None else None


def _bytes_entry(ref: Any, etag: str, data: bytes, base: int, tail: int | None) -> dict[str, Any]:
    """Bookkeeping of a blob followed by byte range: offset of the tail and a digest before it."""
    if tail is None:
        return {"mode": "bytes", "etag": etag, "offset": base + len(data), "tail": None,
                "check": None, "hour": _hour(ref)}
    offset = base + tail
    check = data[max(0, tail - _CHECK_BYTES):tail]
    return {"mode": "bytes", "etag": etag, "offset": offset, "tail": True,
            "check": hashlib.sha256(check).hexdigest(), "hour": _hour(ref)}
