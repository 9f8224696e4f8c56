"""``--dask ADDRESS`` that fails leaves dask as it was: distributed's Client makes itself dask's
scheduler before it connects, and a Client that never connected undid that only when it was
garbage-collected, so other computations of the process failed with "no Client active" until then
(a test reading with ``engine="dask"`` after a refused ``--dask`` failed now and then)."""

from __future__ import annotations

import gc

import dask
import pytest

from flowkit.cli.dask_client import dask_client, restore_scheduler
from flowkit.errors import FlowkitError


@pytest.fixture
def no_collection():
    """The garbage collector off, as when it has not yet run: the failed Client is not collected."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("address, message", [
    pytest.param("tcp://user:pass@127.0.0.1:1", "is not a Dask scheduler address", id="unparsable"),
    pytest.param("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1", id="refused"),
])
def test_a_scheduler_that_cannot_be_used_leaves_dask_as_it_was(no_collection, monkeypatch, address, message):
    monkeypatch.setattr("flowkit.cli.dask_client.CONNECT_TIMEOUT", "1s")
    assert dask.config.get("scheduler", None) is None
    with pytest.raises(FlowkitError, match=message):
        with dask_client(address):
            pass
    assert dask.config.get("scheduler", None) is None
    assert dask.delayed(sum)([1, 2]).compute() == 3  # the default scheduler, as before


def test_restore_scheduler_puts_back_a_scheduler_that_was_set():
    with dask.config.set(scheduler="threads"):
        dask.config.set(scheduler="dask.distributed")
        restore_scheduler("threads")
        assert dask.config.get("scheduler") == "threads"
    restore_scheduler(None)
    assert dask.config.get("scheduler", None) is None
