"""Storage connections that cannot succeed are not retried: no such host, nothing listening locally.

A mistyped account name (``contosoflowlgs.blob.core.windows.net``) has no DNS record. The
storage retry policy retried the connection like any other (five times, with growing
back-off), and the user waited over a minute for "cannot reach". The resolver's answer
"no such name" (``EAI_NONAME``) is not a transient failure: :func:`retry_policy` gives up at
once on it, and :func:`missing_host` lets the error say so. Likewise a connection refused by
this machine itself (``127.0.0.1``, ``::1``, ``localhost``: an emulator such as Azurite that is
not running, or a port forward that is not up) is not retried (:func:`refused_locally`).
Every other failure (a resolver that does not answer, a remote host refusing or timing out)
is retried as before. No name is looked up that the SDK would not have looked up itself.

Examples
--------
>>> import socket
>>> err = ConnectionError("while connecting")
>>> err.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
>>> missing_host(err).strerror
'Name or service not known'
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Callable
from urllib.parse import urlsplit

__all__ = ["missing_host", "is_loopback", "refused_locally", "retry_policy"]


def _behind(exc: BaseException, found: Callable[[BaseException], bool]) -> BaseException | None:
    """The first error ``found`` accepts, ``exc`` or one it wraps.

    Follows what the HTTP stack wraps an error in: ``__cause__``, ``__context__``, azure-core's
    ``inner_exception``, urllib3's ``reason`` and exceptions given as arguments.
    """
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen or len(seen) > 50:
            continue
        seen.add(id(err))
        if found(err):
            return err
        todo += [err.__cause__, err.__context__, getattr(err, "inner_exception", None),
                 getattr(err, "reason", None), *err.args]
    return None


def missing_host(exc: BaseException) -> socket.gaierror | None:
    """The "no such name" resolver error behind ``exc``, if there is one.

    Examples
    --------
    >>> missing_host(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")) is None
    True
    """
    found = _behind(exc, lambda err: isinstance(err, socket.gaierror) and err.errno == socket.EAI_NONAME)
    return found  # type: ignore[return-value]


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is this machine: ``localhost``, ``127.0.0.0/8`` or ``::1``.

    Every spelling of those counts: any case (``LOCALHOST``), the fully qualified name with its
    trailing dot (``localhost.``, ``azurite.localhost.``), an IPv6 zone (``[::1%lo]``) and the
    IPv4-mapped IPv6 form of a loopback address (``[::ffff:127.0.0.1]``). Nothing else does:
    not ``0.0.0.0``, ``::``, or a name that only resolves to a loopback address.

    Examples
    --------
    >>> is_loopback("http://127.0.0.1:10000/devstoreaccount1"), is_loopback("https://acct.blob.core.windows.net")
    (True, False)
    >>> is_loopback("http://[::ffff:127.0.0.1]:10000/a"), is_loopback("http://localhost.:10000/a")
    (True, True)
    """
    try:
        host = urlsplit(url).hostname or ""  # lower case
    except ValueError:
        return False
    name = host[:-1] if host.endswith(".") else host  # the root of DNS: "localhost." is "localhost"
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1 (Python < 3.13 says no)
    return (mapped or address).is_loopback


def refused_locally(exc: BaseException, url: str) -> ConnectionRefusedError | None:
    """The "connection refused" behind ``exc`` when ``url`` is on this machine, else None.

    Nothing listens on that port (an emulator that is not started): retrying only makes the
    user wait. A remote host that refuses may be restarting or failing over, and is retried.

    Examples
    --------
    >>> err = ConnectionError("while connecting")
    >>> err.__cause__ = ConnectionRefusedError(111, "Connection refused")
    >>> refused_locally(err, "http://127.0.0.1:10000/devstoreaccount1").strerror
    'Connection refused'
    >>> refused_locally(err, "https://acct.blob.core.windows.net/c") is None
    True
    """
    if not is_loopback(url):
        return None
    return _behind(exc, lambda err: isinstance(err, ConnectionRefusedError))  # type: ignore[return-value]


_POLICY: type | None = None


def retry_policy(**kwargs: Any) -> Any:
    """azure-storage-blob's ``ExponentialRetry`` (same arguments) that does not retry a request
    whose host name does not exist, or that this machine refused (:func:`refused_locally`).

    Examples
    --------
    >>> type(retry_policy(retry_total=3)).__name__  # doctest: +SKIP
    'ExponentialRetryUnlessHopeless'
    """
    global _POLICY
    if _POLICY is None:
        from azure.storage.blob import ExponentialRetry

        class ExponentialRetryUnlessHopeless(ExponentialRetry):  # type: ignore[misc, valid-type]
            def increment(self, settings: dict, request: Any, response: Any = None, error: Any = None) -> bool:
                if error is not None and (missing_host(error) is not None
                                          or refused_locally(error, getattr(request, "url", "")) is not None):
                    return False  # no retry: the policy raises the error as it is
                return super().increment(settings, request, response=response, error=error)

        _POLICY = ExponentialRetryUnlessHopeless
    return _POLICY(**kwargs)
