"""Input errors end with one line on stderr and status 2: bad option values, paths the system refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowkit.cli import main
from tests.blobs import VNET_TUPLES, blob, vnet_record

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"
REPO = SAMPLES.parent
NSG = "insights-logs-networksecuritygroupflowevent"
VNET = "insights-logs-flowlogflowevent"
TIME_HELP = "as a time: give ISO 8601 such as 2024-05-01T10:00Z (UTC unless it has an offset)"


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "logs" / "vnet.json"
    path.parent.mkdir()
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)])]))
    return path


def _fails(capsys, argv: list[str]) -> str:
    """Run ``flowkit ARGV``: status 2, nothing on stdout, one line on stderr; return that line."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err.rstrip("\n")


# -- times -------------------------------------------------------------------------------------

def _with_paths(command: str, log: Path, tmp_path: Path) -> list[str]:
    return {
        "inspect": ["inspect", str(log)],
        "diagnose": ["diagnose", str(log), "--src", "192.0.2.1", "--dst", "192.0.2.2"],
        "encryption": ["encryption", str(log)],
        "compare": ["compare", "--nsg", str(log), "--vnet", str(log)],
        "report": ["report", str(log), "-o", str(tmp_path / "r.html")],
        "convert": ["convert", str(log), str(tmp_path / "ds")],
        "follow": ["follow", "azure://acct/c", "--checkpoint", str(tmp_path / "cp.json")],
    }[command]


@pytest.mark.parametrize("command, option, value", [
    pytest.param(command, option, value, id=f"{command}{option}")
    for command in ("inspect", "diagnose", "encryption", "compare", "report", "convert", "follow")
    for option, value in (("--start", "notatime"), ("--end", "2024-13-45"))
    if (command, option) != ("follow", "--end")  # follow has no --end
])
def test_a_time_that_is_not_one_is_an_input_error(capsys, log, tmp_path, command, option, value):
    err = _fails(capsys, _with_paths(command, log, tmp_path) + [option, value])
    assert err == f"flowkit {command}: error: argument {option}: cannot read {value!r} {TIME_HELP}"
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "ds").exists()


def test_a_bad_time_from_the_api_is_a_flowkit_error_and_a_value_error(log):
    from flowkit import FlowkitError, read_flow_logs
    from flowkit.errors import ArgumentError

    for kwargs in ({"start": "notatime"}, {"end": "2024-13-45"}):
        with pytest.raises(ArgumentError) as caught:
            read_flow_logs(log, **kwargs)
        (name, value), = kwargs.items()
        assert str(caught.value) == f"{name}: cannot read {value!r} {TIME_HELP}"  # the bound is named
        assert isinstance(caught.value, FlowkitError) and isinstance(caught.value, ValueError)


def test_a_blank_time_is_no_bound(log):
    from flowkit import read_flow_logs

    assert len(read_flow_logs(log, start="", end=" ")) == len(read_flow_logs(log)) == len(VNET_TUPLES)


@pytest.mark.parametrize("value", ["banana", "-5min"])
def test_compare_max_skew_must_be_a_duration(capsys, log, value):
    err = _fails(capsys, ["compare", "--nsg", str(log), "--vnet", str(log), f"--max-skew={value}"])
    assert err == (f"flowkit compare: error: argument --max-skew: {value!r} is not a duration of 0 or more "
                   "(give e.g. 2min, 90s or 1h)")


def test_compare_accepts_a_max_skew(capsys):
    path = SAMPLES / "nsg-vs-vnet"
    assert main(["compare", "--nsg", str(path / NSG), "--vnet", str(path / VNET), "--max-skew", "90s",
                 "--json"]) == 0
    assert '"matched": 40' in capsys.readouterr().out


def test_compare_offers_no_inventory(capsys, log):
    # compare_nsg_vnet names no VM: an --inventory would be read by nobody
    err = _fails(capsys, ["compare", "--nsg", str(log), "--vnet", str(log), "--inventory", "/nonexistent"])
    assert err == "flowkit: error: unrecognized arguments: --inventory /nonexistent"


def test_a_refused_argument_is_not_echoed_with_its_secret(capsys, log):
    sas = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=s3cr3t%2Fsig"
    err = _fails(capsys, ["inspect", str(log), "--bogus", sas])
    assert err == "flowkit: error: unrecognized arguments: --bogus https://acct.blob.core.windows.net/c?REDACTED"


# -- other option values -------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    pytest.param(["inspect", "{log}", "--mac", "zz"],
                 "flowkit inspect: error: argument --mac: 'zz' is not a MAC address "
                 "(give 12 hex digits, e.g. 00-0D-3A-00-01-01)", id="inspect-mac"),
    pytest.param(["inspect", "{log}", "--quarantine", "-1"],
                 "flowkit inspect: error: argument --quarantine: '-1' is not a whole number of 0 or more",
                 id="inspect-quarantine"),
    pytest.param(["diagnose", "{log}", "--src", "notanip", "--dst", "192.0.2.2"],
                 "flowkit diagnose: error: argument --src: 'notanip' is not an IP address or CIDR block "
                 "(give e.g. 10.1.0.4 or 10.1.0.0/16)", id="diagnose-src"),
    pytest.param(["diagnose", "{log}", "--src", "192.0.2.1", "--dst", "10.0.0.0/33"],
                 "flowkit diagnose: error: argument --dst: '10.0.0.0/33' is not an IP address or CIDR block "
                 "(give e.g. 10.1.0.4 or 10.1.0.0/16)", id="diagnose-dst-cidr"),
    pytest.param(["diagnose", "{log}", "--src", "192.0.2.1", "--dst", "192.0.2.2", "--port", "70000"],
                 "flowkit diagnose: error: argument --port: '70000' is not a port (give 0 to 65535)",
                 id="diagnose-port-high"),
    pytest.param(["diagnose", "{log}", "--src", "192.0.2.1", "--dst", "192.0.2.2", "--port", "-1"],
                 "flowkit diagnose: error: argument --port: '-1' is not a port (give 0 to 65535)",
                 id="diagnose-port-negative"),
    pytest.param(["report", "{log}", "-o", "{tmp}/r.html", "--max-rows", "-1"],
                 "flowkit report: error: argument --max-rows: '-1' is not a whole number of 0 or more",
                 id="report-max-rows"),
    pytest.param(["report", "{log}", "-o", "{tmp}/r.html", "--src", "192.0.2.300", "--dst", "192.0.2.2"],
                 "flowkit report: error: argument --src: '192.0.2.300' is not an IP address or CIDR block "
                 "(give e.g. 10.1.0.4 or 10.1.0.0/16)", id="report-src"),
    pytest.param(["report", "{log}", "-o", "{tmp}/r.html", "--src", "192.0.2.1", "--dst", "192.0.2.2",
                  "--port", "65536"],
                 "flowkit report: error: argument --port: '65536' is not a port (give 0 to 65535)",
                 id="report-port"),
    pytest.param(["follow", "azure://acct/c", "--checkpoint", "{tmp}/cp.json", "--mac", "00-0D-3A"],
                 "flowkit follow: error: argument --mac: '00-0D-3A' is not a MAC address "
                 "(give 12 hex digits, e.g. 00-0D-3A-00-01-01)", id="follow-mac"),
])
def test_option_values_are_checked(capsys, log, tmp_path, argv, message):
    argv = [a.format(log=log, tmp=tmp_path) for a in argv]
    assert _fails(capsys, argv) == message
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("mac", ["00-0D-3A-00-00-02", "000d3a000002", "00:0d:3a:00:00:02"])
def test_inspect_mac_in_any_form(capsys, log, mac):
    assert main(["inspect", str(log), "--mac", mac, "--json"]) == 0
    assert '"rows": 6' in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--src", "10.0.0.0/24", "--dst", "192.0.2.80", "--port", "443"],
                                  ["--src", "10.0.0.5", "--dst", "192.0.2.80", "--port", "0"]])
def test_diagnose_accepts_cidr_blocks_and_port_zero(capsys, log, args):
    assert main(["diagnose", str(log), *args, "--json"]) == 0
    assert '"verdict"' in capsys.readouterr().out


def test_report_max_rows_zero_shows_no_row_and_keeps_them_all(capsys, log, tmp_path):
    out = tmp_path / "r.md"
    assert main(["report", str(log), "-o", str(out), "--max-rows", "0", "--investigations", "talkers",
                 "--no-figures"]) == 0
    text = out.read_text()
    assert "first 0 shown" in text and "All rows: [" in text


# -- paths the system refuses --------------------------------------------------------------------

def test_report_into_a_folder_named_like_a_file(capsys, log, tmp_path):
    (tmp_path / "outdir").mkdir()
    err = _fails(capsys, ["report", str(log), "-o", str(tmp_path / "outdir"), "--format", "html", "--no-figures"])
    assert err == f"flowkit report: error: cannot write {tmp_path / 'outdir'}: Is a directory"


@pytest.mark.parametrize("name, fmt", [("r.html", []), ("r.md", []), ("r.xlsx", []), ("csvdir", ["--format", "csv"])])
def test_report_under_a_file(capsys, log, tmp_path, name, fmt):
    target = f"{log}/{name}"  # log is a file: nothing can be written under it
    err = _fails(capsys, ["report", str(log), "-o", target, *fmt, "--no-figures"])
    assert err == f"flowkit report: error: cannot write {target}: Not a directory"


def test_report_as_a_csv_folder_over_a_file(capsys, log, tmp_path):
    # a name without a suffix means a CSV folder; an existing file (/dev/full, say) is not one
    existing = tmp_path / "notes"
    existing.write_text("keep me")
    err = _fails(capsys, ["report", str(log), "-o", str(existing), "--no-figures"])
    assert err == (f"flowkit report: error: cannot write {existing}: it is a file, and CSV output is a folder; "
                   "name a .html, .md or .xlsx file, or pass --format")
    assert existing.read_text() == "keep me"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_report_on_a_full_disk(capsys, log):
    err = _fails(capsys, ["report", str(log), "-o", "/dev/full", "--format", "html", "--no-figures"])
    assert err == "flowkit report: error: cannot write /dev/full: No space left on device"


def test_convert_into_a_file(capsys, log):
    err = _fails(capsys, ["convert", str(log), str(log)])
    assert err == f"flowkit convert: error: cannot write {log}: Not a directory"


def test_follow_checkpoint_that_cannot_be_written(capsys, monkeypatch, log):
    import flowkit.sources.azure as azure
    from flowkit.sources.follow import Checkpoint

    class Source:  # a follow that saves its checkpoint where it is told, as the real one does
        def follow(self, *, checkpoint, **kwargs):
            Checkpoint().save(checkpoint)
            return iter(())

    monkeypatch.setattr(azure.AzureBlobSource, "from_url", classmethod(lambda cls, url, **kw: Source()))
    sas = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=s3cr3t%2Fsig"
    err = _fails(capsys, ["follow", sas, "--checkpoint", f"{log}/cp.json", "--once"])
    assert err == f"flowkit follow: error: cannot write {log}/cp.json: Not a directory"


@pytest.mark.parametrize("argv, target", [
    (["report", "{samples}", "-o", "{ro}/r.html", "--no-figures"], "{ro}/r.html"),
    (["report", "{samples}", "-o", "{ro}/r.xlsx"], "{ro}/r.xlsx"),
    (["report", "{samples}", "-o", "{ro}/csv", "--format", "csv"], "{ro}/csv"),
    (["report", "{samples}", "-o", "{ro}/sub/r.md", "--no-figures"], "{ro}/sub/r.md"),
    (["convert", "{samples}", "{ro}/ds"], "{ro}/ds"),
])
def test_a_folder_nothing_may_be_written_in(tmp_path, capsys, argv, target):
    """An immutable folder (``chattr +i``): even root may not create a file in it."""
    ro = tmp_path / "ro"
    ro.mkdir()
    locked = subprocess.run(["chattr", "+i", str(ro)], capture_output=True, text=True)
    assert locked.returncode == 0, f"chattr +i is needed for this test: {locked.stderr}"
    try:
        fill = {"samples": str(SAMPLES / "encryption" / VNET), "ro": str(ro)}
        assert main([a.format(**fill) for a in argv]) == 2
    finally:
        subprocess.run(["chattr", "-i", str(ro)], check=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"flowkit {argv[0]}: error: cannot write {target.format(**fill)}: Operation not permitted\n"


@pytest.mark.parametrize("exc, written, message", [
    pytest.param(PermissionError(13, "Permission denied", "out/.r.html.abc.tmp"), ["out/r.html"],
                 "cannot write out/r.html: Permission denied", id="temporary-twin"),
    pytest.param(PermissionError(13, "Permission denied", "out/r_files"), ["out/r.md"],
                 "cannot write out/r_files: Permission denied", id="files-folder"),
    pytest.param(OSError(28, "No space left on device"), ["/dev/full"],
                 "cannot write /dev/full: No space left on device", id="no-file-name"),
    pytest.param(PermissionError(13, "Permission denied", "elsewhere/x.json"), ["out/r.html"],
                 "cannot access elsewhere/x.json: Permission denied", id="not-the-output"),
    pytest.param(ConnectionResetError(104, "Connection reset by peer"), ["cp.json"],
                 "Connection reset by peer", id="network"),
    pytest.param(PermissionError(13, "Permission denied", "https://a.blob.core.windows.net/c?sv=1&sig=s3cr3t"), [],
                 "cannot access https://a.blob.core.windows.net/c?REDACTED: Permission denied", id="redacted"),
])
def test_os_error_message(exc, written, message):
    from flowkit.cli import os_error_message

    assert os_error_message(exc, written) == message


def test_python_m_flowkit_gives_the_same_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flowkit", "inspect", str(tmp_path), "--start", "notatime"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"flowkit inspect: error: argument --start: cannot read 'notatime' {TIME_HELP}\n"


def test_no_command_prints_the_help_on_stderr_and_exits_2(capsys):
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # `flowkit > x.txt` leaves no help in the file, as any usage error
    assert err.startswith("usage: flowkit [-h] [--version] COMMAND ...") and "diagnose" in err


def test_diagnose_takes_icmp_for_a_ping(capsys):
    samples = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"
    assert main(["diagnose", str(samples), "--src", "10.10.1.4", "--dst", "10.10.3.4", "--protocol", "icmp",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "not-observed"
    assert out["reason"].startswith("No tuple of ICMP traffic from 10.10.1.4 to 10.10.3.4 in the logs.")
