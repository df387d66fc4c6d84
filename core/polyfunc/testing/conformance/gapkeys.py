"""Checking the keys a plugin declares through ``polyfunc_conformance_gaps`` against the suite itself.

``polyfunc.gapkeys`` checks them when plugins load (a key that names no primitive and no test);
this is the exact check that ``python -m polyfunc info`` runs: the cases are the op table's rows,
so a key naming a primitive with tests of its own (``random_normal``) is reported too.  Findings
go to ``polyfunc.failed_plugins()`` under the plugin that declared the key, with the closest valid key.
"""
from __future__ import annotations

from typing import Any

from ... import gapkeys as loose
from ...backends import _record, plugin_manager
from ...gapkeys import CHECKS, gap_key_report
from ..optable import op_cases
from . import test_conformance, test_contract

__all__ = ["CHECKS", "suite_test_names", "valid_keys", "unmatched_gap_keys", "check_gap_keys"]

# the modules whose test functions a gap key may name
SUITE_MODULES = (test_conformance, test_contract)


def suite_test_names() -> set[str]:
    """Names of the conformance test functions."""
    return {n for mod in SUITE_MODULES for n in vars(mod) if n.startswith("test_")}


def valid_keys() -> set[str]:
    """Every key that selects at least one conformance test, bar the per-test ids."""
    return loose.valid_keys(op_cases(), suite_test_names())


def unmatched_gap_keys(gaps: dict) -> list[str]:
    """The keys of ``gaps`` that match no conformance test, each with a hint.

    A key that names nothing at all gets the text the load-time check gave it (so it is reported
    once); a key naming a primitive that has no op-table rows says so."""
    names_nothing = set(loose.unmatched(gaps))
    out = loose.unmatched_gap_keys([k for k in gaps if str(k) in names_nothing])
    for k in loose.unmatched(gaps, op_cases(), suite_test_names()):
        if k not in names_nothing:
            out.append(f"{k!r} (a primitive with tests of its own, no op-table tests)")
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
            found.setdefault(impl.plugin_name, []).extend(gap_key_report(b, backend.name) for b in bad)
    for plugin, texts in found.items():
        for t in texts:
            _record(plugin, t)
    return found
