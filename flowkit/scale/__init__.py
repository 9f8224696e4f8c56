"""Scaling out: Dask DataFrames of flow tuples and distributed aggregations (the ``dask`` extra).

Modules (imported on use, so ``import flowkit`` stays light):

- :mod:`flowkit.scale.dask_read` — ``read_flow_logs_dask`` (what ``read_flow_logs(..., engine="dask")`` calls)
- :mod:`flowkit.scale.aggregations` — ``talker_graph_dask``, ``denied_summary_dask``,
  ``encryption_counts_dask``, ``nsg_vnet_keys_dask``
- :mod:`flowkit.scale.compare` — ``compare_nsg_vnet_dask``: the NSG vs VNet reconciliation with its causes
- :mod:`flowkit.scale.graph` — the talker-graph aggregation behind ``talker_graph_dask``
- :mod:`flowkit.scale.cluster` — ``local_cluster``: a LocalCluster on 127.0.0.1 with the workers' memory settings
"""
