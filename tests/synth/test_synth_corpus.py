"""Benchmark corpora: shape, determinism and the formats of every tuple."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from flowkit.schema import ENCRYPTION_STATES
from flowkit.sources.layout import parse_blob_path
from flowkit.synth import CorpusInfo, write_corpus


def _scan(root: Path) -> tuple[Counter, list[int], int]:
    c: Counter = Counter()
    groups: list[int] = []
    size = 0
    for path in root.rglob("PT1H.json"):
        data = path.read_bytes()
        size += len(data)
        meta = parse_blob_path(path.as_posix())
        c["files"] += 1
        c["hours", meta.hour] += 1
        c["macs", meta.mac] += 1
        for record in json.loads(data)["records"]:
            c["records"] += 1
            if "flowRecords" in record:
                tuple_groups = [g["flowTuples"] for f in record["flowRecords"]["flows"] for g in f["flowGroups"]]
            else:
                tuple_groups = [m["flowTuples"] for f in record["properties"]["flows"] for m in f["flows"]]
            for tuples in tuple_groups:
                groups.append(len(tuples))
                for text in tuples:
                    fields = text.split(",")
                    c["tuples"] += 1
                    c["fields", len(fields)] += 1
                    c["v6"] += ":" in fields[1]
                    if len(fields) == 13 and "flowRecords" in record:
                        c["state", fields[7]] += 1
                        c["enc", fields[8]] += 1
                    elif len(fields) == 13:
                        c["state", fields[8]] += 1
    return c, groups, size


@pytest.fixture(scope="module")
def vnet_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CorpusInfo]:
    root = tmp_path_factory.mktemp("corpus")
    return root, write_corpus(root, log_type="vnet", target_bytes=5_000_000, seed=3)


def test_vnet_corpus_shape(vnet_corpus: tuple[Path, CorpusInfo]) -> None:
    root, info = vnet_corpus
    c, groups, size = _scan(root)
    assert (info.files, info.records, info.tuples, info.bytes) == (c["files"], c["records"], c["tuples"], size)
    assert 5_000_000 <= info.bytes < 6_500_000
    assert info.records == 60 * info.files
    assert len([k for k in c if k[0] == "macs"]) >= 8 and len([k for k in c if k[0] == "hours"]) >= 2
    assert c["fields", 13] == info.tuples
    assert 1 <= min(groups) and max(groups) <= 5000 and max(groups) >= 50  # heavy-tailed
    assert {k[1] for k in c if k[0] == "state"} == {"B", "C", "E", "D"}
    assert {k[1] for k in c if k[0] == "enc"} == set(ENCRYPTION_STATES)
    assert 0.02 < c["v6"] / info.tuples < 0.3


def test_corpus_is_deterministic(tmp_path: Path) -> None:
    a = write_corpus(tmp_path / "a", log_type="nsg", target_bytes=400_000, seed=9)
    b = write_corpus(tmp_path / "b", log_type="nsg", target_bytes=400_000, seed=9)
    assert a == b
    files_a = sorted((tmp_path / "a").rglob("PT1H.json"))
    files_b = sorted((tmp_path / "b").rglob("PT1H.json"))
    assert [p.read_bytes() for p in files_a] == [p.read_bytes() for p in files_b]


@pytest.mark.parametrize("version, fields", [pytest.param(1, 8, id="v1"), pytest.param(2, 13, id="v2")])
def test_nsg_corpus_versions(tmp_path: Path, version: int, fields: int) -> None:
    info = write_corpus(tmp_path, log_type="nsg", target_bytes=300_000, seed=1, version=version)
    c, _, _ = _scan(tmp_path)
    assert c["fields", fields] == c["tuples"] == info.tuples
    if version == 2:
        assert {k[1] for k in c if k[0] == "state"} == {"B", "C", "E"}
    assert all("NETWORKSECURITYGROUPS" in p.as_posix() and "/resourceId=/" in p.as_posix()
               for p in tmp_path.rglob("PT1H.json"))


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_corpus(tmp_path, log_type="flow")
    with pytest.raises(ValueError):
        write_corpus(tmp_path, log_type="nsg", version=4)
