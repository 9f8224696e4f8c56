"""Pinned behaviour of flowkit.scale.dask_read found by mutation testing (synchronous scheduler).

Tiny hand-written blobs in Azure's layout: the Dask read gives the pandas read's rows, the
window skips blobs by their path hour, unreadable input raises or warns as the pandas read
does, and no task key shows the source.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from flowkit.errors import FlowkitDataWarning, FormatError
from flowkit.read import read_flow_logs
from flowkit.scale.dask_read import (_meta, _ReadNothing, _Source, blob_batches, file_groups, read_flow_logs_dask,
                                     uniform_categories)
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.base import BlobRef
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.store.convert import convert
from tests.blobs import T0_MS, T0_S, blob, nsg_record, vnet_record

from scale_helpers import SecretSource, assert_same_frame, read_json

dask = pytest.importorskip("dask")
known = pytest.importorskip("dask.dataframe.utils").has_known_categories

SUB = "00000000-0000-0000-0000-000000000001"
NIC_A, NIC_B = "000D3A0000A1", "000D3A0000B2"
ERROR_PAGE = b"<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code></Error>"
SECRET = "sig=pinned-secret-value"


@pytest.fixture(autouse=True)
def synchronous():
    """Each task in this process, one after the other: no cluster needed for these small inputs."""
    with dask.config.set({"scheduler": "synchronous", "dataframe.shuffle.method": "tasks"}):
        yield


def _vnet_tuple(hour: int, minute: int, src: str, sport: int, enc: str = "NX") -> str:
    return f"{T0_MS + (hour - 10) * 3_600_000 + minute * 60_000},{src},198.51.100.9,{sport},443,6,O,E,{enc},1,100,1,200"


def _vnet_blob(root: Path, hour: int, mac: str, tuples: list[str] | None = None, raw: bytes | None = None) -> Path:
    path = root / VNET_CONTAINER / vnet_blob_name(SUB, "NWRG", "NW", "FL", f"2024-05-01T{hour:02d}:00Z", mac)
    path.parent.mkdir(parents=True, exist_ok=True)
    time = f"2024-05-01T{hour:02d}:30:00.1234567Z"
    path.write_bytes(raw if raw is not None else blob([vnet_record([("acl", "rule", tuples or [])], mac=mac,
                                                                    time=time)]))
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path)


def write_corpus(tmp_path: Path) -> Path:
    """VNet blobs of NIC A at 10, 11 and 12 h, of NIC B at 11 h, and an NSG blob of NIC A at 10 h."""
    for hour in (10, 11, 12):
        _vnet_blob(tmp_path, hour, NIC_A, [_vnet_tuple(hour, 5, "192.0.2.1", 50000 + hour),
                                           _vnet_tuple(hour, 50, "192.0.2.2", 51000 + hour, enc="X")])
    _vnet_blob(tmp_path, 11, NIC_B, [_vnet_tuple(11, 20, "192.0.2.3", 52000)])
    nsg = tmp_path / NSG_CONTAINER / nsg_blob_name(SUB, "RG", "NSG1", "2024-05-01T10:00Z", NIC_A)
    nsg.parent.mkdir(parents=True, exist_ok=True)
    nsg.write_bytes(blob([nsg_record({"DefaultRule_AllowInternetOutBound": [
        f"{T0_S + 60},192.0.2.1,198.51.100.9,50010,443,T,O,A,E,1,100,1,200"]}, mac=NIC_A)]))
    return tmp_path


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """assert_same_frame with unused categories dropped: a partition whose blob has no row in the
    window has no categories, where the pandas read keeps those of every blob it decoded."""
    def used(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.apply(lambda s: s.cat.remove_unused_categories() if isinstance(s.dtype, pd.CategoricalDtype)
                           else s)

    assert_same_frame(used(got), used(want))


def _flowkit_warnings(seen: list) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, FlowkitDataWarning)]


# --- partitioning ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, limit, groups", [
    pytest.param([100, 300, 50, 700, 10], 400, [[0, 1], [2], [3], [4]], id="docstring"),
    pytest.param([200, 200, 200], 400, [[0, 1], [2]], id="exactly-the-limit-fills-a-group"),
    pytest.param([500, 10, 10], 400, [[0], [1, 2]], id="a-large-first-file-alone"),
    pytest.param([10, 10, 10, 10], 25, [[0, 1], [2, 3]], id="sums-not-differences"),
    pytest.param([], 400, [], id="none"),
])
def test_file_groups(rows: list[int], limit: int, groups: list[list[int]]) -> None:
    assert file_groups(rows, limit) == groups


@pytest.mark.parametrize("sizes, limit, lengths", [
    pytest.param([40] * 5, 100, [3, 2], id="docstring"),
    pytest.param([50, 50, 50, 50], 100, [2, 2], id="exactly-the-limit-closes-a-batch"),
    pytest.param([100, 99, 1], 100, [1, 2], id="each-batch-counts-from-zero"),
    pytest.param([None, None, None], 2 << 20, [2, 1], id="unknown-size-counts-one-mib"),
    pytest.param([None, 3, None], (1 << 20) + 3, [2, 1], id="unknown-and-known-sizes"),
])
def test_blob_batches(sizes: list[int | None], limit: int, lengths: list[int]) -> None:
    refs = [BlobRef(str(i), size=s) for i, s in enumerate(sizes)]
    batches = blob_batches(refs, limit)
    assert [len(b) for b in batches] == lengths
    assert [r for b in batches for r in b] == refs  # consecutive, every blob once


# --- the rows of the pandas read --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, rows, blobs", [
    pytest.param({}, 8, 5, id="all"),
    # the hours next to the window are listed too: a record may be late or early by minutes
    pytest.param({"start": "2024-05-01T11:00Z", "end": "2024-05-01T12:00Z"}, 3, 5, id="one-hour"),
    pytest.param({"start": "2024-05-01T11:10Z", "end": "2024-05-01T12:20Z"}, 3, 3, id="window-inside-hours"),
    pytest.param({"log_type": "nsg"}, 1, 1, id="nsg"),
    pytest.param({"log_type": "vnet", "mac": NIC_B}, 1, 1, id="vnet-of-nic-b"),
    pytest.param({"columns": ["mac", "src_ip", "encryption"]}, 8, 5, id="columns"),
])
@pytest.mark.parametrize("partition_bytes", [1, 10**9])
def test_the_dask_read_gives_the_pandas_rows(corpus: Path, kwargs: dict, rows: int, blobs: int,
                                             partition_bytes: int) -> None:
    ddf = read_flow_logs_dask(corpus, partition_bytes=partition_bytes, **kwargs)
    want = read_json(corpus, **kwargs)
    assert len(want) == rows
    got = ddf.compute()
    assert_same_rows(got, want)
    assert list(ddf.columns) == list(want.columns) == kwargs.get("columns", list(COLUMNS))
    assert ddf.npartitions == (1 if partition_bytes > 1 else blobs)


def test_a_projection_reads_only_its_columns(corpus: Path) -> None:
    ddf = read_flow_logs_dask(corpus, columns=["mac", "src_ip", "dst_port"], partition_bytes=1)
    got = ddf[["src_ip", "dst_port"]].compute()
    assert_same_frame(got, read_json(corpus, columns=["src_ip", "dst_port"]))
    assert_same_frame(read_flow_logs_dask(corpus, partition_bytes=1)[["encryption"]].compute(),
                      read_json(corpus, columns=["encryption"]))


def test_the_window_skips_blobs_by_their_path_hour(corpus: Path) -> None:
    """An error page at 09 h is never read by a window from 11 h: no error, no warning."""
    _vnet_blob(corpus, 9, NIC_A, raw=ERROR_PAGE)
    window = {"start": "2024-05-01T11:00Z", "end": "2024-05-01T13:00Z"}
    ddf = read_flow_logs_dask(corpus, partition_bytes=1, **window)
    assert ddf.npartitions == 5  # 10 h (its records may reach 11 h), 11 h of A and B, 12 h of A
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ddf.compute()
    assert_same_rows(got, read_json(corpus, **window))
    assert len(got) == 5


def test_meta_is_the_canonical_schema_with_open_categories_unknown() -> None:
    meta = _meta(None)
    assert list(meta.columns) == list(COLUMNS) and [str(d) for d in meta.dtypes] == [
        str(d) for d in empty_frame().dtypes]
    assert not known(meta["mac"]) and not known(meta["src_ip"])
    assert known(meta["encryption"]) and list(meta["encryption"].cat.categories) == list(
        empty_frame()["encryption"].cat.categories)
    picked = _meta(["encryption", "mac"])
    assert list(picked.columns) == ["encryption", "mac"]
    assert known(picked["encryption"]) and not known(picked["mac"])
    closed = _meta(["encryption", "direction"])
    assert closed.dtypes.equals(empty_frame()[["encryption", "direction"]].dtypes)
    assert known(closed["direction"])


def test_unknown_columns_are_refused_with_the_canonical_list(corpus: Path) -> None:
    with pytest.raises(ValueError) as error:
        read_flow_logs_dask(corpus, columns=["mac", "nope"])
    assert str(error.value) == f"unknown column(s) ['nope']; the canonical columns are {list(COLUMNS)}"


@pytest.mark.parametrize("columns", [None, ["mac", "dst_port"]])
def test_nothing_matched_computes_to_the_empty_frame(corpus: Path, columns: list[str] | None) -> None:
    ddf = read_flow_logs_dask(corpus, start="2030-01-01", end="2030-01-02", columns=columns)
    assert ddf.npartitions == 1
    want = read_json(corpus, start="2030-01-01", end="2030-01-02", columns=columns)
    got = ddf.compute()
    assert_same_frame(got, want)
    assert len(got) == 0 and list(got.columns) == (columns or list(COLUMNS))
    assert [k[0] for k in dict(ddf.__dask_graph__()) if k[0].startswith("flowkit-read-")] == [
        "flowkit-read-nothing-" + ddf.expr.frame._name.rsplit("-", 1)[1]]
    assert _ReadNothing(None)(None, ["dst_port"]).dtypes.equals(empty_frame()[["dst_port"]].dtypes)


def test_uniform_categories_gives_empty_object_categories_text() -> None:
    frame = pd.DataFrame({"a": pd.Categorical([None, None], categories=pd.Index([], dtype=object)),
                          "b": pd.Categorical(["x", None]),
                          "c": pd.Series([1, 2])})
    assert frame["a"].cat.categories.dtype == object
    out = uniform_categories(frame)
    assert out["a"].cat.categories.dtype == "str" and out["a"].isna().all()
    assert list(out["b"].cat.categories) == ["x"] and out["c"].tolist() == [1, 2]
    ints = pd.DataFrame({"d": pd.Categorical([None], categories=pd.Index([], dtype="int64"))})
    assert uniform_categories(ints)["d"].cat.categories.dtype == "int64"  # only object categories change


# --- unreadable input and quarantine ----------------------------------------------------------------

def test_one_partition_with_an_error_page_raises_the_pandas_error(tmp_path: Path) -> None:
    _vnet_blob(tmp_path, 10, NIC_A, raw=ERROR_PAGE)
    _vnet_blob(tmp_path, 10, NIC_B, raw=ERROR_PAGE)
    with pytest.raises(FormatError) as pandas_error:
        read_flow_logs(tmp_path)
    ddf = read_flow_logs_dask(tmp_path)
    assert ddf.npartitions == 1
    with pytest.raises(FormatError) as dask_error:
        ddf.compute()
    assert str(dask_error.value) == str(pandas_error.value)


def test_an_error_page_in_one_partition_of_two_warns_with_the_error_text(tmp_path: Path) -> None:
    _vnet_blob(tmp_path, 10, NIC_A, [_vnet_tuple(10, 1, "192.0.2.1", 50000)])
    page = _vnet_blob(tmp_path, 10, NIC_B, raw=ERROR_PAGE)
    ddf = read_flow_logs_dask(tmp_path, partition_bytes=1)
    assert ddf.npartitions == 2
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = ddf.compute()
    assert len(got) == 1
    [message] = _flowkit_warnings(seen)
    assert message == (
        "flowkit: 1 file(s), 0 record(s), 0 tuple(s): 0 row(s), 0 quarantined (record:not-json: 1) "
        f"(no flow-log records found: {str(page)!r} is not JSON ({('byte 0: ' + ERROR_PAGE.decode())[:120]!r})"
        " in this partition)"
        " in a partition of a Dask read; flowkit.load_report_dask (or `flowkit inspect --dask`) gives the load "
        "report")


def test_a_clean_read_does_not_warn(corpus: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_flow_logs_dask(corpus, partition_bytes=1).compute()) == 8


def test_a_quarantined_tuple_warns_and_every_other_tuple_is_a_row(tmp_path: Path) -> None:
    _vnet_blob(tmp_path, 10, NIC_A, [_vnet_tuple(10, 1, "192.0.2.1", 50000),
                                     _vnet_tuple(10, 2, "not-an-address", 50001)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame, report = read_flow_logs(tmp_path, with_report=True)
        got = read_flow_logs_dask(tmp_path).compute()
    assert report.quarantined == 1 and len(got) == 1
    assert_same_frame(got, frame)
    assert _flowkit_warnings(seen)[-1] == (
        f"flowkit: {report.summary()} in a partition of a Dask read; flowkit.load_report_dask "
        "(or `flowkit inspect --dask`) gives the load report")


def test_a_parquet_dataset_warns_at_the_read_from_the_callers_line(tmp_path: Path) -> None:
    _vnet_blob(tmp_path / "json", 10, NIC_A, [_vnet_tuple(10, 1, "192.0.2.1", 50000)])
    _vnet_blob(tmp_path / "json", 10, NIC_B, [_vnet_tuple(10, 1, "192.0.2.3", 50000),
                                              _vnet_tuple(10, 2, "not-an-address", 50001)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        convert(tmp_path / "json", tmp_path / "ds")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ddf = read_flow_logs(tmp_path / "ds", engine="dask")
    [warning] = [w for w in seen if issubclass(w.category, FlowkitDataWarning)]
    assert str(warning.message) == (
        "flowkit: 1 tuple(s) quarantined, 0 damaged record(s) or file(s) in the blobs of the dataset files read "
        "(invalid-address: 1); read with the pandas engine for the load report")
    assert warning.filename == __file__  # the caller's line, as the pandas read's warning
    assert_same_frame(ddf.compute(), read_json(tmp_path / "ds"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlowkitDataWarning)  # NIC A's blob had nothing quarantined
        assert_same_frame(read_flow_logs_dask(tmp_path / "ds", mac=NIC_A).compute(),
                          read_json(tmp_path / "ds", mac=NIC_A))


@pytest.mark.parametrize("partition_rows, partitions", [(1, 2), (2, 1), (10**6, 1)])
def test_a_parquet_dataset_groups_files_by_rows(tmp_path: Path, partition_rows: int, partitions: int) -> None:
    _vnet_blob(tmp_path / "json", 10, NIC_A, [_vnet_tuple(10, 1, "192.0.2.1", 50000)])
    _vnet_blob(tmp_path / "json", 11, NIC_A, [_vnet_tuple(11, 1, "192.0.2.1", 50001)])
    convert(tmp_path / "json", tmp_path / "ds")
    ddf = read_flow_logs_dask(tmp_path / "ds", partition_rows=partition_rows)
    assert ddf.npartitions == partitions
    assert_same_frame(ddf.compute(), read_json(tmp_path / "ds"))
    cols = ["mac", "dst_port"]
    assert_same_frame(read_flow_logs_dask(tmp_path / "ds", columns=cols, start="2024-05-01T11:00Z").compute(),
                      read_json(tmp_path / "ds", columns=cols, start="2024-05-01T11:00Z"))
    nothing = read_flow_logs_dask(tmp_path / "ds", start="2030-01-01")
    assert nothing.npartitions == 1 and len(nothing.compute()) == 0


# --- no secret in task keys --------------------------------------------------------------------------

def test_task_keys_never_show_the_source(corpus: Path) -> None:
    source = SecretSource([str(corpus)], SECRET)
    ddf = read_flow_logs_dask(source, partition_bytes=1)
    graph = dict(ddf.__dask_graph__())
    assert len([k for k in graph if k[0].startswith("flowkit-read-")]) == 5
    assert all(SECRET not in repr(k) and SECRET not in str(v) for k, v in graph.items())
    assert_same_frame(ddf.compute(), read_json(corpus))
    wrapped = _Source(source, "0123456789abcdef" * 2)
    assert repr(wrapped) == "<flowkit source 0123456789ab>"


def test_task_keys_change_with_the_options_and_the_listing(corpus: Path) -> None:
    def name(**kwargs) -> str:
        return read_flow_logs_dask(corpus, **kwargs)._name

    assert name() == name()
    others = [name(columns=["mac"]), name(start="2024-05-01T11:00Z"), name(log_type="vnet"), name(mac=NIC_A),
              name(strict=True), name(partition_bytes=1)]
    assert len({name(), *others}) == len(others) + 1
    before = name()
    _vnet_blob(corpus, 12, NIC_B, [_vnet_tuple(12, 1, "192.0.2.4", 50000)])
    assert name() != before


def test_task_text_names_the_reader_never_the_source(corpus: Path) -> None:
    """The dashboard and the graph's text show a task as its function's repr: the reader's name."""
    convert(corpus, corpus / "ds")
    reads = {"flowkit-read-blobs": read_flow_logs_dask(SecretSource([str(corpus)], SECRET)),
             "flowkit-read-nothing": read_flow_logs_dask(corpus, start="2030-01-01"),
             "flowkit-read-parquet": read_flow_logs_dask(corpus / "ds")}
    for function, ddf in reads.items():
        [(key, task)] = [(k, v) for k, v in dict(ddf.__dask_graph__()).items() if k[0].startswith("flowkit-read")]
        prefix = "flowkit-read" if function == "flowkit-read-blobs" else function
        assert key[0].rsplit("-", 1) == [prefix, key[0][-32:]]
        assert str(task) == f"<Task {key!r} {function}(...)>"


# --- the public helpers, as documented -----------------------------------------------------------

def test_the_module_exports_what_it_documents() -> None:
    import flowkit.scale.dask_read as module

    assert module.__all__ == ["read_flow_logs_dask", "PARTITION_BYTES", "blob_batches", "uniform_categories",
                              "check_partition_report", "scanning_pays"]
    assert all(callable(getattr(module, name)) for name in module.__all__ if name != "PARTITION_BYTES")


def test_the_default_partition_is_64_mib_of_json() -> None:
    refs = [BlobRef(str(i), size=32 << 20) for i in range(3)] + [BlobRef("3", size=1)]
    assert [len(b) for b in blob_batches(refs)] == [2, 2]
    assert [len(b) for b in blob_batches([BlobRef(str(i)) for i in range(65)])] == [64, 1]  # 1 MiB each


def test_blob_batches_count_from_zero() -> None:
    refs = [BlobRef("a", size=50), BlobRef("b", size=50), BlobRef("c", size=1)]
    assert [len(b) for b in blob_batches(refs, 101)] == [3]


def test_check_partition_report_raises_by_default_and_warns_for_one_partition_of_several() -> None:
    from flowkit.load_report import LoadReport, Problem

    from flowkit.scale.dask_read import check_partition_report

    bad = LoadReport(files=1, problems=(Problem("PT1H.json", "not-json", "<Error>"),))
    with pytest.raises(FormatError, match=r"^no flow-log records found: 'PT1H.json' is not JSON \('<Error>'\)$"):
        check_partition_report(bad, 1)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        check_partition_report(bad, 1, alone=False)
        check_partition_report(LoadReport(files=1, records=3), 1, alone=False)
    assert _flowkit_warnings(seen) == [
        f"flowkit: {bad.summary()} (no flow-log records found: 'PT1H.json' is not JSON ('<Error>') in this "
        "partition) in a partition of a Dask read; flowkit.load_report_dask (or `flowkit inspect --dask`) gives "
        "the load report"]


def test_a_parquet_dataset_warning_lists_each_reason(tmp_path: Path) -> None:
    _vnet_blob(tmp_path / "json", 10, NIC_A, [_vnet_tuple(10, 1, "192.0.2.1", 50000),
                                              _vnet_tuple(10, 2, "not-an-address", 50001)])
    good = blob([vnet_record([("acl", "rule", [_vnet_tuple(10, 3, "192.0.2.3", 50000)])], mac=NIC_B)]).decode()
    _vnet_blob(tmp_path / "json", 10, NIC_B, raw=(good[:-2] + ',{"time":"2024-05-01T10:0').encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        convert(tmp_path / "json", tmp_path / "ds")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ddf = read_flow_logs_dask(tmp_path / "ds")
    assert _flowkit_warnings(seen) == [
        "flowkit: 1 tuple(s) quarantined, 1 damaged record(s) or file(s) in the blobs of the dataset files read "
        "(invalid-address: 1, record:truncated-record: 1); read with the pandas engine for the load report"]
    assert_same_frame(ddf.compute(), read_json(tmp_path / "ds"))


def test_a_blob_of_unknown_size_adds_nothing_to_what_decides_scanning():
    from flowkit.formats.native_read import NATIVE_MIN_BYTES
    from flowkit.scale.dask_read import scanning_pays

    short = BlobRef("a/PT1H.json", size=NATIVE_MIN_BYTES - 1)
    assert scanning_pays([short, BlobRef("b/PT1H.json")]) is None
    assert scanning_pays([short, BlobRef("b/PT1H.json", size=1)]) is True
