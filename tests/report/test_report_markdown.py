"""Markdown for tickets: summary, findings, escaped text, full tables and figures beside."""

from __future__ import annotations

import re

import pandas as pd

from flowkit.findings import Finding
from flowkit.report import Report
from flowkit.report.markdown import md_escape, md_table

from report_data import CREATED, JS_URL, SCRIPT


def test_scenario_markdown(scenario_reports, tmp_path):
    report, expected = scenario_reports["nsg-vs-vnet"]
    out = report.write(tmp_path / "findings.md")
    text = out.read_text()
    lines = text.splitlines()
    assert lines[0] == "# nsg\\-vs\\-vnet" or lines[0] == "# nsg-vs-vnet"
    assert "| 0 | 0 | 0 | 1 | 0 |" in lines  # critical high medium low info
    assert "| 1 | low | `ready` | NSG vs VNet flow logs: migration readiness |" in lines
    assert "| matched | 40 |" in lines and "| nsg\\_only | 1 |" in lines
    assert "### keys (57 row(s), first 50 shown)" in lines
    files = tmp_path / "findings_files"
    keys = pd.read_csv(files / "01-nsg-vs-vnet-flow-logs-migratio-keys.csv", encoding="utf-8-sig")
    assert len(keys) == expected["totals"]["keys"] == 57
    assert "All rows: [01-nsg-vs-vnet-flow-logs-migratio-keys.csv](findings_files/01-nsg-vs-vnet-flow-logs-migratio-keys.csv)" in lines
    assert ("![NSG vs VNet coverage per hour. Axes: hour (UTC), flow keys (by first hour), VNet coverage of NSG "
            "keys (%). Legend: matched, NSG only, VNet only, coverage %. Its numbers are in the table coverage\\_by\\_hour.]"
            "(findings_files/01-nsg-vs-vnet-flow-logs-migratio-coverage.png)") in lines
    assert (files / "01-nsg-vs-vnet-flow-logs-migratio-coverage.png").read_bytes().startswith(b"\x89PNG")
    assert "- time window: 2024\\-05\\-01" not in text  # dates are not list markers: not escaped
    assert "### Load report 1" in lines
    t = expected["totals"]
    assert (f"{t['files']} file(s) (0 skipped by their path: hour, MAC, log type), {t['records']} record(s), "
            f"{t['tuples']} tuple(s): {t['tuples']} row(s), 0 quarantined, 0 not selected.") in lines


def test_markdown_escapes_hostile_text():
    evidence = pd.DataFrame({"rule": [SCRIPT, "a|b", "[x](javascript:alert(1))"]})
    f = Finding(title=f"{SCRIPT} [click]({JS_URL})", verdict="a`b|c", severity="high", summary="# not a heading",
                evidence={"rules": evidence})
    text = Report([f], created=CREATED).to_markdown()
    assert "<script" not in text and not re.search(r"(?<!\\)\]\(", text)  # no live link
    assert "&lt;script>window.\\_\\_pwned=1&lt;/script>" in text
    assert "| a\\|b |" in text and "`a'b\\|c`" in text
    assert "\n\\# not a heading\n" in text


def test_md_table_and_escape():
    assert md_table(pd.DataFrame({"n": [1, 2], "s": ["x", None]}), 1) == "| n | s |\n|---:|---|\n| 1 | x |"
    assert md_escape("x" * 250, 200).endswith(" … (50 more characters)")
