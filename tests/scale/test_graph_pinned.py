"""Pinned behaviour of flowkit.scale.graph found by mutation testing (synchronous scheduler)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from dask import delayed

from flowkit.analysis.graph import talker_graph
from flowkit.errors import FlowkitDataWarning
from flowkit.scale._parts import from_parts
from flowkit.scale.graph import talker_graph_dask
from flowkit.schema import coerce, empty_frame

from scale_helpers import graph_dict

dd = pytest.importorskip("dask.dataframe")


pytestmark = pytest.mark.usefixtures("synchronous_dask")  # tests/scale/conftest.py


@pytest.fixture(scope="module")
def frames(sample_frames) -> dict[str, pd.DataFrame]:
    return sample_frames


def _messages(seen: list) -> list[str]:
    return sorted(str(w.message) for w in seen if issubclass(w.category, FlowkitDataWarning))


def _same(frame: pd.DataFrame, npartitions: int | None = None, by: str = "ip", *, ddf=None, **kwargs) -> dict:
    """The Dask graph of ``frame`` (split in ``npartitions``, or ``ddf``) is the pandas graph, with
    the same data warnings; returns it as data."""
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False) if ddf is None else ddf
    with warnings.catch_warnings(record=True) as seen_dask:
        warnings.simplefilter("always")
        mine = graph_dict(talker_graph_dask(ddf, by, **kwargs))
    with warnings.catch_warnings(record=True) as seen_pandas:
        warnings.simplefilter("always")
        theirs = graph_dict(talker_graph(frame, by, **kwargs))
    assert mine == theirs, (by, npartitions)
    assert _messages(seen_dask) == _messages(seen_pandas), by
    return mine


def _row(src: str | None, dst: str | None, **fields) -> dict:
    """One VNet row (outbound at 000D3A000001, X, 1 packet and 100 bytes each way unless told)."""
    return {"flow_time": pd.Timestamp("2024-05-01T10:00Z"), "src_ip": src, "dst_ip": dst, "src_port": 40000,
            "dst_port": 443, "protocol": 6, "direction": "outbound", "decision": "allow", "state": "E",
            "encryption": "X", "packets_sent": 1, "bytes_sent": 100, "packets_received": 1, "bytes_received": 100,
            "rule": "r", "acl_id": "acl", "mac": "000D3A000001", "log_type": "vnet", "resource_id": "/FL", **fields}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return coerce(pd.DataFrame(rows))


def _parts(*frames: pd.DataFrame):
    """A Dask frame of exactly these partitions (an empty one stays a partition)."""
    return from_parts([delayed(f) for f in frames], empty_frame())


@pytest.mark.parametrize("name, npartitions, by", [
    pytest.param("nsg-vs-vnet", 3, "ip", id="nsg-vs-vnet-ip"),
    pytest.param("nsg-vs-vnet", 2, "mac", id="nsg-vs-vnet-mac"),
    pytest.param("nsg-vs-vnet", 1, "subnet", id="nsg-vs-vnet-subnet-one-partition"),
    pytest.param("connectivity", 3, "ip", id="connectivity-ip"),
    pytest.param("encryption", 2, "mac", id="encryption-mac"),
])
def test_samples_equal_pandas(frames: dict[str, pd.DataFrame], name: str, npartitions: int, by: str) -> None:
    got = _same(frames[name], npartitions, by)
    assert got["edges"]


def test_rows_missing_an_address_draw_no_edge_but_teach_their_mac() -> None:
    """A row without a source or without a destination address is no edge (in any partition), though
    its NIC side still names the address's MAC; a partition of such rows only, and an empty one, add
    nothing."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9"), _row(None, "192.0.2.9", src_port=40001),
                   _row("10.0.0.5", None, src_port=40002, mac="000D3A000002")])
    got = _same(rows, by="mac", ddf=_parts(rows, rows.iloc[1:], empty_frame()))
    assert list(got["edges"]) == [("000D3A000001", "192.0.2.9")]
    edge = got["edges"][("000D3A000001", "192.0.2.9")]
    assert (edge["flows"], edge["tuples"], edge["bytes_sent"]) == (1, 1, 100)
    assert _same(rows.iloc[1:], by="ip", ddf=_parts(rows.iloc[1:], empty_frame()))["edges"] == {}


def test_a_frame_of_text_columns_gives_the_graph_of_its_categorical_twin() -> None:
    """Joined or anonymised frames hold text, not categories: the Dask graph takes them as pandas does."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9"), _row("10.0.0.4", "192.0.2.9", src_port=40001, rule="s"),
                   _row("192.0.2.9", "10.0.0.4", direction="inbound", mac="000D3A000002")])
    text = rows.astype({c: object for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)})
    got = _same(rows, ddf=dd.from_pandas(text, npartitions=2, sort=False))
    assert got["edges"][("10.0.0.4", "192.0.2.9")]["rules"] == "r,s"


def test_an_address_at_two_nics_warns_by_mac_and_goes_to_its_most_frequent_nic() -> None:
    """10.0.0.4 is seen once at NIC 1 and twice at NIC 2: its node is NIC 2. 10.0.0.5 is seen once at
    each of NICs 3 and 4: a tie goes to the smaller MAC. 10.0.0.6 is at one NIC only: the warning
    leaves it out. By address, nobody is warned."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9"), _row("10.0.0.4", "192.0.2.10", mac="000D3A000002"),
                   _row("10.0.0.4", "192.0.2.11", mac="000D3A000002"),
                   _row("10.0.0.5", "192.0.2.9", mac="000D3A000004"),
                   _row("10.0.0.5", "192.0.2.10", mac="000D3A000003"),
                   _row("10.0.0.6", "192.0.2.9", mac="000D3A000006")])
    assert sorted(_same(rows, 2, "mac")["edges"]) == [
        ("000D3A000002", "192.0.2.10"), ("000D3A000002", "192.0.2.11"), ("000D3A000002", "192.0.2.9"),
        ("000D3A000003", "192.0.2.10"), ("000D3A000003", "192.0.2.9"), ("000D3A000006", "192.0.2.9")]
    _same(rows, 2, "ip")
    with pytest.warns(FlowkitDataWarning, match="more than one NIC"):
        talker_graph_dask(dd.from_pandas(rows, npartitions=2, sort=False), "mac")


def test_a_deny_by_decision_alone_or_by_state_alone_is_denied() -> None:
    """NSG v2 logs a denial as decision D with state B; a frame built by hand may say it by state D
    alone: either makes a denied flow."""
    rows = _frame([_row("192.0.2.7", "10.0.0.4", direction="inbound", decision="deny", state="B", encryption=None,
                        log_type="nsg", packets_sent=None, bytes_sent=None, packets_received=None,
                        bytes_received=None),
                   _row("192.0.2.8", "10.0.0.4", direction="inbound", decision="allow", state="D")])
    got = _same(rows, 2)
    assert [got["edges"][(src, "10.0.0.4")]["denied"] for src in ("192.0.2.7", "192.0.2.8")] == [1, 1]


def test_a_row_without_direction_teaches_no_mac() -> None:
    """Only the NIC side of a row (source of an outbound row, destination of an inbound one) is
    learned: a row with no direction names no NIC, so its destination keeps its address as node."""
    rows = _frame([_row("10.0.0.4", "10.0.0.9"), _row("10.0.0.4", "10.0.0.9", src_port=40001, direction=None,
                                                      mac="000D3A000009")])
    got = _same(rows, 2, "mac")
    assert list(got["edges"]) == [("000D3A000001", "10.0.0.9")]


def test_default_arguments_list_twenty_ports_and_ten_rules_by_address() -> None:
    """Without arguments: nodes are addresses, an edge lists at most 20 ports and 10 rules."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9", src_port=40000 + k, dst_port=1000 + k, rule=f"rule{k:02d}")
                   for k in range(21)])
    ddf = dd.from_pandas(rows, npartitions=2, sort=False)
    mine, theirs = graph_dict(talker_graph_dask(ddf)), graph_dict(talker_graph(rows))
    assert mine == theirs
    assert mine["graph"] == {"by": "ip"}
    edge = mine["edges"][("10.0.0.4", "192.0.2.9")]
    assert edge["ports"] == ",".join(str(1000 + k) for k in range(20)) + ",…(+1)"
    assert edge["rules"] == ",".join(f"rule{k:02d}" for k in range(10)) + ",…(+11)"


def test_by_subnet_without_a_prefix_takes_slash_24_and_slash_64() -> None:
    rows = _frame([_row("2001:db8:0:1::4", "2001:db8:0:1:ffff::9"), _row("2001:db8:0:2::4", "192.0.2.9"),
                   _row("192.0.2.200", "198.51.100.1", mac="000D3A000002")])
    ddf = dd.from_pandas(rows, npartitions=2, sort=False)
    mine = graph_dict(talker_graph_dask(ddf, "subnet"))
    assert mine == graph_dict(talker_graph(rows, "subnet"))
    assert sorted(mine["edges"]) == [("192.0.2.0/24", "198.51.100.0/24"), ("2001:db8:0:1::/64", "2001:db8:0:1::/64"),
                                     ("2001:db8:0:2::/64", "192.0.2.0/24")]


def test_missing_counters_stay_unknown_never_zero() -> None:
    """NSG v2 B tuples carry no counters: an edge of such flows only has NaN traffic and no encryption
    state (NaN share); beside a counted flow in another partition, only the counted one's bytes add up."""
    nsg = {"encryption": None, "log_type": "nsg", "state": "B", "packets_sent": None, "bytes_sent": None,
           "packets_received": None, "bytes_received": None}
    rows = _frame([_row("192.0.2.7", "10.0.0.4", direction="inbound", **nsg),
                   _row("10.0.0.4", "192.0.2.9", **nsg),
                   _row("10.0.0.4", "192.0.2.9", src_port=40001, bytes_sent=300, bytes_received=50)])
    got = _same(rows, ddf=_parts(rows.iloc[:2], rows.iloc[2:]))
    unknown, mixed = got["edges"][("192.0.2.7", "10.0.0.4")], got["edges"][("10.0.0.4", "192.0.2.9")]
    assert (unknown["flows"], unknown["flows_counted"], unknown["bytes"], unknown["encrypted_share"]) == (
        1, 0, "NaN", "NaN")
    assert (mixed["flows"], mixed["flows_counted"], mixed["bytes_sent"], mixed["bytes"], mixed["encrypted_share"]) == (
        2, 1, 300, 350, 1.0)
    assert got["nodes"]["192.0.2.7"]["bytes_out"] == "NaN"


def test_an_attribute_the_pandas_graph_has_and_dask_lacks_is_refused(monkeypatch) -> None:
    import flowkit.scale.graph as graph

    nodes, edges = graph._attribute_names()
    monkeypatch.setattr(graph, "_attribute_names", lambda: (nodes, [*edges, "jitter"]))
    rows = _frame([_row("10.0.0.4", "192.0.2.9")])
    with pytest.raises(NotImplementedError, match=r"^talker_graph has attribute\(s\) \['jitter'\] that "
                                                  r"talker_graph_dask does not compute$"):
        talker_graph_dask(dd.from_pandas(rows, npartitions=1, sort=False))
