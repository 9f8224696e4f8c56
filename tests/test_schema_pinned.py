"""coerce: values kept as they were given or refused, never wrapped, blanked or re-read (pinned by
mutation testing)."""

from __future__ import annotations

import ipaddress

import pandas as pd
import pytest

from flowkit.errors import ArgumentError
from flowkit.schema import coerce


@pytest.mark.parametrize("column, values", [
    pytest.param("dst_port", [443, 70000], id="port-too-large"),
    pytest.param("src_port", [-1], id="port-negative"),
    pytest.param("dst_port", [443.5], id="port-fractional"),
    pytest.param("dst_port", [443, None], id="port-missing"),
    pytest.param("protocol", [256], id="protocol-too-large"),
    pytest.param("version", [-4], id="version-negative"),
])
def test_coerce_refuses_numbers_an_unsigned_column_cannot_hold_instead_of_wrapping_them(column, values):
    with pytest.raises(ArgumentError, match=f"^column '{column}' cannot be uint"):
        coerce(pd.DataFrame({column: values}))


def test_coerce_keeps_whole_numbers_given_as_floats_or_text():
    frame = coerce(pd.DataFrame({"dst_port": [443.0, 65535.0], "protocol": ["6", "17"]}))
    assert frame["dst_port"].tolist() == [443, 65535] and frame["protocol"].tolist() == [6, 17]
    assert (str(frame["dst_port"].dtype), str(frame["protocol"].dtype)) == ("uint16", "uint8")


def test_coerce_keeps_addresses_given_as_ipaddress_objects_as_their_text():
    frame = coerce(pd.DataFrame({"src_ip": [ipaddress.ip_address("192.0.2.1"), None],
                                 "dst_ip": [ipaddress.ip_address("2001:db8::5"), "198.51.100.2"]}))
    assert frame["src_ip"].tolist()[0] == "192.0.2.1" and pd.isna(frame["src_ip"].tolist()[1])
    assert frame["dst_ip"].tolist() == ["2001:db8::5", "198.51.100.2"]
    assert list(frame["src_ip"].cat.categories) == ["192.0.2.1", "198.51.100.2", "2001:db8::5"]


def test_coerce_keeps_a_closed_column_value_that_is_not_text_as_its_text():
    frame = coerce(pd.DataFrame({"state": ["C", None], "encryption": ["NX", 7]}))
    assert frame["state"].tolist()[0] == "C" and pd.isna(frame["state"].tolist()[1])
    assert frame["encryption"].tolist() == ["NX", "7"] and list(frame["encryption"].cat.categories)[-1] == "7"


@pytest.mark.parametrize("column", ["flow_time", "record_time"])
def test_coerce_refuses_epoch_numbers_rather_than_reading_them_as_nanoseconds(column):
    with pytest.raises(ArgumentError, match=f"^column '{column}' holds numbers, not times"):
        coerce(pd.DataFrame({column: [1714557600]}))


def test_a_column_is_immutable_and_hashable():
    from dataclasses import FrozenInstanceError

    from flowkit.schema import Column

    column = Column("dst_port", "uint16", "Destination port.")
    assert {column, Column("dst_port", "uint16", "Destination port.")} == {column}
    with pytest.raises(FrozenInstanceError):
        column.dtype = "uint32"


@pytest.mark.parametrize("rule, admin", [("BlockHighRiskTCPPortsFromInternet", True), ("Internet_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11", True),
                                         ("DefaultRule_DenyAllInBound", False), ("userrule_x", False),
                                         ("unspecified", False), ("", False), (None, False), (float("nan"), False)])
def test_a_security_admin_rule_is_any_named_rule_but_an_nsgs_and_unspecified(rule, admin):
    from flowkit.schema import is_security_admin_rule

    assert is_security_admin_rule(rule) is admin
    assert is_security_admin_rule(pd.NA) is False  # a missing rule of a nullable column
