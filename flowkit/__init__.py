"""flowkit: investigate Azure NSG and VNet flow logs in Jupyter.

The public API: reading (``read_flow_logs``, sources), the flow table
(``schema``), investigations that return findings, the filter panel and reports.
Notebooks and the CLI use only these names.

Examples
--------
>>> import flowkit
>>> flowkit.empty_frame().shape
(0, 23)
"""

from __future__ import annotations

__version__ = "0.1.0"

from flowkit.analysis.compare import compare_nsg_vnet
from flowkit.analysis.denied import denied_summary
from flowkit.analysis.diagnose import diagnose
from flowkit.analysis.encryption import encryption_audit
from flowkit.analysis.graph import ego, talker_graph, to_gexf, to_graphml, top_talkers
from flowkit.analysis.copies import repeated_tuples
from flowkit.analysis.sessions import flow_sessions, session_summary
from flowkit.errors import ArgumentError, FlowkitDataWarning, FlowkitError, FormatError, QuarantineError, SourceError
from flowkit.filters import filter_flows
from flowkit.findings import Finding
from flowkit.inventory import Inventory, enrich, read_inventory
from flowkit.load_report import LoadReport
from flowkit.formats.native_read import load_scanner
from flowkit.read import decode_to_frame, load_report, read_flow_logs
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.local import LocalSource

#: Names whose modules need an optional extra; imported on first use.
_LAZY = {
    "AzureBlobSource": ("flowkit.sources.azure", "AzureBlobSource"),  # azure extra
    "draw_talker_graph": ("flowkit.analysis.draw", "draw_talker_graph"),  # matplotlib: slow to import
    "FilterPanel": ("flowkit.widgets", "FilterPanel"),                # notebooks extra
    "Report": ("flowkit.report", "Report"),                           # jinja2, openpyxl
    "convert": ("flowkit.store.convert", "convert"),                  # pyarrow.parquet
    "ConvertReport": ("flowkit.store.convert", "ConvertReport"),
    "talker_graph_dask": ("flowkit.scale.aggregations", "talker_graph_dask"),    # dask extra
    "denied_summary_dask": ("flowkit.scale.aggregations", "denied_summary_dask"),
    "encryption_counts_dask": ("flowkit.scale.aggregations", "encryption_counts_dask"),
    "nsg_vnet_keys_dask": ("flowkit.scale.aggregations", "nsg_vnet_keys_dask"),
    "compare_nsg_vnet_dask": ("flowkit.scale.compare", "compare_nsg_vnet_dask"),
    "load_report_dask": ("flowkit.scale.dask_report", "load_report_dask"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'flowkit' has no attribute {name!r}")


__all__ = [
    "__version__",
    # reading
    "read_flow_logs",
    "decode_to_frame",
    "load_report",
    "LoadReport",
    "LocalSource",
    "AzureBlobSource",
    "COLUMNS",
    "empty_frame",
    "load_scanner",
    # investigations
    "Finding",
    "diagnose",
    "denied_summary",
    "flow_sessions",
    "repeated_tuples",
    "session_summary",
    "talker_graph",
    "top_talkers",
    "ego",
    "draw_talker_graph",
    "to_graphml",
    "to_gexf",
    "compare_nsg_vnet",
    "encryption_audit",
    "filter_flows",
    "read_inventory",
    "Inventory",
    "enrich",
    # presentation
    "FilterPanel",
    "Report",
    # scale
    "convert",
    "ConvertReport",
    "talker_graph_dask",
    "denied_summary_dask",
    "encryption_counts_dask",
    "nsg_vnet_keys_dask",
    "compare_nsg_vnet_dask",
    "load_report_dask",
    # errors
    "FlowkitError",
    "ArgumentError",
    "SourceError",
    "FormatError",
    "QuarantineError",
    "FlowkitDataWarning",
]
