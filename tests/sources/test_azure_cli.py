"""``flowkit follow`` against a real Azurite."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from flowkit.cli import main as cli_main
from flowkit.sources.layout import VNET_CONTAINER

from conftest import ACCOUNT, KEY, REPO, read_list_sas
from test_azure_follow import GrowingBlob, _blob_name, _hour, _records


def test_follow_once_json_then_lines_carry_on(azurite, service, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000111"), _records(hour, "000D3A000111", 5))
    cp = tmp_path / "cp.json"
    args = ["follow", f"azure://{ACCOUNT}", "--log-type", "vnet", "--checkpoint", str(cp),
            "--start", hour.isoformat()]
    for _ in range(3):
        blob.add()
    assert cli_main(args + ["--once", "--json"]) == 0
    polls = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(polls) == 1 and polls[0]["rows"] == 6 and len(polls[0]["flows"]) == 6
    assert polls[0]["flows"][0]["mac"] == "000D3A000111"
    blob.add()
    # a new OS process carries on from the checkpoint file
    done = subprocess.run([sys.executable, "-m", "flowkit", *args, "--max-polls", "2", "--interval", "0"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and "+2 row(s)" in lines[0] and "+0 row(s)" in lines[1]
    assert KEY not in done.stdout + done.stderr
    out = cp.read_text()
    assert KEY not in out and "AccountKey" not in out


def test_follow_with_a_sas_url(azurite, service, tmp_path, capsys):
    hour = _hour()
    blob = GrowingBlob(service, VNET_CONTAINER, _blob_name(hour, "000D3A000112"), _records(hour, "000D3A000112", 2))
    blob.add()
    sas = read_list_sas(VNET_CONTAINER)
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"
    assert cli_main(["follow", url, "--checkpoint", str(tmp_path / "c.json"), "--once", "--json",
                     "--start", (hour - pd.Timedelta(hours=1)).isoformat(), "--log-type", "vnet"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["rows"] == 2
    assert "sig=" not in out.out + out.err and "sig=" not in (tmp_path / "c.json").read_text()
