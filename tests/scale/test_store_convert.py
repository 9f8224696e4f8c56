"""Converting into an existing dataset: part of a unit at a time, the same files named two ways,
interrupted conversions, and the quarantine of a dataset read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import flowkit
from flowkit.errors import FlowkitDataWarning
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
from flowkit.store.convert import convert
from flowkit.store.manifest import MARKER, Manifest, unit_key_of
from flowkit.store.parquet import drop_unused_categories
from flowkit.synth import blob_bytes, encode_record, nsg_record, nsg_v2_tuple, record_time, vnet_record, vnet_tuple

from scale_helpers import REPO, SAMPLES, assert_same_frame, read_json

SUB = "00000000-0000-0000-0000-0000000000AA"
HOUR = "2024-05-01T10:00Z"
MACS = ("000D3A0000C1", "000D3A0000C2", "000D3A0000C3", "000D3A0000C4")
FLOW_LOG = "/SUBSCRIPTIONS/X/FLOWLOGS/FL1"
TARGET = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
BAD = "1714557600000,10.0.0.4,bogus"  # a tuple with the wrong field count
SEALED = pd.Timestamp("2024-05-02T00:00Z")  # "now" for the conversions: hour 10 long sealed


def vnet_rec(mac: str, minute: int, seed: int = 0, extra: tuple[str, ...] = ()) -> dict:
    """One record of minute ``minute`` with 2 tuples (RFC 5737 peers), and ``extra`` tuple strings."""
    base = pd.Timestamp(HOUR).value // 10**9 + 60 * minute
    tuples = [vnet_tuple((base + k) * 1000, "10.0.0.4", f"203.0.113.{(seed * 7 + minute + k) % 250 + 1}",
                         40000 + minute * 10 + k + seed * 1000, 443, 6, "O", "C" if k else "B", "NX",
                         (3 + k, 700, 2, 1500)) for k in range(2)] + list(extra)
    return vnet_record(record_time(base + 50, 1234567), "guid-1", mac, FLOW_LOG, TARGET,
                       [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowInternetOutBound", tuples)])])


def vnet_blob(root: Path, mac: str, minutes: range, seed: int = 0, bad_minute: int | None = None) -> Path:
    """The VNet blob of ``mac`` for 10:00 under ``root`` (in the Azure layout), 2 tuples a minute."""
    path = root / VNET_CONTAINER / vnet_blob_name(SUB, "NetworkWatcherRG", "NetworkWatcher_eastus", "fl1", HOUR, mac)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob_bytes([vnet_rec(mac, m, seed, (BAD,) if m == bad_minute else ()) for m in minutes]))
    return path


def append_records(path: Path, mac: str, minutes: range, seed: int = 0) -> None:
    """Append records to a blob, as Azure appends blocks."""
    data = path.read_bytes()
    path.write_bytes(data[:-2] + b"".join(b"," + encode_record(vnet_rec(mac, m, seed)) for m in minutes) + b"]}")


def quiet(source, **kwargs) -> tuple[pd.DataFrame, flowkit.LoadReport]:
    """A read and its report, the quarantine warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)
        return flowkit.read_flow_logs(source, with_report=True, **kwargs)


def part(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start:stop`` with the categories they use only."""
    return drop_unused_categories(frame.iloc[start:stop].reset_index(drop=True).copy())


def files_on_disk(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() and p.name != MARKER}


# -- 1. part of a unit at a time -------------------------------------------------------------


@pytest.mark.parametrize("order", [pytest.param((0, 1), id="nic1-then-nic2"),
                                   pytest.param((1, 0), id="nic2-then-nic1")])
def test_converting_one_nic_of_an_hour_then_another_keeps_both(tmp_path: Path, order: tuple[int, int]) -> None:
    blobs = [vnet_blob(tmp_path / "logs", mac, range(3), seed=i) for i, mac in enumerate(MACS[:2])]
    dest = tmp_path / "ds"
    assert convert(blobs[order[0]], dest, now=SEALED).rows_written == 6
    second = convert(blobs[order[1]], dest, now=SEALED)
    back = read_json(dest)
    assert len(back) == 12
    assert (second.units_written, second.blobs_read, second.rows_written, second.rows_kept) == (1, 1, 12, 6)
    assert_same_frame(back, read_json(blobs))  # in blob order, whichever came first
    assert back["blob"].astype(str).tolist() == [str(blobs[0])] * 6 + [str(blobs[1])] * 6
    (unit,) = Manifest.load(dest).units.values()
    assert len(unit.blobs) == 2 and (unit.tuples, unit.quarantined) == (12, 0)
    assert sum(f.rows for f in unit.files) == 12
    assert len(list(dest.rglob("*.parquet"))) == 1  # the earlier file was replaced, not kept beside


def test_kept_rows_are_merged_among_new_ones_in_blob_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit.store.convert as store
    import flowkit.store.writer as writer

    blobs = [vnet_blob(tmp_path / "logs", mac, range(4), seed=i) for i, mac in enumerate(MACS)]
    dest = tmp_path / "ds"
    convert([blobs[1], blobs[3]], dest, now=SEALED)
    monkeypatch.setattr(store, "BATCH_BYTES", 1)  # one blob per batch
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 5)  # kept runs joined and split at 5 rows
    report = convert([blobs[0], blobs[2]], dest, now=SEALED)
    back = read_json(dest)
    assert len(back) == 32
    assert_same_frame(back, read_json(blobs))
    assert (report.rows_written, report.rows_kept) == (32, 16)
    assert back["mac"].astype(str).tolist() == [m for m in MACS for _ in range(8)]


def test_a_blob_deleted_by_retention_keeps_its_rows_when_its_hour_gets_late_data(tmp_path: Path) -> None:
    nic1, nic2 = (vnet_blob(tmp_path / "logs", mac, range(3), seed=i) for i, mac in enumerate(MACS[:2]))
    dest = tmp_path / "ds"
    assert convert(tmp_path / "logs", dest, now=SEALED).rows_written == 12
    nic1_rows = part(read_json(dest), 0, 6)
    nic1.unlink()
    append_records(nic2, MACS[1], range(59, 60), seed=1)  # late data: 2 more tuples
    report = convert(tmp_path / "logs", dest, now=SEALED)
    back = read_json(dest)
    assert len(back) == 14
    assert (report.units_written, report.blobs_read, report.rows_written, report.rows_kept) == (1, 1, 14, 6)
    assert_same_frame(part(back, 0, 6), nic1_rows)
    assert_same_frame(part(back, 6, 14), read_json(nic2))
    (unit,) = Manifest.load(dest).units.values()
    assert (unit.tuples, len(unit.blobs)) == (14, 2)


class FakeContainer:
    """A source listing Azure blobs (``container/name``, with ETags) from a dict, as AzureBlobSource does."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs

    def list_blobs(self, **kwargs):
        from flowkit.sources.azure import AzureBlobRef
        from flowkit.sources.base import Listing
        from flowkit.sources.layout import parse_blob_path

        return Listing(tuple(AzureBlobRef(name=f"{VNET_CONTAINER}/{name}", meta=parse_blob_path(name), size=len(data),
                                          container=VNET_CONTAINER, blob=name, etag=f"0x{len(data):X}")
                             for name, data in sorted(self.blobs.items())))

    def iter_bytes(self, refs):
        return ((i, self.blobs[ref.blob]) for i, ref in enumerate(refs))

    def describe(self) -> str:
        return f"fake: {VNET_CONTAINER}"


def test_azure_blobs_of_an_hour_converted_one_listing_at_a_time_are_all_kept(tmp_path: Path) -> None:
    names = [vnet_blob_name(SUB, "NetworkWatcherRG", "NetworkWatcher_eastus", "fl1", HOUR, mac) for mac in MACS[:2]]
    data = [blob_bytes([vnet_rec(mac, m, i) for m in range(3)]) for i, mac in enumerate(MACS[:2])]
    dest = tmp_path / "ds"
    convert(FakeContainer({names[1]: data[1]}), dest, now=SEALED)
    report = convert(FakeContainer({names[0]: data[0]}), dest, now=SEALED)
    back = read_json(dest)
    assert len(back) == 12 and report.rows_kept == 6
    assert back["blob"].astype(str).tolist() == [f"{VNET_CONTAINER}/{n}" for n in names for _ in range(6)]
    (unit,) = Manifest.load(dest).units.values()
    assert sorted(unit.blobs) == [f"{VNET_CONTAINER}/{n}" for n in names]
    assert (unit.spelling, unit.labels) == (None, {})  # an Azure blob's name is its id
    assert convert(FakeContainer(dict(zip(names, data))), dest, now=SEALED).units_skipped == 1


# -- 2. one file, two names ------------------------------------------------------------------


def test_the_same_logs_named_another_way_are_not_converted_again(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES / "nsg-vs-vnet", "data")
    os.symlink(tmp_path / "data", tmp_path / "link")
    first = convert("data", "ds")
    assert first.rows_written == 851
    for spelling in (str(tmp_path / "data"), "./data/", "link", ["data", str(tmp_path / "data")]):
        again = convert(spelling, "ds")
        assert (again.units_written, again.units_skipped, again.rows_written) == (0, 9, 0), spelling
    back = read_json("ds")
    assert len(back) == 851
    assert_same_frame(back, read_json("data"))  # the blob column holds the names as first read: data/...
    assert back["blob"].astype(str).str.startswith("data/").all()


def test_one_file_named_twice_in_one_call_is_converted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    nic = vnet_blob(Path("logs"), MACS[0], range(3))
    report = convert([str(nic), str(tmp_path / nic)], "ds", now=SEALED)
    assert (report.blobs_read, report.rows_written) == (1, 6)
    assert read_json("ds")["blob"].astype(str).unique().tolist() == [str(nic)]


def test_an_open_hour_converted_under_another_name_is_replaced_not_doubled(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    nic = vnet_blob(Path("logs"), MACS[0], range(3))
    now = pd.Timestamp("2024-05-01T10:30Z")
    convert("logs", "ds", now=now)
    append_records(nic, MACS[0], range(20, 22))
    report = convert(str(tmp_path / "logs"), "ds", now=now)
    back = read_json("ds")
    assert len(back) == 10
    assert (report.units_written, report.rows_written, report.rows_kept) == (1, 10, 0)
    # rows take the name they were last read under
    assert back["blob"].astype(str).unique().tolist() == [str(tmp_path / nic)]


def _as_format_1(dest: Path) -> None:
    """Rewrite a manifest the way flowkit wrote it before format 2: blobs and units under the names
    as typed, no labels, quarantine files or log types."""
    data = json.loads((dest / MARKER).read_text())
    if data["format_version"] == 1:
        return
    entries = Manifest.load(dest).units
    units = {}
    for key, unit in data["units"].items():
        for name in ("labels", "spelling", "problems", "quarantine", "log_type"):
            unit.pop(name)
        unit["blobs"] = {entries[key].label(b): sig for b, sig in unit["blobs"].items()}
        first = min(unit["blobs"])
        for f in unit["files"]:
            f["first_blob"] = first
        units[unit_key_of(first, unit["hour"] is not None)] = unit
    data.update(format_version=1, units=units)
    (dest / MARKER).write_text(json.dumps(data))


def test_a_format_1_dataset_holding_the_same_logs_twice_is_mended_and_not_converted_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES / "nsg-vs-vnet", "data")
    convert("data", "ds")
    convert(str(tmp_path / "data"), "abs")
    _as_format_1(Path("ds"))
    _as_format_1(Path("abs"))
    # The dataset an earlier flowkit made of `convert data ds; convert $PWD/data ds`: every unit twice.
    merged = json.loads(Path("ds/_flowkit_dataset.json").read_text())
    for key, unit in json.loads(Path("abs/_flowkit_dataset.json").read_text())["units"].items():
        for f in unit["files"]:
            copy = f["path"].replace(".parquet", "-copy.parquet")
            shutil.copy(Path("abs") / f["path"], Path("ds") / copy)
            f["path"] = copy
        merged["units"][key] = unit
    Path("ds/_flowkit_dataset.json").write_text(json.dumps(merged))
    assert len(read_json("ds")) == 2 * 851

    with pytest.warns(FlowkitDataWarning, match="held 9 hour"):
        report = convert("data", "ds")
    back = read_json("ds")
    assert len(back) == 851
    assert (report.units_written, report.units_skipped) == (0, 9)
    manifest = Manifest.load("ds")
    assert manifest.format_version == 2 and len(manifest.units) == 9
    assert all(key.startswith(os.path.realpath(tmp_path)) for key in manifest.units)
    assert files_on_disk(Path("ds")) == {f.path for f in manifest.files()}
    assert not [p for p in Path("ds").rglob("*-copy.parquet")]
    assert convert(str(tmp_path / "data"), "ds").units_skipped == 9


# -- 3. interrupted conversions -----------------------------------------------------------


class Crash(BaseException):
    """What a kill at that step looks like to the code after it: nothing more runs."""


@pytest.fixture
def open_hour(tmp_path: Path) -> tuple[Path, Path]:
    """A dataset of an open hour (20 rows, 10:00-10:09), whose blob got 20 more tuples (10:30-10:39)."""
    logs, dest = tmp_path / "logs", tmp_path / "ds"
    nic = vnet_blob(logs, MACS[0], range(10))
    assert convert(logs, dest, now="2024-05-01T10:30Z").rows_written == 20
    append_records(nic, MACS[0], range(30, 40))
    return logs, dest


def assert_consistent(dest: Path, rows: int, rows_from_1020: int) -> None:
    """Reads agree with the manifest, whole or from 10:20."""
    frame, report = quiet(dest)
    assert len(frame) == rows == sum(f.rows for f in Manifest.load(dest).files()) == report.tuples
    part, part_report = quiet(dest, start="2024-05-01T10:20Z")
    assert len(part) == rows_from_1020 and part_report.consistent
    assert str(report.end) == str(frame["flow_time"].max())


def test_a_crash_before_the_manifest_is_saved_leaves_the_dataset_as_it_was(
        open_hour: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.dataset as ds

    logs, dest = open_hour
    save = Manifest.save
    monkeypatch.setattr(Manifest, "save", lambda self, d: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        convert(logs, dest, now="2024-05-01T10:45Z")
    monkeypatch.setattr(Manifest, "save", save)
    assert_consistent(dest, 20, 0)  # the dataset as the last complete call left it
    assert len(files_on_disk(dest)) == 2  # the new file is there, but not the dataset's

    report = convert(logs, dest, now="2024-05-01T10:45Z")
    assert report.rows_written == 40
    assert_consistent(dest, 40, 20)
    assert files_on_disk(dest) == {f.path for f in Manifest.load(dest).files()}
    assert ds.dataset(dest, format="parquet", partitioning="hive").count_rows() == 40


def test_a_crash_after_the_manifest_is_saved_leaves_the_new_dataset(
        open_hour: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import flowkit.store.convert as store

    logs, dest = open_hour
    monkeypatch.setattr(store, "_remove", lambda dest, rels: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        convert(logs, dest, now="2024-05-01T10:45Z")
    monkeypatch.undo()
    assert_consistent(dest, 40, 20)
    assert len(files_on_disk(dest)) == 2  # the old file is left, not the dataset's any more

    report = convert(logs, dest, now="2024-05-02T00:00Z")  # sealed since, unchanged: skipped
    assert (report.units_written, report.units_skipped) == (0, 1)
    assert_consistent(dest, 40, 20)
    assert files_on_disk(dest) == {f.path for f in Manifest.load(dest).files()}


def test_a_process_killed_while_renaming_files_into_place(open_hour: tuple[Path, Path]) -> None:
    """The reviewer's repro: the process dies right after the new file is renamed into place."""
    logs, dest = open_hour
    script = (
        "import os, sys\n"
        "import flowkit.store.writer as w\n"
        "real = os.replace\n"
        "def rename(a, b):\n"
        "    real(a, b)\n"
        "    if 'type=' in str(b): os._exit(9)\n"
        "w.os.replace = rename\n"
        "from flowkit.store.convert import convert\n"
        "convert(sys.argv[1], sys.argv[2], now='2024-05-01T10:45Z')\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script, str(logs), str(dest)], env=env, timeout=120)
    assert done.returncode == 9
    assert [p.name for p in dest.iterdir() if p.name.startswith(".tmp-")]  # left by the killed process
    assert_consistent(dest, 20, 0)

    convert(logs, dest, now="2024-05-01T10:45Z")
    assert_consistent(dest, 40, 20)
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]
    assert files_on_disk(dest) == {f.path for f in Manifest.load(dest).files()}


def test_a_folder_that_is_not_a_dataset_is_not_cleaned(tmp_path: Path) -> None:
    dest = tmp_path / "ds"
    stray = dest / "type=vnet" / "date=2024-05-01" / "hour=10" / "part-0.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not ours")
    convert(vnet_blob(tmp_path / "logs", MACS[0], range(3)).parent, dest, now=SEALED)
    assert stray.read_bytes() == b"not ours" and len(read_json(dest)) == 6


# -- 4. the quarantine of a dataset read --------------------------------------------------------


def test_a_dataset_read_reports_and_warns_about_quarantine_like_the_json_read(tmp_path: Path) -> None:
    vnet_blob(tmp_path / "logs", MACS[0], range(3), bad_minute=1)
    dest = tmp_path / "ds"
    convert(tmp_path / "logs", dest, now=SEALED)
    for window in ({}, {"start": "2024-05-01T10:01Z"}):
        _, json_report = quiet(tmp_path / "logs", **window)
        with pytest.warns(FlowkitDataWarning, match=r"7 tuple\(s\): \d row\(s\), 1 quarantined.*wrong-field-count: 1"):
            frame, report = flowkit.read_flow_logs(dest, with_report=True, **window)
        expected = {k: v for k, v in json_report.to_dict().items() if k not in ("records", "sources")}
        got = {k: v for k, v in report.to_dict().items() if k not in ("records", "sources")}
        assert got == expected
        assert (report.tuples, report.rows, report.quarantined, report.filtered_out) == (
            (7, 6, 1, 0) if not window else (7, 4, 1, 2))
        assert report.problem_counts == {"wrong-field-count": 1} and report.consistent
        pd.testing.assert_frame_equal(report.quarantine, json_report.quarantine)
        assert report.quarantine.iloc[0].tolist() == [json_report.quarantine.iloc[0, 0], 1, 2, "wrong-field-count", BAD]


def test_damaged_records_are_reported_from_the_dataset(tmp_path: Path) -> None:
    path = vnet_blob(tmp_path / "logs", MACS[0], range(4))
    path.write_bytes(path.read_bytes()[:-120])  # the last record cut short
    dest = tmp_path / "ds"
    convert(tmp_path / "logs", dest, now=SEALED)
    _, json_report = quiet(tmp_path / "logs")
    _, report = quiet(dest)
    assert json_report.problem_counts["record:truncated-record"] == 1
    assert report.problem_counts == json_report.problem_counts
    assert (report.tuples, report.rows, report.quarantined) == (json_report.tuples, 6, json_report.quarantined)
    assert report.problems == json_report.problems


def test_quarantine_of_a_kept_blob_stays_and_mac_reads_count_only_their_blobs(tmp_path: Path) -> None:
    nic1 = vnet_blob(tmp_path / "logs", MACS[0], range(3), bad_minute=1)
    nic2 = vnet_blob(tmp_path / "logs", MACS[1], range(3), seed=1)
    dest = tmp_path / "ds"
    convert(nic1, dest, now=SEALED)
    convert(nic2, dest, now=SEALED)  # NIC1 kept, its quarantine with it
    _, report = quiet(dest)
    _, json_report = quiet([nic1, nic2])
    assert (report.tuples, report.rows, report.quarantined) == (13, 12, 1) == (
        json_report.tuples, json_report.rows, json_report.quarantined)
    pd.testing.assert_frame_equal(report.quarantine, json_report.quarantine)

    for mac, quarantined in ((MACS[0], 1), (MACS[1], 0)):
        frame, report = quiet(dest, mac=mac)
        _, json_report = quiet([nic1, nic2], mac=mac)
        assert len(frame) == 6 and report.quarantined == json_report.quarantined == quarantined
        # the unit's other NIC is not selected: its rows, and its quarantine, are filtered_out
        assert report.consistent and (report.tuples, report.filtered_out) == (13, 7 - quarantined)


def test_a_blob_whose_every_tuple_is_quarantined_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "logs" / NSG_CONTAINER / nsg_blob_name(SUB, "RG", "NSG1", HOUR, MACS[0])
    path.parent.mkdir(parents=True)
    bad = [nsg_v2_tuple(1714557600 + k, "198.51.100.1", "10.0.0.5", 50000 + k, 22, 6, "I", "A", "C")[:-4]
           for k in range(3)]  # counters cut off: wrong field count
    path.write_bytes(blob_bytes([nsg_record(record_time(1714557650, 0), "sys-1", MACS[0],
                                            f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/"
                                            "NETWORKSECURITYGROUPS/NSG1", 2, [("R", bad)])]))
    dest = tmp_path / "ds"
    report = convert(tmp_path / "logs", dest, now=SEALED)
    assert (report.files_written, report.load.quarantined) == (0, 3)
    frame, back = quiet(dest)
    assert len(frame) == 0 and (back.tuples, back.quarantined) == (3, 3) and back.consistent
    assert back.reasons == {"wrong-field-count": 3}
    assert quiet(dest, start="2024-05-01T12:00Z")[1].tuples == 0  # its hour is outside that window


# -- 5. what differs from a JSON read, by design -------------------------------------------------


def test_files_are_read_in_blob_name_order_whatever_order_the_folders_were_named_in(tmp_path: Path) -> None:
    data = SAMPLES / "nsg-vs-vnet"
    nsg, vnet = data / NSG_CONTAINER, data / VNET_CONTAINER
    convert([nsg, vnet], tmp_path / "ds")
    back = read_json(tmp_path / "ds")
    assert_same_frame(back, read_json([vnet, nsg]))  # VNet ('insights-logs-f…') before NSG ('…-n…')
    assert back["log_type"].iloc[0] == "vnet"
