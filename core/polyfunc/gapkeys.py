"""Which keys a plugin may declare through ``polyfunc_conformance_gaps``, and which of them name nothing.

A gap key selects conformance tests: a primitive (``sin``: every check of it), ``check:primitive``
(``jvp:sin``), a test function (``test_reflected_operators``) or one test by its id
(``test_forward[sin-float32-0]``, optionally after ``test_conformance.py::``).  A key that names
none of these hides nothing and is almost always a typo (``jpv:sin``, ``tanhh``): when plugins
load, ``polyfunc.backends`` records it in ``failed_plugins()`` under the plugin that declared it,
with the closest valid key.

This module needs neither pytest nor the op table, so the check costs nothing at import: the
suite's test function names are read from its source files, and any registered primitive counts
as a case.  ``polyfunc.testing.conformance.gapkeys`` (what ``python -m polyfunc info`` runs) is
stricter: it also reports a primitive whose tests are its own (``random_normal``), which has no
op-table tests for a key to select.
"""
from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path
from typing import Any, Iterable

from .registry import primitives

__all__ = ["CHECKS", "suite_test_names", "valid_keys", "unmatched", "unmatched_gap_keys", "gap_key_report"]

# the checks of the op-table tests (a ``check:case`` key; the pytest plugin's polyfunc_op marker)
CHECKS = ("forward", "jvp", "vjp", "vmap", "grad2", "numpy", "scalars")
# the conformance suite's test modules (polyfunc.testing.conformance), read as text
SUITE_DIR = Path(__file__).resolve().parent / "testing" / "conformance"

_ONE_TEST = re.compile(r"(test_\w+)\[[^\]]+\]")
_test_names: list[frozenset[str]] = []


def suite_test_names() -> frozenset[str]:
    """Names of the conformance suite's test functions, from its source (read once)."""
    if not _test_names:
        names: set[str] = set()
        for path in sorted(SUITE_DIR.glob("test_*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            names.update(n.name for n in tree.body
                         if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_"))
        _test_names.append(frozenset(names))
    return _test_names[0]


def valid_keys(cases: Iterable[str] | None = None, tests: Iterable[str] | None = None) -> set[str]:
    """Every key that names something, bar the per-test ids: the cases (default: every registered
    primitive), ``check:case`` for each, and the test function names."""
    cases = set(primitives) if cases is None else set(cases)
    tests = suite_test_names() if tests is None else set(tests)
    return cases | {f"{c}:{n}" for c in CHECKS for n in cases} | set(tests)


def unmatched(gaps: Any, cases: Iterable[str] | None = None, tests: Iterable[str] | None = None) -> list[str]:
    """The keys of ``gaps`` that name nothing (as strings, in order)."""
    tests = suite_test_names() if tests is None else set(tests)
    known = valid_keys(cases, tests)
    out = []
    for key in gaps:
        k = str(key)
        if k in known:
            continue
        m = _ONE_TEST.fullmatch(k.rpartition("::")[2])
        if m and m.group(1) in tests:          # one parametrised test, by its id
            continue
        out.append(k)
    return out


def unmatched_gap_keys(gaps: Any, cases: Iterable[str] | None = None,
                       tests: Iterable[str] | None = None) -> list[str]:
    """The keys of ``gaps`` that name nothing, each quoted with a "did you mean" hint when one is close."""
    bad = unmatched(gaps, cases, tests)
    if not bad:
        return []
    known = sorted(valid_keys(cases, tests))
    out = []
    for k in bad:
        close = difflib.get_close_matches(k, known, n=1)
        out.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return out


def gap_key_report(key: str, backend_name: str) -> str:
    """The failed_plugins() text for one key from ``unmatched_gap_keys``."""
    return f"gap key {key} for backend {backend_name!r} matches no conformance test"
