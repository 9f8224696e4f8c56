"""``flowkit report``: headless investigations written as HTML, Markdown, XLSX or CSV."""

from __future__ import annotations

import re

import pytest

from flowkit.cli import main
from flowkit.report import Anonymizer

from report_data import NSG, VNET, scenario_path
from report_pages import fact, html_findings, xlsx_sheets


def test_connectivity_html(tmp_path, capsys):
    logs = scenario_path("connectivity") / VNET
    out = tmp_path / "findings.html"
    assert main(["report", str(logs), "-o", str(out), "--investigations", "connectivity", "--no-progress",
                 "--src", "10.10.1.4", "--dst", "10.10.3.4", "--port", "1433",
                 "--src", "10.10.1.5", "--dst", "10.10.2.5"]) == 0
    std = capsys.readouterr()
    assert std.out == f"wrote {out}: 3 finding(s) (high 1, medium 1, low 1)\n" and std.err == ""
    found = html_findings(out.read_text())
    assert [(f["title"], f["verdict"]) for f in found] == [
        ("Denied traffic", "retry-storm"), ("Connectivity 10.10.1.4 -> 10.10.3.4 port 1433", "denied"),
        ("Connectivity 10.10.1.5 -> 10.10.2.5 port 1433", "not-observed")]  # one --port for both pairs
    assert found[1]["facts"]["rule"] == "UserRule_DenyWebToSql"


def test_one_port_per_pair_and_formats(tmp_path, capsys):
    logs = scenario_path("connectivity") / VNET
    args = [str(logs), "--investigations", "connectivity", "--no-progress", "--src", "10.10.1.4", "--dst",
            "10.10.3.4", "--src", "10.10.1.5", "--dst", "10.10.2.5", "--port", "1433", "--port", "8080"]
    assert main(["report", *args, "-o", str(tmp_path / "f.xlsx")]) == 0
    sheets = xlsx_sheets(tmp_path / "f.xlsx")
    summary = sheets["Summary"]
    rows = summary[summary.index(["finding", "severity", "verdict", "title", "sheet"]) + 1:]
    assert [(r[2], r[3]) for r in rows] == [("retry-storm", "Denied traffic"),
                                            ("denied", "Connectivity 10.10.1.4 -> 10.10.3.4 port 1433"),
                                            ("no-reply", "Connectivity 10.10.1.5 -> 10.10.2.5 port 8080")]
    assert main(["report", *args, "-o", str(tmp_path / "f.txt"), "--format", "md"]) == 0
    text = (tmp_path / "f.txt").read_text()
    assert "| 3 | medium | `no-reply` | Connectivity 10.10.1.5 -> 10.10.2.5 port 8080 |" in text.splitlines()
    assert main(["report", *args, "-o", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "summary.csv").is_file()


def test_compare_with_nsg_and_vnet(tmp_path, capsys):
    path = scenario_path("nsg-vs-vnet")
    out = tmp_path / "c.html"
    assert main(["report", "--nsg", str(path / NSG), "--vnet", str(path / VNET), "-o", str(out),
                 "--no-progress", "--no-figures"]) == 0
    found = {f["title"]: f for f in html_findings(out.read_text())}
    assert list(found) == ["Denied traffic", "NSG vs VNet flow logs: migration readiness", "VNet encryption audit",
                           "Top talkers (by ip)"]
    compare = found["NSG vs VNet flow logs: migration readiness"]
    assert compare["verdict"] == "ready"
    assert {k: fact(compare["facts"][k]) for k in ("matched", "nsg_only", "vnet_only", "decision_mismatch")} == {
        "matched": 40, "nsg_only": 1, "vnet_only": 8, "decision_mismatch": 10}
    assert "<img" not in out.read_text()


def test_anonymize_with_env_key(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLOWKIT_ANON_KEY", "env-key-123456")
    path = scenario_path("connectivity")
    out = tmp_path / "a.html"
    assert main(["report", str(path / VNET), "-o", str(out), "--anonymize", "--no-progress", "--inventory",
                 str(path / "nics.csv"), "--src", "10.10.1.4", "--dst", "10.10.3.4", "--port", "1433"]) == 0
    std = capsys.readouterr()
    assert std.err == "" and "env-key-123456" not in std.out
    page = out.read_text()
    assert "env-key-123456" not in page
    for original in ("10.10.1.4", "10.10.3.4", "000D3A000101", "web-01", "db-01", "nsg-snet-data"):
        assert not re.search(rf"(?<![\d.\w-]){re.escape(original)}(?![\d\w-])", page, re.IGNORECASE), original
    anon = Anonymizer("env-key-123456")
    titles = [f["title"] for f in html_findings(page)]
    assert f"Connectivity {anon.ip('10.10.1.4')} -> {anon.ip('10.10.3.4')} port 1433" in titles


def test_anonymize_random_key_on_stderr_only(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FLOWKIT_ANON_KEY", raising=False)
    out = tmp_path / "a.md"
    assert main(["report", str(scenario_path("encryption") / VNET), "-o", str(out), "--anonymize",
                 "--investigations", "encryption", "--no-progress"]) == 0
    err = capsys.readouterr().err
    key = re.search(r"--anonymize-key ([0-9a-f]{32})", err).group(1)
    text = out.read_text() + "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "a_files").iterdir())
    assert key not in text and "000D3A000404" not in text
    assert Anonymizer(key).mac("000D3A000404") in text


def test_progress_bar_on_request(tmp_path, capsys):
    assert main(["report", str(scenario_path("encryption") / VNET), "-o", str(tmp_path / "p.html"),
                 "--investigations", "encryption", "--progress", "--no-figures"]) == 0
    err = capsys.readouterr().err
    assert "flowkit: reading" in err and "flowkit: investigating" in err


@pytest.mark.parametrize("argv, message", [
    pytest.param(["--src", "192.0.2.1"], "give as many --dst as --src (1 --src, 0 --dst)", id="unpaired"),
    pytest.param(["--investigations", "connectivity,graph"], "unknown investigation(s) graph", id="unknown"),
    pytest.param(["--format", "md", "--src", "192.0.2.1", "--dst", "192.0.2.2", "--port", "1", "--port", "2",
                  "--port", "3"], "give one --port for all pairs or one per pair (3 for 1)", id="ports"),
])
def test_errors(tmp_path, capsys, argv, message):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "x.html"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_no_paths(tmp_path, capsys):
    assert main(["report", "-o", str(tmp_path / "x.html")]) == 2
    assert "give at least one PATH" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".html", ".md", ".xlsx"])
def test_talkers_of_logs_without_counters_say_so(tmp_path, capsys, suffix):
    """NSG v1 logs give no byte counts: the talkers finding says so instead of failing."""
    from tests.blobs import NSG_V1_TUPLES, blob, nsg_record

    logs = tmp_path / "v1.json"
    logs.write_bytes(blob([nsg_record({"UserRule_A": NSG_V1_TUPLES}, version=1)]))
    out = tmp_path / f"findings{suffix}"
    assert main(["report", str(logs), "-o", str(out), "--investigations", "talkers", "--no-progress",
                 "--no-figures"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: ")
    if suffix == ".html":
        (found,) = html_findings(out.read_text())
        assert "the logs give no byte counts (NSG v1, or NSG v2 flows seen only beginning)" in found["summary"]
