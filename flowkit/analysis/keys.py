"""Shared building blocks of the investigations: flow keys on category codes,
address classes, protocol names, times (counters: :mod:`flowkit.analysis.counting`;
copies of a tuple: :mod:`flowkit.analysis.copies`).

Everything here is vectorised: keys are built from category codes and small
integer columns, never from strings row by row.

Examples
--------
>>> import numpy as np
>>> combine_codes(np.array([0, 0, 1]), np.array([5, 5, 5])).tolist()
[0, 0, 1]
>>> protocol_number("tcp"), protocol_name(17)
(6, 'udp')
"""

from __future__ import annotations

import ipaddress
import numbers
import weakref
from typing import Any, Iterable

import numpy as np
import pandas as pd

from flowkit.addresses import canonical_ip
from flowkit.errors import ArgumentError
from flowkit.analysis.ipnet import cidr_labels, ipv4_ints, is_private_ip, network_mask, private_mask
from flowkit.analysis.ordering import sort_order, text_ranks, value_order

__all__ = [
    "flow_extent",
    "FLOW_KEY",
    "PROTOCOLS",
    "combine_codes",
    "sort_order",
    "text_ranks",
    "value_order",
    "flow_ids",
    "ip_codes",
    "is_private_ip",
    "protocol_number",
    "protocol_name",
    "join_labels",
    "COUNTER_NAMES",
    "category_codes",
    "category_mask",
    "denied_mask",
    "address_mask",
    "hour_floor",
    "epoch_ms",
    "ipv4_ints",
    "private_mask",
    "cidr_labels",
    "network_mask",
    "SESSION_NOTE",
]

#: The columns that identify one flow, whoever observed it.
FLOW_KEY = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol")

PROTOCOLS = {"tcp": 6, "udp": 17}
COUNTER_NAMES = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")
_PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}
#: Protocol words read besides ``tcp`` and ``udp`` (tables keep showing those protocols' numbers).
_PROTOCOL_WORDS = {"icmp": 1, "icmpv6": 58}

#: How to read anything built from flow tuples (shown with sessions and diagnoses).
SESSION_NOTE = (
    "Flow logs are per-minute statistics, not access logs: each tuple is a state change "
    "(B began, E ended, D denied) or a counter update (C) of one 5-tuple flow as one NIC saw it. "
    "Counters are deltas since the previous update, so totals are sums of C and E counters; "
    "times are accurate to about a minute and a flow seen by two NICs (or two NSGs) appears twice."
)

def protocol_number(value: int | str | None) -> int | None:
    """IANA number of ``tcp``/``udp``/``icmp``/``icmpv6`` (or a whole number given as text or a number).

    Raises :class:`~flowkit.errors.ArgumentError` (a ``ValueError``) for anything else:
    other text, a fraction, ``True``/``False`` (``int`` would read ``1.5`` and ``True``
    as 1, ICMP, and ``"1_7"`` as 17).

    Examples
    --------
    >>> protocol_number("UDP"), protocol_number(6), protocol_number(None), protocol_number(" 47 ")
    (17, 6, None, 47)
    >>> protocol_number("icmp"), protocol_number("ICMPv6")
    (1, 58)
    >>> protocol_number(1.5)
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: protocol: 1.5 is not tcp, udp, icmp, icmpv6 or a whole protocol number
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in PROTOCOLS:
            return PROTOCOLS[text]
        if text in _PROTOCOL_WORDS:  # ping: troubleshooting's first question
            return _PROTOCOL_WORDS[text]
        if text in ("t", "u"):
            return PROTOCOLS["tcp" if text == "t" else "udp"]
        if text.isascii() and text.isdigit():
            return int(text)
    elif isinstance(value, (bool, np.bool_)):
        pass  # True is not ICMP
    elif isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer()):
        return int(value)
    raise ArgumentError(f"protocol: {value!r} is not tcp, udp, icmp, icmpv6 or a whole protocol number")


def protocol_name(number: int) -> str:
    """``tcp``, ``udp`` or the number as text.

    Examples
    --------
    >>> protocol_name(6), protocol_name(47)
    ('tcp', '47')
    """
    return _PROTOCOL_NAMES.get(int(number), str(int(number)))


def _small_codes(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Non-negative int64 codes of ``arr`` and their range (no hashing for small integers)."""
    a = np.asarray(arr)
    if a.dtype.kind in "iub" and len(a):
        lo, hi = int(a.min()), int(a.max())
        if lo >= -1 and hi < 2**31:
            if lo < 0:  # -1 is the "missing" code of categoricals
                return a.astype(np.int64) + 1, hi + 2
            return a, hi + 1  # numpy widens to int64 when combined
    codes, uniques = pd.factorize(a)
    return codes.astype(np.int64), max(len(uniques), 1)


def combine_codes(*arrays: np.ndarray) -> np.ndarray:
    """Dense int64 ids (0..k-1, in order of first appearance) of the combined keys.

    Small integer arrays (category codes, ports, protocols) are combined
    arithmetically; the running key is re-factorised only when it could overflow,
    so ids never overflow whatever the number of arrays.

    Examples
    --------
    >>> combine_codes(np.array([1, 1, 2]), np.array([7, 8, 7])).tolist()
    [0, 1, 2]
    """
    if not arrays:
        raise ValueError("combine_codes needs at least one array")
    ids, top = _small_codes(arrays[0])
    ids = ids.astype(np.int64, copy=False)
    for arr in arrays[1:]:
        codes, width = _small_codes(arr)
        if top * width >= 2**62:
            ids, uniques = pd.factorize(ids)
            ids, top = ids.astype(np.int64), max(len(uniques), 1)
        ids = ids * np.int64(width) + codes
        top *= width
    dense, _ = pd.factorize(ids)
    return dense.astype(np.int64)


def ip_codes(flows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Codes of ``src_ip`` and ``dst_ip`` over one shared set of categories.

    Returns ``(src_codes, dst_codes, categories)``; a missing address is -1.

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"], "dst_ip": ["198.51.100.2"]}))
    >>> s, d, cats = ip_codes(f)
    >>> cats[s[0]], cats[d[0]]
    ('192.0.2.1', '198.51.100.2')
    """
    src, dst = flows["src_ip"], flows["dst_ip"]
    if (isinstance(src.dtype, pd.CategoricalDtype) and isinstance(dst.dtype, pd.CategoricalDtype)
            and src.cat.categories.equals(dst.cat.categories)):
        return (src.cat.codes.to_numpy(np.int64), dst.cat.codes.to_numpy(np.int64),
                pd.Index(src.cat.categories.astype(str)))
    values = pd.Index(pd.unique(pd.concat([src.astype("object"), dst.astype("object")])
                                .dropna().astype(str)))
    s = pd.Categorical(src.astype("object"), categories=values).codes.astype(np.int64)
    d = pd.Categorical(dst.astype("object"), categories=values).codes.astype(np.int64)
    return s, d, values


def flow_ids(flows: pd.DataFrame) -> np.ndarray:
    """Dense id of each row's flow key (src_ip, src_port, dst_ip, dst_port, protocol).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"src_ip": ["192.0.2.1"] * 3, "dst_ip": ["198.51.100.2"] * 3,
    ...                          "src_port": [1000, 1000, 1001], "dst_port": [443] * 3}))
    >>> flow_ids(f).tolist()
    [0, 0, 1]
    """
    src, dst, _ = ip_codes(flows)
    return combine_codes(src, dst, flows["src_port"].to_numpy(), flows["dst_port"].to_numpy(),
                         flows["protocol"].to_numpy())


def category_codes(series: pd.Series, values: Iterable[str] | str | None) -> np.ndarray:
    """Codes in ``series``'s categories of the given values (unknown values are left out).

    Examples
    --------
    >>> s = pd.Series(pd.Categorical(["allow", "deny"], categories=["allow", "deny"]))
    >>> category_codes(s, "deny").tolist()
    [1]
    """
    if values is None:
        return np.array([], dtype=np.int64)
    if isinstance(values, str):
        values = [values]
    cats = series.cat.categories
    idx = cats.get_indexer(pd.Index(list(values), dtype=cats.dtype if len(cats) else object))
    return idx[idx >= 0].astype(np.int64)


def category_mask(series: pd.Series, values: Iterable[str] | str) -> np.ndarray:
    """Boolean mask of rows whose categorical value is one of ``values`` (compares codes).

    Examples
    --------
    >>> s = pd.Series(pd.Categorical(["allow", "deny", None], categories=["allow", "deny"]))
    >>> category_mask(s, ["deny"]).tolist()
    [False, True, False]
    """
    if not isinstance(series.dtype, pd.CategoricalDtype):
        if isinstance(values, str):
            values = [values]
        return series.isin(list(values)).to_numpy()
    wanted = category_codes(series, values)
    codes = series.cat.codes.to_numpy()
    if len(wanted) == 1:
        return codes == wanted[0]
    # A lookup table indexed by code (the last slot answers for missing, code -1).
    table = np.zeros(len(series.cat.categories) + 1, dtype=bool)
    table[wanted] = True
    return table[codes]


_IPV4_CACHE: dict[int, tuple[Any, np.ndarray, np.ndarray]] = {}


def _ipv4_ints(categories: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """IPv4 categories as uint32 (and which are IPv4), computed once per categories object.

    The filter panel asks again on every change with the same categories, so the
    answer is cached (keyed by object identity, checked with a weak reference).
    """
    key = id(categories)
    hit = _IPV4_CACHE.get(key)
    if hit is not None and hit[0]() is categories:
        return hit[1], hit[2]
    ints = np.zeros(len(categories), dtype=np.uint32)
    is_v4 = np.zeros(len(categories), dtype=bool)
    for i, text in enumerate(categories.astype(str)):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip.version == 4:
            ints[i], is_v4[i] = int(ip), True
    if len(_IPV4_CACHE) > 16:
        _IPV4_CACHE.clear()
    try:
        _IPV4_CACHE[key] = (weakref.ref(categories), ints, is_v4)
    except TypeError:  # not weak-referenceable: just do not cache
        pass
    return ints, is_v4


def _network_of(spec: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(spec.strip(), strict=False)


def _ipv4_mapped(cats: pd.Index, is_v4: np.ndarray) -> dict[int, ipaddress.IPv4Address]:
    """The IPv4 address of each IPv4-mapped IPv6 category (``::ffff:10.0.0.4``), by position."""
    out = {}
    for i in np.flatnonzero(~is_v4):
        text = cats[i]
        if "." in text and ":" in text:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            if ip.version == 6 and ip.ipv4_mapped is not None:
                out[int(i)] = ip.ipv4_mapped
    return out


def denied_mask(flows: pd.DataFrame) -> np.ndarray:
    """Rows whose packets were dropped: denied by a rule (``decision`` deny), ending denied
    (``state`` D), or in an encryption state whose packets are dropped
    (:data:`flowkit.schema.ENCRYPTION_DROPS`; also in a frame read or converted before the
    reader called those deny).

    Examples
    --------
    >>> from flowkit.schema import coerce
    >>> f = coerce(pd.DataFrame({"decision": ["deny", "allow", "allow", "allow"], "state": ["B", "D", "B", "B"],
    ...                          "encryption": ["NX", "NX", "NX_SW_NOT_READY", "X"]}))
    >>> denied_mask(f).tolist()
    [True, True, True, False]
    """
    from flowkit.schema import ENCRYPTION_DROPS

    deny = category_mask(flows["decision"], "deny") | category_mask(flows["state"], "D")
    if "encryption" in flows.columns:
        deny |= category_mask(flows["encryption"], ENCRYPTION_DROPS)
    return deny


def address_mask(series: pd.Series, spec: str | Iterable[str]) -> np.ndarray:
    """Rows whose address equals one of the IPs or lies in one of the CIDRs of ``spec``.

    Works on the categories (one check per distinct address), then on codes. An
    IPv4-mapped IPv6 address (``::ffff:10.0.0.4``) lies in an IPv4 CIDR that holds its IPv4
    address, as :func:`network_mask` and :func:`is_private_ip` read it; an address given
    alone matches its own spelling only.

    Examples
    --------
    >>> s = pd.Series(pd.Categorical(["10.0.0.4", "10.0.1.4", "192.0.2.1"]))
    >>> address_mask(s, "10.0.0.0/16").tolist()
    [True, True, False]
    """
    specs = [spec] if isinstance(spec, str) else list(spec)
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    cats = series.cat.categories.astype(str)
    keep = np.zeros(len(cats), dtype=bool)
    nets = []
    for s in specs:
        text = str(s).strip()
        if "/" in text:
            nets.append(_network_of(text))
        else:
            keep |= np.asarray(cats == canonical_ip(text))  # the spelling the reader keeps
    if nets:
        v4_int, is_v4 = _ipv4_ints(series.cat.categories)
        mapped = _ipv4_mapped(cats, is_v4) if any(net.version == 4 for net in nets) else {}
        for net in nets:
            if net.version == 4:  # one vectorised test over every IPv4 category
                mask = int(net.netmask)
                keep |= is_v4 & ((v4_int & np.uint32(mask)) == np.uint32(int(net.network_address)))
                for i, ip in mapped.items():
                    keep[i] |= ip in net
            else:
                for i in np.flatnonzero(~is_v4 & ~keep):
                    try:
                        ip = ipaddress.ip_address(cats[i])
                    except ValueError:
                        continue
                    keep[i] = ip.version == 6 and ip in net
    codes = series.cat.codes.to_numpy()
    return np.where(codes >= 0, keep[np.clip(codes, 0, None)] if len(keep) else False, False)


def hour_floor(times: pd.Series) -> pd.Series:
    """Timestamps floored to the hour (the blob an Azure tuple lands in).

    Examples
    --------
    >>> hour_floor(pd.Series(pd.to_datetime(["2024-05-01T10:59:58Z"]))).iloc[0]
    Timestamp('2024-05-01 10:00:00+0000', tz='UTC')
    """
    return times.dt.floor("h")


def epoch_ms(times: pd.Series) -> np.ndarray:
    """Milliseconds since the epoch (int64) of a UTC timestamp column; NaT becomes int64 min.

    Examples
    --------
    >>> epoch_ms(pd.Series(pd.to_datetime(["1970-01-01T00:00:01Z"]))).tolist()
    [1000]
    """
    values = times
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = pd.to_datetime(values, utc=True)
    return np.asarray(values.astype("datetime64[ms, UTC]").array.asi8, dtype=np.int64)


def flow_extent(fid: np.ndarray, times_ms: np.ndarray, n_flows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per flow id: first time, last time (epoch ms) and the index of its first row.

    Examples
    --------
    >>> first, last, row = flow_extent(np.array([1, 0, 1]), np.array([30, 10, 20]), 2)
    >>> first.tolist(), last.tolist(), row.tolist()
    ([10, 20], [10, 30], [1, 0])
    """
    first = np.full(n_flows, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n_flows, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, fid, times_ms)
    np.maximum.at(last, fid, times_ms)
    first_row = np.full(n_flows, len(fid), dtype=np.int64)
    np.minimum.at(first_row, fid, np.arange(len(fid)))
    return first, last, first_row


def join_labels(edge: np.ndarray, values: np.ndarray, n_edges: int, limit: int = 20,
                     *, names: np.ndarray | None = None) -> np.ndarray:
    """Sorted distinct ``values`` (small non-negative ints) per group, as comma-separated text.

    ``edge`` holds each row's group id (0..n_edges-1); at most ``limit`` values are
    listed, then ``…(+n)``.

    Numbers sort numerically, ``names[value]`` alphabetically. Deduplicated by counting
    (or hashing) one int64 key and joined with ``np.add.reduceat``: no Python loop over
    edges except for the few with more than ``limit`` values.

    Examples
    --------
    >>> join_labels(np.array([0, 0, 1, 0]), np.array([443, 22, 80, 22]), 2).tolist()
    ['22,443', '80']
    >>> join_labels(np.array([0, 0]), np.array([1, 0]), 1, names=np.array(["b", "a"], dtype=object)).tolist()
    ['a,b']
    """
    out = np.full(n_edges, "", dtype=object)
    if len(edge) == 0:
        return out
    width = int(values.max()) + 1
    if names is None:
        labels = np.arange(width).astype(str).astype(object)
        ranked = values
    else:
        names = np.asarray(names, dtype=object)[:width]
        order = np.argsort(names.astype(str), kind="stable")
        rank = np.empty(width, dtype=np.int64)
        rank[order] = np.arange(width)
        labels = names[order]
        ranked = rank[values]
    key = np.asarray(edge, dtype=np.int64) * np.int64(width) + ranked
    if n_edges * width <= 50_000_000:
        keys = np.flatnonzero(np.bincount(key, minlength=n_edges * width))  # by edge, then rank
    else:
        keys = np.sort(pd.unique(key))
    e, r = keys // width, keys % width
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    counts = np.diff(np.r_[starts, len(e)])
    single = counts == 1  # most groups: one value, no joining
    out[e[starts[single]]] = labels[r[starts[single]]]
    pair = counts == 2  # the next most common (a flow seen at both ends): one vectorised join
    if pair.any():
        first_of = starts[pair]
        out[e[first_of]] = labels[r[first_of]] + "," + labels[r[first_of + 1]]
    rank_in_edge = np.arange(len(e)) - np.repeat(starts, counts)
    keep = (rank_in_edge < limit) & np.repeat(counts > 2, counts)
    if keep.any():
        kept_e = e[keep]
        kept_starts = np.flatnonzero(np.r_[True, kept_e[1:] != kept_e[:-1]])
        joined = np.add.reduceat(labels[r[keep]] + ",", kept_starts)
        out[kept_e[kept_starts]] = [text[:-1] for text in joined.tolist()]
    for i in np.flatnonzero(counts > limit):
        out[e[starts[i]]] += f",…(+{counts[i] - limit})"
    return out
