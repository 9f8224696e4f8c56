"""Investigations on frames whose text columns are plain text (joined with pd.concat, anonymised)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import flowkit
from flowkit.schema import coerce

from flowkit_frames import SAMPLES


@pytest.fixture(scope="module")
def joined() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two sample reads joined: categories differ, so pd.concat gives text columns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", flowkit.FlowkitDataWarning)
        a = flowkit.read_flow_logs(SAMPLES / "connectivity")
        b = flowkit.read_flow_logs(SAMPLES / "encryption")
    both = pd.concat([a, b], ignore_index=True)
    assert not isinstance(both["mac"].dtype, pd.CategoricalDtype)  # what makes this case
    return both, coerce(both)


def test_diagnose_gives_the_verdict_and_facts_it_gives_on_the_categorical_frame(joined):
    text, cats = joined
    a = flowkit.diagnose(text, "10.10.1.4", "10.10.3.4", port=1433)
    b = flowkit.diagnose(cats, "10.10.1.4", "10.10.3.4", port=1433)
    assert a.verdict == b.verdict == "denied"
    assert a.facts == b.facts


def test_encryption_sessions_denied_graph_and_compare_agree_with_the_categorical_frame(joined):
    text, cats = joined
    a, b = flowkit.encryption_audit(text), flowkit.encryption_audit(cats)
    assert (a.verdict, a.facts) == (b.verdict, b.facts)
    pd.testing.assert_frame_equal(flowkit.flow_sessions(text).astype(str), flowkit.flow_sessions(cats).astype(str))
    assert flowkit.denied_summary(text).facts == flowkit.denied_summary(cats).facts
    g, h = flowkit.talker_graph(text), flowkit.talker_graph(cats)
    assert sorted(g.edges(data="bytes")) == sorted(h.edges(data="bytes"))
    c, d = flowkit.compare_nsg_vnet(text, figures=False), flowkit.compare_nsg_vnet(cats, figures=False)
    assert (c.verdict, c.facts) == (d.verdict, d.facts)
