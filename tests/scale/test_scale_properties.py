"""Property tests of the Dask twins: a generated frame split into random partitions gives
what the pandas investigation gives on the whole frame (synchronous scheduler)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.copies import original_rows
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import talker_graph
from flowkit.schema import empty_frame
from tests.flow_strategies import as_joined, finding_view, flow_frames, plain, shuffled

dd = pytest.importorskip("dask.dataframe")
from dask import delayed  # noqa: E402

from flowkit.scale._parts import from_parts  # noqa: E402
from flowkit.scale.aggregations import denied_summary_dask  # noqa: E402
from flowkit.scale.compare import compare_nsg_vnet_dask  # noqa: E402
from flowkit.scale.encryption_counts import encryption_counts_dask  # noqa: E402
from flowkit.scale.graph import talker_graph_dask  # noqa: E402

# No shrinking: a failing frame of these investigations takes minutes to shrink, and a
# generated one (at most ~30 rows) reads as it is.
SETTINGS = settings(max_examples=25, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@st.composite
def partitioned(draw, copies_apart: bool = True, own_categories: bool | None = None):
    """(frame, its rows shuffled and dealt into 1 to 4 partitions, some maybe empty).

    Without ``copies_apart`` a copy of a tuple lands in its original's partition: the graph and
    the encryption counts count a copy once only then (documented: the reader keeps the blobs of
    one hour folder, copies included, in one partition). With ``own_categories`` (drawn when
    None) each partition's categoricals hold only its own values, as blobs decoded apart give."""
    frame = draw(flow_frames())
    n_parts = draw(st.integers(1, 4))
    part = np.array(draw(st.lists(st.integers(0, n_parts - 1), min_size=len(frame), max_size=len(frame))),
                    dtype=np.int64)
    if not copies_apart:
        part = part[original_rows(frame)]
    rows = shuffled(frame.assign(_part=part), draw(st.permutations(range(len(frame)))))
    parts = [rows.loc[rows["_part"] == p].drop(columns="_part") for p in range(n_parts)]
    if own_categories is None:
        own_categories = draw(st.booleans())
    if own_categories:
        parts = [as_joined(p, text=False) for p in parts]
    return frame, from_parts([delayed(p) for p in parts], empty_frame())


def quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


@SETTINGS
@given(case=partitioned(copies_apart=False))
def test_encryption_counts_dask_are_the_audit_facts(synchronous_dask, case):
    frame, ddf = case
    assert plain(quiet(encryption_counts_dask, ddf)) == plain(encryption_audit(frame, figures=False).facts)


@SETTINGS
@given(case=partitioned())
def test_denied_summary_dask_is_denied_summary(synchronous_dask, case):
    frame, ddf = case
    assert finding_view(quiet(denied_summary_dask, ddf)) == finding_view(denied_summary(frame))


@SETTINGS
@given(case=partitioned(copies_apart=False), by=st.sampled_from(["ip", "subnet", "mac"]))
def test_talker_graph_dask_is_talker_graph(synchronous_dask, case, by):
    frame, ddf = case
    mine, theirs = quiet(talker_graph_dask, ddf, by), quiet(talker_graph, frame, by)
    assert plain(dict(mine.graph)) == plain(dict(theirs.graph))
    assert plain(dict(mine.nodes(data=True))) == plain(dict(theirs.nodes(data=True)))
    assert plain({(u, v): a for u, v, a in mine.edges(data=True)}) == \
        plain({(u, v): a for u, v, a in theirs.edges(data=True)})


@SETTINGS
@given(case=partitioned())
def test_compare_nsg_vnet_dask_is_compare_nsg_vnet(synchronous_dask, case):
    frame, ddf = case
    mine = finding_view(quiet(compare_nsg_vnet_dask, ddf, figures=False, rows_per_partition=7))
    theirs = finding_view(compare_nsg_vnet(frame, figures=False))
    theirs["evidence"].pop("keys", None)  # one row per flow key: the Dask twin leaves it on the workers
    assert mine == theirs


@SETTINGS
@given(case=partitioned())
def test_compare_nsg_vnet_dask_takes_the_two_logs_apart(synchronous_dask, case):
    frame, ddf = case
    nsg, vnet = ddf[ddf["log_type"] == "nsg"], ddf[ddf["log_type"] == "vnet"]
    mine = finding_view(quiet(compare_nsg_vnet_dask, nsg, vnet, figures=False, rows_per_partition=5))
    theirs = finding_view(compare_nsg_vnet(frame, figures=False))
    theirs["evidence"].pop("keys", None)
    assert mine == theirs
