"""Storing decoded flows: the Parquet dataset (``flowkit convert``).

- :mod:`flowkit.store.convert` — ``convert``, ``ConvertReport``: flow logs -> dataset, incrementally
- :mod:`flowkit.store.writer` — how one unit's Parquet files are written (schema, encodings)
- :mod:`flowkit.store.parquet` — ``read_parquet_dataset``, ``is_parquet_dataset``, the layout
- :mod:`flowkit.store.manifest` — the marker file: units, blob identities and signatures, files
- :mod:`flowkit.store.quarantine` — each unit's quarantined tuples and damaged records
"""
