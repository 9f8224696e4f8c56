"""The parse benchmark's baseline readers return exactly flowkit's rows (correctness only, no timings).

Each reader in ``benchmarks/readers`` (naive, polars, DuckDB) must give the same
multiset of rows as :func:`flowkit.read_flow_logs`: every column, compared as
text after checking that the dtypes are the canonical ones, on small
``write_corpus`` corpora (VNet, NSG v2, NSG v1) and on the committed samples.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flowkit
from flowkit.synth import write_corpus

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from bench_parse import checksums, schema_problems  # noqa: E402
from readers import load_reader  # noqa: E402

pytest.importorskip("polars")
pytest.importorskip("duckdb")

PEERS = ("naive", "polars", "duckdb")
NAT = np.iinfo(np.int64).min


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small corpora of each format (a few MB in all), built once for the module."""
    root = tmp_path_factory.mktemp("reader-corpora")
    out = {}
    for name, log_type, version, size in (("vnet", "vnet", 2, 2_000_000), ("nsg2", "nsg", 2, 1_500_000),
                                          ("nsg1", "nsg", 1, 400_000)):
        write_corpus(root / name, log_type=log_type, target_bytes=size, seed=7, version=version)
        out[name] = root / name
    return out


def _values(col: pd.Series) -> list:
    """Plain Python values of a column, missing as None (times as integers in their unit)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return [None if v == NAT else v for v in col.array.asi8.tolist()]
    return [None if m else v for v, m in zip(col.astype(object).tolist(), col.isna().tolist())]


def _rows(frame: pd.DataFrame) -> Counter:
    """Multiset of rows, every column (dtypes are checked separately)."""
    return Counter(zip(*(_values(frame[c]) for c in frame.columns)))


def _check(source: Path | str) -> None:
    expected = flowkit.read_flow_logs(source)
    assert len(expected) > 0
    want = _rows(expected)
    for name in PEERS:
        got = load_reader(name)(source)
        assert len(got) == len(expected), f"{name}: {len(got)} rows, flowkit {len(expected)}"
        assert schema_problems(got) == [], f"{name}: {schema_problems(got)}"
        assert list(got.columns) == list(expected.columns)
        rows = _rows(got)
        if rows != want:
            missing, extra = want - rows, rows - want
            pytest.fail(f"{name}: {sum(missing.values())} of flowkit's rows missing, {sum(extra.values())} extra; "
                        f"e.g. missing {next(iter(missing), None)}, extra {next(iter(extra), None)}")
        assert checksums(got) == checksums(expected), name


@pytest.mark.parametrize("kind", ["vnet", "nsg2", "nsg1"])
def test_readers_match_flowkit_on_corpus(corpora: dict[str, Path], kind: str) -> None:
    _check(corpora[kind])


@pytest.mark.parametrize("scenario", ["connectivity", "nsg-vs-vnet"])
def test_readers_match_flowkit_on_samples(samples_dir: Path, scenario: str) -> None:
    _check(samples_dir / scenario)


def test_readers_match_flowkit_on_mixed_formats(corpora: dict[str, Path]) -> None:
    """VNet and NSG blobs in one read (a list of folders), as during a migration."""
    _check([str(corpora["vnet"]), str(corpora["nsg2"])])


def test_flowkit_schema_check_passes_on_flowkit() -> None:
    """The benchmark's dtype check accepts flowkit's own output (and so can judge the peers)."""
    assert schema_problems(flowkit.read_flow_logs(REPO / "data-samples" / "connectivity")) == []


def test_the_flowkit_reader_loads_the_scanner_first_and_reads_as_flowkit_does(corpora: dict[str, Path]) -> None:
    read = load_reader("flowkit")
    import readers.flowkit_reader as module

    assert module.SCANNER_LOAD["loaded"] is True and module.SCANNER_LOAD["seconds"] >= 0
    fresh = load_reader("flowkit-fresh")
    for name in ("vnet", "nsg2"):
        pd.testing.assert_frame_equal(read(corpora[name]), fresh(corpora[name]))
        pd.testing.assert_frame_equal(read(corpora[name]), flowkit.read_flow_logs(corpora[name]))
