"""Markdown links to the files beside the report stay links whatever the report is called."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pandas as pd
import pytest

from flowkit.findings import Finding
from flowkit.report import Report

from report_data import CREATED

#: A CommonMark inline link whose destination is not in <…>: no space, control or parenthesis in it.
LINK = re.compile(r"\[([^\]]*)\]\(([^\s()<>\x00-\x1f]+)\)")


def _report() -> Report:
    rows = pd.DataFrame({"src_ip": ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "flows": [3, 2, 1]})
    return Report([Finding("Top talkers", "ok", evidence={"by flows": rows})], created=CREATED, max_rows=1)


@pytest.mark.parametrize("name, files_link", [
    pytest.param("my report.md", "my%20report_files", id="space"),
    pytest.param("a (1) & b%.md", "a%20%281%29%20%26%20b%25_files", id="parentheses-ampersand-percent"),
    pytest.param("findings.md", "findings_files", id="plain-unchanged"),
    pytest.param("rapport-été.md", "rapport-été_files", id="non-ascii-unchanged"),
])
def test_links_to_the_files_folder(tmp_path, name, files_link):
    out = _report().write(tmp_path / name)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert f"All rows: [01-top-talkers-by-flows.csv]({files_link}/01-top-talkers-by-flows.csv)" in lines
    links = [m for line in lines for m in LINK.findall(line)]
    assert links == [("01-top-talkers-by-flows.csv", f"{files_link}/01-top-talkers-by-flows.csv")]
    for _, dest in links:  # each link, decoded as a reader decodes it, names the file written
        assert (out.parent / unquote(dest)).is_file()


def test_a_markdown_renderer_reads_the_link(tmp_path):
    mistune = pytest.importorskip("mistune")
    out = _report().write(tmp_path / "my report.md")
    html = mistune.html(out.read_text(encoding="utf-8"))
    assert '<a href="my%20report_files/01-top-talkers-by-flows.csv">' in html
