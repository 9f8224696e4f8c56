"""``flowkit report``: run investigations headless and write the findings as a report.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="flowkit")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["report", "logs/", "-o", "findings.html", "--src", "10.10.1.4",
...                           "--dst", "10.10.3.4", "--port", "1433", "--investigations", "connectivity"])
>>> args.output, args.src, args.port, args.investigations, args.handler is run
('findings.html', ['10.10.1.4'], [1433], 'connectivity', True)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from flowkit.cli.options import address, count, port, time_value
from flowkit.cli.output import printable

__all__ = ["register", "run", "pairs_from_args", "ANON_KEY_ENV"]

#: Environment variable holding the anonymisation key.
ANON_KEY_ENV = "FLOWKIT_ANON_KEY"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand."""
    from flowkit.report.investigations import INVESTIGATIONS

    parser = subparsers.add_parser(
        "report", help="run investigations and write a report (HTML, Markdown, XLSX or CSV)",
        description="Read flow logs, run the chosen investigations without a notebook, and write one "
                    "report: a self-contained HTML page, Markdown for tickets, or XLSX/CSV evidence.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="flow log files or folders (searched recursively), globs, azure:// URLs")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="where to write the report (.html, .md, .xlsx, or a folder for CSV)")
    parser.add_argument("--format", choices=("html", "md", "xlsx", "csv"),
                        help="output format (default: from the output's suffix)")
    parser.add_argument("--investigations", metavar="LIST",
                        help=f"comma-separated, any of {','.join(INVESTIGATIONS)} (default: all that apply)")
    parser.add_argument("--src", action="append", type=address, default=[], metavar="IP",
                        help="source address (or CIDR block) of a connectivity question "
                             "(repeat with --dst for several)")
    parser.add_argument("--dst", action="append", type=address, default=[], metavar="IP",
                        help="destination address (or CIDR block)")
    parser.add_argument("--port", action="append", type=port, default=[],
                        help="destination port (0-65535): once for every question, or once per --src")
    parser.add_argument("--protocol", action="append", type=str.lower, default=[], choices=("tcp", "udp", "icmp", "icmpv6"),
                        help="protocol: once for every question, or once per --src")
    parser.add_argument("--nsg", nargs="+", default=[], metavar="PATH", help="NSG flow log paths: read with the other paths; compare uses the rows "
                             "by their log type")
    parser.add_argument("--vnet", nargs="+", default=[], metavar="PATH", help="VNet flow log paths (read likewise)")
    parser.add_argument("--start", type=time_value, help="only tuples at or after this time (ISO 8601 UTC, epoch, now-2h, today)")
    parser.add_argument("--end", type=time_value, help="only tuples before this time (ISO 8601 UTC, epoch, now, today)")
    parser.add_argument("--inventory", metavar="FILE",
                        help="az network nic list -o json output, or a CSV (mac,ip,nic,vm,subnet,...)")
    parser.add_argument("--title", default="flowkit report", help="the report's title")
    parser.add_argument("--max-rows", type=count, default=50,
                        help="evidence rows shown per table in HTML and Markdown (default 50; 0 shows none); "
                             "every row is in the attached CSV, the XLSX and the CSV folder")
    parser.add_argument("--no-figures", action="store_true", help="draw no charts (faster)")
    parser.add_argument("--anonymize", action="store_true",
                        help="replace addresses, MACs, GUIDs and resource names by keyed pseudonyms")
    parser.add_argument("--anonymize-key", metavar="KEY", type=_anonymize_key,
                        help=f"the pseudonym key (implies --anonymize; default: ${ANON_KEY_ENV}, else random)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show progress bars")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress bars")
    parser.set_defaults(handler=run, writes=("output",))  # an OSError there is "cannot write OUTPUT"
    return parser


def pairs_from_args(src: Sequence[str], dst: Sequence[str], port: Sequence[int],
                    protocol: Sequence[str]) -> list[tuple[str, str, int | None, str | None]]:
    """Pair repeated ``--src``/``--dst`` (``--port``/``--protocol``: one for all, or one each).

    Examples
    --------
    >>> pairs_from_args(["192.0.2.1", "192.0.2.2"], ["198.51.100.1"] * 2, [443], [])
    [('192.0.2.1', '198.51.100.1', 443, None), ('192.0.2.2', '198.51.100.1', 443, None)]
    """
    from flowkit.errors import FlowkitError

    if len(src) != len(dst):
        raise FlowkitError(f"give as many --dst as --src ({len(src)} --src, {len(dst)} --dst)")
    if not src and (port or protocol):  # else ignored without a word: the report answered another question
        given = " and ".join(name for name, values in (("--port", port), ("--protocol", protocol)) if values)
        verb = "belong" if " and " in given else "belongs"
        raise FlowkitError(f"{given} {verb} to a connectivity question: give --src and --dst too")

    def spread(values: Sequence[Any], name: str) -> list[Any]:
        if not values:
            return [None] * len(src)
        if len(values) == 1:
            return list(values) * len(src)
        if len(values) != len(src):
            raise FlowkitError(f"give one {name} for all pairs or one per pair ({len(values)} for {len(src)})")
        return list(values)

    return list(zip(src, dst, spread(port, "--port"), spread(protocol, "--protocol")))


def _anonymize_key(text: str) -> str:
    """A pseudonym key: not blank (``--anonymize-key "$KEY"`` with ``KEY`` unset wrote the report
    with every address in clear, the empty key being taken for no option at all)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the key is empty (an unset variable?): give a key, or --anonymize "
                                         "alone for a random one")
    return text


def _same_file(a: Any, b: Any) -> bool:
    """True when paths ``a`` and ``b`` both exist and are one file (any spelling, any link)."""
    try:
        return os.path.isfile(a) and os.path.samefile(a, b)
    except (OSError, ValueError):  # b missing, a glob, an azure:// address, a NUL in a name
        return False


def run(args: argparse.Namespace) -> int:
    """Handle ``flowkit report``; returns the exit status (0)."""
    from flowkit.analysis.compare_keys import DEFAULT_MAX_SKEW, skew_delta
    from flowkit.cli.compare import read_widened
    from flowkit.cli.diagnose import load_inventory
    from flowkit.errors import FlowkitError
    from flowkit.read import read_flow_logs
    from flowkit.report import INVESTIGATIONS, Anonymizer, Report, format_for, investigate

    paths = [*args.paths, *args.nsg, *args.vnet]
    if not paths:
        raise FlowkitError("give at least one PATH (or --nsg / --vnet paths)")
    try:
        fmt = format_for(args.output, args.format)
    except ValueError:  # argparse checked --format: the output's suffix says no format
        raise FlowkitError(f"cannot tell the format from {args.output!r}: name a .html, .md or .xlsx file, "
                           "a folder for CSV, or pass --format html|md|xlsx|csv") from None
    out = Path(args.output)
    if fmt == "csv" and out.exists() and not out.is_dir():
        # a name without a suffix means a CSV folder: never make one over a file (/dev/full, a typo'd report name)
        raise FlowkitError(f"cannot write {args.output}: it is a file, and CSV output is a folder; "
                           "name a .html, .md or .xlsx file, or pass --format")
    for given in [*paths, *([args.inventory] if args.inventory else [])]:
        if _same_file(out, given):  # `-o logs.json` after `logs.json`: the log would be replaced by its report
            raise FlowkitError(f"cannot write {args.output}: it is an input of this report ({given}); "
                               "name another output file")
    pairs = pairs_from_args(args.src, args.dst, args.port, args.protocol)
    chosen = ([c.strip().lower() for c in args.investigations.split(",") if c.strip()]
              if args.investigations is not None else None)
    if chosen is not None:
        if not chosen and not pairs:  # `--investigations ,` or "$UNSET": a report of nothing, in silence
            raise FlowkitError(f"--investigations names no investigation; choose from {','.join(INVESTIGATIONS)}")
        unknown = [c for c in chosen if c not in INVESTIGATIONS]
        if unknown:
            raise FlowkitError(f"unknown investigation(s) {', '.join(unknown)}; choose from {','.join(INVESTIGATIONS)}")
        if pairs and "connectivity" not in chosen:
            chosen.append("connectivity")
    inventory = load_inventory(args.inventory)
    source: Any = paths[0] if len(paths) == 1 else paths
    # Read compare's default max_skew wider than the window: a flow one log saw just across an edge
    # explains the other log's key (clock-skew); the investigations keep to the window (investigate).
    flows = read_widened(lambda lo, hi: read_flow_logs(source, start=lo, end=hi, progress=args.progress),
                         args.start, args.end, skew_delta(DEFAULT_MAX_SKEW))
    findings = investigate(flows, chosen, pairs=pairs, inventory=inventory, start=args.start, end=args.end,
                           figures=not args.no_figures and fmt in ("html", "md"), progress=args.progress)
    report = Report(findings, title=args.title, flows=flows, start=args.start, end=args.end,
                    max_rows=args.max_rows)
    key = args.anonymize_key or (os.environ.get(ANON_KEY_ENV) if args.anonymize else None)
    if args.anonymize or args.anonymize_key:
        anon = Anonymizer(key or None)
        if anon.generated:
            print(f"flowkit report: anonymised with a random key; to anonymise another report the same way, "
                  f"pass --anonymize-key {anon.key}", file=sys.stderr)
        if inventory is not None:
            for column in ("vm", "nic", "subnet", "vnet", "nsg", "resource_group"):
                if column in inventory.nics:
                    anon.learn_names(inventory.nics[column].dropna().astype(str).tolist())
        report = report.anonymize(anon)
    target = report.write(args.output, fmt)
    counts = ", ".join(f"{k} {v}" for k, v in report.severity_counts().items() if v)
    print(printable(f"wrote {target}: {len(report.findings)} finding(s)" + (f" ({counts})" if counts else "")))
    return 0
