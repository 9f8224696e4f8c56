"""keys: flow ids that never collide, and which rows' counters count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowkit.analysis.counting import counted_values, counters
from flowkit.analysis.keys import address_mask, combine_codes, join_labels, protocol_number, sort_order
from flowkit.errors import ArgumentError
from flowkit_frames import frame, tuple_row


def test_combine_codes_never_overflows_into_a_collision():
    """Four arrays of 2**31 values each span 2**124 combinations: the running key is re-numbered
    before it overflows, so keys that differ only in the first array stay apart."""
    top = 2**31 - 1
    arrays = [np.array([0, 1, top, 0]), np.array([0, 0, top, 0]), np.array([0, 0, top, 0]), np.array([0, 0, top, 0])]
    assert combine_codes(*arrays).tolist() == [0, 1, 2, 0]


def test_the_rows_whose_counters_count():
    """C and E tuples with counters count; B tuples do not, even with VNet's zeros; a row with
    no state counts when it has counters (NSG v1 has neither)."""
    rows = [tuple_row(0, state="B"),                                           # VNet B: 0,0,0,0
            tuple_row(0, state="C", counters=(2, 20, 1, 10)),
            tuple_row(0, state="E", counters=(1, 10, 1, 10), log_type="nsg"),
            tuple_row(0, state="B", log_type="nsg"),                           # NSG B: empty
            tuple_row(0, state=None, log_type="nsg", version=1),               # NSG v1: no counters
            tuple_row(0, state=None, counters=(3, 30, 0, 0), log_type="nsg")]
    f = frame(rows)
    c = counters(f)
    assert c["known"].tolist() == [False, True, True, False, False, True]
    assert c["bytes_sent"].tolist() == [0.0, 20.0, 10.0, 0.0, 0.0, 30.0]
    known, values = counted_values(f)
    assert known.tolist() == c["known"].tolist()
    assert values["packets_sent"].tolist() == [2.0, 1.0, 3.0]


def test_combine_codes_keeps_the_missing_code_apart():
    """-1 (a categorical's missing code) is a value of its own, not one less than 0."""
    assert combine_codes(np.array([1, 0, 1]), np.array([-1, 4, 0])).tolist() == [0, 1, 2]


def test_join_labels_caps_each_group_at_the_limit():
    edge = np.array([0, 0, 1, 1, 1, 2, 2])
    values = np.array([443, 22, 8080, 80, 443, 53, 53])
    assert join_labels(edge, values, 4, 2).tolist() == ["22,443", "80,443,…(+1)", "53", ""]
    names = np.array(["b", "a", "c"], dtype=object)
    assert join_labels(np.array([1, 1, 0, 1]), np.array([2, 0, 2, 1]), 2, 5, names=names).tolist() == ["c", "a,b,c"]


def test_address_mask_with_addresses_and_networks_of_both_families():
    s = pd.Series(pd.Categorical(["10.10.1.4", "10.10.2.4", "2001:db8::1", "2001:db9::1", "2001:db8:1::5", None]))
    assert address_mask(s, "2001:db8::/32").tolist() == [False, False, True, False, True, False]
    assert address_mask(s, ["10.10.1.4", "2001:db8:1::/48"]).tolist() == [True, False, False, False, True, False]
    assert address_mask(s, ["2001:db8::1", "2001:db8:1::/48", "10.10.0.0/16"]).tolist() == [
        True, True, True, False, True, False]


def test_address_mask_puts_an_ipv4_mapped_address_in_the_ipv4_cidr_of_its_ipv4_address():
    s = pd.Series(pd.Categorical(["::ffff:10.10.1.4", "::ffff:192.0.2.9", "10.10.1.5", "2001:db8::1", "::ffff:zz"]))
    assert address_mask(s, "10.10.0.0/16").tolist() == [True, False, True, False, False]
    assert address_mask(s, "::ffff:0:0/96").tolist() == [True, True, False, False, False]
    assert address_mask(s, "10.10.1.4").tolist() == [False] * 5  # an address alone matches its own spelling
    assert address_mask(s, "::ffff:10.10.1.4").tolist() == [True, False, False, False, False]


@pytest.mark.parametrize("value", [True, np.bool_(False), 1.5, float("nan"), "1_7", "٦", "icmpx", "", [6]])
def test_protocol_number_refuses_what_is_not_a_whole_protocol_number(value):
    with pytest.raises(ArgumentError, match=r"^protocol: .* is not tcp, udp, icmp, icmpv6 or a whole protocol number$"):
        protocol_number(value)


def test_protocol_number_reads_names_letters_digits_and_whole_numbers():
    assert [protocol_number(v) for v in ("tcp", " UDP ", "t", "U", "47", 6, 6.0, np.uint8(17), None)] == [
        6, 17, 6, 17, 47, 6, 6, 17, None]


def test_a_bad_protocol_is_a_flowkit_error_in_diagnose_and_the_filters():
    import flowkit

    flows = flowkit.read_flow_logs(Path(__file__).resolve().parents[2] / "data-samples" / "connectivity",
                                   progress=False)
    with pytest.raises(ArgumentError, match="protocol: 'icmpx' is not tcp, udp"):
        flowkit.diagnose(flows, "10.0.0.4", "10.0.1.4", 443, protocol="icmpx")
    with pytest.raises(ArgumentError, match=r"protocol: True is not tcp, udp, icmp, icmpv6 or an IANA protocol number"):
        flowkit.filter_flows(flows, protocol=True)


@pytest.mark.parametrize("seed", range(5))
def test_sort_order_is_lexsort_whatever_the_keys(seed):
    """One combined argsort when the key ranges allow it, np.lexsort otherwise: the same stable
    order either way (ties keep row order), negative and unsigned keys included."""
    rng = np.random.default_rng(seed)
    n = 2000
    small = rng.integers(-3, 4, n)
    times = rng.integers(1714557600000, 1714557600000 + 50, n).astype(np.int64)
    codes = rng.integers(0, 5, n).astype(np.uint16)
    flags = rng.integers(0, 2, n).astype(bool)
    huge = rng.integers(-2**62, 2**62, n)  # its range alone passes 2**62: the lexsort way
    wide = rng.integers(0, 2**40, n)  # two of them pass 2**62 together: combined in runs
    floats = rng.integers(0, 3, n) / 2
    for keys in [(small,), (codes, times, small), (flags, codes), (times, huge), (huge, codes),
                 (np.array([2**63 + 5, 7, 2**63 + 5], dtype=np.uint64),),
                 (wide, small, wide, codes, flags), (small, floats, codes, huge, flags, times),
                 (codes, wide, wide, wide, small)]:
        n_rows = len(keys[0])
        keys = tuple(k[:n_rows] for k in keys)
        assert sort_order(*keys).tolist() == np.lexsort(keys[::-1]).tolist()


def test_sort_order_keeps_ties_in_row_order_and_takes_empty_keys():
    assert sort_order(np.array([1, 0, 1, 0]), np.array([7, 7, 7, 7])).tolist() == [1, 3, 0, 2]
    assert sort_order(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).tolist() == []
    with pytest.raises(ValueError):
        sort_order()
