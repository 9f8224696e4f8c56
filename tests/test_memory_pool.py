"""flowkit picks Arrow's system allocator unless the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys


def backend(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_value is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_value
    code = "import flowkit, pyarrow as pa; flowkit.read_flow_logs([]); print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_system_allocator_by_default():
    assert backend(None) == "system"


def test_users_choice_is_respected():
    assert backend("mimalloc") == "mimalloc"
