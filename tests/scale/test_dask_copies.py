"""A copy of a tuple on Dask: counted once within a partition, as pandas does; again in another.
The files of one hour folder of the layout (PT1H.json and its copies) always share a partition."""

from __future__ import annotations

import warnings
from pathlib import Path

from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.scale.aggregations import encryption_counts_dask, talker_graph_dask
from flowkit.scale.dask_read import read_flow_logs_dask
from tests.blobs import T0_MS, blob, vnet_record

from scale_helpers import graph_dict, read_json


def _tuple(minute: int, sport: int, encryption: str = "NX") -> str:
    return f"{T0_MS + minute * 60_000},10.0.0.4,192.0.2.9,{sport},443,6,O,E,{encryption},1,100,1,100"


def test_a_copied_tuple_counts_once_within_a_partition_and_again_in_another(dask_client, tmp_path: Path) -> None:
    record = vnet_record([("acl", "r", [_tuple(0, 1), _tuple(1, 1)])], mac="000D3A0000A1")
    (tmp_path / "a.json").write_bytes(blob([record]))
    (tmp_path / "b.json").write_bytes(blob([record]))  # the same blob saved again
    frame = read_json(tmp_path)
    assert len(frame) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = talker_graph(frame)
        together = talker_graph_dask(read_flow_logs_dask(tmp_path))
        apart_ddf = read_flow_logs_dask(tmp_path, partition_bytes=300)
        apart = talker_graph_dask(apart_ddf)
    assert apart_ddf.npartitions == 2
    edge = ("10.0.0.4", "192.0.2.9")
    assert theirs.edges[edge]["bytes_sent"] == together.edges[edge]["bytes_sent"] == 200
    assert graph_dict(together) == graph_dict(theirs)
    assert apart.edges[edge]["bytes_sent"] == 400  # README: a copy in another partition counts again
    assert apart.edges[edge]["tuples"] == theirs.edges[edge]["tuples"] == 4


def test_a_copied_encrypted_tuple_counts_once_in_the_bytes_share_within_a_partition(dask_client,
                                                                                   tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(blob([vnet_record([("acl", "r", [_tuple(0, 1, "X"), _tuple(0, 2)])])]))
    (tmp_path / "b.json").write_bytes(blob([vnet_record([("acl", "r", [_tuple(0, 1, "X")])])]))
    frame = read_json(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = encryption_audit(frame, figures=False).facts
        together = encryption_counts_dask(read_flow_logs_dask(tmp_path))
        apart_ddf = read_flow_logs_dask(tmp_path, partition_bytes=300)
        apart = encryption_counts_dask(apart_ddf)
    assert apart_ddf.npartitions == 2
    assert theirs["bytes_encrypted_share"] == together["bytes_encrypted_share"] == 0.5
    assert together == theirs
    assert apart["bytes_encrypted_share"] == 400 / 600


def test_a_flow_seen_unencrypted_in_any_tuple_is_not_encrypted_on_dask_as_in_pandas(dask_client, tmp_path: Path) -> None:
    record = vnet_record([("acl", "r", [_tuple(0, 1, "X"), _tuple(1, 1, "NX_FALLBACK"), _tuple(0, 2, "X")])],
                         mac="000D3A0000A1")
    (tmp_path / "a.json").write_bytes(blob([record]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = talker_graph(read_json(tmp_path))
        mine = talker_graph_dask(read_flow_logs_dask(tmp_path))
    edge = ("10.0.0.4", "192.0.2.9")
    assert (mine.edges[edge]["encrypted_share"], mine.edges[edge]["unencrypted"]) == (0.5, True)
    assert graph_dict(mine) == graph_dict(theirs)


_HOUR = ("insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001"
         "/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS"
         "/FLOWLOGS/FL-TEST/y=2024/m=05/d=01/h={hour:02d}/m=00/macAddress=000D3A0000A1")


def test_a_copy_saved_in_its_blobs_hour_folder_shares_its_partition_and_counts_once(dask_client,
                                                                                    tmp_path: Path) -> None:
    """``PT1H (1).json`` beside ``PT1H.json`` (a second download) holds copies of its tuples: the
    partitions never cut an hour folder of the layout, so the Dask graph and encryption counts
    equal pandas' even with partitions smaller than one blob; other hours still get their own."""
    for hour, names in ((10, ("PT1H.json", "PT1H (1).json")), (11, ("PT1H.json",))):
        folder = tmp_path / _HOUR.format(hour=hour)
        folder.mkdir(parents=True)
        record = vnet_record([("acl", "r", [_tuple(60 * (hour - 10), 1), _tuple(60 * (hour - 10) + 1, 2, "X")])],
                             mac="000D3A0000A1")
        for name in names:
            (folder / name).write_bytes(blob([record]))
    frame = read_json(tmp_path)
    assert len(frame) == 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ddf = read_flow_logs_dask(tmp_path, partition_bytes=300)
        theirs, mine = talker_graph(frame), talker_graph_dask(ddf)
        audit, counts = encryption_audit(frame, figures=False).facts, encryption_counts_dask(ddf)
    assert ddf.npartitions == 2  # the hour-10 folder (two files) and the hour-11 folder
    edge = ("10.0.0.4", "192.0.2.9")
    assert mine.edges[edge]["bytes_sent"] == theirs.edges[edge]["bytes_sent"] == 400
    assert graph_dict(mine) == graph_dict(theirs)
    assert counts["bytes_encrypted_share"] == audit["bytes_encrypted_share"] == 0.5
    assert counts == audit
