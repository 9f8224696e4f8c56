"""filter_flows refuses an encryption state no row can hold (README: "refuses ... any value that
cannot match by its form"), as the reader quarantines a tuple whose state has that form."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.errors import ArgumentError
from flowkit.filters import filter_flows
from flowkit.read import decode_to_frame
from flowkit.schema import coerce


@pytest.fixture
def flows() -> pd.DataFrame:
    return coerce(pd.DataFrame({
        "src_ip": ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
        "dst_ip": ["198.51.100.1"] * 3,
        "dst_port": [443, 443, 443],
        "encryption": ["NX", "X", "NX_SOME_FUTURE_STATE"],
    }))


@pytest.mark.parametrize("value, bad", [
    pytest.param("nx", "nx", id="lower-case"),
    pytest.param(["X", "nx_local_dst"], "nx_local_dst", id="one-of-a-list"),
    pytest.param("NX-NOT-ACCEPTED", "NX-NOT-ACCEPTED", id="dashes"),
    pytest.param("", "", id="empty"),
    pytest.param("encrypted", "encrypted", id="a-word"),
])
def test_an_encryption_state_of_another_form_is_refused(flows, value, bad):
    with pytest.raises(ArgumentError) as info:
        filter_flows(flows, encryption=value)
    assert str(info.value) == (f"encryption: {bad!r} is not an encryption state "
                               "(X, NX or NX_ and upper-case letters, such as NX_NOT_ACCEPTED)")


@pytest.mark.parametrize("value, srcs", [
    pytest.param("NX", ["192.0.2.1"], id="nx"),
    pytest.param(["X", "NX_SOME_FUTURE_STATE"], ["192.0.2.2", "192.0.2.3"], id="future-state-kept"),
    pytest.param("NX_NOT_ACCEPTED", [], id="absent-but-possible"),
])
def test_encryption_states_of_the_right_form_filter(flows, value, srcs):
    assert filter_flows(flows, encryption=value)["src_ip"].tolist() == srcs


def test_the_form_refused_is_the_form_the_reader_quarantines():
    tuples = ",".join(f'"1714557660000,192.0.2.1,198.51.100.2,{port},443,6,O,C,{enc},1,2,3,4"'
                      for port, enc in ((40001, "nx"), (40002, "NX_SOME_FUTURE_STATE")))
    blob = ('{"records":[{"time":"2024-05-01T10:01:00Z","flowLogVersion":4,"macAddress":"000D3A000101",'
            '"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":[' + tuples + ']}]}]}}]}')
    frame, report = decode_to_frame(blob.encode(), "doc.json")
    assert frame["encryption"].astype(str).tolist() == ["NX_SOME_FUTURE_STATE"]
    assert report.quarantine["reason"].tolist() == ["invalid-encryption"]
    with pytest.raises(ArgumentError):
        filter_flows(frame, encryption="nx")


def test_protocol_words_icmp_and_icmpv6_select_their_numbers():

    flows = coerce(pd.DataFrame({"src_ip": ["192.0.2.1", "192.0.2.1", "2001:db8::1"],
                                 "dst_ip": ["198.51.100.2", "198.51.100.2", "2001:db8::2"], "protocol": [1, 6, 58]}))
    assert filter_flows(flows, protocol="ICMP")["protocol"].tolist() == [1]
    assert filter_flows(flows, protocol=["icmpv6", "tcp"])["protocol"].tolist() == [6, 58]
