"""flowkit encryption pinned: the tables its text shows, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowkit.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


def test_text_shows_states_vm_pairs_never_encrypting_and_trend(capsys):
    path = SAMPLES / "encryption"
    if not (path / "expected.json").is_file():
        pytest.fail("data-samples/encryption is missing: run `make samples`")
    assert main(["encryption", str(path / "insights-logs-flowlogflowevent"),
                 "--inventory", str(path / "nics.csv")]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^(\w+) \((\d+) row\(s\)\):$", out, re.MULTILINE) == [
        ("by_state", "5"), ("vm_pairs", "5"), ("never_encrypting", "1"), ("trend", "2")]
