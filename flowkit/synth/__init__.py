"""Deterministic, seeded synthetic Azure flow logs: the scenarios in ``data-samples`` and benchmark corpora.

* Byte-exact builders: :func:`nsg_v1_tuple`, :func:`nsg_v2_tuple`, :func:`vnet_tuple`,
  :func:`record_time`, :func:`nsg_record`, :func:`vnet_record`.
* Azure's block-blob structure: :func:`blob_blocks` (12-byte head, one block per
  record, each after the first led by a comma, 2-byte tail) and :func:`blob_bytes`.
* :func:`write_scenarios` writes ``connectivity``, ``nsg-vs-vnet`` and ``encryption``
  with their ``expected.json`` ground truth; ``python -m flowkit.synth DEST`` does the same.
* :func:`write_corpus` streams a busy estate's logs of any size for benchmarks.

No wall clock and no global random state: the same seed gives the same bytes.

Examples
--------
>>> from flowkit.synth import blob_blocks, vnet_record, vnet_tuple
>>> t = vnet_tuple(1714557603606, "10.10.1.4", "198.51.100.10", 50123, 443, 6, "O", "B", "NX")
>>> rec = vnet_record("2024-05-01T10:00:52.5625085Z", "guid", "000D3A000101", "/FL", "/VNET",
...                   [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowInternetOutBound", [t])])])
>>> [len(b) for b in blob_blocks([rec])][::2]
[12, 2]
"""

from __future__ import annotations

from flowkit.synth.blobs import HEAD_BLOCK, TAIL_BLOCK, blob_blocks, blob_bytes, encode_record
from flowkit.synth.corpus import CorpusInfo, write_corpus
from flowkit.synth.records import nsg_record, vnet_record
from flowkit.synth.scenarios import DEFAULT_SEED, SCENARIOS, build_scenario, write_scenario, write_scenarios
from flowkit.synth.tuples import nsg_v1_tuple, nsg_v2_tuple, record_time, vnet_tuple

__all__ = [
    "HEAD_BLOCK",
    "TAIL_BLOCK",
    "blob_blocks",
    "blob_bytes",
    "encode_record",
    "nsg_v1_tuple",
    "nsg_v2_tuple",
    "vnet_tuple",
    "record_time",
    "nsg_record",
    "vnet_record",
    "SCENARIOS",
    "DEFAULT_SEED",
    "build_scenario",
    "write_scenario",
    "write_scenarios",
    "CorpusInfo",
    "write_corpus",
]
