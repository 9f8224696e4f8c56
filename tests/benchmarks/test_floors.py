"""The parse benchmark's floors (``benchmarks/floors.py``): what they count, exactly (no timings judged)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import flowkit
from flowkit.synth import write_corpus

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from floors import contract_bytes_per_row, recipe_floor, scanner_floor  # noqa: E402


def test_contract_bytes_per_row_counts_values_codes_and_categories_not_masks() -> None:
    n = 4
    frame = pd.DataFrame({
        "dst_port": pd.array([443, 53, 22, 80], dtype="uint16"),
        "bytes_sent": pd.array([1, None, 3, 4], dtype="UInt64"),
        "flow_time": pd.to_datetime([0, 1, 2, 3], unit="ms", utc=True).as_unit("ms"),
        "mac": pd.Categorical(["000D3A000001", "000D3A000002"] * 2),
    })
    categories = frame["mac"].cat.categories.memory_usage(deep=True)
    assert contract_bytes_per_row(frame) == (2 + 8 + 8 + 1) + categories / n
    # the frame itself carries the UInt64 mask: one byte per row more
    assert frame.memory_usage(deep=True, index=False).sum() / n == contract_bytes_per_row(frame) + 1


def test_contract_floor_of_a_flowkit_frame_is_its_size_less_the_four_counter_masks(tmp_path: Path) -> None:
    write_corpus(tmp_path / "vnet", log_type="vnet", target_bytes=400_000, seed=7)
    frame = flowkit.read_flow_logs(tmp_path / "vnet")
    actual = frame.memory_usage(deep=True, index=False).sum() / len(frame)
    assert contract_bytes_per_row(frame) == pytest.approx(actual - 4)
    assert contract_bytes_per_row(frame.iloc[:0]) != contract_bytes_per_row(frame.iloc[:0])  # NaN when empty


@pytest.mark.parametrize("log_type", ["vnet", "nsg"])
def test_recipe_floor_parses_every_tuple_of_the_corpus(tmp_path: Path, log_type: str) -> None:
    info = write_corpus(tmp_path / log_type, log_type=log_type, target_bytes=600_000, seed=3)
    floor = recipe_floor(tmp_path / log_type, repeat=2)
    assert floor["tuples"] == info.tuples == len(flowkit.read_flow_logs(tmp_path / log_type))
    assert list(floor["steps"]) == ["read the files", "msgspec skeleton", "collect the tuple arrays",
                                    "join them into CSV lines", "pyarrow.csv typed parse"]
    assert floor["total"] == pytest.approx(sum(floor["steps"].values()))
    assert all(cpu >= 0 for cpu in floor["steps"].values())


def test_scanner_floor_scans_every_tuple_of_a_vnet_corpus_in_batches(tmp_path: Path) -> None:
    info = write_corpus(tmp_path / "vnet", log_type="vnet", target_bytes=600_000, seed=3)
    floor = scanner_floor(tmp_path / "vnet", repeat=2, batch_bytes=100_000)
    assert floor["tuples"] == info.tuples and floor["scanned"] is True
    assert list(floor["steps"]) == ["join each batch", "compiled scan"]
    assert floor["total"] == pytest.approx(sum(floor["steps"].values()))


def test_scanner_floor_says_when_a_corpus_is_not_in_its_form(tmp_path: Path) -> None:
    write_corpus(tmp_path / "nsg", log_type="nsg", target_bytes=300_000, seed=3)
    for path in (tmp_path / "nsg").rglob("PT1H.json"):  # a byte-order mark: not the form Azure writes
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    floor = scanner_floor(tmp_path / "nsg", repeat=1)
    assert floor["scanned"] is False and floor["tuples"] == 0


def test_scanner_floor_scans_an_nsg_corpus_too(tmp_path: Path) -> None:
    info = write_corpus(tmp_path / "nsg", log_type="nsg", target_bytes=300_000, seed=3)
    floor = scanner_floor(tmp_path / "nsg", repeat=1)
    assert floor["scanned"] is True and floor["tuples"] == info.tuples
