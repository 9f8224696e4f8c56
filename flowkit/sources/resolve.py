"""Turn what a user passes (paths, globs, lists, URLs, source objects) into a FlowSource.

Examples
--------
>>> resolve_source("data-samples/connectivity").describe()  # doctest: +SKIP
'local: data-samples/connectivity'
"""

from __future__ import annotations

import os
from typing import Any

from flowkit.sources.base import FlowSource

__all__ = ["resolve_source", "is_azure_url"]


def is_azure_url(text: str) -> bool:
    """True for ``azure://…`` and ``https://<account>.blob.…`` style addresses.

    Examples
    --------
    >>> is_azure_url("azure://acct/insights-logs-flowlogflowevent"), is_azure_url("data/x.json")
    (True, False)
    """
    lowered = text.lower()
    return lowered.startswith("azure://") or (
        lowered.startswith(("https://", "http://")) and ".blob." in lowered
    ) or lowered.startswith(("http://127.0.0.1", "http://localhost"))


def resolve_source(source: Any) -> FlowSource:
    """Return a :class:`FlowSource` for a path, glob, list of them, URL or source object.

    Parameters
    ----------
    source
        A FlowSource (returned as is), a file, folder or glob (str or PathLike),
        a list of those, or an Azure address (``azure://account/container/prefix``
        or a blob service / SAS URL), which needs the ``azure`` extra.
    """
    if isinstance(source, FlowSource):
        return source
    if isinstance(source, (str, os.PathLike)) and is_azure_url(os.fspath(source)):
        from flowkit.sources.azure import AzureBlobSource

        return AzureBlobSource.from_url(os.fspath(source))
    from flowkit.sources.local import LocalSource

    return LocalSource(source)
