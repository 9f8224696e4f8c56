"""``python -m flowkit.synth DEST``: write the scenarios (or a benchmark corpus) to DEST."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from flowkit.synth.corpus import write_corpus
from flowkit.synth.scenarios import DEFAULT_SEED, write_scenarios


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m flowkit.synth",
                                     description="Write flowkit's synthetic flow logs.")
    parser.add_argument("dest", help="folder to write into (e.g. data-samples)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--corpus-mb", type=float, default=None,
                        help="write a benchmark corpus of about this many MB instead of the scenarios")
    parser.add_argument("--log-type", choices=("vnet", "nsg"), default="vnet", help="corpus log type")
    parser.add_argument("--version", type=int, choices=(1, 2), default=2, help="NSG corpus version")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.corpus_mb is not None:
        info = write_corpus(args.dest, log_type=args.log_type, target_bytes=int(args.corpus_mb * 1e6),
                            seed=args.seed or 0, version=args.version)
        seconds = time.perf_counter() - started
        print(f"{info.files} files, {info.records} records, {info.tuples} tuples, {info.bytes} bytes "
              f"in {seconds:.1f} s ({info.bytes / 1e6 / seconds:.1f} MB/s)")
        return 0
    written = write_scenarios(args.dest, DEFAULT_SEED if args.seed is None else args.seed)
    for name, files in written.items():
        print(f"{name}: {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
