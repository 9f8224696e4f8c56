"""native_read: a batch the compiled scanner reads (VNet v4, NSG v2 or v1) gives exactly the rows, categories and
report of the general path."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

import flowkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowkit.formats import native_read
from flowkit.formats.decode import decode_blobs
from flowkit.formats.native_read import NATIVE_MIN_BYTES, looks_native, read_native, worth_scanning
from flowkit.read import frame_from_tables
from flowkit.sources.base import BlobRef
from flowkit.synth import write_corpus
from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, T0_MS, T0_S, VNET_TUPLES, blob, nsg_record, vnet_record

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT.parent / "shared" / "conformance"
RECORDS = [vnet_record([("acl-1", "UserRule_A", VNET_TUPLES[:3]), ("acl-2", "UserRule_B", VNET_TUPLES[3:])]),
           vnet_record([("acl-2", "UserRule_B", VNET_TUPLES[1:2]), ("acl-3", "Empty", [])], mac="000D3A000009",
                       time="2024-05-01T10:02:00.1Z")]
BLOB = blob(RECORDS)


def both(items, **selection):
    """The same batch decoded with and without the compiled scanner; asserts they agree, returns the native one."""
    native = decode_blobs(items, native=True, **selection)
    general = decode_blobs(items, native=False, **selection)
    assert native.table.equals(general.table), "tables differ"
    for a, b in ((native.table, general.table),):
        for name in a.column_names:
            ca, cb = a.column(name).combine_chunks(), b.column(name).combine_chunks()
            if hasattr(ca, "dictionary"):
                assert ca.dictionary.to_pylist() == cb.dictionary.to_pylist(), name
    for field in dataclasses.fields(native.report):
        x, y = getattr(native.report, field.name), getattr(general.report, field.name)
        assert (x.equals(y) if isinstance(x, pd.DataFrame) else x == y), field.name
    return native


def refs(*blobs):
    return [(b, BlobRef(f"flows/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A00000{i}/PT1H.json"))
            for i, b in enumerate(blobs)]


def test_the_public_names():
    assert native_read.__all__ == ["NativeBatch", "NativeGroups", "read_native", "looks_native",
                                   "worth_scanning", "load_scanner", "NATIVE_MIN_BYTES"]


def test_a_vnet_batch_is_read_by_the_scanner_with_the_general_paths_rows(monkeypatch):
    calls = []
    real = native_read.read_native
    monkeypatch.setattr("flowkit.formats.decode.read_native", lambda b: calls.append(real(b)) or calls[-1])
    out = both(refs(BLOB, blob(RECORDS[:1])))
    assert calls and calls[0] is not None  # the scanner read it
    assert out.report.rows == 13 and out.report.records == 3 and out.report.formats == {"vnet-v4": 13}
    frame = frame_from_tables([out.table])
    assert frame["rule"].cat.categories.tolist() == ["UserRule_A", "UserRule_B"]  # "Empty" had no tuple
    assert frame["decision"].tolist().count("deny") == 4  # state D, and NX_NOT_ACCEPTED, in each full record
    assert str(frame["record_time"].iloc[-1]) == "2024-05-01 10:01:00.562508500+00:00"


def test_a_window_log_type_and_mac_select_as_on_the_general_path():
    items = refs(BLOB)
    start = pd.Timestamp(T0_MS + 7000, unit="ms", tz="UTC")
    assert both(items, start=start).report.filtered_out == 1  # the B tuple at 10:00:05.123
    assert both(items, mac="000D3A000009").report.rows == 1
    assert both(items, log_type="nsg").report.rows == 0


def test_a_batch_mixing_vnet_and_nsg_blobs_goes_the_general_path_whole():
    items = refs(BLOB, blob([nsg_record({"A": NSG_V2_TUPLES})]))
    assert read_native([b for b, _ in items]) is None
    assert both(items).report.formats == {"vnet-v4": 7, "nsg-v2": 4}


def test_a_bad_tuple_sends_the_batch_to_the_general_path_which_quarantines_it():
    bad = blob([vnet_record([("a", "r", [f"{T0_MS},10.0.0.999,192.0.2.80,1,2,6,O,E,NX,1,2,3,4", VNET_TUPLES[0]])])])
    assert read_native([bad]) is None
    out = both(refs(bad))
    assert (out.report.rows, out.report.quarantined) == (1, 1)


@pytest.mark.parametrize("groups", [[], [("acl-1", "UserRule_A", [])]])
def test_a_batch_without_tuples_reads_the_same_both_ways(groups):
    empty = blob([vnet_record(groups)])
    assert read_native([empty]) is None  # the general path's empty table: no dictionary values
    out = both(refs(empty, empty))
    assert (out.report.records, out.report.rows) == (2, 0)
    assert out.table.column("direction").combine_chunks().dictionary.to_pylist() == []


def test_a_group_whose_tuple_array_is_empty_but_spaced_reads_the_same_both_ways():
    data = blob([vnet_record([("acl-0", "OnlyEmpty", []), ("acl-1", "UserRule_A", VNET_TUPLES[:1])])])
    spaced = data.replace(b'"flowTuples":[]', b'"flowTuples":[\n]', 1)
    assert read_native([data]) is not None and read_native([spaced]) is None
    frame = frame_from_tables([both(refs(spaced)).table])  # the general path drops "[\n]" as the scanner "[]"
    assert frame["rule"].cat.categories.tolist() == ["UserRule_A"]
    assert frame.equals(frame_from_tables([both(refs(data)).table]))


def test_a_new_encryption_state_is_kept_as_on_the_general_path():
    odd = blob([vnet_record([("a", "r", [VNET_TUPLES[0].replace(",NX,", ",NX_SOMETHING_NEW,")])])])
    assert read_native([odd]) is not None
    frame = frame_from_tables([both(refs(odd)).table])
    assert frame["encryption"].tolist() == ["NX_SOMETHING_NEW"]


def test_ipv6_addresses_get_one_spelling_as_on_the_general_path():
    t = VNET_TUPLES[0].replace("10.0.0.5", "2001:DB8:0:0::9")
    out = both(refs(blob([vnet_record([("a", "r", [t, VNET_TUPLES[0].replace("10.0.0.5", "2001:db8::9")])])])))
    assert frame_from_tables([out.table])["src_ip"].tolist() == ["2001:db8::9", "2001:db8::9"]


@pytest.mark.parametrize("sample", ["connectivity", "encryption"])
def test_the_vnet_samples_read_the_same_both_ways(sample):
    paths = sorted((ROOT / "data-samples" / sample).rglob("PT1H.json"))
    out = both([(p.read_bytes(), BlobRef(str(p))) for p in paths])
    assert out.report.rows == {"connectivity": 900, "encryption": 249}[sample]


def test_the_conformance_vnet_blob_reads_the_same_both_ways():
    data = (CONFORMANCE / "vnet_elastic-sample-testdata.json").read_bytes()
    assert read_native([data]) is not None
    assert both([(data, BlobRef("vnet_elastic-sample-testdata.json"))]).report.rows == 19


def test_a_synthetic_corpus_reads_the_same_both_ways(tmp_path):
    write_corpus(tmp_path, "vnet", 3_000_000, seed=7)
    paths = sorted(tmp_path.rglob("PT1H.json"))
    items = [(p.read_bytes(), BlobRef(str(p))) for p in paths]
    assert read_native([b for b, _ in items]) is not None
    assert both(items).report.rows > 20_000


def test_looks_native_only_takes_blobs_that_start_as_a_vnet_or_nsg_blob():
    nsg = blob([nsg_record({"A": NSG_V2_TUPLES})])
    assert looks_native(BLOB) and not looks_native(b"\xef\xbb\xbf" + BLOB) and not looks_native(b"," + BLOB[1:])
    assert looks_native(nsg) and not looks_native(b"," + nsg[1:])
    assert not looks_native(b'{"records":[{"time":"t","category":"NetworkSecurityGroupEvent"}]}')


def test_without_numba_the_general_path_reads_everything(monkeypatch):
    monkeypatch.setattr(native_read, "_scanner", False)
    assert read_native([BLOB]) is None and not worth_scanning(1 << 40)
    assert decode_blobs(refs(BLOB), native=True).report.rows == 7


@pytest.mark.parametrize("value", ["off", "0", "False", " no "])
def test_flowkit_scanner_off_leaves_everything_to_the_general_path(monkeypatch, value):
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.setenv("FLOWKIT_SCANNER", value)
    assert not worth_scanning(1 << 40) and read_native([BLOB]) is None


def test_flowkit_scanner_set_to_anything_else_uses_the_scanner(monkeypatch):
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.setenv("FLOWKIT_SCANNER", "on")
    assert worth_scanning(1 << 40) and read_native([BLOB]) is not None


def test_load_scanner_makes_every_later_read_use_it(monkeypatch):
    monkeypatch.setattr(native_read, "_scanner", None)
    assert not worth_scanning(1 << 20)
    assert flowkit.load_scanner() is True and worth_scanning(1)
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.setenv("FLOWKIT_SCANNER", "off")
    assert flowkit.load_scanner() is False and not worth_scanning(1 << 40)


def test_a_scanner_numba_cannot_build_warns_once_and_leaves_reads_to_the_general_path(monkeypatch):
    from flowkit.formats import native_scan

    def broken():
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.setattr(native_scan, "warm_up", broken)
    with pytest.warns(RuntimeWarning, match=r"the compiled flow-log scanner could not be built \(RuntimeError\); "
                                            r"every read takes the general path"):
        assert flowkit.load_scanner() is False
    assert read_native([BLOB]) is None and decode_blobs(refs(BLOB), native=True).report.rows == 7


def test_a_small_read_does_not_start_the_scanner_unless_it_is_loaded(monkeypatch):
    monkeypatch.setattr(native_read, "_scanner", None)
    assert not worth_scanning(NATIVE_MIN_BYTES - 1)
    assert worth_scanning(NATIVE_MIN_BYTES) and worth_scanning(1)  # loaded now


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=st.data())
def test_corrupted_or_cut_vnet_blobs_read_the_same_both_ways(data):
    out = both(refs(corrupted(data, BLOB, b'0123456789,.:"{}[] \\xABCDEFNX_\n\x00\xe9')))
    assert out.report.tuples == out.report.rows + out.report.quarantined


def corrupted(data, blob_bytes: bytes, alphabet: bytes) -> bytes:
    """``blob_bytes`` with 1 to 3 bytes set (from ``alphabet``), inserted or deleted, as hypothesis draws."""
    raw = bytearray(blob_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        kind = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if kind == "set":
            raw[i] = data.draw(st.sampled_from(alphabet))
        elif kind == "insert":
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del raw[i:i + data.draw(st.integers(1, 12))]
    return bytes(raw)


@PROPERTY
@given(data=st.data())
def test_reshaped_vnet_records_read_the_same_both_ways(data):
    rec = json.loads(json.dumps(RECORDS[0]))
    keys = data.draw(st.permutations(list(rec)))
    rec = {k: rec[k] for k in keys}
    if data.draw(st.booleans()):
        del rec[data.draw(st.sampled_from(sorted(rec)))]
    if data.draw(st.booleans()):
        rec[data.draw(st.sampled_from(["macAddress", "time", "flowLogVersion", "targetResourceID", "x"]))] = \
            data.draw(st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=12)))
    indent = data.draw(st.sampled_from([None, 1]))
    raw = json.dumps({"records": [rec, RECORDS[1]]}, indent=indent, ensure_ascii=data.draw(st.booleans())).encode()
    out = both(refs(raw))
    assert out.report.tuples == out.report.rows + out.report.quarantined


def test_a_read_of_the_threshold_loads_the_scanner_and_reads_the_same_rows(monkeypatch):
    sample = ROOT / "data-samples" / "encryption"
    monkeypatch.setattr(native_read, "_scanner", False)
    general = flowkit.read_flow_logs(sample)
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.setattr(native_read, "NATIVE_MIN_BYTES", 1)
    calls = []
    real = native_read.read_native
    monkeypatch.setattr("flowkit.formats.decode.read_native", lambda b: calls.append(real(b)) or calls[-1])
    scanned = flowkit.read_flow_logs(sample)
    assert native_read._scanner and calls and all(c is not None for c in calls)
    pd.testing.assert_frame_equal(scanned, general)
    a, b = scanned.attrs["load_report"], general.attrs["load_report"]
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        assert (x.equals(y) if isinstance(x, pd.DataFrame) else x == y), field.name


# ----------------------------------------------------------------------------- NSG v2 and v1
NSG_V2 = blob([nsg_record({"UserRule_AllowWeb": NSG_V2_TUPLES[:3], "DefaultRule_DenyAllInBound": NSG_V2_TUPLES[3:]}),
               nsg_record({"UserRule_AllowWeb": NSG_V2_TUPLES[1:2], "Empty": []}, time="2024-05-01T10:02:00.5Z")])
NSG_V1 = blob([nsg_record({"UserRule_A": NSG_V1_TUPLES}, version=1, mac="000D3A0000A1")])


def scanned(items):
    """``both(items)``, having checked that the scanner (not the general path) read the batch."""
    batch = read_native([b for b, _ in items])
    assert batch is not None, "the scanner declined the batch"
    return both(items), batch


def test_an_nsg_v2_batch_is_read_by_the_scanner_with_the_general_paths_rows():
    out, batch = scanned(refs(NSG_V2))
    assert batch.fmt == "nsg2" and out.report.formats == {"nsg-v2": 5} and out.report.records == 2
    frame = frame_from_tables([out.table])
    assert frame["protocol"].tolist() == [6] * 5 and frame["version"].tolist() == [2] * 5
    assert frame["decision"].tolist() == ["allow", "allow", "allow", "deny", "allow"]
    assert frame["state"].tolist() == ["B", "C", "E", "B", "C"]
    assert frame["bytes_sent"].tolist() == [pd.NA, 3400, 120, pd.NA, 3400]  # B tuples: unknown, not 0
    assert frame["flow_time"].iloc[1] == pd.Timestamp(T0_S + 65, unit="s", tz="UTC")
    assert frame["rule"].cat.categories.tolist() == ["UserRule_AllowWeb", "DefaultRule_DenyAllInBound"]  # not "Empty"
    assert frame["encryption"].isna().all() and frame["acl_id"].isna().all() and frame["target_resource_id"].isna().all()
    assert frame["mac"].tolist() == ["000D3A000001"] * 5 and frame["log_type"].tolist() == ["nsg"] * 5


def test_an_nsg_v1_batch_is_read_by_the_scanner_with_the_general_paths_rows():
    out, batch = scanned(refs(NSG_V1, NSG_V1))
    assert batch.fmt == "nsg1" and out.report.formats == {"nsg-v1": 6}
    frame = frame_from_tables([out.table])
    assert frame["protocol"].tolist() == [6, 17, 6] * 2 and frame["direction"].tolist()[:3] == ["inbound", "outbound",
                                                                                                 "inbound"]
    assert frame["state"].isna().all() and frame["packets_received"].isna().all()
    assert frame["version"].tolist() == [1] * 6 and frame["mac"].tolist() == ["000D3A0000A1"] * 6


def test_a_group_mac_other_than_the_records_is_coded_after_the_records_macs_as_on_the_general_path():
    rec = nsg_record({"A": NSG_V2_TUPLES[:2], "B": NSG_V2_TUPLES[2:]}, mac="000D3A0000F1")
    rec["properties"]["flows"][0]["flows"][0]["mac"] = "000D3A0000F9"  # the group's own NIC
    other = nsg_record({"A": NSG_V2_TUPLES[:1]}, mac="000D3A0000F5")
    out, batch = scanned(refs(blob([rec, other])))
    frame = frame_from_tables([out.table])
    assert frame["mac"].tolist() == ["000D3A0000F9"] * 2 + ["000D3A0000F1"] * 2 + ["000D3A0000F5"]
    assert frame["mac"].cat.categories.tolist() == ["000D3A0000F1", "000D3A0000F5", "000D3A0000F9"]


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: r.pop("macAddress"), id="no-record-mac: the path's"),
    pytest.param(lambda r: r["properties"]["flows"][0]["flows"][0].update(mac="00-0d-3a-00-00-01"), id="dashed-group-mac"),
    pytest.param(lambda r: r["properties"]["flows"][0]["flows"][0].pop("mac"), id="no-group-mac"),
    pytest.param(lambda r: r["properties"].pop("Version"), id="no-version: by field count"),
    pytest.param(lambda r: r["properties"].update(Version=3), id="unknown-version"),
    pytest.param(lambda r: r.update(resourceid=r.pop("resourceId")), id="resourceid-as-documented"),
    pytest.param(lambda r: r["properties"]["flows"][0].update(flows=[]), id="a-rule-without-groups"),
    pytest.param(lambda r: r["properties"]["flows"][0]["flows"][0]["flowTuples"].append(
        NSG_V2_TUPLES[0].replace(",T,", ",t,")), id="lower-case-protocol"),
    pytest.param(lambda r: r["properties"]["flows"][0]["flows"][0]["flowTuples"].append(
        NSG_V2_TUPLES[0].replace(",T,", ",6,")), id="protocol-as-a-number"),
    pytest.param(lambda r: r["properties"]["flows"][0]["flows"][0]["flowTuples"].append(
        NSG_V1_TUPLES[0]), id="a-v1-tuple-in-a-v2-record"),
])
def test_an_nsg_record_out_of_the_common_form_reads_the_same_both_ways(change):
    rec = json.loads(json.dumps(nsg_record({"UserRule_A": NSG_V2_TUPLES[:2], "UserRule_B": NSG_V2_TUPLES[2:]})))
    change(rec)
    out = both(refs(blob([rec])))
    assert out.report.tuples == out.report.rows + out.report.quarantined


def test_nsg_versions_mixed_in_a_batch_go_the_general_path_whole():
    mixed = [(NSG_V2, "nsg-v2"), (NSG_V1, "nsg-v1")]
    items = refs(*(b for b, _ in mixed))
    assert read_native([b for b, _ in items]) is None
    assert both(items).report.formats == {"nsg-v2": 5, "nsg-v1": 3}
    one_blob = blob([nsg_record({"A": NSG_V2_TUPLES}), nsg_record({"A": NSG_V1_TUPLES}, version=1)])
    assert read_native([one_blob]) is None and both(refs(one_blob)).report.rows == 7


def test_the_nsg_sample_reads_the_same_both_ways():
    paths = [p for p in sorted((ROOT / "data-samples" / "nsg-vs-vnet").rglob("PT1H.json"))
             if "networksecuritygroupflowevent" in str(p)]
    out, batch = scanned([(p.read_bytes(), BlobRef(str(p))) for p in paths])
    assert batch.fmt == "nsg2" and out.report.rows == 390


@pytest.mark.parametrize("name, rows", [("nsg-v1_msconnector-sampleOfInputV1.json", 1187),
                                        ("nsg-v2_paloalto-cortex-testdata.json", 23)])
def test_the_conformance_nsg_files_read_the_same_both_ways(name, rows):
    data = (CONFORMANCE / name).read_bytes()
    assert both([(data, BlobRef(name))]).report.rows == rows


@pytest.mark.parametrize("version", [1, 2])
def test_a_synthetic_nsg_corpus_reads_the_same_both_ways(tmp_path, version):
    write_corpus(tmp_path, "nsg", 2_000_000, seed=11, version=version)
    paths = sorted(tmp_path.rglob("PT1H.json"))
    out, batch = scanned([(p.read_bytes(), BlobRef(str(p))) for p in paths])
    assert batch.fmt == f"nsg{version}" and out.report.rows > 15_000


@PROPERTY
@given(data=st.data())
def test_corrupted_or_cut_nsg_blobs_read_the_same_both_ways(data):
    original = data.draw(st.sampled_from([NSG_V2, NSG_V1]))
    out = both(refs(corrupted(data, original, b'0123456789,.:"{}[] \\xABCDEFTUIOADBCE\n\x00\xe9')))
    assert out.report.tuples == out.report.rows + out.report.quarantined


@PROPERTY
@given(data=st.data())
def test_reshaped_nsg_records_read_the_same_both_ways(data):
    rec = json.loads(json.dumps(nsg_record({"A": NSG_V2_TUPLES[:2], "B": NSG_V2_TUPLES[2:]})))
    keys = data.draw(st.permutations(list(rec)))
    rec = {k: rec[k] for k in keys}
    if data.draw(st.booleans()):
        del rec[data.draw(st.sampled_from(sorted(rec)))]
    if data.draw(st.booleans()):
        rec[data.draw(st.sampled_from(["macAddress", "time", "resourceId", "systemId", "x"]))] = \
            data.draw(st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=12)))
    if data.draw(st.booleans()):
        rec["properties"] = {k: rec.get("properties", {}).get(k) for k in data.draw(st.permutations(["flows", "Version"]))}
    indent = data.draw(st.sampled_from([None, 1]))
    raw = json.dumps({"records": [rec, json.loads(NSG_V2)["records"][1]]}, indent=indent,
                     ensure_ascii=data.draw(st.booleans())).encode()
    out = both(refs(raw))
    assert out.report.tuples == out.report.rows + out.report.quarantined
