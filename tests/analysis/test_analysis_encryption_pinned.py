"""Pinned behaviour of flowkit.analysis.encryption found by mutation testing."""

from __future__ import annotations

import pytest

import flowkit.analysis.encryption as encryption
from flowkit.analysis.encryption import encryption_audit, flow_encryption, state_ranks
from flowkit.schema import ENCRYPTION_STATES
from flowkit_frames import frame, tuple_row

A, B, DB = "10.20.1.4", "10.20.1.5", "10.20.2.4"
MA, MB, MDB = "000D3A000401", "000D3A000402", "000D3A000403"
PUBLIC = "198.51.100.20"


def _row(minute, sport, enc, *, src=A, dst=DB, mac=MA, direction="outbound", state="E", counters=(1, 100, 1, 100),
         **kw):
    deny = enc in ("NX_NOT_ACCEPTED", "NX_SW_NOT_READY", "NX_NOT_SUPPORTED")  # packets dropped
    return tuple_row(minute, src=src, dst=dst, sport=sport, dport=1433, mac=mac, direction=direction,
                     state="D" if deny else state, decision="deny" if deny else "allow", encryption=enc,
                     counters=(0, 0, 0, 0) if deny else counters, **kw)


def test_public_names():
    assert encryption.__all__ == ["encryption_audit", "ENCRYPTION_MEANINGS", "flow_encryption"]
    assert all(hasattr(encryption, name) for name in encryption.__all__)


def test_states_not_documented_yet_rank_after_the_documented_ones_by_name():
    ranks = state_ranks(["NX_ZULU", "NX", "NX_ALPHA", "NX_MIKE", "NX_ZULU"])
    assert ranks["NX_ALPHA"] < ranks["NX_MIKE"] < ranks["NX_ZULU"]
    assert ranks["NX"] < ranks["NX_ALPHA"]
    assert len(set(ranks.values())) == 4
    per_flow = flow_encryption(frame([_row(0, 1, "NX_ZULU"), _row(1, 1, "NX_MIKE"), _row(2, 1, "NX_ZULU"),
                                      _row(0, 2, "NX"), _row(1, 2, "NX_ZULU")]))
    assert per_flow.sort_values("src_port")["encryption"].tolist() == ["NX_MIKE", "NX"]


def test_no_figure_unless_asked_for():
    rows = [_row(0, 1, "X"), _row(0, 2, "NX")]
    assert encryption_audit(frame(rows), figures=False).figures == {}
    assert list(encryption_audit(frame(rows)).figures) == ["trend"]


def test_trend_figure_plots_percent_per_hour():
    rows = [_row(0, 1, "X"), _row(1, 2, "NX"), _row(61, 3, "X")]
    fig = encryption_audit(frame(rows)).figures["trend"]
    ax = fig.axes[0]
    assert [float(y) for y in ax.lines[0].get_ydata()] == [50.0, 100.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["05-01 10:00", "05-01 11:00"]
    assert ax.get_ylim() == (0.0, 105.0)
    assert (ax.get_ylabel(), ax.get_xlabel(), ax.get_title()) == ("encrypted flows (%)", "hour (UTC)",
                                                                 "VNet encryption per hour")
    assert tuple(fig.get_size_inches()) == (7.0, 3.0)
    label = ax.get_xticklabels()[0]
    assert (label.get_rotation(), label.get_fontsize()) == (45.0, 8.0)


def test_subnet_matrix_names_its_columns():
    matrix = encryption_audit(frame([_row(0, 1, "X"), _row(0, 2, "NX", dst=PUBLIC)]), figures=False).evidence[
        "subnet_matrix"]
    assert matrix.columns.name == "dst_subnet"
    assert matrix.columns.tolist() == ["src_subnet", "10.20.2.0/24", "internet"]


def test_a_d_tuple_is_denied_even_without_a_deny_decision():
    rows = [_row(0, 1, "NX", state="D", counters=(0, 0, 0, 0)), _row(0, 2, "NX", state="C")]
    rows[0]["decision"] = None
    per_flow = flow_encryption(frame(rows)).sort_values("src_port")
    assert per_flow["denied"].tolist() == [True, False]


def test_summary_and_title_text():
    rows = [_row(0, 1, "X", counters=(1, 300, 1, 300)), _row(0, 2, "NX", dst=PUBLIC)]
    f = encryption_audit(frame(rows), figures=False)
    assert f.title == "VNet encryption audit"
    assert f.summary == "50% of 2 flow(s) encrypted (75% of bytes); by state: X 1, NX 1."
    no_bytes = encryption_audit(frame([_row(0, 1, "X", state="B", counters=(0, 0, 0, 0))]), figures=False)
    assert no_bytes.facts["bytes_encrypted_share"] is None
    assert no_bytes.summary == "100% of 1 flow(s) encrypted; by state: X 1."


def test_no_vnet_data_title_and_summary():
    f = encryption_audit(frame([tuple_row(0, log_type="nsg")]), figures=False)
    assert (f.title, f.verdict, f.severity) == ("VNet encryption audit", "no-vnet-data", "info")
    assert f.summary == "No VNet flow log rows: only VNet flow logs record encryption."
    assert f.facts == {"flows": 0, "encrypted_share": None, "bytes_encrypted_share": None, "by_state": {},
                       "unsupported_macs": [], "never_encrypting": [], "dropped": 0}


def test_macs_of_a_flow_list_ten_then_a_count():
    macs = [f"000D3A0004{i:02X}" for i in range(12)]
    rows = [_row(0, 1, "X", mac=m) for m in macs[:11]] + [_row(0, 2, "X", mac=m) for m in macs[:10]]
    per_flow = flow_encryption(frame(rows)).sort_values("src_port")
    assert per_flow["macs"].tolist() == [",".join(macs[:10]) + ",…(+1)", ",".join(macs[:10])]


def test_unsupported_nics_are_listed_with_their_vm_names_where_known():
    from flowkit.inventory import inventory_from_records

    inv = inventory_from_records([{"mac": MA, "ip": A, "vm": "app-01", "subnet": "snet-app",
                                   "subnet_prefix": "10.20.1.0/24"}])
    rows = [_row(0, 1, "NX_HW_NOT_SUPPORTED"), _row(0, 2, "NX_HW_NOT_SUPPORTED", src=B, mac=MB)]
    f = encryption_audit(frame(rows), inventory=inv, figures=False)
    assert f.summary == ("0% of 2 flow(s) encrypted (0% of bytes); by state: NX_HW_NOT_SUPPORTED 2; "
                         f"NIC(s) on VM sizes without encryption support: {MA} (app-01), {MB}.")
    assert list(f.evidence) == ["by_state", "vm_pairs", "subnet_matrix", "never_encrypting", "dropped", "trend",
                                "flows"]
    assert len(f.evidence["flows"]) == 2


def test_vm_pairs_and_subnet_matrix_are_sorted_by_name_not_by_first_sight():
    rows = [_row(0, 1, "NX", src=B, dst=PUBLIC, mac=MB), _row(1, 2, "X", src=B, dst=DB, mac=MB),
            _row(2, 3, "X", src=A, dst=PUBLIC), _row(3, 4, "X", src=A, dst=DB)]
    f = encryption_audit(frame(rows), figures=False)
    pairs = f.evidence["vm_pairs"]
    assert pairs[["src", "dst", "flows", "encrypted", "states"]].values.tolist() == [
        [A, DB, 1, 1, "X"], [A, PUBLIC, 1, 1, "X"], [B, DB, 1, 1, "X"], [B, PUBLIC, 1, 0, "NX"]]
    matrix = f.evidence["subnet_matrix"]
    assert matrix.columns.tolist() == ["src_subnet", "10.20.2.0/24", "internet"]
    assert matrix.values.tolist() == [["10.20.1.0/24", 1.0, 0.5]]


def test_trend_is_in_time_order_whatever_the_flow_order():
    rows = [_row(61, 1, "X", src=A), _row(0, 2, "NX", src=B, mac=MB)]
    trend = encryption_audit(frame(rows), figures=False).evidence["trend"]
    assert trend["hour"].dt.strftime("%H:%M").tolist() == ["10:00", "11:00"]
    assert trend["encrypted_share"].tolist() == [0.0, 1.0]


def test_dropped_evidence_has_the_columns_of_the_flows():
    rows = [_row(0, 1, "X"), _row(0, 2, "NX_NOT_ACCEPTED")]
    f = encryption_audit(frame(rows), figures=False)
    dropped = f.evidence["dropped"]
    assert dropped.columns.tolist() == f.evidence["flows"].columns.tolist()
    assert dropped.index.tolist() == [0] and dropped["src_port"].tolist() == [2]


def test_a_state_not_documented_yet_is_explained_as_such():
    f = encryption_audit(frame([_row(0, 1, "NX_NEW_REASON")]), figures=False)
    assert f.evidence["by_state"][["state", "meaning", "action"]].values.tolist() == [
        ["NX_NEW_REASON", "Undocumented state.", "Check the documentation."]]


#: Every state before the next when one flow shows both (a state not documented yet before X).
#: The states whose packets are dropped come first: a flow ever dropped is named by its drop.
ORDER = ["NX_NOT_ACCEPTED", "NX_SW_NOT_READY", "NX_NOT_SUPPORTED", "NX_HW_NOT_SUPPORTED", "NX_FALLBACK",
         "NX_LOCAL_DST", "NX", "NX_ZZ_NEW", "X"]


@pytest.mark.parametrize("first_seen_first", [True, False], ids=["telling-state-first", "telling-state-last"])
def test_a_flow_with_two_states_is_named_by_the_earlier_in_the_order(first_seen_first):
    rows = []
    for port, (before, after) in enumerate(zip(ORDER, ORDER[1:]), start=1):
        states = (before, after) if first_seen_first else (after, before)
        rows += [_row(0, port, states[0]), _row(1, port, states[1])]
    per_flow = flow_encryption(frame(rows)).sort_values("src_port")
    assert per_flow["encryption"].tolist() == ORDER[:-1]
    assert set(ORDER) - {"NX_ZZ_NEW"} == set(ENCRYPTION_STATES)


def test_a_flow_seen_unencrypted_in_any_tuple_is_not_counted_encrypted():
    # One UDP 5-tuple with fixed ports (10.20.1.4:5060 -> 10.20.2.4:5060), logged at both NICs:
    # encrypted at 10:00, then not (fell back, allowed unencrypted) at 14:00. Counting it X would
    # call the VNet all-encrypted and put its unencrypted bytes among the encrypted ones.
    rows = []
    for minute, enc in ((0, "X"), (240, "NX_FALLBACK")):
        for mac, direction in ((MA, "outbound"), (MDB, "inbound")):
            rows.append(tuple_row(minute, src=A, dst=DB, sport=5060, dport=5060, proto=17, mac=mac,
                                  direction=direction, state="E", encryption=enc, counters=(5, 500, 5, 500)))
    rows.append(_row(0, 1, "X", src=B, mac=MB))
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["by_state"] == {"X": 1, "NX_FALLBACK": 1}
    assert f.facts["encrypted_share"] == 0.5
    assert f.facts["bytes_encrypted_share"] == 200 / (200 + 2000)
    assert (f.verdict, f.severity) == ("partial", "low")
    # 10.20.2.4 encrypts with 10.20.1.5; 10.20.1.4 is in no flow encrypted throughout.
    assert f.facts["never_encrypting"] == [MA]
    assert f.evidence["never_encrypting"]["states"].tolist() == ["NX_FALLBACK"]
    assert f.evidence["vm_pairs"].set_index(["src", "dst"]).loc[(A, DB), "states"] == "NX_FALLBACK"


def test_vm_pairs_list_every_state_of_the_pair():
    rows = [_row(0, 1, "X"), _row(0, 2, "NX_HW_NOT_SUPPORTED"), _row(0, 3, "X")]
    pairs = encryption_audit(frame(rows), figures=False).evidence["vm_pairs"]
    assert pairs[["flows", "encrypted", "states"]].values.tolist() == [[3, 2, "NX_HW_NOT_SUPPORTED,X"]]
    assert pairs["encrypted_share"].tolist() == [2 / 3]


def test_one_address_in_two_vnets_is_two_nics_each_with_its_own_flows():
    # VNets that are not peered may use the same address space: 10.20.1.4 is web (MA) in one VNet
    # and another VM (000D3A0004B1) in the other. Only the first one encrypts.
    other, other_peer = "000D3A0004B1", "000D3A0004B2"
    rows = []
    for mac, direction in ((MA, "outbound"), (MDB, "inbound")):
        rows.append(_row(0, 50001, "X", dst=DB, mac=mac, direction=direction))
    for mac, direction in ((other, "outbound"), (other_peer, "inbound")):
        rows.append(_row(1, 50002, "NX", dst="10.20.2.9", mac=mac, direction=direction))
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["by_state"] == {"X": 1, "NX": 1}
    # Before, the address credited both NICs holding it with both flows: the NIC that never
    # encrypts was hidden behind its twin in the other VNet.
    assert f.facts["never_encrypting"] == [other, other_peer]
    assert f.evidence["never_encrypting"]["states"].tolist() == ["NX", "NX"]


def test_not_one_flow_encrypted_is_none_encrypted_not_partial():
    """0 % encrypted, nothing dropped, no NIC without support: "partial" promised some encryption
    (the connectivity sample's 247 flows, all NX, said "partial")."""
    rows = [_row(0, 1000, "NX"), _row(1, 1001, "NX_FALLBACK"), _row(2, 1002, "NX", src=B, mac=MB)]
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["encrypted_share"] == 0.0 and f.facts["dropped"] == 0 and f.facts["unsupported_macs"] == []
    assert (f.verdict, f.severity) == ("none-encrypted", "medium")
    # one encrypted flow among them makes it partial again
    f = encryption_audit(frame(rows + [_row(3, 1003, "X")]), figures=False)
    assert f.facts["encrypted_share"] == 0.25
    assert (f.verdict, f.severity) == ("partial", "low")


def test_the_connectivity_sample_holds_no_encrypted_flow():
    from pathlib import Path

    import flowkit

    flows = flowkit.read_flow_logs(Path(__file__).resolve().parents[2] / "data-samples" / "connectivity")
    f = encryption_audit(flows, figures=False)
    assert (f.facts["flows"], f.facts["encrypted_share"], f.verdict) == (247, 0.0, "none-encrypted")


def test_flows_are_listed_earliest_first_whatever_the_order_the_reader_met_them():
    late = _row(9, 50001, "X", src=B, mac=MB)  # read first: its address is the first category
    early = [_row(2, 50002, "NX_NOT_ACCEPTED"), _row(4, 50003, "NX")]
    for rows in ([late] + early, early + [late], [early[1], late, early[0]]):
        flows = frame(rows)
        table = flow_encryption(flows)
        assert list(zip(table["src_port"], table["encryption"])) == [
            (50002, "NX_NOT_ACCEPTED"), (50003, "NX"), (50001, "X")]
        audit = encryption_audit(flows, figures=False)
        assert audit.evidence["flows"]["src_port"].tolist() == [50002, 50003, 50001]
        assert audit.evidence["dropped"]["src_port"].tolist() == [50002]
        assert (audit.facts["flows"], audit.facts["dropped"]) == (3, 1)


@pytest.mark.parametrize("state, words", [
    ("NX_SW_NOT_READY", "while the host's networking software was not ready to encrypt"),
    ("NX_NOT_SUPPORTED", "because the host cannot discover encryption")])
def test_flows_in_a_state_microsoft_says_drops_packets_are_dropped_flows(state, words):
    # Microsoft's VNet flow logs overview: NX_SW_NOT_READY and NX_NOT_SUPPORTED drop the packet,
    # as NX_NOT_ACCEPTED does. The audit said "partial" and listed no dropped flow.
    rows = [_row(0, 1, "X"), _row(1, 2, state), _row(2, 3, "NX_NOT_ACCEPTED"), _row(3, 4, state)]
    f = encryption_audit(frame(rows), figures=False)
    assert (f.verdict, f.severity) == ("dropped", "high")
    assert f.facts["dropped"] == 3 and f.facts["by_state"] == {"X": 1, state: 2, "NX_NOT_ACCEPTED": 1}
    assert f.evidence["dropped"][["src_port", "encryption"]].values.tolist() == [
        [2, state], [3, "NX_NOT_ACCEPTED"], [4, state]]
    assert f.evidence["trend"]["dropped"].tolist() == [3]
    assert (f"1 flow(s) dropped for being unencrypted (NX_NOT_ACCEPTED); 2 flow(s) dropped {words} ({state})"
            in f.summary)
    meaning = f.evidence["by_state"].set_index("state").loc[state, "meaning"]
    assert meaning.startswith("Dropped: ")


def test_a_flow_dropped_while_the_host_was_not_ready_then_encrypted_is_named_by_its_drop():
    rows = [_row(0, 1, "NX_SW_NOT_READY"), _row(5, 1, "X")]
    assert flow_encryption(frame(rows))["encryption"].tolist() == ["NX_SW_NOT_READY"]
