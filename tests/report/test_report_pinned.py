"""The Report object: what it accepts and the counts it gives every writer."""

from __future__ import annotations

import pandas as pd
import pytest

from flowkit.findings import Finding
from flowkit.report import Report

from report_data import CREATED


def test_negative_max_rows_is_refused():
    with pytest.raises(ValueError, match=r"^max_rows must be 0 or more, not -1$"):
        Report(max_rows=-1)


def test_zero_max_rows_shows_no_row_and_counts_them_all():
    f = Finding("t", "ok", evidence={"e": pd.DataFrame({"n": [1, 2, 3]})})
    lines = Report([f], max_rows=0, created=CREATED).to_markdown().splitlines()
    assert "### e (3 row(s), first 0 shown)" in lines
    assert "_3 more row(s) not shown; write the report to a file (or as XLSX) to keep them._" in lines
