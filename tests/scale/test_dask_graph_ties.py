"""talker_graph_dask(by="mac") equals talker_graph where the rows alone leave a choice open."""

from __future__ import annotations

import warnings
from pathlib import Path

from flowkit.analysis.graph import talker_graph
from flowkit.scale.aggregations import talker_graph_dask
from flowkit.scale.dask_read import read_flow_logs_dask
from tests.blobs import T0_MS, blob, vnet_record

from scale_helpers import graph_dict, read_json


def _tuple(minute: int, src: str, sport: int) -> str:
    return f"{T0_MS + minute * 60_000},{src},192.0.2.9,{sport},443,6,O,E,NX,1,100,1,100"


def test_an_address_held_by_two_nics_equally_often_and_a_nic_with_two_addresses(dask_client, tmp_path: Path) -> None:
    records = {"b2.json": vnet_record([("acl", "r", [_tuple(0, "10.0.0.4", 1)])], mac="000D3A0000B2"),
               "a1.json": vnet_record([("acl", "r", [_tuple(30, "10.0.0.4", 2)])], mac="000D3A0000A1"),
               "c3.json": vnet_record([("acl", "r", [_tuple(0, "2001:db8::4", 3), _tuple(1, "198.51.100.4", 4)])],
                                      mac="000D3A0000C3")}
    for name, record in records.items():
        (tmp_path / name).write_bytes(blob([record]))
    frame = read_json(tmp_path)
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=300)
    assert ddf.npartitions == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = talker_graph_dask(ddf, "mac"), talker_graph(frame, "mac")
    assert graph_dict(mine) == graph_dict(theirs)
    assert "000D3A0000A1" in mine and "000D3A0000B2" not in mine
    assert mine.nodes["000D3A0000C3"]["subnet"] == "198.51.100.0/24"
