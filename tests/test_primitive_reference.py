"""docs/primitives.md is generated from the op table and must stay in step with it."""
import os
import re
import subprocess
import sys

import pytest

import polyfunc.backends as B
from polyfunc.testing.optable import op_cases
from polyfunc.testing.primitive_reference import MEANINGS, REFERENCES, SCALAR_OPERANDS, render
from polyfunc.testing.conformance.test_contract import SCALAR_BINARY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "primitives.md")


def test_generated_reference_is_up_to_date():
    with open(DOC, encoding="utf-8") as f:
        current = f.read()
    assert current == render(), "docs/primitives.md is out of date: run python tools/primitive_reference.py"


def test_tool_check_mode_agrees():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "primitive_reference.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_every_kernel_primitive_is_described():
    kernels = set(B.kernel_primitives())
    assert kernels <= set(MEANINGS), f"primitives without a meaning: {sorted(kernels - set(MEANINGS))}"
    text = render()
    for name in kernels:
        assert f"### `{name}`" in text, name
    assert set(op_cases()) <= kernels | {"custom_jvp_call"}


def test_scalar_positions_match_the_conformance_suite():
    # every primitive the contract tests feed Python scalars to is documented as taking them, and vice versa
    documented = {n for n, where in SCALAR_OPERANDS.items() if "either operand" in where}
    assert documented == set(SCALAR_BINARY)


# an identifier with a leading underscore (a private helper, `_bid_ref`, `optable._pad_ref`), or the op
# table's own module named as where a reference lives
PRIVATE = re.compile(r"(?<![\w])_+[A-Za-z]\w*|\boptable\b|polyfunc\.testing\.optable")


def _entries(text):
    body = text.split("## Primitives", 1)[1]
    return re.split(r"\n(?=### `)", body)[1:]


def test_entries_name_public_things_only():
    entries = _entries(render())
    assert len(entries) == len(op_cases()) + 3          # one per op-table row, plus the three random primitives
    bad = {e.split("`")[1]: PRIVATE.findall(e) for e in entries if PRIVATE.search(e)}
    assert not bad, f"entries that name private helpers or internal modules: {bad}"


def test_the_private_name_check_sees_what_the_old_reference_showed():
    # the pattern catches the forms the generated file used to contain
    for old in ("- NumPy reference: `optable._bid_ref`", "- NumPy reference: `_pad_ref`",
                "- NumPy reference: `polyfunc.testing.optable.OP_CASES`"):
        assert PRIVATE.search(old), old
    assert not PRIVATE.search("- NumPy reference: `np.take(x, indices, axis=axis)`; `window_dimensions`")


def test_a_helper_reference_without_words_is_refused(monkeypatch):
    # round's reference is a helper function of the op table: without its entry in REFERENCES the
    # generator names the primitive and where to describe it, instead of printing the helper's name
    monkeypatch.delitem(REFERENCES, "round")
    with pytest.raises(ValueError, match=r"primitive 'round': the NumPy reference .*_round_ref is a helper "
                                         r"function, not public NumPy: describe it in .*REFERENCES"):
        render()


def test_every_written_reference_belongs_to_an_op_case():
    assert set(REFERENCES) <= set(op_cases())
