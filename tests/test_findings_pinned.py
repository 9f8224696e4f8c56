"""Finding pinned: the exact HTML a notebook shows, the exact JSON export, json_safe's edge cases."""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pytest

import flowkit.findings as findings
from flowkit.findings import Finding, json_safe


def _small() -> Finding:
    return Finding(title="T <1>", verdict="ok", severity="low", summary="S & s", notes=["n"],
                   facts={"k": 1, "l": [1, 2], "z": None}, evidence={"e": pd.DataFrame({"a": ["x"]}, index=[7])},
                   figures={"f": b"PNG"})


def test_html_of_a_small_finding_exactly():
    assert _small()._repr_html_() == (
        "<div class='flowkit-finding' style='border-left:4px solid #5b8c5a;padding:4px 10px;margin:4px 0'>"
        "<h4 style='margin:2px 0'>T &lt;1&gt;</h4>"
        "<p style='margin:2px 0'><span style='background:#5b8c5a;color:white;padding:1px 6px;"
        "border-radius:3px'>low</span> <b>verdict:</b> <code>ok</code></p>"
        "<p style='margin:4px 0'>S &amp; s</p>"
        "<p style='margin:2px 0;color:#555'><i>n</i></p>"
        "<details><summary>facts</summary><table>"
        "<tr><th style='text-align:left'>k</th><td>1</td></tr>"
        "<tr><th style='text-align:left'>l</th><td>[1, 2]</td></tr>"
        "<tr><th style='text-align:left'>z</th><td></td></tr></table></details>"
        "<details open><summary><b>e</b> (1 row(s))</summary><table class='flowkit-evidence'>"
        "<thead><tr><th>a</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table></details>"
        "<figure style='margin:4px 0'><img alt='Figure &#x27;f&#x27; of T &lt;1&gt;.' "
        "src='data:image/png;base64,UE5H'/>"
        "<figcaption>f</figcaption></figure>"
        "</div>")


def test_html_says_how_many_rows_are_left_out_only_when_some_are():
    two = pd.DataFrame({"a": ["x", "y"]})
    assert findings._table_html("e", two, 1).endswith(
        "<tbody><tr><td>x</td></tr></tbody></table>"
        "<p style='margin:2px 0;color:#666'>1 more row(s) in <code>evidence[&#x27;e&#x27;]</code></p></details>")
    assert "more row(s)" not in findings._table_html("e", two, 2)
    exactly = pd.DataFrame({"i": range(findings.HTML_MAX_ROWS)})
    html = Finding("t", "ok", evidence={"all": exactly})._repr_html_()
    assert "more row(s)" not in html and html.count("<tr>") == findings.HTML_MAX_ROWS + 1


@pytest.mark.parametrize("severity, colour", [
    pytest.param("info", "#4a6fa5", id="info"), pytest.param("low", "#5b8c5a", id="low"),
    pytest.param("medium", "#c98a00", id="medium"), pytest.param("high", "#c0392b", id="high"),
    pytest.param("critical", "#7b1e1e", id="critical")])
def test_every_severity_renders_in_its_colour(severity, colour):
    html = Finding("t", "ok", severity=severity)._repr_html_()
    assert html.startswith(f"<div class='flowkit-finding' style='border-left:4px solid {colour};")
    assert f"<span style='background:{colour};" in html


def test_to_dict_of_a_small_finding_exactly():
    assert _small().to_dict() == {
        "title": "T <1>", "verdict": "ok", "severity": "low", "summary": "S & s",
        "facts": {"k": 1, "l": [1, 2], "z": None}, "notes": ["n"],
        "evidence": {"e": {"columns": ["a"], "rows": 1, "records": [{"a": "x"}]}}, "figures": ["f"]}
    assert list(_small().to_dict()) == ["title", "verdict", "severity", "summary", "facts", "notes",
                                        "evidence", "figures"]


def test_a_bad_severity_is_named_in_the_error():
    with pytest.raises(ValueError) as info:
        Finding("t", "ok", severity="urgent")
    assert str(info.value) == ("severity must be one of ('info', 'low', 'medium', 'high', 'critical'), "
                               "not 'urgent'")


def test_json_safe_keeps_list_order_and_sorts_sets():
    assert json_safe(["b", "a", "c"]) == ["b", "a", "c"]
    assert json_safe(("b", "a")) == ["b", "a"]
    assert json_safe({"b", "c", "a"}) == ["a", "b", "c"]
    assert json_safe(frozenset({"203.0.113.2", "192.0.2.1"})) == ["192.0.2.1", "203.0.113.2"]


def test_json_safe_gives_text_for_other_objects_and_none_for_their_missing_values():
    assert json_safe(ipaddress.ip_address("192.0.2.1")) == "192.0.2.1"
    assert json_safe(np.datetime64("NaT")) is None
    assert json_safe(np.str_("2001:db8::1")) == "2001:db8::1"


def test_star_import_gives_the_public_names():
    names: dict = {}
    exec("from flowkit.findings import *", names)
    assert {"Finding", "SEVERITIES", "json_safe"} <= set(names)


def test_json_safe_numpy_times_are_utc_text_and_durations_seconds():
    """A tz-aware column's .to_numpy() gives numpy datetime64 (no zone): written as UTC, with Z;
    a numpy timedelta64 (an np.integer subclass) as seconds, not an int() error; NaT as None."""
    times = pd.Series(pd.to_datetime(["2024-05-01T10:00:00.123Z"])).to_numpy()
    assert json_safe(times[0]) == "2024-05-01T10:00:00.123000Z"
    assert json_safe({"at": times}) == {"at": ["2024-05-01T10:00:00.123000Z"]}
    assert json_safe(np.timedelta64(1500, "ms")) == 1.5
    assert json_safe([np.datetime64("NaT"), np.timedelta64("NaT")]) == [None, None]


def test_a_figure_in_a_notebook_has_the_alt_text_the_reports_give_it(samples_dir):
    """Before, a notebook's figure had its key ('trend') as alt text; now what it shows, as in reports."""
    from bs4 import BeautifulSoup

    import flowkit

    flows = flowkit.read_flow_logs(samples_dir / "encryption")
    finding = flowkit.encryption_audit(flows)
    alts = [img["alt"] for img in BeautifulSoup(finding._repr_html_(), "html.parser").find_all("img")]
    assert alts == ["VNet encryption per hour. Axes: hour (UTC), encrypted flows (%). Its numbers are in the table "
                    "trend."]
