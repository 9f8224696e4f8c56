"""Every scenario's ``build()`` defaults to the seed the committed samples were made with."""

from __future__ import annotations

import json

import pytest

from flowkit.synth import DEFAULT_SEED, connectivity, encryption, nsg_vs_vnet
from flowkit.synth.scenarios import build_scenario


@pytest.mark.parametrize("name, module", [("connectivity", connectivity), ("nsg-vs-vnet", nsg_vs_vnet),
                                          ("encryption", encryption)])
def test_a_scenario_built_without_a_seed_is_the_committed_sample(name, module, samples_dir):
    built = module.build()
    committed = json.loads((samples_dir / name / "expected.json").read_text())
    assert json.loads(json.dumps(built.expected)) == committed
    assert built.readme == (samples_dir / name / "README.md").read_text()
    assert json.dumps(built.expected) == json.dumps(build_scenario(name, DEFAULT_SEED).expected)
