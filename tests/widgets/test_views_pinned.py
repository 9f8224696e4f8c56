"""The filter panel's table (flowkit/widgets/views.py): what a row shows."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from flowkit.read import read_flow_logs  # noqa: E402
from flowkit.schema import coerce  # noqa: E402
from flowkit.widgets.views import rows_html  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


def _table(html: str) -> tuple[list[str], list[list[str]]]:
    head = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", html)]
    rows = [[unescape(c) for c in re.findall(r"<td>(.*?)</td>", r)] for r in re.findall(r"<tr>(.*?)</tr>", html)[1:]]
    return head, rows


def test_rows_logged_by_two_nsgs_are_told_apart_by_their_resource() -> None:
    # app-01 sits behind its subnet's NSG and its own: both NSG flow logs write each of its flows.
    # Before, the table showed those two rows identical in every column (they differ in resource_id only).
    flows = read_flow_logs(SAMPLES / "nsg-vs-vnet", progress=False)
    app01 = flows[flows["mac"] == "000D3A000201"]
    head, rows = _table(rows_html(app01, 15))
    assert head[-2:] == ["log_type", "resource"] and len(rows) == 15
    assert len({tuple(r) for r in rows}) == 15  # no two rows look the same
    first = [(r[1], r[2], r[4], r[-2], r[-1]) for r in rows[:3]]
    assert first == [("10.10.2.4", "53336", "514", "vnet", "FL-VNET-APP"),
                     ("10.10.2.4", "53336", "514", "nsg", "NSG-NIC-APP-01"),
                     ("10.10.2.4", "53336", "514", "nsg", "NSG-SNET-APP")]


def test_a_row_without_a_resource_id_shows_an_empty_resource_and_vm_stays_last() -> None:
    f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"], "dst_ip": ["198.51.100.2"], "mac": ["000D3A000001"]}))
    head, rows = _table(rows_html(f, vm={"000D3A000001": "vm-1"}))
    assert head[-3:] == ["log_type", "resource", "vm"]
    assert rows[0][-2:] == ["", "vm-1"]
