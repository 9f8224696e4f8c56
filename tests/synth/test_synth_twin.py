"""NSG v2 twins of VNet blobs: each tuple as the NIC's NSG logs it, and a ``both`` corpus whose
every NSG vs VNet difference has a known cause."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from flowkit.analysis.compare import compare_nsg_vnet, is_avnm_rule
from flowkit.read import read_flow_logs
from flowkit.sources.layout import parse_blob_path
from flowkit.synth import write_corpus
from flowkit.synth.twin import nsg_twin_tuple

HEAD = "1714557600123,10.10.1.4,198.51.100.20,50000,443"


@pytest.mark.parametrize("vnet, nsg", [
    pytest.param(f"{HEAD},6,O,B,NX,0,0,0,0", "1714557600,10.10.1.4,198.51.100.20,50000,443,T,O,A,B,,,,",
                 id="B: counters unknown"),
    pytest.param(f"{HEAD},6,O,C,X,7,700,3,300", "1714557600,10.10.1.4,198.51.100.20,50000,443,T,O,A,C,7,700,3,300",
                 id="TCP C: counters kept"),
    pytest.param(f"{HEAD},17,O,E,NX,7,700,3,300", "1714557600,10.10.1.4,198.51.100.20,50000,443,U,O,A,E,0,0,0,0",
                 id="UDP E: NSG v2 counts TCP only"),
    pytest.param(f"{HEAD},6,I,D,NX,0,0,0,0", "1714557600,10.10.1.4,198.51.100.20,50000,443,T,I,D,B,,,,",
                 id="denied by an NSG rule"),
    pytest.param(f"{HEAD},6,O,D,NX_NOT_ACCEPTED,0,0,0,0",
                 "1714557600,10.10.1.4,198.51.100.20,50000,443,T,O,A,B,,,,", id="encryption drop: NSG allowed"),
    pytest.param(f"{HEAD},1,O,C,NX,1,84,1,84", None, id="ICMP: not in NSG v2"),
])
def test_nsg_twin_tuple(vnet: str, nsg: str | None) -> None:
    # outbound, or denied, or dropped: the rule does not matter (DefaultRule_AllowVnetInBound for the
    # inbound denial is what a default rule gives; user-rule inbound TCP is in test_synth_twin_pinned.py)
    assert nsg_twin_tuple(vnet, "DefaultRule_AllowVnetInBound") == nsg
    assert nsg_twin_tuple(vnet, "UserRule_AllowHttps") == nsg or vnet.split(",")[6] == "I"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("both")
    info = write_corpus(root, "both", 3_000_000, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one tuple quarantined
        flows = read_flow_logs(root)
    return root, info, flows


def test_both_corpus_has_a_twin_per_vnet_blob(both) -> None:
    root, info, flows = both
    metas = [parse_blob_path(p.as_posix()) for p in root.rglob("PT1H.json")]
    vnet = {(m.mac, m.hour) for m in metas if m.log_type == "vnet"}
    nsg = {(m.mac, m.hour) for m in metas if m.log_type == "nsg"}
    assert vnet == nsg and len(vnet) * 2 == info.files
    assert info.tuples == len(flows) and info.records == 60 * info.files
    assert set(flows.loc[flows["log_type"] == "nsg", "version"]) == {2}


def test_both_corpus_rows_are_the_vnet_rows_but_avnm_denials(both) -> None:
    _, _, flows = both
    vnet = flows[flows["log_type"] == "vnet"]
    nsg = flows[flows["log_type"] == "nsg"]
    avnm_denied = (vnet["state"] == "D").to_numpy() & vnet["rule"].astype(object).map(is_avnm_rule).to_numpy(bool)
    assert avnm_denied.sum() > 0
    kept = vnet[~avnm_denied]
    assert len(nsg) == len(kept)
    key = ["src_ip", "dst_ip", "src_port", "dst_port", "protocol"]

    def sorted_keys(frame):
        return frame[key].astype(object).sort_values(key).to_numpy()

    np.testing.assert_array_equal(sorted_keys(nsg), sorted_keys(kept))
    np.testing.assert_array_equal(np.sort(nsg["flow_time"].astype("int64").to_numpy() // 1000),
                                  np.sort(kept["flow_time"].astype("int64").to_numpy() // 1000))


def test_both_corpus_reconciles_with_known_causes_only(both) -> None:
    _, _, flows = both
    finding = compare_nsg_vnet(flows, figures=False)
    facts = finding.facts
    assert finding.verdict == "ready" and facts["coverage"] == 1.0
    assert facts["nsg_only"] == 0 and facts["outside_window"] == 0
    assert set(facts["explained"]) == {"avnm-rule", "encryption-drop", "nsg-v2-counts-tcp-only",
                                       "nsg-inbound-tcp-not-counted"}
    # every counter mismatch is NSG counters that are zero: UDP, or inbound TCP under a user rule
    assert facts["counter_mismatch"] == (facts["explained"]["nsg-v2-counts-tcp-only"]
                                         + facts["explained"]["nsg-inbound-tcp-not-counted"])
    keys = finding.evidence["keys"]
    assert (keys.loc[keys["class"] == "vnet-only", "cause"] == "avnm-rule").all() and facts["vnet_only"] > 0
    assert facts["decision_mismatch"] == facts["explained"]["encryption-drop"] + int(
        ((keys["cause"] == "avnm-rule") & (keys["class"] == "matched")).sum())
