"""Blob storage addresses as users write them, split into account, container, prefix and SAS.

``azure://ACCOUNT/CONTAINER/PREFIX``, blob service, container and SAS URLs, and emulator
URLs (Azurite: the account in the path) become an :class:`Address`; the SAS query is kept
apart (it is a secret, and :class:`Address` never shows it), user info is dropped, and an
address that is not valid gets a :class:`flowkit.errors.SourceError` that holds no secret.

Examples
--------
>>> parse_address("azure://acct/insights-logs-flowlogflowevent/flowLogResourceID=/x")
Address(account_url='https://acct.blob.core.windows.net', account='acct', container='insights-logs-flowlogflowevent', prefix='flowLogResourceID=/x', sas=None)
>>> parse_address("http://127.0.0.1:10000/devstoreaccount1/c1?sv=2024&sig=abc").container
'c1'
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from flowkit.errors import SourceError
from flowkit.sources.redact import neutralize_exception, redact, strip_query, userinfo_secrets

__all__ = ["Address", "parse_address", "check_endpoint", "sas_query", "signatures"]


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


def _path_style(host: str) -> bool:
    """Emulator-style hosts carry the account in the path: IPs, ``localhost``, ``azurite``…

    A single-label name (a container or service name on a private network) or an IP
    address is an emulator; a dotted name (``acct.blob.core.windows.net``) is not.
    """
    return (host in ("localhost", "host.docker.internal") or "." not in host or ":" in host
            or host.replace(".", "").isdigit())


def check_endpoint(url: str) -> str:
    """``url`` without query and user info, or a SourceError when its host or port is invalid.

    Examples
    --------
    >>> check_endpoint("http://127.0.0.1:10000/devstoreaccount1?sv=1&sig=x")
    'http://127.0.0.1:10000/devstoreaccount1'
    >>> check_endpoint("http://127.0.0.1:99999/devstoreaccount1")
    Traceback (most recent call last):
    ...
    flowkit.errors.SourceError: the storage endpoint http://127.0.0.1:99999/devstoreaccount1 is not valid: Port out...
    """
    try:
        urlsplit(url).port  # noqa: B018 - parsing it is the check
    except ValueError as exc:
        reason = _url_error_reason(url, exc)
        raise SourceError(f"the storage endpoint {redact(strip_query(url).rstrip('/'))} is not valid: "
                          f"{reason}") from None
    return strip_query(url)


def _url_error_reason(url: str, exc: ValueError) -> str:
    """The redacted text of the ValueError urlsplit raised for ``url``; ``exc`` is emptied.

    ``exc`` stays the new error's ``__context__`` (``from None`` only hides it), and its
    traceback's frames hold ``url`` whole (SAS and user info): they are dropped. A password
    holding "/" is quoted in part in its text ("Port could not be cast to integer value as
    'PART'"): that part is masked.
    """
    secrets = userinfo_secrets(url)
    neutralize_exception(exc, secrets)
    return redact(exc, secrets)


def sas_query(query: str) -> str:
    """A SAS query as Azure reads it: ``&amp;`` (a SAS copied out of HTML or XML) read as ``&``.

    Examples
    --------
    >>> sas_query("sv=2024-08-04&amp;sp=rl&amp;sig=abc%2F")
    'sv=2024-08-04&sp=rl&sig=abc%2F'
    """
    return query.replace("&amp;", "&")


def signatures(query: str) -> list[str]:
    """The ``sig`` values of a SAS query, whatever the case of the name."""
    fields = parse_qs(sas_query(query.lstrip("?")))
    return [v for k, values in fields.items() if k.lower() == "sig" for v in values]


def parse_address(url: str) -> Address:
    """Split ``azure://account/container/prefix`` or a blob service / container / SAS URL.

    Emulator URLs (``http://127.0.0.1:10000/devstoreaccount1/…``, ``http://azurite:10000/…``,
    ``http://[::1]:10000/…``) carry the account in the path. A query that is a SAS is kept
    apart in :attr:`Address.sas`. User info (``user:password@``) is dropped.

    Examples
    --------
    >>> a = parse_address("https://acct.blob.core.windows.net/?sv=2024&sig=x")
    >>> a.account, a.container, a.sas is not None
    ('acct', None, True)
    >>> parse_address("http://azurite:10000/devstoreaccount1/c1").account_url
    'http://azurite:10000/devstoreaccount1'
    >>> parse_address("azure://acct/c1?sv=2024&sig=x").sas is not None  # kept, not dropped in silence
    True
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range", "Invalid IPv6 URL"
        reason = _url_error_reason(url, exc)
        raise SourceError(f"not a valid blob storage address: {redact(url)!r} ({reason})") from None
    scheme = parts.scheme.lower()
    if scheme == "azure":
        account = parts.hostname or ""
        if not account:
            raise SourceError("an azure:// address needs an account: azure://ACCOUNT/CONTAINER[/PREFIX]")
        rest = parts.path.lstrip("/")
        container, _, prefix = rest.partition("/")
        return Address(f"https://{account}.blob.core.windows.net", account, container or None,
                       unquote(prefix), _sas(parts.query))
    if scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"not a blob storage address: {redact(url)!r}")
    host = parts.hostname
    base = f"{scheme}://" + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    path = parts.path.lstrip("/")
    if _path_style(host):
        account, _, path = path.partition("/")
        base += f"/{account}"
    else:
        account = host.split(".")[0]
    container, _, prefix = path.partition("/")
    return Address(base, account, container or None, unquote(prefix), _sas(parts.query))


def _sas(query: str) -> str | None:
    """The SAS of a URL's query, or None when the query is not one (it is then ignored)."""
    sas = sas_query(query) or None
    if sas and not ({"sig", "sv"} & {k.lower() for k in parse_qs(sas)}):
        return None
    return sas
