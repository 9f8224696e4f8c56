"""The ``flowkit`` command: a thin face over the public API (STYLE.md example 10).

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``; the module's handler returns an exit status.
Errors flowkit raises on purpose end with a one-line message and status 2;
nothing a command prints contains a secret.

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

__all__ = ["main", "SUBCOMMANDS"]

#: Modules of flowkit.cli that define subcommands, in help order. A module that
#: cannot be imported (an optional extra not installed) is left out of the help.
SUBCOMMANDS = ("inspect", "follow", "diagnose", "compare", "encryption", "report", "convert")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available subcommand."""
    from flowkit import __version__

    parser = argparse.ArgumentParser(prog="flowkit", description="Investigate Azure NSG and VNet flow logs.")
    parser.add_argument("--version", action="version", version=f"flowkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"flowkit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("flowkit.cli"):
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowkit`` command line; return the exit status."""
    from flowkit.errors import FlowkitError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except FlowkitError as exc:
        print(f"flowkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`flowkit inspect ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's exit flush does not fail again
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
