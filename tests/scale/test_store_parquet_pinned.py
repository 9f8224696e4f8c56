"""The Parquet read's time window at its exact edges: ``start`` is kept, ``end`` is not.

A file is skipped unopened only when all its rows are outside the window; a row at
exactly ``start`` is read and a row at exactly ``end`` is not, as in the JSON read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from flowkit.errors import FlowkitDataWarning
from flowkit.store.convert import convert
from flowkit.store.parquet import read_parquet_dataset

from scale_helpers import read_json
from test_dask_review import NIC_A, vnet_record, vnet_tuple, write_blob

AT_1005, AT_1020 = "2024-05-01T10:05:00Z", "2024-05-01T10:20:00Z"


@pytest.fixture(scope="module")
def two_tuples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One VNet blob with two tuples, at 10:05:00.000 and 10:20:00.000, and its dataset."""
    root = tmp_path_factory.mktemp("edges")
    write_blob(root / "json", "vnet", NIC_A, [
        vnet_record(5, NIC_A, [vnet_tuple(300, "192.0.2.10", "198.51.100.20", 50000, 443)]),
        vnet_record(20, NIC_A, [vnet_tuple(1200, "192.0.2.10", "198.51.100.20", 50001, 443)])])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlowkitDataWarning)
        convert(root / "json", root / "ds")
    return root / "json", root / "ds"


@pytest.mark.parametrize("window, ports, files", [
    pytest.param({"start": AT_1020}, [50001], 1, id="a-file-whose-last-row-is-at-start-is-read"),
    pytest.param({"end": AT_1020}, [50000], 1, id="a-row-at-end-is-left-out"),
    pytest.param({"end": AT_1005}, [], 0, id="a-file-whose-first-row-is-at-end-is-skipped-unopened"),
    pytest.param({"start": AT_1005, "end": "2024-05-01T10:20:00.001Z"}, [50000, 50001], 1, id="both-edges-inside"),
    pytest.param({"start": "2024-05-01T10:19:59.9995Z"}, [50001], 1, id="a-start-between-milliseconds-rounds-up"),
    pytest.param({"start": "2024-05-01T10:20:00.0005Z"}, [], 0, id="a-start-just-after-the-last-row-skips-the-file"),
    pytest.param({"end": "2024-05-01T10:20:00.0005Z"}, [50000, 50001], 1, id="an-end-just-after-a-row-keeps-it"),
    pytest.param({"end": "2024-05-01T10:05:00.0005Z"}, [50000], 1, id="an-end-just-after-the-first-row-keeps-it"),
    # Bounds pandas keeps in microseconds (no nanosecond value): both reads raised OverflowError.
    pytest.param({"start": "0001-01-01"}, [50000, 50001], 1, id="a-start-in-year-1"),
    pytest.param({"end": "9999-12-31T23:59:59.9999Z"}, [50000, 50001], 1, id="an-end-in-year-9999"),
    pytest.param({"start": "1000-01-01", "end": "2024-05-01T10:20Z"}, [50000], 1, id="a-start-before-1677"),
])
def test_window_edges(two_tuples: tuple[Path, Path], window: dict, ports: list[int], files: int) -> None:
    source, dataset = two_tuples
    frame, report = read_parquet_dataset(dataset, with_report=True, **window)
    assert frame["src_port"].tolist() == ports
    assert (report.files, report.files_skipped, report.rows) == (files, 1 - files, len(ports))
    assert read_json(source, **window)["src_port"].tolist() == ports  # the JSON read agrees


def test_the_dask_read_takes_bounds_in_year_1_and_9999(two_tuples: tuple[Path, Path]) -> None:
    source, _ = two_tuples
    frame = read_json(source, start="0001-01-01", end="9999-12-31", engine="dask").compute()
    assert frame["src_port"].tolist() == [50000, 50001]


def test_a_window_or_selection_that_misses_every_row_of_a_dataset_warns_as_a_json_read_does(tmp_path):
    # `start="yesterday"` on a dataset of last year's logs returned an empty frame in silence, where
    # the JSON read of the blobs it was converted from says what was left out and where the logs are
    samples = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"
    convert(samples, tmp_path / "ds")
    cover = "the files found cover 2024-05-01 10:00 to 2024-05-01 12:00 UTC (by the hour in their path)"
    cases = [
        (dict(start="2030-01-01"), f"no rows from 2030-01-01 00:00:00Z: 2 file(s) were left out by their path "
                                   f"(hour, MAC, log type); {cover}"),
        (dict(mac="00-0d-3a-00-99-99"), f"no rows of MAC 000D3A009999: 900 tuple(s) by their time, log type or "
                                        f"MAC; {cover}"),
    ]
    for kwargs, message in cases:
        with pytest.warns(FlowkitDataWarning) as caught:
            assert len(read_parquet_dataset(tmp_path / "ds", **kwargs)) == 0
        assert [str(w.message) for w in caught] == [f"flowkit: {message}"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a window that keeps rows warns of nothing
        assert len(read_parquet_dataset(tmp_path / "ds", start="2024-05-01T11:00Z")) == 396


def test_a_dataset_converted_before_host_encryption_drops_were_denies_reads_them_as_denies(tmp_path):
    # Datasets written before flowkit made NX_SW_NOT_READY and NX_NOT_SUPPORTED deny store
    # "allow" for them, and convert never rewrites a sealed hour: read, they must say what a
    # JSON read of the same logs says, whatever columns are asked for.
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_blob(tmp_path / "json", "vnet", NIC_A, [vnet_record(5, NIC_A, [
        vnet_tuple(300, "192.0.2.10", "198.51.100.20", 50000, 443, enc="NX_SW_NOT_READY"),
        vnet_tuple(301, "192.0.2.10", "198.51.100.20", 50001, 443, enc="NX_NOT_SUPPORTED"),
        vnet_tuple(302, "192.0.2.10", "198.51.100.20", 50002, 443, enc="X")])])
    convert(tmp_path / "json", tmp_path / "ds")
    parts = sorted((tmp_path / "ds").rglob("*.parquet"))
    assert len(parts) == 1
    table = pq.read_table(parts[0])  # as an older flowkit wrote it: every decision allow
    allow = pa.array(["allow"] * table.num_rows).dictionary_encode().cast(table.schema.field("decision").type)
    pq.write_table(table.set_column(table.schema.get_field_index("decision"), "decision", allow), parts[0])
    assert pq.read_table(parts[0]).column("decision").to_pylist() == ["allow"] * 3
    expected = ["deny", "deny", "allow"]
    assert read_json(tmp_path / "json")["decision"].tolist() == expected
    for kwargs in ({}, {"columns": ["src_port", "decision"]}, {"start": "2024-05-01T10:00Z"},
                   {"columns": ["decision"], "mac": NIC_A}):
        frame = read_parquet_dataset(tmp_path / "ds", **kwargs)
        assert frame["decision"].tolist() == expected, kwargs
        assert list(frame.columns) == (kwargs.get("columns") or list(frame.columns)), kwargs
