"""filter_flows(): every argument, vectorised on codes, categories kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowkit.errors import ArgumentError
from flowkit.filters import filter_flows, filter_mask
from flowkit.schema import coerce, empty_frame


@pytest.fixture
def flows() -> pd.DataFrame:
    return coerce(pd.DataFrame({
        "flow_time": pd.to_datetime(["2024-05-01T10:00Z", "2024-05-01T10:30Z", "2024-05-01T11:00Z",
                                     "2024-05-01T11:30Z", "2024-05-01T12:00Z"], utc=True),
        "src_ip": ["10.10.1.4", "10.10.2.4", "192.0.2.66", "2001:db8::1", "10.10.1.5"],
        "dst_ip": ["10.10.3.4", "10.10.3.5", "10.10.1.4", "2001:db8::2", "198.51.100.10"],
        "src_port": [50000, 50001, 40000, 50002, 50003],
        "dst_port": [1433, 6379, 22, 443, 443],
        "protocol": [6, 6, 6, 17, 6],
        "direction": ["outbound", "outbound", "inbound", "outbound", "outbound"],
        "decision": ["allow", "allow", "deny", "allow", "deny"],
        "state": ["B", "C", "D", None, "D"],
        "encryption": ["NX", "X", "NX", None, "NX_NOT_ACCEPTED"],
        "rule": ["DefaultRule_AllowVnetOutBound", "UserRule_A", "DefaultRule_DenyAllInBound", "UserRule_A", "unspecified"],
        "mac": ["000D3A000101", "000D3A000201", "000D3A000101", "000D3A000301", "000D3A000102"],
        "log_type": ["vnet", "vnet", "vnet", "nsg", "vnet"],
    }))


@pytest.mark.parametrize("kwargs, ports", [
    pytest.param({}, [1433, 6379, 22, 443, 443], id="nothing"),
    pytest.param({"start": "2024-05-01T10:30Z", "end": "2024-05-01T12:00Z"}, [6379, 22, 443], id="window"),
    pytest.param({"start": pd.Timestamp("2024-05-01T11:00")}, [22, 443, 443], id="naive-is-utc"),
    pytest.param({"src": "10.10.0.0/16"}, [1433, 6379, 443], id="src-cidr"),
    pytest.param({"src": "10.10.1.4"}, [1433], id="src-ip"),
    pytest.param({"src": ["192.0.2.0/24", "2001:db8::/32"]}, [22, 443], id="src-list-v6"),
    pytest.param({"dst": "10.10.1.4"}, [22], id="dst"),
    pytest.param({"ports": 443}, [443, 443], id="port"),
    pytest.param({"ports": [22, 1433]}, [1433, 22], id="ports"),
    pytest.param({"ports": "1-1000,6000-6500"}, [6379, 22, 443, 443], id="port-ranges"),
    pytest.param({"ports": range(1000, 2000)}, [1433], id="range"),
    pytest.param({"protocol": "udp"}, [443], id="udp"),
    pytest.param({"protocol": [6]}, [1433, 6379, 22, 443], id="tcp-number"),
    pytest.param({"direction": "inbound"}, [22], id="direction"),
    pytest.param({"decision": "deny"}, [22, 443], id="decision"),
    pytest.param({"state": ["B", "C"]}, [1433, 6379], id="state"),
    pytest.param({"encryption": "NX_NOT_ACCEPTED"}, [443], id="encryption"),
    pytest.param({"rule": "UserRule_A"}, [6379, 443], id="rule"),
    pytest.param({"log_type": "nsg"}, [443], id="log-type"),
    pytest.param({"mac": "00-0d-3a-00-01-01"}, [1433, 22], id="mac-dashed"),
    pytest.param({"decision": "deny", "log_type": "vnet", "ports": 443}, [443], id="combined"),
    pytest.param({"rule": "NoSuchRule"}, [], id="unknown-value"),
    pytest.param({"src": "203.0.113.0/24"}, [], id="no-match"),
])
def test_filter(flows, kwargs, ports):
    out = filter_flows(flows, **kwargs)
    assert out["dst_port"].tolist() == ports
    assert out.dtypes.equals(flows.dtypes)
    assert list(out["mac"].cat.categories) == list(flows["mac"].cat.categories)


def test_empty_and_pure(flows):
    before = flows.copy()
    filter_flows(flows, decision="deny")
    pd.testing.assert_frame_equal(flows, before)
    assert len(filter_flows(empty_frame(), src="10.0.0.0/8", ports=443)) == 0
    assert filter_mask(flows, ports=22).tolist() == [False, False, True, False, False]


def test_a_million_rows_give_what_plain_pandas_gives():
    """Speed is measured in benchmarks/bench_filter_panel.py, not here."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    ips = np.array([f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(5000)]
                   + [f"203.0.113.{i}" for i in range(200)])
    flows = coerce(pd.DataFrame({
        "flow_time": pd.Timestamp("2024-05-01T10:00Z") + pd.to_timedelta(rng.integers(0, 7200, n), unit="s"),
        "src_ip": pd.Categorical.from_codes(rng.integers(0, len(ips), n), categories=ips),
        "dst_ip": pd.Categorical.from_codes(rng.integers(0, len(ips), n), categories=ips),
        "dst_port": rng.choice([22, 443, 1433], n), "protocol": 6,
        "decision": pd.Categorical.from_codes(rng.integers(0, 2, n), categories=["allow", "deny"]),
        "log_type": "vnet",
    }))
    out = filter_flows(flows, start="2024-05-01T10:30Z", src="10.0.0.0/16", ports=[443, 1433],
                       protocol="tcp", decision="deny", log_type="vnet")
    expected = ((flows["flow_time"] >= pd.Timestamp("2024-05-01T10:30Z")) & flows["src_ip"].astype(str).str.startswith("10.0.")
                & flows["dst_port"].isin([443, 1433]) & (flows["decision"] == "deny"))
    assert out.index.tolist() == np.flatnonzero(expected.to_numpy()).tolist()


@pytest.mark.parametrize("kwargs, message", [
    ({"start": "10:00"}, "start: '10:00' has no date (it would read as today): give the day too, such as "
                         "2024-05-01T10:00Z"),
    ({"start": "03/04/2024"}, "start: '03/04/2024' could be 2024-03-04 or 2024-04-03: write the date year first, "
                              "such as 2024-05-01T10:00Z"),
    ({"end": "tomorrow-ish"}, "end: cannot read 'tomorrow-ish' as a time: give ISO 8601 such as "
                              "2024-05-01T10:00Z (UTC unless it has an offset)"),
    ({"src": "10.0.0.400"}, "src: '10.0.0.400' is not an IP address or CIDR block"),
    ({"dst": ["10.0.0.4", "010.0.0.4"]}, "dst: '010.0.0.4' is not an IP address or CIDR block"),
    ({"src": "10.0.0.0/33"}, "src: '10.0.0.0/33' is not an IP address or CIDR block"),
    ({"ports": "90-80"}, "ports: '90-80' runs backwards, so no port is in it (use 80-90)"),
    ({"ports": "443/tcp"}, "ports: '443/tcp' is not a port or a range (use 443 or 8000-8100)"),
    ({"ports": "65536"}, "ports: '65536' is not a port or a range (ports run from 0 to 65535)"),
    ({"ports": [443, 70000]}, "ports: 70000 is not a port (ports run from 0 to 65535)"),
    ({"ports": [65536]}, "ports: 65536 is not a port (ports run from 0 to 65535)"),
    ({"ports": [-1, 443]}, "ports: -1 is not a port (ports run from 0 to 65535)"),
    ({"ports": "1-2-3"}, "ports: '1-2-3' is not a port or a range (use 443 or 8000-8100)"),
    ({"protocol": "icmpv7"}, "protocol: 'icmpv7' is not tcp, udp, icmp, icmpv6 or an IANA protocol number (0-255)"),
    ({"protocol": 300}, "protocol: 300 is not tcp, udp, icmp, icmpv6 or an IANA protocol number (0-255)"),
    ({"decision": "Deny"}, "decision: 'Deny' is not one of allow, deny"),
    ({"direction": ["inbound", "in"]}, "direction: 'in' is not one of inbound, outbound"),
    ({"state": "X"}, "state: 'X' is not one of B, C, E, D"),
    ({"log_type": "nsg2"}, "log_type: 'nsg2' is not one of nsg, vnet"),
    ({"mac": "00-0D-3A"}, "mac: '00-0D-3A' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)"),
])
def test_a_value_that_cannot_match_by_its_form_is_an_error_naming_the_argument(flows, kwargs, message):
    with pytest.raises(ArgumentError) as info:
        filter_flows(flows, **kwargs)
    assert str(info.value) == message


def test_open_vocabularies_and_boundary_ports_are_not_refused(flows):
    assert len(filter_flows(flows, encryption="NX_SOME_FUTURE_STATE")) == 0
    assert len(filter_flows(flows, rule="AnyRuleName")) == 0
    assert len(filter_flows(flows, ports="0,65535")) == 0
    assert len(filter_flows(flows, ports=[0, 65535], protocol=[0, 255])) == 0


def test_an_ipv4_mapped_address_is_found_by_any_of_its_spellings():
    f = coerce(pd.DataFrame({"src_ip": ["::ffff:192.0.2.1", "192.0.2.1", "2001:db8::9"],
                             "dst_ip": ["10.0.0.4"] * 3, "dst_port": [80, 81, 82]}))
    for spec in ("::ffff:192.0.2.1", "::FFFF:192.0.2.1", "::ffff:c000:201", "0:0:0:0:0:ffff:c000:0201"):
        assert filter_flows(f, src=spec)["dst_port"].tolist() == [80], spec
    assert filter_flows(f, src="192.0.2.1")["dst_port"].tolist() == [81]
    assert filter_flows(f, src="2001:DB8:0::9")["dst_port"].tolist() == [82]


@pytest.mark.parametrize("ports, kept", [
    pytest.param("22", [22], id="one-port-as-text"),
    pytest.param(" 443 ", [443, 443], id="spaces"),
    pytest.param("1-22", [22], id="range-includes-its-upper-bound"),
    pytest.param("22-1433", [1433, 22, 443, 443], id="range-includes-its-lower-bound"),
    pytest.param("6379-6379", [6379], id="one-port-range"),
    pytest.param("23-442,444-1432", [], id="around-every-port"),
])
def test_ports_given_as_text_keep_both_ends_of_a_range(flows, ports, kept):
    assert filter_flows(flows, ports=ports)["dst_port"].tolist() == kept


def test_a_cidr_block_with_host_bits_set_is_its_network(flows):
    """10.10.9.9/16 is read as 10.10.0.0/16 (as ipaddress with strict=False), not refused."""
    assert filter_flows(flows, src="10.10.9.9/16")["dst_port"].tolist() == [1433, 6379, 443]
    assert filter_flows(flows, dst="2001:db8::2:1/32")["dst_port"].tolist() == [443]
