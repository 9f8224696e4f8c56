"""Which allocator Arrow uses in a flowkit process.

pyarrow allocates from mimalloc by default. On the 2-core machines flowkit is
measured on, reading the 100 MB VNet benchmark corpus took 1.7-2.0 s with
mimalloc and 1.2-1.3 s with the system allocator (glibc), with a lower peak RSS
(430 MiB against 505 MiB): large, short-lived buffers (CSV blocks, combined
columns) are where the time went. flowkit therefore makes the system allocator
Arrow's default when it is imported, **unless** the user chose one with the
``ARROW_DEFAULT_MEMORY_POOL`` environment variable, which pyarrow itself reads
(``mimalloc``, ``jemalloc`` or ``system``); that choice is always respected.

Examples
--------
>>> choose_default_pool() in {"system", "mimalloc", "jemalloc"}
True
"""

from __future__ import annotations

import os

import pyarrow as pa

__all__ = ["choose_default_pool"]


def choose_default_pool() -> str:
    """Make the system allocator Arrow's default unless ``ARROW_DEFAULT_MEMORY_POOL`` is set.

    Returns
    -------
    str
        The backend now in use (``pyarrow.default_memory_pool().backend_name``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> choose_default_pool() == pa.default_memory_pool().backend_name
    True
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name


choose_default_pool()
