"""Pinned properties of the address pseudonyms (flowkit/report/anonymize_ip.py), as a report reader relies on them.

Seeded random addresses: each class is permuted onto itself (no two addresses share a
pseudonym), subnet relations survive exactly, the mapping is the same for one key and
different for another, and no address crosses from public to private or the reverse.
"""

from __future__ import annotations

import ipaddress
import random

import pytest

from flowkit.report import Anonymizer
from flowkit.report import anonymize_ip
from flowkit.report.anonymize_ip import KEPT_ADDRESSES, AddressPseudonyms, parse_address

KEY = b"pinned-key-ip"
V4_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                "100.64.0.0/10", "169.254.0.0/16")]
V4_KEPT = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4")]
KEPT = {"168.63.129.16", "169.254.169.254", "0.0.0.0", "255.255.255.255", "127.0.0.1", "::", "::1"}
KEPT_V4_INTS = {int(ipaddress.ip_address(a)) for a in KEPT if "." in a}


def _shared(a: int, b: int, width: int) -> int:
    """Length of the common prefix of two ``width``-bit numbers."""
    return width - (a ^ b).bit_length()


def _in_any(value: int, nets: list[ipaddress.IPv4Network]) -> bool:
    return any(ipaddress.IPv4Address(value) in n for n in nets)


def _random_in(rng: random.Random, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    return int(net.network_address) | rng.getrandbits(net.max_prefixlen - net.prefixlen)


def _public_v4(rng: random.Random) -> int:
    while True:
        value = rng.getrandbits(32)
        if not _in_any(value, V4_PRIVATE + V4_KEPT) and value not in KEPT_V4_INTS:
            return value


@pytest.mark.parametrize("block", ["169.254.0.0/16", "192.168.0.0/16"])
def test_a_whole_private_16_is_permuted_onto_itself(block):
    net = ipaddress.ip_network(block)
    pseudo = AddressPseudonyms(KEY)
    base = int(net.network_address)
    image = {pseudo.v4(base + h) for h in range(1 << 16)}
    assert image == set(range(base, base + (1 << 16)))  # 65536 in, 65536 out, none outside the block
    assert pseudo.v4(int(ipaddress.ip_address("169.254.169.254"))) == int(ipaddress.ip_address("169.254.169.254"))


@pytest.mark.parametrize("block", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                   "169.254.0.0/16"])
def test_private_ipv4_pairs_share_exactly_the_prefix_they_shared(block):
    net = ipaddress.ip_network(block)
    rng = random.Random(block)
    pseudo = AddressPseudonyms(KEY)
    kept = int(ipaddress.ip_address("169.254.169.254"))
    checked = 0
    for _ in range(400):
        a = _random_in(rng, net)
        b = a ^ (1 << rng.randrange(32 - net.prefixlen)) ^ rng.getrandbits(rng.randrange(32 - net.prefixlen))
        if a == b or kept in (a, b):
            continue
        pa, pb = pseudo.v4(a), pseudo.v4(b)
        if kept in (pseudo._block("v4", a, (int(net.network_address), net.prefixlen), 32, lambda v: False),
                    pseudo._block("v4", b, (int(net.network_address), net.prefixlen), 32, lambda v: False)):
            continue  # the one address per key that walks past 169.254.169.254
        assert ipaddress.IPv4Address(pa) in net and ipaddress.IPv4Address(pb) in net
        assert _shared(pa, pb, 32) == _shared(a, b, 32), (a, b)
        checked += 1
    assert checked >= 390


def test_public_ipv4_is_one_to_one_and_stays_public():
    rng = random.Random(11)
    pseudo = AddressPseudonyms(KEY)
    addresses = {_public_v4(rng) for _ in range(6000)}
    out = {pseudo.v4(a) for a in addresses}
    assert len(out) == len(addresses)
    assert not any(_in_any(p, V4_PRIVATE + V4_KEPT) or p in KEPT_V4_INTS for p in out)


def test_private_and_kept_ipv4_never_become_public():
    rng = random.Random(12)
    pseudo = AddressPseudonyms(KEY)
    for net in V4_PRIVATE:
        for _ in range(300):
            a = _random_in(rng, net)
            assert ipaddress.IPv4Address(pseudo.v4(a)) in net, ipaddress.IPv4Address(a)
    for net in V4_KEPT:
        for _ in range(50):
            a = _random_in(rng, net)
            assert pseudo.v4(a) == a


def test_public_ipv4_subnets_of_a_16_or_longer_keep_their_shared_prefix():
    """Two public addresses sharing 16 or more bits share exactly as many after (the kept and
    private blocks are /16 or wider, so such a pair walks past them in step)."""
    rng = random.Random(13)
    pseudo = AddressPseudonyms(KEY)
    for _ in range(1500):
        a = _public_v4(rng)
        shared = rng.randrange(16, 32)
        b = a ^ (1 << (31 - shared)) ^ rng.getrandbits(31 - shared)
        pa, pb = pseudo.v4(a), pseudo.v4(b)
        assert _shared(pa, pb, 32) == shared, (ipaddress.IPv4Address(a), ipaddress.IPv4Address(b))


def test_public_ipv4_pairs_in_different_16s_land_in_different_16s():
    rng = random.Random(14)
    pseudo = AddressPseudonyms(KEY)
    for _ in range(1500):
        a, b = _public_v4(rng), _public_v4(rng)
        if a >> 16 != b >> 16:
            assert pseudo.v4(a) >> 16 != pseudo.v4(b) >> 16


@pytest.mark.parametrize(("block", "width"), [("fc00::/8", 120), ("fd00::/8", 120), ("fe80::/64", 64)])
def test_private_ipv6_pairs_share_exactly_the_prefix_they_shared(block, width):
    net = ipaddress.ip_network(block)
    rng = random.Random(block)
    pseudo = AddressPseudonyms(KEY)
    seen = {}
    for _ in range(400):
        a = _random_in(rng, net)
        b = a ^ (1 << rng.randrange(width)) ^ rng.getrandbits(rng.randrange(width))
        pa, pb = pseudo.v6(a), pseudo.v6(b)
        assert ipaddress.IPv6Address(pa) in net and ipaddress.IPv6Address(pb) in net
        assert _shared(pa, pb, 128) == _shared(a, b, 128)
        seen[a], seen[b] = pa, pb
    assert len(set(seen.values())) == len(seen)


def test_link_local_outside_the_first_64_never_lands_in_it():
    rng = random.Random(15)
    pseudo = AddressPseudonyms(KEY)
    first64 = ipaddress.ip_network("fe80::/64")
    link_local = ipaddress.ip_network("fe80::/10")
    out = set()
    for _ in range(2000):
        a = _random_in(rng, link_local)
        if ipaddress.IPv6Address(a) in first64:
            continue
        p = ipaddress.IPv6Address(pseudo.v6(a))
        assert p in link_local and p not in first64, ipaddress.IPv6Address(a)
        out.add(p)
    assert len(out) == 2000


def test_global_ipv6_goes_into_the_documentation_32_keeping_prefixes_below_it():
    rng = random.Random(16)
    pseudo = AddressPseudonyms(KEY)
    doc = ipaddress.ip_network("2001:db8::/32")
    for _ in range(1000):
        a = (0x2 << 124) | rng.getrandbits(124)  # 2000::/3
        shared = rng.randrange(3, 128)  # b stays in 2000::/3
        b = a ^ (1 << (127 - shared)) ^ rng.getrandbits(127 - shared)
        pa, pb = pseudo.v6(a), pseudo.v6(b)
        assert ipaddress.IPv6Address(pa) in doc and ipaddress.IPv6Address(pb) in doc
        if shared >= 32:
            assert _shared(pa, pb, 128) == shared
        else:
            assert _shared(pa, pb, 128) >= 32


def test_mapped_ipv6_is_its_ipv4_pseudonym():
    rng = random.Random(17)
    anon = Anonymizer(KEY)
    for _ in range(300):
        v4 = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        assert anon.ip(f"::ffff:{v4}") == f"::ffff:{anon.ip(v4)}"


def test_one_key_one_mapping_another_key_another():
    rng = random.Random(18)
    texts = ([str(ipaddress.IPv4Address(_public_v4(rng))) for _ in range(200)]
             + [str(ipaddress.IPv4Address(_random_in(rng, n))) for n in V4_PRIVATE for _ in range(40)]
             + [str(ipaddress.IPv6Address(_random_in(rng, ipaddress.ip_network(n))))
                for n in ("fd00::/8", "fe80::/64", "2600::/12") for _ in range(40)])
    first, again, other = AddressPseudonyms(KEY), AddressPseudonyms(KEY), AddressPseudonyms(b"another-key")
    mapped = [first.ip(t) for t in texts]
    assert [again.ip(t) for t in reversed(texts)] == mapped[::-1]  # order of use does not matter
    assert [Anonymizer(KEY.decode()).ip(t) for t in texts] == mapped
    assert sum(other.ip(t) == m for t, m in zip(texts, mapped)) == 0


@pytest.mark.parametrize(("text", "pseudonym"), [
    pytest.param("10.10.1.4", "10.220.248.42", id="10/8"),
    pytest.param("172.20.1.4", "172.24.233.200", id="172.16/12"),
    pytest.param("192.168.7.4", "192.168.162.212", id="192.168/16"),
    pytest.param("100.64.3.4", "100.117.52.192", id="cgnat"),
    pytest.param("169.254.1.1", "169.254.192.92", id="169.254/16"),
    pytest.param("198.51.100.10", "35.133.107.224", id="public"),
    pytest.param("203.0.113.0/24", "40.237.103.0/24", id="public-24"),
    pytest.param("::ffff:192.0.2.1", "::ffff:39.37.77.85", id="mapped"),
    pytest.param("::ffff:192.0.2.1/120", "::ffff:39.37.77.0/120", id="mapped-net"),
    pytest.param("fd00:aaaa::4", "fd54:8668:75c7:28ad:2674:f140:28b8:687e", id="ula-fd"),
    pytest.param("fc00:1::4", "fcc3:da89:fcb6:2704:df49:cb26:fc1a:7690", id="ula-fc"),
    pytest.param("fe80::1", "fe80::ed0:af64:69cd:4ded", id="link-local-64"),
    pytest.param("fe80:1::1", "fe9c:6d2f:bc31:45e9:578c:1f44:dc72:4f1b", id="link-local-10"),
    pytest.param("2001:db8::1", "2001:db8:8bcc:f17a:8864:5880:1ffc:12ef", id="doc-v6"),
    pytest.param("2603:1030:20e:3::/64", "2001:db8:59fe:c226::/64", id="global-v6-64"),
])
def test_pseudonyms_of_one_key_do_not_change_between_versions(text, pseudonym):
    """An anonymised report made last month and one made today with the same key must agree."""
    assert AddressPseudonyms(KEY).ip(text) == pseudonym


def test_parse_address_returns_none_for_no_address_and_reads_padded_ipv4():
    assert [parse_address(t) for t in ("", "1.2.3.", ".1.2.3", "1.2.3.4/24", "+1.2.3.4")] == [None] * 5
    assert parse_address("192.000.002.010") == ipaddress.IPv4Address("192.0.2.10")
    assert parse_address("2001:db8::1") == ipaddress.IPv6Address("2001:db8::1")


def test_the_public_names_and_the_kept_addresses():
    assert anonymize_ip.__all__ == ["AddressPseudonyms", "KEPT_ADDRESSES", "parse_address"]
    assert KEPT_ADDRESSES == frozenset(KEPT)
    pseudo = AddressPseudonyms(KEY)
    assert {a: pseudo.ip(a) for a in KEPT} == {a: a for a in KEPT}
    assert {a: pseudo.ip(f"::ffff:{a}") for a in KEPT if "." in a} == {a: f"::ffff:{a}" for a in KEPT if "." in a}


@pytest.mark.parametrize("text", ["192.0.2.1/032", "10.1.2.3/0032", "2001:db8::1/0128", "::ffff:192.0.2.1/0128"])
def test_a_full_length_prefix_written_with_zeros_is_read_as_a_prefix(text):
    pseudo = AddressPseudonyms(KEY)
    head, _, plen = text.partition("/")
    assert pseudo.ip(text) == f"{pseudo.ip(head)}/{int(plen)}"


@pytest.mark.parametrize("text", ["².1.1.1", "1.2.3.⁴", "¹⁰.0.0.1"])
def test_superscript_digits_make_no_ipv4_address(text):
    """``str.isdigit`` holds for superscripts, which ``int`` refuses: such text is no address
    and comes back unchanged (it used to stop the report with a ValueError)."""
    assert parse_address(text) is None
    assert AddressPseudonyms(KEY).ip(text) == text
    assert Anonymizer(KEY).ip(text) == text


@pytest.mark.parametrize(("address", "suffix"), [("10.0.0.1", "/²"), ("2001:db8::1", "/¹²⁸")])
def test_a_superscript_prefix_is_no_prefix_and_is_kept_as_written(address, suffix):
    pseudo = AddressPseudonyms(KEY)
    assert pseudo.ip(address + suffix) == pseudo.ip(address) + suffix


@pytest.mark.parametrize(("address", "pseudonym"), [
    pytest.param("2.91.65.63", "11.5.55.253", id="next-to-10/8"),
    pytest.param("186.185.248.127", "126.136.40.243", id="next-to-127/8"),
    pytest.param("98.173.89.14", "172.15.236.67", id="next-to-172.16/12"),
    pytest.param("101.148.68.206", "169.255.58.61", id="next-to-169.254/16"),
])
def test_public_pseudonyms_reach_the_public_space_right_next_to_private_and_kept_blocks(address, pseudonym):
    """The walk skips exactly the private and kept blocks, not their neighbours (those, too, are public)."""
    assert AddressPseudonyms(KEY).ip(address) == pseudonym
