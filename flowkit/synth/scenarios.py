"""Write the three scenarios of ``data-samples/SCENARIOS.md``.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     written = write_scenarios(tmp)
...     sorted(written)
['connectivity', 'encryption', 'nsg-vs-vnet']
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER
from flowkit.synth import connectivity, encryption, nsg_vs_vnet
from flowkit.synth.estate import nics_csv, nics_json
from flowkit.synth.plan import DEFAULT_SEED, Built

__all__ = ["SCENARIOS", "DEFAULT_SEED", "build_scenario", "write_scenario", "write_scenarios"]

#: Scenario name -> builder.
SCENARIOS: dict[str, Callable[[int], Built]] = {
    "connectivity": connectivity.build,
    "nsg-vs-vnet": nsg_vs_vnet.build,
    "encryption": encryption.build,
}


def build_scenario(name: str, seed: int = DEFAULT_SEED) -> Built:
    """Generate one scenario in memory.

    Examples
    --------
    >>> build_scenario("encryption").expected["unsupported_macs"]
    ['000D3A000404']
    """
    return SCENARIOS[name](seed)


def write_scenario(built: Built, dest: str | Path) -> list[Path]:
    """Write one built scenario into ``dest`` (the scenario's own folder).

    Blob containers left from an earlier run are removed first, so the folder
    holds exactly what this run generated. Returns every file written, sorted.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     names = [p.name for p in write_scenario(build_scenario("encryption"), tmp)]
    >>> names[-4:]
    ['README.md', 'expected.json', 'nics.csv', 'nics.json']
    """
    root = Path(dest)
    for container in (NSG_CONTAINER, VNET_CONTAINER):
        if (root / container).is_dir():
            shutil.rmtree(root / container)
    root.mkdir(parents=True, exist_ok=True)
    written = built.emission.write(root)
    files = {
        "README.md": built.readme,
        "expected.json": json.dumps(built.expected, indent=2, ensure_ascii=False) + "\n",
        "nics.csv": nics_csv(built.nics),
        "nics.json": nics_json(built.nics),
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8", newline="\n")
        written.append(root / name)
    return written


def write_scenarios(dest: str | Path, seed: int = DEFAULT_SEED) -> dict[str, list[Path]]:
    """Write every scenario under ``dest/<scenario>/``, laid out like Azure's blobs.

    Parameters
    ----------
    dest : str or Path
        Folder to write into (``data-samples`` for the committed samples).
    seed : int
        The same seed always gives byte-identical files.

    Returns
    -------
    dict
        Scenario name -> files written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_scenarios(tmp)["connectivity"]
    ...     any(p.name == "PT1H.json" for p in files)
    True
    """
    return {name: write_scenario(build(seed), Path(dest) / name) for name, build in SCENARIOS.items()}
