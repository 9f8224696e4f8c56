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

__all__ = [
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
