"""filter_flows(): every argument, vectorised on codes, categories kept."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

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


def test_fast_on_a_million_rows():
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
    started = time.perf_counter()
    out = filter_flows(flows, start="2024-05-01T10:30Z", src="10.0.0.0/16", ports=[443, 1433],
                       protocol="tcp", decision="deny", log_type="vnet")
    elapsed = time.perf_counter() - started
    expected = ((flows["flow_time"] >= pd.Timestamp("2024-05-01T10:30Z")) & flows["src_ip"].astype(str).str.startswith("10.0.")
                & flows["dst_port"].isin([443, 1433]) & (flows["decision"] == "deny"))
    assert len(out) == int(expected.sum())
    assert elapsed < 3.0, elapsed  # typically ~0.1 s; generous on a shared 2-core machine
