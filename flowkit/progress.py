"""Progress bars (tqdm.auto): shown in notebooks and terminals, silent elsewhere.

Examples
--------
>>> with progress_bar(total=3, desc="blobs", enabled=False) as bar:
...     bar.update(3)
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar", "interactive"]


def interactive() -> bool:
    """True in a Jupyter kernel or when stderr is a terminal.

    Examples
    --------
    >>> isinstance(interactive(), bool)
    True
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return True  # a running Jupyter kernel (an imported ipykernel module is not one)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(total: int | None, desc: str, *, unit: str = "blob", enabled: bool | None = None,
                 unit_scale: bool = False) -> tqdm:
    """Return a tqdm.auto bar; ``enabled=None`` shows it only when interactive.

    The description must never contain a secret: callers pass blob names or
    redacted source descriptions only.
    """
    show = interactive() if enabled is None else enabled
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, disable=not show,
                leave=False, dynamic_ncols=True)
