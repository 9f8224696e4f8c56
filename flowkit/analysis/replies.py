"""What the counters of a connection's tuples say about its replies.

:func:`reply_counts` sums the packets sent and received of the traffic :func:`flowkit.analysis.diagnose.diagnose`
judges, each flow counted once, from the counters that count: not NSG v2's for
non-TCP traffic (it counts TCP only), not NSG's zero counters of inbound TCP allowed by
a non-default rule (which Microsoft says are not recorded), and says why when none count.

Examples
--------
>>> from flowkit.schema import coerce
>>> one = dict(src_ip="10.0.0.4", dst_ip="10.0.1.4", src_port=50000, dst_port=443, protocol=6, state="E",
...            packets_sent=5, bytes_sent=500, packets_received=0, bytes_received=0, log_type="vnet",
...            mac="000D3A000001", direction="outbound")
>>> reply_counts(coerce(pd.DataFrame([one])))
(5, 0, True, '')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowkit.analysis.counting import counters, flow_counters, uncounted_inbound_tcp
from flowkit.analysis.keys import category_mask, flow_ids

__all__ = ["reply_counts"]


def _unrecorded_inbound_tcp(rows: pd.DataFrame, c: dict[str, np.ndarray]) -> np.ndarray:
    """NSG rows whose zero counters are not counts (:func:`flowkit.analysis.counting.uncounted_inbound_tcp`)."""
    zero = np.ones(len(rows), dtype=bool)
    for name in ("packets_sent", "bytes_sent", "packets_received", "bytes_received"):
        zero &= c[name] == 0
    return uncounted_inbound_tcp(rows, c["known"], zero)


def reply_counts(rows: pd.DataFrame) -> tuple[int, int, bool, str]:
    """Packets sent and received by the traffic, each flow counted once; whether any counter is usable.

    Each flow's counters come from its busiest observer (the source and the destination
    NIC, or a subnet and a NIC NSG, see the same packets). NSG v2 counters count TCP only,
    so its UDP counters say nothing about replies. The last item says, when no counter is
    usable, why.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> one = dict(src_ip="10.0.0.4", dst_ip="10.0.1.4", src_port=50000, dst_port=443, protocol=6, state="E",
    ...            packets_sent=5, bytes_sent=500, packets_received=4, bytes_received=400, log_type="vnet")
    >>> rows = coerce(pd.DataFrame([dict(one, mac="000D3A000001", direction="outbound"),
    ...                             dict(one, mac="000D3A000002", direction="inbound")]))
    >>> reply_counts(rows)[:3]
    (5, 4, True)
    >>> reply_counts(coerce(pd.DataFrame([dict(one, state="B", log_type="vnet")])))[3]
    'the logs hold only flow-begin (B) tuples (counters come with C and E tuples)'
    """
    c = counters(rows)
    nsg = category_mask(rows["log_type"], "nsg")
    udp_nsg = nsg & (rows["protocol"].to_numpy() != 6)
    unrecorded = _unrecorded_inbound_tcp(rows, c)
    usable = c["known"] & ~udp_nsg & ~unrecorded
    if not usable.any():
        why = []
        if (nsg & rows["state"].isna().to_numpy()).any():
            why.append("NSG v1 logs carry no counters")
        if (udp_nsg & rows["state"].notna().to_numpy()).any():
            why.append("NSG v2 counts TCP packets only")
        if unrecorded.any():
            why.append("NSG flow logs record no packet counts for inbound TCP flows allowed by a "
                       "non-default rule (their counters are 0)")
        if (~udp_nsg & category_mask(rows["state"], "B")).any() \
                and not (~udp_nsg & category_mask(rows["state"], ["C", "E"])).any():
            why.append("the logs hold only flow-begin (B) tuples (counters come with C and E tuples)")
        return 0, 0, False, "; ".join(why) or "the logs carry no counters"
    fid = flow_ids(rows)
    per_flow = flow_counters(rows.loc[usable], fid[usable], int(fid.max()) + 1)
    return int(per_flow["packets_sent"].sum()), int(per_flow["packets_received"].sum()), True, ""
