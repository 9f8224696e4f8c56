"""Credentials and errors of the Azure blob source, with secrets kept out.

Everything here turns what a user passes (SAS token, connection string, account key,
token credential) into what the Azure SDK clients take, and turns Azure SDK exceptions
into :class:`flowkit.errors.SourceError` messages that name the container and prefix and
hold no secret. Addresses (account URL, SAS URL, ``azure://``) are read by
:mod:`flowkit.sources.azure_address`.

Examples
--------
>>> describe_credential(None)
'anonymous'
>>> Secrets(["s3cr3t"]).clean("key s3cr3t refused")
'key REDACTED refused'
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from flowkit.errors import SourceError
from flowkit.sources.azure_address import sas_query, signatures
from flowkit.sources.azure_host import missing_host, refused_locally, retry_policy
from flowkit.sources.redact import neutralize_exception, redact, strip_query

__all__ = ["UnreachableError", "UnavailableError", "TRANSIENT_STATUSES", "NoCredentialError", "Secrets",
           "credential_secrets", "connection_string_secrets", "storage_errors", "describe_credential",
           "client_options", "plain_etag", "default_credential", "FailFastCredential",
           "quiet_identity_logs", "check_credential", "sas_times"]


class UnreachableError(SourceError):
    """The storage account could not be reached (after retries): DNS, refused, timeout.

    Also the base of :class:`UnavailableError`: what a follower waits out (an outage).
    """


#: HTTP statuses of a storage answer that is transient: Azure Storage answers 500
#: (InternalError, OperationTimedOut) and 503 (ServerBusy) when a partition is busy or
#: failing over and documents them as "retry the request" with exponential backoff; 502
#: and 504 come from a gateway on the way; 408 is a request timeout, which the storage
#: SDK itself retries like the 5xx; 429 is throttling, documented for Azure Storage with
#: a Retry-After (the blob service throttles with 503, so a 429 comes from a gateway or
#: proxy in front of it, and means the same: wait). 501 and 505 are not transient.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class UnavailableError(UnreachableError):
    """The storage account answered with a transient error (:data:`TRANSIENT_STATUSES`) after retries.

    An :class:`UnreachableError`: a follower waits it out as it does an account it cannot
    reach (:meth:`flowkit.sources.follow.Follower.run`), and a read treats it as such (it
    fails with it, or lists the local cache where it would for an unreachable account).
    ``status`` is the HTTP status, ``code`` the storage error code (``ServerBusy``) or reason.
    """

    def __init__(self, message: str, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code

    def __reduce__(self) -> tuple[Any, ...]:  # copied (type(error)(text) in storage_errors), pickled
        return (type(self), (str(self), self.status, self.code))


class NoCredentialError(SourceError):
    """No credential of the :class:`azure.identity.DefaultAzureCredential` chain got a token.

    Raised from inside the SDK pipeline; it is not an ``AzureError``, so the storage retry
    policy lets it through at once instead of running the whole chain again per retry.
    ``kind`` names what azure-identity raised; the message holds no secret.
    """

    def __init__(self, message: str, kind: str = "ClientAuthenticationError") -> None:
        super().__init__(message)
        self.kind = kind

    @classmethod
    def of(cls, exc: Exception) -> "NoCredentialError":
        """The error for an azure-identity failure (its text is not kept: it can be long)."""
        kind = type(exc).__name__
        return cls(f"no Azure credential available ({kind}). Sign in (az login), set the AZURE_* "
                   f"environment variables, or pass a key, SAS or connection string", kind)


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
        return [credential.lstrip("?"), *signatures(credential)]
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
        return [signature, *signatures(signature)]
    return []


def connection_string_secrets(conn: str) -> list[str]:
    """AccountKey and SharedAccessSignature values of a connection string, and the string."""
    out = [conn]
    for part in conn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() in ("accountkey", "sharedaccesssignature") and value:
            out.append(value)
            out.extend(signatures(value))
    return out


def sas_times(query: str | None) -> tuple[datetime | None, datetime | None]:
    """The start (``st``) and expiry (``se``) of a SAS query, in UTC; None for each it lacks.

    Only these two fields are read: they are not secret (the signature ``sig`` is). A time
    that is not one Azure accepts (``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm[:ss[.f]]Z``) is None.

    Parameters
    ----------
    query : str or None
        A SAS token (``sv=…&se=…&sig=…``, with or without ``?``), or None.

    Examples
    --------
    >>> sas_times("sv=2024-08-04&st=2026-01-01&se=2026-01-02T00%3A30%3A00Z&sp=rl&sig=abc")
    (datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 1, 2, 0, 30, tzinfo=datetime.timezone.utc))
    >>> sas_times(None)
    (None, None)
    """
    if not query:
        return None, None
    fields = {k.lower(): v[-1] for k, v in parse_qs(sas_query(query.lstrip("?"))).items()}
    if "sig" not in fields:
        return None, None
    return _sas_time(fields.get("st")), _sas_time(fields.get("se"))


def _sas_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _sas_refused(times: tuple[datetime | None, datetime | None], code: object) -> str | None:
    """Why a refused SAS was refused when its own times say so (expired, not yet valid), else None."""
    start, expiry = times
    now = datetime.now(timezone.utc)
    if expiry is not None and expiry <= now:
        return (f"the SAS expired at {expiry:%Y-%m-%dT%H:%M:%SZ} ({code}). Make a new SAS with a later "
                f"expiry (se)")
    if start is not None and start > now:
        return (f"the SAS is not valid before {start:%Y-%m-%dT%H:%M:%SZ} by this machine's clock ({code}). "
                f"Wait until then, or make a SAS with an earlier start (st)")
    return None


#: What ``credential=`` may be, for the message that refuses anything else.
CREDENTIAL_KINDS = ("an account key or SAS token (str), a {'account_name', 'account_key'} dict, "
                    "AzureNamedKeyCredential, AzureSasCredential or an azure-identity token credential")


def check_credential(credential: Any) -> None:
    """Refuse a credential the storage SDK cannot use, naming its type (never its value).

    The SDK raises a bare ``TypeError`` for these, late; a key passed as bytes or a
    ``(name, key)`` tuple is the usual slip.

    Examples
    --------
    >>> check_credential("a key or a SAS")
    >>> check_credential(b"bytes are not a key")
    Traceback (most recent call last):
    ...
    flowkit.errors.SourceError: unsupported credential of type bytes: pass an account key or SAS token (str), a {'account_name', 'account_key'} dict, AzureNamedKeyCredential, AzureSasCredential or an azure-identity token credential
    """
    if credential is None or isinstance(credential, (str, dict)):
        return
    if any(hasattr(credential, a) for a in ("get_token", "get_token_info", "named_key", "signature",
                                             "account_key")):
        return
    raise SourceError(f"unsupported credential of type {type(credential).__name__}: pass {CREDENTIAL_KINDS}")


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
        return "SAS" if "sig=" in credential.lower() else "account key or SAS"
    if (isinstance(credential, dict) or hasattr(credential, "named_key")
            or hasattr(credential, "account_key")):
        return "account key"
    if hasattr(credential, "signature"):
        return "SAS"
    return type(credential).__name__


def client_options(retry_total: int, retry_backoff: float, connection_timeout: float,
                   read_timeout: float, max_concurrency: int) -> dict[str, Any]:
    """Keyword arguments for SDK clients: azure-core retries with our backoff, and timeouts."""
    retry = retry_policy(initial_backoff=retry_backoff, increment_base=2 if retry_backoff >= 1 else 1.5,
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
        # A transport given to the SDK takes its own timeouts and block size: pass them on, or it
        # would wait 300 s on a stalled connection and read 4 KiB at a time.
        opts["transport"] = RequestsTransport(session=session, session_owner=True,
                                              connection_timeout=connection_timeout, read_timeout=read_timeout,
                                              connection_data_block_size=256 * 1024)
    return opts


def _code(exc: Exception) -> str | None:
    """The storage error code as Azure spells it (``AuthorizationFailure``), or None."""
    code = getattr(exc, "error_code", None)
    if code is None:
        return None
    return str(getattr(code, "value", code))


@contextlib.contextmanager
def storage_errors(secrets: Secrets, where: str, container: str | None, prefix: str = "",
                   account_url: str = "", what: str = "prefix",
                   sas: tuple[datetime | None, datetime | None] = (None, None)) -> Iterator[None]:
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
    sas : tuple of datetime or None
        The start and expiry of the SAS in use (:func:`sas_times`): a refusal after the expiry,
        or before the start, says so.
    """
    target = f"container {container!r}" if container else "the account"
    target += f", {what} {prefix!r}" if prefix else ""
    try:
        yield
    except NoCredentialError as exc:
        neutralize_exception(exc, secrets)
        raise SourceError(secrets.clean(_no_credential(where, target, account_url, exc.kind))) from None
    except SourceError:
        raise
    except Exception as exc:
        error = _translate(exc, where, target, container, prefix, account_url, what, sas)
        if error is None:
            raise
        # The SDK's exception stays reachable as the new one's __context__ (``from None`` only
        # hides it from tracebacks): it is left holding its redacted text only (no response,
        # request URL, headers, traceback or chain).
        neutralize_exception(exc, secrets)
        if isinstance(error, UnavailableError):
            raise UnavailableError(secrets.clean(error), error.status, secrets.clean(error.code)) from None
        raise type(error)(secrets.clean(error)) from None


def _no_credential(where: str, target: str, account_url: str, kind: str) -> str:
    return (f"no Azure credential available while {where} ({target}) at {strip_query(account_url)}: {kind}. "
            f"Sign in (az login), set the AZURE_* environment variables, or pass a key, SAS or connection string")


def _translate(exc: Exception, where: str, target: str, container: str | None, prefix: str,
               account_url: str, what: str,
               sas: tuple[datetime | None, datetime | None] = (None, None)) -> SourceError | None:
    """The SourceError (not yet redacted) for an SDK exception, or None for one that is not the SDK's."""
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                       ResourceNotFoundError, ServiceRequestError,
                                       ServiceResponseError)

    at = strip_query(account_url)
    if isinstance(exc, ClientAuthenticationError):
        if _is_signing_error(exc):  # the key could not sign a request: it is not a key at all
            cause = exc.__cause__ or exc.__context__
            why = ("it is not valid base64" if isinstance(cause, (ValueError, TypeError)) and
                   "base64" in str(cause).lower() else f"signing failed ({type(cause or exc).__name__})")
            return SourceError(f"the account key is malformed while {where} ({target}) at {at}: {why}; the key "
                               f"is not shown. Copy it again from the storage account's access keys or "
                               f"connection string")
        code = _code(exc) or getattr(exc, "status_code", None)
        if code is None:  # azure-identity found no credential at all
            return SourceError(_no_credential(where, target, account_url, type(exc).__name__))
        if (why := _sas_refused(sas, code)) is not None:
            return SourceError(f"authentication failed while {where} ({target}) at {at}: {why}")
        return SourceError(f"authentication failed while {where} ({target}) at {at}: "
                           f"the account key, SAS or token was refused ({code}). Check the credential "
                           f"and that it grants read and list on this container")
    if isinstance(exc, ResourceNotFoundError):
        code = _code(exc) or ""
        if "Container" in code:
            return SourceError(f"container {container!r} does not exist in the storage account "
                               f"{at} (while {where}" + (f", {what} {prefix!r})" if prefix else ")"))
        return SourceError(f"not found while {where} ({target}): {code or exc.reason or 'no such blob'}")
    if isinstance(exc, HttpResponseError):
        code = _code(exc) or exc.reason or ""
        status = getattr(exc, "status_code", None)
        if status in (401, 403) and (why := _sas_refused(sas, code)) is not None:
            return SourceError(f"authentication failed while {where} ({target}) at {at}: {why}")
        if status in (401, 403):
            return SourceError(f"authentication failed while {where} ({target}) at {at}: "
                               f"the account key, SAS or token was refused or lacks permission ({code}). "
                               f"Check the credential and that it grants read and list on this container")
        if status in TRANSIENT_STATUSES:
            retried = "" if status == 429 else " after retries"  # the SDK does not retry a 429
            return UnavailableError(f"the storage account {at} answered HTTP {status} {code} while {where} "
                                    f"({target}){retried}: a transient error (busy, throttled or failing "
                                    f"over). Try again later", status, str(code))
        return SourceError(f"storage error while {where} ({target}): HTTP {status} {code}")
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        if (gai := missing_host(exc)) is not None:  # not retried (see azure_host)
            return UnreachableError(f"cannot reach the storage account {at} while {where} ({target}): its "
                                    f"host name {urlsplit(at).hostname} does not exist in DNS ({gai.strerror}). "
                                    f"Check the account name")
        if refused_locally(exc, at) is not None:  # not retried (see azure_host)
            where_port = urlsplit(at).netloc
            return UnreachableError(f"cannot reach the storage account {at} while {where} ({target}): nothing "
                                    f"listens on {where_port} on this machine (connection refused). Start the "
                                    f"storage emulator (Azurite) or the port forward, or check the port")
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return UnreachableError(f"cannot reach the storage account {at} while {where} "
                                f"({target}) after retries: {reason}. Check the account name, the network "
                                f"and that the account exists")
    if isinstance(exc, ValueError):  # the SDK's word for a client it cannot build or a request it cannot send
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return SourceError(f"invalid storage address or credential while {where} ({target}) at {at}: {reason}")
    if type(exc).__module__.startswith(("azure.", "requests", "urllib3")):  # CredentialUnavailableError…
        return SourceError(f"{type(exc).__name__} while {where} ({target}): {str(exc)[:300]}")
    return None


def _is_signing_error(exc: Exception) -> bool:
    """True for azure-storage's ``AzureSigningError`` (a key that cannot sign), by class name."""
    return any(cls.__name__ == "AzureSigningError" for cls in type(exc).__mro__)


def plain_etag(etag: str | None) -> str | None:
    """An ETag without the quotes some responses carry (listings have none, downloads do).

    Examples
    --------
    >>> plain_etag('"0x8DC"'), plain_etag("0x8DC")
    ('0x8DC', '0x8DC')
    """
    return etag.strip('"') if isinstance(etag, str) else etag


def default_credential(account_url: str = "") -> Any:
    """A :class:`azure.identity.DefaultAzureCredential` that fails fast and quietly when nothing signs in.

    An ``http://`` ``account_url`` (an emulator) is a SourceError: token credentials work
    over https only, and the SDK would refuse the client with a bare ValueError.

    When no credential of the chain gets a token, :class:`NoCredentialError` is raised at
    once (the storage retry policy would otherwise run the chain again per retry, a minute
    of backoff). azure-identity logs a warning per failed attempt; without logging set up,
    Python's last-resort handler would print them all to stderr before flowkit's one-line
    error. A :class:`logging.NullHandler` on the ``azure.identity`` logger stops only that
    fallback: records still propagate, so a program that configured logging sees them.
    """
    if account_url.lower().startswith("http://"):
        raise SourceError(f"cannot read {strip_query(account_url)} without a SAS or key: Azure sign-in "
                          f"(DefaultAzureCredential) works over https only. Add a SAS to the URL "
                          f"(?sv=…&sig=…), pass an account key, or use a connection string")
    try:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import DefaultAzureCredential
    except ImportError:  # pragma: no cover - the azure extra is incomplete
        raise SourceError("reading with an account URL and no key needs azure-identity: "
                          "pip install 'flowkit[azure]'") from None
    quiet_identity_logs()
    return FailFastCredential(DefaultAzureCredential(), ClientAuthenticationError)


class FailFastCredential:
    """A token credential that turns its chain's failure into :class:`NoCredentialError`.

    Parameters
    ----------
    inner
        The token credential (a :class:`azure.identity.DefaultAzureCredential`).
    failure : type
        The exception ``inner`` raises when no credential signs in.
    """

    def __init__(self, inner: Any, failure: type[Exception]) -> None:
        self.inner, self.failure = inner, failure

    def __repr__(self) -> str:
        return f"FailFastCredential({type(self.inner).__name__})"

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """``inner.get_token``; NoCredentialError when the chain fails."""
        try:
            return self.inner.get_token(*scopes, **kwargs)
        except self.failure as exc:
            raise NoCredentialError.of(exc) from None

    @property
    def get_token_info(self) -> Any:
        """``inner.get_token_info``; NoCredentialError when the chain fails.

        An AttributeError when ``inner`` has none (azure-identity before 1.18), so that
        azure-core falls back to :meth:`get_token`, as it would with ``inner`` itself.
        """
        inner = self.inner.get_token_info

        def get_token_info(*scopes: str, options: Any = None) -> Any:
            try:
                return inner(*scopes, options=options)
            except self.failure as exc:
                raise NoCredentialError.of(exc) from None
        return get_token_info

    def close(self) -> None:
        """Close the inner credential."""
        self.inner.close()


def quiet_identity_logs() -> None:
    """Give ``azure.identity`` a :class:`logging.NullHandler` (once) so Python's last-resort
    handler stays silent; records still reach any handler the program configured.

    Examples
    --------
    >>> import logging
    >>> quiet_identity_logs()
    >>> logging.getLogger("azure.identity").propagate
    True
    """
    logger = logging.getLogger("azure.identity")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
