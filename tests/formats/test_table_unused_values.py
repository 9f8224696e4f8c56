"""A quarantined tuple leaves no rule, aclID or address behind as a category without rows."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa

import flowkit
from flowkit.formats.table import closed_column, dictionary_column, without_unused_values
from tests.blobs import T0_MS, blob, vnet_record

GOOD = f"{T0_MS + 1000},192.0.2.1,198.51.100.1,50000,443,6,O,B,X,0,0,0,0"
SHORT = f"{T0_MS + 2000},192.0.2.9,198.51.100.9,50001,443,6,O,B,X,0,0"  # 11 fields
BAD_PROTOCOL = f"{T0_MS + 3000},192.0.2.7,198.51.100.7,50002,443,Z,O,B,X,0,0,0,0"


def read(tmp_path: Path, records: list[dict]) -> tuple:
    path = tmp_path / "PT1H.json"
    path.write_bytes(blob(records))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", flowkit.FlowkitDataWarning)
        flows = flowkit.read_flow_logs(path)
    return flows, flowkit.load_report(flows)


def categories(flows, column: str) -> list[str]:
    return [str(c) for c in flows[column].cat.categories]


def test_a_group_whose_only_tuples_are_quarantined_leaves_no_rule_acl_or_address(tmp_path):
    flows, report = read(tmp_path, [
        vnet_record([("acl-good", "GoodRule", [GOOD]), ("acl-bad", "BadRule", [SHORT, BAD_PROTOCOL])],
                    mac="000D3A000001"),
        vnet_record([], mac="000D3A000002"),  # a NIC that logged no flows: its MAC stays a category
    ])
    assert (report.tuples, len(flows), report.quarantined) == (3, 1, 2)
    assert categories(flows, "rule") == ["GoodRule"]
    assert categories(flows, "acl_id") == ["acl-good"]
    assert categories(flows, "src_ip") == categories(flows, "dst_ip") == ["192.0.2.1", "198.51.100.1"]
    assert categories(flows, "mac") == ["000D3A000001", "000D3A000002"]
    assert flows["rule"].value_counts().to_dict() == {"GoodRule": 1}


def test_a_batch_without_quarantine_keeps_its_categories_in_order(tmp_path):
    second = GOOD.replace("192.0.2.1", "192.0.2.2")
    flows, report = read(tmp_path, [vnet_record([("acl-b", "RuleB", [second]), ("acl-a", "RuleA", [GOOD])])])
    assert (report.quarantined, len(flows)) == (0, 2)
    assert categories(flows, "rule") == ["RuleB", "RuleA"]
    assert categories(flows, "acl_id") == ["acl-b", "acl-a"]


def test_without_unused_values_keeps_order_missing_values_and_the_other_columns():
    rule = pa.chunked_array([dictionary_column(np.array([2, -1, 2, 0]), ["a", "b", "c", "d"]),
                             dictionary_column(np.array([1]), ["x", "y"])])
    direction = pa.chunked_array([closed_column(np.array([0, 0, 0, 0]), ["inbound", "outbound"]),
                                  closed_column(np.array([0]), ["inbound", "outbound"])])
    mac = pa.chunked_array([dictionary_column(np.array([0, 0, 0, 0]), ["M1", "M2"]),
                            dictionary_column(np.array([0]), ["M1", "M2"])])
    out = without_unused_values(pa.table({"rule": rule, "direction": direction, "mac": mac}))
    assert [c.dictionary.to_pylist() for c in out["rule"].chunks] == [["a", "c"], ["y"]]
    assert out["rule"].to_pylist() == ["c", None, "c", "a", "y"]
    assert [c.dictionary.to_pylist() for c in out["direction"].chunks] == [["inbound", "outbound"]] * 2
    assert [c.dictionary.to_pylist() for c in out["mac"].chunks] == [["M1", "M2"]] * 2
    assert out.schema == pa.schema([("rule", pa.dictionary(pa.int32(), pa.string())),
                                    ("direction", pa.dictionary(pa.int8(), pa.string())),
                                    ("mac", pa.dictionary(pa.int32(), pa.string()))])


def test_a_column_that_uses_every_value_is_the_same_array():
    rule = dictionary_column(np.array([1, 0]), ["a", "b"])
    out = without_unused_values(pa.table({"rule": rule}))
    assert out["rule"].chunk(0).equals(rule)
    assert out["rule"].chunk(0).dictionary.to_pylist() == ["a", "b"]


def test_a_converted_dataset_keeps_no_category_of_a_quarantined_tuple(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "PT1H.json").write_bytes(blob([vnet_record([("acl-good", "GoodRule", [GOOD]),
                                                         ("acl-bad", "BadRule", [SHORT])])]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", flowkit.FlowkitDataWarning)
        flowkit.convert(logs, tmp_path / "dataset")
        flows = flowkit.read_flow_logs(tmp_path / "dataset")
    assert len(flows) == 1
    assert (categories(flows, "rule"), categories(flows, "acl_id")) == (["GoodRule"], ["acl-good"])
    assert categories(flows, "src_ip") == ["192.0.2.1", "198.51.100.1"]
