"""parse_tuples and its helpers: outcomes pinned by mutation testing (every line is a row or a
bad line, whichever path parses it)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from flowkit.formats.tuples import canonical_ipv6, parse_tuples

VNET = "1714557600000,192.0.2.5,198.51.100.80,1,443,6,O,C,X,1,1,1,1"
NSG = "1714557600,192.0.2.10,198.51.100.4,50000,443,T,I,A,C,1,1,1,1"


@pytest.mark.parametrize("fmt", ["nsg1", "nsg2", "vnet4"])
def test_an_empty_buffer_has_no_lines_and_nothing_bad(fmt: str) -> None:
    p = parse_tuples(b"", fmt)
    assert p.n_lines == 0 and p.bad == [] and p.valid is None
    columns = (p.flow_time_ms, p.src_ip, p.dst_ip, p.src_port, p.dst_port, p.protocol, p.direction,
               p.decision, p.state, p.encryption, *p.counters.values())
    assert [len(c) for c in columns] == [0] * 14


def test_lines_are_counted_when_the_caller_does_not_say() -> None:
    p = parse_tuples("\n".join([VNET, VNET, VNET]).encode(), "vnet4")
    assert p.n_lines == 3 and p.bad == [] and len(p.flow_time_ms) == 3


def test_a_sparse_buffer_needs_its_line_count() -> None:
    with pytest.raises(ValueError, match="^a sparse buffer needs n_lines$"):
        parse_tuples(b"\n" + VNET.encode() + b"\n", "vnet4", sparse=True)


def test_a_carriage_return_inside_a_line_does_not_make_two_rows() -> None:
    """pyarrow ends a CSV row at a bare CR: one line holding two tuples is one bad line, not two rows."""
    line = f"{VNET}\r{VNET}"
    p = parse_tuples(line.encode(), "vnet4")
    assert p.n_lines == 1 and p.bad == [(0, "wrong-field-count", line)]
    assert p.valid.tolist() == [False] and len(p.flow_time_ms) == 0


def test_an_empty_line_between_tuples_is_a_bad_line_of_its_own() -> None:
    p = parse_tuples(f"{VNET}\n\n{VNET}".encode(), "vnet4")
    assert p.n_lines == 3 and p.bad == [(1, "wrong-field-count", "")]
    assert p.valid.tolist() == [True, False, True] and len(p.flow_time_ms) == 2


@pytest.mark.parametrize("byte", [b"\x80", b"\xc3"])
def test_a_one_byte_flag_that_is_not_utf8_is_invalid_characters(byte: bytes) -> None:
    """A lone byte 0x80 or above is not text: the same reason as beside a bad line, not invalid-direction."""
    good = VNET.encode()
    bad = good.replace(b",O,", b"," + byte + b",")
    for buf, at in ((bad, 0), (b"junk\n" + bad, 1)):
        p = parse_tuples(buf, "vnet4")
        assert [(line, why) for line, why, _ in p.bad if line == at] == [(at, "invalid-characters")]


def test_every_line_bad_gives_empty_columns() -> None:
    p = parse_tuples(b"junk\n1714557600,192.0.2.10", "nsg2")
    assert [(line, why) for line, why, _ in p.bad] == [(0, "wrong-field-count"), (1, "wrong-field-count")]
    assert len(p.protocol) == 0 and len(p.direction) == 0 and len(p.decision) == 0 and len(p.state) == 0


def test_canonical_ipv6_keeps_missing_addresses_missing() -> None:
    """A null among the addresses used to raise IndexError (float indices) instead of staying null."""
    arr = pa.array(["2001:DB8::1", None, "192.0.2.1", "2001:db8::1"]).dictionary_encode()
    out = canonical_ipv6(arr)
    assert out.to_pylist() == ["2001:db8::1", None, "192.0.2.1", "2001:db8::1"]
    assert out.null_count == 1
    one = canonical_ipv6(pa.array([None, "2001:DB8::2"]).dictionary_encode())
    assert one.to_pylist() == [None, "2001:db8::2"] and one.dictionary.to_pylist() == ["2001:db8::2"]


def test_nsg_version_1_has_no_state_no_encryption_and_missing_counters() -> None:
    p = parse_tuples(b"1717917209,192.0.2.150,198.51.100.10,56292,3389,U,O,D", "nsg1")
    assert p.bad == [] and p.flow_time_ms.tolist() == [1717917209000]
    assert (p.protocol.tolist(), p.direction.tolist(), p.decision.tolist()) == ([17], [1], [1])
    assert p.state.tolist() == [-1] and p.encryption.tolist() == [-1]
    assert {k: v.to_pylist() for k, v in p.counters.items()} == {
        "packets_sent": [None], "bytes_sent": [None], "packets_received": [None], "bytes_received": [None]}


def test_counters_are_plain_arrays_with_packets_in_32_bits() -> None:
    for buf in (VNET.encode(), b"junk\n" + VNET.encode()):
        p = parse_tuples(buf, "vnet4")
        assert all(isinstance(v, pa.Array) for v in p.counters.values())
        assert [str(v.type) for v in p.counters.values()] == ["uint32", "uint64", "uint32", "uint64"]


@pytest.mark.parametrize("field, value, reason", [
    pytest.param(1, '"192.0.2.5"', "invalid-address", id="quoted-address"),
    pytest.param(4, '"443"', "invalid-dst-port", id="quoted-port"),
    pytest.param(4, "X443", "invalid-dst-port", id="letter-before-port"),
    pytest.param(4, "443X", "invalid-dst-port", id="letter-after-port"),
    pytest.param(0, "X1714557600000", "invalid-timestamp", id="letter-before-timestamp"),
])
def test_quotes_and_letters_around_a_value_are_not_stripped(field: int, value: str, reason: str) -> None:
    """No CSV quoting and no trimming beyond spaces and tabs, on either path."""
    fields = VNET.split(",")
    fields[field] = value
    line = ",".join(fields)
    assert parse_tuples(line.encode(), "vnet4").bad == [(0, reason, line)]
    assert parse_tuples(b"junk\n" + line.encode(), "vnet4").bad == [(0, "wrong-field-count", "junk"),
                                                                   (1, reason, line)]


def test_a_value_coded_zero_stays_valid_beside_an_invalid_one() -> None:
    """Encryption X has code 0: an unknown state elsewhere in the batch must not take it down."""
    lines = [VNET, VNET.replace(",X,", ",bogus,"), VNET.replace(",X,", ",NX,")]
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert [(line, why) for line, why, _ in p.bad] == [(1, "invalid-encryption")]
    assert p.encryption.tolist() == [0, 1] and p.valid.tolist() == [True, False, True]


def test_a_line_of_wrong_length_that_is_not_utf8_is_reported_with_replacement_characters() -> None:
    p = parse_tuples(VNET.encode() + b"\nju\xffnk", "vnet4")
    assert p.bad == [(1, "wrong-field-count", "ju\ufffdnk")] and len(p.flow_time_ms) == 1


def test_an_empty_flag_and_a_two_letter_one_alone_are_both_bad() -> None:
    """Two values in two bytes, none of them one byte long: not read byte by byte."""
    lines = [NSG.replace(",A,", f",{a},") for a in ("", "AD")]
    p = parse_tuples("\n".join(lines).encode(), "nsg2")
    assert [(line, why) for line, why, _ in p.bad] == [(0, "invalid-decision"), (1, "invalid-decision")]
    assert len(p.decision) == 0


def test_an_empty_packet_counter_is_not_out_of_range_beside_one_that_is() -> None:
    fields = VNET.split(",")
    over, empty = list(fields), list(fields)
    over[9], empty[9] = str(2**32), ""
    lines = [",".join(over), ",".join(empty), VNET]
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert p.bad == [(0, "counter-out-of-range", lines[0])]
    assert p.counters["packets_sent"].to_pylist() == [None, 1]


@pytest.mark.parametrize("sparse", [False, True])
def test_a_tuple_ending_in_a_carriage_return_is_bad_on_both_paths(sparse: bool) -> None:
    """pyarrow reads CR LF as one line end: the fast path kept such a tuple that the slow path rejects."""
    line = VNET + "\r"
    for buf, at in ((line.encode(), 0), (b"junk\n" + line.encode(), 1)):
        if sparse:
            buf = b"\n\n" + buf.replace(b"\n", b"\n\n\n") + b"\n\n"
        p = parse_tuples(buf, "vnet4", n_lines=at + 1, sparse=sparse)
        assert [(i, why, raw) for i, why, raw in p.bad if i == at] == [(at, "invalid-characters", line)]
        assert len(p.flow_time_ms) == 0
