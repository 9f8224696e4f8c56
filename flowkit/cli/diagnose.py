"""``flowkit diagnose``: why does traffic from one address to another not work?

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="flowkit")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["diagnose", "logs/", "--src", "10.10.1.4", "--dst", "10.10.3.4", "--port", "1433"])
>>> args.port, args.protocol, args.handler is run
(1433, None, True)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence, TextIO

from flowkit.cli.options import address, port, time_value
from flowkit.cli.output import printable, printable_frame

__all__ = ["register", "run", "load_flows", "load_inventory", "add_common_arguments", "DIAGNOSE_JSON_FIELDS"]

#: Fields ``flowkit diagnose --json`` prints, in order.
DIAGNOSE_JSON_FIELDS = ("verdict", "rule", "acl_id", "where", "reason", "evidence_rows")


def add_common_arguments(parser: argparse.ArgumentParser, *, paths: bool = True, inventory: bool = True) -> None:
    """Arguments shared by the investigation commands (paths, window, inventory, --json).

    ``inventory=False`` leaves ``--inventory`` out, for a command that has no use for it.
    """
    if paths:
        parser.add_argument("paths", nargs="+", metavar="PATH",
                            help="flow log files or folders (searched recursively), globs, azure:// URLs")
    parser.add_argument("--start", type=time_value, help="only tuples at or after this time (ISO 8601 UTC, epoch, now-2h, today)")
    parser.add_argument("--end", type=time_value, help="only tuples before this time (ISO 8601 UTC, epoch, now, today)")
    if inventory:
        parser.add_argument("--inventory", metavar="FILE",
                            help="az network nic list -o json output, or a CSV (mac,ip,nic,vm,subnet,...)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def load_flows(paths: Sequence[str], start: Any = None, end: Any = None, *, engine: str = "pandas") -> Any:
    """Read every path into one canonical frame (the public loader does the work; a lazy
    Dask frame with ``engine="dask"``)."""
    from flowkit.read import read_flow_logs

    source: Any = list(paths) if len(paths) != 1 else paths[0]
    return read_flow_logs(source, start=start, end=end, engine=engine)


def load_inventory(path: str | None) -> Any:
    """The inventory named by ``--inventory``, or None."""
    if not path:
        return None
    from flowkit.inventory import read_inventory

    return read_inventory(path)


def write_json(data: dict[str, Any], out: TextIO | None = None) -> None:
    """Print ``data`` as one line of JSON (numbers and text only)."""
    from flowkit.findings import json_safe

    (out or sys.stdout).write(json.dumps(json_safe(data), sort_keys=False) + "\n")


def write_text(finding: Any, tables: Sequence[str] = (), out: TextIO | None = None, max_rows: int = 20,
               columns: dict[str, Sequence[str]] | None = None) -> None:
    """Print a finding for people: title, verdict, summary, notes and a few evidence tables.

    Text from the logs (rule names, addresses, blob names) is passed through
    :func:`flowkit.cli.output.printable`: no control character reaches the terminal.
    ``columns`` names the columns shown of a wide table (all of the others).
    """
    stream = out or sys.stdout
    stream.write(f"{printable(finding.title)}\n")
    stream.write(f"verdict: {printable(finding.verdict)} (severity {printable(finding.severity)})\n\n")
    stream.write(f"{printable(finding.summary, lines=True)}\n")
    for name in tables:
        frame = finding.evidence.get(name)
        if frame is None or frame.empty:
            continue
        if columns and name in columns:
            frame = frame[[c for c in columns[name] if c in frame.columns]]
        stream.write(f"\n{printable(name)} ({len(frame)} row(s)):\n")
        # Whole cells, every column: a resource ID cut short would hide the NSG's name at its end.
        stream.write(printable_frame(frame.head(max_rows)).to_string(index=False) + "\n")
        if len(frame) > max_rows:
            stream.write(f"… {len(frame) - max_rows} more row(s)\n")
    for note in finding.notes:
        stream.write(f"\nNote: {printable(note, lines=True)}\n")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diagnose`` subcommand."""
    parser = subparsers.add_parser(
        "diagnose", help="diagnose a connectivity failure between two addresses",
        description="Look at every observation of traffic from --src to --dst at both ends and say why "
                    "it fails: denied, encryption-dropped, lost-in-transit, no-reply, ok or not-observed.")
    add_common_arguments(parser)
    parser.add_argument("--src", required=True, type=address, help="source (initiating) IP address or CIDR block")
    parser.add_argument("--dst", required=True, type=address, help="destination IP address or CIDR block")
    parser.add_argument("--port", type=port, help="destination port (0-65535)")
    parser.add_argument("--protocol", type=str.lower, choices=("tcp", "udp", "icmp", "icmpv6"), help="protocol")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Handle ``flowkit diagnose``; returns the exit status (0)."""
    from flowkit.analysis.diagnose import diagnose

    flows = load_flows(args.paths, args.start, args.end)
    finding = diagnose(flows, args.src, args.dst, port=args.port, protocol=args.protocol,
                       start=args.start, end=args.end, inventory=load_inventory(args.inventory))
    if args.json:
        write_json({k: finding.facts.get(k) for k in DIAGNOSE_JSON_FIELDS})
    else:
        write_text(finding, ("observations", "logged_nics") if finding.verdict == "not-observed"
                   else ("observations",))
    return 0
