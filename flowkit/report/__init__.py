"""Reports: collect findings and write them as self-contained HTML, Markdown, XLSX or CSV.

Examples
--------
>>> from flowkit.findings import Finding
>>> report = Report([Finding("Connectivity 192.0.2.1 -> 198.51.100.2", "denied", "high", "Blocked.")])
>>> report.severity_counts()["high"]
1
>>> report.write("findings.html")  # doctest: +SKIP
PosixPath('findings.html')
"""

from __future__ import annotations

from flowkit.report.anonymize import Anonymizer
from flowkit.report.investigations import INVESTIGATIONS, investigate, talkers_finding
from flowkit.report.report import FORMATS, Report, format_for

__all__ = ["Report", "Anonymizer", "investigate", "talkers_finding", "INVESTIGATIONS", "FORMATS",
           "format_for"]
