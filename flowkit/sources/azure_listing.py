"""Listing flow-log blobs for :class:`flowkit.sources.azure.AzureBlobSource`.

:class:`BlobLister` holds the methods of the Azure source that find what to read: it
plans the narrowest prefixes (:mod:`flowkit.sources.azure_prefixes`), lists them
concurrently, keeps the blobs whose names fit the log type, window, MAC and resource
filters, and handles what is not laid out as Azure writes flow logs: an address that
names one blob is read as it is (without listing: a SAS made for one blob grants none),
and a container or prefix with no folder of the layout gives its ``*.json`` blobs, as a
local folder does.

Examples
--------
>>> AzureBlobRef(name="c/b.json", container="c", blob="b.json").etag is None
True
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from flowkit.addresses import normalize_mac
from flowkit.errors import SourceError
from flowkit.sources.azure_auth import UnreachableError, plain_etag
from flowkit.sources.azure_prefixes import ResourceFilter, dedupe, plan_prefixes
from flowkit.sources.base import BlobRef, Listing
from flowkit.sources.layout import hour_overlaps, parse_blob_path, to_utc

__all__ = ["AzureBlobRef", "BlobLister"]

#: The name Azure gives every flow-log blob, lower-cased.
_BLOB_NAME = "pt1h.json"
#: How copies of a blob saved beside it begin (``PT1H (1).json``), as a local folder reads them.
_BLOB_STEM = "pt1h"


@dataclass(frozen=True)
class AzureBlobRef(BlobRef):
    """A blob to read: ``name`` is ``container/blob`` (never a URL), with listing properties.

    Examples
    --------
    >>> ref = AzureBlobRef(name="c/a/PT1H.json", container="c", blob="a/PT1H.json", etag="0x8DC")
    >>> ref.blob, ref.meta.log_type
    ('a/PT1H.json', None)
    """

    blob: str = ""
    etag: str | None = None
    last_modified: pd.Timestamp | None = None


class BlobLister:
    """Listing methods of the Azure blob source (a mixin; it holds no state of its own).

    The class using it provides ``_client(container)``, ``_guard(...)``, ``_targets(log_type)``,
    ``_secrets``, ``_discovered``, ``account``, ``container``, ``prefix``, ``filters``,
    ``cache`` and ``max_concurrency``.

    Examples
    --------
    >>> BlobLister.list_blobs.__name__
    'list_blobs'
    """

    def plan(self, *, log_type: str | None = None, start: Any = None, end: Any = None,
             mac: str | None = None, discovery_ttl: float = 0.0) -> list[tuple[str, str, str]]:
        """The ``(container, log_type, prefix)`` triples a listing would read.

        Discovers resources with a few delimiter listings; lists no blob. With
        ``discovery_ttl`` seconds, discovery results that recent are reused (``follow``
        polls use 5 minutes: a new NSG or flow log is seen within that time). A container
        (or prefix) with no folder of the layout gives no triple: :meth:`list_blobs` lists
        it whole instead, as a local folder outside the layout is read whole.

        Examples
        --------
        >>> src.plan(log_type="vnet", start="2024-05-01T10:20Z", end="2024-05-01T10:40Z")  # doctest: +SKIP
        [('insights-logs-flowlogflowevent', 'vnet', 'flowLogResourceID=/…/y=2024/m=05/d=01/h=10/')]
        """
        return self._plan(log_type, to_utc(start), to_utc(end), normalize_mac(mac), discovery_ttl)[0]

    def _plan(self, log_type: str | None, start: Any, end: Any, mac: str | None,
              discovery_ttl: float) -> tuple[list[tuple[str, str, str]], list[str]]:
        """The triples to list, and the containers to list whole (no layout under the prefix)."""
        if log_type not in (None, "nsg", "vnet"):
            raise SourceError(f"log_type must be 'nsg', 'vnet' or None, not {log_type!r}")
        out: list[tuple[str, str, str]] = []
        bare: list[str] = []
        missing: list[str] = []
        for container, types in self._targets(log_type):
            client = self._client(container)

            def children(prefix: str, _c=client, _n=container) -> list[str]:
                key = (_n, prefix)
                hit = self._discovered.get(key)
                if hit is not None and time.monotonic() - hit[0] < discovery_ttl:
                    return hit[1]
                with self._guard("listing", _n, prefix):
                    found = [p.name for p in _c.walk_blobs(name_starts_with=prefix, delimiter="/")
                             if not hasattr(p, "etag")]
                self._discovered[key] = (time.monotonic(), found)
                return found
            try:
                plans = [(t, plan_prefixes(t, children, start=start, end=end, mac=mac, filters=self.filters,
                                           user_prefix=self.prefix)) for t in types]
            except SourceError as exc:
                if self.container or log_type or "does not exist" not in str(exc):
                    raise
                missing.append(str(exc))
                continue
            for t, plan in plans:
                out += [(container, lt, p) for lt, p in dedupe(plan.prefixes)]
            if types and (not any(p.roots for _, p in plans)
                          or (not any(p.resources for _, p in plans) and self.filters == ResourceFilter())):
                bare.append(container)
        if missing and len(missing) == len(self._targets(log_type)):
            raise SourceError("; ".join(missing))
        return out, bare

    def list_blobs(self, *, log_type: str | None = None, start: Any = None, end: Any = None,
                   mac: str | None = None, discovery_ttl: float = 0.0) -> Listing:
        """List the blobs that may hold tuples of that type, window and MAC.

        Only the prefixes of :meth:`plan` are listed. An address that names one blob
        (``…/CONTAINER/path/PT1H.json``, also with a SAS for that blob only) gives that
        blob, read whatever its name, without listing anything. A container or prefix
        with no folder of the layout is listed whole and gives its ``*.json`` blobs (only
        the ``PT1H.json`` ones and those in hour folders when it holds any), as a local
        folder does; when it holds blobs but none of these, a warning names it. With a
        MAC and a window, the hour folders are listed down to ``macAddress={MAC}``; when
        that finds no blob at all, the window is listed again without the MAC level, so a
        MAC spelt in lower case in the paths is found as it is without a window. When the
        account cannot be reached and a cache folder is set, the cached blobs are listed
        instead (with a warning).

        Returns
        -------
        Listing
            :class:`AzureBlobRef` items sorted by name; ``skipped`` counts blobs that were
            listed and then left out by their name (another hour, MAC, resource or log
            type). Blobs under prefixes that were never listed (other hours, MACs or
            resources the plan left out) are not counted: they are never seen.

        Examples
        --------
        >>> listing = src.list_blobs(log_type="vnet", start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")  # doctest: +SKIP
        """
        start_ts, end_ts, want_mac = to_utc(start), to_utc(end), normalize_mac(mac)
        if log_type not in (None, "nsg", "vnet"):
            raise SourceError(f"log_type must be 'nsg', 'vnet' or None, not {log_type!r}")
        try:
            named = self._named_blob()
            if named is not None:
                return self._listing_of(named, log_type, start_ts, end_ts, want_mac)
            jobs, bare = self._plan(log_type, start_ts, end_ts, want_mac, discovery_ttl)
        except UnreachableError as exc:
            if self.cache is None:
                raise
            warnings.warn(f"flowkit: {exc}; listing the local cache instead", stacklevel=2)
            return self._list_cached(log_type, start_ts, end_ts, want_mac)
        found = self._list_jobs(jobs)
        if want_mac:  # hour folders down to the MAC found nothing: list them without the MAC level
            empty = {(c, lt) for c, lt, p in jobs if "/macAddress=" in p} - {k[:2] for k, items in found if items}
            if empty:
                again, _ = self._plan(log_type, start_ts, end_ts, None, max(discovery_ttl, 60.0))
                found += self._list_jobs([j for j in again if j[:2] in empty])
        seen: set[str] = set()
        refs: list[AzureBlobRef] = []
        skipped = 0
        for (container, lt, _), items in found:
            for props in items:
                key = f"{container}/{props.name}"
                if key in seen:
                    continue
                seen.add(key)
                meta = parse_blob_path(props.name)
                if not self._wanted(meta, lt, start_ts, end_ts, want_mac):
                    skipped += 1
                    continue
                refs.append(self._ref(container, props, meta))
        for container in bare:
            more, more_skipped = self._list_bare(container, log_type, start_ts, end_ts, want_mac)
            refs += [r for r in more if r.name not in seen]
            skipped += more_skipped
        refs.sort(key=lambda r: r.name)
        return Listing(refs=tuple(refs), skipped=skipped)

    def _list_jobs(self, jobs: list[tuple[str, str, str]]) -> list[tuple[tuple[str, str, str], list[Any]]]:
        def list_one(job: tuple[str, str, str]) -> list[Any]:
            container, _, prefix = job
            with self._guard("listing", container, prefix):
                return list(self._client(container).list_blobs(name_starts_with=prefix))

        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(jobs))) as pool:
            return list(zip(jobs, pool.map(list_one, jobs)))

    @staticmethod
    def _ref(container: str, props: Any, meta: Any) -> AzureBlobRef:
        lm = pd.Timestamp(props.last_modified) if props.last_modified else None
        return AzureBlobRef(name=f"{container}/{props.name}", meta=meta, size=props.size, container=container,
                            blob=props.name, etag=plain_etag(props.etag), last_modified=lm)

    def _named_blob(self) -> Any:
        """The properties of the one blob the address names, or None when it names a folder.

        Asked for without listing anything: a SAS made for one blob grants no listing.
        """
        if not self.container or not self.prefix or self.prefix.endswith("/"):
            return None
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        client = self._client(self.container).get_blob_client(self.prefix)
        with self._guard("reading", self.container, self.prefix, "blob"):
            try:
                props = client.get_blob_properties()
            except ResourceNotFoundError:  # a prefix, not a blob (or no container: listing says so)
                return None
            except HttpResponseError as exc:
                if exc.status_code not in (401, 403):
                    raise
                return None  # may list but not read: the listing and the reads say what is refused
        if str((props.metadata or {}).get("hdi_isfolder", "")).lower() == "true":
            return None  # a folder of an account with a hierarchical namespace
        return props

    def _listing_of(self, props: Any, log_type: str | None, start: Any, end: Any, mac: str | None) -> Listing:
        assert self.container is not None
        meta = parse_blob_path(self.prefix)
        if not self._loosely_wanted(meta, log_type, start, end, mac):
            return Listing(refs=(), skipped=1)
        props.name = self.prefix
        return Listing(refs=(self._ref(self.container, props, meta),))

    def _list_bare(self, container: str, log_type: str | None, start: Any, end: Any,
                   mac: str | None) -> tuple[list[AzureBlobRef], int]:
        """Every ``*.json`` under the prefix of a container with no folder of the layout."""
        with self._guard("listing", container, self.prefix):
            items = list(self._client(container).list_blobs(name_starts_with=self.prefix))
        base = [p.name.rsplit("/", 1)[-1].lower() for p in items]
        laid_out = _BLOB_NAME in base
        refs: list[AzureBlobRef] = []
        skipped = 0
        for props, name in zip(items, base):
            meta = parse_blob_path(props.name)
            if not name.endswith(".json") or (laid_out and not name.startswith(_BLOB_STEM)
                                              and meta.log_type is None):
                continue
            if not self._loosely_wanted(meta, log_type, start, end, mac):
                skipped += 1
                continue
            refs.append(self._ref(container, props, meta))
        if items and not refs and not skipped:
            where = self._secrets.clean(f"container {container!r}" + (f", prefix {self.prefix!r}" if self.prefix else ""))
            warnings.warn(f"flowkit: {where} holds {len(items)} blob(s), none of them a flow log: no blob "
                          f"in the layout (resourceId=/…, flowLogResourceID=/…) and none named *.json", stacklevel=3)
        return refs, skipped

    def _wanted(self, meta: Any, log_type: str, start: Any, end: Any, mac: str | None) -> bool:
        return meta.log_type == log_type and self._loosely_wanted(meta, log_type, start, end, mac)

    def _loosely_wanted(self, meta: Any, log_type: str | None, start: Any, end: Any, mac: str | None) -> bool:
        """The rule of local files: what the path does not say does not exclude a blob."""
        f = self.filters
        if meta.short_form and meta.network_watcher and meta.flow_log:
            names = f.allows_short(f"{meta.network_watcher}_{meta.flow_log}")
        else:
            names = f.allows("network_watcher", meta.network_watcher) and f.allows("flow_log", meta.flow_log)
        return (not (log_type and meta.log_type and meta.log_type != log_type)
                and hour_overlaps(meta.hour, start, end)
                and not (mac and meta.mac and meta.mac != mac)
                and f.allows("subscription", meta.subscription)
                and f.allows("resource_group", meta.resource_group)
                and f.allows("nsg", meta.nsg) and names)

    def _list_cached(self, log_type: str | None, start: Any, end: Any, mac: str | None) -> Listing:
        assert self.cache is not None
        refs: list[AzureBlobRef] = []
        skipped = 0
        for container, types in self._targets(log_type):
            for entry in self.cache.entries(self.account, container):
                if not entry.blob.startswith(self.prefix):
                    continue  # outside the address read: a listing would never see it, nor count it
                meta = parse_blob_path(entry.blob)
                named = entry.blob == self.prefix or meta.log_type is None  # read as named / outside the layout
                if not (any(self._wanted(meta, t, start, end, mac) for t in types)
                        or (named and self._loosely_wanted(meta, log_type, start, end, mac))):
                    skipped += 1
                    continue
                refs.append(AzureBlobRef(name=f"{container}/{entry.blob}", meta=meta, size=entry.size,
                                         container=container, blob=entry.blob, etag=entry.etag,
                                         last_modified=entry.last_modified))
        refs.sort(key=lambda r: r.name)
        return Listing(refs=tuple(refs), skipped=skipped)

