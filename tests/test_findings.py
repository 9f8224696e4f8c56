"""Finding: validation, JSON export, self-rendering with every text escaped."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from flowkit.findings import SEVERITIES, Finding, json_safe


def _finding(**kw) -> Finding:
    base = dict(
        title="<script>alert(1)</script> web-01 -> db-01",
        verdict="denied",
        severity="high",
        summary="Blocked by rule <b>UserRule_Deny&Sql</b>.",
        evidence={"rows": pd.DataFrame({"rule": ["<img src=x onerror=alert(1)>", "ok"],
                                        "n": [1, 2],
                                        "t": pd.to_datetime(["2024-05-01T10:00Z", None], utc=True)})},
        facts={"verdict": "denied", "count": np.int64(3), "share": np.float64(0.5), "none": float("nan"),
               "when": pd.Timestamp("2024-05-01T10:00Z"), "macs": ["000D3A000101"], "<k>": "<v>"},
        notes=["Note with <tags> & ampersands."],
    )
    base.update(kw)
    return Finding(**base)


def test_severity_is_checked():
    assert SEVERITIES == ("info", "low", "medium", "high", "critical")
    with pytest.raises(ValueError):
        Finding("t", "ok", severity="urgent")


def test_to_dict_is_json_ready():
    d = _finding().to_dict()
    text = json.dumps(d)
    assert d["facts"] == {"verdict": "denied", "count": 3, "share": 0.5, "none": None,
                          "when": "2024-05-01T10:00:00Z", "macs": ["000D3A000101"], "<k>": "<v>"}
    assert d["evidence"]["rows"] == {"columns": ["rule", "n", "t"], "rows": 2, "records": [
        {"rule": "<img src=x onerror=alert(1)>", "n": 1, "t": "2024-05-01T10:00:00Z"},
        {"rule": "ok", "n": 2, "t": None}]}
    assert d["figures"] == [] and "NaN" not in text
    assert _finding().to_dict(max_rows=1)["evidence"]["rows"]["rows"] == 2
    assert len(_finding().to_dict(max_rows=1)["evidence"]["rows"]["records"]) == 1


def test_html_escapes_every_text():
    html = _finding()._repr_html_()
    for raw in ("<script>", "<img", "<b>UserRule", "<tags>", "<k>", "<v>"):
        assert raw not in html
    for escaped in ("&lt;script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;b&gt;UserRule_Deny&amp;Sql",
                    "&lt;tags&gt; &amp; ampersands", "&lt;k&gt;"):
        assert escaped in html
    assert "2024-05-01T10:00:00Z" in html


def test_html_truncates_long_tables():
    big = pd.DataFrame({"i": range(50)})
    html = _finding(evidence={"big": big}, facts={})._repr_html_()
    assert html.count("<tr>") == 21  # header + 20 rows
    assert "30 more row(s)" in html


def test_figures_png_and_matplotlib():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    f = _finding(figures={"line": fig, "raw": b"\x89PNG fake"})
    png = f.figure_png("line")
    assert png.startswith(b"\x89PNG")
    assert f.figure_png("raw") == b"\x89PNG fake"
    html = f._repr_html_()
    assert html.count("data:image/png;base64,") == 2
    d = f.to_dict(figures=True)
    assert base64.b64decode(d["figures"]["line"]).startswith(b"\x89PNG")
    assert f.to_dict()["figures"] == ["line", "raw"]


def test_str_and_json_safe():
    assert str(Finding("t", "ok", summary="fine")) == "[info] t: ok. fine"
    assert json_safe({1: {np.bool_(True), False}, "td": pd.Timedelta("90s"), "na": pd.NA}) == \
        {"1": [False, True], "td": 90.0, "na": None}
