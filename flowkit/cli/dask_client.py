"""``--dask [SCHEDULER]`` for the subcommands that can run on Dask (``compare``, ``inspect``).

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_dask_argument(parser, "reconcile on Dask")
>>> parser.parse_args(["--dask"]).dask, parser.parse_args([]).dask
('local', None)
"""

from __future__ import annotations

import argparse
import logging
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["add_dask_argument", "dask_client", "restore_scheduler", "CONNECT_TIMEOUT"]

#: How long ``--dask ADDRESS`` waits for the scheduler before giving up.
CONNECT_TIMEOUT = "10s"


def add_dask_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--dask [SCHEDULER]`` to ``parser``; ``what`` starts its help text."""
    parser.add_argument("--dask", nargs="?", const="local", metavar="SCHEDULER",
                        help=f"{what}: a distributed scheduler address (tcp://host:8786), or 'local' (the "
                             "default when no address is given) for two worker processes on 127.0.0.1")


@contextmanager
def dask_client(address: str) -> Iterator[None]:
    """A ``distributed.Client`` on a local cluster (``"local"``) or at ``address``, for the block.

    Raises
    ------
    flowkit.errors.FlowkitError
        When ``address`` is not a scheduler address, or the scheduler there cannot be reached
        within :data:`CONNECT_TIMEOUT`.
    """
    from contextlib import ExitStack

    import dask
    from distributed import Client

    from flowkit.errors import FlowkitError
    from flowkit.scale.cluster import local_cluster
    from flowkit.sources.redact import neutralize_exception, redact

    with ExitStack() as stack:
        if address == "local":
            # The workers' own logs stay quiet: an error in a task (a blob that is not a flow
            # log: FormatError) reaches this process as the exception, printed once as the error.
            cluster = stack.enter_context(local_cluster(n_workers=2, silence_logs=logging.CRITICAL))
            stack.enter_context(Client(cluster))
        else:
            # Client() makes itself dask's scheduler and default client before it connects, and one
            # that never connects undoes that only when it is garbage-collected: until then every
            # other computation of this process hangs or fails ("no Client active"). A failed
            # connection undoes it at once.
            scheduler = dask.config.get("scheduler", None)
            try:
                stack.enter_context(Client(address, timeout=CONNECT_TIMEOUT))
            except ValueError as exc:  # distributed's word for an address it cannot parse
                # ``--dask`` takes an optional value: a SAS URL meant as the PATH can land here
                restore_scheduler(scheduler, close_unconnected=True)
                neutralize_exception(exc)
                raise FlowkitError(f"{redact(address)!r} is not a Dask scheduler address: give tcp://host:port, "
                                   "or 'local'") from None
            except (OSError, TimeoutError) as exc:
                restore_scheduler(scheduler, close_unconnected=True)
                neutralize_exception(exc)
                raise FlowkitError(f"cannot reach the Dask scheduler at {redact(address)} "
                                   f"(waited {CONNECT_TIMEOUT}): {type(exc).__name__}") from None
        yield


def restore_scheduler(scheduler: Any, *, close_unconnected: bool = False) -> None:
    """Set dask's ``scheduler`` option back to ``scheduler`` (None: unset, dask's default), and
    with ``close_unconnected`` first close the default ``distributed.Client`` if it never connected
    (one whose constructor failed), so that it is no longer the default client.

    Examples
    --------
    >>> import dask
    >>> restore_scheduler(None); dask.config.get("scheduler", None) is None
    True
    """
    import dask

    if close_unconnected:
        from distributed import default_client

        try:
            stale = default_client()
        except ValueError:  # no default client
            stale = None
        if stale is not None and stale.status != "running":
            stale.close()
    if scheduler is None:
        dask.config.config.pop("scheduler", None)
    else:
        dask.config.set(scheduler=scheduler)
