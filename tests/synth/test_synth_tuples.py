"""Tuples, record times and records are byte-exact to Azure's formats (FORMATS.md)."""

from __future__ import annotations

import json

import pytest

from flowkit.synth import (
    blob_bytes,
    encode_record,
    nsg_record,
    nsg_v1_tuple,
    nsg_v2_tuple,
    record_time,
    vnet_record,
    vnet_tuple,
)


@pytest.mark.parametrize("text, fields", [
    pytest.param(nsg_v1_tuple(1717917209, "192.0.2.150", "10.0.0.10", 56292, 3389, 6, "I", "D"), 8, id="nsg-v1"),
    pytest.param(nsg_v2_tuple(1717917209, "192.0.2.150", "10.0.0.10", 56292, 3389, 6, "I", "D", "B"), 13,
                 id="nsg-v2-B"),
    pytest.param(nsg_v2_tuple(1717917209, "10.0.0.10", "198.51.100.1", 5000, 443, 6, "O", "A", "E",
                              (3, 767, 2, 1580)), 13, id="nsg-v2-E"),
    pytest.param(vnet_tuple(1663146003606, "10.0.0.6", "198.51.100.180", 23956, 443, 6, "O", "E", "NX",
                            (3, 767, 2, 1580)), 13, id="vnet"),
    pytest.param(vnet_tuple(1663146003606, "2001:db8::6", "2001:db8::7", 23956, 443, 17, "O", "D", "X"), 13,
                 id="vnet-ipv6"),
])
def test_field_counts(text: str, fields: int) -> None:
    assert len(text.split(",")) == fields


def test_nsg_v2_begin_has_empty_counters_even_if_given() -> None:
    text = nsg_v2_tuple(1717917209, "192.0.2.150", "10.0.0.10", 56292, 3389, 6, "I", "D", "B", (1, 2, 3, 4))
    assert text == "1717917209,192.0.2.150,10.0.0.10,56292,3389,T,I,D,B,,,,"


def test_vnet_begin_and_denied_carry_zero_counters() -> None:
    for state in ("B", "D"):
        text = vnet_tuple(1663146003606, "10.0.0.6", "198.51.100.180", 1, 443, 6, "O", state, "NX", (9, 9, 9, 9))
        assert text.endswith(f",{state},NX,0,0,0,0")


def test_vnet_tuple_matches_documented_example() -> None:
    # FORMATS.md's example with the public address replaced by a documentation address.
    assert (vnet_tuple(1663146003606, "10.0.0.6", "198.51.100.180", 23956, 443, 6, "O", "E", "NX",
                       (3, 767, 2, 1580))
            == "1663146003606,10.0.0.6,198.51.100.180,23956,443,6,O,E,NX,3,767,2,1580")


def test_nsg_protocol_letters() -> None:
    assert nsg_v1_tuple(1, "10.0.0.1", "10.0.0.2", 1, 53, 17, "O", "A").endswith(",53,U,O,A")


def test_record_time_has_seven_fractional_digits() -> None:
    assert record_time(1663146052, 5625085) == "2022-09-14T09:00:52.5625085Z"
    assert record_time(1663146052, 7) == "2022-09-14T09:00:52.0000007Z"
    with pytest.raises(ValueError):
        record_time(0, 10_000_000)


def test_nsg_record_shape_and_compact_encoding() -> None:
    rec = nsg_record("2024-06-09T07:14:30.0036054Z", "guid", "000D3A8D51B3", "/SUBSCRIPTIONS/S/NSG1", 2,
                     [("DefaultRule_DenyAllInBound",
                       ["1717917209,192.0.2.150,10.0.0.10,56292,3389,T,I,D,B,,,,"]),
                      ("UserRule_Empty", [])])
    body = encode_record(rec)
    assert b" " not in body
    assert list(rec) == ["time", "systemId", "macAddress", "category", "resourceId", "operationName",
                         "properties"]
    assert rec["properties"]["Version"] == 2
    assert rec["properties"]["flows"][1] == {"rule": "UserRule_Empty", "flows": []}
    assert json.loads(body) == rec


def test_vnet_record_shape() -> None:
    rec = vnet_record("2022-09-14T09:00:52.5625085Z", "g", "00224871C205", "/FL", "/vnet",
                      [("00000000-1234-abcd-ef00-c1c2c3c4c5c6",
                        [("DefaultRule_AllowInternetOutBound",
                          ["1663146003606,10.0.0.6,198.51.100.180,23956,443,6,O,E,NX,3,767,2,1580"])])])
    assert list(rec) == ["time", "flowLogVersion", "flowLogGUID", "macAddress", "category",
                         "flowLogResourceID", "targetResourceID", "operationName", "flowRecords"]
    assert rec["flowLogVersion"] == 4 and rec["category"] == "FlowLogFlowEvent"
    assert json.loads(blob_bytes([rec]))["records"] == [rec]
