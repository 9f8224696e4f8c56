"""key_table(): each per-log column of the NSG vs VNet key table, pinned with its dtype and values."""

from __future__ import annotations

import pandas as pd

from flowkit.analysis.compare import mac_hours
from flowkit.analysis.compare_keys import KEY_COLUMNS, key_table
from flowkit_frames import APP_MAC, BASE_TIME, WEB_MAC, frame, tuple_row

NSG = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
WINDOW = (BASE_TIME, BASE_TIME + pd.Timedelta("1h"))
MS = int(BASE_TIME.value // 1_000_000)  # the window's start in epoch milliseconds


def _nsg(minute: float, sport: int, nsg: str = "nsg-snet-web", **kw) -> dict:
    return tuple_row(minute, sport=sport, log_type="nsg", resource_id=NSG + nsg, **kw)


def _split(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    f = frame(rows)
    return f[f["log_type"] == "nsg"], f[f["log_type"] == "vnet"]


def _rows(keys: pd.DataFrame, columns: list[str]) -> list[list]:
    """The rows of ``columns``, missing values as None."""
    return [[None if pd.isna(v) else v for v in row] for row in keys[columns].astype(object).values.tolist()]


def _table(nsg: pd.DataFrame, vnet: pd.DataFrame, **kw) -> pd.DataFrame:
    return key_table(nsg, vnet, WINDOW, nsg_hours=mac_hours(nsg, WINDOW), vnet_hours=mac_hours(vnet, WINDOW), **kw)


#: A flow the subnet NSG and the NIC NSG both log at the web NIC, and the VNet log too (one key,
#: matched once); and a key both logs saw only before the window, the NSG at two NICs.
ROWS = [tuple_row(0, sport=1), _nsg(0, 1), _nsg(1, 1, "nsg-nic-web"),
        tuple_row(-50, sport=2), _nsg(-40, 2), _nsg(-30, 2, mac=APP_MAC)]

DTYPES = {"first": "Int64", "last": "Int64", "tuples": "Int64", "deny": "boolean", "enc_drop": "boolean",
          "avnm": "boolean", "macs": "str", "rules": "str", "nsgs": "Int64", "decision": "str",
          "known": "boolean", "packets_sent": "float64", "bytes_sent": "float64",
          "packets_received": "float64", "bytes_received": "float64", "mac_other": "boolean",
          "hour_gap": "boolean"}


def test_every_column_of_the_key_table_has_its_dtype():
    keys = _table(*_split(ROWS))
    assert tuple(keys.columns) == KEY_COLUMNS
    expected = {"src_ip": "str", "src_port": "int64", "dst_ip": "str", "dst_port": "int64", "protocol": "int64",
                "class": "str", **{f"{side}_{c}": t for side in ("nsg", "vnet") for c, t in DTYPES.items()},
                "decision_mismatch": "bool", "counter_mismatch": "bool", "causes": "object", "cause": "object"}
    assert {c: str(t) for c, t in keys.dtypes.items()} == expected


def test_a_key_seen_only_outside_the_window_keeps_what_each_log_saw_there():
    """Its first and last time, tuples and MACs outside the window; nothing of what is only
    measured inside it."""
    keys = _table(*_split(ROWS)).set_index("src_port")
    out = keys.loc[2]
    assert (out["class"], out["causes"], out["cause"]) == ("outside-window", "outside-window", "outside-window")
    assert (out["nsg_first"], out["nsg_last"], out["nsg_tuples"], out["nsg_macs"]) == (
        MS - 40 * 60_000, MS - 30 * 60_000, 2, f"{WEB_MAC},{APP_MAC}")
    assert (out["vnet_first"], out["vnet_last"], out["vnet_tuples"], out["vnet_macs"]) == (
        MS - 50 * 60_000, MS - 50 * 60_000, 1, WEB_MAC)
    for side in ("nsg", "vnet"):
        for c in ("deny", "rules", "nsgs", "decision", "known", "packets_sent", "mac_other", "hour_gap"):
            assert pd.isna(out[f"{side}_{c}"]), f"{side}_{c}"


def test_a_flow_logged_by_the_subnet_and_the_nic_nsg_is_one_matched_key():
    keys = _table(*_split(ROWS)).set_index("src_port")
    k = keys.loc[1]
    assert (k["class"], k["causes"], k["cause"]) == ("matched", "subnet-and-nic-nsg", "subnet-and-nic-nsg")
    assert (k["nsg_first"], k["nsg_last"], k["nsg_tuples"], k["nsg_nsgs"]) == (MS, MS + 60_000, 2, 2)
    # The VNet log has no NSG: 0 NSGs, not one per flow log resource.
    assert (k["vnet_first"], k["vnet_last"], k["vnet_tuples"], k["vnet_nsgs"]) == (MS, MS, 1, 0)
    assert (k["nsg_macs"], k["vnet_macs"], k["nsg_rules"], k["vnet_rules"]) == (
        WEB_MAC, WEB_MAC, "DefaultRule_AllowVnetOutBound", "DefaultRule_AllowVnetOutBound")
    assert (k["nsg_decision"], k["vnet_decision"], k["nsg_mac_other"], k["vnet_hour_gap"]) == (
        "allow", "allow", True, False)


def test_frames_holding_text_instead_of_categories_give_the_same_table():
    """A joined or anonymised frame holds text columns; key_table reads them as categories."""
    nsg, vnet = _split(ROWS)

    def text(f: pd.DataFrame) -> pd.DataFrame:
        return f.astype({c: object for c in f.columns if isinstance(f[c].dtype, pd.CategoricalDtype)})

    pd.testing.assert_frame_equal(
        key_table(text(nsg), text(vnet), WINDOW, nsg_hours=mac_hours(nsg, WINDOW),
                  vnet_hours=mac_hours(vnet, WINDOW)),
        _table(nsg, vnet))


def test_with_no_nsg_tuple_in_the_window_every_key_is_vnet_only():
    nsg, vnet = _split(ROWS)
    keys = _table(nsg.iloc[:0], vnet)
    assert _rows(keys, ["src_port", "class", "cause", "vnet_nsgs"]) == [
        [1, "vnet-only", "mac-not-logged", 0], [2, "outside-window", "hour-not-logged", None]]


def test_a_key_at_more_than_ten_nics_lists_ten_of_them():
    macs = [f"000D3A0001{i:02X}" for i in range(11)]
    nsg, vnet = _split([tuple_row(0, sport=1)] + [_nsg(0, 3, mac=m) for m in macs])
    keys = _table(nsg, vnet).set_index("src_port")
    assert keys.loc[3, "nsg_macs"] == ",".join(macs[:10]) + ",…(+1)"
    assert (keys.loc[3, "nsg_tuples"], keys.loc[3, "nsg_nsgs"]) == (11, 1)


AVNM = "DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"


def test_one_vnet_tuple_is_enough_to_explain_a_key_by_avnm_or_encryption():
    """Each key has a single VNet tuple: an AVNM deny or an encryption drop at the web NIC, seen
    by the NSG log as allowed (keys 1, 2) or not at all (keys 3, 4)."""
    drop = dict(decision="deny", state="D", encryption="NX_NOT_ACCEPTED")
    avnm = dict(decision="deny", state="D", rule=AVNM)
    rows = [tuple_row(0, sport=1, **drop), _nsg(0, 1), tuple_row(0, sport=2, **avnm), _nsg(0, 2),
            tuple_row(0, sport=3, **drop), tuple_row(0, sport=4, **avnm)]
    keys = _table(*_split(rows)).set_index("src_port")
    assert keys["class"].tolist() == ["matched", "matched", "vnet-only", "vnet-only"]
    assert keys["cause"].tolist() == ["encryption-drop", "avnm-rule", "encryption-drop", "avnm-rule"]
    assert keys["decision_mismatch"].tolist() == [True, True, False, False]
    assert keys["vnet_tuples"].tolist() == [1, 1, 1, 1]
    assert (keys["vnet_enc_drop"].tolist(), keys["vnet_avnm"].tolist()) == (
        [True, False, True, False], [False, True, False, True])


def test_a_tuple_with_no_rule_or_no_mac_is_still_counted():
    """A hand-made or partly filled frame: a missing rule is no AVNM rule, a missing MAC no NIC."""
    rows = [tuple_row(0, sport=1), _nsg(0, 1), tuple_row(1, sport=1, rule=None), _nsg(1, 1, mac=None),
            tuple_row(0, sport=9, decision="deny", state="D", rule=AVNM)]  # the last rule name is AVNM's
    keys = _table(*_split(rows))
    assert _rows(keys, ["class", "nsg_tuples", "vnet_tuples", "vnet_avnm", "nsg_macs", "vnet_rules"]) == [["matched", 2, 2, False, WEB_MAC, "DefaultRule_AllowVnetOutBound"],
                                    ["vnet-only", None, 1, True, None, AVNM]]


def test_a_key_with_a_single_nsg_tuple_before_the_window_is_kept():
    """Nothing else of it anywhere: outside the window, in an hour the VNet log did not write."""
    keys = _table(*_split([tuple_row(0, sport=1), _nsg(0, 1), _nsg(-30, 5)]))
    assert _rows(keys, ["src_port", "class", "nsg_tuples", "vnet_tuples", "cause"]) == [
        [1, "matched", 1, 1, None], [5, "outside-window", 1, None, "hour-not-logged"]]


def test_no_rows_give_an_empty_table_with_every_column():
    empty = frame([tuple_row(0)]).iloc[:0]
    keys = key_table(empty, empty, WINDOW, nsg_hours=set(), vnet_hours=set())
    assert (len(keys), tuple(keys.columns)) == (0, KEY_COLUMNS)


def test_an_nsg_only_key_logged_by_the_subnet_and_the_nic_nsg_gets_both_causes():
    rows = [tuple_row(0, sport=1), _nsg(0, 1), _nsg(0, 6), _nsg(0, 6, "nsg-nic-web")]
    keys = _table(*_split(rows)).set_index("src_port")
    assert (keys.loc[6, "class"], keys.loc[6, "nsg_nsgs"]) == ("nsg-only", 2)
    assert (keys.loc[6, "causes"], keys.loc[6, "cause"]) == ("unexplained,subnet-and-nic-nsg", "unexplained")


def test_a_tuple_with_no_address_is_a_key_of_its_own_listed_last():
    rows = [tuple_row(0, sport=1), _nsg(0, 1), tuple_row(0, sport=1, src=None), _nsg(0, 1, dst=None),
            tuple_row(0, sport=1, src="10.99.0.4")]  # a source that sorts after every destination
    keys = _table(*_split(rows))
    assert _rows(keys, ["src_ip", "dst_ip", "src_port", "class"]) == [
        ["10.10.1.4", "10.10.2.4", 1, "matched"], ["10.10.1.4", None, 1, "nsg-only"],
        ["10.99.0.4", "10.10.2.4", 1, "vnet-only"], [None, "10.10.2.4", 1, "vnet-only"]]
