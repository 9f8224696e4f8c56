"""``flowkit follow --json``: the rows of a poll keep the times the frame holds."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import flowkit
import flowkit.sources.azure as azure
from flowkit.cli import main
from flowkit.sources.follow_state import FollowBatch
from tests.blobs import T0_MS, blob, vnet_record

TUPLES = [  # 10:00:01.500 and 10:00:02 (whole seconds), epoch milliseconds
    f"{T0_MS + 1500},192.0.2.1,198.51.100.2,40000,443,6,O,B,NX,0,0,0,0",
    f"{T0_MS + 2000},192.0.2.1,203.0.113.3,40001,443,6,O,B,NX,0,0,0,0",
]


def _follow_json(tmp_path, monkeypatch, capsys, frame: pd.DataFrame, report) -> dict:
    class Source:  # one poll, as AzureBlobSource.follow yields it
        def follow(self, **kwargs):
            yield FollowBatch(frame=frame, report=report, polled_at=pd.Timestamp("2024-05-01T10:05:00Z"))

    monkeypatch.setattr(azure.AzureBlobSource, "from_url", classmethod(lambda cls, url, **kw: Source()))
    assert main(["follow", "azure://acct/c", "--checkpoint", str(tmp_path / "cp.json"), "--once", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_follow_json_keeps_the_seven_digits_of_record_time(tmp_path, monkeypatch, capsys):
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", TUPLES)], time="2024-05-01T10:00:50.1234567Z")]))
    frame, report = flowkit.read_flow_logs(path, with_report=True)
    out = _follow_json(tmp_path, monkeypatch, capsys, frame, report)
    times = [(row["flow_time"], row["record_time"]) for row in out["flows"]]
    # as `flowkit inspect --json` writes times: as precise as the value (record_time 100 ns ticks, in 9 digits)
    assert times == [("2024-05-01T10:00:01.500Z", "2024-05-01T10:00:50.123456700Z"),
                     ("2024-05-01T10:00:02Z", "2024-05-01T10:00:50.123456700Z")]
    assert (out["report"]["start"], out["report"]["end"]) == ("2024-05-01T10:00:01.500Z", "2024-05-01T10:00:02Z")
    assert pd.Timestamp(times[0][1]) == frame["record_time"].iloc[0]


def test_follow_json_of_missing_times_and_an_empty_poll(tmp_path, monkeypatch, capsys):
    frame = pd.DataFrame({"record_time": pd.to_datetime(["2024-05-01T10:00:50.0000001Z", None], utc=True,
                                                        format="ISO8601"),
                          "n": [1, 2]})
    out = _follow_json(tmp_path, monkeypatch, capsys, frame, flowkit.LoadReport())
    assert out["flows"] == [{"record_time": "2024-05-01T10:00:50.000000100Z", "n": 1},
                            {"record_time": None, "n": 2}]
    empty = _follow_json(tmp_path, monkeypatch, capsys, frame.iloc[:0], flowkit.LoadReport())
    assert (empty["rows"], empty["flows"]) == (0, [])


def test_iso_times_writes_each_time_as_precise_as_it_is_and_a_naive_time_as_utc():
    from flowkit.cli.follow import _iso_times

    naive = pd.Series(pd.to_datetime(["2024-05-01T10:00:00", "2024-05-01T10:00:00.5", "2024-05-01T10:00:00.123456",
                                      "2024-05-01T10:00:00.1234567", None], format="ISO8601"))
    assert _iso_times(naive).tolist() == ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.500Z",
                                          "2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.123456700Z", None]
    paris = naive.dt.tz_localize("Europe/Paris")  # 10:00 in Paris in May is 08:00 UTC
    assert _iso_times(paris).tolist()[:3] == ["2024-05-01T08:00:00Z", "2024-05-01T08:00:00.500Z",
                                              "2024-05-01T08:00:00.123456Z"]


@pytest.mark.parametrize("option, value, message", [
    pytest.param("--interval", "inf", "'inf' is not a number of seconds from 0 to 1e9 (give e.g. 60 or 0.5)",
                 id="interval-inf"),  # time.sleep(inf): OverflowError, a traceback after the first poll
    pytest.param("--interval", "-5", "'-5' is not a number of seconds from 0 to 1e9 (give e.g. 60 or 0.5)",
                 id="interval-negative"),  # polled without a pause
    pytest.param("--max-outage", "nan", "'nan' is not a number of seconds from 0 to 1e9 (give e.g. 60 or 0.5)",
                 id="max-outage-nan"),  # never gave up
    pytest.param("--max-polls", "0", "'0' is not a whole number of 1 or more", id="max-polls-zero"),
    pytest.param("--max-polls", "-1", "'-1' is not a whole number of 1 or more", id="max-polls-negative"),
])
def test_follow_refuses_pauses_and_poll_counts_it_cannot_keep(tmp_path, capsys, option, value, message):
    # argparse refuses before any address is looked at (127.0.0.1:9: nothing listens there)
    argv = ["follow", "http://127.0.0.1:9/devstoreaccount1/c", "--checkpoint", str(tmp_path / "cp.json"),
            option, value]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"flowkit follow: error: argument {option}: {message}\n")
    assert not (tmp_path / "cp.json").exists()
