"""Azure Blob Storage as a flow-log source: list by time, read fast, follow growing blobs.

:class:`AzureBlobSource` implements the :class:`flowkit.sources.base.FlowSource`
protocol, so the same :func:`flowkit.read_flow_logs` call reads local files or a
storage account. It lists only the narrowest prefixes the layout allows for the log
type, window and filters (:mod:`flowkit.sources.azure_prefixes`), downloads blobs
concurrently (bounded), retries transient failures with azure-core policies, can keep
sealed blobs in a local mirror (:mod:`flowkit.sources.blob_cache`), and follows
growing blobs block by block (:mod:`flowkit.sources.follow`).

Needs the ``azure`` extra (``pip install flowkit[azure]``).

Examples
--------
>>> src = AzureBlobSource(account_url="https://acct.blob.core.windows.net")  # doctest: +SKIP
>>> flows = flowkit.read_flow_logs(src, log_type="vnet", start="2024-05-01T10:00Z",
...                                end="2024-05-01T11:00Z", mac="00-0D-3A-00-01-01")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import pandas as pd

from flowkit.addresses import normalize_mac
from flowkit.errors import SourceError
from flowkit.sources.azure_auth import (Address, Secrets, UnreachableError, client_options,
                                        connection_string_secrets, credential_secrets, default_credential,
                                        check_endpoint, describe_credential, parse_address, plain_etag,
                                        storage_errors)
from flowkit.sources.azure_prefixes import ResourceFilter, dedupe, plan_prefixes
from flowkit.sources.base import BlobRef, Listing, read_concurrently
from flowkit.sources.blob_cache import BlobCache, is_sealed
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, hour_overlaps, parse_blob_path, to_utc
from flowkit.sources.redact import install_log_redaction, scrub_exception

__all__ = ["AzureBlobSource", "AzureBlobRef", "plain_etag"]

_CONTAINER_OF = {"nsg": NSG_CONTAINER, "vnet": VNET_CONTAINER}
_TYPES_IN = {NSG_CONTAINER: ("nsg",), VNET_CONTAINER: ("vnet",)}


@dataclass(frozen=True)
class AzureBlobRef(BlobRef):
    """A blob to read: ``name`` is ``container/blob`` (never a URL), with listing properties."""

    blob: str = ""
    etag: str | None = None
    last_modified: pd.Timestamp | None = None


class AzureBlobSource:
    """Flow logs in an Azure storage account (or one container of it).

    Parameters
    ----------
    account_url : str, optional
        ``https://ACCOUNT.blob.core.windows.net`` (may end in a container and prefix, and
        carry a SAS query). Without ``credential`` and without a SAS,
        :class:`azure.identity.DefaultAzureCredential` is used.
    credential : optional
        An account key (str), a SAS token (str), ``AzureNamedKeyCredential``,
        ``AzureSasCredential``, a ``{"account_name", "account_key"}`` dict or any
        azure-identity token credential.
    container_client : azure.storage.blob.ContainerClient, optional
        Use this client (and its container) as is, e.g. one pointed at Azurite.
    container : str, optional
        Read one container; by default the flow-log containers of the log types asked for.
    prefix : str, optional
        Only blobs whose names start with this.
    cache_dir : str or PathLike, optional
        Keep sealed blobs here and read them from here next time (and when offline).
    max_concurrency : int, default 8
        Downloads and listings at once.
    progress : bool, optional
        Download progress bar (blobs and bytes); by default only when interactive.
    subscription, resource_group, nsg, network_watcher, flow_log : str, optional
        Only blobs of these resources (case-insensitive).
    retry_total, retry_backoff : int, float
        azure-core retry policy: attempts, and the first backoff in seconds.
    connection_timeout, read_timeout : float
        Seconds.
    client_kwargs : dict, optional
        More keyword arguments for the SDK clients (``transport``, ``proxies``,
        ``raw_request_hook``, ``user_agent``…).

    Examples
    --------
    >>> AzureBlobSource(account_url="https://acct.blob.core.windows.net",
    ...                 credential="bm90IGEgcmVhbCBrZXk=")
    AzureBlobSource('https://acct.blob.core.windows.net',
                    container='insights-logs-networksecuritygroupflowevent|insights-logs-flowlogflowevent',
                    credential='account key or SAS')
    """

    def __init__(self, account_url: str | None = None, credential: Any = None, *,
                 container_client: Any = None, container: str | None = None, prefix: str = "",
                 cache_dir: str | os.PathLike | None = None, max_concurrency: int = 8,
                 progress: bool | None = None, subscription: str | None = None,
                 resource_group: str | None = None, nsg: str | None = None,
                 network_watcher: str | None = None, flow_log: str | None = None,
                 retry_total: int = 5, retry_backoff: float = 2.0, connection_timeout: float = 20,
                 read_timeout: float = 60, client_kwargs: dict[str, Any] | None = None,
                 _service: Any = None, _secrets: Secrets | None = None,
                 _credential_kind: str | None = None) -> None:
        install_log_redaction()
        self._secrets = _secrets or Secrets()
        self._secrets.add(*credential_secrets(credential))
        self.max_concurrency = max(1, int(max_concurrency))
        self.progress = progress
        self.filters = ResourceFilter(subscription, resource_group, nsg, network_watcher, flow_log)
        self.cache = BlobCache(cache_dir) if cache_dir is not None else None
        self._options = client_options(retry_total, retry_backoff, connection_timeout, read_timeout,
                                       self.max_concurrency)
        self._options.update(client_kwargs or {})
        self._service = _service
        self._clients: dict[str, Any] = {}
        self._discovered: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self.prefix = prefix or ""
        sas = False
        if container_client is not None:
            self.container = container_client.container_name
            self.account = container_client.account_name or "account"
            self._secrets.add(*credential_secrets(getattr(container_client, "credential", None)))
            self._secrets.add(*credential_secrets(parse_address(container_client.url).sas))
            self.account_url = check_endpoint(container_client.primary_endpoint).rsplit("/", 1)[0]
            self._clients[self.container] = container_client
            kind = _credential_kind or describe_credential(getattr(container_client, "credential", None))
        elif _service is not None:
            self.container = container
            self.account = _service.account_name or "account"
            self.account_url = check_endpoint(_service.primary_endpoint).rstrip("/")
            kind = _credential_kind or "connection string"
        else:
            if not account_url:
                raise SourceError("AzureBlobSource needs an account_url, a connection string "
                                  "(from_connection_string) or a container_client")
            addr = parse_address(account_url)
            self._secrets.add(*credential_secrets(addr.sas))
            self.account, self.account_url = addr.account, addr.account_url
            self.container = container or addr.container
            self.prefix = self.prefix or addr.prefix
            sas = addr.sas is not None
            if credential is None and not sas:
                credential = default_credential(addr.account_url)
                kind = "DefaultAzureCredential"
            else:
                kind = describe_credential(credential, sas=sas)
            self._service = self._make_service(addr, credential)
        self.credential_kind = kind

    # -- constructors ---------------------------------------------------------------
    @classmethod
    def from_connection_string(cls, conn_str: str, container: str | None = None,
                               **kwargs: Any) -> "AzureBlobSource":
        """Build a source from a storage connection string (key or SAS, Azurite's too).

        Examples
        --------
        >>> src = AzureBlobSource.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])  # doctest: +SKIP
        """
        secrets = Secrets(connection_string_secrets(conn_str))
        probe = dict(kwargs)
        opts = client_options(probe.get("retry_total", 5), probe.get("retry_backoff", 2.0),
                              probe.get("connection_timeout", 20), probe.get("read_timeout", 60),
                              probe.get("max_concurrency", 8))
        opts.update(probe.get("client_kwargs") or {})
        from azure.storage.blob import BlobServiceClient

        with storage_errors(secrets, "parsing the connection string", container):
            try:
                service = BlobServiceClient.from_connection_string(conn_str, **opts)
            except ValueError as exc:
                scrub_exception(exc, secrets)
                raise SourceError("the connection string is not valid (its text is not shown)") from None
        return cls(container=container, _service=service, _secrets=secrets,
                   _credential_kind="connection string", **kwargs)

    @classmethod
    def from_sas_url(cls, url: str, **kwargs: Any) -> "AzureBlobSource":
        """Build a source from an account or container URL that carries a SAS token.

        Examples
        --------
        >>> AzureBlobSource.from_sas_url("https://acct.blob.core.windows.net/c?sv=2024-08-04&sig=…")  # doctest: +SKIP
        """
        if parse_address(url).sas is None:
            raise SourceError("the URL carries no SAS token (expected ?sv=…&sig=…)")
        return cls(account_url=url, **kwargs)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "AzureBlobSource":
        """Build a source from ``azure://ACCOUNT[/CONTAINER[/PREFIX]]`` or a blob/SAS URL.

        ``azure://`` uses ``AZURE_STORAGE_CONNECTION_STRING`` when it names the same
        account, else :class:`azure.identity.DefaultAzureCredential`.

        Examples
        --------
        >>> AzureBlobSource.from_url("azure://acct/insights-logs-flowlogflowevent")  # doctest: +SKIP
        """
        addr = parse_address(url)
        if url.lower().startswith("azure://"):
            conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
            if conn and f"accountname={addr.account.lower()};" in (conn.lower().replace(" ", "") + ";"):
                kwargs.setdefault("prefix", addr.prefix)
                return cls.from_connection_string(conn, container=addr.container, **kwargs)
            kwargs.setdefault("prefix", addr.prefix)
            return cls(account_url=addr.account_url + (f"/{addr.container}" if addr.container else ""),
                       **kwargs)
        return cls(account_url=url, **kwargs)

    def _make_service(self, addr: Address, credential: Any) -> Any:
        from azure.storage.blob import BlobServiceClient

        url = addr.account_url + (f"?{addr.sas}" if addr.sas else "")
        with storage_errors(self._secrets, "connecting", addr.container, account_url=addr.account_url):
            return BlobServiceClient(account_url=url, credential=credential, **self._options)

    # -- description ----------------------------------------------------------------
    def __repr__(self) -> str:
        # Only the address parts are cleaned: the credential kind is a fixed word or a type name,
        # and cleaning "credential='account key'" as text would mask the word itself.
        clean = self._secrets.clean
        where = clean(self.container or f"{NSG_CONTAINER}|{VNET_CONTAINER}")
        extra = f", prefix={clean(self.prefix)!r}" if self.prefix else ""
        return (f"AzureBlobSource({clean(self.account_url)!r}, container={where!r}{extra}, "
                f"credential={self.credential_kind!r})")

    def describe(self) -> str:
        """Say what is read, for reports (account URL and container; never a secret).

        Examples
        --------
        >>> src.describe()  # doctest: +SKIP
        'azure: https://acct.blob.core.windows.net/insights-logs-flowlogflowevent'
        """
        where = self.container or "{" + f"{NSG_CONTAINER},{VNET_CONTAINER}" + "}"
        text = f"azure: {self.account_url}/{where}" + (f"/{self.prefix}" if self.prefix else "")
        return self._secrets.clean(text)

    # -- clients --------------------------------------------------------------------
    def _client(self, container: str) -> Any:
        client = self._clients.get(container)
        if client is None:
            client = self._service.get_container_client(container)
            self._clients[container] = client
        return client

    def _targets(self, log_type: str | None) -> list[tuple[str, tuple[str, ...]]]:
        types: tuple[str, ...] = (log_type,) if log_type else ("nsg", "vnet")
        # an NSG filter names NSG flow logs only; a flow log or watcher filter VNet ones
        f = self.filters
        if f.nsg:
            types = tuple(t for t in types if t == "nsg")
        if f.flow_log or f.network_watcher:
            types = tuple(t for t in types if t == "vnet")
        if self.container:
            inside = _TYPES_IN.get(self.container, ("nsg", "vnet"))
            return [(self.container, tuple(t for t in types if t in inside))]
        return [(_CONTAINER_OF[t], (t,)) for t in types if t]

    def _guard(self, where: str, container: str | None, prefix: str = "", what: str = "prefix"):
        return storage_errors(self._secrets, where, container, prefix, self.account_url, what)

    # -- listing --------------------------------------------------------------------
    def plan(self, *, log_type: str | None = None, start: Any = None, end: Any = None,
             mac: str | None = None, discovery_ttl: float = 0.0) -> list[tuple[str, str, str]]:
        """The ``(container, log_type, prefix)`` triples a listing would read.

        Discovers resources with a few delimiter listings; lists no blob. With
        ``discovery_ttl`` seconds, discovery results that recent are reused (``follow``
        polls use 5 minutes: a new NSG or flow log is seen within that time).

        Examples
        --------
        >>> src.plan(log_type="vnet", start="2024-05-01T10:20Z", end="2024-05-01T10:40Z")  # doctest: +SKIP
        [('insights-logs-flowlogflowevent', 'vnet', 'flowLogResourceID=/…/y=2024/m=05/d=01/h=10/')]
        """
        if log_type not in (None, "nsg", "vnet"):
            raise SourceError(f"log_type must be 'nsg', 'vnet' or None, not {log_type!r}")
        start_ts, end_ts, mac = to_utc(start), to_utc(end), normalize_mac(mac)
        out: list[tuple[str, str, str]] = []
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
                for t in types:
                    plan = plan_prefixes(t, children, start=start_ts, end=end_ts, mac=mac,
                                         filters=self.filters, user_prefix=self.prefix)
                    out += [(container, lt, p) for lt, p in dedupe(plan.prefixes)]
            except SourceError as exc:
                if self.container or log_type or "does not exist" not in str(exc):
                    raise
                missing.append(str(exc))
        if missing and len(missing) == len(self._targets(log_type)):
            raise SourceError("; ".join(missing))
        return out

    def list_blobs(self, *, log_type: str | None = None, start: Any = None, end: Any = None,
                   mac: str | None = None, discovery_ttl: float = 0.0) -> Listing:
        """List the blobs that may hold tuples of that type, window and MAC.

        Only the prefixes of :meth:`plan` are listed. When the account cannot be reached
        and a cache folder is set, the cached blobs are listed instead (with a warning).

        Returns
        -------
        Listing
            :class:`AzureBlobRef` items sorted by name; ``skipped`` counts names listed
            but left out (another hour, MAC, resource or log type).

        Examples
        --------
        >>> listing = src.list_blobs(log_type="vnet", start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")  # doctest: +SKIP
        """
        start_ts, end_ts, want_mac = to_utc(start), to_utc(end), normalize_mac(mac)
        try:
            jobs = self.plan(log_type=log_type, start=start_ts, end=end_ts, mac=want_mac,
                             discovery_ttl=discovery_ttl)
        except UnreachableError as exc:
            if self.cache is None:
                raise
            warnings.warn(f"flowkit: {exc}; listing the local cache instead", stacklevel=2)
            return self._list_cached(log_type, start_ts, end_ts, want_mac)

        def list_one(job: tuple[str, str, str]) -> list[Any]:
            container, _, prefix = job
            with self._guard("listing", container, prefix):
                return list(self._client(container).list_blobs(name_starts_with=prefix))

        seen: set[str] = set()
        refs: list[AzureBlobRef] = []
        skipped = 0
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, max(1, len(jobs)))) as pool:
            for (container, lt, _), items in zip(jobs, pool.map(list_one, jobs)):
                for props in items:
                    key = f"{container}/{props.name}"
                    if key in seen:
                        continue
                    seen.add(key)
                    meta = parse_blob_path(props.name)
                    if not self._wanted(meta, lt, start_ts, end_ts, want_mac):
                        skipped += 1
                        continue
                    lm = pd.Timestamp(props.last_modified) if props.last_modified else None
                    refs.append(AzureBlobRef(name=key, meta=meta, size=props.size, container=container,
                                             blob=props.name, etag=plain_etag(props.etag), last_modified=lm))
        refs.sort(key=lambda r: r.name)
        return Listing(refs=tuple(refs), skipped=skipped)

    def _wanted(self, meta: Any, log_type: str, start: Any, end: Any, mac: str | None) -> bool:
        f = self.filters
        return (meta.log_type == log_type and hour_overlaps(meta.hour, start, end)
                and not (mac and meta.mac and meta.mac != mac)
                and f.allows("subscription", meta.subscription)
                and f.allows("resource_group", meta.resource_group)
                and f.allows("nsg", meta.nsg) and f.allows("network_watcher", meta.network_watcher)
                and f.allows("flow_log", meta.flow_log))

    def _list_cached(self, log_type: str | None, start: Any, end: Any, mac: str | None) -> Listing:
        assert self.cache is not None
        refs: list[AzureBlobRef] = []
        skipped = 0
        for container, types in self._targets(log_type):
            for entry in self.cache.entries(self.account, container):
                meta = parse_blob_path(entry.blob)
                if (not entry.blob.startswith(self.prefix)
                        or not any(self._wanted(meta, t, start, end, mac) for t in types)):
                    skipped += 1
                    continue
                refs.append(AzureBlobRef(name=f"{container}/{entry.blob}", meta=meta, size=entry.size,
                                         container=container, blob=entry.blob, etag=entry.etag,
                                         last_modified=entry.last_modified))
        refs.sort(key=lambda r: r.name)
        return Listing(refs=tuple(refs), skipped=skipped)

    # -- reading --------------------------------------------------------------------
    def _split(self, ref: BlobRef) -> tuple[str, str]:
        if isinstance(ref, AzureBlobRef) and ref.blob:
            return ref.container or "", ref.blob
        container, _, blob = ref.name.partition("/")
        return ref.container or container, blob if not ref.container else ref.name[len(ref.container) + 1:]

    def download(self, container: str, blob: str, offset: int | None = None,
                 length: int | None = None, etag: str | None = None) -> tuple[bytes, Any]:
        """Download a blob or a byte range of it; return ``(bytes, BlobProperties)``.

        With ``etag`` the download fails with :class:`flowkit.errors.SourceError` if the
        blob changed. A body shorter than announced is an error, never a short result.

        Examples
        --------
        >>> data, props = src.download(VNET_CONTAINER, "flowLogResourceID=/…/PT1H.json")  # doctest: +SKIP
        """
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError

        client = self._client(container).get_blob_client(blob)
        cond = ({"etag": f'"{plain_etag(etag)}"', "match_condition": MatchConditions.IfNotModified}
                if etag else {})
        for attempt in range(4):
            with self._guard("reading", container, blob, "blob"):
                try:  # caught inside the guard, which would turn it into a generic error
                    stream = client.download_blob(offset=offset, length=length, max_concurrency=1, **cond)
                    data = stream.readall()
                except ResourceModifiedError:
                    if etag or attempt == 3:  # the caller asked for this version only
                        raise SourceError(f"{container}/{blob} changed while it was read") from None
                    continue
            expected = stream.size
            if len(data) != expected:
                raise SourceError(f"short read of {container}/{blob}: {len(data)} of {expected} bytes")
            return data, stream.properties
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_one(self, ref: BlobRef) -> bytes:
        container, blob = self._split(ref)
        etag = getattr(ref, "etag", None)
        if self.cache is not None:
            cached = self.cache.get(self.account, container, blob, etag)
            if cached is not None:
                return cached
        data, props = self.download(container, blob)
        if self.cache is not None:
            lm = pd.Timestamp(props.last_modified) if props.last_modified else None
            if is_sealed(ref.meta.hour, lm, settle=self.cache.settle):
                if not self.cache.put(self.account, container, blob, data, etag=plain_etag(props.etag),
                                      last_modified=lm):
                    warnings.warn(f"flowkit: blob name {self._secrets.clean(blob)!r} is unsafe "
                                  f"for the cache folder; read but not cached", stacklevel=3)
        return data

    def iter_bytes(self, refs: Sequence[BlobRef], *, progress: bool | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index into refs, content)`` for every ref, as downloads complete.

        At most ``max_concurrency`` downloads run at once and ``2 * max_concurrency``
        contents wait in memory. Any blob that cannot be read completely raises
        :class:`flowkit.errors.SourceError`: the iteration never ends early in silence.

        Examples
        --------
        >>> for i, data in src.iter_bytes(src.list_blobs(log_type="vnet").refs):  # doctest: +SKIP
        ...     print(i, len(data))
        """
        from flowkit.progress import progress_bar

        show = self.progress if progress is None else progress
        total = sum(r.size or 0 for r in refs)
        bar = progress_bar(total or None, f"flowkit: downloading {len(refs)} blob(s)", unit="B",
                           unit_scale=True, enabled=show if refs else False)
        done = 0
        try:
            for i, data in read_concurrently(refs, self._read_one, self.max_concurrency):
                done += 1
                bar.update(len(data))
                bar.set_postfix_str(f"{done}/{len(refs)} blobs", refresh=False)
                yield i, data
        finally:
            bar.close()

    # -- following ------------------------------------------------------------------
    def follow(self, *, log_type: str | None = None, checkpoint: str | os.PathLike | None = None,
               start: Any = None, end: Any = None, mac: str | None = None, interval: float = 60.0,
               max_polls: int | None = None, strict: bool = False) -> Iterator[Any]:
        """Yield a :class:`flowkit.sources.follow.FollowBatch` of new rows per poll, forever.

        Each poll returns only records committed since the previous one. A batch is
        recorded as delivered (in memory and in the checkpoint file) when the next one is
        asked for, or by ``batch.commit()``; a process that stops while it holds a batch
        gets it again from the same checkpoint (see "Delivery guarantee" in
        :mod:`flowkit.sources.follow`).

        Parameters
        ----------
        log_type : {"nsg", "vnet"}, optional
        checkpoint : str or PathLike, optional
            JSON file, written atomically when the next batch is asked for (or at
            ``batch.commit()``), never before the consumer has had the batch.
        start, end, mac
            Which blobs to follow; ``start`` defaults to the hour before the first poll.
        interval, max_polls : float, int
            Seconds between polls; stop after that many polls (None: never).
        strict : bool
            Raise at the first bad tuple.

        Examples
        --------
        >>> for batch in src.follow(log_type="vnet", checkpoint="~/.flowkit/follow.json"):  # doctest: +SKIP
        ...     print(len(batch.frame), "new rows")
        """
        from flowkit.sources.follow import Follower

        follower = Follower(self, log_type=log_type, checkpoint=checkpoint, start=start, end=end,
                            mac=mac, strict=strict)
        return follower.run(interval=interval, max_polls=max_polls)
