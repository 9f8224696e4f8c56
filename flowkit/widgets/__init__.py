"""Notebook widgets: the filter panel over a flow table (needs the ``notebooks`` extra).

Examples
--------
>>> from flowkit.widgets import FilterPanel  # doctest: +SKIP
>>> FilterPanel(flows, src="10.10.1.4")       # doctest: +SKIP
"""

from __future__ import annotations

from flowkit.widgets.panel import FILTER_NAMES, FilterPanel
from flowkit.widgets.views import selection_summary

__all__ = ["FilterPanel", "FILTER_NAMES", "selection_summary"]
