"""``flowkit compare``: do VNet flow logs cover what NSG flow logs did?

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="flowkit")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["compare", "--nsg", "a", "b", "--vnet", "c", "--json"])
>>> args.nsg, args.vnet, args.json, args.dask
(['a', 'b'], ['c'], True, None)
>>> parser.parse_args(["compare", "--nsg", "a", "--vnet", "c", "--dask"]).dask
'local'
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any, Callable, TypeVar

from flowkit.analysis.compare import DEFAULT_MAX_SKEW
from flowkit.cli.dask_client import add_dask_argument, dask_client
from flowkit.cli.diagnose import add_common_arguments, load_flows, write_json, write_text
from flowkit.cli.options import duration

__all__ = ["register", "run", "compare_on_dask", "read_window", "read_widened", "COMPARE_JSON_FIELDS"]

T = TypeVar("T")

#: The columns of the differing keys ``flowkit compare`` prints (``--json`` and reports have them all).
DIFFERENCE_COLUMNS = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "class", "nsg_decision",
                      "vnet_decision", "causes")
#: Fields ``flowkit compare --json`` prints, in order.
COMPARE_JSON_FIELDS = ("verdict", "matched", "nsg_only", "vnet_only", "decision_mismatch", "explained", "coverage")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand."""
    parser = subparsers.add_parser(
        "compare", help="reconcile NSG flow logs with VNet flow logs (migration readiness)",
        description="Count distinct flows (src_ip, src_port, dst_ip, dst_port, protocol) seen by NSG "
                    "and VNet flow logs over their common window and explain every difference.")
    parser.add_argument("--nsg", nargs="+", required=True, metavar="PATH", help="NSG flow log paths")
    parser.add_argument("--vnet", nargs="+", required=True, metavar="PATH", help="VNet flow log paths")
    parser.add_argument("--max-skew", default=DEFAULT_MAX_SKEW, type=duration,
                        help="clock skew tolerated at the window edges (default 2min)")
    add_dask_argument(parser, "reconcile on Dask, for logs larger than memory")
    add_common_arguments(parser, paths=False, inventory=False)  # the reconciliation names no VM
    parser.set_defaults(handler=run)
    return parser


def read_window(start: Any, end: Any, max_skew: Any) -> tuple[Any, Any]:
    """The times to read for a reconciliation over ``[start, end)``: ``max_skew`` wider on each side.

    The reconciliation explains a key one log has just inside an edge by the other log's tuple
    just outside it, up to ``max_skew`` away (``clock-skew``); read with the window itself, that
    tuple is gone and the key turns ``unexplained`` (``--start``/``--end`` set to the logs' own
    common window made the sample ``not-ready``). The window compared stays ``[start, end)``.

    Examples
    --------
    >>> import pandas as pd
    >>> [t.isoformat() for t in read_window("2024-05-01T10:00Z", "2024-05-01T12:00Z", pd.Timedelta("2min"))]
    ['2024-05-01T09:58:00+00:00', '2024-05-01T12:02:00+00:00']
    >>> read_window(None, "", pd.Timedelta("2min"))
    (None, None)
    """
    from flowkit.sources.times import to_window

    lo, hi = to_window(start, end)
    return (None if lo is None else lo - max_skew), (None if hi is None else hi + max_skew)


def read_widened(read: Callable[[Any, Any], T], start: Any, end: Any, max_skew: Any) -> T:
    """Call ``read(lo, hi)`` with the window of :func:`read_window`; a read that finds no row says so
    of ``[start, end)``, the window the user asked for, not of the wider one read.

    Parameters
    ----------
    read : callable
        Reads the logs between its two arguments (times, or None for no bound), e.g. with
        :func:`flowkit.read_flow_logs`; its ``flowkit: no rows from …`` warnings are rewritten,
        the others passed on as they are.
    start, end : time or None
        The window asked for, as ``--start``/``--end`` give it.
    max_skew : Timedelta
        How much wider the read is on each side.

    Returns
    -------
    object
        What ``read`` returns.

    Examples
    --------
    >>> import pandas as pd
    >>> read_widened(lambda lo, hi: (lo.isoformat(), hi), "2024-05-01T10:00Z", None, pd.Timedelta("2min"))
    ('2024-05-01T09:58:00+00:00', None)
    """
    from flowkit.errors import FlowkitDataWarning
    from flowkit.sources.times import to_window

    lo, hi = read_window(start, end, max_skew)
    asked = to_window(start, end)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            return read(lo, hi)
    finally:  # passed on after an error in the read too (a quarantine warning of the first log read)
        for w in caught:
            text = str(w.message)
            if issubclass(w.category, FlowkitDataWarning):
                text = _asked_window(text, (lo, hi), asked)
            warnings.warn_explicit(text, w.category, w.filename, w.lineno, source=w.source)


def _asked_window(text: str, read: tuple[Any, Any], asked: tuple[Any, Any]) -> str:
    """``text`` with the window read (``no rows from … until …``) put back as the window asked for."""
    from flowkit.sources.times import utc_text

    def window(lo: Any, hi: Any) -> str:
        return " ".join(x for x in (f"from {utc_text(lo)}" if lo is not None else "",
                                    f"until {utc_text(hi)}" if hi is not None else "") if x)

    prefix = f"flowkit: no rows {window(*read)}"
    if read == asked or not text.startswith(prefix) or text[len(prefix):len(prefix) + 1] not in (" ", ":"):
        return text
    return f"flowkit: no rows {window(*asked)}" + text[len(prefix):]


def run(args: argparse.Namespace) -> int:
    """Handle ``flowkit compare``; returns the exit status (0)."""
    if args.dask:
        finding = compare_on_dask(args)
    else:
        from flowkit.analysis.compare import compare_nsg_vnet

        nsg, vnet = read_widened(lambda lo, hi: (load_flows(args.nsg, lo, hi), load_flows(args.vnet, lo, hi)),
                                 args.start, args.end, args.max_skew)
        finding = compare_nsg_vnet(nsg, vnet, start=args.start, end=args.end, max_skew=args.max_skew,
                                   figures=False)
    if args.json:
        write_json({k: finding.verdict if k == "verdict" else finding.facts.get(k) for k in COMPARE_JSON_FIELDS})
    else:
        write_text(finding, ("causes", "coverage_by_hour", "differences"), columns={"differences": DIFFERENCE_COLUMNS})
    return 0


def compare_on_dask(args: argparse.Namespace) -> Any:
    """The reconciliation of ``flowkit compare --dask``, on a local or remote Dask cluster."""
    from flowkit.scale.compare import compare_nsg_vnet_dask

    with dask_client(args.dask):
        nsg, vnet = read_widened(lambda lo, hi: (load_flows(args.nsg, lo, hi, engine="dask"),
                                                 load_flows(args.vnet, lo, hi, engine="dask")),
                                 args.start, args.end, args.max_skew)
        return compare_nsg_vnet_dask(nsg, vnet, start=args.start, end=args.end, max_skew=args.max_skew,
                                     figures=False)
