"""Pinned behaviour of flowkit.scale.encryption_counts found by mutation testing (synchronous scheduler)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from dask import delayed

from flowkit.analysis.encryption import encryption_audit
from flowkit.scale._parts import from_parts
from flowkit.scale.encryption_counts import encryption_counts_dask
from flowkit.schema import coerce, empty_frame

dd = pytest.importorskip("dask.dataframe")


pytestmark = pytest.mark.usefixtures("synchronous_dask")  # tests/scale/conftest.py


@pytest.fixture(scope="module")
def frames(sample_frames) -> dict[str, pd.DataFrame]:
    return sample_frames


def _row(src: str, dst: str, encryption: str | None = "X", **fields) -> dict:
    """One VNet row (outbound at 000D3A000001, 1 packet and 100 bytes each way unless told)."""
    return {"flow_time": pd.Timestamp("2024-05-01T10:00Z"), "src_ip": src, "dst_ip": dst, "src_port": 40000,
            "dst_port": 443, "protocol": 6, "direction": "outbound", "decision": "allow", "state": "E",
            "encryption": encryption, "packets_sent": 1, "bytes_sent": 100, "packets_received": 1,
            "bytes_received": 100, "rule": "r", "acl_id": "acl", "mac": "000D3A000001", "log_type": "vnet",
            "resource_id": "/FL", **fields}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return coerce(pd.DataFrame(rows))


def _parts(*frames: pd.DataFrame):
    """A Dask frame of exactly these partitions (an empty one stays a partition)."""
    return from_parts([delayed(f) for f in frames], empty_frame())


def _same(frame: pd.DataFrame, npartitions: int | None = None, *, ddf=None) -> dict:
    """The Dask counts of ``frame`` (split in ``npartitions``, or ``ddf``) are the pandas audit's facts."""
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False) if ddf is None else ddf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = encryption_counts_dask(ddf), encryption_audit(frame, figures=False).facts
    assert mine == theirs, npartitions
    return mine


@pytest.mark.parametrize("name, npartitions", [
    pytest.param("encryption", 3, id="encryption-3"),
    pytest.param("encryption", 1, id="encryption-one-partition"),
    pytest.param("nsg-vs-vnet", 2, id="nsg-vs-vnet-2"),
    pytest.param("connectivity", 2, id="connectivity-2"),
])
def test_samples_equal_pandas(frames: dict[str, pd.DataFrame], name: str, npartitions: int) -> None:
    got = _same(frames[name], npartitions)
    assert got["flows"] > 0


def test_empty_partitions_and_partitions_without_vnet_rows_add_nothing() -> None:
    rows = _frame([_row("10.0.0.4", "10.0.0.5"), _row("10.0.0.5", "10.0.0.4", direction="inbound", src_port=1,
                                                     mac="000D3A000002", encryption="NX")])
    nsg = _frame([_row("10.0.0.4", "10.0.0.6", encryption=None, log_type="nsg")])
    got = _same(pd.concat([rows, nsg], ignore_index=True), ddf=_parts(empty_frame(), rows, nsg, empty_frame()))
    assert (got["flows"], got["by_state"], got["never_encrypting"]) == (2, {"X": 1, "NX": 1}, ["000D3A000002"])


def test_a_flow_seen_by_both_nics_counts_once_with_each_counters_largest_observer() -> None:
    """10.0.0.4 -> 10.0.0.5 logged outbound at .4 (X, 300 sent) and inbound at .5 (NX_FALLBACK, 500
    received) in two partitions: one flow, named by NX_FALLBACK, of 300 + 500 bytes."""
    out = _frame([_row("10.0.0.4", "10.0.0.5", bytes_sent=200), _row("10.0.0.4", "10.0.0.5", bytes_sent=100,
                                                                       bytes_received=0)])
    inn = _frame([_row("10.0.0.4", "10.0.0.5", "NX_FALLBACK", direction="inbound", mac="000D3A000002",
                       bytes_sent=50, bytes_received=500)])
    got = _same(pd.concat([out, inn], ignore_index=True), ddf=_parts(out, inn))
    assert (got["flows"], got["by_state"], got["encrypted_share"]) == (1, {"NX_FALLBACK": 1}, 0.0)


def test_hardware_that_cannot_encrypt_outbound_or_inbound_from_an_encrypting_address() -> None:
    """000D3A000001 logs NX_HW_NOT_SUPPORTED outbound; 000D3A000002 inbound from 10.0.0.7, which encrypts
    with 10.0.0.8; 000D3A000003 inbound from 10.0.0.9, which never encrypts: only the first two."""
    rows = _frame([
        _row("10.0.0.4", "10.0.0.5", "NX_HW_NOT_SUPPORTED"),
        _row("10.0.0.7", "10.0.0.6", "NX_HW_NOT_SUPPORTED", direction="inbound", mac="000D3A000002"),
        _row("10.0.0.7", "10.0.0.8", "X", mac="000D3A000007"),
        _row("10.0.0.9", "10.0.0.10", "NX_HW_NOT_SUPPORTED", direction="inbound", mac="000D3A000003"),
    ])
    got = _same(rows, 2)
    assert got["unsupported_macs"] == ["000D3A000001", "000D3A000002"]


def test_a_frame_of_text_columns_gives_the_counts_of_its_categorical_twin() -> None:
    """Joined or anonymised frames hold text, not categories: the Dask counts take them as the
    pandas audit does (they raised AttributeError: Can only use .cat accessor)."""
    rows = _frame([_row("10.0.0.4", "10.0.0.5"), _row("10.0.0.4", "10.0.0.6", "NX", src_port=2),
                   _row("10.0.0.4", "10.0.0.6", "NX_NOT_ACCEPTED", src_port=3)])
    text = rows.astype({c: object for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)})
    got = _same(rows, ddf=dd.from_pandas(text, npartitions=2, sort=False))
    assert (got["flows"], got["by_state"], got["dropped"]) == (3, {"X": 1, "NX": 1, "NX_NOT_ACCEPTED": 1}, 1)


def test_a_nic_answering_the_internet_unencrypted_is_not_never_encrypting() -> None:
    """192.0.2.9 (public) reaches 10.0.0.5 inbound at 000D3A000002, NX: its peer is public, so the NIC
    is not one that never encrypts. 10.0.0.4 -> 10.0.0.6 NX, logged with no direction at
    000D3A000003 (no NIC side) and outbound at 000D3A000001: only the latter never encrypts."""
    rows = _frame([_row("192.0.2.9", "10.0.0.5", "NX", direction="inbound", mac="000D3A000002"),
                   _row("10.0.0.4", "10.0.0.6", "NX", src_port=2, direction=None, mac="000D3A000003"),
                   _row("10.0.0.4", "10.0.0.6", "NX", src_port=2)])
    got = _same(rows, 2)
    assert (got["flows"], got["never_encrypting"]) == (2, ["000D3A000001"])


def test_a_nic_learned_from_inbound_rows_has_the_flows_logged_only_at_their_source() -> None:
    """10.0.0.5 is at 000D3A000002 (seen inbound only, NX from 10.0.0.4). 10.0.0.7 reaches it
    encrypted, logged only outbound at 000D3A000007: that flow is 000D3A000002's too, so it encrypts."""
    rows = _frame([_row("10.0.0.4", "10.0.0.5", "NX", direction="inbound", mac="000D3A000002"),
                   _row("10.0.0.7", "10.0.0.5", "X", src_port=2, mac="000D3A000007")])
    got = _same(rows, 2)
    assert (got["flows"], got["never_encrypting"]) == (2, [])


def test_a_nic_has_the_flows_of_its_address_logged_only_at_the_other_end() -> None:
    """10.0.0.4 (000D3A000001) sends NX to 10.0.0.5, logged only inbound there; 10.0.0.7 sends NX to
    10.0.0.6 (000D3A000003), logged only outbound at 10.0.0.7. Each NIC's own rows have public peers
    only: the private peer seen at the other end is what makes 000D3A000001 and 000D3A000003 never
    encrypting."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9", "NX", src_port=1),
                   _row("10.0.0.4", "10.0.0.5", "NX", src_port=2, direction="inbound", mac="000D3A000002"),
                   _row("192.0.2.8", "10.0.0.6", "NX", src_port=3, direction="inbound", mac="000D3A000003"),
                   _row("10.0.0.7", "10.0.0.6", "NX", src_port=4, mac="000D3A000004")])
    got = _same(rows, 2)
    assert got["never_encrypting"] == ["000D3A000001", "000D3A000002", "000D3A000003", "000D3A000004"]


def test_the_public_names() -> None:
    from flowkit.scale import encryption_counts

    assert encryption_counts.__all__ == ["encryption_counts_dask"]


def test_a_nic_sending_unencrypted_only_to_the_internet_is_not_never_encrypting() -> None:
    """10.0.0.4 (000D3A000001) sends NX to 192.0.2.9 and 198.51.100.7, logged outbound: the NIC's own
    address is the source, its peers are public, so it is not a NIC that never encrypts."""
    rows = _frame([_row("10.0.0.4", "192.0.2.9", "NX"), _row("10.0.0.4", "198.51.100.7", "NX", src_port=2)])
    got = _same(rows, 2)
    assert (got["flows"], got["by_state"], got["never_encrypting"]) == (2, {"NX": 2}, [])


def test_an_address_at_two_nics_counts_the_flows_each_nic_logged() -> None:
    """10.0.0.4 is at 000D3A000001 and at 000D3A000002 (two VNets): the address alone cannot say
    whose a flow is, so each NIC has the flows it logged outbound: X at the first, NX at the second."""
    rows = _frame([_row("10.0.0.4", "10.0.0.5", "X"),
                   _row("10.0.0.4", "10.0.0.6", "NX", src_port=2, mac="000D3A000002")])
    got = _same(rows, 2)
    assert (got["flows"], got["never_encrypting"]) == (2, ["000D3A000002"])


def test_rows_without_a_direction_name_no_nic() -> None:
    rows = _frame([_row("10.0.0.4", "10.0.0.5", "NX", direction=None),
                   _row("10.0.0.4", "10.0.0.6", "X", src_port=2, direction=None)])
    got = _same(rows, 2)
    assert (got["flows"], got["by_state"], got["never_encrypting"], got["unsupported_macs"]) == (
        2, {"X": 1, "NX": 1}, [], [])


def test_a_dask_frame_without_vnet_rows_has_the_empty_facts() -> None:
    nsg = _frame([_row("10.0.0.4", "10.0.0.6", encryption=None, log_type="nsg"),
                  _row("10.0.0.4", "10.0.0.7", encryption=None, log_type="nsg", src_port=2)])
    got = _same(nsg, 2)
    assert got == {"flows": 0, "encrypted_share": None, "bytes_encrypted_share": None, "by_state": {},
                   "unsupported_macs": [], "never_encrypting": [], "dropped": 0}


def test_a_nic_learned_from_inbound_rows_has_the_flows_it_sent_logged_only_at_their_destination() -> None:
    """10.0.0.5 is at 000D3A000002 (seen inbound only, NX from 10.0.0.4). It sends X to 10.0.0.7,
    logged only inbound at 000D3A000007: that flow is 000D3A000002's too, so it encrypts."""
    rows = _frame([_row("10.0.0.4", "10.0.0.5", "NX", direction="inbound", mac="000D3A000002"),
                   _row("10.0.0.5", "10.0.0.7", "X", src_port=2, direction="inbound", mac="000D3A000007")])
    got = _same(rows, 2)
    assert (got["flows"], got["never_encrypting"]) == (2, [])


def test_unencrypted_flows_to_a_local_destination_do_not_make_a_nic_never_encrypting() -> None:
    rows = _frame([_row("10.0.0.4", "10.0.0.5", "NX_LOCAL_DST"),
                   _row("10.0.0.4", "10.0.0.6", "NX_LOCAL_DST", src_port=2)])
    got = _same(rows, 2)
    assert (got["flows"], got["by_state"], got["never_encrypting"]) == (2, {"NX_LOCAL_DST": 2}, [])


def test_flows_the_host_could_not_encrypt_count_as_dropped_as_pandas_counts_them() -> None:
    rows = [_row("10.0.0.4", "10.0.1.4", "NX_SW_NOT_READY", src_port=1),
            _row("10.0.0.4", "10.0.1.4", "NX_NOT_SUPPORTED", src_port=2),
            _row("10.0.0.4", "10.0.1.4", "NX_NOT_ACCEPTED", src_port=3, state="D"),
            _row("10.0.0.4", "10.0.1.4", "X", src_port=4)]
    counts = _same(_frame(rows), 2)
    assert counts["dropped"] == 3
