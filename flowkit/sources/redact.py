"""Keep storage secrets out of every string flowkit shows: reprs, messages, logs, bars.

Secrets that reach a blob source are account keys (also found on their own by their shape:
86 base64 characters and ``==``), SAS tokens (``sig=…`` and the
rest of a SAS query), connection strings (``AccountKey=``, ``SharedAccessSignature=``),
``Authorization`` header values and the user info of URLs (``scheme://user:password@``).
:func:`redact` removes them by pattern, and also removes any literal secret it is handed
(a key passed on its own has no pattern to find it by).

Examples
--------
>>> redact("https://a.blob.core.windows.net/c?sv=2022-11-02&sig=abc%2Fdef")
'https://a.blob.core.windows.net/c?REDACTED'
>>> redact("AccountName=a;AccountKey=s3cr3t==;EndpointSuffix=core.windows.net")
'AccountName=a;AccountKey=REDACTED;EndpointSuffix=core.windows.net'
>>> redact("key is s3cr3t", secrets=["s3cr3t"])
'key is REDACTED'
>>> redact("ftp://user:pa55word@host/c")
'ftp://REDACTED@host/c'
"""

from __future__ import annotations

import logging
import re
from typing import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["redact", "strip_query", "scrub_exception", "neutralize_exception", "RedactingFilter",
           "secret_variants", "install_log_redaction", "userinfo_secrets", "redact_name"]

MASK = "REDACTED"

# A URL query that carries a SAS (any of its signature fields): drop it whole.
_SAS_QUERY = re.compile(
    r"\?(?=[^\s\"'<>]*\b(?:sig|sv|se|sp|skoid|sktid)=)[^\s\"'<>]*", re.IGNORECASE)
_PAIRS = re.compile(
    r"\b(sig|AccountKey|SharedAccessSignature|SharedAccessKey|account_key|sas_token|credential)"
    r"(\s*[=:]\s*)(['\"]?)[^;&\s'\"<>,)]+",
    re.IGNORECASE,
)
# The user info of a URL (``scheme://user:password@host``): a password or token. A password may
# hold "/" (a base64 account key mostly does): after ``user:`` it runs to the "@", unless what
# follows the ":" is a port and a path (``http://127.0.0.1:10000/acct/c/x@y`` has no user info).
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^/\s@'\"<>?#]+|[^/\s@'\"<>?#:\[\]]*:(?!\d+/)[^\s@'\"<>?#]*)@",
                       re.IGNORECASE)
#: A storage account key on its own (64 random bytes in base64: 86 characters and "=="), such as a
#: key pasted where a path belongs. Nothing else flowkit shows has that shape.
_ACCOUNT_KEY = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")
_AUTH_HEADER = re.compile(r"\b(Authorization['\"]?\s*[:=]\s*['\"]?)(SharedKey|Bearer|Basic)?\s*[^\s'\"<>,]+",
                          re.IGNORECASE)


def secret_variants(secret: str) -> list[str]:
    """The forms a secret can take in text: as is, URL-quoted, and ``+``-for-space quoted.

    Examples
    --------
    >>> secret_variants("a/b+c=")
    ['a/b+c=', 'a%2Fb%2Bc%3D', 'a/b%2Bc%3D']
    """
    out = [secret, quote(secret, safe=""), quote(secret, safe="/")]
    seen: list[str] = []
    for s in out:
        if s and s not in seen:
            seen.append(s)
    return seen


def userinfo_secrets(url: str) -> list[str]:
    """The password of a URL's user info, whole and in the pieces a URL parser cuts it into.

    A password holding "/" is cut there by :func:`urllib.parse.urlsplit`, which takes the
    piece before the "/" for a port and quotes it in its ``ValueError``; such pieces have no
    pattern to find them by, so they are masked literally (:func:`redact` skips those under
    six characters). The user name is not a secret and is not returned.

    Examples
    --------
    >>> userinfo_secrets("https://acct:abcdef/ghijkl+m==@acct.blob.core.windows.net/c")
    ['abcdef/ghijkl+m==', 'abcdef', 'ghijkl+m==']
    >>> userinfo_secrets("http://127.0.0.1:10000/devstoreaccount1/c/x@y")
    []
    """
    m = _USERINFO.search(url)
    if m is None:
        return []
    _, colon, password = m.group(0)[len(m.group(1)):-1].partition(":")
    if not colon or not password:
        return []
    return [password, *[p for p in password.split("/") if p and p != password]]


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """Return ``str(text)`` with SAS queries, keys, signatures and the given secrets masked.

    Parameters
    ----------
    text : object
        Anything; it is turned into a string first.
    secrets : iterable of str
        Literal secret values (an account key, a SAS token) to mask wherever they
        appear, also URL-quoted.

    Examples
    --------
    >>> redact("Authorization: SharedKey devstoreaccount1:Zm9vYmFy")
    'Authorization: REDACTED'
    """
    out = str(text)
    for secret in secrets:
        if secret and len(secret) >= 6:
            for variant in secret_variants(secret):
                out = out.replace(variant, MASK)
    out = _SAS_QUERY.sub(lambda m: m.group(0) if _placeholder(m.group(0)) else "?" + MASK, out)
    out = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", out)
    out = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, out)
    out = _ACCOUNT_KEY.sub(MASK, out)
    out = _PAIRS.sub(lambda m: m.group(0) if _placeholder(m.group(0)) else m.group(1) + m.group(2) + m.group(3) + MASK,
                     out)
    return out


#: A form shown in flowkit's own hints (``?sv=…&sig=…``): every value is an ellipsis, no secret.
_PLACEHOLDER = re.compile(r"\??(?:[A-Za-z_]+\s*[=:]\s*…&?)+[)\].,;:]*")


def _placeholder(text: str) -> bool:
    """True when ``text`` only shows the form of a SAS or key (values ``…``), as hints do.

    Examples
    --------
    >>> _placeholder("?sv=…&sig=…),"), _placeholder("?sv=1&sig=…"), _placeholder("sig=…")
    (True, False, True)
    """
    return _PLACEHOLDER.fullmatch(text) is not None


#: Every pattern :func:`redact` masks holds one of these (lower case, blanks removed): a quick test
#: first (a regular expression costs tens of microseconds per name, this one or two).
_SUSPECT = ("?", "@", "authorization", "sig=", "sig:", "accountkey", "sharedaccess", "account_key", "sas_token",
            "credential")


def redact_name(name: str) -> str:
    """:func:`redact` for a file or blob name, quick for the names that hold nothing to mask.

    A local file saved from a SAS URL (``wget`` keeps the query in the name) carries the
    SAS in its path; the decoders label rows, quarantined tuples and problems with this.

    Examples
    --------
    >>> redact_name("logs/PT1H.json?sv=2024-08-04&se=2099-01-01&sig=abc%2Fdef")
    'logs/PT1H.json?REDACTED'
    >>> redact_name("resourceId=/SUBSCRIPTIONS/X/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000101/PT1H.json")
    'resourceId=/SUBSCRIPTIONS/X/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000101/PT1H.json'

    A local name that is not UTF-8 (``os.fsdecode`` keeps its bytes as lone surrogates,
    which no Arrow column, JSON or XLSX text takes) shows those bytes as ``\\xNN``:

    >>> redact_name("logs/x\\udcff.json")
    'logs/x\\\\xff.json'
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    compact = "".join(name.lower().split())
    return redact(name) if any(word in compact for word in _SUSPECT) else name


def strip_query(url: str) -> str:
    """Drop the query and fragment of a URL (where a SAS lives) and any user info.

    Never raises on a malformed port or host: the text is cut, not parsed.

    Examples
    --------
    >>> strip_query("https://acct.blob.core.windows.net/c/x?sv=1&sig=2")
    'https://acct.blob.core.windows.net/c/x'
    >>> strip_query("http://u:pw@[::1]:99999/devstoreaccount1?sig=2")
    'http://[::1]:99999/devstoreaccount1'
    >>> strip_query("https://acct:k3y/with+slash==@acct.blob.core.windows.net/c")
    'https://acct.blob.core.windows.net/c'
    """
    url = _USERINFO.sub(lambda m: m.group(1), url)  # a password holding "/" fools urlsplit
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" in the host: keep the text before any query
        return _USERINFO.sub(lambda m: m.group(1), re.split(r"[?#]", url, maxsplit=1)[0])
    host = parts.netloc.rpartition("@")[2].lower()
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub_exception(exc: BaseException | None, secrets: Iterable[str] = ()) -> None:
    """Redact, in place, the text of ``exc`` and of every exception chained to it.

    ``raise SourceError(...) from None`` hides the exception it replaces from tracebacks,
    but keeps it as ``__context__``: scrub it before it is dropped. Its ``args`` and the
    text attributes ``str`` and ``repr`` show (``message``, ``strerror``, ``filename``,
    ``reason``) are redacted.

    Examples
    --------
    >>> try:
    ...     raise ValueError("bad https://a.blob.core.windows.net/c?sv=1&sig=abc")
    ... except ValueError as exc:
    ...     scrub_exception(exc)
    ...     print(exc)
    bad https://a.blob.core.windows.net/c?REDACTED
    """
    secrets = tuple(secrets)
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        try:
            e.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in e.args)
        except (AttributeError, TypeError):  # pragma: no cover - an exception type that refuses
            pass
        for name in ("message", "strerror", "filename", "filename2", "reason"):
            value = getattr(e, name, None)
            if isinstance(value, str):
                try:
                    setattr(e, name, redact(value, secrets))
                except (AttributeError, TypeError):  # a read-only property
                    pass
        todo += [e.__cause__, e.__context__]


def _chain(exc: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is seen for seen in out):
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__]
    return out


def neutralize_exception(exc: BaseException | None, secrets: Iterable[str] = ()) -> None:
    """Leave ``exc`` and the exceptions chained to it holding nothing but redacted text.

    For an Azure SDK error about to be replaced by a flowkit error: it stays reachable as
    the new error's ``__context__`` (``raise … from None`` only hides it), and its text is
    not all it holds. Its ``response`` keeps the request, whose URL carries the SAS
    (``sig=…``) and whose headers carry ``Authorization``; its traceback's frames keep
    the credential. So, after :func:`scrub_exception`, every attribute that is not plain
    text or a number (``response``, ``model``, ``exc_value``…) is set to None, the
    tracebacks are dropped, and so is the chain below ``exc``.

    Examples
    --------
    >>> class SdkError(Exception):
    ...     pass
    >>> err = SdkError("denied https://a.blob.core.windows.net/c?sv=1&sig=abc")
    >>> err.response = {"url": "https://a.blob.core.windows.net/c?sv=1&sig=abc"}
    >>> neutralize_exception(err)
    >>> str(err), err.response, err.__traceback__
    ('denied https://a.blob.core.windows.net/c?REDACTED', None, None)
    """
    chain = _chain(exc)
    scrub_exception(exc, secrets)
    for e in chain:
        e.__traceback__ = None
        for name, value in list(getattr(e, "__dict__", {}).items()):
            if not isinstance(value, (str, int, float, type(None))):
                try:
                    setattr(e, name, None)
                except (AttributeError, TypeError):  # pragma: no cover - a read-only attribute
                    pass
        e.__cause__ = None
        e.__context__ = None


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message (and literal secrets).

    Examples
    --------
    >>> f = RedactingFilter(["topsecret"])
    >>> rec = logging.LogRecord("x", logging.INFO, "", 0, "k=%s", ("topsecret",), None)
    >>> f.filter(rec), rec.getMessage()
    (True, 'k=REDACTED')
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging
            return True
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


#: Loggers that can print request URLs (with a SAS query) at DEBUG or INFO level.
HTTP_LOGGERS = (
    "urllib3.connectionpool",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.core.pipeline.transport._requests_basic",
    "azure.storage.blob._shared.policies",
    "azure.storage.blob",
    "azure.identity",
)
_INSTALLED = RedactingFilter()


def install_log_redaction() -> None:
    """Add a :class:`RedactingFilter` (by pattern) to the loggers that print request URLs.

    Filters on a logger only see what that logger emits, so the emitting loggers are
    named one by one (:data:`HTTP_LOGGERS`). Idempotent.

    Examples
    --------
    >>> install_log_redaction()
    >>> _INSTALLED in logging.getLogger("urllib3.connectionpool").filters
    True
    """
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _INSTALLED not in logger.filters:
            logger.addFilter(_INSTALLED)
