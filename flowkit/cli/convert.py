"""``flowkit convert SOURCE... DEST``: flow logs into a Parquet dataset, incrementally."""

from __future__ import annotations

import argparse
import sys

from flowkit.cli.options import time_value
from flowkit.cli.output import printable

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``convert`` subcommand."""
    p = sub.add_parser(
        "convert", help="convert flow logs into a Parquet dataset (incremental)",
        description="Decode flow logs (files, folders, globs, azure:// addresses) into a Parquet dataset "
                    "partitioned by log type, date and hour. Sealed hours converted before are skipped; "
                    "the open hour is rewritten. Read it back with read_flow_logs(DEST).")
    p.add_argument("paths", nargs="+", metavar="SOURCE", help="file, folder, glob or azure:// address")
    p.add_argument("dest", metavar="DEST", help="dataset folder (created if missing)")
    p.add_argument("--log-type", choices=["nsg", "vnet"], help="convert one kind of log only")
    p.add_argument("--start", type=time_value,
                   help="convert the blobs whose hour may hold tuples at or after this time (UTC; whole "
                        "hours, with 10 minutes of margin for clock skew)")
    p.add_argument("--end", type=time_value,
                   help="convert the blobs whose hour may hold tuples before this time (UTC; whole hours, "
                        "with 10 minutes of margin)")
    p.add_argument("--strict", action="store_true", help="fail at the first bad tuple instead of quarantining it")
    p.set_defaults(handler=run, writes=("dest",))  # an OSError there is "cannot write DEST"


def run(args: argparse.Namespace) -> int:
    """Convert and print what was done; 0 on success."""
    from flowkit.store.convert import convert

    source = args.paths[0] if len(args.paths) == 1 else list(args.paths)
    report = convert(source, args.dest, log_type=args.log_type, start=args.start, end=args.end,
                     strict=args.strict)
    out = sys.stdout
    out.write(f"dataset      {printable(report.dest)}\n")
    out.write(f"units        {report.units_written} written ({report.open_units} still open), "
              f"{report.units_skipped} sealed and unchanged (skipped)\n")
    out.write(f"blobs read   {report.blobs_read}\n")
    kept = (f" ({report.rows_kept} of them kept from blobs converted before and not read now)"
            if report.rows_kept else "")
    out.write(f"rows         {report.rows_written} in {report.files_written} file(s){kept}\n")
    if report.load.quarantined or report.load.problems:
        out.write(f"problems     {printable(report.load.summary())}\n")
    return 0
