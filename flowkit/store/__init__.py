"""Storing decoded flows: the Parquet dataset (``flowkit convert``).

- :mod:`flowkit.store.parquet` — ``convert``, ``ConvertReport``, ``read_parquet_dataset``, ``is_parquet_dataset``
- :mod:`flowkit.store.manifest` — the marker file: units, blob signatures, files
"""
