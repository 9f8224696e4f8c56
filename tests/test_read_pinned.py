"""A reader refuses a ``log_type`` or ``mac`` no flow log can hold instead of returning an empty
frame that looks like no traffic, as ``filter_flows`` and the command line already did (and as an
Azure read did for ``log_type``)."""

from __future__ import annotations

import pytest

from flowkit.errors import ArgumentError
from flowkit.read import read_flow_logs
from flowkit.scale.dask_report import load_report_dask
from flowkit.store.convert import convert
from tests.blobs import VNET_TUPLES, blob, vnet_record

LOG_TYPE = "log_type: 'VNet' is not one of nsg, vnet"
MAC = "mac: '00-0D-3A-00-01' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)"


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([vnet_record([("acl", "UserRule_A", VNET_TUPLES)], mac="000D3A000002")]))
    return path


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"log_type": "VNet"}, LOG_TYPE, id="log-type-spelt-otherwise"),
    pytest.param({"log_type": "nsg2"}, "log_type: 'nsg2' is not one of nsg, vnet", id="log-type-with-version"),
    pytest.param({"mac": "00-0D-3A-00-01"}, MAC, id="mac-too-short"),
    pytest.param({"mac": "zz"}, "mac: 'zz' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="mac-not-hex"),
    pytest.param({"mac": ""}, "mac: '' is not a MAC address (12 hex digits, such as 00-0D-3A-00-01-01)",
                 id="mac-empty"),
])
@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_a_selection_no_log_can_hold_is_refused_by_every_engine(log, kwargs, message, engine):
    with pytest.raises(ArgumentError) as info:
        read_flow_logs(log, engine=engine, **kwargs)
    assert str(info.value) == message


def test_the_dask_load_report_and_convert_refuse_it_too(log, tmp_path):
    with pytest.raises(ArgumentError) as info:
        load_report_dask(log, mac="00-0D-3A-00-01")
    assert str(info.value) == MAC
    with pytest.raises(ArgumentError) as info:
        convert(log, tmp_path / "ds", log_type="VNet")
    assert str(info.value) == LOG_TYPE
    assert not (tmp_path / "ds").exists()  # refused before anything is created


@pytest.mark.parametrize("kwargs, rows", [
    pytest.param({"log_type": "vnet", "mac": "00-0d-3a-00-00-02"}, len(VNET_TUPLES), id="any-mac-spelling"),
    pytest.param({"mac": "000D3A.000003"}, 0, id="another-nic"),
    pytest.param({"log_type": "nsg"}, 0, id="another-log-type"),
])
def test_a_selection_a_log_can_hold_reads(log, kwargs, rows):
    assert len(read_flow_logs(log, progress=False, **kwargs)) == rows
