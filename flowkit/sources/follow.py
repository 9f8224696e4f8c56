"""Follow growing flow-log blobs: each poll returns only records added since the last.

Azure writes a ``PT1H.json`` block blob as a 12-byte head block ``{"records":[``, one
block per record (``,{…}`` after the first) inserted about once a minute *before* the
2-byte tail block ``]}``. A follower keeps, per blob, the committed block IDs it has
consumed (as a digest), their byte total, a digest of the 64 bytes before that offset
and the ETag. On each poll it lists the window (narrow prefixes), skips blobs whose
ETag is unchanged, reads the committed block list of the others, checks that the
consumed blocks are still the first ones, and downloads the byte range of the new
blocks together with the 64 bytes before them (``download_blob(offset, length)``
guarded by the ETag), which must still match their digest. Blobs written without a
block list are followed by byte range: the offset is kept right after the last complete
record (whitespace, ``\\r\\n`` or a trailing comma before ``]`` may change as records are
added) and the bytes before it are checked by digest. A blob that was replaced or shrank
is read again from the start, with a warning.

Delivery guarantee
------------------
At least once, and never twice for a batch the consumer finished. A batch counts as
delivered when the consumer asks for the next one (the next :meth:`Follower.poll`, the
next step of :meth:`Follower.run` or ``AzureBlobSource.follow``) or calls
:meth:`FollowBatch.commit`; only then does the follower's state advance and the
checkpoint (a JSON file written atomically: temporary file, fsync, :func:`os.replace`)
record it. A consumer that stops while it holds a batch (a crash, an exception in the
loop body, ``break`` without ``commit()``) gets the same rows again from the same
checkpoint file; one that raises while saving the checkpoint (a full disk) gets the
error from the call that asked for more, nothing advances, and calling again retries.
Rows are repeated on purpose in one case only: a blob replaced or shrunk is read again
from the start, with a warning. Tuples that cannot become rows are quarantined in the
batch's load report, with a :class:`flowkit.errors.FlowkitDataWarning`, as by
:func:`flowkit.read_flow_logs`.

Examples
--------
>>> Checkpoint.empty().blobs
{}
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

import pandas as pd

from flowkit.addresses import normalize_mac
from flowkit.errors import FlowkitDataWarning, SourceError
from flowkit.load_report import LoadReport
from flowkit.sources.blob_cache import SETTLE
from flowkit.sources.follow_state import Checkpoint, FollowBatch
from flowkit.sources.outage import MAX_OUTAGE, back_warning, lost_warning
from flowkit.sources.redact import neutralize_exception
from flowkit.sources.times import to_utc, to_window

__all__ = ["FollowBatch", "Checkpoint", "Follower"]

#: Seconds a follower reuses the resource discovery of earlier polls.
DISCOVERY_TTL = 300.0
_CHECK_BYTES = 64  # bytes before the offset re-read and compared to their digest


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


def _records_end(data: bytes, tail: int | None) -> int | None:
    """Offset right after the last complete record before the ``]`` at ``tail`` (or after ``[``).

    Whitespace and a trailing comma before ``]`` are left out: they change when a
    record is added (``…}\\n  ]`` becomes ``…},\\n    {…}\\n  ]``), the bytes before
    this offset do not.

    Examples
    --------
    >>> data = b'{\\r\\n "records": [\\r\\n  {"a":1},\\r\\n  {"a":2},\\r\\n ]\\r\\n}\\r\\n'
    >>> data[:_records_end(data, _tail_start(data))][-7:]
    b'{"a":2}'
    """
    if tail is None:
        return None
    end = len(data[:tail].rstrip())
    if data[end - 1:end] == b",":
        end = len(data[:end - 1].rstrip())
    return end


def _check(data: bytes, end: int) -> str:
    """Digest of the bytes (at most ``_CHECK_BYTES``) before ``end``."""
    return hashlib.sha256(data[max(0, end - _CHECK_BYTES):end]).hexdigest()


class Follower:
    """Polls one :class:`flowkit.sources.azure.AzureBlobSource` for new records.

    Each :meth:`poll` first records the previous batch as delivered (see "Delivery
    guarantee" in this module's documentation), then reads what was committed since.

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

    Attributes
    ----------
    state : Checkpoint
        What was delivered and committed (what the checkpoint file holds).

    Examples
    --------
    >>> f = Follower(src, log_type="vnet", checkpoint="follow.json")  # doctest: +SKIP
    >>> batch = f.poll()  # doctest: +SKIP
    >>> store(batch.frame); f.commit()  # doctest: +SKIP
    """

    def __init__(self, source: Any, *, log_type: str | None = None,
                 checkpoint: str | os.PathLike | None = None, start: Any = None, end: Any = None,
                 mac: str | None = None, strict: bool = False,
                 clock: Callable[[], pd.Timestamp] | None = None) -> None:
        self.source = source
        self.checkpoint_path = checkpoint
        self.strict = strict
        self.clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self.end = to_window(start, end)[1]  # start before end
        self.state = Checkpoint.load(checkpoint) if checkpoint else Checkpoint()
        self._pending: Checkpoint | None = None  # the state after the batch the consumer holds
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
            if st.start and start is not None and to_utc(start) != to_utc(st.start):
                # the checkpoint carries on where it stopped: an earlier start reads nothing more
                done = f" and has read the hours before {st.done_before}" if st.done_before else ""
                warnings.warn(f"flowkit: checkpoint {os.fspath(checkpoint)!r} follows from {st.start}{done}; "
                              f"start={to_utc(start).isoformat()} is not used: give a new checkpoint file "
                              f"to follow from it", stacklevel=3)
        st.log_type, st.mac, st.source = log_type, mac, source.describe()
        if st.start is None:
            first = to_utc(start) or (self.clock().floor("h") - pd.Timedelta(hours=1))
            st.start = first.isoformat()

    # -- delivery -------------------------------------------------------------------
    def commit(self) -> None:
        """Record the last batch returned as delivered: save the checkpoint, then advance.

        :meth:`poll` does this first, so call it only before stopping. If the save
        fails the error is raised and nothing advances; calling again retries.
        """
        pending = self._pending
        if pending is None:
            return
        if self.checkpoint_path:
            pending.save(self.checkpoint_path)
        self.state, self._pending = pending, None

    def _commit_state(self, state: Checkpoint) -> None:
        if self._pending is state:  # else committed already, by a later poll
            self.commit()

    # -- one poll -------------------------------------------------------------------
    def poll(self) -> FollowBatch:
        """Commit the previous batch, then return what was committed to the blobs since.

        Warns
        -----
        FlowkitDataWarning
            When tuples were quarantined or records damaged (``batch.report`` says which).
        UserWarning
            When a blob was replaced or shrank and is read again from the start.
        """
        from flowkit.read import frame_from_tables

        self.commit()  # the consumer asks for more: it is done with the previous batch
        now = self.clock()
        base = self.state
        st = base.copy()  # becomes the state only once this batch is committed
        lo = to_utc(st.start)
        if st.done_before:
            lo = max(lo, to_utc(st.done_before))
        hi = self.end or now  # the hour of "now" (and of now + SKEW) is listed
        listing = self.source.list_blobs(log_type=st.log_type, start=lo, end=hi, mac=st.mac,
                                         discovery_ttl=DISCOVERY_TTL)
        # The listing widens the window by SKEW for reads that filter rows; a follower delivers
        # blobs whole, so the hour before ``start`` (all of it before ``start``) is not followed.
        first_hour = to_utc(st.start).floor("h")
        todo = [r for r in listing.refs if (r.meta.hour is None or r.meta.hour >= first_hour)
                and base.blobs.get(r.name, {}).get("etag") != r.etag]
        self._reasons = {}
        workers = max(1, min(self.source.max_concurrency, len(todo)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda r: self._advance(r, base.blobs.get(r.name)), todo))
        tables, reports, reread, downloaded = [], [], [], 0
        for ref, result in sorted(zip(todo, results), key=lambda x: x[0].name):
            if result is None:  # listed, then deleted: nothing more will come from it
                st.blobs.pop(ref.name, None)
                warnings.warn(f"flowkit: {ref.name} was deleted after it was listed (a retention policy?); "
                              f"followed without it", FlowkitDataWarning, stacklevel=2)
                continue
            decoded, entry, nbytes, was_reread = result
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
        if report.quarantined or report.problems:
            warnings.warn(f"flowkit: {report.summary()}; see the load report", FlowkitDataWarning, stacklevel=2)
        self._advance_window(st, now)
        self._pending = st
        return FollowBatch(frame=frame, report=report, polled_at=now, blobs_changed=len(todo),
                           bytes_downloaded=downloaded, reread=tuple(reread),
                           _commit=lambda: self._commit_state(st))

    def run(self, *, interval: float = 60.0, max_polls: int | None = None,
            max_outage: float | None = MAX_OUTAGE) -> Iterator[FollowBatch]:
        """Poll every ``interval`` seconds and yield each batch (also empty ones).

        Asking for the next batch commits the one before, right away (not after the
        sleep); after the last of ``max_polls`` the generator commits when asked for
        more and stops. A generator closed while the consumer holds a batch (an
        exception or ``break`` in the loop) does not commit it: call
        :meth:`FollowBatch.commit` first to keep it.

        A poll that the account answers with a transient error after the SDK's retries
        (:class:`flowkit.sources.azure_auth.UnavailableError`: HTTP 503 ServerBusy,
        500 InternalError or OperationTimedOut, 502, 504, 408, 429), and, once a poll has
        reached the account, a poll that cannot reach it
        (:class:`flowkit.sources.azure_auth.UnreachableError`: a network or storage outage,
        an emulator stopped) is tried again at the next poll, for up to ``max_outage``
        seconds from the first poll that failed; then that poll's error is raised. A failed
        poll yields nothing, commits nothing and does not count in ``max_polls``: the next
        poll that succeeds delivers what was committed meanwhile, exactly once.
        One warning says the account was lost, one that it answers again. A first poll
        that reaches nothing is not retried: an address that never answered fails at once
        (a busy account did answer, so a follow started in its busy minutes waits).

        Parameters
        ----------
        interval : float
            Seconds from the start of one poll to the start of the next.
        max_polls : int, optional
            Stop after that many batches (None: never).
        max_outage : float, optional
            Seconds an outage may last before the error is raised (``MAX_OUTAGE``, 15
            minutes, by default; 0 raises at the first failed poll; None retries forever).

        Warns
        -----
        UserWarning
            When a poll cannot reach the account or is refused with a transient error
            (once per outage), and when it answers again.

        Examples
        --------
        >>> for batch in Follower(src, log_type="vnet").run(interval=60, max_outage=600):  # doctest: +SKIP
        ...     store(batch.frame)
        """
        from flowkit.sources.azure_auth import UnavailableError, UnreachableError

        polls, reached = 0, False
        lost_at: float | None = None  # time.monotonic() of the outage's first failed poll
        lost_since, failed = "", 0
        while max_polls is None or polls < max_polls:
            began = time.monotonic()
            try:
                batch = self.poll()
            except UnreachableError as exc:
                if not reached and not isinstance(exc, UnavailableError):
                    raise  # nothing answered at that address yet: a wrong address fails at once
                # a busy account answered: the address is right, and the outage warned of is waited
                # out whatever its next poll meets (a reset connection as much as another 503)
                reached = True
                if lost_at is None:
                    lost_at, lost_since, failed = began, _iso(self.clock()), 0
                failed += 1
                if max_outage is not None and time.monotonic() - lost_at >= max_outage:
                    raise
                if failed == 1:
                    warnings.warn(lost_warning(exc, lost_since, interval, max_outage), stacklevel=2)
                time.sleep(max(0.0, interval - (time.monotonic() - began)))
                continue
            reached = True
            if lost_at is not None:
                warnings.warn(back_warning(lost_since, failed), stacklevel=2)
                lost_at = None
            yield batch
            self.commit()
            polls += 1
            if max_polls is not None and polls >= max_polls:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - began)))

    def _advance_window(self, st: Checkpoint, now: pd.Timestamp) -> None:
        """Hours sealed at this poll are final: list from after them next time, forget them."""
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

    def _advance(self, ref: Any, entry: dict | None) -> tuple[Any, dict[str, Any], int, bool] | None:
        """What ``ref`` gained since ``entry``; None when it was deleted after it was listed."""
        from flowkit.sources.azure_read import BlobGoneError

        try:
            return self._advance_blob(ref, entry)
        except BlobGoneError:  # a retention policy at work on the oldest hour: poll() says so
            return None

    def _advance_blob(self, ref: Any, entry: dict | None) -> tuple[Any, dict[str, Any], int, bool]:
        from azure.core.exceptions import ResourceNotFoundError

        from flowkit.sources.azure import plain_etag
        from flowkit.sources.azure_read import BlobGoneError

        src = self.source
        container, blob = ref.container, ref.blob
        client = src._client(container).get_blob_client(blob)
        where = "following"

        @contextlib.contextmanager
        def guard() -> Iterator[None]:
            with src._guard(where, container, blob, "blob"):
                try:
                    yield
                except ResourceNotFoundError as exc:
                    if getattr(exc, "error_code", None) not in (None, "BlobNotFound"):
                        raise  # a missing container or account: the guard says so
                    neutralize_exception(exc, src._secrets)
                    raise BlobGoneError(f"{ref.name} was not found while following it") from None

        for attempt in range(4):
            with guard():
                blocks = client.get_block_list("committed")[0]
            sizes = [b.size for b in blocks]
            etag, size = ref.etag, ref.size
            if attempt or (blocks and sum(sizes) != size):  # changed since listing: ask again
                with guard():
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
        end = sum(sizes[:body])
        reason = None
        if entry is not None:
            n, offset = entry.get("blocks", -1), entry.get("offset", -1)
            if entry.get("mode") != "blocks":
                reason = "was replaced or shrank (it now has a block list)"
            elif n > len(ids) or sum(sizes[:n]) != offset or _digest(ids[:n]) != entry.get("ids"):
                reason = "was replaced or shrank"
            elif n > body:
                reason = "was replaced or shrank (its tail block is gone)"
        new_entry = {"mode": "blocks", "etag": etag, "blocks": body, "offset": end,
                     "ids": _digest(ids[:body]), "check": None, "hour": _hour(ref)}
        if entry is None or reason:
            decoded, data = self._whole(ref, etag, reason)
            new_entry["check"] = _check(data, end)
            return decoded, new_entry, len(data), reason is not None
        # The ETag changed: the same block IDs and sizes may still hold other bytes (a
        # blob written again by the same writer), so the bytes before the offset are
        # downloaded with the new ones and compared to their digest.
        offset = entry["offset"]
        begin = max(0, offset - _CHECK_BYTES)
        data, _ = self.source.download(ref.container, ref.blob, offset=begin, length=end - begin, etag=etag)
        if entry.get("check") is not None and _check(data, offset - begin) != entry["check"]:
            decoded, whole = self._whole(ref, etag, "was replaced (the bytes before the offset changed)")
            new_entry["check"] = _check(whole, end)
            return decoded, new_entry, len(data) + len(whole), True
        new_entry["check"] = _check(data, len(data))
        fragment = data[offset - begin:]
        return (self._decode(fragment, ref) if fragment else None), new_entry, len(data), False

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
            return decoded, _bytes_entry(ref, etag, data, _bytes_end(data)), len(data), reason is not None
        offset = entry["offset"]
        begin = max(0, offset - _CHECK_BYTES)
        data, _ = self.source.download(ref.container, ref.blob, offset=begin, length=size - begin, etag=etag)
        if _check(data, offset - begin) != entry.get("check"):
            decoded, whole = self._whole(ref, etag, "was replaced or shrank (bytes before the offset changed)")
            return decoded, _bytes_entry(ref, etag, whole, _bytes_end(whole)), len(data) + len(whole), True
        end = _bytes_end(data)
        if end is None:
            decoded, whole = self._whole(ref, etag, "was replaced or shrank (it no longer ends in ']}')")
            return decoded, _bytes_entry(ref, etag, whole, _bytes_end(whole)), len(data) + len(whole), True
        end = max(end, offset - begin)  # nothing new (an offset kept by an older flowkit may be past a comma)
        fragment = data[offset - begin:end]
        if fragment.strip(b" \t\r\n,"):
            if not fragment.lstrip().startswith(b","):
                fragment = b"," + fragment  # the first record(s) after "[": a fragment all the same
            decoded = self._decode(fragment, ref)
        else:
            decoded = None
        return decoded, _bytes_entry(ref, etag, data, end, begin), len(data), False


def _iso(ts: pd.Timestamp) -> str:
    """``2024-05-01T10:07:00Z``: a time in warnings, to the second."""
    return ts.floor("s").isoformat().replace("+00:00", "Z")


def _hour(ref: Any) -> str | None:
    return ref.meta.hour.isoformat() if ref.meta.hour is not None else None


def _bytes_end(data: bytes) -> int | None:
    """Offset right after the last complete record of a blob's bytes ending in ``]}``, or None."""
    return _records_end(data, _tail_start(data))


def _bytes_entry(ref: Any, etag: str, data: bytes, end: int | None, base: int = 0) -> dict[str, Any]:
    """Bookkeeping of a blob followed by byte range, from its bytes ``data`` read at ``base``.

    ``end`` (in ``data``) is right after the last complete record: the offset to carry on
    from, with a digest of the bytes before it. A blob that does not end in ``]}`` has
    none (``tail`` None): it is read again whole when it changes.
    """
    if end is None:
        return {"mode": "bytes", "etag": etag, "offset": base + len(data), "tail": None,
                "check": None, "hour": _hour(ref)}
    return {"mode": "bytes", "etag": etag, "offset": base + end, "tail": True,
            "check": _check(data, end), "hour": _hour(ref)}
