"""flowkit: investigate Azure NSG and VNet flow logs in Jupyter.

Examples
--------
>>> import flowkit
>>> flowkit.empty_frame().shape
(0, 23)
"""

from __future__ import annotations

__version__ = "0.1.0"

from flowkit.errors import FlowkitDataWarning, FlowkitError, FormatError, QuarantineError, SourceError
from flowkit.load_report import LoadReport
from flowkit.read import decode_to_frame, load_report, read_flow_logs
from flowkit.schema import COLUMNS, empty_frame
from flowkit.sources.local import LocalSource

def __getattr__(name: str):  # the azure extra is optional: import it only when asked for
    if name == "AzureBlobSource":
        from flowkit.sources.azure import AzureBlobSource

        return AzureBlobSource
    raise AttributeError(f"module 'flowkit' has no attribute {name!r}")


__all__ = [
    "AzureBlobSource",
    "__version__",
    "read_flow_logs",
    "decode_to_frame",
    "load_report",
    "LoadReport",
    "LocalSource",
    "COLUMNS",
    "empty_frame",
    "FlowkitError",
    "SourceError",
    "FormatError",
    "QuarantineError",
    "FlowkitDataWarning",
]
