"""The canonical table: one module owns names, dtypes and meanings."""

from __future__ import annotations

import pandas as pd

from flowkit.schema import COLUMNS, coerce, describe, dtypes, empty_frame

CONTRACT = ["flow_time", "record_time", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "direction",
            "decision", "state", "encryption", "packets_sent", "bytes_sent", "packets_received",
            "bytes_received", "rule", "acl_id", "mac", "log_type", "version", "resource_id",
            "target_resource_id", "blob"]


def test_column_names_are_the_contract():
    assert list(COLUMNS) == CONTRACT
    assert list(describe()["column"]) == CONTRACT and describe()["meaning"].str.len().min() > 10


def test_empty_frame_dtypes():
    frame = empty_frame()
    assert frame.shape == (0, 23)
    got = frame.dtypes.astype(str).to_dict()
    assert got["flow_time"] == "datetime64[ms, UTC]" and got["record_time"] == "datetime64[ns, UTC]"
    assert got["src_port"] == "uint16" and got["protocol"] == "uint8" and got["version"] == "uint8"
    assert got["packets_sent"] == "UInt32" and got["bytes_sent"] == "UInt64"
    assert list(frame["direction"].cat.categories) == ["inbound", "outbound"]
    assert list(frame["state"].cat.categories) == ["B", "C", "E", "D"]


def test_coerce_builds_canonical_frames_with_shared_ip_categories():
    frame = coerce(pd.DataFrame({"src_ip": ["192.0.2.1", "10.0.0.4"], "dst_ip": ["10.0.0.4", "198.51.100.2"],
                                 "dst_port": [443, 80], "flow_time": ["2024-05-01T10:00Z"] * 2,
                                 "encryption": ["X", "NX_NEW"], "note": ["a", "b"]}))
    assert list(frame.columns) == CONTRACT + ["note"]
    assert list(frame["src_ip"].cat.categories) == list(frame["dst_ip"].cat.categories)
    assert frame["dst_port"].tolist() == [443, 80] and frame["src_port"].tolist() == [0, 0]
    assert frame["encryption"].tolist() == ["X", "NX_NEW"] and frame["packets_sent"].isna().all()
    assert str(frame["flow_time"].dtype) == str(dtypes()["flow_time"])


def test_categorical_turns_text_columns_back_into_categories_and_leaves_a_read_frame_alone():
    from flowkit.schema import categorical

    joined = pd.concat([coerce(pd.DataFrame({"mac": ["000D3A000101"], "rule": ["A"], "dst_port": [22]})),
                        coerce(pd.DataFrame({"mac": ["000D3A000102"], "rule": ["B"], "dst_port": [443]}))],
                       ignore_index=True)
    assert not isinstance(joined["mac"].dtype, pd.CategoricalDtype)
    out = categorical(joined)
    assert out["mac"].tolist() == ["000D3A000101", "000D3A000102"] and out["rule"].tolist() == ["A", "B"]
    assert all(isinstance(out[c].dtype, pd.CategoricalDtype) for c in ("mac", "rule", "src_ip", "log_type"))
    assert out["dst_port"].dtype == joined["dst_port"].dtype
    assert not isinstance(joined["mac"].dtype, pd.CategoricalDtype)  # the input is not changed
    read = coerce(pd.DataFrame({"mac": ["000D3A000101"]}))
    assert categorical(read) is read
