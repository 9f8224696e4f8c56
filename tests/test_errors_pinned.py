"""Bad arguments to the public API raise flowkit's ArgumentError (a ValueError), naming the value."""

from __future__ import annotations

import pytest

import flowkit
from flowkit.errors import ArgumentError, FlowkitError
from flowkit.findings import Finding


def _read_engine(tmp_path):
    flowkit.read_flow_logs(tmp_path, engine="spark")


def _read_columns(tmp_path):
    flowkit.read_flow_logs(tmp_path, columns=["src_ip", "srcip"])


def _dask_columns(tmp_path):
    from flowkit.scale.dask_read import read_flow_logs_dask

    read_flow_logs_dask(tmp_path, columns=["srcip"])


def _severity(tmp_path):
    Finding(title="t", verdict="ok", severity="urgent")


def _corpus_type(tmp_path):
    from flowkit.synth.corpus import write_corpus

    write_corpus(tmp_path, log_type="firewall")


def _corpus_version(tmp_path):
    from flowkit.synth.corpus import write_corpus

    write_corpus(tmp_path, log_type="nsg", version=4)


def _cluster_host(tmp_path):
    from flowkit.scale.cluster import local_cluster

    local_cluster(host="0.0.0.0")


def _panel_protocol(tmp_path):
    from flowkit.widgets.panel import FilterPanel

    FilterPanel(flowkit.read_flow_logs("data-samples/encryption"), draw=False, protocol="icmpx")


@pytest.mark.parametrize("call, message", [
    (_read_engine, "engine must be 'pandas' or 'dask', not 'spark'"),
    (_read_columns, "unknown column(s) ['srcip']; the canonical columns are"),
    (_dask_columns, "unknown column(s) ['srcip']; the canonical columns are"),
    (_severity, "severity must be one of ('info', 'low', 'medium', 'high', 'critical'), not 'urgent'"),
    (_corpus_type, "log_type must be 'vnet', 'nsg' or 'both', not 'firewall'"),
    (_corpus_version, "NSG flow logs have version 1 or 2, not 4"),
    (_cluster_host, "local_cluster listens on 127.0.0.1 only"),
    (_panel_protocol, "protocol='icmpx' is not a protocol (use 'tcp', 'udp' or a number 0-255)"),
])
def test_a_bad_argument_is_a_flowkit_argument_error_that_names_it(tmp_path, monkeypatch, call, message):
    """Before, these were plain ValueErrors: ``except FlowkitError`` did not catch them."""
    import pathlib

    monkeypatch.chdir(pathlib.Path(__file__).resolve().parents[1])
    with pytest.raises(ArgumentError) as caught:
        call(tmp_path)
    assert isinstance(caught.value, (FlowkitError, ValueError)) and str(caught.value).startswith(message)
