"""Glob patterns over local folders that never give part of a tree in silence.

:func:`glob.glob` passes over a folder it cannot read: ``logs/**/PT1H.json`` over a tree with
one unreadable hour folder gives the other hours and no word of the missing one. A flow-log
reader must not lose files that way, so :func:`match_pattern` walks the tree itself, with the
rules of ``glob.glob(pattern, recursive=True)`` (``*``, ``?`` and ``[...]`` within one name,
``**`` for any number of folders, wildcards not matching a leading dot), and raises a
:class:`~flowkit.errors.SourceError` naming any folder it needed and could not read.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "h=01").mkdir(), (root / "h=01" / "PT1H.json").write_text("{}")
>>> [pathlib.Path(p).name for p in match_pattern(str(root / "**" / "*.json"))]
['PT1H.json']
"""

from __future__ import annotations

import fnmatch
import os
from typing import Sequence

from flowkit.errors import SourceError
from flowkit.sources.redact import redact, scrub_exception

__all__ = ["match_pattern", "has_magic"]

_MAGIC = frozenset("*?[")


def has_magic(text: str) -> bool:
    """Whether ``text`` holds a glob wildcard (``*``, ``?`` or ``[``).

    Examples
    --------
    >>> has_magic("logs/*/PT1H.json"), has_magic("logs/PT1H.json")
    (True, False)
    """
    return any(c in text for c in _MAGIC)


def _name_matches(name: str, part: str) -> bool:
    if not has_magic(part):
        return name == part
    if name.startswith(".") and not part.startswith("."):
        return False  # as glob: a wildcard does not match a leading dot
    return fnmatch.fnmatchcase(name, part)


def _matches(names: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether the path ``names`` matches the whole pattern ``parts``."""
    if not parts:
        return not names
    if parts[0] == "**":
        return _matches(names, parts[1:]) or (bool(names) and not names[0].startswith(".")
                                              and _matches(names[1:], parts))
    return bool(names) and _name_matches(names[0], parts[0]) and _matches(names[1:], parts[1:])


def _may_hold(names: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether a folder at the path ``names`` may hold a match of ``parts`` (glob reads it)."""
    if not names:
        return bool(parts)
    if not parts:
        return False
    if parts[0] == "**":
        return _may_hold(names, parts[1:]) or (not names[0].startswith(".") and _may_hold(names[1:], parts))
    return _name_matches(names[0], parts[0]) and _may_hold(names[1:], parts[1:])


def match_pattern(pattern: str) -> list[str]:
    """The files and folders a glob pattern names, sorted, as ``glob.glob(recursive=True)``.

    Parameters
    ----------
    pattern : str
        A path with wildcards in any of its names.

    Returns
    -------
    list of str
        The matching paths, spelt from the pattern's fixed start.

    Raises
    ------
    SourceError
        A folder the pattern reaches into cannot be read; the message names it.

    Examples
    --------
    >>> match_pattern("/nonexistent-flowkit-folder/*.json")
    []
    """
    head, parts = _split(pattern)
    folders_only = pattern.endswith(os.sep)  # as glob: "logs/*/" names folders, with the "/"
    found: list[str] = []
    if parts and head and _matches((), parts) and os.path.isdir(head):
        # as glob: "logs/**" names "logs/" itself too, and "**" names nothing for the current folder
        # (it gave "", which the reader then failed to open)
        found.append(os.path.join(head, ""))
    # (folder, its names from the fixed start, the real paths of the linked folders above it)
    stack: list[tuple[str, tuple[str, ...], frozenset[str]]] = [(head, (), frozenset())]
    while stack:
        folder, names, linked = stack.pop()
        try:
            with os.scandir(folder or ".") as entries:
                listed = [(entry.name, entry) for entry in entries]
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            scrub_exception(exc)
            raise SourceError(f"cannot read folder {redact(folder or '.')!r} (reached by the pattern "
                              f"{redact(pattern)!r}): {exc.strerror or type(exc).__name__}") from None
        for name, entry in listed:
            path = os.path.join(folder, name) if folder else name
            here = names + (name,)
            if _matches(here, parts):
                if not folders_only:
                    found.append(path)
                elif _folder_to_enter(entry, frozenset()) is not None:
                    found.append(os.path.join(path, ""))
            if not _may_hold(here, parts):
                continue
            inside = _folder_to_enter(entry, linked)
            if inside is not None:
                stack.append((path, here, inside))
    found.sort()
    return found


def _folder_to_enter(entry: os.DirEntry, linked: frozenset[str]) -> frozenset[str] | None:
    """The linked folders above ``entry``'s contents, or None when not to look inside it.

    Links to folders are followed, as ``glob.glob`` does, except into a folder they are
    already inside (a link to a parent would never end).
    """
    try:
        if entry.is_dir(follow_symlinks=False):
            return linked
        if not entry.is_dir():
            return None
    except OSError:
        return None
    real = os.path.realpath(entry.path)
    if real in linked or any(os.path.commonpath([real, r]) == real for r in linked):
        return None
    if os.path.commonpath([real, os.path.realpath(os.path.dirname(entry.path) or ".")]) == real:
        return None  # a link to a folder holding it
    return linked | {real}


def _split(pattern: str) -> tuple[str, tuple[str, ...]]:
    """The fixed folder a pattern starts from, and its parts from the first wildcard on."""
    drive_root = os.sep if pattern.startswith(os.sep) else ""
    pieces = [p for p in pattern.split(os.sep) if p not in ("", ".")] if drive_root else \
        [p for p in pattern.split(os.sep) if p != ""]
    fixed: list[str] = []
    for i, piece in enumerate(pieces):
        if has_magic(piece):
            rest = tuple(pieces[i:])
            break
        fixed.append(piece)
    else:  # no wildcard at all: the path itself
        return os.path.dirname(pattern), (os.path.basename(pattern),) if os.path.basename(pattern) else ()
    head = drive_root + os.sep.join(fixed) if fixed else drive_root
    return head, rest
