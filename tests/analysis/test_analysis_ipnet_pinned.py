"""ipnet: address classes, networks and CIDR labels at their boundaries (vectorised IPv4, IPv6 one by one)."""

from __future__ import annotations

import ipaddress

import pytest

from flowkit.analysis.ipnet import cidr_labels, ipv4_ints, is_private_ip, network_mask, private_mask

_NETS = [ipaddress.ip_network(n) for n in ("10.10.1.0/24", "10.0.0.0/8", "192.0.2.128/25", "2001:db8:1::/48",
                                            "2001:db8::/32", "203.0.113.7/32")]


@pytest.mark.parametrize("address, index", [
    pytest.param("10.10.1.0", 0, id="first-of-a-24"),
    pytest.param("10.10.1.255", 0, id="last-of-a-24"),
    pytest.param("10.10.2.0", 1, id="next-24-in-the-8"),
    pytest.param("10.255.255.255", 1, id="last-of-the-8"),
    pytest.param("11.0.0.0", -1, id="after-the-8"),
    pytest.param("192.0.2.127", -1, id="before-a-25"),
    pytest.param("192.0.2.128", 2, id="first-of-a-25"),
    pytest.param("203.0.113.7", 5, id="a-32"),
    pytest.param("203.0.113.8", -1, id="next-to-a-32"),
    pytest.param("2001:db8:1::9", 3, id="ipv6-first-listed-network"),
    pytest.param("2001:db8:2::9", 4, id="ipv6-wider-network"),
    pytest.param("2001:db9::1", -1, id="ipv6-outside"),
    pytest.param("::ffff:10.10.1.9", 0, id="ipv4-mapped-in-an-ipv4-network"),
    pytest.param("::ffff:203.0.113.8", -1, id="ipv4-mapped-outside"),
    pytest.param("10.10.1.256", -1, id="not-an-address"),
    pytest.param("x", -1, id="text"),
])
def test_network_mask_gives_the_first_listed_network_holding_an_address(address, index):
    assert network_mask([address], _NETS).tolist() == [index]


def test_network_mask_of_many_addresses_at_once_and_of_nothing():
    addresses = ["10.10.1.4", "10.20.0.1", "192.0.2.200", "2001:db8::1", "198.51.100.1"]
    assert network_mask(addresses, _NETS).tolist() == [0, 1, 2, 4, -1]
    assert network_mask(addresses, []).tolist() == [-1] * 5
    assert network_mask(addresses, [ipaddress.ip_network("0.0.0.0/0")]).tolist() == [0, 0, 0, -1, 0]


@pytest.mark.parametrize("address, private", [
    ("10.0.0.0", True), ("9.255.255.255", False), ("11.0.0.0", False),
    ("172.15.255.255", False), ("172.16.0.0", True), ("172.31.255.255", True), ("172.32.0.0", False),
    ("192.168.255.255", True), ("192.169.0.0", False), ("100.64.0.1", True), ("100.127.255.255", True),
    ("100.128.0.0", False), ("169.254.169.254", True), ("127.0.0.1", True),
    ("192.0.2.1", False), ("198.51.100.1", False), ("203.0.113.255", False),
    ("10.0.0.256", False), ("fd00::1", True), ("fe80::1", True), ("::1", True), ("2001:db8::1", False),
    ("::ffff:192.168.1.1", True), ("::ffff:192.0.2.1", False), ("not an ip", False),
])
def test_private_mask_agrees_with_is_private_ip(address, private):
    assert is_private_ip(address) is private
    assert private_mask([address]).tolist() == [private]


@pytest.mark.parametrize("address, prefixes, label", [
    ("192.0.2.130", (25, 64), "192.0.2.128/25"),
    ("198.51.100.77", (16, 64), "198.51.0.0/16"),
    ("203.0.113.9", (32, 64), "203.0.113.9/32"),
    ("203.0.113.9", (0, 64), "0.0.0.0/0"),
    ("255.254.253.252", (30, 64), "255.254.253.252/30"),
    ("1.2.3.4", (8, 64), "1.0.0.0/8"),
    ("2001:db8:aaaa:bbbb::1", (24, 48), "2001:db8:aaaa::/48"),
    ("::ffff:192.0.2.130", (25, 64), "::ffff:192.0.2.128/121"),
    ("10.0.0.256", (24, 64), "10.0.0.256"),
])
def test_cidr_labels(address, prefixes, label):
    assert cidr_labels([address], *prefixes).tolist() == [label]


def test_ipv4_ints_values_and_refusals():
    ok, value = ipv4_ints(["1.2.3.4", "255.255.255.255", "0.0.0.0", "256.1.1.1", "1.2.3", "::1"])
    assert ok.tolist() == [True, True, True, False, False, False]
    assert value.tolist() == [16909060, 4294967295, 0, 0, 0, 0]


def test_network_mask_takes_an_ipv4_mapped_address_as_its_ipv4_address_like_is_private_ip():
    nets = [ipaddress.ip_network("::ffff:0:0/96"), ipaddress.ip_network("192.168.0.0/16")]
    assert network_mask(["::ffff:192.168.1.1", "192.168.1.1"], nets[::-1]).tolist() == [0, 0]
    assert network_mask(["::ffff:192.168.1.1", "192.168.1.1"], nets).tolist() == [0, 1]  # the first listed
    assert is_private_ip("::ffff:192.168.1.1") and private_mask(["::ffff:192.168.1.1"]).tolist() == [True]
