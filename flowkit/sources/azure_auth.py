"""Credentials, addresses and errors of the Azure blob source, with secrets kept out.

Everything here turns what a user passes (account URL, SAS URL, connection string,
account key, token credential, ``azure://`` address) into Azure SDK clients, and
turns Azure SDK exceptions into :class:`flowkit.errors.SourceError` messages that
name the container and prefix and hold no secret.

Examples
--------
>>> parse_address("azure://acct/insights-logs-flowlogflowevent/flowLogResourceID=/x")
Address(account_url='https://acct.blob.core.windows.net', account='acct', container='insights-logs-flowlogflowevent', prefix='flowLogResourceID=/x', sas=None)
>>> parse_address("http://127.0.0.1:10000/devstoreaccount1/c1?sv=2024&sig=abc").container
'c1'
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from flowkit.errors import SourceError
from flowkit.sources.redact import redact, strip_query

__all__ = ["Address", "UnreachableError", "parse_address", "Secrets", "credential_secrets", "connection_string_secrets",
           "storage_errors", "describe_credential", "client_options", "plain_etag", "default_credential"]


class UnreachableError(SourceError):
    """The storage account could not be reached (after retries): DNS, refused, timeout."""


@dataclass(frozen=True)
class Address:
    """A blob address split into parts. ``sas`` holds the SAS query (a secret) or None."""

    account_url: str
    account: str
    container: str | None
    prefix: str
    sas: str | None

    def __repr__(self) -> str:
        return (f"Address(account_url={self.account_url!r}, account={self.account!r}, "
                f"container={self.container!r}, prefix={self.prefix!r}, "
                f"sas={None if self.sas is None else 'REDACTED'})")


def _ip_style(host: str) -> bool:
    return host in ("localhost", "host.docker.internal") or host.replace(".", "").isdigit() or ":" in host


def parse_address(url: str) -> Address:
    """Split ``azure://account/container/prefix`` or a blob service / container / SAS URL.

    Emulator URLs (``http://127.0.0.1:10000/devstoreaccount1/…``) carry the account in
    the path. A query that is a SAS is kept apart in :attr:`Address.sas`.

    Examples
    --------
    >>> a = parse_address("https://acct.blob.core.windows.net/?sv=2024&sig=x")
    >>> a.account, a.container, a.sas is not None
    ('acct', None, True)
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "azure":
        account = parts.hostname or ""
        if not account:
            raise SourceError("an azure:// address needs an account: azure://ACCOUNT/CONTAINER[/PREFIX]")
        rest = parts.path.lstrip("/")
        container, _, prefix = rest.partition("/")
        return Address(f"https://{account}.blob.core.windows.net", account, container or None,
                       unquote(prefix), None)
    if scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"not a blob storage address: {redact(url)!r}")
    host = parts.hostname
    base = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    path = parts.path.lstrip("/")
    if _ip_style(host):
        account, _, path = path.partition("/")
        base += f"/{account}"
    else:
        account = host.split(".")[0]
    container, _, prefix = path.partition("/")
    query = parts.query or None
    if query and not ({"sig", "sv"} & set(parse_qs(query))):
        query = None  # not a SAS: ignore it
    return Address(base, account, container or None, unquote(prefix), query)


class Secrets:
    """Literal secret strings one source knows; shown as ``Secrets(n)`` only."""

    def __init__(self, values: list[str] | None = None) -> None:
        self._values = [v for v in (values or []) if v]

    def add(self, *values: str | None) -> None:
        self._values.extend(v for v in values if v)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"Secrets({len(self._values)})"

    def clean(self, text: object) -> str:
        """Redact ``text`` by pattern and by every known secret."""
        return redact(text, self._values)


def credential_secrets(credential: Any) -> list[str]:
    """The secret strings inside a credential (a key, a SAS, a named key)."""
    if credential is None:
        return []
    if isinstance(credential, str):
        out = [credential.lstrip("?")]
        sig = parse_qs(credential.lstrip("?")).get("sig")
        return out + (sig or [])
    if isinstance(credential, dict):
        return [str(credential.get("account_key") or "")]
    account_key = getattr(credential, "account_key", None)  # SharedKeyCredentialPolicy
    if isinstance(account_key, str):
        return [account_key]
    named = getattr(credential, "named_key", None)
    if named is not None:
        return [named.key]
    signature = getattr(credential, "signature", None)
    if isinstance(signature, str):
        return [signature] + (parse_qs(signature.lstrip("?")).get("sig") or [])
    return []


def connection_string_secrets(conn: str) -> list[str]:
    """AccountKey and SharedAccessSignature values of a connection string, and the string."""
    out = [conn]
    for part in conn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() in ("accountkey", "sharedaccesssignature") and value:
            out.append(value)
            out.extend(parse_qs(value.lstrip("?")).get("sig") or [])
    return out


def describe_credential(credential: Any, sas: bool = False) -> str:
    """A word for the kind of credential (shown in reprs; never the secret).

    Examples
    --------
    >>> describe_credential("abc"), describe_credential(None, sas=True)
    ('account key or SAS', 'SAS')
    """
    if sas:
        return "SAS"
    if credential is None:
        return "anonymous"
    if isinstance(credential, str):
        return "SAS" if "sig=" in credential else "account key or SAS"
    if (isinstance(credential, dict) or hasattr(credential, "named_key")
            or hasattr(credential, "account_key")):
        return "account key"
    if hasattr(credential, "signature"):
        return "SAS"
    return type(credential).__name__


def client_options(retry_total: int, retry_backoff: float, connection_timeout: float,
                   read_timeout: float, max_concurrency: int) -> dict[str, Any]:
    """Keyword arguments for SDK clients: azure-core retries with our backoff, and timeouts."""
    from azure.storage.blob import ExponentialRetry

    retry = ExponentialRetry(initial_backoff=retry_backoff, increment_base=2 if retry_backoff >= 1 else 1.5,
                             retry_total=retry_total, random_jitter_range=min(1.0, retry_backoff / 2),
                             retry_connect=retry_total, retry_read=retry_total, retry_status=retry_total)
    # responses are read in blocks of connection_data_block_size (4 KiB by default):
    # larger blocks cut Python overhead per downloaded byte several times over
    opts: dict[str, Any] = {"retry_policy": retry, "connection_timeout": connection_timeout,
                            "read_timeout": read_timeout, "connection_data_block_size": 256 * 1024}
    if max_concurrency > 8:
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=2 * max_concurrency)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        opts["transport"] = RequestsTransport(session=session, session_owner=True)
    return opts


def _code(exc: Exception) -> str | None:
    """The storage error code as Azure spells it (``AuthorizationFailure``), or None."""
    code = getattr(exc, "error_code", None)
    if code is None:
        return None
    return str(getattr(code, "value", code))


@contextlib.contextmanager
def storage_errors(secrets: Secrets, where: str, container: str | None, prefix: str = "",
                   account_url: str = "", what: str = "prefix") -> Iterator[None]:
    """Turn Azure SDK errors raised inside into a clear, redacted SourceError.

    Parameters
    ----------
    secrets : Secrets
    where : str
        What was being done ("listing", "reading …").
    container, prefix : str
        Named in the message.
    what : str
        What ``prefix`` is: "prefix" or "blob".
    account_url : str
        The account URL without query, named for connection failures.
    """
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                       ResourceNotFoundError, ServiceRequestError,
                                       ServiceResponseError)

    target = f"container {container!r}" + (f", {what} {prefix!r}" if prefix else "")
    try:
        yield
    except SourceError:
        raise
    except ClientAuthenticationError as exc:
        code = _code(exc) or getattr(exc, "status_code", None)
        if code is None:  # azure-identity found no credential at all
            msg = (f"no Azure credential available while {where} ({target}) at "
                   f"{strip_query(account_url)}: {type(exc).__name__}. Sign in (az login), set the "
                   f"AZURE_* environment variables, or pass a key, SAS or connection string")
            raise SourceError(secrets.clean(msg)) from None
        msg = (f"authentication failed while {where} ({target}) at {strip_query(account_url)}: "
               f"the account key, SAS or token was refused ({code}). Check the credential "
               f"and that it grants read and list on this container")
        raise SourceError(secrets.clean(msg)) from None
    except ResourceNotFoundError as exc:
        code = _code(exc) or ""
        if "Container" in code:
            msg = (f"container {container!r} does not exist in the storage account "
                   f"{strip_query(account_url)} (while {where}" + (f", {what} {prefix!r})" if prefix else ")"))
        else:
            msg = f"not found while {where} ({target}): {code or exc.reason or 'no such blob'}"
        raise SourceError(secrets.clean(msg)) from None
    except HttpResponseError as exc:
        code = _code(exc) or exc.reason or ""
        status = getattr(exc, "status_code", None)
        if status in (401, 403):
            msg = (f"authentication failed while {where} ({target}) at {strip_query(account_url)}: "
                   f"the account key, SAS or token was refused or lacks permission ({code}). "
                   f"Check the credential and that it grants read and list on this container")
        else:
            msg = f"storage error while {where} ({target}): HTTP {status} {code}"
        raise SourceError(secrets.clean(msg)) from None
    except (ServiceRequestError, ServiceResponseError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        msg = (f"cannot reach the storage account {strip_query(account_url)} while {where} "
               f"({target}) after retries: {reason}. Check the account name, the network "
               f"and that the account exists")
        raise UnreachableError(secrets.clean(msg)) from None
    except Exception as exc:  # azure-identity CredentialUnavailableError and the like
        if type(exc).__module__.startswith(("azure.", "requests", "urllib3")):
            msg = f"{type(exc).__name__} while {where} ({target}): {str(exc)[:300]}"
            raise SourceError(secrets.clean(msg)) from None
        raise


def plain_etag(etag: str | None) -> str | None:
    """An ETag without the quotes some responses carry (listings have none, downloads do).

    Examples
    --------
    >>> plain_etag('"0x8DC"'), plain_etag("0x8DC")
    ('0x8DC', '0x8DC')
    """
    return etag.strip('"') if isinstance(etag, str) else etag


def default_credential() -> Any:
    """A :class:`azure.identity.DefaultAzureCredential`, or a clear error without azure-identity."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:  # pragma: no cover - the azure extra is incomplete
        raise SourceError("reading with an account URL and no key needs azure-identity: "
                          "pip install 'flowkit[azure]'") from None
    return DefaultAzureCredential()
