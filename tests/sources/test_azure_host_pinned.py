"""azure_host pinned: its public names, and how far behind an error the search for the cause goes (pure)."""

from __future__ import annotations

import socket

import pytest

from flowkit.sources import azure_host
from flowkit.sources.azure_host import missing_host


def test_public_names():
    assert azure_host.__all__ == ["missing_host", "is_loopback", "refused_locally", "retry_policy"]


def _chain(depth: int) -> tuple[BaseException, socket.gaierror]:
    """``depth`` wrappers, each the ``__cause__`` of the one before, then the resolver's "no such name"."""
    inner = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    err: BaseException = inner
    for k in range(depth):
        outer = RuntimeError(f"wrapper {k}")
        outer.__cause__ = err
        err = outer
    return err, inner


@pytest.mark.parametrize("depth, found", [(0, True), (50, True), (51, False)])
def test_the_cause_is_looked_for_among_the_first_51_errors_only(depth, found):
    outer, inner = _chain(depth)
    assert (missing_host(outer) is inner) is found
    assert (missing_host(outer) is None) is not found
