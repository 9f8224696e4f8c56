"""environment.yml mirrors pyproject.toml; the layout the user asked for exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name_and_spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", req)
    assert m, req
    return m.group(1).lower(), m.group(3).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = data["project"]
    reqs = list(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        reqs += [r for r in items if not r.startswith("flowkit")]
    out = {}
    for r in reqs:
        name, spec = _name_and_spec(r)
        out[CONDA_NAMES.get(name, name)] = spec
    return out


def environment_requirements() -> dict[str, str]:
    out = {}
    text = (REPO / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)\s*([<>=!~].*)?$", line)
        if m and m.group(1) not in ("python", "pip", "nodejs"):
            out[m.group(1).lower()] = (m.group(2) or "").replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_extras_and_console_script():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) >= {"azure", "notebooks", "dask", "dev"}
    assert project["scripts"]["flowkit"] == "flowkit.cli:main"


def test_layout_the_user_asked_for():
    for path in ("flowkit", "notebooks", "tests", "data-samples", "environment.yml", "README.md",
                 "pyproject.toml", "Makefile", ".ci/run"):
        assert (REPO / path).exists(), path


def test_no_two_test_files_share_a_name():
    """pytest imports test modules by their file name (the test folders are not packages): two
    ``test_x.py`` in different folders stop the whole run at collection."""
    from collections import Counter

    root = Path(__file__).resolve().parent
    names = Counter(p.name for p in root.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
