"""``flowkit inspect PATH... [--json] [--dask [SCHEDULER]]``: what a set of flow logs holds, and what was
wrong with it."""

from __future__ import annotations

from collections import Counter

import argparse
import json
import sys
import warnings

from flowkit.cli.dask_client import add_dask_argument, dask_client
from flowkit.cli.options import count, mac, time_value
from flowkit.cli.output import printable
from flowkit.errors import FlowkitDataWarning, FormatError, SourceError
from flowkit.sources.redact import redact

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    p = sub.add_parser("inspect", help="read flow logs and report files, records, tuples, rows and problems",
                       description="Read flow logs (files, folders, globs, azure:// addresses) and print the load report.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, glob or azure:// address")
    p.add_argument("--start", type=time_value, help="keep tuples at or after this time (ISO 8601 UTC, epoch, now-2h, today)")
    p.add_argument("--end", type=time_value, help="keep tuples before this time (ISO 8601 UTC, epoch, now, today)")
    p.add_argument("--log-type", choices=["nsg", "vnet"], help="read one kind of log only")
    p.add_argument("--mac", type=mac, help="read one NIC only (its MAC address)")
    p.add_argument("--strict", action="store_true", help="fail at the first bad tuple instead of quarantining it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quarantine", type=count, default=5, metavar="N",
                   help="show up to N quarantined tuples in the text output (default 5)")
    add_dask_argument(p, "decode on Dask, for logs larger than one machine reads in time")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the input and print its load report; 0 when it could be read."""
    from flowkit.read import read_flow_logs

    source = args.paths[0] if len(args.paths) == 1 else list(args.paths)
    options = dict(start=args.start, end=args.end, log_type=args.log_type, mac=args.mac, strict=args.strict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowkitDataWarning)  # the report says it all,
        warnings.filterwarnings("default", "flowkit: no rows", FlowkitDataWarning)  # but not where the logs are
        if getattr(args, "dask", None):
            from flowkit.scale.dask_report import inspect_dask
            from flowkit.sources.times import to_window

            to_window(args.start, args.end)  # refused before a cluster is started
            with dask_client(args.dask):
                report, macs = inspect_dask(source, **options)
        else:
            frame, report = read_flow_logs(source, with_report=True, **options)
            macs = sorted(str(m) for m in frame["mac"].dropna().unique())
    where = ", ".join(report.sources) or "the input"  # sources are described without secrets
    if report.files == 0 and report.files_skipped == 0:
        raise SourceError(f"no flow-log files found in {where}")
    unread = {"not-a-flow-record", "invalid-record", "truncated-record"}  # records that held no flow record
    if report.records and report.tuples == 0 and sum(p.reason in unread for p in report.problems) >= report.records:
        reasons = Counter(p.reason for p in report.problems if p.reason in unread)
        first = next(p for p in report.problems if p.reason in unread)
        raise FormatError(f"no flow-log records found in {where}: none of its {report.records} record(s) "
                          f"could be read as an NSG or VNet flow record ("
                          + ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items())) + "); the first: "
                          + printable(redact(f"{first.blob}, record {first.record}: {first.detail[:160]}")))
    data = report.to_dict()
    data["macs"] = macs
    parquet = bool(data["sources"]) and all(str(s).startswith("parquet:") for s in data["sources"])
    if parquet:
        data["records"] = None  # a Parquet dataset keeps rows, not the JSON records they came in
    if args.json:
        json.dump(data, sys.stdout)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(f"files        {data['files']} read, {data['files_skipped']} listed and skipped by their path "
              f"(hour, MAC, log type)\n")
    out.write("records      n/a (a Parquet dataset keeps rows, not records)\n" if parquet
              else f"records      {data['records']}\n")
    out.write(f"tuples       {data['tuples']}\n")
    out.write(f"rows         {data['rows']}\n")
    out.write(f"quarantined  {data['quarantined']}\n")
    if data["filtered_out"]:
        out.write(f"not selected {data['filtered_out']} (time window, log type or MAC)\n")
    # text from the logs (blob names, quarantined tuples) goes through printable(): no control characters
    formats = ", ".join(f"{printable(k)}: {v}" for k, v in sorted(data["formats"].items())) or "none"
    out.write(f"formats      {formats}\n")
    span = "none" if data["start"] is None else f"{data['start']} .. {data['end']}"
    out.write(f"time range   {span}\n")
    out.write(f"NIC MACs     {len(data['macs'])}\n")
    if data["problems"]:
        out.write("problems\n")
        for reason, n in data["problems"].items():
            out.write(f"  {printable(reason)}: {n}\n")
        for row in report.quarantine.head(args.quarantine).itertuples(index=False):
            out.write(f"  {printable(row.reason)} at {printable(row.blob)}, record {row.record}, "
                      f"tuple {row.tuple}: {printable(str(row.raw)[:100])}\n")
    return 0
