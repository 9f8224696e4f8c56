"""The key table of the NSG vs VNet reconciliation: per flow key, what each log saw and why they differ.

Both logs' rows get one dense id per flow key (src_ip, src_port, dst_ip, dst_port,
protocol) over a shared set of address codes; every per-key figure is then a
``bincount`` or a ``ufunc.at`` over those ids, for each log inside the window and
outside it. No join of the two logs is needed: a key's class follows from which
log has tuples of it inside the window.

Examples
--------
>>> import pandas as pd
>>> from flowkit.schema import coerce
>>> rows = [dict(src_ip="10.10.1.4", dst_ip="10.10.2.4", src_port=50000, dst_port=443, protocol=6,
...              flow_time="2024-05-01T10:00Z", mac="000D3A000101", decision="allow", state="B", log_type=t)
...         for t in ("nsg", "vnet")]
>>> f = coerce(pd.DataFrame(rows))
>>> w = (pd.Timestamp("2024-05-01T10:00Z"), pd.Timestamp("2024-05-01T11:00Z"))
>>> hours = {("000D3A000101", 475176)}
>>> key_table(f[f.log_type == "nsg"], f[f.log_type == "vnet"], w, nsg_hours=hours, vnet_hours=hours)[
...     ["src_port", "class", "causes"]].to_dict("records")
[{'src_port': 50000, 'class': 'matched', 'causes': ''}]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from flowkit.analysis.compare_summary import CLASSES
from flowkit.analysis.counting import counted_values, flow_counters, unrecorded_rows
from flowkit.analysis.keys import FLOW_KEY, category_mask, denied_mask, combine_codes, epoch_ms, join_labels
from flowkit.filters import filter_mask
from flowkit.schema import ENCRYPTION_DROPS, is_security_admin_rule
from flowkit.sources.times import unitless_duration

__all__ = ["key_table", "is_avnm_rule", "skew_delta", "KEY_COLUMNS", "DEFAULT_MAX_SKEW"]

#: How far apart the two logs' clocks may be (``compare_nsg_vnet``'s ``max_skew``, ``flowkit compare --max-skew``).
DEFAULT_MAX_SKEW = "2min"


def skew_delta(max_skew: Any) -> pd.Timedelta:
    """``max_skew`` as a :class:`pandas.Timedelta`, refused when it cannot be what the user meant.

    A number without a unit (``120``, ``"120"``) is refused: pandas reads it as nanoseconds, which
    tolerates no skew at all. So is a negative duration, or text that is no duration. Refused with
    :class:`~flowkit.errors.ArgumentError` (a ``ValueError``), as every other argument of the API.

    Examples
    --------
    >>> skew_delta("2min"), skew_delta(0)
    (Timedelta('0 days 00:02:00'), Timedelta('0 days 00:00:00'))
    >>> skew_delta("120")
    Traceback (most recent call last):
    ...
    flowkit.errors.ArgumentError: max_skew '120' has no unit (pandas would read it as 120 nanoseconds): give e.g. '2min' or '90s'
    """
    from flowkit.errors import ArgumentError

    if unitless_duration(max_skew):
        raise ArgumentError(f"max_skew {max_skew!r} has no unit (pandas would read it as {max_skew} nanoseconds): "
                            "give e.g. '2min' or '90s'")
    try:
        delta = pd.Timedelta(max_skew)
    except (ValueError, TypeError, OverflowError):
        raise ArgumentError(f"max_skew {max_skew!r} is not a duration: give e.g. '2min' or '90s'") from None
    if pd.isna(delta) or delta < pd.Timedelta(0):
        raise ArgumentError(f"max_skew {max_skew!r} is not a duration of 0 or more: give e.g. '2min' or '90s'")
    return delta

_COUNTERS = ("packets_sent", "bytes_sent", "packets_received", "bytes_received")

#: Per-log columns of the key table and their dtypes (missing where that log did not see the key).
SIDE_COLUMNS = {
    "first": "Int64", "last": "Int64", "tuples": "Int64", "deny": "boolean", "enc_drop": "boolean",
    "avnm": "boolean", "macs": "str", "rules": "str", "nsgs": "Int64", "decision": "str", "known": "boolean",
    **{k: "float64" for k in _COUNTERS}, "mac_other": "boolean", "hour_gap": "boolean",
}
#: The columns of the key table, in order.
KEY_COLUMNS = (*FLOW_KEY, "class", *(f"{side}_{c}" for side in ("nsg", "vnet") for c in SIDE_COLUMNS),
               "decision_mismatch", "counter_mismatch", "causes", "cause")
#: What an outside-window key keeps of each log (its tuples outside the window).
_OUTSIDE = ("first", "last", "tuples", "macs")


def is_avnm_rule(rule: Any) -> bool:
    """True for an Azure Virtual Network Manager security admin rule name.

    An NSG rule is named ``DefaultRule_*`` or ``UserRule_*`` in both kinds of flow log, and a
    flow dropped for encryption has the rule ``unspecified``; any other rule name is a security
    admin rule. Microsoft's documents show those both bare (``BlockHighRiskTCPPortsFromInternet``,
    ``Internet``) and with a GUID suffix (``Internet_4b9ac3d8-…``); both count.

    Examples
    --------
    >>> is_avnm_rule("DenyHighRiskPorts_d04abb96-1c5e-4f5e-9b7a-3c2e8f0e0a11"), is_avnm_rule("Internet")
    (True, True)
    >>> is_avnm_rule("UserRule_x"), is_avnm_rule("unspecified"), is_avnm_rule(None)
    (False, False, False)
    """
    return is_security_admin_rule(rule)


def _categorical(series: pd.Series) -> pd.Series:
    return series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")


def _per_category(series: pd.Series, test: Any) -> np.ndarray:
    """Per row: ``test(value)`` for its category (False where missing), evaluated once per category."""
    series = _categorical(series)
    table = np.array([bool(test(c)) for c in series.cat.categories] + [False], dtype=bool)
    codes = series.cat.codes.to_numpy()
    return table[np.where(codes >= 0, codes, len(table) - 1)]


class _KeySpace:
    """One dense id per flow key over the rows of both logs, and each key's values."""

    def __init__(self, nsg: pd.DataFrame, vnet: pd.DataFrame) -> None:
        frames = (nsg, vnet)
        columns = [_categorical(f[c]) for f in frames for c in ("src_ip", "dst_ip")]
        names = pd.Index(pd.unique(np.concatenate(
            [np.asarray(c.cat.categories.astype(str), dtype=object) for c in columns] or [np.array([], object)])))
        codes = []
        for col in columns:  # each column's codes, mapped onto the shared names
            mapping = np.append(names.get_indexer(col.cat.categories.astype(str)), -1).astype(np.int64)
            raw = col.cat.codes.to_numpy(np.int64)
            codes.append(mapping[np.where(raw >= 0, raw, len(mapping) - 1)])
        src = np.concatenate([codes[0], codes[2]])
        dst = np.concatenate([codes[1], codes[3]])
        ints = {c: np.concatenate([f[c].to_numpy(np.int64) for f in frames])
                for c in ("src_port", "dst_port", "protocol")}
        self.n_nsg = len(nsg)
        kid = combine_codes(src, dst, ints["src_port"], ints["dst_port"], ints["protocol"]) if len(src) \
            else np.zeros(0, dtype=np.int64)
        self.n = int(kid.max()) + 1 if len(kid) else 0
        self.nsg, self.vnet = kid[:self.n_nsg], kid[self.n_nsg:]
        # Ids are numbered in order of first appearance: a row is a key's first where the id exceeds all before it.
        running = np.maximum.accumulate(kid) if len(kid) else kid
        first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]]) if len(kid) else kid
        self.names = np.asarray(names, dtype=object)
        self.src, self.dst = src[first], dst[first]
        self.ports = {c: v[first] for c, v in ints.items()}

    def order(self, keys: np.ndarray) -> np.ndarray:
        """``keys`` sorted by (src_ip text, src_port, dst_ip text, dst_port, protocol); missing last."""
        rank = np.empty(len(self.names) + 1, dtype=np.int64)
        rank[np.argsort(self.names.astype(str), kind="stable")] = np.arange(len(self.names))
        rank[-1] = len(self.names)
        s, d = rank[self.src[keys]], rank[self.dst[keys]]
        return keys[np.lexsort((self.ports["protocol"][keys], self.ports["dst_port"][keys], d,
                                self.ports["src_port"][keys], s))]


def _any(kid: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(kid[mask], minlength=n) > 0


def _labels(kid: np.ndarray, series: pd.Series, n: int) -> np.ndarray:
    series = _categorical(series)
    codes = series.cat.codes.to_numpy(np.int64)
    ok = codes >= 0
    return join_labels(kid[ok], codes[ok], n, 10,
                       names=np.asarray(series.cat.categories.astype(str), dtype=object))


def _extent(kid: np.ndarray, times: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, kid, times)
    np.maximum.at(last, kid, times)
    return first, last


def _side(frame: pd.DataFrame, kid: np.ndarray, n: int, prefix: str, common_macs: set[str],
          other_hours: set[tuple[str, int]]) -> dict[str, np.ndarray]:
    """Per key (all ``n``): what one log's rows (inside the window) say; ``tuples`` 0 where none."""
    t = epoch_ms(frame["flow_time"])
    mac = _categorical(frame["mac"])
    at_common = _per_category(mac, lambda m: str(m) in common_macs)
    other_macs = {m for m, _ in other_hours}
    mac_other = _per_category(mac, lambda m: str(m) in other_macs)
    # Is each row's (MAC, hour) logged by the other side? Checked once per distinct pair.
    mac_codes = mac.cat.codes.to_numpy(np.int64)
    mac_names = np.asarray(mac.cat.categories.astype(str), dtype=object)
    pid, pairs = pd.factorize((mac_codes + 1) * np.int64(1 << 32) + t // 3_600_000)
    covered = np.array([(mac_names[p // (1 << 32) - 1], int(p % (1 << 32))) in other_hours
                        if p // (1 << 32) > 0 else False for p in pairs.tolist()], dtype=bool)
    deny = denied_mask(frame)
    first, last = _extent(kid, t, n)
    common = _any(kid, at_common, n)
    nsgs = np.zeros(n, dtype=np.int64)
    if prefix == "nsg" and len(frame):  # a key logged by several NSGs at one NIC (subnet and NIC NSG)
        res = _categorical(frame["resource_id"]).cat.codes.to_numpy(np.int64) + 1
        width = np.int64(int(res.max()) + 1)
        combos = pd.unique((kid * np.int64(len(mac_names) + 1) + mac_codes + 1) * width + res)
        per_nic = pd.Series(combos // width).value_counts()
        np.maximum.at(nsgs, per_nic.index.to_numpy() // (len(mac_names) + 1), per_nic.to_numpy())
    known, values = counted_values(frame)
    uncounted = unrecorded_rows(frame, known, values)
    return {
        "first": first, "last": last, "tuples": np.bincount(kid, minlength=n),
        "deny": _any(kid, deny, n), "enc_drop": _any(kid, category_mask(frame["encryption"], ENCRYPTION_DROPS), n),
        "avnm": _any(kid, _per_category(frame["rule"], is_avnm_rule), n),
        "macs": _labels(kid, mac, n), "rules": _labels(kid, frame["rule"], n), "nsgs": nsgs,
        "decision": np.where(common, _any(kid, deny & at_common, n), _any(kid, deny, n)),  # True: deny
        "known": _any(kid, known, n), **flow_counters(frame, kid, n),
        "mac_other": _any(kid, mac_other, n), "hour_gap": _any(kid, mac_other & ~covered[pid], n),
        # every counted row of the key is NSG inbound TCP allowed by a user rule, counters 0 (not recorded)
        "uncounted": _any(kid, uncounted, n) & ~_any(kid, known & ~uncounted, n),
        "began": _any(kid, category_mask(frame["state"], "B"), n),
    }


def _outside(frame: pd.DataFrame, kid: np.ndarray, n: int) -> dict[str, np.ndarray]:
    t = epoch_ms(frame["flow_time"])
    first, last = _extent(kid, t, n)
    return {"first": first, "last": last, "tuples": np.bincount(kid, minlength=n),
            "macs": _labels(kid, frame["mac"], n)}


#: The per-key figures the causes read (``uncounted`` and ``began`` only, no column of the key table).
_FOR_CAUSES = ("first", "last", "tuples", "enc_drop", "avnm", "nsgs", "decision", "known", *_COUNTERS, "mac_other",
               "hour_gap", "uncounted", "began")


def _text(codes: np.ndarray, names: Any) -> Any:
    """A text column (pandas ``str``) of ``names[code]``, missing where the code is negative."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    text = pa.DictionaryArray.from_arrays(indices, pa.array(list(names), type=pa.string())).cast(pa.string())
    return pd.array(text, dtype="str")


def _column(values: np.ndarray, seen: np.ndarray, dtype: str) -> Any:
    """A key-table column: ``values`` where the log saw the key, missing elsewhere."""
    if dtype == "str":
        return pd.array(pa.array(values, type=pa.string(), mask=~seen), dtype="str")
    if dtype == "float64":
        return np.where(seen, values, np.nan)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(values.astype(bool), ~seen)
    return pd.arrays.IntegerArray(np.where(seen, values, 0).astype(np.int64), ~seen)


def _span(kid: np.ndarray, frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key: whether ``frame`` has it at all, and its first and last time there."""
    first, last = _extent(kid, epoch_ms(frame["flow_time"]), n)
    return np.bincount(kid, minlength=n) > 0, first, last


def key_table(nsg_all: pd.DataFrame, vnet_all: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], *,
              nsg_hours: set[tuple[str, int]], vnet_hours: set[tuple[str, int]],
              max_skew: str | pd.Timedelta = DEFAULT_MAX_SKEW) -> pd.DataFrame:
    """One row per flow key: its class, what each log saw of it, and its causes.

    Every tuple of a key must be in ``nsg_all``/``vnet_all`` (inside and outside
    the window); other keys may be absent, so a frame split by key (as the Dask
    engine shuffles it) gives, part by part, the rows of the whole.

    Parameters
    ----------
    nsg_all, vnet_all : pandas.DataFrame
        The NSG rows and the VNet rows.
    window : (Timestamp, Timestamp)
        The compared window (:func:`flowkit.analysis.compare.common_window`).
    nsg_hours, vnet_hours : set of (str, int)
        :func:`flowkit.analysis.compare.mac_hours` of *all* NSG and VNet rows
        inside the window: which NICs and hours each log covers.
    max_skew : str or Timedelta
        As for :func:`flowkit.analysis.compare.compare_nsg_vnet`.

    Returns
    -------
    pandas.DataFrame
        :data:`KEY_COLUMNS`: the keys seen inside the window, then those seen only
        outside it (``outside-window``), each part in key order (addresses as text).

    Examples
    --------
    >>> from flowkit.schema import empty_frame
    >>> w = (pd.Timestamp("2024-05-01T10:00Z"), pd.Timestamp("2024-05-01T11:00Z"))
    >>> len(key_table(empty_frame(), empty_frame(), w, nsg_hours=set(), vnet_hours=set()))
    0
    """
    lo, hi = window
    skew_ms = int(skew_delta(max_skew) / pd.Timedelta("1ms"))
    space = _KeySpace(nsg_all, vnet_all)
    n = space.n
    common = {m for m, _ in nsg_hours} & {m for m, _ in vnet_hours}
    sides, outside, spans = {}, {}, {}
    for name, frame, kid, other in (("nsg", nsg_all, space.nsg, vnet_hours),
                                    ("vnet", vnet_all, space.vnet, nsg_hours)):
        inside = filter_mask(frame, start=lo, end=hi)
        sides[name] = _side(frame.loc[inside], kid[inside], n, name, common, other)
        outside[name] = _outside(frame.loc[~inside], kid[~inside], n)
        spans[name] = _span(kid, frame, n)
    ended = category_mask(vnet_all["state"], "E")  # per key, the VNet log's last end (E) tuple, in or out
    vnet_end = _extent(space.vnet[ended], epoch_ms(vnet_all["flow_time"].loc[ended]), n)[1]
    in_nsg, in_vnet = sides["nsg"]["tuples"] > 0, sides["vnet"]["tuples"] > 0
    out_only = ~in_nsg & ~in_vnet & ((outside["nsg"]["tuples"] > 0) | (outside["vnet"]["tuples"] > 0))
    keys = np.concatenate([space.order(np.flatnonzero(in_nsg | in_vnet)), space.order(np.flatnonzero(out_only))])
    klass = np.select([in_nsg[keys] & in_vnet[keys], in_nsg[keys], in_vnet[keys]], [0, 1, 2], 3).astype(np.int8)
    is_out = klass == 3
    protocol = space.ports["protocol"][keys]
    out_nsg, out_vnet = outside["nsg"]["tuples"][keys] > 0, outside["vnet"]["tuples"][keys] > 0
    flags = _causes(klass, {side: {name: values[keys] for name, values in sides[side].items() if name in _FOR_CAUSES}
                            for side in sides}, spans, keys, protocol, skew_ms, out_nsg, out_vnet,
                   vnet_end[keys])
    columns: dict[str, Any] = {
        "src_ip": _text(space.src[keys], space.names), "src_port": space.ports["src_port"][keys],
        "dst_ip": _text(space.dst[keys], space.names), "dst_port": space.ports["dst_port"][keys],
        "protocol": protocol, "class": _text(klass, CLASSES)}
    del space
    for side in ("nsg", "vnet"):
        seen = sides[side]["tuples"][keys] > 0
        seen_out = is_out & (outside[side]["tuples"][keys] > 0)
        for name, dtype in SIDE_COLUMNS.items():
            values = sides[side].pop(name)[keys]  # each per-key array is freed once placed
            if name == "decision":
                columns[f"{side}_{name}"] = _text(np.where(seen, values.astype(np.int8), -1), ("allow", "deny"))
                continue
            if name in _OUTSIDE and is_out.any():  # outside-window keys: what this log saw outside
                values[is_out] = outside[side][name][keys[is_out]]
            columns[f"{side}_{name}"] = _column(values, seen | seen_out if name in _OUTSIDE else seen, dtype)
            del values
    columns.update(flags)
    return pd.DataFrame(columns, columns=list(KEY_COLUMNS))


#: Main causes, by number (0: none), and each with the subnet-and-NIC-NSG remark added.
_MAIN = ("", "encryption-drop", "avnm-rule", "unexplained", "nsg-v2-counts-tcp-only", "clock-skew",
         "mac-not-logged", "hour-not-logged", "outside-window", "window-edge", "nsg-inbound-tcp-not-counted")
_CAUSES_TEXT = np.array(list(_MAIN) + [f"{m},subnet-and-nic-nsg" if m else "subnet-and-nic-nsg" for m in _MAIN],
                        dtype=object)
_CAUSE_TEXT = np.array([m or None for m in _MAIN] + [m or "subnet-and-nic-nsg" for m in _MAIN], dtype=object)


def _causes(klass: np.ndarray, picked: dict[str, dict[str, np.ndarray]],
            spans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], keys: np.ndarray,
            protocol: np.ndarray, skew_ms: int, out_nsg: np.ndarray, out_vnet: np.ndarray,
            vnet_end: np.ndarray) -> dict[str, Any]:
    """The mismatch flags and the causes (comma-separated, the main one first) of each key.

    A key seen only outside the window is ``outside-window`` when both logs have it there
    (a start/end narrower than the logs), else ``hour-not-logged`` (one log did not write
    those hours, as when NSG flow logs were switched off). A matched TCP key whose counters
    differ is ``nsg-inbound-tcp-not-counted`` when every counted NSG tuple of it is inbound,
    allowed by a user-defined rule and all zero (NSG flow logs record no counters for such
    flows), else ``hour-not-logged`` when one log has tuples of it in an hour the other did not
    write for that NIC, else ``window-edge`` when it also has tuples outside the window
    (``out_nsg`` or ``out_vnet``): the two logs' tuples are cut at the window's edges at different moments.
    An NSG-only key is ``nsg-inbound-tcp-not-counted`` too when the VNet log ended the flow (its
    last E tuple, ``vnet_end``) before the NSG's first tuple in the window and the NSG's tuples
    are all such zero C/E tuples: the NSG did not terminate the flow and kept logging it.
    """
    nsg, vnet = picked["nsg"], picked["vnet"]
    matched, nsg_only, vnet_only = klass == 0, klass == 1, klass == 2
    decision_mm = matched & (nsg["decision"] != vnet["decision"])
    diff = np.zeros(len(keys), dtype=bool)
    for k in _COUNTERS:
        diff |= nsg[k] != vnet[k]
    counter_mm = matched & nsg["known"] & vnet["known"] & diff & ~decision_mm
    enc_drop = vnet["enc_drop"] & (vnet["tuples"] > 0)
    avnm = vnet["avnm"] & vnet["decision"] & (vnet["tuples"] > 0)
    tcp = np.asarray(protocol) == 6

    def near(own: dict[str, np.ndarray], other: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        has, first, last = (a[keys] for a in other)
        return has & (first <= own["last"] + skew_ms) & (last >= own["first"] - skew_ms)

    skew_nsg = nsg_only & near(nsg, spans["vnet"])
    skew_vnet = vnet_only & near(vnet, spans["nsg"])
    # The NSG keeps logging (zero C tuples, no B) a flow it did not terminate after the VNet log's E tuple.
    # It comes after clock-skew, mac-not-logged and hour-not-logged: a NIC or an hour the VNet log does
    # not cover stays the gap it is (and blocks the migration).
    not_ended = nsg_only & nsg["uncounted"] & ~nsg["began"] & (vnet_end > np.iinfo(np.int64).min) \
        & (vnet_end <= nsg["first"])
    enc, avn, une, tcp_only, skew, mac, hour, out, edge, uncounted = range(1, 11)
    # NSG counters that were never recorded (every counted NSG tuple of the key is inbound TCP allowed
    # by a user rule, with zero counters) come before hour-not-logged and window-edge: those explain
    # sums cut short by an hour or an edge, but these NSG sums are 0 whatever the hours or the window,
    # so the zero NSG counters are what differs. (Non-TCP keys are nsg-v2-counts-tcp-only: no overlap.)
    main = np.select(
        [matched & decision_mm & enc_drop, matched & decision_mm & avnm, matched & decision_mm,
         matched & counter_mm & ~tcp, matched & counter_mm & nsg["uncounted"],
         matched & counter_mm & (nsg["hour_gap"] | vnet["hour_gap"]),
         matched & counter_mm & (out_nsg | out_vnet), matched & counter_mm,
         nsg_only & skew_nsg, nsg_only & ~nsg["mac_other"], nsg_only & nsg["hour_gap"], not_ended, nsg_only,
         vnet_only & avnm, vnet_only & enc_drop, vnet_only & skew_vnet, vnet_only & ~vnet["mac_other"],
         vnet_only & vnet["hour_gap"], vnet_only,
         (klass == 3) & out_nsg & out_vnet, klass == 3],
        [enc, avn, une, tcp_only, uncounted, hour, edge, une, skew, mac, hour, uncounted, une, avn, enc, skew, mac,
         hour, une, out, hour],
        default=0)
    index = main + len(_MAIN) * ((klass != 3) & (nsg["nsgs"] >= 2))
    return {"decision_mismatch": decision_mm, "counter_mismatch": counter_mm,
            # object columns: ``cause`` is None where there is none
            "causes": pd.Series(_CAUSES_TEXT[index], dtype=object),
            "cause": pd.Series(_CAUSE_TEXT[index], dtype=object)}
