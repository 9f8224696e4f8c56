"""encryption_audit(): states, unsupported NICs, drops, matrices, trend."""

from __future__ import annotations

from flowkit.analysis.encryption import ENCRYPTION_MEANINGS, encryption_audit, flow_encryption
from flowkit.inventory import inventory_from_records
from flowkit.schema import ENCRYPTION_STATES, empty_frame
from flowkit_frames import frame, tuple_row

A, B, DB, LEGACY = "10.20.1.4", "10.20.1.5", "10.20.2.4", "10.20.1.6"
MA, MB, MDB, ML = "000D3A000401", "000D3A000402", "000D3A000403", "000D3A000404"
INV = inventory_from_records([
    {"mac": MA, "ip": A, "vm": "sec-app-01", "subnet": "snet-sec-app", "subnet_prefix": "10.20.1.0/24"},
    {"mac": MB, "ip": B, "vm": "sec-app-02", "subnet": "snet-sec-app", "subnet_prefix": "10.20.1.0/24"},
    {"mac": MDB, "ip": DB, "vm": "sec-db-01", "subnet": "snet-sec-data", "subnet_prefix": "10.20.2.0/24"},
    {"mac": ML, "ip": LEGACY, "vm": "legacy-01", "subnet": "snet-sec-app", "subnet_prefix": "10.20.1.0/24"},
])


def _flow(src, smac, dst, dmac, sport, enc, minute=0, counters=(10, 1000, 10, 3000), deny=False):
    state = "D" if deny else "E"
    c = (0, 0, 0, 0) if deny else counters
    kw = dict(src=src, dst=dst, sport=sport, dport=1433, encryption=enc, state=state,
              decision="deny" if deny else "allow", counters=c)
    return [tuple_row(minute, mac=smac, direction="outbound", **kw),
            tuple_row(minute, mac=dmac, direction="inbound", **kw)]


def _rows():
    return (_flow(A, MA, DB, MDB, 1, "X") + _flow(B, MB, DB, MDB, 2, "X")
            + _flow(A, MA, B, MB, 3, "NX_LOCAL_DST")
            + _flow(LEGACY, ML, DB, MDB, 4, "NX_HW_NOT_SUPPORTED")
            + _flow(LEGACY, ML, DB, MDB, 5, "NX_NOT_ACCEPTED", minute=61, deny=True)
            + [tuple_row(0, src=A, dst="198.51.100.20", sport=6, dport=443, mac=MA, state="E", encryption="NX",
                         counters=(1, 100, 1, 100))])


def test_facts():
    f = encryption_audit(frame(_rows()), inventory=INV, figures=False)
    assert f.facts == {"flows": 6, "encrypted_share": 2 / 6, "bytes_encrypted_share": 8000 / (4 * 4000 + 200),
                       "by_state": {"X": 2, "NX": 1, "NX_HW_NOT_SUPPORTED": 1, "NX_NOT_ACCEPTED": 1,
                                    "NX_LOCAL_DST": 1},
                       "unsupported_macs": [ML], "never_encrypting": [ML], "dropped": 1}
    assert (f.verdict, f.severity) == ("dropped", "high")
    assert "legacy-01" in f.summary


def test_bytes_are_not_double_counted_across_both_ends():
    per_flow = flow_encryption(frame(_flow(A, MA, DB, MDB, 1, "X")))
    assert per_flow["bytes"].tolist() == [4000]


def test_evidence_tables():
    f = encryption_audit(frame(_rows()), inventory=INV)
    states = f.evidence["by_state"].set_index("state")
    assert states.loc["NX_LOCAL_DST", "action"] == "Nothing to do."
    assert "hardware" in states.loc["NX_HW_NOT_SUPPORTED", "meaning"]
    pairs = f.evidence["vm_pairs"].set_index(["src", "dst"])
    assert pairs.loc[("legacy-01", "sec-db-01"), "flows"] == 2
    assert pairs.loc[("sec-app-01", "sec-db-01"), "encrypted_share"] == 1.0
    matrix = f.evidence["subnet_matrix"].set_index("src_subnet")
    assert matrix.loc["snet-sec-app", "snet-sec-data"] == 2 / 4
    assert matrix.loc["snet-sec-app", "internet"] == 0.0
    assert f.evidence["never_encrypting"].to_dict("records") == [
        {"mac": ML, "vm": "legacy-01", "states": "NX_HW_NOT_SUPPORTED,NX_NOT_ACCEPTED", "hardware_not_supported": True}]
    trend = f.evidence["trend"]
    assert trend["flows"].tolist() == [5, 1] and trend["dropped"].tolist() == [0, 1]
    assert "trend" in f.figures


def test_local_dst_does_not_make_a_vm_never_encrypting():
    rows = _flow(A, MA, B, MB, 3, "NX_LOCAL_DST")
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["never_encrypting"] == [] and f.facts["unsupported_macs"] == []
    assert f.verdict == "none-encrypted"


def test_all_encrypted_and_no_vnet_data():
    assert encryption_audit(frame(_flow(A, MA, DB, MDB, 1, "X")), figures=False).verdict == "all-encrypted"
    assert encryption_audit(empty_frame()).facts["flows"] == 0
    nsg_only = frame([tuple_row(0, log_type="nsg")])
    assert encryption_audit(nsg_only).verdict == "no-vnet-data"


def test_every_documented_state_has_a_meaning():
    assert set(ENCRYPTION_MEANINGS) == set(ENCRYPTION_STATES)


REPORT_DB, MRDB = "10.20.2.5", "000D3A000405"
UNLOGGED = "10.20.3.9"  # a VNet-private peer whose NIC is not logged


def test_the_peer_of_a_vm_that_cannot_encrypt_is_not_unsupported():
    # legacy-01 (no hardware support) -> report-db (supports it, no other traffic): both NICs
    # log NX_HW_NOT_SUPPORTED, outbound at legacy-01 and inbound at report-db.
    rows = [r for i in range(5) for r in _flow(LEGACY, ML, REPORT_DB, MRDB, 50000 + i, "NX_HW_NOT_SUPPORTED",
                                               minute=10 * i)]
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["unsupported_macs"] == [ML]
    assert f.facts["never_encrypting"] == [ML, MRDB]
    assert f.evidence["never_encrypting"]["hardware_not_supported"].tolist() == [True, False]
    assert (f.verdict, f.severity) == ("unsupported", "medium")
    assert f.summary.endswith(f"NIC(s) on VM sizes without encryption support: {ML}.")


def test_inbound_only_from_an_unlogged_peer_names_no_unsupported_nic():
    # Only the receiver is logged: the logs cannot tell which end lacks support.
    rows = [tuple_row(0, src=UNLOGGED, dst=DB, sport=1, dport=1433, direction="inbound", mac=MDB, state="E",
                      encryption="NX_HW_NOT_SUPPORTED", counters=(10, 1000, 10, 3000))]
    f = encryption_audit(frame(rows), figures=False)
    assert f.facts["unsupported_macs"] == []
    assert f.facts["never_encrypting"] == [MDB]
    assert f.evidence["never_encrypting"]["hardware_not_supported"].tolist() == [False]
    assert f.verdict == "none-encrypted"


def test_inbound_from_a_peer_that_encrypts_names_the_receiver():
    # The unlogged peer encrypts with sec-db-01, so when report-db logs NX_HW_NOT_SUPPORTED
    # inbound from it, report-db is the one that cannot encrypt; likewise sec-app-01, which
    # encrypts, sending to report-db (logged at both ends) is not the cause.
    peer_x = tuple_row(0, src=UNLOGGED, dst=DB, sport=1, dport=1433, direction="inbound", mac=MDB, state="E",
                       encryption="X", counters=(10, 1000, 10, 3000))
    peer_hw = tuple_row(1, src=UNLOGGED, dst=REPORT_DB, sport=2, dport=1433, direction="inbound", mac=MRDB,
                        state="E", encryption="NX_HW_NOT_SUPPORTED", counters=(10, 1000, 10, 3000))
    app_hw = _flow(A, MA, REPORT_DB, MRDB, 3, "NX_HW_NOT_SUPPORTED", minute=2)
    app_x = _flow(A, MA, DB, MDB, 4, "X", minute=3)
    f = encryption_audit(frame([peer_x, peer_hw] + app_hw + app_x), figures=False)
    assert f.facts["unsupported_macs"] == [MRDB]
    assert f.facts["never_encrypting"] == [MRDB]
    assert encryption_audit(frame([peer_x, peer_hw]), figures=False).facts["unsupported_macs"] == [MRDB]
    assert encryption_audit(frame(app_hw + app_x), figures=False).facts["unsupported_macs"] == [MRDB]


def test_bytes_per_state_trend_and_matrix_without_inventory():
    f = encryption_audit(frame(_rows()), figures=False)
    states = f.evidence["by_state"]
    assert states[["state", "flows", "bytes"]].values.tolist() == [
        ["X", 2, 8000], ["NX", 1, 200], ["NX_HW_NOT_SUPPORTED", 1, 4000], ["NX_NOT_ACCEPTED", 1, 0],
        ["NX_LOCAL_DST", 1, 4000]]
    trend = f.evidence["trend"]
    assert trend[["flows", "encrypted", "dropped", "encrypted_share"]].values.tolist() == [
        [5, 2, 0, 0.4], [1, 0, 1, 0.0]]
    # Without an inventory, private addresses fall in their /24 and public ones in "internet".
    matrix = f.evidence["subnet_matrix"].set_index("src_subnet")
    assert matrix.loc["10.20.1.0/24", "10.20.2.0/24"] == 2 / 4
    assert matrix.loc["10.20.1.0/24", "internet"] == 0.0
    assert "1 flow(s) dropped for being unencrypted (NX_NOT_ACCEPTED)" in f.summary
    partial = encryption_audit(frame(_flow(A, MA, B, MB, 3, "NX_LOCAL_DST")), figures=False)
    assert "dropped" not in partial.summary


def test_a_flow_takes_its_most_telling_state_and_is_denied_only_when_dropped():
    rows = [tuple_row(0, src=A, dst=DB, sport=1, dport=1433, mac=MA, state="C", encryption="NX",
                      counters=(1, 100, 1, 100)),
            tuple_row(1, src=A, dst=DB, sport=1, dport=1433, mac=MA, state="E", encryption="NX_HW_NOT_SUPPORTED",
                      counters=(1, 100, 1, 100)),
            tuple_row(0, src=A, dst=DB, sport=2, dport=1433, mac=MA, state="C", encryption="X",
                      counters=(1, 100, 1, 100)),
            tuple_row(1, src=A, dst=DB, sport=2, dport=1433, mac=MA, decision="deny", state="D",
                      encryption="NX_NOT_ACCEPTED"),
            # VNet: NX_NOT_ACCEPTED is a deny whatever the state.
            tuple_row(0, src=A, dst=DB, sport=3, dport=1433, mac=MA, decision="deny", state="B",
                      encryption="NX_NOT_ACCEPTED"),
            tuple_row(0, src=A, dst=DB, sport=4, dport=1433, mac=MA, state="E", encryption="X",
                      counters=(1, 100, 1, 100))]
    per_flow = flow_encryption(frame(rows)).sort_values("src_port")
    assert per_flow["encryption"].tolist() == ["NX_HW_NOT_SUPPORTED", "NX_NOT_ACCEPTED", "NX_NOT_ACCEPTED", "X"]
    assert per_flow["denied"].tolist() == [False, True, True, False]
    assert per_flow["bytes"].tolist() == [400, 200, 0, 200]
