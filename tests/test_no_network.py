"""The guard of tests/network_guard.py: a test that connects off this machine fails."""

from __future__ import annotations

import errno
import socket

import pytest

from tests.network_guard import OFF_MACHINE, on_this_machine


@pytest.mark.parametrize("address, local", [
    (("127.0.0.1", 10000), True), (("127.8.9.10", 1), True), (("::1", 80, 0, 0), True),
    (("::ffff:127.0.0.1", 80, 0, 0), True), (("localhost", 80), True), (("LocalHost.", 80), True),
    (("192.0.2.1", 80), False), (("2001:db8::1", 443, 0, 0), False), (("0.0.0.0", 80), False),
    (("169.254.169.254", 80), False), (("someacct.blob.core.windows.net", 443), False),
])
def test_what_counts_as_this_machine(address, local):
    assert on_this_machine(address) is local


def test_a_connection_off_this_machine_is_refused_and_recorded():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="may not leave this machine"):
        sock.connect(("192.0.2.1", 80))
    assert OFF_MACHINE.pop() == "192.0.2.1:80"  # recorded (the guard would fail this test at teardown)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED  # the system's answer, not the guard's
    assert OFF_MACHINE == []
