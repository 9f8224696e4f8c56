"""A guard, installed once per test process by tests/conftest.py: a TCP connection to anything
but this machine is refused (``ConnectionRefusedError``) and recorded in :data:`OFF_MACHINE`,
which the conftest's autouse fixture checks after every test. A UDP "connect" sends nothing and
is let through (some libraries find their own address so). Subprocesses (the CLI, kernels, Dask
workers, Chromium, Azurite) are not covered here; the browser's own rules are in tests/chromium.py.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

#: ``host:port`` of every connection the guard refused, in order.
OFF_MACHINE: list[str] = []


def on_this_machine(address: Any) -> bool:
    """True when a socket address is 127.0.0.0/8, ::1 (or ::ffff:127.x) or ``localhost``.

    Examples
    --------
    >>> on_this_machine(("127.0.0.1", 10000)), on_this_machine(("::1", 80, 0, 0)), on_this_machine(("192.0.2.1", 80))
    (True, True, False)
    """
    host = str(address[0]).split("%")[0].rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name other than localhost: resolved to who knows where
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def _guarded(connect: Any) -> Any:
    def guarded(sock: socket.socket, address: Any) -> Any:
        if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                and not on_this_machine(address)):
            OFF_MACHINE.append(f"{address[0]}:{address[1]}")
            raise ConnectionRefusedError(f"tests may not leave this machine (connection to {address[0]}:{address[1]})")
        return connect(sock, address)
    guarded.__wrapped__ = connect  # type: ignore[attr-defined]
    return guarded


if not hasattr(socket.socket.connect, "__wrapped__"):  # once, however often this module is imported
    socket.socket.connect = _guarded(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(socket.socket.connect_ex)  # type: ignore[method-assign]
