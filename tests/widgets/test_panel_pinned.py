"""Pinned by mutation testing: how the filter panel reads its controls and its initial filters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from flowkit.filters import filter_flows  # noqa: E402
from flowkit.read import read_flow_logs  # noqa: E402
from flowkit.widgets import FilterPanel  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[2] / "data-samples" / "connectivity"


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    return read_flow_logs(SCENARIO, progress=False)


@pytest.mark.parametrize("control, text, message", [
    pytest.param("start", "soon", "start: cannot read 'soon' as a time (use 2024-05-01T10:15Z)", id="start"),
    pytest.param("end", "later", "end: cannot read 'later' as a time (use 2024-05-01T10:15Z)", id="end"),
    pytest.param("src", "192.0.2.300", "source: '192.0.2.300' is not an IP address or CIDR block", id="src"),
    pytest.param("dst", "198.51.100.0/33", "destination: '198.51.100.0/33' is not an IP address or CIDR block",
                 id="dst"),
])
def test_a_bad_box_is_named_as_the_panel_labels_it(flows: pd.DataFrame, control: str, text: str,
                                                   message: str) -> None:
    panel = FilterPanel(flows, draw=False)
    getattr(panel, control).value = text
    assert panel.error == message and len(panel.value) == len(flows)


def test_start_equal_to_end_is_refused_by_the_panel_with_its_own_message(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False, start="2024-05-01T11:00Z")
    panel.end.value = "2024-05-01T13:00+02:00"  # the same instant
    assert panel.error == ("start (2024-05-01T11:00:00Z) is not before end (2024-05-01T11:00:00Z): no row can match "
                           "(rows kept are start <= time < end)")
    with pytest.raises(ValueError, match=r"^start \(2024-05-01T11:00:00Z\) is not before end"):
        panel.read_controls()


@pytest.mark.parametrize("protocol", [0, 255])
def test_initial_protocols_at_the_ends_of_the_range_are_kept_with_a_note(flows: pd.DataFrame, protocol: int) -> None:
    panel = FilterPanel(flows, draw=False, protocol=protocol)
    assert panel.protocol.value == protocol and panel.filters == {"protocol": protocol}
    assert (f"{protocol} (not in these flows)", protocol) in panel.protocol.options and len(panel.value) == 0


@pytest.mark.parametrize("protocol", [-1, 256])
def test_initial_protocols_outside_the_range_are_refused(flows: pd.DataFrame, protocol: int) -> None:
    with pytest.raises(ValueError) as info:
        FilterPanel(flows, draw=False, protocol=protocol)
    assert str(info.value) == f"protocol={protocol} is not a protocol (use 'tcp', 'udp' or a number 0-255)"


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"mac": "zz"}, "mac='zz' is not a MAC address (12 hex digits, as 00-0D-3A-00-01-01)", id="mac"),
    pytest.param({"log_type": "flow"}, "log_type='flow' is not a log type: one of ['nsg', 'vnet']", id="log-type"),
    pytest.param({"state": "Q"}, "state='Q' is not a state: one of ['B', 'C', 'E', 'D']", id="state"),
])
def test_initial_values_no_flow_log_can_hold_are_refused_with_the_choices(flows: pd.DataFrame, kwargs: dict,
                                                                          message: str) -> None:
    with pytest.raises(ValueError) as info:
        FilterPanel(flows, draw=False, **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("keep, protocol, label, value", [
    pytest.param(17, "tcp", "TCP (not in these flows)", 6, id="tcp"),
    pytest.param(6, 17, "UDP (not in these flows)", 17, id="udp"),
])
def test_an_absent_initial_protocol_is_labelled_by_name(flows: pd.DataFrame, keep: int, protocol: object, label: str,
                                                        value: int) -> None:
    some = flows[flows["protocol"] == keep]
    panel = FilterPanel(some, draw=False, protocol=protocol)
    assert list(panel.protocol.options)[-1] == (label, value) and panel.protocol.value == value
    assert len(panel.value) == 0 == len(filter_flows(some, protocol=value))


def test_an_initial_start_at_a_flows_millisecond_time_selects_what_filter_flows_does(flows: pd.DataFrame) -> None:
    # The box showed the time without its milliseconds before: 406 rows where filter_flows keeps 405.
    start = pd.Timestamp("2024-05-01T10:58:44.002Z")
    assert (flows["flow_time"] == start).any()
    panel = FilterPanel(flows, draw=False, start=start)
    assert panel.start.value == "2024-05-01T10:58:44.002000Z" and panel.filters == {"start": start}
    assert panel.value.index.equals(filter_flows(flows, start=start).index) and len(panel.value) == 405


def test_an_initial_encryption_state_no_flow_log_can_hold_is_refused(flows: pd.DataFrame) -> None:
    # The reader quarantines a state of this form, so the panel refuses it as it does mac="zz",
    # rather than showing an empty view "not in these flows".
    with pytest.raises(ValueError) as info:
        FilterPanel(flows, draw=False, encryption="nx_not_accepted")
    assert str(info.value) == ("encryption='nx_not_accepted' is not an encryption state "
                               "(X, NX or NX_ and upper-case letters, such as NX_NOT_ACCEPTED)")


def test_an_initial_encryption_state_azure_may_add_is_kept_with_a_note(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False, encryption="NX_SOME_FUTURE_STATE")
    assert list(panel.encryption.options)[-1] == ("NX_SOME_FUTURE_STATE (not in these flows)", "NX_SOME_FUTURE_STATE")
    assert (len(panel.value), panel.error) == (0, None)


def _note_text(panel: FilterPanel) -> str:
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", panel.message.value)).strip()


def test_an_empty_selection_says_which_filter_to_clear(flows: pd.DataFrame) -> None:
    # Before: '0 rows' and an empty table, with no word on which filter emptied it.
    panel = FilterPanel(flows, draw=False)
    panel.src.value = "192.0.2.0/24"  # the scanners: every tuple of theirs is denied
    panel.decision.value = "allow"
    assert len(panel.value) == 0 and panel.error is None
    assert "flowkit-empty" in panel.message.value
    without_src = len(filter_flows(flows, decision="allow"))
    without_decision = len(filter_flows(flows, src="192.0.2.0/24"))
    assert (without_src, without_decision) == (810, 60)
    assert _note_text(panel) == ("ⓘ No row matches these filters together: clear source (810 rows without it), "
                                 "or decision (60 rows without it).")
    panel.ports.value = "1433"  # the scanners never tried 1433: only the source stands in the way
    assert _note_text(panel) == ("ⓘ No row matches these filters together: clear source "
                                 f"({len(filter_flows(flows, decision='allow', ports=1433)):,} rows without it).")
    panel.ports.value = ""
    panel.decision.value = ""  # rows again: the note goes
    assert len(panel.value) == without_decision and panel.message.value == ""


def test_an_empty_selection_by_one_filter_or_by_several(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False)
    panel.ports.value = "9999"
    assert _note_text(panel) == f"ⓘ No row matches this filter: clear ports ({len(flows):,} rows without it)."
    panel.log_type.value = "vnet"
    panel.src.value = "198.51.100.0/24"  # no row from there, nor on port 9999: clearing one is not enough
    assert _note_text(panel) == ("ⓘ No row matches these filters together: clearing any one of them still "
                                 "selects nothing, so clear several.")
    panel.ports.value = ""
    panel.src.value = ""
    assert len(panel.value) == len(flows) and panel.message.value == ""


def test_the_time_placeholders_typed_as_they_are_keep_every_row(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False)
    lo, hi = flows["flow_time"].min(), flows["flow_time"].max()
    assert hi != hi.floor("min")  # the last row is inside its minute: its own time as end would drop it
    assert (panel.start.placeholder, panel.end.placeholder) == (
        f"{lo.floor('min'):%Y-%m-%dT%H:%M:%S}Z", f"{hi.floor('min') + pd.Timedelta('1min'):%Y-%m-%dT%H:%M:%S}Z")
    panel.start.value, panel.end.value = panel.start.placeholder, panel.end.placeholder
    assert panel.error is None and len(panel.value) == len(flows)
    assert len(filter_flows(flows, start=panel.start.placeholder, end=panel.end.placeholder)) == len(flows)


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"src": "10.10.1.999"}, "source: '10.10.1.999' is not an IP address or CIDR block", id="src"),
    pytest.param({"dst": "nonsense"}, "destination: 'nonsense' is not an IP address or CIDR block", id="dst"),
    pytest.param({"ports": "9000-8000"}, "ports: '9000-8000' runs backwards, so no port is in it (use 8000-9000)",
                 id="ports-backwards"),
    pytest.param({"ports": 70000}, "ports: '70000' is not a port or a range (ports run from 0 to 65535)", id="port"),
    pytest.param({"start": "10:30"}, "start: '10:30' has no full date, so it is not applied (it would read as "
                 "today): write the day too, as 2024-05-01T10:30Z", id="time-of-day"),
    pytest.param({"start": "2024-05-01T12:00Z", "end": "2024-05-01T10:00Z"},
                 "start (2024-05-01T12:00:00Z) is not before end (2024-05-01T10:00:00Z): no row can match "
                 "(rows kept are start <= time < end)", id="start-after-end"),
])
def test_initial_text_values_no_flow_log_can_hold_are_refused(flows: pd.DataFrame, kwargs: dict,
                                                              message: str) -> None:
    # README: an initial value no flow log can hold raises ValueError. For the text boxes the
    # panel used to show the message over every row (panel.value unfiltered, panel.filters {}).
    with pytest.raises(ValueError) as info:
        FilterPanel(flows, draw=False, **kwargs)
    assert str(info.value) == message


def test_initial_text_values_that_can_match_still_filter(flows: pd.DataFrame) -> None:
    panel = FilterPanel(flows, draw=False, src="10.10.1.4", ports="1433, 8000-8100", end="2024-05-01T11:00Z")
    assert panel.error is None
    assert panel.value.index.equals(filter_flows(flows, **panel.filters).index) and len(panel.value) > 0
