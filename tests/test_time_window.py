"""A window whose start is not before its end keeps nothing: every entry point refuses it,
with one message, instead of returning an empty result that looks like "no traffic"."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowkit
from flowkit.errors import ArgumentError
from flowkit.report.investigations import investigate
from flowkit.sources.layout import to_window

SAMPLES = Path(__file__).resolve().parents[1] / "data-samples"
LATE, EARLY = "2024-05-01T12:00Z", "2024-05-01T10:00Z"
MESSAGE = ("empty time window: start 2024-05-01T12:00:00+00:00 is not before end 2024-05-01T10:00:00+00:00 "
           "(rows are kept when start <= flow_time < end)")


@pytest.fixture(scope="module")
def flows():
    return flowkit.read_flow_logs(SAMPLES / "nsg-vs-vnet")


@pytest.mark.parametrize("call", [
    pytest.param(lambda f: flowkit.read_flow_logs(SAMPLES / "nsg-vs-vnet", start=LATE, end=EARLY), id="read"),
    pytest.param(lambda f: flowkit.filter_flows(f, start=LATE, end=EARLY), id="filter_flows"),
    pytest.param(lambda f: flowkit.compare_nsg_vnet(f, start=LATE, end=EARLY, figures=False), id="compare"),
    pytest.param(lambda f: flowkit.compare_nsg_vnet_dask(f, start=LATE, end=EARLY, figures=False), id="compare-dask"),
    pytest.param(lambda f: flowkit.read_flow_logs(SAMPLES / "nsg-vs-vnet", start=LATE, end=EARLY, engine="dask"),
                 id="read-dask"),
    pytest.param(lambda f: flowkit.load_report_dask(SAMPLES / "nsg-vs-vnet", start=LATE, end=EARLY), id="report-dask"),
    pytest.param(lambda f: flowkit.nsg_vnet_keys_dask(f, start=LATE, end=EARLY), id="keys-dask"),
    pytest.param(lambda f: investigate(f, ["talkers"], start=LATE, end=EARLY), id="investigate"),
    pytest.param(lambda f: flowkit.Report(start=LATE, end=EARLY), id="report"),
])
def test_start_after_end_is_refused(flows, call) -> None:
    with pytest.raises(ArgumentError) as error:
        call(flows)
    assert str(error.value).endswith(MESSAGE)


def test_start_equal_to_end_is_refused_and_a_one_millisecond_window_is_not() -> None:
    with pytest.raises(ArgumentError, match="^empty time window: start 2024-05-01T10:00:00"):
        to_window(EARLY, EARLY)
    lo, hi = to_window(EARLY, "2024-05-01T10:00:00.001Z")
    assert (hi - lo).total_seconds() == 0.001
    assert to_window(None, EARLY)[0] is None and to_window(LATE, None)[1] is None


def test_convert_and_the_dataset_read_refuse_it(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="^empty time window"):
        flowkit.convert(SAMPLES / "encryption", tmp_path / "ds", start=LATE, end=EARLY)
    assert not (tmp_path / "ds").exists()  # refused before the folder is made
    flowkit.convert(SAMPLES / "encryption", tmp_path / "ds")
    with pytest.raises(ArgumentError, match="^empty time window"):
        flowkit.read_flow_logs(tmp_path / "ds", start=LATE, end=EARLY)


@pytest.mark.parametrize("command", ["inspect", "diagnose", "encryption", "inspect --dask"])
def test_the_command_line_says_so_and_exits_2(command: str, capsys) -> None:
    from flowkit.cli import main

    command, *extra = command.split()
    argv = [command, str(SAMPLES / "nsg-vs-vnet"), "--start", LATE, "--end", EARLY, *extra]
    if command == "diagnose":
        argv += ["--src", "192.0.2.10", "--dst", "198.51.100.10"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowkit {command}: error: ") and MESSAGE in err


def test_the_command_line_refuses_a_date_that_reads_as_two_days(capsys) -> None:
    from flowkit.cli import main

    assert main(["inspect", str(SAMPLES / "nsg-vs-vnet"), "--start", "01/05/2024"]) == 2
    err = capsys.readouterr().err
    assert "'01/05/2024' could be 2024-01-05 or 2024-05-01: write the date year first" in err
