"""decode_blob: the time window's bounds, the load report's accounting, and record-level values
attached to the right rows (pinned by mutation testing)."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.errors import QuarantineError
from flowkit.formats.decode import decode_blob
from flowkit.sources.base import BlobRef
from flowkit.read import decode_to_frame
from tests.blobs import NSG_V1_TUPLES, NSG_V2_TUPLES, T0_MS, VNET_TUPLES, blob, nsg_record, vnet_record


def vnet_ms(*offsets: int) -> bytes:
    """One VNet record with a tuple at T0 + each offset (ms); the source port tells the tuples apart."""
    tuples = [f"{T0_MS + d},10.0.0.5,192.0.2.80,{50000 + k},443,6,O,C,X,1,1,1,1" for k, d in enumerate(offsets)]
    return blob([vnet_record([("a", "r", tuples)])])


def at(ms: int, us: int = 0) -> pd.Timestamp:
    return pd.Timestamp(T0_MS + ms, unit="ms", tz="UTC") + pd.Timedelta(us, "us")


@pytest.mark.parametrize("start, end, kept", [
    pytest.param(at(1), None, [1, 2], id="start-inclusive"),
    pytest.param(None, at(1), [0], id="end-exclusive"),
    pytest.param(at(1), at(2), [1], id="one-millisecond"),
    pytest.param(at(1), at(1), [], id="empty-window"),
    pytest.param(at(1, 500), None, [2], id="start-between-milliseconds"),
    pytest.param(None, at(1, 500), [0, 1], id="end-between-milliseconds"),
    pytest.param(at(0, 1), at(2, 1), [1, 2], id="both-a-microsecond-past"),
])
def test_time_window_keeps_start_le_flow_time_lt_end(start, end, kept):
    out = decode_blob(vnet_ms(0, 1, 2), BlobRef("w.json"), start=start, end=end)
    assert [p - 50000 for p in out.table.column("src_port").to_pylist()] == kept
    r = out.report
    assert (r.tuples, r.rows, r.filtered_out, r.quarantined) == (3, len(kept), 3 - len(kept), 0) and r.consistent
    assert (r.start, r.end) == ((at(kept[0]), at(kept[-1])) if kept else (None, None))


def test_mac_filter_drops_rows_that_have_no_mac():
    with_mac = vnet_record([("a", "r", VNET_TUPLES[:2])], mac="000D3A000002")
    without = vnet_record([("a", "r", VNET_TUPLES[2:3])])
    del without["macAddress"]
    out = decode_blob(blob([with_mac, without]), BlobRef("m.json"), mac="00-0d-3a-00-00-02")
    assert out.table.column("mac").to_pylist() == ["000D3A000002"] * 2
    assert (out.report.rows, out.report.filtered_out, out.report.tuples) == (2, 1, 3)
    out = decode_blob(blob([with_mac, without]), BlobRef("m.json"))
    assert out.table.column("mac").to_pylist() == ["000D3A000002"] * 2 + [None]


def test_an_nsg_group_mac_wins_over_its_record_mac():
    first = nsg_record({"R": NSG_V1_TUPLES[:1]}, version=1, mac="000d3a000002")  # group MAC, lower case
    first["macAddress"] = "000D3A000001"
    second = nsg_record({"S": NSG_V1_TUPLES[1:]}, version=1, mac="000D3A000001")  # the first record's MAC
    second["macAddress"] = "000D3A0000AA"
    out = decode_blob(blob([first, second]), BlobRef("g.json"))
    assert out.table.column("mac").to_pylist() == ["000D3A000002", "000D3A000001", "000D3A000001"]
    assert out.table.column("rule").to_pylist() == ["R", "S", "S"] and not out.report.problems


def test_a_window_that_misses_the_only_row_drops_it():
    out = decode_blob(vnet_ms(0), BlobRef("one.json"), start=at(1))
    assert out.table.num_rows == 0 and (out.report.filtered_out, out.report.rows) == (1, 0)
    out = decode_blob(vnet_ms(5), BlobRef("one.json"), end=at(5))
    assert out.table.num_rows == 0 and out.report.filtered_out == 1


def test_damaged_records_count_as_records_seen():
    good = [vnet_record([("a", "r", VNET_TUPLES[:2])]), vnet_record([("a", "r", VNET_TUPLES[2:4])])]
    whole = blob(good + [vnet_record([("a", "r", VNET_TUPLES[4:])])])
    cut = whole[:whole.index(VNET_TUPLES[5].encode()) + len(VNET_TUPLES[5]) + 1]  # the third record cut short
    r = decode_blob(cut, BlobRef("c.json")).report
    assert (r.records, r.tuples, r.rows, r.quarantined) == (3, 6, 4, 2) and r.consistent
    assert r.reasons == {"truncated-record": 2} and [p.reason for p in r.problems] == ["truncated-record"]


def test_a_vnet_record_that_also_holds_nsg_flows_quarantines_the_nsg_tuples_as_misplaced():
    # read as a VNet record (flowRecords wins); its NSG tuples are neither rows nor lost
    rec = vnet_record([("acl", "r", VNET_TUPLES[:1])])
    rec["properties"] = nsg_record({"A": NSG_V2_TUPLES[:2]})["properties"]
    frame, report = decode_to_frame(blob([rec]), "both.json")
    assert (report.tuples, report.rows, report.quarantined) == (3, 1, 2) and report.consistent
    assert report.quarantine[["reason", "raw"]].values.tolist() == [["misplaced-tuples", t] for t in NSG_V2_TUPLES[:2]]
    assert frame["log_type"].astype(str).tolist() == ["vnet"]


FAKE_KEY = "Zm9vYmFyZm9vYmFyZm9vYmFy"  # base64 of "foobar" x3: the shape of a key, no real one


@pytest.mark.parametrize("data, detail", [
    pytest.param(b'"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=' + FAKE_KEY.encode() + b'"',
                 'byte 0: JSON holding only a string ("DefaultEndpointsProtocol=https;AccountName=acct;'
                 'AccountKey=REDACTED), where flow-log records should be', id="a JSON string"),
    pytest.param(b"AccountName=acct;AccountKey=" + FAKE_KEY.encode(),
                 "byte 0: AccountName=acct;AccountKey=REDACTED", id="not JSON"),
])
def test_a_file_holding_a_connection_string_never_puts_its_key_in_the_load_report(data, detail):
    """A damaged file's excerpt is the file's own text: the load report (shown in notebooks, stored
    with the quarantine) and strict mode's error mask an account key in it."""
    r = decode_blob(data, BlobRef("PT1H.json")).report
    assert [p.detail for p in r.problems] == [detail]
    with pytest.raises(QuarantineError) as info:
        decode_blob(data, BlobRef("PT1H.json"), strict=True)
    assert FAKE_KEY not in str(info.value) and "REDACTED" in str(info.value)
