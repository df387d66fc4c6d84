"""Checking the keys a plugin declares through ``polyfunc_conformance_gaps``.

A key that matches no conformance test hides nothing and usually means a typo
(``tanhh``, ``jpv:sin``); ``python -m polyfunc info`` lists such keys under the
plugin that declared them, with the closest valid key.
"""
from __future__ import annotations

from typing import Any

import difflib
import re

from ...backends import _record, plugin_manager
from ..optable import op_cases
from . import test_conformance, test_contract

# the checks of the op-table tests (the pytest plugin's ``check:case`` keys)
__all__ = ["CHECKS", "suite_test_names", "valid_keys", "unmatched_gap_keys", "check_gap_keys"]

CHECKS = ("forward", "jvp", "vjp", "vmap", "grad2", "numpy", "scalars")
# the modules whose test functions a gap key may name
SUITE_MODULES = (test_conformance, test_contract)


def suite_test_names() -> set[str]:
    """Names of the conformance test functions."""
    return {n for mod in SUITE_MODULES for n in vars(mod) if n.startswith("test_")}


def valid_keys() -> set[str]:
    """Every key that selects at least one conformance test, bar the per-test ids."""
    cases = set(op_cases())
    return cases | {f"{c}:{n}" for c in CHECKS for n in cases} | suite_test_names()


def unmatched_gap_keys(gaps: dict) -> list[str]:
    """The keys of ``gaps`` that match no conformance test, each with a hint."""
    tests = suite_test_names()
    known = valid_keys()
    out = []
    for key in gaps:
        k = str(key)
        if k in known:
            continue
        m = re.fullmatch(r"(test_\w+)\[[^\]]+\]", k.rpartition("::")[2])
        if m and m.group(1) in tests:          # one parametrised test, by its id
            continue
        close = difflib.get_close_matches(k, sorted(known), n=1)
        out.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return out


def check_gap_keys(backend) -> dict[str, list[str]]:
    """{plugin name: its gap keys for ``backend`` that match no test}; a hook that raises is listed too.

    Each finding is also recorded in ``polyfunc.failed_plugins()`` under the plugin's name."""
    found: dict[str, list[str]] = {}
    for impl in plugin_manager().hook.polyfunc_conformance_gaps.get_hookimpls():
        try:
            gaps: Any = impl.function(backend=backend) or {}
        except Exception as e:
            found.setdefault(impl.plugin_name, []).append(f"polyfunc_conformance_gaps raised {type(e).__name__}: {e}")
            continue
        bad = unmatched_gap_keys(gaps)
        if bad:
            found.setdefault(impl.plugin_name, []).extend(
                f"gap key {b} for backend {backend.name!r} matches no conformance test" for b in bad)
    for plugin, texts in found.items():
        for t in texts:
            _record(plugin, t)
    return found
