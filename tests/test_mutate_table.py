"""The mutation table in tools/mutate.py stays in step with the core's rules.

A mutant whose ``old`` text no longer occurs exactly once (its file renamed, its line reworded) is reported
by ``mutate.py`` as stale, but only when someone runs it; this check runs with the ordinary suite, in
well under a second, and plants nothing.
"""
from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_mutate():
    spec = importlib.util.spec_from_file_location("polyfunc_tools_mutate", ROOT / "tools" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up in sys.modules while building the Mutant class
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


MUTATE = _load_mutate()


def test_the_table_is_not_empty():
    assert len(MUTATE.MUTANTS) >= 30


@pytest.mark.parametrize("i", range(len(MUTATE.MUTANTS)))
def test_each_mutant_plants_exactly_one_edit(i):
    m = MUTATE.MUTANTS[i]
    path = MUTATE.OPS / m.file
    assert path.is_file(), f"mutant #{i} ({m.what}) names {m.file}, which is not in core/polyfunc/ops"
    count = path.read_text().count(m.old)
    assert count == 1, f"mutant #{i} ({m.what}): its text occurs {count} times in {m.file}, not once"
    assert m.new != m.old, f"mutant #{i} ({m.what}) changes nothing"
    assert "\n" not in m.old and "\n" not in m.new, f"mutant #{i} is not a one-line edit"
    assert m.focus, f"mutant #{i} ({m.what}) has no --focus expression"
