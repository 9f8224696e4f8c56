"""What every source shares (flowkit.sources.base): frozen refs and listings, a composite that
shows its parts, and read_concurrently's bounded pool (one thread when told so)."""

from __future__ import annotations

import dataclasses
import threading

import pytest

import flowkit.sources.base as base
from flowkit.sources.base import BlobRef, CompositeSource, Listing, read_concurrently
from flowkit.sources.local import LocalSource


def test_the_public_names():
    assert base.__all__ == ["BlobRef", "Listing", "FlowSource", "CompositeSource", "read_concurrently"]


def test_a_listing_skips_nothing_by_default_and_cannot_be_changed():
    listing = Listing((BlobRef("a.json"),))
    assert (listing.skipped, listing.hours) == (0, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        listing.skipped = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        BlobRef("a.json").name = "b.json"  # type: ignore[misc]


def test_a_composite_shows_its_parts_in_order_without_their_secrets():
    src = CompositeSource([LocalSource(["a.json", "b.json"]), LocalSource("https-logs/c.json?sig=TOPSECRET")])
    assert repr(src) == ("CompositeSource([LocalSource(['a.json', 'b.json']), "
                         "LocalSource(['https-logs/c.json?REDACTED'])])")
    assert repr(CompositeSource([])) == "CompositeSource([])"


class _Counted:
    """A sequence of refs that counts how many of them were taken so far."""

    def __init__(self, n: int) -> None:
        self.refs, self.taken = [BlobRef(f"b{i}") for i in range(n)], 0

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i):
        return self.refs[i]

    def __iter__(self):
        for ref in self.refs:
            self.taken += 1
            yield ref


@pytest.mark.parametrize("workers", [2, 3])
def test_at_most_twice_the_workers_are_in_hand_when_the_first_content_is_yielded(workers):
    refs = _Counted(10)
    out = read_concurrently(refs, lambda r: r.name.encode(), workers)
    assert next(out) == (0, b"b0")
    assert refs.taken == 2 * workers
    assert list(out) == [(i, f"b{i}".encode()) for i in range(1, 10)]  # in order, each once


@pytest.mark.parametrize("workers, n", [pytest.param(2, 2, id="two-workers-two-refs"),
                                        pytest.param(4, 3, id="four-workers-three-refs")])
def test_several_workers_read_at_once(workers, n):
    """Every read waits for the others: a one-at-a-time loop would break the barrier."""
    barrier = threading.Barrier(n, timeout=10)

    def read(ref: BlobRef) -> bytes:
        barrier.wait()
        return ref.name.encode()

    assert sorted(read_concurrently([BlobRef(f"b{i}") for i in range(n)], read, workers)) == \
        [(i, f"b{i}".encode()) for i in range(n)]


def test_one_worker_reads_every_ref_in_the_calling_thread_in_order():
    threads: list[int] = []

    def read(ref: BlobRef) -> bytes:
        threads.append(threading.get_ident())
        return ref.name.encode()

    out = list(read_concurrently([BlobRef("a"), BlobRef("b"), BlobRef("c")], read, 1))
    assert out == [(0, b"a"), (1, b"b"), (2, b"c")]
    assert threads == [threading.get_ident()] * 3
