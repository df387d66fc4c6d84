"""polyfunc against torch.func on torch's own OpInfo database (``op_db``).

For every OpInfo whose function, method or alias polyfunc's torch map registers, on the op's
first samples (``POLYFUNC_OPDB_SAMPLES``, 2 by default; ``all`` for the nightly-style run) in
float32 and float64: ``pf.vmap`` with in_dims 0 and -1, ``pf.vjp`` and ``pf.jvp`` must equal
``torch.func``'s.  Where they do not, ``opdb_expected_failures.XFAIL`` says why, as a strict
xfail: a fix makes the test pass and fail as XPASS until the row is removed.
"""
from __future__ import annotations

import os
import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")   # torch.testing._internal imports it

import opdb_harness as H  # noqa: E402
from opdb_expected_failures import NOT_IN_OPDB, NOTHING_TO_TRANSFORM, XFAIL  # noqa: E402

from polyfunc_torch.registry import REGISTRY  # noqa: E402

# The inputs are torch tensors, so polyfunc runs them on the torch backend whichever is the
# default: CI's second pass (POLYFUNC_BACKEND=torch) would repeat the same checks, and this
# file's ~2 minutes are paid once, in the default-backend pass.
pytestmark = pytest.mark.skipif(os.environ.get("POLYFUNC_BACKEND", "").startswith("torch"),
                                reason="runs once, in the default-backend pass: the inputs are torch tensors either way")


def _params():
    out = []
    for name in H.CLAIMED:
        if name in NOTHING_TO_TRANSFORM:
            continue
        o = H.OPS[name]
        for dtype in H.DTYPES:
            if dtype not in o.supported_dtypes("cpu"):
                continue
            for check in H.CHECKS:
                if check in ("vjp", "jvp") and not o.supports_autograd:
                    continue      # op_db declares the op not differentiable
                d = str(dtype).removeprefix("torch.")
                reason = XFAIL.get((name, check, d)) or XFAIL.get((name, check, None))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(name, dtype, check, marks=marks, id=f"{name}-{check}-{d}"))
    return out


@pytest.mark.parametrize("name, dtype, check", _params())
def test_opdb_matches_torch_func(name, dtype, check):
    o = H.OPS[name]
    ran = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for got, want, what in H.run_check(o, dtype, check):
            H.close(got, want, dtype, what)
            ran += 1
    assert ran, f"{name}: no sample of op_db with a float tensor argument to transform"


def test_every_xfail_row_names_a_claimed_op_and_check():
    for (name, check, dtype) in XFAIL:
        assert name in H.CLAIMED, f"{name}: not an op_db op polyfunc maps"
        assert check in H.CHECKS and dtype in (None, "float32", "float64"), (name, check, dtype)
    for name in NOTHING_TO_TRANSFORM:
        assert name in H.CLAIMED, f"{name}: not an op_db op polyfunc maps"
        assert not any(H.split(H.OPS[name], s)[1] for s in H.samples(H.OPS[name], H.DTYPES[-1])), \
            f"{name}: has a sample with a float tensor argument; remove it from NOTHING_TO_TRANSFORM"


def _name(k) -> str:
    """A registry key as a readable name: ``torch.sin``, ``Tensor.add``, ``method.add``, ``property.device``."""
    if isinstance(k, tuple):
        return ".".join(k)
    if getattr(k, "__objclass__", None) is not None or getattr(torch.Tensor, getattr(k, "__name__", ""), None) is k:
        return f"Tensor.{k.__name__}"
    mod = (getattr(k, "__module__", None) or "torch").replace("torch._C._nn", "torch.nn.functional")
    mod = "torch" if mod.startswith("torch._") or mod in ("torch.functional",) else mod
    return f"{mod}.{getattr(k, '__name__', repr(k))}"


def _in_opdb(k, in_opdb: set) -> bool:
    """Is ``k`` an op_db callable, or the method (on a tracer or a real tensor) of one?"""
    if not isinstance(k, tuple) and H._hashable(k) and k in in_opdb:
        return True
    name = k[1] if isinstance(k, tuple) else getattr(k, "__name__", "")
    if isinstance(k, tuple) or getattr(k, "__objclass__", None) is not None:
        forms = (getattr(torch.Tensor, name, None), getattr(torch, name, None))
        return any(f is not None and H._hashable(f) and f in in_opdb for f in forms)
    return False


def declared_reason(name: str) -> str | None:
    if name.startswith("property."):
        return "an attribute read (x.device, x.requires_grad), not an op"
    base = name.rpartition(".")[2]
    if base.endswith("_") and not base.startswith("__"):
        return ("an in-place form: op_db tests in-place variants through their out-of-place OpInfo; "
                "ours are checked by tests/test_torch_ops.py")
    return next((reason for reason, names in NOT_IN_OPDB.items() if name in names), None)


def test_every_mapped_torch_callable_has_an_opdb_row_or_a_declared_reason():
    in_opdb = H.opdb_callables()
    names = {_name(k) for k in REGISTRY if not _in_opdb(k, in_opdb)}
    missing = sorted(n for n in names if declared_reason(n) is None)
    assert not missing, f"mapped torch callables with no op_db row and no reason in NOT_IN_OPDB: {missing}"
    declared = {n for keys in NOT_IN_OPDB.values() for n in keys}
    stale = sorted(declared - names)
    assert not stale, f"NOT_IN_OPDB lists names that are mapped with an op_db row, or not mapped: {stale}"
