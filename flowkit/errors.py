"""flowkit's exception and warning types.

Every error flowkit raises on bad input is a :class:`FlowkitError`, with a message
that says what went wrong and where (file or blob, record, tuple). Messages never
contain account keys, SAS tokens or connection strings.
"""

from __future__ import annotations

__all__ = [
    "FlowkitError",
    "SourceError",
    "FormatError",
    "ArgumentError",
    "QuarantineError",
    "FlowkitDataWarning",
]


class FlowkitError(Exception):
    """Base class of every error flowkit raises on purpose."""


class SourceError(FlowkitError):
    """A source could not be listed or read (missing path, storage failure, auth)."""


class FormatError(FlowkitError):
    """Input is not a flow log flowkit can read at all (not JSON, not a flow log)."""


class ArgumentError(FlowkitError, ValueError):
    """An argument flowkit was given cannot be used (a time it cannot read, for one).

    Also a :class:`ValueError`, which is what such arguments raised before.
    """


class QuarantineError(FlowkitError):
    """Raised with ``strict=True`` on the first tuple or record that would be quarantined.

    Attributes
    ----------
    blob, record, tuple_index, reason, raw
        Where the problem is and what it looked like.
    """

    def __init__(self, blob: str, record: int | None, tuple_index: int | None,
                 reason: str, raw: str) -> None:
        self.blob, self.record, self.tuple_index = blob, record, tuple_index
        self.reason, self.raw = reason, raw
        where = f"{blob}"
        if record is not None:
            where += f", record {record}"
        if tuple_index is not None:
            where += f", tuple {tuple_index}"
        super().__init__(f"{reason} at {where}: {raw[:200]!r}")


class FlowkitDataWarning(UserWarning):
    """Some input was quarantined instead of becoming rows (see the load report)."""
