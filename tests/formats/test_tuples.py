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
