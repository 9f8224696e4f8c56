"""Outages while following: how long a follower waits for a storage account, and what it says.

An outage is a run of polls that fail with :class:`flowkit.sources.azure_auth.UnreachableError`:
an account that cannot be reached (network, DNS, an emulator stopped) or that answers
with a transient error after the SDK's retries (:class:`flowkit.sources.azure_auth.UnavailableError`:
HTTP 500, 502, 503, 504, 408 or 429; ServerBusy, InternalError, OperationTimedOut).
:meth:`flowkit.sources.follow.Follower.run`, ``AzureBlobSource.follow`` and ``flowkit follow
--max-outage`` all wait :data:`MAX_OUTAGE` seconds by default. No import here is heavy:
the command line reads the default from this module.

Examples
--------
>>> MAX_OUTAGE
900.0
>>> back_warning("2024-05-01T10:07:00Z", 2)
'flowkit: the storage account answers again (it did not from 2024-05-01T10:07:00Z, 2 failed poll(s)); following on'
"""

from __future__ import annotations

__all__ = ["MAX_OUTAGE", "lost_warning", "back_warning"]

#: Seconds a follower keeps polling an account it cannot reach (or that answers with
#: transient errors) before it gives up with the error (15 minutes).
MAX_OUTAGE = 900.0


def lost_warning(exc: BaseException, since: str, interval: float, max_outage: float | None) -> str:
    """The warning of an outage's first failed poll at ``since`` (``exc`` is its error).

    Examples
    --------
    >>> lost_warning(OSError("no route"), "2024-05-01T10:07:00Z", 60, 900)
    'flowkit: the storage account did not answer at 2024-05-01T10:07:00Z; polling again every 60 s, for up to 900 s: no route'
    """
    from flowkit.sources.azure_auth import UnavailableError

    what = "answered with errors" if isinstance(exc, UnavailableError) else "did not answer"
    bound = "" if max_outage is None else f", for up to {max_outage:g} s"
    return f"flowkit: the storage account {what} at {since}; polling again every {interval:g} s{bound}: {exc}"


def back_warning(since: str, failed: int) -> str:
    """The warning of the first poll that succeeds after ``failed`` failed polls since ``since``."""
    return (f"flowkit: the storage account answers again (it did not from {since}, "
            f"{failed} failed poll(s)); following on")
