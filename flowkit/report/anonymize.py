"""Keyed pseudonyms, so a report can leave the company.

An :class:`Anonymizer` replaces, in every string it is shown (evidence cells, also
inside list, tuple, set and dict cells, column and index labels, titles, summaries,
facts, notes, sources, load-report metadata) and in :mod:`ipaddress` objects:

- IP addresses by a pure function of (key, address) that permutes each class
  onto itself (see :mod:`flowkit.report.anonymize_ip`): private IPv4 stays in its
  private block (``10/8``, ``172.16/12``, ``192.168/16``…) and public IPv4 stays
  public, prefix-preserving (hosts of one ``/24`` stay in one ``/24``, distinct
  ``/24`` stay distinct); IPv6 ULA and link-local stay in ``fc00::/7`` and
  ``fe80::/10``, other IPv6 goes into ``2001:db8::/32``; ``::ffff:a.b.c.d``
  keeps its form with the IPv4 address mapped;
- MAC addresses (``000D3A8D51B3``, ``00-0D-3A-…``, ``00:0d:3a:…``; 12 decimal
  digits too in a MAC column, after ``macAddress=`` or ``mac``, or with a leading
  zero) into 12 hex digits with the locally-administered bit set (``02…``);
- GUIDs (subscriptions, NSG system IDs, aclIDs) into other GUIDs;
- resource IDs segment by segment (resource types stay, every name becomes
  ``res-<hash>``), VNet blob paths in the short form ``{SUB}_{RG}/{NW}_{NAME}``,
  and the storage account (and a container not named by Azure) of storage URLs;
- the names so learned, and VM, NIC, subnet and NSG names from evidence columns,
  column and index labels of such columns, and facts, wherever they stand as a
  whole word, whatever their length;
- user-defined rule names (``UserRule_DenyWebToSql`` -> ``UserRule_res-…``), security
  admin rules (``DenyHighRiskPorts_<GUID>`` -> ``res-…_<GUID>``);
  Azure's default rules (``DefaultRule_*``) and ``unspecified`` stay.

Every pseudonym is ``HMAC-SHA256(key, value)``-derived: the same value and key
give the same pseudonym in every report. The key itself is never written anywhere.
Well-known addresses (168.63.129.16, 169.254.169.254, ``0.0.0.0/8``, loopback,
multicast) are kept: they identify nobody and help the reader.

Limits: a name is recognised in free text only once it has been seen in a name or
rule column, a fact, a resource ID, a blob path, a storage URL, or given with
:meth:`Anonymizer.learn_names` (``flowkit report --inventory`` teaches every VM, NIC,
subnet and NSG name). A name that is one character, only digits, or a common
word (``to``, ``ok``, ``in``…) is replaced only where it is a whole value of a
name column or fact, never in free text. The local folders read from (the part of a
``blob`` path before the Azure layout, the folders of a ``local:`` source) become
``folder-<hash>`` where a path starts with them (:mod:`flowkit.report.anonymize_local`). A public IPv4
pseudonym can be someone's real address, and a pseudonym can be the text of
another real address of the same report (every address shown is a pseudonym).
MAC, GUID and name pseudonyms are hashes: should two values of one run ever hash
alike (a 2**-40 chance per pair for MACs and names), the later one takes the
next candidate. Figures are left out of anonymised reports.

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
import re
import secrets
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import pandas as pd

from flowkit.findings import Finding
from flowkit.report.anonymize_columns import (
    CONTAINERS, IP_OBJECTS, KEPT_WORDS, NAME_COLUMNS, distinct_texts, in_free_text, is_mac_label, is_name_label,
    is_rule_label, is_text)
from flowkit.report.anonymize_local import local_root, usable_root
from flowkit.report.anonymize_ip import KEPT_ADDRESSES, AddressPseudonyms
from flowkit.report.anonymize_text import (
    TOKEN, TOKEN_RE, digit_mac, mac_context, path_names, rewrite_path, rewrite_short, rewrite_url, short_names,
    split_list, url_names)
from flowkit.schema import COLUMNS

__all__ = ["Anonymizer", "NAME_COLUMNS", "KEPT_ADDRESSES"]

_ZERO_GUID = "00000000-0000-0000-0000-000000000000"
#: An Azure Virtual Network Manager rule name in its NAME_GUID form (see ``is_avnm_rule``).
_AVNM_RULE = re.compile(r"(.+)_([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})")


class Anonymizer:
    """Consistent keyed pseudonyms for addresses, MACs, GUIDs and resource names.

    Parameters
    ----------
    key : str or bytes, optional
        The secret key. Without one, a random key is made (read it from
        :attr:`key` to anonymise another report the same way).

    Examples
    --------
    >>> Anonymizer("k").ip("203.0.113.7") == Anonymizer("k").ip("203.0.113.7") != "203.0.113.7"
    True
    >>> Anonymizer("k").name("nsg-snet-web") == Anonymizer("k").name("NSG-SNET-WEB")
    True
    """

    def __init__(self, key: str | bytes | None = None) -> None:
        self.generated = key is None
        if key is None:
            key = secrets.token_hex(16)
        if not isinstance(key, (str, bytes, bytearray, memoryview)):  # bytes(5) is five zero bytes, not a key
            raise TypeError(f"the anonymisation key must be text or bytes, not {type(key).__name__}")
        self._key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if not self._key:
            raise ValueError("the anonymisation key must not be empty")
        self._addresses = AddressPseudonyms(self._key)
        self._map: dict[tuple[str, str], str] = {}
        self._taken: dict[str, tuple[str, str]] = {}
        self._macs: set[str] = set()
        self._vocab: dict[str, str] = {}
        self._roots: set[str] = set()  # local folders read from (anonymize_local)
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

    def _claim(self, kind: str, original: str, make: Any) -> str:
        """The first keyed candidate no other original of this kind owns (the first, but for a hash clash)."""
        k = (kind, original)
        if k in self._map:
            return self._map[k]
        i = 1
        while True:
            cand = make(self._digest(kind, f"{original}\x00{i}"))
            if self._taken.get(cand, k) == k:
                self._map[k] = cand
                self._taken[cand] = k
                return cand
            i += 1

    # -- one value of each kind -------------------------------------------------------
    def ip(self, value: str) -> str:
        """Pseudonym of an IP address (or ``address/prefix``); invalid text is returned unchanged.

        Examples
        --------
        >>> import ipaddress
        >>> anon = Anonymizer("k")
        >>> net = anon.ip("10.20.1.0/24")
        >>> ipaddress.ip_address(anon.ip("10.20.1.4")) in ipaddress.ip_network(net)
        True
        """
        return self._addresses.ip(str(value))

    def mac(self, value: str) -> str:
        """Pseudonym of a MAC address: 12 upper-case hex digits starting ``02``.

        Examples
        --------
        >>> Anonymizer("k").mac("000d3a000101") == Anonymizer("k").mac("00:0D:3A:00:01:01")
        True
        """
        norm = re.sub(r"[-:.\s]", "", str(value)).upper()
        return self._claim("mac", norm, lambda d: "02" + d[:5].hex().upper())

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

        return self._claim("guid", low, make)

    def name(self, value: str) -> str:
        """Pseudonym of a resource, VM, NIC, subnet or NSG name: ``res-<10 hex>`` (case-insensitive).

        Examples
        --------
        >>> Anonymizer("k").name("web-01").startswith("res-")
        True
        """
        low = str(value).lower()
        if low in KEPT_WORDS:
            return str(value)
        return self._claim("name", low, lambda d: "res-" + d[:5].hex())

    def rule(self, value: str) -> str:
        """Pseudonym of a rule name; ``DefaultRule_*`` and ``unspecified`` stay.

        ``UserRule_`` stays in front, a security admin rule named ``NAME_GUID`` keeps that form,
        and a bare name becomes a bare pseudonym (see
        :func:`~flowkit.analysis.compare.is_avnm_rule`): an analysis of anonymised flows still
        tells the three apart.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.rule("DefaultRule_DenyAllInBound"), anon.rule("UserRule_DenyWebToSql").startswith("UserRule_res-")
        ('DefaultRule_DenyAllInBound', True)
        """
        text = str(value)
        if text.lower().startswith("defaultrule_") or text.lower() in KEPT_WORDS:
            return text
        prefix, sep, rest = text.partition("_")
        if sep and prefix.lower() == "userrule" and rest:
            return f"{prefix}_{self.name(rest)}"
        avnm = _AVNM_RULE.fullmatch(text)  # a security admin rule: NAME_GUID keeps its form
        if avnm:
            return f"{self.name(avnm.group(1))}_{self.guid(avnm.group(2))}"
        return self.name(text)

    # -- learning (first pass) ------------------------------------------------------------
    def learn_names(self, names: Iterable[Any], *, rules: bool = False) -> None:
        """Remember names (VMs, NSGs, rules…) so they are replaced wherever they appear in text.

        Values may be comma- or semicolon-separated lists; addresses, GUIDs and words such
        as ``internet`` are not names. A name of one character, of digits only or that
        is a common word (``to``, ``ok``) is replaced only as a whole field.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.learn_names(["web-01", "db"])
        >>> "web-01" in anon.text("VM web-01 (10.10.1.4)"), anon.text("db is up") == anon.name("db") + " is up"
        (False, True)
        """
        for value in names:
            if value is None or not isinstance(value, str):
                continue
            for part in split_list(value):
                low = part.lower()
                if low in KEPT_WORDS or low in self._vocab or low.startswith("defaultrule_"):
                    continue
                if TOKEN_RE.fullmatch(part):  # an address, MAC, GUID or resource ID
                    continue
                self._vocab[low] = self.rule(part) if rules else self.name(part)
                if in_free_text(low):
                    self._regex = None

    def learn_local_roots(self, roots: Iterable[str]) -> None:
        """Remember local folders (``/home/alice/case-4711``) to be replaced by ``folder-<hash>``
        wherever a path starts with them; ``.``, ``/`` and the like are not.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.learn_local_roots(["/home/alice/case-4711/"])
        >>> anon.text("/home/alice/case-4711/PT1H.json").startswith("folder-")
        True
        """
        for root in roots:
            root = usable_root(str(root))
            if root is not None and root not in self._roots:
                self._roots.add(root)
                self._regex = None

    def scan(self, text: Any) -> None:
        """Learn from ``text``: the names in resource IDs, blob paths and storage URLs, MACs named as such."""
        if not isinstance(text, str):
            return
        for m in TOKEN_RE.finditer(text):
            kind, token = m.lastgroup, m.group(0)
            if kind == "mac12":
                norm = token.upper()
                if digit_mac(norm) or mac_context(text, m.start()):
                    self._macs.add(norm)
            elif kind == "path":
                self.learn_names(path_names(token.rstrip(".:")))
            elif kind == "vshort":
                self.learn_names(short_names(token.rstrip(".:"), self._vocab))
            elif kind == "url":
                self.learn_names(url_names(token.rstrip(".,;:")))

    # -- text -------------------------------------------------------------------------------
    def _pattern(self) -> re.Pattern[str]:
        if self._regex is None:
            alts = TOKEN
            words = [w for w in self._vocab if in_free_text(w)]
            if words:
                joined = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                alts = f"(?P<word>(?<![\\w.-])(?:{joined})(?![\\w-]))|" + TOKEN
            if self._roots:  # a local folder, where a path starts: before any name inside it
                joined = "|".join(re.escape(r) for r in sorted(self._roots, key=len, reverse=True))
                alts = f"(?P<local>(?<![\\w./\\\\-])(?:{joined})(?=[/\\\\]|$|[\\s,;'\"]))|" + alts
            self._regex = re.compile(alts, re.IGNORECASE)
        return self._regex

    @property
    def known(self) -> Mapping[str, str]:
        """The names learned so far (lower case) and their pseudonyms (a read-only view).

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.learn_names(["web-01"])
        >>> list(anon.known)
        ['web-01']
        """
        return MappingProxyType(self._vocab)

    def _replace(self, m: re.Match[str]) -> str:
        kind, token = m.lastgroup, m.group(0)
        if kind == "local":
            return self._claim("local", token, lambda d: "folder-" + d[:5].hex())
        if kind == "word":
            return self._vocab.get(token.lower(), token)
        if kind in ("path", "vshort", "url"):
            core = token.rstrip(".,;:") if kind == "url" else token.rstrip(".:")
            rewrite = rewrite_path if kind == "path" else rewrite_short if kind == "vshort" else rewrite_url
            return rewrite(self, core) + token[len(core):]
        if kind == "guid":
            return self.guid(token)
        if kind == "mac":
            return self.mac(token)
        if kind == "mac12":
            norm = token.upper()
            if norm in self._macs or re.search(r"[A-F]", norm) or digit_mac(norm) or mac_context(m.string, m.start()):
                return self.mac(norm)
            return token
        return self.ip(token)

    def text(self, value: str) -> str:
        """Replace every address, MAC, GUID, resource ID, storage account and known name in ``value``.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.text("no addresses here")
        'no addresses here'
        >>> anon.text("mac 002248712345") == "mac " + anon.mac("002248712345")
        True
        """
        return self._pattern().sub(self._replace, value)

    def _field(self, value: str) -> str:
        """A name field: each listed name replaced as a whole (also short ones), the rest as text."""
        parts = re.split(r"([,;]\s*)", value)
        for i in range(0, len(parts), 2):
            core = parts[i].strip()
            if core and core.lower() in self._vocab:
                parts[i] = parts[i].replace(core, self._vocab[core.lower()])
            else:
                parts[i] = self.text(parts[i])
        return "".join(parts)

    # -- structures -------------------------------------------------------------------------
    def value(self, value: Any, key: str = "") -> Any:
        """Anonymise a string, or the strings inside lists, tuples and dicts (keys included).

        Under a name key (``vm``, ``nsg``, ``rule``…, or ``key`` itself) a string is a
        name field: a listed name is replaced whatever its length.

        Examples
        --------
        >>> anon = Anonymizer("k")
        >>> anon.learn_names(["ok"])
        >>> anon.value({"vm": "ok", "verdict": "ok"}) == {"vm": anon.name("ok"), "verdict": "ok"}
        True
        """
        if isinstance(value, str):
            return self._field(value) if is_name_label(key) or is_rule_label(key) else self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v, str(k).lower()) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            items = (self.value(v, key) for v in value)
            return set(items) if isinstance(value, set) else type(value)(items)
        if isinstance(value, IP_OBJECTS):
            return type(value)(self.ip(str(value)))
        return value

    def learn_frame(self, frame: pd.DataFrame) -> None:
        """First pass over a table: names from name and rule columns (and from labels of such axes),
        MACs from MAC columns, resource IDs, paths and URLs everywhere."""
        for i, col in enumerate(frame.columns):
            label = str(col)
            self.scan(label)
            series = frame.iloc[:, i]
            if not is_text(series.dtype):
                continue
            uniques = distinct_texts(series)
            if label == "blob":  # where rows came from: the local folder in front of the Azure layout
                self.learn_local_roots(r for r in map(local_root, uniques) if r is not None)
            if is_rule_label(label):
                self.learn_names(uniques, rules=True)
            elif is_name_label(label):
                self.learn_names(uniques)
            elif is_mac_label(label):
                for v in uniques:
                    norm = re.sub(r"[-:.\s]", "", v).upper()
                    if re.fullmatch(r"[0-9A-F]{12}", norm):
                        self._macs.add(norm)
            for v in uniques:
                self.scan(v)
        for axis in (frame.columns, frame.index):
            for level, level_name in enumerate(axis.names):
                values = axis.get_level_values(level)
                if not is_text(values.dtype):
                    continue
                uniques = [v for v in pd.unique(values.astype(object)) if isinstance(v, str)]
                labels = [v for v in uniques if v not in COLUMNS and not is_name_label(v)]
                if level_name is not None and is_rule_label(level_name):
                    self.learn_names(labels, rules=True)
                elif level_name is not None and is_name_label(level_name):
                    self.learn_names(labels)
                if axis is frame.index:
                    for v in uniques:
                        self.scan(v)

    def _axis(self, axis: pd.Index) -> pd.Index:
        """Index or column labels anonymised (the labels of a name-labelled axis as name fields)."""
        levels = []
        for level, level_name in enumerate(axis.names):
            values = axis.get_level_values(level)
            if is_text(values.dtype):
                named = level_name is not None and (is_name_label(level_name) or is_rule_label(level_name))
                fn = self._field if named else self.text
                values = pd.Index(values.astype(object)).map(lambda v, fn=fn: fn(v) if isinstance(v, str) else v)
            levels.append(values)
        names = [self.text(n) if isinstance(n, str) else n for n in axis.names]
        if isinstance(axis, pd.MultiIndex):
            return pd.MultiIndex.from_arrays(levels, names=names)
        return pd.Index(levels[0], name=names[0]) if is_text(axis.dtype) else axis.rename(names[0])

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with every text cell, column and index label anonymised."""
        out = frame.copy()
        for i, col in enumerate(frame.columns):
            series = out.iloc[:, i]
            if is_text(series.dtype):
                fn = self._field if is_name_label(col) or is_rule_label(col) else self.text
                obj = series.astype(object)
                mapping = {v: fn(v) for v in distinct_texts(obj, nested=False)}
                key = str(col).lower()
                out.isetitem(i, obj.map(lambda v, key=key: mapping.get(v, v) if isinstance(v, str)
                                        else self.value(v, key) if isinstance(v, CONTAINERS + IP_OBJECTS) else v))
        out.columns = self._axis(out.columns)
        out.index = self._axis(out.index)
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
            if is_rule_label(key):
                self.learn_names([facts], rules=True)
            elif is_name_label(key):
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
