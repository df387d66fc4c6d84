"""docs/primitives.md is generated from the op table and must stay in step with it."""
import os
import subprocess
import sys

import polyfunc.backends as B
from polyfunc.testing.optable import op_cases
from polyfunc.testing.primitive_reference import MEANINGS, SCALAR_OPERANDS, render
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
