"""The polars peer: ``read_ndjson`` + explode + ``str.split_exact`` + casts, then ``to_pandas``.

Choices (what a competent polars user would write):

* **Reading.** Azure writes each blob as one compact JSON object ``{"records":[...]}``
  on one line, so a list of blobs *is* NDJSON with one line per blob:
  ``pl.read_ndjson(files, schema=..., include_file_paths="blob")`` reads them all in
  one multi-threaded call and records the path of each. ``pl.read_json`` would need
  one call per file plus a concat (it takes one source); if the multi-file call fails
  (a pretty-printed blob spans several lines) we fall back to exactly that.
* **Schema.** Given explicitly (no inference pass), covering both nestings:
  VNet ``flowRecords.flows[].flowGroups[].flowTuples[]`` and NSG
  ``properties.flows[].flows[].flowTuples[]``. Unknown fields are ignored.
* **Flattening.** Lazy frame: explode ``records``, ``unnest``; record-level values
  (record time parsed once per record, MAC normalised) are computed *before* the
  tuple explode; then explode ACLs -> groups -> tuples (VNet) or rules -> groups ->
  tuples (NSG), each branch filtered by which struct is present, then ``concat``.
* **Tuples.** ``str.split_exact(",", 12)`` into 13 fields (NSG v1's missing
  fields come out null), then strict casts: ports ``UInt16``, protocol ``UInt8``
  (NSG ``T``/``U`` through ``replace_strict``), counters ``UInt32``/``UInt64`` with
  empty strings (NSG v2 ``B`` tuples) as null. Timestamps: seconds vs milliseconds
  decided by magnitude, then ``Datetime("ms", "UTC")``.
* **Categoricals.** Closed columns are ``pl.Enum`` with the canonical values
  (an unknown ``NX_*`` encryption value is an error, not a new category); open ones
  ``pl.Categorical``. ``to_pandas`` maps counters to pandas ``UInt32``/``UInt64``.
  :func:`readers._common.finish` then shares the address categories and makes the
  closed categoricals unordered (``pl.Enum`` exports as ordered).

Examples
--------
>>> frame = read("data-samples/connectivity")  # doctest: +SKIP
>>> frame["encryption"].dtype.categories[0]  # doctest: +SKIP
'X'
"""

from __future__ import annotations

import os
from typing import Iterable

import pandas as pd
import polars as pl
import pyarrow as pa

from flowkit.schema import COLUMNS, DECISIONS, DIRECTIONS, ENCRYPTION_DROPS, ENCRYPTION_STATES, LOG_TYPES, STATES

from readers._common import finish, list_blobs

__all__ = ["read", "SCHEMA"]

_TUPLES = pl.List(pl.String)
_RECORD = pl.Struct({
    "time": pl.String, "macAddress": pl.String, "category": pl.String,
    "resourceId": pl.String, "flowLogVersion": pl.Int64, "flowLogResourceID": pl.String,
    "targetResourceID": pl.String,
    "properties": pl.Struct({
        "Version": pl.Int64,
        "flows": pl.List(pl.Struct({
            "rule": pl.String,
            "flows": pl.List(pl.Struct({"mac": pl.String, "flowTuples": _TUPLES})),
        })),
    }),
    "flowRecords": pl.Struct({
        "flows": pl.List(pl.Struct({
            "aclID": pl.String,
            "flowGroups": pl.List(pl.Struct({"rule": pl.String, "flowTuples": _TUPLES})),
        })),
    }),
})
#: The blob schema: both formats' nestings in one record struct.
SCHEMA = {"records": pl.List(_RECORD)}
_FIELDS = [f"f{i}" for i in range(13)]
_DIRECTION = pl.Enum(list(DIRECTIONS))
_DECISION = pl.Enum(list(DECISIONS))
_STATE = pl.Enum(list(STATES))
_ENCRYPTION = pl.Enum(list(ENCRYPTION_STATES))
_LOG_TYPE = pl.Enum(list(LOG_TYPES))
_UINTS = {pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}


def _scan(files: list[str]) -> pl.LazyFrame:
    try:
        return pl.read_ndjson(files, schema=SCHEMA, include_file_paths="blob").lazy()
    except pl.exceptions.PolarsError:
        frames = [pl.read_json(f, schema=SCHEMA).with_columns(blob=pl.lit(f)) for f in files]
        return pl.concat(frames).lazy()


def _counter(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    return pl.when(col != "").then(col).cast(dtype)


def _common() -> list[pl.Expr]:
    """Columns computed the same way for both formats from the split fields."""
    ts = pl.col("f0").cast(pl.Int64)
    return [
        pl.when(ts < 10**11).then(ts * 1000).otherwise(ts).cast(pl.Datetime("ms", "UTC")).alias("flow_time"),
        pl.col("f1").cast(pl.Categorical).alias("src_ip"),
        pl.col("f2").cast(pl.Categorical).alias("dst_ip"),
        pl.col("f3").cast(pl.UInt16).alias("src_port"),
        pl.col("f4").cast(pl.UInt16).alias("dst_port"),
        pl.col("f6").replace_strict({"I": "inbound", "O": "outbound"}, return_dtype=_DIRECTION).alias("direction"),
        _counter("f9", pl.UInt32).alias("packets_sent"),
        _counter("f10", pl.UInt64).alias("bytes_sent"),
        _counter("f11", pl.UInt32).alias("packets_received"),
        _counter("f12", pl.UInt64).alias("bytes_received"),
    ]


def _split(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.with_columns(pl.col("tuple").str.split_exact(",", 12).struct.rename_fields(_FIELDS)
                           .alias("fields")).unnest("fields")


def _vnet(recs: pl.LazyFrame) -> pl.LazyFrame:
    lf = (recs.filter(pl.col("flowRecords").is_not_null())
          .select("record_time", "mac", "blob",
                  pl.col("flowLogVersion").fill_null(4).cast(pl.UInt8).alias("version"),
                  pl.col("flowLogResourceID").alias("resource_id"),
                  pl.col("targetResourceID").alias("target_resource_id"),
                  pl.col("flowRecords").struct.field("flows").alias("acl"))
          .explode("acl")
          .with_columns(pl.col("acl").struct.field("aclID").alias("acl_id"),
                        pl.col("acl").struct.field("flowGroups").alias("group"))
          .drop("acl").explode("group")
          .with_columns(pl.col("group").struct.field("rule").alias("rule"),
                        pl.col("group").struct.field("flowTuples").alias("tuple"))
          .drop("group").explode("tuple").drop_nulls("tuple"))
    state = pl.col("f7").cast(_STATE)
    enc = pl.col("f8").cast(_ENCRYPTION)
    return _split(lf).select(
        *_common(), "record_time",
        pl.col("f5").cast(pl.UInt8).alias("protocol"),
        pl.when((pl.col("f7") == "D") | pl.col("f8").is_in(list(ENCRYPTION_DROPS))).then(pl.lit("deny"))
        .otherwise(pl.lit("allow")).cast(_DECISION).alias("decision"),
        state.alias("state"), enc.alias("encryption"),
        pl.col("rule").cast(pl.Categorical), pl.col("acl_id").cast(pl.Categorical),
        pl.col("mac").cast(pl.Categorical), pl.lit("vnet", dtype=_LOG_TYPE).alias("log_type"), "version",
        pl.col("resource_id").cast(pl.Categorical), pl.col("target_resource_id").cast(pl.Categorical),
        pl.col("blob").cast(pl.Categorical),
    )


def _nsg(recs: pl.LazyFrame) -> pl.LazyFrame:
    lf = (recs.filter(pl.col("properties").is_not_null())
          .select("record_time", "blob", pl.col("mac").alias("record_mac"),
                  pl.col("properties").struct.field("Version").alias("version"),
                  pl.col("resourceId").alias("resource_id"),
                  pl.col("properties").struct.field("flows").alias("rule_s"))
          .explode("rule_s")
          .with_columns(pl.col("rule_s").struct.field("rule").alias("rule"),
                        pl.col("rule_s").struct.field("flows").alias("group"))
          .drop("rule_s").explode("group")
          .with_columns(pl.coalesce(pl.col("group").struct.field("mac").str.to_uppercase()
                                    .str.replace_all(r"[-:.]", ""), pl.col("record_mac")).alias("mac"),
                        pl.col("group").struct.field("flowTuples").alias("tuple"))
          .drop("group", "record_mac").explode("tuple").drop_nulls("tuple"))
    version = pl.col("version").fill_null(pl.when(pl.col("f8").is_null()).then(1).otherwise(2))
    return _split(lf).select(
        *_common(), "record_time",
        pl.col("f5").replace_strict({"T": 6, "U": 17}, return_dtype=pl.UInt8).alias("protocol"),
        pl.col("f7").replace_strict({"A": "allow", "D": "deny"}, return_dtype=_DECISION).alias("decision"),
        pl.col("f8").cast(_STATE).alias("state"), pl.lit(None, dtype=_ENCRYPTION).alias("encryption"),
        pl.col("rule").cast(pl.Categorical), pl.lit(None, dtype=pl.Categorical).alias("acl_id"),
        pl.col("mac").cast(pl.Categorical), pl.lit("nsg", dtype=_LOG_TYPE).alias("log_type"),
        version.cast(pl.UInt8).alias("version"),
        pl.col("resource_id").cast(pl.Categorical), pl.lit(None, dtype=pl.Categorical).alias("target_resource_id"),
        pl.col("blob").cast(pl.Categorical),
    )


def read(source: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read every blob under ``source`` into the canonical flow table with polars.

    Parameters
    ----------
    source : str, PathLike or list of them
        Files or folders (folders give their ``PT1H.json`` blobs, as flowkit does).

    Returns
    -------
    pandas.DataFrame
        One row per tuple, canonical columns and dtypes.
    """
    files = list_blobs(source)
    recs = (_scan(files).explode("records").unnest("records")
            .with_columns(pl.col("time").str.to_datetime(time_unit="ns", time_zone="UTC").alias("record_time"),
                          pl.col("macAddress").str.to_uppercase().str.replace_all(r"[-:.]", "").alias("mac"))
            .collect())
    parts = ([_vnet(recs.lazy())] if recs["flowRecords"].is_not_null().any() else []) + \
            ([_nsg(recs.lazy())] if recs["properties"].is_not_null().any() else [])
    out = pl.concat(parts, how="vertical").select(list(COLUMNS)).collect()
    frame = out.to_pandas(types_mapper=_UINTS.get)
    del out
    return finish(frame)
