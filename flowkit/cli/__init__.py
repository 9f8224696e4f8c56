"""The ``flowkit`` command: a thin face over the public API (STYLE.md example 10).

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``; the module's handler returns an exit status. A command
that writes files names the options holding their paths in ``set_defaults(writes=…)``.
Errors flowkit raises on purpose, and operating-system errors (a folder where a
file should go, a read-only folder, a full disk), end with a one-line message and
status 2; nothing a command prints contains a secret or a raw control character.

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn, Sequence

__all__ = ["main", "SUBCOMMANDS", "UsageError", "os_error_message"]

#: Modules of flowkit.cli that define subcommands, in help order. A module that
#: cannot be imported (an optional extra not installed) is left out of the help.
SUBCOMMANDS = ("inspect", "follow", "diagnose", "compare", "encryption", "report", "convert")


class UsageError(Exception):
    """An option or argument argparse refused; :func:`main` prints it on one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors end in :func:`main` as one line (``flowkit diagnose: error: …``), status 2.

    The subcommand parsers are of this class too (argparse makes them like their parent).
    """

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available subcommand."""
    from flowkit import __version__

    parser = _Parser(prog="flowkit", description="Investigate Azure NSG and VNet flow logs.")
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


def _join_dash_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--max-skew -2min`` as ``--max-skew=-2min``: a value starting with ``-`` that is no option.

    argparse takes such a value for an unknown option and says only "expected one argument";
    joined, the option's own check reads it and says what is wrong with it.

    Examples
    --------
    >>> _join_dash_values(build_parser(), ["compare", "p", "--max-skew", "-2min", "--json"])
    ['compare', 'p', '--max-skew=-2min', '--json']
    """
    argv = list(argv)
    commands = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})
    command = next((a for a in argv if a in commands), None)
    if command is None:
        return argv
    actions = commands[command]._actions
    known = {o for a in actions for o in a.option_strings} | {"--", "-"}
    takes_one = {o for a in actions if a.nargs is None and a.option_strings for o in a.option_strings}
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if (token in takes_one and i + 1 < len(argv) and argv[i + 1].startswith("-")
                and argv[i + 1].split("=", 1)[0] not in known):
            out.append(f"{token}={argv[i + 1]}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


#: How a read's warning about quarantined tuples ends in Python (``flows.attrs`` holds the report).
_SEE_REPORT = "; see the load report"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowkit`` command line; return the exit status."""
    from flowkit.cli.output import printable
    from flowkit.errors import FlowkitError

    parser = build_parser()
    try:
        args = parser.parse_args(_join_dash_values(parser, sys.argv[1:] if argv is None else argv))
    except UsageError as exc:  # a bad option value, a missing argument: one line, not the usage
        from flowkit.sources.redact import redact

        print(printable(redact(exc)), file=sys.stderr)  # argparse quotes arguments: a SAS URL among them
        return 2
    if not getattr(args, "handler", None):  # no command: the help, on stderr as every usage error is
        parser.print_help(sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            shown, formatted = warnings.showwarning, warnings.formatwarning

            def show_warning(message: Any, category: Any, filename: str, lineno: int,
                             file: Any = None, line: str | None = None) -> None:
                # warnings may quote a blob name: no raw control characters to the terminal
                shown(printable(message, lines=True), category, filename, lineno, file, line)

            def format_warning(message: Any, category: Any, filename: str, lineno: int,
                               line: str | None = None) -> str:
                text = str(message)
                if text.startswith("flowkit: "):  # flowkit's own: one line, as errors are, no source line
                    if text.endswith(_SEE_REPORT):  # the load report of Python; a shell user has inspect's
                        text = text[:-len(_SEE_REPORT)] + (
                            "" if args.command == "inspect" else "; `flowkit inspect` on the same input lists them")
                    return f"flowkit {args.command}: warning: {text[len('flowkit: '):]}\n"
                return formatted(message, category, filename, lineno, line)

            warnings.showwarning, warnings.formatwarning = show_warning, format_warning
            try:
                return int(args.handler(args) or 0)
            finally:
                warnings.formatwarning = formatted
    except FlowkitError as exc:
        from flowkit.sources.redact import redact

        # Messages redact what they quote already; this is the last line of defence.
        print(f"flowkit {args.command}: error: {printable(redact(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`flowkit inspect ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's exit flush does not fail again
        return 1
    except OSError as exc:  # a path the system refused: not a bug, not a traceback
        written = [getattr(args, name, None) for name in getattr(args, "writes", ())]
        message = os_error_message(exc, [w for w in written if w])
        print(f"flowkit {args.command}: error: {printable(message)}", file=sys.stderr)
        return 2


#: The errno of an OSError subclass raised with a message only (``NotADirectoryError("x")``).
_ERRNO_OF = {NotADirectoryError: errno.ENOTDIR, IsADirectoryError: errno.EISDIR, FileExistsError: errno.EEXIST,
             FileNotFoundError: errno.ENOENT, PermissionError: errno.EACCES}


def os_error_message(exc: OSError, written: Sequence[str | os.PathLike] = ()) -> str:
    """One line for an OSError: ``cannot write PATH: reason`` when it concerns a path in ``written``.

    The path shown is the one the user gave (or the file or folder of it that failed),
    never a temporary name; anything secret-looking in it is redacted.

    Examples
    --------
    >>> os_error_message(PermissionError(13, "Permission denied", "ro/.r.html.x1.tmp"), ["ro/r.html"])
    'cannot write ro/r.html: Permission denied'
    >>> os_error_message(NotADirectoryError("dest is not a folder"), ["esc.json"])
    'cannot write esc.json: Not a directory'
    >>> os_error_message(PermissionError(13, "Permission denied", "in/x.json"), ["out.html"])
    'cannot access in/x.json: Permission denied'
    """
    from flowkit.sources.redact import redact

    code = exc.errno if exc.errno is not None else _ERRNO_OF.get(type(exc))
    reason = exc.strerror or (os.strerror(code) if code is not None else "") or str(exc) or type(exc).__name__
    names = [_path_text(n) for n in (exc.filename, exc.filename2) if n is not None]
    if isinstance(exc, FileExistsError) and names and os.path.lexists(names[0]) and not os.path.isdir(names[0]):
        reason = os.strerror(errno.ENOTDIR)  # a folder was to be made where a file is
    network = isinstance(exc, (ConnectionError, TimeoutError))
    reason = redact(reason)
    for target in written:
        if not names and not network:
            return f"cannot write {redact(_path_text(target))}: {reason}"
        for name in names:
            shown = _concerns(name, _path_text(target))
            if shown is not None:
                return f"cannot write {redact(shown)}: {reason}"
    if names:
        return f"cannot access {redact(names[0])}: {reason}"
    return reason


def _path_text(path: Any) -> str:
    return os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)


def _concerns(name: str, target: str) -> str | None:
    """The path to show when writing ``target`` failed at ``name``, or None when ``name`` is elsewhere.

    ``name`` may be the target, a folder on its way (made with it), a file inside it
    (a CSV folder), the ``<stem>_files`` folder beside it, or its temporary twin.
    """
    n, t = Path(os.path.abspath(name)), Path(os.path.abspath(target))
    if n == t or n in t.parents:
        return target
    if n.parent == t.parent and n.name.startswith("." + t.name + "."):
        return target  # the temporary file of an atomic write
    for p in (n, *n.parents):
        if p == t or (p.parent == t.parent and p.name in (t.stem, t.stem + "_files")):
            return name
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
