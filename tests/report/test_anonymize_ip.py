"""Address pseudonyms: a pure function of (key, address) that keeps classes, subnets and distinctness."""

from __future__ import annotations

import ipaddress

import pandas as pd
import pytest

from flowkit.analysis.ipnet import is_private_ip
from flowkit.findings import Finding
from flowkit.report import Anonymizer, Report
from flowkit.report.anonymize_ip import AddressPseudonyms, parse_address

KEY = "test-key-ip-1"


def _net(address: str, prefix: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def test_ipv4_mapped_ipv6_is_replaced_whole():
    anon = Anonymizer(KEY)
    v4 = anon.ip("198.51.100.77")
    assert anon.ip("::ffff:198.51.100.77") == f"::ffff:{v4}"
    assert anon.ip("::ffff:c633:644d") == f"::ffff:{v4}"  # the hex spelling of the same address
    assert anon.text("from ::ffff:10.20.30.40 to ::ffff:198.51.100.77.") == \
        f"from ::ffff:{anon.ip('10.20.30.40')} to ::ffff:{v4}."
    assert is_private_ip(anon.ip("10.20.30.40"))
    assert anon.ip("::ffff:198.51.100.0/120") == f"::ffff:{_net(v4, 24).network_address}/120"


def test_ipv4_mapped_ipv6_through_a_report():
    f = Finding("Top talkers", "ok", evidence={"by_bytes": pd.DataFrame({"node": ["::ffff:198.51.100.77"]})})
    out = Report([f]).anonymize(KEY)
    assert out.findings[0].evidence["by_bytes"]["node"].tolist() == [f"::ffff:{Anonymizer(KEY).ip('198.51.100.77')}"]
    assert ".51.100.77" not in out.to_markdown()


@pytest.mark.parametrize(("written", "suffix"), [
    pytest.param("192.0.2.1/33", "/33", id="ipv4-33"),
    pytest.param("192.0.2.1/99", "/99", id="ipv4-99"),
    pytest.param("2001:db8::1/129", "/129", id="ipv6-129"),
])
def test_impossible_prefix_keeps_its_suffix(written, suffix):
    anon = Anonymizer(KEY)
    address = written.partition("/")[0]
    assert anon.ip(written) == anon.ip(address) + suffix
    assert anon.text(f"1714557660000,10.0.0.4,{written},40000,443") == \
        f"1714557660000,{anon.ip('10.0.0.4')},{anon.ip(address)}{suffix},40000,443"


def test_leading_zero_ipv4_in_raw_text():
    anon = Anonymizer(KEY)
    assert parse_address("010.000.000.004") == ipaddress.IPv4Address("10.0.0.4")
    assert anon.text("bad,010.000.000.004,x") == f"bad,{anon.ip('10.0.0.4')},x"


def test_same_key_same_pseudonym_whatever_the_report_holds():
    first = Anonymizer(KEY).ip("10.10.1.4")
    other = Anonymizer(KEY)
    other.scan(f"hosts 10.10.1.4 and {first}")  # a second report that also holds the pseudonym as a real address
    other.learn_frame(pd.DataFrame({"src_ip": [first, "10.10.1.4", "10.10.1.5"]}))
    assert other.ip("10.10.1.4") == first
    assert _net(other.ip("10.10.1.5"), 24) == _net(first, 24)
    one = Report([Finding("10.10.1.4 -> 192.0.2.9", "ok")]).anonymize(KEY)
    two = Report([Finding(f"10.10.1.4 -> 192.0.2.9 and {first}", "ok")]).anonymize(KEY)
    assert two.findings[0].title.startswith(one.findings[0].title + " and ")


def test_distinct_public_24s_stay_distinct():
    pseudo = Anonymizer(KEY)
    nets = [f"{a}.{b}.{c}" for a in (192, 198, 203, 45, 81, 91, 185, 194) for b in (0, 51, 113, 17, 33)
            for c in (2, 100, 113)]
    out = {pseudo.ip(f"{n}.7").rsplit(".", 1)[0] for n in nets}
    assert (len(set(nets)), len(out)) == (120, 120)
    # every /24 of 45.0.0.0/12: 4096 in, 4096 out, all public
    block = [f"45.{b}.{c}.9" for b in range(16) for c in range(256)]
    mapped = [pseudo.ip(a) for a in block]
    assert len({m.rsplit(".", 1)[0] for m in mapped}) == 4096
    assert not any(is_private_ip(m) or ipaddress.ip_address(m).is_multicast for m in mapped)
    # hosts of one /24 stay in one /24, apart
    hosts = {pseudo.ip(f"203.0.113.{h}") for h in range(256)}
    assert len(hosts) == 256 and len({_net(h, 24) for h in hosts}) == 1


@pytest.mark.parametrize(("address", "block"), [
    pytest.param("10.10.1.4", "10.0.0.0/8", id="10/8"),
    pytest.param("172.20.1.4", "172.16.0.0/12", id="172.16/12"),
    pytest.param("192.168.7.4", "192.168.0.0/16", id="192.168/16"),
    pytest.param("100.64.3.4", "100.64.0.0/10", id="cgnat"),
    pytest.param("169.254.1.1", "169.254.0.0/16", id="link-local-v4"),
    pytest.param("fd00:aaaa::4", "fd00::/8", id="ula-fd"),
    pytest.param("fc00:1::4", "fc00::/8", id="ula-fc"),
    pytest.param("fe80::1", "fe80::/64", id="link-local-v6"),
    pytest.param("fe80:1::1", "fe80::/10", id="link-local-v6-other"),
    pytest.param("2603:1030:20e:3::23c", "2001:db8::/32", id="global-v6"),
])
def test_private_stays_in_its_block(address, block):
    pseudo = Anonymizer(KEY).ip(address)
    assert pseudo != address and ipaddress.ip_address(pseudo) in ipaddress.ip_network(block)
    assert is_private_ip(pseudo) == is_private_ip(address)


def test_ula_neighbours_stay_in_one_64():
    anon = Anonymizer(KEY)
    a, b = anon.ip("fd00:aaaa::4"), anon.ip("fd00:aaaa::5")
    assert a != b and _net(a, 64) == _net(b, 64) and _net(a, 127) == _net(b, 127)
    assert _net(anon.ip("fd00:aaaa:0:1::4"), 64) != _net(a, 64)


@pytest.mark.parametrize("address", ["168.63.129.16", "169.254.169.254", "0.0.0.0", "127.0.0.5", "224.0.0.251",
                                     "255.255.255.255", "::", "::1", "ff02::1"])
def test_kept_addresses(address):
    assert Anonymizer(KEY).ip(address) == address


def test_no_address_becomes_a_kept_one():
    pseudo = AddressPseudonyms(KEY.encode())
    family, kept = "v4/a9fe0000/16", 0xA9FE  # the 169.254/16 permutation, and the host part of .169.254
    preimage = 0
    for depth in range(16):  # invert the prefix-preserving permutation bit by bit
        bit = ((kept >> (15 - depth)) & 1) ^ pseudo._bit(family, depth, preimage)
        preimage = (preimage << 1) | bit
    assert pseudo._preserve(family, preimage, 16) == kept
    address = f"169.254.{preimage >> 8}.{preimage & 255}"
    walked = pseudo._preserve(family, kept, 16)  # it walks on, to where 169.254.169.254 itself would go
    assert pseudo.ip(address) == f"169.254.{walked >> 8}.{walked & 255}" != "169.254.169.254"


def test_prefixes_of_mapped_and_plain_ipv6_at_the_96_bit_edge():
    anon = Anonymizer(KEY)
    assert anon.ip("::ffff:198.51.100.0/96") == "::ffff:0.0.0.0/96"  # the whole mapped space
    assert anon.ip("::ffff:198.51.100.0/95") == "::fffe:0:0/95"      # wider: an IPv6 network
    v6 = anon.ip("2001:db8::1")
    assert anon.ip("2001:db8::1/128") == f"{v6}/128"
    assert anon.ip("2001:db8::1/112") == str(_net(v6, 112))           # no ::ffff: for a plain address


@pytest.mark.parametrize("text", ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4444", "a.b.c.d"])
def test_dotted_text_that_is_no_ipv4_address_is_none(text):
    assert parse_address(text) is None
    assert Anonymizer(KEY).ip(text) == text


@pytest.mark.parametrize("text, address", [("010.000.000.004", "10.0.0.4"), ("192.0.2.001", "192.0.2.1"),
                                           ("010.0.0.255", "10.0.0.255")])
def test_zero_padded_ipv4_is_read(text, address):
    assert parse_address(text) == ipaddress.IPv4Address(address)


def test_a_four_digit_part_is_no_ipv4_address_even_when_small():
    assert parse_address("0001.2.3.4") is None


@pytest.mark.parametrize("address", ["1.2.3.4", "126.1.2.3", "128.0.0.1", "223.255.255.1"])
def test_public_addresses_next_to_kept_blocks_are_replaced(address):
    pseudo = Anonymizer(KEY).ip(address)
    assert pseudo != address and not is_private_ip(pseudo)


def test_public_addresses_stay_public():
    """Three thousand public addresses spread over the IPv4 space: no pseudonym is private
    or in a kept block (0/8, 127/8, 224/4, 240/4), so no class changes and nothing is kept."""
    import random

    kept = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4")]
    rng = random.Random(7)
    anon = Anonymizer(KEY)
    seen = 0
    while seen < 3000:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if is_private_ip(str(address)) or any(address in n for n in kept):
            continue
        seen += 1
        pseudo = ipaddress.IPv4Address(anon.ip(str(address)))
        assert not is_private_ip(str(pseudo)) and not any(pseudo in n for n in kept), (address, pseudo)
