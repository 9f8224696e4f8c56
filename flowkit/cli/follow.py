"""``flowkit follow``: print the records added to growing flow-log blobs, poll after poll.

Examples
--------
>>> from flowkit.cli import main
>>> main(["follow", "azure://acct/insights-logs-flowlogflowevent", "--log-type", "vnet",
...       "--checkpoint", "follow.json", "--once"])  # doctest: +SKIP
2024-05-01T10:07:00Z  +120 row(s)  2 blob(s) changed  5.1 kB downloaded
0

A poll's rows are recorded in the checkpoint only after they were written to standard
output (when the next poll is asked for, or before exiting): a run that stops before
(a closed pipe, Ctrl-C while printing, a crash) prints them again next time.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flowkit.cli.options import mac, polls, seconds, time_value
from flowkit.sources.outage import MAX_OUTAGE

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``follow`` subcommand."""
    p = subparsers.add_parser(
        "follow", help="print new flow-log records as Azure commits them",
        description="Poll an Azure storage account and print the records added since the last "
                    "poll; the checkpoint file lets a later run carry on where this one stopped. "
                    "azure://ACCOUNT[/CONTAINER] uses AZURE_STORAGE_CONNECTION_STRING when it names "
                    "that account, else DefaultAzureCredential; a SAS URL works as is.")
    p.add_argument("source", metavar="SOURCE", help="azure://ACCOUNT[/CONTAINER[/PREFIX]] or a blob/SAS URL")
    p.add_argument("--log-type", choices=("nsg", "vnet"), default=None)
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="JSON state file (created if missing)")
    p.add_argument("--interval", type=seconds, default=60.0, metavar="S", help="seconds between polls (60)")
    p.add_argument("--once", action="store_true", help="poll once and exit")
    p.add_argument("--max-polls", type=polls, default=None, metavar="N", help="stop after N polls")
    p.add_argument("--max-outage", type=seconds, default=MAX_OUTAGE, metavar="S",
                   help="seconds to keep polling an account that stopped answering, or answers with "
                        f"transient errors (HTTP 503…), before giving up ({MAX_OUTAGE:g}; 0: at once)")
    p.add_argument("--start", default=None, type=time_value,
                   help="first hour to follow (default: the previous hour)")
    p.add_argument("--mac", default=None, type=mac, help="follow one NIC only (its MAC address)")
    p.add_argument("--json", action="store_true", help="print one JSON object per poll, with the new rows")
    p.set_defaults(handler=run, writes=("checkpoint",))  # an OSError there is "cannot write FILE"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def _iso(ts: Any) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _iso_times(series: Any) -> Any:
    """A time column as ISO 8601 UTC text, as precise as each value (None for a missing time).

    The rule of ``flowkit inspect --json``: whole seconds without a fraction, whole
    milliseconds (``flow_time``) with 3 digits, else every digit the value holds (a
    ``record_time`` keeps the 7 digits of the log's ``time``, written as 9).
    """
    import numpy as np
    import pandas as pd

    utc = series.dt.tz_convert("UTC") if series.dt.tz is not None else series.dt.tz_localize("UTC")
    utc = utc.dt.as_unit("ns")
    frac = pd.Series(utc.array.asi8 % 1_000_000_000, index=series.index)  # ns after the whole second
    nine = frac.astype(str).str.zfill(9)
    digits = np.select([frac == 0, frac % 1_000_000 == 0, frac % 1000 == 0],
                       ["", "." + nine.str[:3], "." + nine.str[:6]], "." + nine)
    text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S") + digits + "Z"
    return text.astype(object).where(utc.notna(), None)


def _json_rows(frame: Any) -> list[dict[str, Any]]:
    """The rows of a poll as JSON objects, times written with all their digits."""
    import pandas as pd

    times = {c: _iso_times(s) for c, s in frame.items() if pd.api.types.is_datetime64_any_dtype(s.dtype)}
    return json.loads(frame.assign(**times).to_json(orient="records"))


def _line(batch: Any) -> str:
    """The text line of one poll (quarantined tuples and damaged records said, not hidden)."""
    line = (f"{_iso(batch.polled_at.floor('s'))}  +{len(batch)} row(s)  "
            f"{batch.blobs_changed} blob(s) changed  {_size(batch.bytes_downloaded)} downloaded")
    if batch.report.quarantined:
        line += f"  {batch.report.quarantined} tuple(s) quarantined"
    if batch.report.problems:
        line += f"  {len(batch.report.problems)} damaged record(s)"
    if batch.reread:
        line += f"  ({len(batch.reread)} replaced blob(s) read again)"
    return line


def run(args: argparse.Namespace) -> int:
    """Follow until interrupted (or ``--once`` / ``--max-polls``); return the exit status.

    The loop asks for the next batch only after the last one was printed and flushed,
    which is when the follower commits it to the checkpoint file.
    """
    from flowkit.sources.azure import AzureBlobSource

    src = AzureBlobSource.from_url(args.source, progress=False)
    max_polls = 1 if args.once else args.max_polls
    for batch in src.follow(log_type=args.log_type, checkpoint=args.checkpoint, start=args.start,
                            mac=args.mac, interval=args.interval, max_polls=max_polls,
                            max_outage=args.max_outage):
        if args.json:
            rows = _json_rows(batch.frame)
            print(json.dumps({"polled_at": _iso(batch.polled_at), "rows": len(batch),
                              "blobs_changed": batch.blobs_changed,
                              "bytes_downloaded": batch.bytes_downloaded, "reread": list(batch.reread),
                              "report": batch.report.to_dict(), "flows": rows}), flush=True)
        else:
            print(_line(batch), flush=True)
        sys.stdout.flush()  # written: asking for the next batch now commits this one
    return 0
