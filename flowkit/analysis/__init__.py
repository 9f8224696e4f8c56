"""Investigations: pure functions from flow frames to findings, graphs and tables.

Modules (import from them directly; nothing is imported here, to keep ``import
flowkit`` light):

- :mod:`flowkit.analysis.sessions` — ``flow_sessions``, ``session_summary``
- :mod:`flowkit.analysis.graph` — ``talker_graph``, ``top_talkers``, ``ego``, ``to_graphml``, ``to_gexf``
- :mod:`flowkit.analysis.draw` — ``draw_talker_graph``
- :mod:`flowkit.analysis.diagnose` — ``diagnose``, ``logged_nics``
- :mod:`flowkit.analysis.denied` — ``denied_summary``
- :mod:`flowkit.analysis.compare` — ``compare_nsg_vnet``
- :mod:`flowkit.analysis.encryption` — ``encryption_audit``, ``flow_encryption``
- :mod:`flowkit.analysis.keys` — shared flow keys, address classes, counters
"""
