"""What the curated notebooks show a reader, pinned where the text promises it."""

from __future__ import annotations

import pytest

from nbrun import EXECUTED, displayed

#: The samples: FLOWKIT_DATA unset (it names the user's logs), no inventory of the user's.
ENV: dict[str, str | None] = {"FLOWKIT_DATA": None, "FLOWKIT_INVENTORY": None}


@pytest.mark.slow
def test_02_shows_the_two_nsgs_of_the_nic_by_name(notebook_runner) -> None:
    """The text says the table names two NSGs for app-01's traffic; the full resource IDs share
    their first 50 characters, which is all pandas shows of a cell, so both rows read the same
    "/SUBSCRIPTIONS/00000000-0000-0000-0000-0000000..." and the two NSGs could not be told apart."""
    got = notebook_runner("02-nsg-vs-vnet", {"nic": "nic"}, env=ENV)
    assert got["nic"] == "000D3A000201"
    table = next(text for text in displayed(got[EXECUTED]) if "tuples" in text and "acl_id" in text)
    for name in ("NSG-SNET-APP", "NSG-NIC-APP-01", "FL-VNET-APP"):
        assert name in table


@pytest.mark.slow
def test_03_shows_the_nics_to_resize(notebook_runner) -> None:
    """The text says `unsupported` lists the NICs to resize: the notebook shows it, not only computes it."""
    got = notebook_runner("03-encryption-audit", {"unsupported": "unsupported"}, env=ENV)
    assert got["unsupported"] == ["000D3A000404"]
    shown = displayed(got[EXECUTED])
    assert any("'NICs to resize (unsupported_macs)': ['000D3A000404']" in text for text in shown)
    assert any("'dropped flows': 30" in text for text in shown)


#: The table a notebook displayed last with these columns (IPython's ``Out``: what the reader saw).
SHOWN = "[o for o in Out.values() if hasattr(o, 'columns') and {cols!r} <= set(o.columns)][-1]"
PROTOCOLS = {6: "TCP", 17: "UDP"}


@pytest.mark.slow
@pytest.mark.parametrize("verdict, states", [
    pytest.param("lost-in-transit", {"000D3A000201": ["no-reply"]}, id="lost-in-transit"),
    pytest.param("no-reply", {"000D3A000102": ["no-reply"], "000D3A000202": ["no-reply"]}, id="no-reply")])
def test_01_sessions_read_as_the_text_says(notebook_runner, expected, verdict: str, states: dict) -> None:
    """Section 2 says: a destination NIC with no session at all, although logged, is lost in transit;
    one with `no-reply` sessions received the packets and did not answer."""
    case = next(d for d in expected("connectivity")["diagnoses"] if d["verdict"] == verdict)
    got = notebook_runner("01-connectivity-failures", {
        "verdict": "verdict", "logged": "sorted(finding.evidence['logged_nics']['mac'])",
        "states": "sessions.groupby('mac', observed=True)['state_reached'].agg(lambda s: sorted(set(s))).to_dict()",
    }, parameters={"src": case["src"], "dst": case["dst"], "port": case["port"]}, env=ENV)
    assert got["verdict"] == verdict and got["states"] == states
    assert "000D3A000302" in got["logged"]  # cache-01 is logged, and has no session of app-01's traffic


@pytest.mark.slow
def test_02_shows_one_row_per_kind_of_difference_and_pair(notebook_runner, expected) -> None:
    """The differences table groups keys by class, causes and endpoints, with the keys of each row; the
    text names the sample's window and its encryption-drop, AVNM and mac-not-logged rows."""
    cols = {"class", "causes", "src_ip", "dst_ip", "dst_port", "protocol", "keys"}
    got = notebook_runner("02-nsg-vs-vnet", {"shown": SHOWN.format(cols=cols) + ".to_dict('records')",
                                             "window": "comparison.facts['window']"}, env=ENV)
    want = expected("nsg-vs-vnet")
    assert got["window"] == want["window"]
    shown = {(r["class"], tuple(sorted(r["causes"].split(","))), r["src_ip"], r["dst_ip"], r["dst_port"],
              PROTOCOLS[r["protocol"]]): r["keys"] for r in got["shown"]}
    wanted: dict = {}
    for k in want["keys"]:  # a plain match logged by two NSGs is no difference
        if k["class"] != "matched" or set(k["causes"]) - {"subnet-and-nic-nsg"}:
            row = (k["class"], tuple(sorted(k["causes"])), k["src_ip"], k["dst_ip"], k["dst_port"], k["protocol"])
            wanted[row] = wanted.get(row, 0) + 1
    assert shown == wanted
    assert shown[("matched", ("encryption-drop",), "10.10.2.5", "10.10.3.4", 1433, "TCP")] == 10
    assert shown[("vnet-only", ("avnm-rule",), "10.10.1.5", "198.51.100.200", 445, "TCP")] == 5
    assert shown[("vnet-only", ("mac-not-logged",), "10.10.3.4", "10.10.3.5", 6379, "TCP")] == 3
    # the internet clients' HTTPS, which the NSG flow logs never counted (one row per client)
    uncounted = [(row[3:], n) for row, n in shown.items() if row[:2] == ("matched", ("nsg-inbound-tcp-not-counted",))]
    assert sum(n for _, n in uncounted) == 6
    assert {row for row, _ in uncounted} == {("10.10.1.4", 443, "TCP"), ("10.10.1.5", 443, "TCP")}


@pytest.mark.slow
def test_03_shows_why_each_pair_is_unencrypted_and_the_drops_per_sender(notebook_runner, expected) -> None:
    """The VM pairs table shows `states` (a share of 0 is not always a problem), least encrypted first,
    then most bytes first; the dropped flows are shown one row per sender, destination and port, with the attempts."""
    pair_cols = {"src", "dst", "states", "encrypted_share"}
    drop_cols = {"attempts", "first", "last"}
    got = notebook_runner("03-encryption-audit", {
        "pairs": SHOWN.format(cols=pair_cols) + "[['src', 'dst', 'states', 'encrypted_share']].to_dict('records')",
        "drops": SHOWN.format(cols=drop_cols) + ".reset_index().to_dict('records')"}, env=ENV)
    assert got["pairs"] == [
        {"src": "legacy-01", "dst": "sec-db-01", "states": "NX_HW_NOT_SUPPORTED,NX_NOT_ACCEPTED", "encrypted_share": 0.0},
        {"src": "sec-app-01", "dst": "sec-app-02", "states": "NX_LOCAL_DST", "encrypted_share": 0.0},
        {"src": "sec-app-01", "dst": "198.51.100.20", "states": "NX", "encrypted_share": 0.0},
        {"src": "sec-app-02", "dst": "sec-db-01", "states": "X", "encrypted_share": 1.0},
        {"src": "sec-app-01", "dst": "sec-db-01", "states": "X", "encrypted_share": 1.0}]
    want = expected("encryption")
    dropped = [f for f in want["flows"] if f["encryption"] == "NX_NOT_ACCEPTED"]
    assert got["drops"] == [{"src_ip": "10.20.1.6", "dst_ip": "10.20.2.4", "dst_port": 1433, "protocol": 6,
                             "attempts": want["dropped"]["flows"],
                             "first": want["dropped"]["first"].replace(".000Z", "Z"),
                             "last": max(f["start"] for f in dropped).replace(".000Z", "Z")}]


def test_01_says_an_encryption_drop_is_not_only_drop_unencrypted() -> None:
    """diagnose calls NX_SW_NOT_READY and NX_NOT_SUPPORTED drops encryption-dropped too: the
    notebook's reading of that verdict must not say it always means DropUnencrypted."""
    import json
    from pathlib import Path

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "01-connectivity-failures.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    bullet = text[text.index("- **Encryption-dropped**"):].split("\n- ")[0]
    assert "`NX_NOT_ACCEPTED` the VNet enforces `DropUnencrypted`" in bullet
    assert "`NX_SW_NOT_READY` or `NX_NOT_SUPPORTED` the host could not encrypt" in bullet
