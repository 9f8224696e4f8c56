"""The examples in the package's docstrings run and print what they show (numpy-style docs).

Every module of ``flowkit`` is imported and its doctests run; an example that needs a
cluster, a browser or Azure is marked ``+SKIP`` in its docstring and tested elsewhere.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import flowkit


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(flowkit.__path__, "flowkit.")
                  if m.name.rsplit(".", 1)[-1] != "__main__")


def test_every_module_is_found() -> None:
    names = _modules()
    assert {"flowkit.read", "flowkit.formats.framing", "flowkit.scale.compare",
            "flowkit.analysis.compare"} <= set(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(flowkit.__path__[0] + "/..")  # examples name data-samples/ relative to the repository
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run with -s to see them)"
