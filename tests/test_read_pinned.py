"""A reader refuses a ``log_type`` or ``mac`` no flow log can hold instead of returning an empty
frame that looks like no traffic, as ``filter_flows`` and the command line already did (and as an
Azure read did for ``log_type``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowkit.errors import ArgumentError, FlowkitDataWarning
from flowkit.read import read_flow_logs
from flowkit.scale.dask_report import load_report_dask
from flowkit.store.convert import convert
from tests.blobs import VNET_TUPLES, blob, vnet_record

LOG_TYPE = "log_type: 'VNet' is not one of nsg, vnet"
MAC = "mac: '00-0D-3A-00-01' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)"


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)], mac="000D3A000002")]))
    return path


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"log_type": "VNet"}, LOG_TYPE, id="log-type-spelt-otherwise"),
    pytest.param({"log_type": "nsg2"}, "log_type: 'nsg2' is not one of nsg, vnet", id="log-type-with-version"),
    pytest.param({"mac": "00-0D-3A-00-01"}, MAC, id="mac-too-short"),
    pytest.param({"mac": "zz"}, "mac: 'zz' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="mac-not-hex"),
    pytest.param({"mac": ""}, "mac: '' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="mac-empty"),
])
@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_a_selection_no_log_can_hold_is_refused_by_every_engine(log, kwargs, message, engine):
    with pytest.raises(ArgumentError) as info:
        read_flow_logs(log, engine=engine, **kwargs)
    assert str(info.value) == message


def test_the_dask_load_report_and_convert_refuse_it_too(log, tmp_path):
    with pytest.raises(ArgumentError) as info:
        load_report_dask(log, mac="00-0D-3A-00-01")
    assert str(info.value) == MAC
    with pytest.raises(ArgumentError) as info:
        convert(log, tmp_path / "ds", log_type="VNet")
    assert str(info.value) == LOG_TYPE
    assert not (tmp_path / "ds").exists()  # refused before anything is created


@pytest.mark.parametrize("kwargs, rows", [
    pytest.param({"log_type": "vnet", "mac": "00-0d-3a-00-00-02"}, len(VNET_TUPLES), id="any-mac-spelling"),
    pytest.param({"mac": "000D3A.000003"}, 0, id="another-nic"),
    pytest.param({"log_type": "nsg"}, 0, id="another-log-type"),
])
def test_a_selection_a_log_can_hold_reads(log, kwargs, rows):
    assert len(read_flow_logs(log, progress=False, **kwargs)) == rows


def test_a_windowed_read_keeps_no_category_of_the_rows_it_left_out():
    # The blobs of 10:00 and 11:00 are decoded whole; only the rows of 10:30-10:40 are kept.
    # Before, the rules, MACs, blobs and addresses of the other rows stayed as categories and
    # value_counts() listed them with 0.
    import warnings

    import pandas as pd

    from flowkit.read import read_flow_logs

    sample = Path(__file__).resolve().parents[1] / "data-samples" / "connectivity"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flows = read_flow_logs(sample, start="2024-05-01T10:30Z", end="2024-05-01T10:40Z")
    assert len(flows) == 113
    for name in ("rule", "acl_id", "mac", "resource_id", "target_resource_id", "blob"):
        assert (flows[name].value_counts() > 0).all(), name
    addresses = set(flows["src_ip"].astype(str)) | set(flows["dst_ip"].astype(str))
    assert set(flows["src_ip"].cat.categories) == addresses  # shared by both columns, none unused
    assert flows["src_ip"].dtype == flows["dst_ip"].dtype
    assert list(flows["state"].cat.categories) == ["B", "C", "E", "D"]  # closed lists stay whole
    assert isinstance(flows["state"].dtype, pd.CategoricalDtype)


def test_a_window_or_selection_that_misses_every_row_says_where_the_logs_are():
    """``start="yesterday"`` on last year's logs, or a mistyped MAC, used to give an empty frame in
    silence; the warning now says what was left out and which hours the files found cover."""
    import warnings as _warnings

    import flowkit
    from flowkit.errors import FlowkitDataWarning

    samples = Path(__file__).resolve().parents[1] / "data-samples" / "connectivity"
    cover = "the files found cover 2024-05-01 10:00 to 2024-05-01 12:00 UTC (by the hour in their path)"
    cases = [
        (dict(start="2030-01-01"), "no rows from 2030-01-01 00:00:00Z: 12 file(s) were left out by their path "
                                   f"(hour, MAC, log type); {cover}"),
        (dict(start="2024-05-01T11:59:30Z", end="2024-05-01T12:00Z"),
         "no rows from 2024-05-01 11:59:30Z until 2024-05-01 12:00:00Z: 6 file(s) were left out by their path "
         f"(hour, MAC, log type) and 396 tuple(s) by their time, log type or MAC; {cover}"),
        (dict(mac="00-0d-3a-00-99-99"), "no rows of MAC 000D3A009999: 12 file(s) were left out by their path "
                                        f"(hour, MAC, log type); {cover}"),
    ]
    for kwargs, message in cases:
        with pytest.warns(FlowkitDataWarning) as caught:
            assert len(flowkit.read_flow_logs(samples, **kwargs)) == 0
        assert [str(w.message) for w in caught] == [f"flowkit: {message}"]
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")  # a window that keeps rows warns of nothing
        assert len(flowkit.read_flow_logs(samples, start="2024-05-01T11:00Z")) == 396


def test_a_listing_knows_the_hours_of_every_file_it_saw_and_a_composite_spans_its_parts(tmp_path):
    from flowkit.sources.base import CompositeSource
    from flowkit.sources.local import LocalSource

    samples = Path(__file__).resolve().parents[1] / "data-samples"
    hour = pd.Timestamp("2024-05-01T10:00Z")
    listing = LocalSource(samples / "connectivity").list_blobs(start="2030-01-01")
    assert (listing.refs, listing.skipped, listing.hours) == ((), 12, (hour, hour + pd.Timedelta(hours=1)))
    (tmp_path / "flat.json").write_text('{"records": []}')
    assert LocalSource(tmp_path).list_blobs().hours is None  # no path in the layout: no hour known
    both = CompositeSource([LocalSource(tmp_path), LocalSource(samples / "connectivity")]).list_blobs()
    assert both.hours == (hour, hour + pd.Timedelta(hours=1))


@pytest.mark.parametrize("columns", [
    pytest.param(["src_ip"], id="sources-only"),
    pytest.param(["dst_port", "dst_ip"], id="destinations-with-another-column"),
])
@pytest.mark.parametrize("dataset", [False, True], ids=["json", "parquet"])
def test_a_windowed_read_of_one_address_column_is_that_column_of_the_whole_windowed_read(
        columns, dataset, tmp_path):
    # The column alone used to keep the addresses of every row of the blobs opened (23 for
    # sources-only, where the 113 rows returned hold 11): drop_unused_categories needs both
    # addresses to know which ones the rows returned use, so the read fills both, then drops one.
    import warnings

    import pandas as pd

    sample = Path(__file__).resolve().parents[1] / "data-samples" / "connectivity"
    source = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dataset:
            convert(sample, tmp_path / "ds")
            source = tmp_path / "ds"
        window = {"start": "2024-05-01T10:30Z", "end": "2024-05-01T10:40Z"}
        whole = read_flow_logs(source, **window)
        some = read_flow_logs(source, columns=columns, **window)
    assert list(some.columns) == columns and len(some) == len(whole) == 113
    pd.testing.assert_frame_equal(some, whole[columns])
    address = [c for c in columns if c.endswith("_ip")][0]
    used = set(whole["src_ip"].astype(str)) | set(whole["dst_ip"].astype(str))
    assert len(used) == 11 and set(some[address].cat.categories) == used


def test_a_source_that_stops_before_its_last_listed_blob_is_an_error_not_a_short_read(tmp_path):
    """A source that delivers fewer blobs than it listed (a bug in a custom source, a download
    generator that ends early) lost their tuples in silence; the read and the Parquet conversion
    now name the first blob that never came."""
    from flowkit.errors import SourceError
    from flowkit.read import ordered_batches
    from flowkit.sources.local import LocalSource

    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("a.json", "b.json", "c.json"):
        (logs / name).write_bytes(blob([vnet_record([("acl", "r", VNET_TUPLES[:1])])]))

    class StopsEarly(LocalSource):
        def iter_bytes(self, refs, **kwargs):  # never delivers c.json
            yield from ((i, data) for i, data in super().iter_bytes(refs) if not refs[i].name.endswith("c.json"))

    src = StopsEarly(logs)
    with pytest.raises(SourceError, match=r"delivered 2 of 3 listed blob\(s\) in sequence: '.*c\.json' never came"):
        read_flow_logs(src)
    with pytest.raises(SourceError, match=r"listed blob\(s\) in sequence: '.*c\.json' never came"):
        convert(src, tmp_path / "store")
    refs = src.list_blobs().refs
    assert [[i for i, _ in b] for b in ordered_batches([(1, b"x"), (0, b"x"), (2, b"x")], 1, refs)] == [[0], [1], [2]]


def test_a_json_read_does_not_import_the_parquet_modules():
    """Asking whether a source is a Parquet dataset is a file check: importing pyarrow's Parquet
    and dataset modules cost a process's first JSON read 30 ms (of 0.35 s for 100 MB)."""
    import subprocess
    import sys

    code = ("import sys, flowkit; f = flowkit.read_flow_logs('data-samples/encryption'); "
            "print(len(f) > 0, 'pyarrow.parquet' in sys.modules, 'pyarrow.dataset' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["True", "False", "False"]


def test_is_parquet_dataset_is_still_offered_by_the_parquet_module(tmp_path):
    from flowkit.store import manifest, parquet

    assert parquet.is_parquet_dataset is manifest.is_parquet_dataset
    (tmp_path / manifest.MARKER).write_text("{}")
    assert parquet.is_parquet_dataset(tmp_path) and not parquet.is_parquet_dataset(tmp_path / "nothing")


def test_a_file_whose_name_is_not_utf8_is_read_and_named_with_its_bytes_escaped(tmp_path):
    """Linux keeps a name's bytes; Python gives the undecodable ones as lone surrogates, which
    no Arrow column takes: the read failed with a UnicodeEncodeError (a traceback in the CLI)."""
    import os

    folder = os.fsencode(tmp_path)
    good = folder + b"/vnet-\xff.json"
    bad = folder + b"/vnet-\xfe\xff.json"
    with open(good, "wb") as fh:
        fh.write(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    with open(bad, "wb") as fh:
        fh.write(blob([vnet_record([("acl", "UserRule_A", ["1714557600000,192.0.2.4"])])]))
    with pytest.warns(FlowkitDataWarning, match="1 quarantined"):
        flows, report = read_flow_logs(tmp_path, with_report=True)
    assert len(flows) == len(VNET_TUPLES)
    assert sorted(flows["blob"].unique()) == [f"{tmp_path}/vnet-\\xff.json"]
    assert report.quarantine[["blob", "reason", "raw"]].values.tolist() == [
        [f"{tmp_path}/vnet-\\xfe\\xff.json", "wrong-field-count", "1714557600000,192.0.2.4"]]
