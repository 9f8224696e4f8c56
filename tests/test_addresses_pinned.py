"""A MAC or IP address, spelled any way Azure, the az CLI or an OS spells it, is recognised and
normalised to the one spelling the flow table keeps (flowkit.addresses)."""

from __future__ import annotations

import ipaddress

import pytest

import flowkit.addresses as addresses
from flowkit.addresses import canonical_ip, ipv6_text, is_mac, normalize_mac


@pytest.mark.parametrize("given", [
    pytest.param("000D3A8D51B3", id="flow-log"),
    pytest.param("000d3a8d51b3", id="lower-case"),
    pytest.param("00-0D-3A-8D-51-B3", id="az-cli-dashes"),
    pytest.param("00-0d-3a-8d-51-b3", id="dashes-lower"),
    pytest.param("00:0d:3a:8d:51:b3", id="colons"),
    pytest.param("000d.3a8d.51b3", id="dotted-triples"),
    pytest.param(" 00 0D 3A 8D 51 B3\n", id="spaces"),
])
def test_every_spelling_of_a_mac_normalises_to_12_upper_case_digits(given):
    assert normalize_mac(given) == "000D3A8D51B3"
    assert is_mac(normalize_mac(given)) is True


@pytest.mark.parametrize("given, expected", [
    pytest.param(None, None, id="none"),
    pytest.param("", None, id="empty"),
    pytest.param("--::..", None, id="only-separators"),
    pytest.param("not-a-mac", "NOTAMAC", id="other-text-kept-upper-case"),
    pytest.param("00-0D", "000D", id="too-short-kept"),
])
def test_empty_and_other_values(given, expected):
    assert normalize_mac(given) == expected


@pytest.mark.parametrize("given, expected", [
    pytest.param("000D3A8D51B3", True, id="normalised"),
    pytest.param("000d3a8d51b3", False, id="lower-case"),
    pytest.param("00-0D-3A-8D-51-B3", False, id="dashes"),
    pytest.param("000D3A8D51B", False, id="eleven-digits"),
    pytest.param("000D3A8D51B3F", False, id="thirteen-digits"),
    pytest.param("000D3A8D51BG", False, id="not-hex"),
    pytest.param("", False, id="empty"),
    pytest.param(None, False, id="none"),
])
def test_is_mac_accepts_only_a_normalised_mac(given, expected):
    assert is_mac(given) is expected


@pytest.mark.parametrize("given, expected", [
    pytest.param("192.0.2.1", "192.0.2.1", id="ipv4"),
    pytest.param(" 192.0.2.1\t", "192.0.2.1", id="ipv4-padded"),
    pytest.param("2001:DB8:0:0::9", "2001:db8::9", id="ipv6-upper-uncompressed"),
    pytest.param("2001:0db8:0000:0000:0000:0000:0000:0009", "2001:db8::9", id="ipv6-full"),
    pytest.param("::FFFF:192.0.2.1", "::ffff:192.0.2.1", id="mapped-dotted"),
    pytest.param("::ffff:c000:201", "::ffff:192.0.2.1", id="mapped-hex"),
    pytest.param("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1", id="mapped-full"),
    pytest.param("not an address", "not an address", id="other-text"),
    pytest.param(" 192.0.2.300 ", "192.0.2.300", id="bad-ipv4-stripped"),
    pytest.param("", "", id="empty"),
])
def test_canonical_ip(given, expected):
    assert canonical_ip(given) == expected


@pytest.mark.parametrize("given, expected", [
    pytest.param("2001:DB8:0:0::9", "2001:db8::9", id="compressed"),
    pytest.param("::ffff:c000:201", "::ffff:192.0.2.1", id="mapped"),
    pytest.param("::c000:201", "::c000:201", id="not-mapped"),
])
def test_ipv6_text(given, expected):
    assert ipv6_text(ipaddress.IPv6Address(given)) == expected


def test_the_public_names():
    assert addresses.__all__ == ["normalize_mac", "is_mac", "canonical_ip", "ipv6_text"]
    space: dict = {}
    exec("from flowkit.addresses import *", space)
    assert {n for n in space if not n.startswith("__")} == {"normalize_mac", "is_mac", "canonical_ip", "ipv6_text"}
