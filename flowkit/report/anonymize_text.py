"""What the anonymiser recognises in text: the token pattern and the pieces of paths and storage URLs.

Recognised, in this order: storage URLs (``https://ACCOUNT.blob.core.windows.net/…``,
``azure://ACCOUNT/…`` and the URL after ``azure:`` in a source description),
resource IDs (``/subscriptions/…``), the short VNet flow-log path form
(``{SUB}_{RG}/{NW}_{NAME}``), GUIDs, MACs (separated, or 12 hex digits), IPv6
(also ``::ffff:a.b.c.d``) and IPv4 addresses, each with an optional ``/prefix``.

Examples
--------
>>> [m.lastgroup for m in TOKEN_RE.finditer("::ffff:198.51.100.7 and 192.0.2.1/33")]
['ip6', 'ip4']
>>> split_short_segment("NETWORKWATCHER_EASTUS_FL-1", {})
('NETWORKWATCHER_EASTUS', 'FL-1')
>>> mac_context("macAddress=002248712345", 11), mac_context("bytes 002248712345", 6)
(True, False)
"""

from __future__ import annotations

import re
from typing import Container, Mapping, Protocol

__all__ = ["TOKEN", "TOKEN_RE", "is_guid", "split_list", "split_short_segment", "mac_context", "digit_mac",
           "path_names", "short_names", "url_names", "rewrite_path", "rewrite_short", "rewrite_url"]

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_SEG = r"[^/\s'\"<>,;()\[\]{}|`]"
_SEG_NO_EQ = r"[^/=\s'\"<>,;()\[\]{}|`]"

TOKEN = (
    r"(?P<url>(?:azure://|(?<=azure: )https?://|https?://[0-9A-Za-z-]+\.(?:blob|dfs|file|queue|table)\.core\.)"
    r"(?:\[[0-9A-Fa-f:.]+\])?[^\s'\"<>`|()\[\]]*)"
    r"|(?P<path>/subscriptions/[^\s'\"<>,;()\[\]{}|`?#]+)"
    r"|(?P<vshort>(?<![0-9A-Za-z-])" + _GUID + "_" + _SEG + r"+(?:/" + _SEG_NO_EQ + r"+_" + _SEG_NO_EQ + r"+)?)"
    r"|(?P<guid>(?<![0-9A-Za-z-])" + _GUID + r"(?![0-9A-Za-z-]))"
    r"|(?P<mac>(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}(?:(?P<sep>[-:])[0-9A-Fa-f]{2})(?:(?P=sep)[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f:-]))"
    r"|(?P<mac12>(?<![0-9A-Za-z])[0-9A-Fa-f]{12}(?![0-9A-Za-z]))"
    r"|(?P<ip6>(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?:/\d{1,3}(?!\d))?(?![0-9A-Za-z:]|\.\d))"
    r"|(?P<ip4>(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2}(?!\d))?(?!\.?\d))"
)
TOKEN_RE = re.compile(TOKEN, re.IGNORECASE)

# The parts of a URL, kept as written: scheme, user info, host, port, path, query and fragment.
_URL_PARTS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@?#]*@)?(?P<host>\[[^\]]*\]|[^/:?#]*)"
                       r"(?P<port>:\d*)?(?P<path>/[^?#]*)?(?P<rest>.*)", re.DOTALL)
_AZURE_DOMAIN = r"\.(?:privatelink\.)?[A-Za-z]+\.core\.[A-Za-z.]+"
_STORAGE_HOST = re.compile(r"([0-9A-Za-z-]+)(" + _AZURE_DOMAIN + ")")
_MAC_BEFORE = re.compile(r"mac(?:[ _-]?address(?:es)?)?['\"]?\s*[=:]?\s*['\"]?$", re.IGNORECASE)


def is_guid(text: str) -> bool:
    """True when ``text`` is a GUID.

    Examples
    --------
    >>> is_guid("00000000-0000-0000-0000-000000000001"), is_guid("web-01")
    (True, False)
    """
    return bool(re.fullmatch(_GUID, text))


def split_list(value: str) -> list[str]:
    """The items of a comma- or semicolon-separated list.

    Examples
    --------
    >>> split_list("nsg-a; nsg-b,")
    ['nsg-a', 'nsg-b']
    """
    return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]


def split_short_segment(segment: str, known: Container[str]) -> tuple[str, str]:
    """Split ``{NW}_{NAME}`` of a short-form VNet path: at a known name, else at the last ``_``.

    Azure's watcher names hold underscores (``NetworkWatcher_eastus``), so the last
    underscore is the usual cut (as :func:`flowkit.sources.layout.parse_blob_path` makes
    it); a flow-log or watcher name already learned (lower case in ``known``) wins.

    Examples
    --------
    >>> split_short_segment("NW_eastus_fl_a", {"fl_a"})
    ('NW_eastus', 'fl_a')
    """
    cuts = [i for i, ch in enumerate(segment) if ch == "_"]
    for i in cuts:
        if segment[i + 1:].lower() in known or segment[:i].lower() in known:
            return segment[:i], segment[i + 1:]
    return segment[:cuts[-1]], segment[cuts[-1] + 1:]


def mac_context(text: str, start: int) -> bool:
    """True when the text before ``start`` names a MAC (``macAddress=``, ``mac ``, ``MAC: ``).

    Examples
    --------
    >>> mac_context("NIC mac 002248712345", 8)
    True
    """
    return bool(_MAC_BEFORE.search(text[max(0, start - 24):start]))


def digit_mac(digits: str) -> bool:
    """12 decimal digits that can only be a MAC: a leading zero (no count is written so), not all zeros.

    Azure's own OUI 00-22-48 gives MACs such as ``002248712345``.

    Examples
    --------
    >>> digit_mac("002248712345"), digit_mac("123456789012"), digit_mac("000000000000")
    (True, False, False)
    """
    return digits.isdigit() and digits.startswith("0") and digits.strip("0") != ""


def path_names(path: str) -> list[str]:
    """The names in a resource ID (``/subscriptions/S/resourceGroups/RG/…/NAME``), subscription left out.

    Examples
    --------
    >>> path_names("/subscriptions/S/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1")
    ['rg-1', 'vnet-1']
    """
    parts = path.split("/")
    names: list[str] = []
    i = 1
    while i < len(parts):
        seg = parts[i].lower()
        if "=" in parts[i] or not parts[i]:
            break
        if seg == "providers":
            i += 2
            continue
        if i + 1 < len(parts) and "=" not in parts[i + 1] and seg != "subscriptions":
            names.append(parts[i + 1])
        i += 2
    return names


def _storage_host(host: str) -> tuple[str, str] | None:
    """``(account, rest)`` of a storage host name (``acct.blob.core.windows.net``), else None.

    Any other dotted name that is no address (a private endpoint, Azure Stack, a custom
    domain) names the account by its first label, as :mod:`flowkit.sources.azure_auth`
    reads it; an address, ``localhost`` or a single label is an emulator (None).

    Examples
    --------
    >>> _storage_host("acct.blob.core.windows.net"), _storage_host("127.0.0.1")
    (('acct', '.blob.core.windows.net'), None)
    >>> _storage_host("acct.blob.local.azurestack.external"), _storage_host("azurite")
    (('acct', '.blob.local.azurestack.external'), None)
    """
    m = _STORAGE_HOST.fullmatch(host)
    if m:
        return m.group(1), m.group(2)
    label, dot, domain = host.partition(".")
    emulator = host.lower() == "host.docker.internal" or host.replace(".", "").isdigit() or "[" in host
    return (label, dot + domain) if label and domain and not emulator else None


def _own_domain(domain: str) -> bool:
    """True when the part of a storage host after the account is not Azure's own (``.blob.core.…``).

    Examples
    --------
    >>> _own_domain(".privatelink.blob.core.windows.net"), _own_domain(".contoso.example")
    (False, True)
    """
    return bool(domain) and re.fullmatch(_AZURE_DOMAIN, domain) is None


def _kept_account(name: str) -> bool:
    """Storage accounts that identify nobody: the emulator's well-known account.

    Examples
    --------
    >>> _kept_account("devstoreaccount1"), _kept_account("contosoflowlogs")
    (True, False)
    """
    return name.lower() in ("devstoreaccount1", "")


def _kept_container(name: str) -> bool:
    """Container names Azure chooses (``insights-logs-…``, ``$logs``, the ``{a,b}`` of a description).

    Examples
    --------
    >>> _kept_container("insights-logs-flowlogflowevent"), _kept_container("contoso-archive")
    (True, False)
    """
    return name.lower().startswith(("insights-logs-", "{", "$")) or name == ""


class Pseudonyms(Protocol):
    """What the rewriting below needs of an :class:`~flowkit.report.anonymize.Anonymizer`."""

    @property
    def known(self) -> Mapping[str, str]: ...

    def name(self, value: str) -> str: ...
    def guid(self, value: str) -> str: ...
    def ip(self, value: str) -> str: ...
    def text(self, value: str) -> str: ...


def rewrite_path(anon: Pseudonyms, path: str) -> str:
    """A resource ID (``/subscriptions/…``) segment by segment: types stay, names and GUIDs change.

    Examples
    --------
    >>> from flowkit.report import Anonymizer
    >>> parts = rewrite_path(Anonymizer("k"), "/subscriptions/x/resourceGroups/rg-1").split("/")
    >>> parts[3], parts[4] == Anonymizer("k").name("rg-1")
    ('resourceGroups', True)
    """
    parts = path.split("/")
    out = list(parts)
    i = 1
    while i < len(parts):
        seg = parts[i].lower()
        if "=" in parts[i]:
            out[i:] = [anon.text(p) for p in parts[i:]]
            break
        if seg == "providers":
            i += 2
            continue
        if i + 1 < len(parts):
            nxt = parts[i + 1]
            if "=" in nxt:
                i += 1
                continue
            out[i + 1] = anon.guid(nxt) if seg == "subscriptions" and is_guid(nxt) else anon.name(nxt)
        i += 2
    return "/".join(out)


def short_names(token: str, known: Container[str]) -> list[str]:
    """The resource group, watcher and flow-log names of a short-form path ``{SUB}_{RG}[/{NW}_{NAME}]``.

    Examples
    --------
    >>> short_names("00000000-0000-0000-0000-000000000001_NWRG/NetworkWatcher_eastus_fl1", {})
    ['NWRG', 'NetworkWatcher_eastus', 'fl1']
    """
    first, _, second = token.partition("/")
    return [first.partition("_")[2], *(split_short_segment(second, known) if second else ())]


def rewrite_short(anon: Pseudonyms, token: str) -> str:
    """A short-form VNet path ``{SUB}_{RG}[/{NW}_{NAME}]`` with the GUID and every name replaced.

    Examples
    --------
    >>> from flowkit.report import Anonymizer
    >>> out = rewrite_short(Anonymizer("k"), "00000000-0000-0000-0000-000000000001_NWRG/NW_eastus_fl1")
    >>> "NWRG" in out or "fl1" in out, out.count("res-")
    (False, 3)
    """
    first, _, second = token.partition("/")
    sub = first.partition("_")[0]
    names = [anon.name(n) for n in short_names(token, anon.known)]
    out = f"{anon.guid(sub)}_{names[0]}"
    return out + (f"/{names[1]}_{names[2]}" if second else "")


def _url_split(token: str) -> tuple[str, str, str, str, list[str], list[str], str, bool]:
    """scheme, user info, account host label, host rest, account path segment(s), container+prefix, tail, storage."""
    m = _URL_PARTS.match(token)
    assert m is not None  # the token pattern only lets URLs through
    scheme, user, host, port, path, rest = (m.group(g) or "" for g in
                                            ("scheme", "user", "host", "port", "path", "rest"))
    segs = path.split("/")[1:] if path else []
    storage = _storage_host(host)
    if scheme.lower() == "azure://" or storage is not None:
        label, domain = storage or (host, "")
        return scheme + user, label, domain + port, ("/" if path else ""), [], segs, rest, True
    # an emulator (path-style) URL: the host is an address, the account the first path segment
    return scheme + user, host, port, ("/" if path else ""), segs[:1], segs[1:], rest, False


def url_names(token: str) -> list[str]:
    """The storage account and (when Azure did not name it) container of a storage URL.

    Examples
    --------
    >>> url_names("azure://contosologs/archive/resourceId=/x"), url_names("https://a.blob.core.windows.net/")
    (['contosologs', 'archive'], ['a'])
    """
    _, label, after_host, _, lead, segs, _, storage = _url_split(token)
    domain = after_host.partition(":")[0]
    names = ([label] if storage else lead) + ([domain[1:]] if storage and _own_domain(domain) else []) + segs[:1]
    return [n for n in names if not _kept_account(n) and not _kept_container(n)]


def rewrite_url(anon: Pseudonyms, token: str) -> str:
    """A storage URL with its account (and a container Azure did not name) replaced, its prefix as text.

    Examples
    --------
    >>> from flowkit.report import Anonymizer
    >>> anon = Anonymizer("k")
    >>> rewrite_url(anon, "https://contoso.blob.core.windows.net/insights-logs-flowlogflowevent") == (
    ...     f"https://{anon.name('contoso')}.blob.core.windows.net/insights-logs-flowlogflowevent")
    True
    """
    head, host, after_host, slash, lead, segs, rest, storage = _url_split(token)
    if storage:
        host = host if _kept_account(host) else anon.name(host)
        domain, colon, port = after_host.partition(":")
        if _own_domain(domain):  # a custom domain or an Azure Stack's names the estate too
            after_host = f".{anon.name(domain[1:])}{colon}{port}"
    else:
        bare = host.strip("[]")
        host = host.replace(bare, anon.ip(bare)) if bare else host
        lead = [a if _kept_account(a) else anon.name(a) for a in lead]
    if segs:
        segs = [segs[0] if _kept_container(segs[0]) else anon.name(segs[0])] + segs[1:]
    prefix = "/".join(segs[1:])
    shown = "/".join(lead + segs[:1] + ([anon.text(prefix)] if len(segs) > 1 else []))
    return f"{head}{host}{after_host}{slash}{shown}{anon.text(rest) if rest else ''}"
