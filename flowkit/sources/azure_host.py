"""A storage host name that DNS does not know is not retried.

A mistyped account name (``contosoflowlgs.blob.core.windows.net``) has no DNS record. The
storage retry policy retried the connection like any other (five times, with growing
back-off), and the user waited over a minute for "cannot reach". The resolver's answer
"no such name" (``EAI_NONAME``) is not a transient failure: :func:`retry_policy` gives up at
once on it, and :func:`missing_host` lets the error say so. Every other failure (a resolver
that does not answer, a refused or timed-out connection) is retried as before. No name is
looked up that the SDK would not have looked up itself.

Examples
--------
>>> import socket
>>> err = ConnectionError("while connecting")
>>> err.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
>>> missing_host(err).strerror
'Name or service not known'
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["missing_host", "retry_policy"]


def missing_host(exc: BaseException) -> socket.gaierror | None:
    """The "no such name" resolver error behind ``exc``, if there is one.

    Follows what the HTTP stack wraps an error in: ``__cause__``, ``__context__``, azure-core's
    ``inner_exception``, urllib3's ``reason`` and exceptions given as arguments.

    Examples
    --------
    >>> missing_host(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")) is None
    True
    """
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen or len(seen) > 50:
            continue
        seen.add(id(err))
        if isinstance(err, socket.gaierror) and err.errno == socket.EAI_NONAME:
            return err
        todo += [err.__cause__, err.__context__, getattr(err, "inner_exception", None),
                 getattr(err, "reason", None), *err.args]
    return None


_POLICY: type | None = None


def retry_policy(**kwargs: Any) -> Any:
    """azure-storage-blob's ``ExponentialRetry`` (same arguments) that does not retry a request
    whose host name does not exist.

    Examples
    --------
    >>> type(retry_policy(retry_total=3)).__name__  # doctest: +SKIP
    'ExponentialRetryUnlessNoSuchHost'
    """
    global _POLICY
    if _POLICY is None:
        from azure.storage.blob import ExponentialRetry

        class ExponentialRetryUnlessNoSuchHost(ExponentialRetry):  # type: ignore[misc, valid-type]
            def increment(self, settings: dict, request: Any, response: Any = None, error: Any = None) -> bool:
                if error is not None and missing_host(error) is not None:
                    return False  # no retry: the policy raises the error as it is
                return super().increment(settings, request, response=response, error=error)

        _POLICY = ExponentialRetryUnlessNoSuchHost
    return _POLICY(**kwargs)
