"""The local folders a report read from, found so that an anonymised report does not name them.

A report of logs read from ``/home/alice/incident-contoso-4711/`` carries that folder in every
``blob`` cell (``/home/alice/incident-contoso-4711/insights-logs-flowlogflowevent/…/PT1H.json``)
and in its sources (``local: /home/alice/incident-contoso-4711``). The part of a blob path
before the Azure layout (the ``insights-logs-…`` container folder or a ``resourceId=`` /
``flowLogResourceID=`` level) is the user's own folder: :func:`local_root` finds it, and
:func:`source_roots` the folders a ``local:`` source names, so that
:class:`flowkit.report.anonymize.Anonymizer` can replace them with a pseudonym.

Examples
--------
>>> local_root("/home/alice/case-4711/insights-logs-flowlogflowevent/flowLogResourceID=/X/PT1H.json")
'/home/alice/case-4711'
>>> local_root("insights-logs-flowlogflowevent/flowLogResourceID=/X/PT1H.json") is None
True
>>> source_roots("local: /home/alice/case-4711, logs/**/PT1H.json")
['/home/alice/case-4711', 'logs']
"""

from __future__ import annotations

import re

__all__ = ["local_root", "source_roots", "usable_root"]

#: Where the Azure blob layout begins in a path: the container folder, or the resource level.
_LAYOUT = re.compile(r"(?:^|[/\\])(?:insights-logs-[^/\\]*|resourceId=|resourceId%3D|flowLogResourceID=)", re.IGNORECASE)
_GLOB = re.compile(r"[*?\[]")
_FILE_SUFFIXES = (".json", ".txt", ".gz")


def usable_root(root: str) -> str | None:
    """``root`` without trailing separators, or None when it names nothing worth hiding (``.``, ``/``).

    Examples
    --------
    >>> usable_root("logs/"), usable_root("./"), usable_root("/")
    ('logs', None, None)
    """
    root = root.strip().rstrip("/\\")
    return root if re.search(r"[0-9A-Za-z]", root) else None  # ".", "..", "/": no folder of the user's


def local_root(blob: str) -> str | None:
    """The local folder in front of the Azure layout of a blob path; None when there is none.

    A path without the layout (a file saved under any name) has its folder as root.

    Examples
    --------
    >>> local_root("C:\\\\cases\\\\4711\\\\insights-logs-flowlogflowevent\\\\PT1H.json")
    'C:\\\\cases\\\\4711'
    >>> local_root("/tmp/saved/PT1H.json"), local_root("PT1H.json")
    ('/tmp/saved', None)
    """
    m = _LAYOUT.search(blob)
    if m is not None:
        return usable_root(blob[:m.start()])
    head, sep, _ = blob.replace("\\", "/").rpartition("/")
    return usable_root(blob[:len(head)]) if sep else None


def source_roots(source: str) -> list[str]:
    """The folders a ``local: PATH, PATH…`` source names (a glob's folder before its first wildcard,
    a file's folder); [] for a source of another kind.

    Examples
    --------
    >>> source_roots("local: data/PT1H.json"), source_roots("azure: https://acct.blob.core.windows.net/c")
    (['data'], [])
    """
    if not source.startswith("local: "):
        return []
    roots = []
    for path in source[len("local: "):].split(", "):
        wild = _GLOB.search(path)
        if wild is not None:
            path = path[:wild.start()]
            path = path[:max(path.rfind("/"), path.rfind("\\"), 0)]
        elif path.lower().endswith(_FILE_SUFFIXES):
            path = path[:max(path.rfind("/"), path.rfind("\\"), 0)]
        root = usable_root(path)
        if root is not None and root not in roots:
            roots.append(root)
    return roots
