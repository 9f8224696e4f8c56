"""Scaling out: Dask DataFrames and distributed aggregations."""
