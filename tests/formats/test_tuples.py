"""parse_tuples: one-letter flags (direction, decision, state) coded from raw bytes, and every
other spelling reported with the same reason as before the byte path existed."""

from __future__ import annotations

import pytest

from flowkit.formats.tuples import parse_tuples

VNET = "1714557600000,10.0.0.5,192.0.2.80,1,443,6,{d},{s},X,1,1,1,1"
NSG = "1714557600,192.0.2.10,10.0.0.4,50000,443,T,{d},{a},{s},1,1,1,1"


def test_flags_of_clean_tuples_are_coded() -> None:
    lines = [VNET.format(d=d, s=s) for d, s in (("I", "B"), ("O", "C"), ("O", "E"), ("I", "D"))]
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert p.bad == [] and p.direction.tolist() == [0, 1, 1, 0] and p.state.tolist() == [0, 1, 2, 3]
    assert p.decision.tolist() == [0, 0, 0, 1]  # VNet: state D is a deny
    lines = [NSG.format(d=d, a=a, s=s) for d, a, s in (("I", "A", "C"), ("O", "D", "E"))]
    p = parse_tuples("\n".join(lines).encode(), "nsg2")
    assert p.bad == [] and p.direction.tolist() == [0, 1] and p.decision.tolist() == [0, 1]
    assert p.state.tolist() == [1, 2]


@pytest.mark.parametrize("fmt, bad, reason", [
    pytest.param("vnet4", VNET.format(d="In", s="C"), "invalid-direction", id="two-letter-direction"),
    pytest.param("vnet4", VNET.format(d="", s="C"), "invalid-direction", id="empty-direction"),
    pytest.param("vnet4", VNET.format(d="o", s="C"), "invalid-direction", id="lower-case"),
    pytest.param("vnet4", VNET.format(d="é", s="C"), "invalid-direction", id="non-ascii-letter"),
    pytest.param("vnet4", VNET.format(d="\x7f", s="C"), "invalid-direction", id="control-byte"),
    pytest.param("vnet4", VNET.format(d="O", s=""), "invalid-state", id="empty-state"),
    pytest.param("vnet4", VNET.format(d="O", s="CC"), "invalid-state", id="two-letter-state"),
    pytest.param("nsg2", NSG.format(d="I", a="", s="C"), "invalid-decision", id="empty-decision"),
    pytest.param("nsg2", NSG.format(d="I", a="AA", s="C"), "invalid-decision", id="two-letter-decision"),
    pytest.param("nsg2", NSG.format(d="Ï", a="A", s="C"), "invalid-direction", id="nsg-non-ascii"),
    pytest.param("nsg2", NSG.format(d="I", a="A", s=""), "invalid-state", id="nsg-empty-state"),
])
def test_a_bad_flag_is_reported_and_its_neighbours_kept(fmt: str, bad: str, reason: str) -> None:
    good = VNET.format(d="O", s="C") if fmt == "vnet4" else NSG.format(d="I", a="A", s="C")
    p = parse_tuples("\n".join([good, bad, good]).encode(), fmt)
    assert [(line, why, raw) for line, why, raw in p.bad] == [(1, reason, bad)]
    assert p.valid.tolist() == [True, False, True]
    assert p.direction.tolist() == ([1, 1] if fmt == "vnet4" else [0, 0])


def test_a_flag_that_is_not_utf8_is_invalid_characters() -> None:
    good = VNET.format(d="O", s="C").encode()
    p = parse_tuples(b"\n".join([good, good.replace(b",O,", b",\xff,"), good]), "vnet4")
    assert [(line, why) for line, why, _ in p.bad] == [(1, "invalid-characters")]


def test_an_empty_flag_and_a_two_letter_one_do_not_shift_the_rows_between_them() -> None:
    # 4 values in 4 bytes: the byte path must not read row 2's decision from row 1's bytes.
    lines = [NSG.format(d="I", a=a, s="C").replace(",50000,", f",{i},") for i, a in enumerate(["", "A", "D", "AD"])]
    p = parse_tuples("\n".join(lines).encode(), "nsg2")
    assert [(line, why) for line, why, _ in p.bad] == [(0, "invalid-decision"), (3, "invalid-decision")]
    assert p.decision.tolist() == [0, 1] and p.src_port.tolist() == [1, 2]
    lines = [VNET.format(d=d, s=s) for d, s in (("", "C"), ("O", "B"), ("I", "E"), ("IO", "D"))]
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert [line for line, _, _ in p.bad] == [0, 3]
    assert p.direction.tolist() == [1, 0] and p.state.tolist() == [0, 2]


@pytest.mark.parametrize("protocol, fmt, expected", [
    ("T", "nsg2", 6), ("U", "nsg2", 17), ("u", "nsg2", 17),
    ("TCP", "nsg2", None), ("6", "nsg2", None), ("1", "nsg2", None),
    ("6", "vnet4", 6), ("17", "vnet4", 17), ("47", "vnet4", 47),
    ("256", "vnet4", None), ("T", "vnet4", None), ("\u00b2", "vnet4", None), ("\uff16", "vnet4", None),
    ("\u0666", "vnet4", None), ("\u00b2", "nsg2", None),
])
def test_protocol_spellings(protocol: str, fmt: str, expected: int | None) -> None:
    line = (VNET.format(d="O", s="C") if fmt == "vnet4" else NSG.format(d="I", a="A", s="C"))
    fields = line.split(",")
    fields[5] = protocol
    p = parse_tuples(",".join(fields).encode(), fmt)
    if expected is None:
        assert [why for _, why, _ in p.bad] == ["invalid-protocol"] and len(p.protocol) == 0
    else:
        assert p.bad == [] and p.protocol.tolist() == [expected]


def test_nsg_state_d_is_not_a_state_of_nsg_flow_logs() -> None:
    p = parse_tuples(NSG.format(d="I", a="A", s="D").encode(), "nsg2")
    assert [why for _, why, _ in p.bad] == ["invalid-state"]


@pytest.mark.parametrize("field, value, kept", [
    (4, " 443", 443), (4, "443\t", 443), (4, "0443", 443), (4, "0x1bb", 443), (4, "65536", None),
    (4, "+443", None), (4, "4 43", None), (0, " 1714557600000", 1714557600000), (0, "1714557600.5", None),
    (10, "18446744073709551615", 2**64 - 1), (10, "18446744073709551616", None), (10, " 7 ", 7),
    (10, "99999999999999999999", None), (10, "-1", None),
    (4, "000443", 443), (4, "0000000443", 443), (4, "0x01bb", 443), (4, "0x001bb", None), (4, "00x1bb", None),
    (0, "0001714557600000", 1714557600000), (10, "0" + str(2**64 - 1), 2**64 - 1),
    (10, "0" + str(2**64), None), (10, "0" * 22 + "7", 7),
    (5, " 6", 6), (5, "17\t", 17), (5, "006", 6), (5, "0x11", 17), (5, "0", 0), (5, "255", 255),
    (5, "256", None), (5, "0x100", None), (5, "+6", None), (5, "00x6", None), (5, "6.0", None),
])
def test_a_tuple_is_kept_or_not_whatever_else_is_in_its_batch(field: int, value: str, kept: int | None) -> None:
    """The fast path (typed CSV) and the slow one (a bad line elsewhere) agree on every number."""
    fields = VNET.format(d="O", s="C").split(",")
    fields[field] = value
    line = ",".join(fields).encode()
    alone = parse_tuples(line, "vnet4")
    beside_junk = parse_tuples(b"junk\n" + line, "vnet4")
    column = {0: "flow_time_ms", 4: "dst_port", 5: "protocol", 10: "bytes_sent"}[field]

    def value_of(p):
        got = getattr(p, column) if column != "bytes_sent" else p.counters["bytes_sent"].to_numpy()
        return [int(v) for v in got]

    if kept is None:
        reasons = [why for _, why, _ in alone.bad]
        assert len(reasons) == 1 and [why for line, why, _ in beside_junk.bad if line == 1] == reasons
    else:
        assert alone.bad == [] and value_of(alone) == [kept]
        assert [line for line, _, _ in beside_junk.bad] == [0] and value_of(beside_junk) == [kept]


def test_ipv6_addresses_get_one_spelling() -> None:
    spellings = ["2001:DB8:2:0:0:0:0:9", "2001:0db8:0002::0009", "2001:db8:2::9"]
    lines = [VNET.format(d="O", s="C").replace("10.0.0.5", a) for a in spellings]
    lines.append(VNET.format(d="O", s="C").replace("192.0.2.80", "::FFFF:192.0.2.80"))
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert p.bad == [] and p.src_ip.to_pylist() == ["2001:db8:2::9"] * 3 + ["10.0.0.5"]
    assert p.dst_ip.to_pylist() == ["192.0.2.80"] * 3 + ["::ffff:192.0.2.80"]
    assert sorted(p.src_ip.dictionary.to_pylist()) == ["10.0.0.5", "2001:db8:2::9"]


@pytest.mark.parametrize("ts, flow_time_ms", [
    pytest.param(1714557600, 1714557600000, id="seconds"),
    pytest.param(1714557600123, 1714557600123, id="milliseconds"),
    pytest.param(0, 0, id="epoch"),
    pytest.param(10**11 - 1, (10**11 - 1) * 1000, id="largest-seconds"),
    pytest.param(10**11, 10**11, id="smallest-milliseconds"),
    pytest.param(150_000_000_000, 150_000_000_000, id="milliseconds-in-1974"),
    pytest.param(10**14 - 1, 10**14 - 1, id="largest-milliseconds"),
    pytest.param(10**14, None, id="beyond-year-5000"),
    pytest.param(-1, None, id="negative"),
])
@pytest.mark.parametrize("fmt", ["vnet4", "nsg2"])
def test_timestamp_unit_is_decided_by_magnitude_and_range_is_checked(fmt: str, ts: int,
                                                                     flow_time_ms: int | None) -> None:
    good = VNET.format(d="O", s="C") if fmt == "vnet4" else NSG.format(d="I", a="A", s="C")
    line = f"{ts}," + good.split(",", 1)[1]
    for buf, at in ((line.encode(), 0), (b"junk\n" + line.encode(), 1)):  # fast and slow path
        p = parse_tuples(buf, fmt)
        if flow_time_ms is None:
            assert [(i, why, raw) for i, why, raw in p.bad if i == at] == [(at, "invalid-timestamp", line)]
            assert p.flow_time_ms.tolist() == []
        else:
            assert [i for i, _, _ in p.bad] == ([] if at == 0 else [0])
            assert p.flow_time_ms.tolist() == [flow_time_ms]


@pytest.mark.parametrize("field, value, reason", [
    pytest.param(9, 2**32 - 1, None, id="packets-uint32-max"),
    pytest.param(9, 2**32, "counter-out-of-range", id="packets-over-uint32"),
    pytest.param(11, 2**32, "counter-out-of-range", id="packets-received-over-uint32"),
    pytest.param(10, 2**32, None, id="bytes-over-uint32-kept"),
])
def test_packet_counters_fit_32_bits_and_byte_counters_64(field: int, value: int, reason: str | None) -> None:
    fields = VNET.format(d="O", s="C").split(",")
    fields[field] = str(value)
    line = ",".join(fields)
    p = parse_tuples(line.encode(), "vnet4")
    column = {9: "packets_sent", 10: "bytes_sent", 11: "packets_received"}[field]
    if reason is None:
        assert p.bad == [] and p.counters[column].to_pylist() == [value]
    else:
        assert p.bad == [(0, reason, line)] and len(p.counters[column]) == 0


@pytest.mark.parametrize("fmt, field, reason", [
    *[pytest.param("vnet4", i, r, id=f"vnet-{i}") for i, r in enumerate(
        ["invalid-timestamp", "invalid-address", "invalid-address", "invalid-src-port", "invalid-dst-port",
         "invalid-protocol", "invalid-direction", "invalid-state", "invalid-encryption"])],
    *[pytest.param("nsg2", i, r, id=f"nsg-{i}") for i, r in enumerate(
        ["invalid-timestamp", "invalid-address", "invalid-address", "invalid-src-port", "invalid-dst-port",
         "invalid-protocol", "invalid-direction", "invalid-decision", "invalid-state"])],
])
def test_an_empty_field_has_one_reason_whatever_else_is_in_its_batch(fmt: str, field: int, reason: str) -> None:
    fields = (VNET.format(d="O", s="C") if fmt == "vnet4" else NSG.format(d="I", a="A", s="C")).split(",")
    fields[field] = ""
    line = ",".join(fields)
    alone = parse_tuples(line.encode(), fmt)
    beside_junk = parse_tuples(b"junk\n" + line.encode(), fmt)
    assert alone.bad == [(0, reason, line)] and len(alone.flow_time_ms) == 0
    assert beside_junk.bad == [(0, "wrong-field-count", "junk"), (1, reason, line)]
    assert beside_junk.valid.tolist() == [False, False] and len(beside_junk.flow_time_ms) == 0


@pytest.mark.parametrize("field", [9, 10, 11, 12])
def test_an_empty_counter_is_missing_not_zero_and_not_a_reason_to_quarantine(field: int) -> None:
    fields = VNET.format(d="O", s="C").split(",")
    fields[field] = ""
    line = ",".join(fields).encode()
    names = ["packets_sent", "bytes_sent", "packets_received", "bytes_received"]
    for buf in (line, b"junk\n" + line):
        p = parse_tuples(buf, "vnet4")
        assert [i for i, _, _ in p.bad] == ([] if buf == line else [0])
        assert {n: p.counters[n].to_pylist() for n in names} == {
            n: [None if k == field - 9 else 1] for k, n in enumerate(names)}


def test_unknown_encryption_reasons_are_kept_up_to_what_int8_codes_hold() -> None:
    """New NX_* reasons are kept (Azure adds some); absurdly many kinds are quarantined, not wrapped."""
    lines = [VNET.format(d="O", s="C").replace(",X,", f",NX_NEW_{k:03d},") for k in range(130)]
    lines.append(VNET.format(d="O", s="C"))  # a known state after them still gets its own code
    p = parse_tuples("\n".join(lines).encode(), "vnet4")
    assert len(p.encryption_values) == 127 and p.encryption_values[8:10] == ["NX_NEW_000", "NX_NEW_001"]
    assert [(line, why) for line, why, _ in p.bad] == [(k, "invalid-encryption") for k in range(119, 130)]
    assert p.encryption.tolist() == list(range(8, 127)) + [0]


def test_epoch_zero_is_kept_beside_a_timestamp_out_of_range() -> None:
    line = VNET.format(d="O", s="C").split(",", 1)[1]
    p = parse_tuples(f"0,{line}\n-1,{line}\n{10**14},{line}\n1,{line}".encode(), "vnet4")
    assert [(i, why) for i, why, _ in p.bad] == [(1, "invalid-timestamp"), (2, "invalid-timestamp")]
    assert p.flow_time_ms.tolist() == [0, 1000] and p.valid.tolist() == [True, False, False, True]
