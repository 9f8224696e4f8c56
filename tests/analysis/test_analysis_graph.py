"""talker_graph() and its helpers: attributes, modes, no double counting, export, drawing."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from flowkit.analysis.draw import ALLOWED_COLOUR, DENIED_COLOUR, draw_talker_graph
from flowkit.analysis.graph import ego, talker_graph, to_gexf, to_graphml, top_talkers
from flowkit.inventory import inventory_from_records
from flowkit.schema import coerce, empty_frame
from flowkit_frames import APP, APP_MAC, DB, INTERNET, SCANNER, WEB, WEB_MAC, frame, tuple_row

INVENTORY = inventory_from_records([
    {"mac": WEB_MAC, "ip": WEB, "vm": "web-01", "nic": "web-01-nic", "subnet": "snet-web",
     "subnet_prefix": "10.10.1.0/24"},
    {"mac": APP_MAC, "ip": APP, "vm": "app-01", "nic": "app-01-nic", "subnet": "snet-app",
     "subnet_prefix": "10.10.2.0/24"},
])


def _rows():
    both_ends = [
        tuple_row(0, sport=1, state="B", encryption="X"),
        tuple_row(5, sport=1, state="C", counters=(10, 1000, 8, 800), encryption="X"),
        tuple_row(6, sport=1, state="E", counters=(1, 100, 1, 100), encryption="X"),
        tuple_row(0, sport=1, state="B", direction="inbound", mac=APP_MAC, encryption="X"),
        tuple_row(5, sport=1, state="C", counters=(10, 1000, 8, 800), direction="inbound", mac=APP_MAC, encryption="X"),
        tuple_row(6, sport=1, state="E", counters=(1, 100, 1, 100), direction="inbound", mac=APP_MAC, encryption="X"),
        tuple_row(1, sport=2, state="E", counters=(2, 200, 2, 200), encryption="NX", dport=9090,
                  rule="UserRule_AllowApp"),
    ]
    internet = [tuple_row(0, dst=INTERNET, dport=443, sport=3, state="E", counters=(3, 300, 4, 4000),
                          rule="DefaultRule_AllowInternetOutBound")]
    scans = [tuple_row(i, src=SCANNER, dst=WEB, sport=40000 + i, dport=22, direction="inbound",
                       decision="deny", state="D", rule="DefaultRule_DenyAllInBound") for i in range(3)]
    return both_ends + internet + scans


def test_edges_each_way_without_double_counting():
    G = talker_graph(frame(_rows()))
    e = G.edges[WEB, APP]
    assert (e["flows"], e["tuples"]) == (2, 7)
    # The flow seen at both NICs counts once: 11 + 2 packets, not 24.
    assert (e["packets_sent"], e["bytes_sent"], e["packets_received"], e["bytes_received"]) == (13, 1300, 11, 1100)
    assert e["bytes"] == 2400
    assert (e["encrypted_share"], e["unencrypted"]) == (0.5, True)
    assert (e["ports"], e["rules"]) == ("8080,9090", "DefaultRule_AllowVnetOutBound,UserRule_AllowApp")
    assert set(e) == {"flows", "tuples", "flows_counted", "packets_sent", "bytes_sent", "packets_received",
                      "bytes_received", "bytes", "denied", "encrypted_share", "unencrypted", "ports", "rules"}
    assert e["flows_counted"] == 2 and isinstance(e["bytes_sent"], int)
    assert e["denied"] == 0
    s = G.edges[SCANNER, WEB]
    assert (s["denied"], s["tuples"], s["flows"], s["ports"], s["unencrypted"]) == (3, 3, 3, "22", True)


def test_node_attributes():
    G = talker_graph(frame(_rows()), inventory=INVENTORY)
    assert G.nodes[WEB] == {"ip": WEB, "mac": WEB_MAC, "vm": "web-01", "nic": "web-01-nic", "subnet": "snet-web",
                            "kind": "private", "flows_out": 3, "bytes_out": 1300 + 300, "flows_in": 3,
                            "bytes_in": 1100 + 4000 + 0}  # sent: requests to APP and the internet; got: replies
    assert G.nodes[INTERNET]["kind"] == "public" and G.nodes[INTERNET]["vm"] == ""
    assert G.nodes[SCANNER]["subnet"] == "192.0.2.0/24"
    assert G.graph["by"] == "ip"


def test_by_mac_and_by_subnet():
    G = talker_graph(frame(_rows()), by="mac")
    assert set(G.nodes) == {WEB_MAC, APP_MAC, INTERNET, SCANNER}
    assert G.nodes[APP_MAC]["ip"] == APP
    S = talker_graph(frame(_rows()), by="subnet", inventory=INVENTORY)
    assert set(S.nodes) == {"snet-web", "snet-app", "198.51.100.0/24", "192.0.2.0/24"}
    assert S.edges["snet-web", "snet-app"]["flows"] == 2
    plain = talker_graph(frame(_rows()), by="subnet")
    assert "10.10.1.0/24" in plain and "10.10.2.0/24" in plain
    with pytest.raises(ValueError):
        talker_graph(frame(_rows()), by="vm")


def test_subnet_self_loops_for_intra_subnet_traffic():
    rows = [tuple_row(0, src="10.10.1.4", dst="10.10.1.5", state="E", counters=(1, 1, 1, 1))]
    S = talker_graph(frame(rows), by="subnet")
    assert list(S.edges) == [("10.10.1.0/24", "10.10.1.0/24")]


def test_ipv6_subnets():
    rows = [tuple_row(0, src="2001:db8::1", dst="2001:db8:0:1::2", state="E", counters=(1, 1, 1, 1))]
    assert set(talker_graph(frame(rows), by="subnet")) == {"2001:db8::/64", "2001:db8:0:1::/64"}


def test_ports_and_rules_are_capped():
    rows = [tuple_row(0, sport=i, dport=1000 + i, rule=f"UserRule_{i:02d}") for i in range(25)]
    e = talker_graph(frame(rows), max_ports=3, max_rules=2).edges[WEB, APP]
    assert e["ports"] == "1000,1001,1002,…(+22)"
    assert e["rules"] == "UserRule_00,UserRule_01,…(+23)"


def test_two_nsgs_at_one_nic_are_not_double_counted():
    rows = [tuple_row(0, state="E", counters=(5, 500, 5, 500), log_type="nsg", resource_id=f"/x/nsg-{n}")
            for n in ("subnet", "nic")]
    e = talker_graph(frame(rows)).edges[WEB, APP]
    assert (e["tuples"], e["flows"], e["packets_sent"]) == (2, 1, 5)


def test_flows_without_counters_have_unknown_traffic_not_zero(tmp_path):
    v1 = dict(log_type="nsg", version=1, state=None, encryption=None, acl_id=None, resource_id="/x/nsg-web")
    rows = [tuple_row(0, sport=1, **v1),  # NSG v1: no counters at all
            tuple_row(0, sport=2, dport=9090, **{**v1, "version": 2, "state": "B"}),  # NSG v2 B: empty
            tuple_row(0, dst=INTERNET, dport=443, sport=3, **v1),
            tuple_row(0, dst=INTERNET, dport=443, sport=4, counters=(3, 300, 4, 4000),
                      **{**v1, "version": 2, "state": "E"})]
    G = talker_graph(frame(rows))
    e = G.edges[WEB, APP]
    assert (e["flows"], e["flows_counted"]) == (2, 0)
    assert all(math.isnan(e[c]) for c in ("packets_sent", "bytes_sent", "packets_received", "bytes_received", "bytes"))
    i = G.edges[WEB, INTERNET]
    assert (i["flows"], i["flows_counted"], i["bytes_sent"], i["bytes_received"]) == (2, 1, 300, 4000)
    assert math.isnan(G.nodes[APP]["bytes_in"]) and math.isnan(G.nodes[APP]["bytes_out"])
    assert (G.nodes[WEB]["bytes_out"], G.nodes[WEB]["bytes_in"]) == (300, 4000)  # the known part only
    top = top_talkers(G, 3)
    assert top["node"].tolist() == [WEB, INTERNET, APP]
    assert top["total"].tolist()[:2] == [4300, 4300] and top["total"].isna().tolist() == [False, False, True]
    assert str(top["total"].dtype) == "Int64"
    assert to_graphml(G, tmp_path / "g.graphml").exists()  # unknown traffic left out, not a number
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert "bytes" not in back.edges[WEB, APP] and back.edges[WEB, INTERNET]["bytes"] == 4300
    assert "bytes_in" not in back.nodes[APP] and back.nodes[WEB]["bytes_out"] == 300
    keys = (tmp_path / "g.graphml").read_text().count('attr.name="bytes"')
    assert keys == 1  # one type per attribute
    to_gexf(G, tmp_path / "g.gexf")
    gexf = nx.read_gexf(tmp_path / "g.gexf")  # readable: no NaN written as a long
    assert "bytes" not in gexf.edges[WEB, APP] and gexf.edges[WEB, INTERNET]["bytes"] == 4300
    fig = draw_talker_graph(G)
    assert fig is not None


def test_empty_graph():
    G = talker_graph(empty_frame())
    assert (G.number_of_nodes(), G.number_of_edges()) == (0, 0)


def test_rows_without_both_addresses_give_an_empty_graph():
    half = frame([tuple_row(0)]).assign(dst_ip=None)
    G = talker_graph(half)
    assert (G.number_of_nodes(), G.number_of_edges()) == (0, 0)


def _naive(flows: pd.DataFrame) -> dict:
    """Reference: per-row loop (what talker_graph must equal, counted per flow and observer)."""
    per_obs: dict = {}
    edges: dict = {}
    for r in flows.itertuples(index=False):
        key = (r.src_ip, r.src_port, r.dst_ip, r.dst_port, r.protocol)
        obs = per_obs.setdefault(key, {}).setdefault((r.mac, r.log_type), 0)
        if r.state in ("C", "E") and not pd.isna(r.bytes_sent):
            per_obs[key][(r.mac, r.log_type)] = obs + int(r.bytes_sent)
        e = edges.setdefault((r.src_ip, r.dst_ip), {"tuples": 0, "keys": set()})
        e["tuples"] += 1
        e["keys"].add(key)
    out = {}
    for (s, d), e in edges.items():
        out[(s, d)] = (e["tuples"], len(e["keys"]), sum(max(per_obs[k].values()) for k in e["keys"]))
    return out


def test_matches_a_naive_loop_on_random_data():
    rng = np.random.default_rng(4)
    n = 3000
    ips = [f"10.0.0.{i}" for i in range(1, 30)] + [f"203.0.113.{i}" for i in range(1, 10)]
    flows = coerce(pd.DataFrame({
        "flow_time": pd.Timestamp("2024-05-01T10:00Z") + pd.to_timedelta(rng.integers(0, 3600, n), unit="s"),
        "src_ip": rng.choice(ips, n), "dst_ip": rng.choice(ips, n),
        "src_port": rng.integers(50000, 50020, n), "dst_port": rng.choice([22, 443, 8080], n),
        "protocol": rng.choice([6, 17], n), "direction": rng.choice(["inbound", "outbound"], n),
        "decision": "allow", "state": rng.choice(["B", "C", "E"], n), "encryption": "NX",
        "packets_sent": rng.integers(0, 100, n), "bytes_sent": rng.integers(0, 10_000, n),
        "packets_received": 0, "bytes_received": 0,
        "mac": rng.choice(["000D3A000001", "000D3A000002"], n), "log_type": "vnet",
    }))
    G = talker_graph(flows)
    got = {(u, v): (d["tuples"], d["flows"], d["bytes_sent"]) for u, v, d in G.edges(data=True)}
    assert got == _naive(flows)


def test_top_talkers_and_ego():
    G = talker_graph(frame(_rows()), inventory=INVENTORY)
    top = top_talkers(G, 2)
    assert top["node"].tolist() == [WEB, INTERNET]
    assert top.loc[0, "vm"] == "web-01"
    assert int(top.loc[0, "total"]) == 6700
    assert top_talkers(G, 1, weight="denied")["node"].tolist() == [WEB]
    sub = ego(G, APP)
    assert set(sub.nodes) == {WEB, APP}
    assert set(ego(G, APP, radius=2).nodes) == {WEB, APP, INTERNET, SCANNER}
    with pytest.raises(KeyError):
        ego(G, DB)


def test_export_graphml_and_gexf(tmp_path):
    G = talker_graph(frame(_rows()), inventory=INVENTORY)
    back = nx.read_graphml(to_graphml(G, tmp_path / "g.graphml"))
    assert back.edges[WEB, APP]["bytes_sent"] == 1300
    assert back.edges[SCANNER, WEB]["encrypted_share"] == 0.0
    assert back.nodes[WEB]["vm"] == "web-01"
    gexf = nx.read_gexf(to_gexf(G, tmp_path / "g.gexf"))
    assert gexf.number_of_edges() == G.number_of_edges()
    # NaN shares (no encryption state known) are written as -1.
    nsg = frame([tuple_row(0, state="E", counters=(1, 1, 1, 1), log_type="nsg")])
    back = nx.read_graphml(to_graphml(talker_graph(nsg), tmp_path / "n.graphml"))
    assert back.edges[WEB, APP]["encrypted_share"] == -1.0
    assert math.isnan(talker_graph(nsg).edges[WEB, APP]["encrypted_share"])


def test_draw_marks_denied_and_unencrypted_edges():
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyArrowPatch

    G = talker_graph(frame(_rows()), inventory=INVENTORY)
    fig = draw_talker_graph(G, title="talkers")
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == G.number_of_edges()
    colours = {to_rgba(p.get_edgecolor(), 1.0) for p in arrows}
    assert to_rgba(DENIED_COLOUR) in colours and to_rgba(ALLOWED_COLOUR) in colours
    assert any(p.get_linestyle() in ("--", "dashed") for p in arrows)
    labels = {t.get_text() for t in ax.texts}
    assert "web-01" in labels and "app-01" in labels
    assert ax.get_title() == "talkers"


def test_draw_a_few_hundred_nodes_labels_only_the_busiest():
    rng = np.random.default_rng(1)
    n = 1500
    ips = [f"10.1.{i // 250}.{i % 250}" for i in range(300)]
    flows = coerce(pd.DataFrame({"src_ip": rng.choice(ips, n), "dst_ip": rng.choice(ips, n),
                                 "src_port": rng.integers(1, 60000, n), "dst_port": 443, "protocol": 6,
                                 "state": "E", "packets_sent": 1, "bytes_sent": rng.integers(1, 1000, n),
                                 "packets_received": 1, "bytes_received": 1, "mac": "000D3A000001",
                                 "log_type": "vnet", "direction": "outbound", "decision": "allow"}))
    G = talker_graph(flows)
    fig = draw_talker_graph(G, max_labels=25)
    ax = fig.axes[0]
    node_labels = [t for t in ax.texts if t.get_text() in G]
    assert len(node_labels) == 25
    assert any("busiest labelled" in t.get_text() for t in ax.texts)


def test_draw_empty_and_into_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    assert draw_talker_graph(nx.DiGraph(), ax=ax) is fig
    assert [t.get_text() for t in ax.texts] == ["no flows"]
    for layout in ("circular", "shell", "kamada_kawai"):
        draw_talker_graph(talker_graph(frame(_rows())), layout=layout)


@pytest.mark.parametrize("kwargs, message", [
    ({"by": "nic"}, "by must be one of ('ip', 'mac', 'subnet'), not 'nic'"),
    ({"subnet_prefix": (33, 64)}, "subnet_prefix must be (IPv4 length 0-32, IPv6 length 0-128), not (33, 64)"),
    ({"subnet_prefix": (24,)}, "subnet_prefix must be (IPv4 length 0-32, IPv6 length 0-128), not (24,)"),
    ({"subnet_prefix": (24, 129)}, "subnet_prefix must be (IPv4 length 0-32, IPv6 length 0-128), not (24, 129)"),
])
def test_arguments_the_graph_cannot_use_are_named(kwargs, message):
    from flowkit.errors import ArgumentError

    with pytest.raises(ArgumentError) as info:
        talker_graph(frame(_rows()), **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)  # what it raised before


def test_subnet_prefixes_at_their_bounds():
    G = talker_graph(frame(_rows()), by="subnet", subnet_prefix=(0, 128))
    assert "0.0.0.0/0" in G


def test_by_mac_does_not_depend_on_the_order_of_the_rows():
    """10.0.0.4 held by two NICs equally often (an address reused after a redeploy), and a NIC
    with an IPv4 and an IPv6 address: the same graph whatever the row order."""
    rows = [tuple_row(0, src="10.0.0.4", dst=INTERNET, sport=1, mac="000D3A0000B2", state="E", counters=(1, 10, 1, 10)),
            tuple_row(60, src="10.0.0.4", dst=INTERNET, sport=2, mac="000D3A0000A1", state="E", counters=(1, 10, 1, 10)),
            tuple_row(0, src="2001:db8::4", dst=INTERNET, sport=3, mac="000D3A0000C3", state="E", counters=(1, 10, 1, 10)),
            tuple_row(0, src="192.0.2.4", dst=INTERNET, sport=4, mac="000D3A0000C3", state="E", counters=(1, 10, 1, 10))]
    graphs = []
    for order in ([0, 1, 2, 3], [1, 0, 3, 2], [3, 2, 1, 0]):
        with pytest.warns(Warning, match="seen at more than one NIC"):
            G = talker_graph(frame([rows[i] for i in order]), by="mac")
        graphs.append((sorted(G.nodes(data=True)), sorted(G.edges(data=True))))
    assert graphs[0] == graphs[1] == graphs[2]
    with pytest.warns(Warning, match="seen at more than one NIC"):
        G = talker_graph(frame(rows), by="mac")
    assert "000D3A0000A1" in G and "000D3A0000B2" not in G  # a tie goes to the smaller MAC
    assert G.nodes["000D3A0000C3"]["ip"] == "192.0.2.4,2001:db8::4"
    assert G.nodes["000D3A0000C3"]["subnet"] == "192.0.2.0/24"  # that of the smallest address
