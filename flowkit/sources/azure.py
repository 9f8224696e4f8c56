"""Azure Blob Storage as a flow-log source: list by time, read fast, follow growing blobs.

:class:`AzureBlobSource` implements the :class:`flowkit.sources.base.FlowSource`
protocol, so the same :func:`flowkit.read_flow_logs` call reads local files or a
storage account. It lists only the narrowest prefixes the layout allows for the log
type, window and filters (:mod:`flowkit.sources.azure_prefixes`,
:mod:`flowkit.sources.azure_listing`), downloads blobs concurrently (bounded), retries
transient failures with azure-core policies, can keep sealed blobs in a local mirror
(:mod:`flowkit.sources.azure_read`, :mod:`flowkit.sources.blob_cache`), and follows
growing blobs block by block (:mod:`flowkit.sources.follow`). This module builds the
source from what a user passes (addresses, credentials, clients).

Needs the ``azure`` extra (``pip install flowkit[azure]``).

Examples
--------
>>> src = AzureBlobSource(account_url="https://acct.blob.core.windows.net")  # doctest: +SKIP
>>> flows = flowkit.read_flow_logs(src, log_type="vnet", start="2024-05-01T10:00Z",
...                                end="2024-05-01T11:00Z", mac="00-0D-3A-00-01-01")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, Iterator
from urllib.parse import urlsplit

from flowkit.errors import SourceError
from flowkit.sources.azure_address import Address, check_endpoint, parse_address, sas_query
from flowkit.sources.azure_auth import (Secrets, check_credential, client_options, connection_string_secrets,
                                        credential_secrets, default_credential, describe_credential, plain_etag,
                                        sas_times, storage_errors)
from flowkit.sources.azure_listing import AzureBlobRef, BlobLister
from flowkit.sources.azure_prefixes import ResourceFilter
from flowkit.sources.azure_read import BlobReader
from flowkit.sources.base import BlobRef
from flowkit.sources.blob_cache import BlobCache
from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER
from flowkit.sources.outage import MAX_OUTAGE
from flowkit.sources.redact import install_log_redaction, neutralize_exception

__all__ = ["AzureBlobSource", "AzureBlobRef", "plain_etag"]

_CONTAINER_OF = {"nsg": NSG_CONTAINER, "vnet": VNET_CONTAINER}
_TYPES_IN = {NSG_CONTAINER: ("nsg",), VNET_CONTAINER: ("vnet",)}


def _names_account(conn: str, account: str) -> bool:
    """Whether connection string ``conn`` is one of ``account``: by its ``AccountName``, else (a SAS
    connection string, as the portal gives, has none) by its ``BlobEndpoint``, whose host is
    ``ACCOUNT.blob…`` or, for an emulator, whose path starts with ``/ACCOUNT``.

    Examples
    --------
    >>> _names_account("AccountName=acct;AccountKey=k", "ACCT"), _names_account("AccountName=acct2", "acct")
    (True, False)
    >>> _names_account("BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=s", "acct")
    True
    >>> _names_account("BlobEndpoint=http://127.0.0.1:10000/acct;SharedAccessSignature=sv=1&sig=s", "acct")
    True
    """
    fields: dict[str, str] = {}
    for part in conn.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            fields.setdefault("".join(key.split()).lower(), value.strip())
    account = account.lower()
    if fields.get("accountname"):
        return fields["accountname"].lower() == account
    try:
        endpoint = urlsplit(fields.get("blobendpoint", ""))
        host = (endpoint.hostname or "").lower()
    except ValueError:  # a malformed endpoint: not this account's (the SDK would refuse it anyway)
        return False
    return bool(host) and (host.split(".")[0] == account or endpoint.path.strip("/").split("/")[0].lower() == account)


class AzureBlobSource(BlobLister, BlobReader):
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
        # when the SAS in use is valid (not secret): a refusal after its expiry says it expired
        client = container_client if container_client is not None else self._service
        signature = getattr(getattr(client, "credential", None), "signature", None)
        self._sas_times = sas_times(signature if isinstance(signature, str)
                                    else urlsplit(str(getattr(client, "url", "") or "")).query)

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
                neutralize_exception(exc, secrets)
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

        ``azure://`` uses the SAS its query carries (``azure://ACCOUNT/CONTAINER?sv=…&sig=…``), else
        ``AZURE_STORAGE_CONNECTION_STRING`` when it names the same account, else
        :class:`azure.identity.DefaultAzureCredential`.

        Examples
        --------
        >>> AzureBlobSource.from_url("azure://acct/insights-logs-flowlogflowevent")  # doctest: +SKIP
        """
        addr = parse_address(url)
        if url.lower().startswith("azure://"):
            if addr.sas:  # azure://ACCOUNT/CONTAINER?<SAS>: the SAS given is the credential
                kwargs.setdefault("prefix", addr.prefix)
                return cls(account_url=addr.account_url + (f"/{addr.container}" if addr.container else "")
                           + f"?{addr.sas}", **kwargs)
            conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
            if conn and _names_account(conn, addr.account):
                kwargs.setdefault("prefix", addr.prefix)
                return cls.from_connection_string(conn, container=addr.container, **kwargs)
            kwargs.setdefault("prefix", addr.prefix)
            return cls(account_url=addr.account_url + (f"/{addr.container}" if addr.container else ""),
                       **kwargs)
        return cls(account_url=url, **kwargs)

    def _make_service(self, addr: Address, credential: Any) -> Any:
        from azure.storage.blob import BlobServiceClient

        check_credential(credential)
        if isinstance(credential, str) and "sig=" in credential.lower():
            credential = sas_query(credential)  # a SAS token copied out of HTML: "&amp;" is "&"
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
        return storage_errors(self._secrets, where, container, prefix, self.account_url, what, self._sas_times)

    def identity(self, ref: BlobRef) -> tuple[str, ...]:
        """What makes two refs the same blob: account, container and blob name.

        :class:`flowkit.sources.base.CompositeSource` reads a blob named twice once by it,
        whatever its ETag or size at each listing.

        Examples
        --------
        >>> src.identity(src.list_blobs().refs[0])  # doctest: +SKIP
        ('azure', 'https://acct.blob.core.windows.net', 'insights-logs-flowlogflowevent', 'flowLogResourceID=/…')
        """
        container, blob = self._split(ref)
        return ("azure", self.account_url.casefold(), container, blob)

    # -- following ------------------------------------------------------------------
    def follow(self, *, log_type: str | None = None, checkpoint: str | os.PathLike | None = None,
               start: Any = None, end: Any = None, mac: str | None = None, interval: float = 60.0,
               max_polls: int | None = None, strict: bool = False,
               max_outage: float | None = MAX_OUTAGE) -> Iterator[Any]:
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
        max_outage : float, optional
            Seconds to keep polling an account that no longer answers, or answers with
            transient errors (HTTP 503 ServerBusy…), before its error is raised
            (:data:`flowkit.sources.outage.MAX_OUTAGE`, 15 minutes, by default); 0 gives up
            at once, None never (see :meth:`flowkit.sources.follow.Follower.run`).

        Examples
        --------
        >>> for batch in src.follow(log_type="vnet", checkpoint="~/.flowkit/follow.json"):  # doctest: +SKIP
        ...     print(len(batch.frame), "new rows")
        """
        from flowkit.sources.follow import Follower

        follower = Follower(self, log_type=log_type, checkpoint=checkpoint, start=start, end=end,
                            mac=mac, strict=strict)
        return follower.run(interval=interval, max_polls=max_polls, max_outage=max_outage)
