"""Storing decoded flows: the Parquet dataset (``flowkit convert``)."""
