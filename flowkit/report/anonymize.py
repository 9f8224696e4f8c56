"""Keyed pseudonyms, so a report can leave the company.

An :class:`Anonymizer` replaces, in every string it is shown (evidence cells,
column names, titles, summaries, facts, notes, load-report metadata):

- IPv4 addresses, prefix-preserving (two addresses in one /24 stay in one /24):
  private ones into ``10.0.0.0/8``, public ones into ``198.18.0.0/15``
  (RFC 2544: reserved, never routed on the internet);
- IPv6 addresses into ``2001:db8::/32`` (RFC 3849), prefix-preserving;
- MAC addresses (``000D3A8D51B3``, ``00-0D-3A-…``, ``00:0d:3a:…``) into 12 hex
  digits with the locally-administered bit set (``02…``);
- GUIDs (subscriptions, NSG system IDs, aclIDs) into other GUIDs;
- resource IDs segment by segment: resource types stay, every name becomes
  ``res-<hash>``; the names so learned (and VM, NIC, subnet, NSG names from
  evidence columns and facts) are replaced wherever they appear in text;
- user-defined rule names (``UserRule_DenyWebToSql`` -> ``UserRule_res-…``);
  Azure's default rules (``DefaultRule_*``) and ``unspecified`` stay.

Every pseudonym is ``HMAC-SHA256(key, value)``-derived: the same value and key
give the same pseudonym in every report. The key itself is never written anywhere.
Well-known platform addresses (168.63.129.16, 169.254.169.254, 0.0.0.0, loopback)
are kept: they identify nobody and help the reader.

Limits: a name is recognised in free text only once it has been seen in a name or
rule column, a fact, a resource ID, or given with :meth:`Anonymizer.learn_names`
(``flowkit report --inventory`` teaches every VM, NIC, subnet and NSG name).
Local folder names in the sources list stay (their addresses, MACs, GUIDs and
resource IDs do not). Figures are left out of anonymised reports.

Examples
--------
>>> anon = Anonymizer("demo-key")
>>> anon.text("10.10.1.4 -> 10.10.1.5") == anon.text("10.10.1.4 -> 10.10.1.5")
True
>>> a, b = anon.ip("10.10.1.4"), anon.ip("10.10.1.5")
>>> a.startswith("10.") and a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0] and a != "10.10.1.4"
True
>>> anon.mac("00-0D-3A-00-01-01")[:2], len(anon.mac("000D3A000101"))
('02', 12)
>>> anon.text("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-1").count("res-")
1
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import replace
from typing import Any, Iterable

import pandas as pd

from flowkit.analysis.keys import is_private_ip
from flowkit.findings import Finding

__all__ = ["Anonymizer", "NAME_COLUMNS", "KEPT_ADDRESSES"]

#: Evidence columns (and facts keys) whose values are resource or VM names.
NAME_COLUMNS = frozenset({"vm", "src_vm", "dst_vm", "nic", "src_nic", "dst_nic", "subnet", "src_subnet",
                          "dst_subnet", "vnet", "nsg", "nsgs", "nsg_nsgs", "vnet_nsgs", "resource_group",
                          "flow_log", "node"})
#: Addresses that stay as they are (Azure platform addresses, unspecified, loopback).
KEPT_ADDRESSES = frozenset({"168.63.129.16", "169.254.169.254", "0.0.0.0", "255.255.255.255", "127.0.0.1",
                            "::", "::1"})
_KEPT_WORDS = frozenset({"", "internet", "unknown", "unspecified", "none", "null", "nan", "private", "public"})
_ZERO_GUID = "00000000-0000-0000-0000-000000000000"

_TOKEN = (
    r"(?P<path>/subscriptions/[^\s'\"<>,;()\[\]{}|`]+)"
    r"|(?P<guid>(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-]))"
    r"|(?P<mac>(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}(?:(?P<sep>[-:])[0-9A-Fa-f]{2})(?:(?P=sep)[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f:-]))"
    r"|(?P<mac12>(?<![0-9A-Za-z])[0-9A-Fa-f]{12}(?![0-9A-Za-z]))"
    r"|(?P<ip6>(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:/\d{1,3}(?!\d))?(?![0-9A-Za-z:]))"
    r"|(?P<ip4>(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2}(?!\d))?(?!\.?\d))"
)
_TOKEN_RE = re.compile(_TOKEN, re.IGNORECASE)
_PUBLIC_V4 = int(ipaddress.IPv4Address("198.18.0.0"))
_PRIVATE_V4 = int(ipaddress.IPv4Address("10.0.0.0"))
_DOC_V6 = int(ipaddress.IPv6Address("2001:db8::"))


def _split_list(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]


class Anonymizer:
    """Consistent keyed pseudonyms for addresses, MACs, GUIDs and resource names.

    Parameters
    ----------
    key : str or bytes, optional
        The secret key. Without one, a random key is made (read it from
        :attr:`key` to anonymise another report the same way).

    Examples
    --------
    >>> Anonymizer("k").ip("203.0.113.7").startswith("198.1")
    True
    >>> Anonymizer("k").name("nsg-snet-web") == Anonymizer("k").name("NSG-SNET-WEB")
    True
    """

    def __init__(self, key: str | bytes | None = None) -> None:
        self.generated = key is None
        if key is None:
            key = secrets.token_hex(16)
        self._key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if not self._key:
            raise ValueError("the anonymisation key must not be empty")
        self._prf: dict[tuple[str, int, int], int] = {}
        self._map: dict[tuple[str, str], str] = {}
        self._taken: dict[str, tuple[str, str]] = {}
        self._originals: set[str] = set()
        self._macs: set[str] = set()
        self._vocab: dict[str, str] = {}
        self._regex: re.Pattern[str] | None = None

    def __repr__(self) -> str:
        return "Anonymizer(key=<hidden>)"

    @property
    def key(self) -> str:
        """The key as text (hex for a generated or binary key). Never put it in a report."""
        try:
            return self._key.decode("utf-8") if not self.generated else self._key.decode("ascii")
        except UnicodeDecodeError:
            return self._key.hex()

    # -- primitives -----------------------------------------------------------------
    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key, f"{kind}\x00{value}".encode("utf-8"), hashlib.sha256).digest()

    def _bit(self, family: str, depth: int, prefix: int) -> int:
        k = (family, depth, prefix)
        bit = self._prf.get(k)
        if bit is None:
            bit = self._prf[k] = self._digest(f"pp-{family}-{depth}", str(prefix))[0] & 1
        return bit

    def _preserve(self, family: str, value: int, bits: int) -> int:
        """Prefix-preserving keyed permutation of a ``bits``-bit number (Crypto-PAn style)."""
        out = 0
        for i in range(bits):
            bit = (value >> (bits - 1 - i)) & 1
            out = (out << 1) | (bit ^ self._bit(family, i, value >> (bits - i)))
        return out

    def _claim(self, kind: str, original: str, candidates: Iterable[str]) -> str:
        """The first candidate that no other original owns and that is no original itself."""
        k = (kind, original)
        if k in self._map:
            return self._map[k]
        for cand in candidates:
            owner = self._taken.get(cand)
            if (owner is None or owner == k) and cand not in self._originals:
                self._map[k] = cand
                self._taken[cand] = k
                return cand
        raise RuntimeError("no pseudonym left")  # pragma: no cover - 2**n candidates

    def _fallbacks(self, kind: str, original: str, make: Any) -> Iterable[str]:
        i = 1
        while True:
            yield make(self._digest(kind, f"{original}\x00{i}"))
            i += 1

    # -- one value of each kind -------------------------------------------------------
    def ip(self, value: str) -> str:
        """Pseudonym of an IP address (or ``address/prefix``); invalid text is returned unchanged.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> net = anon.ip("10.20.1.0/24")
        >>> ipaddress.ip_address(anon.ip("10.20.1.4")) in ipaddress.ip_network(net)
        True
        """
        text, _, plen = str(value).partition("/")
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return str(value)
        if str(addr) in KEPT_ADDRESSES:
            mapped = str(addr)
        elif addr.version == 4:
            private = is_private_ip(str(addr))
            base, span = (_PRIVATE_V4, 24) if private else (_PUBLIC_V4, 17)
            first = base | (self._preserve("v4", int(addr), 32) & ((1 << span) - 1))

            def make(d: bytes, base: int = base, span: int = span) -> str:
                return str(ipaddress.IPv4Address(base | (int.from_bytes(d[:4], "big") & ((1 << span) - 1))))

            mapped = self._claim("ip", str(addr), self._chain(str(ipaddress.IPv4Address(first)),
                                                              self._fallbacks("ip", str(addr), make)))
        else:
            first = _DOC_V6 | (self._preserve("v6", int(addr), 128) & ((1 << 96) - 1))

            def make6(d: bytes) -> str:
                return str(ipaddress.IPv6Address(_DOC_V6 | int.from_bytes(d[:12], "big")))

            mapped = self._claim("ip", str(addr), self._chain(str(ipaddress.IPv6Address(first)),
                                                              self._fallbacks("ip", str(addr), make6)))
        if plen.isdigit():
            return str(ipaddress.ip_network(f"{mapped}/{plen}", strict=False))
        return mapped

    @staticmethod
    def _chain(first: str, rest: Iterable[str]) -> Iterable[str]:
        yield first
        yield from rest

    def mac(self, value: str) -> str:
        """Pseudonym of a MAC address: 12 upper-case hex digits starting ``02``.

        Examples
        --------
        >>> Anonymizer("k").mac("000d3a000101") == Anonymizer("k").mac("00:0D:3A:00:01:01")
        True
        """
        norm = re.sub(r"[-:.\s]", "", str(value)).upper()
        return self._claim("mac", norm, self._fallbacks("mac", norm, lambda d: "02" + d[:5].hex().upper()))

    def guid(self, value: str) -> str:
        """Pseudonym of a GUID (the all-zero GUID stays).

        Examples
        --------
        >>> g = Anonymizer("k").guid("10156605-f007-48a8-94d3-5a7f1bea6dee")
        >>> [len(p) for p in g.split("-")]
        [8, 4, 4, 4, 12]
        """
        low = str(value).lower()
        if low == _ZERO_GUID:
            return low

        def make(d: bytes) -> str:
            h = d[:16].hex()
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

        return self._claim("guid", low, self._fallbacks("guid", low, make))

    def name(self, value: str) -> str:
        """Pseudonym of a resource, VM, NIC, subnet or NSG name: ``res-<10 hex>`` (case-insensitive).

        Examples
        --------
        >>> Anonymizer("k").name("web-01").startswith("res-")
        True
        """
        low = str(value).lower()
        if low in _KEPT_WORDS:
            return str(value)
        return self._claim("name", low, self._fallbacks("name", low, lambda d: "res-" + d[:5].hex()))

    def rule(self, value: str) -> str:
        """Pseudonym of a rule name; ``DefaultRule_*`` and ``unspecified`` stay.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.rule("DefaultRule_DenyAllInBound"), anon.rule("UserRule_DenyWebToSql").startswith("UserRule_res-")
        ('DefaultRule_DenyAllInBound', True)
        """
        text = str(value)
        if text.lower().startswith("defaultrule_") or text.lower() in _KEPT_WORDS:
            return text
        prefix, sep, rest = text.partition("_")
        if sep and prefix.lower() == "userrule" and rest:
            return f"{prefix}_{self.name(rest)}"
        return self.name(text)

    # -- learning (first pass) ------------------------------------------------------------
    def learn_names(self, names: Iterable[Any], *, rules: bool = False) -> None:
        """Remember names (VMs, NSGs, rules…) so they are replaced wherever they appear in text.

        Values may be comma- or semicolon-separated lists; addresses, GUIDs and words such
        as ``internet`` are not names.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.learn_names(["web-01"])
        >>> "web-01" in anon.text("VM web-01 (10.10.1.4)")
        False
        """
        for value in names:
            if value is None or not isinstance(value, str):
                continue
            for part in _split_list(value):
                low = part.lower()
                if low in _KEPT_WORDS or len(part) < 3 or low in self._vocab:
                    continue
                if _TOKEN_RE.fullmatch(part):  # an address, MAC, GUID or resource ID
                    continue
                if low.startswith("defaultrule_"):
                    continue
                self._vocab[low] = self.rule(part) if rules else self.name(part)
                self._regex = None

    def scan(self, text: Any) -> None:
        """Remember the originals in ``text`` (so no pseudonym equals one) and the names in resource IDs."""
        if not isinstance(text, str):
            return
        for m in _TOKEN_RE.finditer(text):
            kind = m.lastgroup
            token = m.group(0)
            if kind in ("ip4", "ip6"):
                addr = token.partition("/")[0]
                try:
                    self._originals.add(str(ipaddress.ip_address(addr)))
                except ValueError:
                    pass
            elif kind in ("mac", "mac12"):
                norm = re.sub(r"[-:]", "", token).upper()
                if kind == "mac" or re.search(r"[A-F]", norm):
                    self._macs.add(norm)
                    self._originals.add(norm)
            elif kind == "guid":
                self._originals.add(token.lower())
            elif kind == "path":
                self.learn_names(self._path_names(token.rstrip(".")))

    @staticmethod
    def _path_names(path: str) -> list[str]:
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

    # -- text -------------------------------------------------------------------------------
    def _pattern(self) -> re.Pattern[str]:
        if self._regex is None:
            alts = _TOKEN
            if self._vocab:
                words = "|".join(re.escape(w) for w in sorted(self._vocab, key=len, reverse=True))
                alts = f"(?P<word>(?<![\\w.-])(?:{words})(?![\\w-]))|" + _TOKEN
            self._regex = re.compile(alts, re.IGNORECASE)
        return self._regex

    def _path(self, path: str) -> str:
        parts = path.split("/")
        out = list(parts)
        i = 1
        while i < len(parts):
            seg = parts[i].lower()
            if "=" in parts[i]:
                out[i:] = [self.text(p) for p in parts[i:]]
                break
            if seg == "providers":
                i += 2
                continue
            if i + 1 < len(parts):
                nxt = parts[i + 1]
                if "=" in nxt:
                    i += 1
                    continue
                out[i + 1] = self.guid(nxt) if seg == "subscriptions" and _is_guid(nxt) else self.name(nxt)
            i += 2
        return "/".join(out)

    def _replace(self, m: re.Match[str]) -> str:
        kind, token = m.lastgroup, m.group(0)
        if kind == "word":
            return self._vocab.get(token.lower(), token)
        if kind == "path":
            core = token.rstrip(".")
            return self._path(core) + token[len(core):]
        if kind == "guid":
            return self.guid(token)
        if kind == "mac":
            return self.mac(token)
        if kind == "mac12":
            norm = token.upper()
            return self.mac(norm) if (norm in self._macs or re.search(r"[A-F]", norm)) else token
        return self.ip(token)

    def text(self, value: str) -> str:
        """Replace every address, MAC, GUID, resource ID and known name in ``value``.

        Examples
        --------
        >>> Anonymizer("k").text("no addresses here")
        'no addresses here'
        """
        return self._pattern().sub(self._replace, value)

    # -- structures -------------------------------------------------------------------------
    def value(self, value: Any) -> Any:
        """Anonymise a string, or the strings inside lists, tuples and dicts (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return type(value)(self.value(v) for v in value) if not isinstance(value, set) else \
                {self.value(v) for v in value}
        return value

    def learn_frame(self, frame: pd.DataFrame) -> None:
        """First pass over an evidence table: names from name and rule columns, originals everywhere."""
        for col in frame.columns:
            label = str(col)
            self.scan(label)
            series = frame[col]
            if not _is_text(series):
                continue
            uniques = [v for v in pd.unique(series.astype(object)) if isinstance(v, str)]
            if "rule" in label.lower():
                self.learn_names(uniques, rules=True)
            elif label.lower() in NAME_COLUMNS or label.lower().endswith(("_vm", "_nic", "_subnet", "_nsgs")):
                self.learn_names(uniques)
            for v in uniques:
                self.scan(v)

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with every text cell and column name anonymised."""
        out = frame.copy()
        for col in out.columns:
            series = out[col]
            if _is_text(series):
                obj = series.astype(object)
                mapping = {v: self.text(v) for v in pd.unique(obj) if isinstance(v, str)}
                out[col] = obj.map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
        out.columns = [self.text(str(c)) if isinstance(c, str) else c for c in out.columns]
        return out

    def learn_finding(self, finding: Finding) -> None:
        """First pass over a finding (evidence, facts, text)."""
        for frame in finding.evidence.values():
            self.learn_frame(frame)
        self._learn_facts(finding.facts)
        for text in (finding.title, finding.summary, *finding.notes, *finding.evidence):
            self.scan(text)

    def _learn_facts(self, facts: Any, key: str = "") -> None:
        if isinstance(facts, dict):
            for k, v in facts.items():
                self.scan(str(k))
                self._learn_facts(v, str(k).lower())
        elif isinstance(facts, (list, tuple, set)):
            for v in facts:
                self._learn_facts(v, key)
        elif isinstance(facts, str):
            if "rule" in key:
                self.learn_names([facts], rules=True)
            elif key in NAME_COLUMNS:
                self.learn_names([facts])
            self.scan(facts)

    def finding(self, finding: Finding) -> Finding:
        """An anonymised copy of ``finding``; figures are dropped (pictures cannot be rewritten).

        Call :meth:`learn_finding` on every finding of a report first, so that names
        learned from one finding are replaced in all of them.
        """
        notes = [self.text(n) for n in finding.notes]
        if finding.figures:
            notes.append(f"{len(finding.figures)} figure(s) left out of this anonymised report: "
                         "pictures can show addresses and names.")
        return replace(finding, title=self.text(finding.title), summary=self.text(finding.summary),
                       evidence={self.text(k): self.frame(v) for k, v in finding.evidence.items()},
                       figures={}, facts=self.value(finding.facts), notes=notes)


def _is_guid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", text))


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return dtype == object or pd.api.types.is_string_dtype(dtype)
