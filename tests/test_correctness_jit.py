"""jit over Python scalars, named tuples and nested jits (issue 15): each result is compared
with the same function run eagerly, which is the reference jit must reproduce."""
import math

import numpy as np
import pytest
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.errors import EscapedTracerError


# ------------------------------------------------------------------ Python scalars stay weak
def test_torch_tensor_times_python_float_under_jit():
    f = lambda x, s: x * s  # noqa: E731
    x = torch.ones(2)
    out = pf.jit(f)(x, 2.0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    torch.testing.assert_close(out, f(x, 2.0))


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
@pytest.mark.parametrize("s", [2.0, 3, True])
def test_numpy_dtype_of_array_times_python_scalar_as_eager(dtype, s):
    x = np.arange(3).astype(dtype)
    f = lambda x, s: pnp.multiply(x, s)  # noqa: E731
    eager = f(x, s)
    jitted = pf.jit(f)(x, s)
    assert jitted.dtype == eager.dtype
    np.testing.assert_array_equal(jitted, eager)


def test_jit_scalars_of_different_values_and_types_are_not_confused():
    f = pf.jit(lambda x, s: x / s)
    x = np.ones(2, np.float32)
    for s in (2.0, 4.0, 2, True, -0.0, 0.0, math.nan, math.inf):
        with np.errstate(divide="ignore", invalid="ignore"):
            eager = x / s
            got = f(x, s)
        assert got.dtype == eager.dtype
        np.testing.assert_array_equal(got, eager)   # signs of zero and infinities included


def test_jit_scalar_in_a_pytree_and_as_only_argument():
    f = pf.jit(lambda d: d["x"] * d["k"] + 1.0)
    x = np.ones(2, np.float32)
    out = f({"x": x, "k": 3.0})
    assert out.dtype == np.float32 and out.tolist() == [4.0, 4.0]
    g = pf.jit(lambda s: s * 2.0)
    assert g(3.0) == 6.0 and g(5.0) == 10.0


def test_jit_scalar_under_grad_and_vmap():
    f = pf.jit(lambda x, s: (x * s).sum())
    x = np.ones(3, np.float32)
    g = pf.grad(f)(x, 2.5)
    assert g.dtype == np.float32 and g.tolist() == [2.5, 2.5, 2.5]
    v = pf.vmap(f, in_dims=(0, None))(np.ones((4, 3), np.float32), 2.0)
    assert v.dtype == np.float32 and v.tolist() == [6.0] * 4


# ------------------------------------------------------------------ named tuples are pytrees
def _psd(n=3, batch=()):
    b = np.random.default_rng(0).standard_normal(batch + (n, n))
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def test_jit_of_slogdet_returns_its_named_tuple_of_arrays():
    a = _psd()
    out = pf.jit(pnp.linalg.slogdet)(a)
    sign, logabs = np.linalg.slogdet(a)
    assert type(out).__name__ == "SlogdetResult"
    assert float(out.sign) == sign and float(out.logabsdet) == pytest.approx(logabs, rel=1e-14)


def test_transforms_of_slogdet():
    a = _psd(3, (4,))
    v = pf.vmap(pnp.linalg.slogdet)(a)
    ref = np.linalg.slogdet(a)
    np.testing.assert_allclose(v.logabsdet, ref.logabsdet, rtol=1e-14)
    np.testing.assert_array_equal(v.sign, ref.sign)
    _, t = pf.jvp(pnp.linalg.slogdet, (a[0],), (np.eye(3),))
    assert float(t.logabsdet) == pytest.approx(np.trace(np.linalg.inv(a[0])), rel=1e-12)
    jac = pf.jacrev(lambda m: pnp.linalg.slogdet(m).logabsdet)(a[0])
    np.testing.assert_allclose(jac, np.linalg.inv(a[0]).T, rtol=1e-12)
    jr = pf.jacrev(pnp.linalg.slogdet)(a[0])
    np.testing.assert_allclose(jr.logabsdet, np.linalg.inv(a[0]).T, rtol=1e-12)
    np.testing.assert_array_equal(jr.sign, np.zeros((3, 3)))


def test_torch_named_tuples_through_jit():
    x = torch.tensor([[3.0, 1.0], [2.0, 5.0]])
    out = pf.jit(lambda t: torch.max(t, dim=1))(x)
    ref = torch.max(x, dim=1)
    torch.testing.assert_close(out.values, ref.values)
    torch.testing.assert_close(out.indices, ref.indices)


class Box:
    def __init__(self, v):
        self.v = v


def test_jit_returning_a_non_pytree_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"jit: .*Box.*register_pytree_node"):
        pf.jit(lambda x: Box(x))(np.ones(2))
    with pytest.raises(TypeError, match=r"jit: .*Box"):
        pf.jit(lambda x: (x, Box(x)))(np.ones(2))


# ------------------------------------------------------------------ nested jits
def test_inner_jit_that_captured_an_outer_tracer_retraces_later():
    state = {"g": np.ones(2)}

    @pf.jit
    def inner(x):
        return x + state["g"]

    @pf.jit
    def outer(x):
        state["g"] = x * 2.0           # the outer jit's tracer, through a global
        out = inner(x)
        state["g"] = np.full(2, 10.0)  # restored to a concrete value before outer returns
        return out

    x = np.ones(2)
    np.testing.assert_array_equal(outer(x), x + 2 * x)
    # at top level the inner jit must see the current global, not replay the escaped tracer
    np.testing.assert_array_equal(inner(x), x + 10.0)


def test_inner_jit_result_matches_eager_after_outer_call():
    scale = {"s": np.ones(3)}
    inner = pf.jit(lambda x: x * scale["s"])

    def outer_body(x):
        scale["s"] = pnp.sin(x)
        y = inner(x)
        scale["s"] = np.ones(3)
        return y
    x = np.linspace(0.1, 1.0, 3)
    np.testing.assert_allclose(pf.jit(outer_body)(x), x * np.sin(x))
    np.testing.assert_allclose(inner(x), x)


def test_escaped_jit_tracer_used_at_top_level_still_raises():
    leak = []

    @pf.jit
    def f(x):
        leak.append(x)
        return x
    f(np.ones(2))
    with pytest.raises(EscapedTracerError):
        pnp.sin(leak[0])


def test_torch_slogdet_and_sort_named_tuples_through_jit_and_vmap():
    a = torch.tensor(_psd(), dtype=torch.float64)
    out = pf.jit(torch.linalg.slogdet)(a)
    ref = torch.linalg.slogdet(a)
    torch.testing.assert_close(out.logabsdet, ref.logabsdet, rtol=1e-14, atol=0)
    v = pf.vmap(torch.linalg.slogdet)(torch.stack([a, 2 * a]))
    torch.testing.assert_close(v.logabsdet, torch.stack([ref.logabsdet, ref.logabsdet + 3 * np.log(2.0)]))
    s = pf.jit(lambda m: torch.sort(m, dim=0))(a)
    torch.testing.assert_close(s.values, torch.sort(a, dim=0).values)


def test_many_distinct_scalar_values_warn_once_with_the_fix():
    f = pf.jit(lambda x, s: x * s)
    x = np.ones(2, np.float32)
    with pytest.warns(RuntimeWarning, match=r"traced 32 times .* as an array") as rec:
        for i in range(40):
            assert f(x, float(i)).tolist() == [float(i)] * 2
    assert sum("traced" in str(w.message) for w in rec) == 1
    # the advertised fix traces once: a 0-d array of x's dtype is a graph input
    g = pf.jit(lambda x, s: x * s)
    for i in range(40):
        out = g(x, np.asarray(float(i), np.float32))
        assert out.dtype == np.float32 and out.tolist() == [float(i)] * 2
    assert len(g.cache) == 1
