"""Turn what a user passes (paths, globs, lists, URLs, source objects) into a FlowSource.

A text that starts with a URL scheme (``azure://``, ``https://``, ``http://``) is an address,
never a local path; ``http(s)://`` addresses are Azure blob URLs whatever their host (an
account, an emulator such as ``http://azurite:10000/…`` or ``http://[::1]:10000/…``, a custom
domain). A list may mix local paths and addresses: each address is read by its own source,
and local paths next to each other by one :class:`flowkit.sources.local.LocalSource`.

Examples
--------
>>> resolve_source("data-samples/connectivity").describe()
'local: data-samples/connectivity'
>>> resolve_source(["ftp://user:pa55@host/logs"])
Traceback (most recent call last):
...
flowkit.errors.SourceError: not a local path or a blob storage address: 'ftp://REDACTED@host/logs' \
(flowkit reads files, folders, globs, azure://ACCOUNT/CONTAINER addresses and http(s) blob URLs)
"""

from __future__ import annotations

import os
import re
from typing import Any

from flowkit.errors import ArgumentError, SourceError
from flowkit.sources.base import CompositeSource, FlowSource
from flowkit.sources.redact import redact

__all__ = ["resolve_source", "is_azure_url"]

#: ``scheme://`` at the start of a text: an address, not a path (a drive letter has one letter).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_azure_url(text: str) -> bool:
    """True for ``azure://…`` addresses and every ``http(s)://…`` URL (blob service, SAS, emulator).

    Examples
    --------
    >>> is_azure_url("azure://acct/insights-logs-flowlogflowevent"), is_azure_url("data/x.json")
    (True, False)
    >>> is_azure_url("http://azurite:10000/devstoreaccount1/c"), is_azure_url("HTTPS://logs.example.com/c")
    (True, True)
    """
    return text.lower().startswith(("azure://", "https://", "http://"))


def _address(item: str | os.PathLike[str]) -> FlowSource | None:
    """The Azure source an address names, None for a local path; a SourceError for other schemes."""
    text = os.fspath(item)
    if is_azure_url(text):
        from flowkit.sources.azure import AzureBlobSource

        return AzureBlobSource.from_url(text)
    if _SCHEME.match(text):
        raise SourceError(f"not a local path or a blob storage address: {redact(text)!r} (flowkit reads "
                          f"files, folders, globs, azure://ACCOUNT/CONTAINER addresses and http(s) blob URLs)")
    return None


def _is_path(item: Any) -> bool:
    """True for a str or a PathLike naming a str (bytes paths are not read)."""
    return isinstance(item, (str, os.PathLike)) and isinstance(os.fspath(item), str)


def _refuse(what: Any) -> ArgumentError:
    """The error for a source (or list item) flowkit cannot read from (None, a number, bytes...)."""
    return ArgumentError(f"source: {redact(repr(what))[:100]} is not a file, folder, glob, blob storage "
                         f"address or FlowSource (nor a list of them)")


def resolve_source(source: Any) -> FlowSource:
    """Return a :class:`FlowSource` for a path, glob, list of them, URL or source object.

    Parameters
    ----------
    source
        A FlowSource (returned as is), a file, folder or glob (str or PathLike),
        an Azure address (``azure://account/container/prefix`` or a blob service / SAS
        URL, which needs the ``azure`` extra), or a list mixing those. A list that names
        more than one source gives a :class:`flowkit.sources.base.CompositeSource`.

    Raises
    ------
    flowkit.errors.ArgumentError
        When ``source``, or an item of the list, is none of those (None, a number, bytes…).
    flowkit.errors.SourceError
        For an address of another scheme (``ftp://…``), shown without its user info.
    """
    from flowkit.sources.local import LocalSource

    if isinstance(source, FlowSource):
        return source
    if _is_path(source):
        return _address(source) or LocalSource(source)
    if isinstance(source, (str, os.PathLike, bytes, bytearray)) or not hasattr(source, "__iter__"):
        raise _refuse(source)
    parts: list[FlowSource] = []
    local: list[Any] = []
    for item in source:
        if not (isinstance(item, FlowSource) or _is_path(item)):
            raise _refuse(item)
        part = item if isinstance(item, FlowSource) else _address(item)
        if part is None:
            local.append(item)
            continue
        if local:
            parts.append(LocalSource(local))
            local = []
        parts.append(part)
    if local or not parts:
        parts.append(LocalSource(local))
    return parts[0] if len(parts) == 1 else CompositeSource(parts)
