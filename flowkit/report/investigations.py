"""Run the investigations a report is made of, headless: what ``flowkit report`` calls.

Each investigation is a public analysis function returning a
:class:`~flowkit.findings.Finding`; this module only chooses which apply and
calls them in order.

Examples
--------
>>> from flowkit.schema import empty_frame
>>> [f.verdict for f in investigate(empty_frame(), ["connectivity"])]
['none']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

import pandas as pd

from flowkit.analysis.keys import category_mask
from flowkit.filters import filter_flows
from flowkit.findings import Finding
from flowkit.progress import progress_bar
from flowkit.sources.times import to_window

if TYPE_CHECKING:  # pragma: no cover
    from flowkit.inventory import Inventory

__all__ = ["investigate", "talkers_finding", "INVESTIGATIONS", "Pair"]

#: Investigations a report can run, in the order they are shown.
INVESTIGATIONS = ("connectivity", "compare", "encryption", "talkers")

#: One connectivity question: (src, dst, port or None, protocol or None).
Pair = tuple[str, str, "int | None", "int | str | None"]


def talkers_finding(flows: pd.DataFrame, *, n: int = 10, by: str = "ip", inventory: "Inventory | None" = None,
                    figures: bool = True, max_drawn: int = 60) -> Finding:
    """Top talkers of a flow table as a finding (talker graph, busiest nodes, a drawing).

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table.
    n : int
        Nodes listed per ranking.
    by : {"ip", "mac", "subnet"}
        Node identity (see :func:`flowkit.analysis.graph.talker_graph`).
    inventory : flowkit.inventory.Inventory, optional
        Names VMs on the nodes.
    figures : bool
        Draw the graph of the busiest ``max_drawn`` nodes.

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> talkers_finding(empty_frame()).facts["nodes"]
    0
    """
    from flowkit.analysis.graph import talker_graph, top_talkers

    G = talker_graph(flows, by, inventory=inventory)
    by_bytes = top_talkers(G, n, weight="bytes")
    by_flows = top_talkers(G, n, weight="flows")
    denied_edges = sum(1 for _, _, d in G.edges(data=True) if d.get("denied", 0))
    evidence = {"by_bytes": by_bytes, "by_flows": by_flows}
    if denied_edges:
        denied = top_talkers(G, n, weight="denied")
        evidence["by_denied_flows"] = denied[denied["total"] > 0].reset_index(drop=True)
    figs: dict[str, Any] = {}
    if figures and G.number_of_nodes():
        from flowkit.analysis.draw import draw_talker_graph

        keep = top_talkers(G, max_drawn, weight="bytes")["node"].tolist()
        H = G.subgraph(keep).copy() if G.number_of_nodes() > max_drawn else G
        figs["talker_graph"] = draw_talker_graph(H, max_labels=20, title=f"Talkers by {by}"
                                                 + (f" (busiest {max_drawn})" if H is not G else ""))
    if G.number_of_nodes():
        top = by_bytes.iloc[0]
        if pd.isna(top["total"]):  # no flow gave counters (NSG v1, NSG v2 B tuples only, unrecorded zeros)
            from flowkit.analysis.counting import counted_values, unrecorded_rows

            why = "NSG v1, or NSG v2 flows seen only beginning"
            if unrecorded_rows(flows, *counted_values(flows)).any():  # NSG v2's zeros of inbound TCP, user rules
                why = ("NSG v1, NSG v2 flows seen only beginning, or inbound TCP a user-defined NSG rule "
                       "allows, whose counts NSG flow logs do not record")
            busiest = f"the logs give no byte counts ({why})"
        else:
            busiest = (f"the busiest is {top['node']}{' (' + str(top['vm']) + ')' if top['vm'] else ''} "
                       f"with {int(top['total']):,} byte(s) sent and received")
        summary = (f"{G.number_of_nodes():,} node(s) and {G.number_of_edges():,} talker pair(s); {busiest}. "
                   f"{denied_edges:,} pair(s) had denied flows.")
    else:
        summary = "No flows: no talkers."
    nodes = G.number_of_nodes()
    notes = ([f"The rankings list the busiest {n:,} of {nodes:,} nodes; flowkit.talker_graph(flows) holds them all."]
             if nodes > n else [])
    return Finding(title=f"Top talkers (by {by})", verdict="top-talkers" if G.number_of_nodes() else "none",
                   severity="info", summary=summary, evidence=evidence, figures=figs, notes=notes,
                   facts={"nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                          "denied_edges": denied_edges, "top_by_bytes": by_bytes["node"].tolist()})


def _has(flows: pd.DataFrame | None, log_type: str) -> bool:
    return flows is not None and len(flows) > 0 and bool(category_mask(flows["log_type"], log_type).any())


def investigate(
    flows: pd.DataFrame,
    investigations: Iterable[str] | None = None,
    *,
    pairs: Sequence[Pair] = (),
    nsg: pd.DataFrame | None = None,
    vnet: pd.DataFrame | None = None,
    inventory: "Inventory | None" = None,
    start: Any = None,
    end: Any = None,
    figures: bool = True,
    progress: bool | None = None,
) -> list[Finding]:
    """Run investigations on ``flows`` and return their findings, in :data:`INVESTIGATIONS` order.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flow table (NSG and VNet rows may be mixed).
    investigations : iterable of str, or str, optional
        Any of :data:`INVESTIGATIONS` (a string names one, or several separated by commas). By default: connectivity and talkers always,
        compare when both NSG and VNet rows are present, encryption when VNet rows are.

        - ``connectivity``: denied traffic and retry storms
          (:func:`~flowkit.analysis.denied.denied_summary`), then one
          :func:`~flowkit.analysis.diagnose.diagnose` per pair;
        - ``compare``: :func:`~flowkit.analysis.compare.compare_nsg_vnet` of ``nsg`` and
          ``vnet`` (by default the NSG and VNet rows of ``flows``);
        - ``encryption``: :func:`~flowkit.analysis.encryption.encryption_audit`;
        - ``talkers``: :func:`talkers_finding`.
    pairs : sequence of (src, dst, port, protocol)
        Connectivity questions for :func:`~flowkit.analysis.diagnose.diagnose`.
    nsg, vnet : pandas.DataFrame, optional
        Separate NSG and VNet tables for ``compare``.
    inventory : flowkit.inventory.Inventory, optional
    start, end : timestamp-like, optional
        The window investigated. ``connectivity``'s denied traffic, ``encryption`` and ``talkers``
        see the rows in ``[start, end)`` only; ``diagnose`` and ``compare`` get every row with the
        window (``diagnose`` keeps to it; ``compare`` uses rows just outside it to explain what
        happens at its edges: a flow one log saw just across the edge is ``clock-skew``, not
        ``unexplained``). So read the logs a little wider than the window (the CLI reads
        ``compare``'s default ``max_skew``, 2 min, more on each side).
    figures : bool
        Draw charts.
    progress : bool, optional
        Progress bar over the investigations (by default only when interactive).

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> investigate(empty_frame(), ["talkers"])[0].verdict
    'none'
    """
    window = to_window(start, end)  # a window that keeps nothing is refused before any investigation runs
    inside = flows if window == (None, None) else filter_flows(flows, start=start, end=end)
    nsg_side = nsg if nsg is not None else flows
    vnet_side = vnet if vnet is not None else flows
    if investigations is None:
        chosen = ["connectivity"]
        if _has(nsg_side, "nsg") and _has(vnet_side, "vnet"):
            chosen.append("compare")
        if _has(flows, "vnet") or (vnet is not None and _has(vnet, "vnet")):
            chosen.append("encryption")
        chosen.append("talkers")
    else:
        if isinstance(investigations, str):  # one name, or several separated by commas (as the CLI takes them)
            investigations = investigations.split(",")
        chosen = [i.strip().lower() for i in investigations if i.strip()]
        unknown = [i for i in chosen if i not in INVESTIGATIONS]
        if unknown:
            raise ValueError(f"unknown investigation(s) {unknown}; choose from {list(INVESTIGATIONS)}")
    chosen = [i for i in INVESTIGATIONS if i in chosen]
    steps = sum(1 + len(pairs) if i == "connectivity" else 1 for i in chosen)
    findings: list[Finding] = []
    with progress_bar(steps, "flowkit: investigating", unit="step", enabled=progress) as bar:
        for name in chosen:
            if name == "connectivity":
                from flowkit.analysis.denied import denied_summary
                from flowkit.analysis.diagnose import diagnose

                findings.append(denied_summary(inside, inventory=inventory))
                bar.update(1)
                for src, dst, port, protocol in pairs:
                    findings.append(diagnose(flows, src, dst, port=port, protocol=protocol, start=start, end=end,
                                             inventory=inventory))
                    bar.update(1)
            elif name == "compare":
                from flowkit.analysis.compare import compare_nsg_vnet

                findings.append(compare_nsg_vnet(nsg_side, vnet_side, start=start, end=end, figures=figures))
                bar.update(1)
            elif name == "encryption":
                from flowkit.analysis.encryption import encryption_audit

                source = vnet if vnet is not None and not _has(flows, "vnet") else flows
                if window != (None, None):
                    source = inside if source is flows else filter_flows(source, start=start, end=end)
                findings.append(encryption_audit(source, inventory=inventory, figures=figures))
                bar.update(1)
            elif name == "talkers":
                findings.append(talkers_finding(inside, inventory=inventory, figures=figures))
                bar.update(1)
    return findings
