"""Messages that misled (issue 15): each error names the transform, what is wrong (the output,
not an argument; fwd's result; a traced value given to torch.tensor) and the fix; and the
inputs that were wrongly refused (round(decimals), a constant boolean mask, 'numpy:cpu')
give NumPy's / torch's values."""
import numpy as np
import pytest
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.errors import BackendError, EscapedTracerError, TransformError


# ------------------------------------------------------------------ outputs are not arguments
@pytest.mark.parametrize("transform", ["grad", "vjp", "jacrev", "jvp", "jacfwd", "linearize"])
def test_a_non_array_output_is_named_as_the_output(transform):
    f = lambda a: "hi"  # noqa: E731
    x = np.ones(2)
    call = {"grad": lambda: pf.grad(f)(1.0), "vjp": lambda: pf.vjp(f, x), "jacrev": lambda: pf.jacrev(f)(x),
            "jvp": lambda: pf.jvp(f, (x,), (x,)), "jacfwd": lambda: pf.jacfwd(f)(x),
            "linearize": lambda: pf.linearize(f, x)}[transform]
    with pytest.raises(TransformError) as e:
        call()
    msg = str(e.value)
    assert msg.startswith(f"{transform}:") and "output" in msg and "str" in msg
    assert "an argument of type" not in msg


def test_has_aux_with_a_single_array_names_no_tracer_class():
    with pytest.raises(TransformError) as e:
        pf.grad(lambda a: a * 2.0, has_aux=True)(1.0)
    msg = str(e.value)
    assert "Tracer" not in msg and "has_aux=True" in msg and "single array" in msg and "(output, aux)" in msg
    with pytest.raises(TransformError, match=r"jacrev: has_aux=True .* a tuple of length 3"):
        pf.jacrev(lambda a: (a, a, a), has_aux=True)(np.ones(2))
    with pytest.raises(TransformError, match=r"jvp: has_aux=True .* single array \(shape \(2,\)\)"):
        pf.jvp(lambda a: a, (np.ones(2),), (np.ones(2),), has_aux=True)


def test_custom_vjp_fwd_returning_three_values_says_so():
    @pf.custom_vjp
    def scaled(x):
        return x * 2.0

    scaled.defvjp(lambda x: (x * 2.0, x, 3), lambda res, g: (g * 2.0,))
    with pytest.raises(TransformError) as e:
        pf.grad(scaled)(1.0)
    msg = str(e.value)
    assert "'scaled'" in msg and "fwd" in msg and "pair" in msg and "length 3" in msg


# ------------------------------------------------------------------ round(decimals)
@pytest.mark.parametrize("decimals", [0, 2, -1])
def test_tracer_round_takes_decimals_as_numpy(decimals):
    x = np.array([1.23456, -7.891, 15.5])
    out = pf.vmap(lambda v: v.round(decimals))(np.stack([x, x * 3]))
    np.testing.assert_allclose(out, np.stack([x.round(decimals), (x * 3).round(decimals)]), rtol=1e-15)
    g = pf.grad(lambda v: (v.round(decimals) * v).sum())(x)
    np.testing.assert_allclose(g, x.round(decimals), rtol=1e-15)    # round's own derivative is 0


def test_torch_tracer_round_decimals_as_torch():
    x = torch.tensor([1.23456, -7.891, 15.5], dtype=torch.float64)
    out = pf.vmap(lambda v: v.round(decimals=2))(torch.stack([x, x]))
    torch.testing.assert_close(out, torch.stack([x.round(decimals=2)] * 2))


# ------------------------------------------------------------------ torch.tensor of a tracer
@pytest.mark.parametrize("make", [torch.tensor, torch.as_tensor], ids=["tensor", "as_tensor"])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_torch_tensor_of_a_tracer_names_the_fix(make, shape):
    with pytest.raises(TypeError) as e:
        pf.grad(lambda x: make(x).sum())(torch.ones(shape, dtype=torch.float64))
    msg = str(e.value)
    assert "torch.tensor(x)" in msg and "traced" in msg and "x.clone()" in msg


# ------------------------------------------------------------------ backend specs
def test_numpy_cpu_is_the_numpy_backend(monkeypatch):
    monkeypatch.setenv("POLYFUNC_BACKEND", "numpy:cpu")
    x = pnp.ones(2)
    assert isinstance(x, np.ndarray)
    assert pf.get_backend("numpy:cpu").name == "numpy"
    with pytest.raises(BackendError, match=r"no device 'cuda'; it offers \['cpu'\]"):
        pf.get_backend("numpy:cuda")


# ------------------------------------------------------------------ constant boolean masks
def test_constant_boolean_mask_under_grad_matches_torch_func():
    mask = np.array([True, False, True, True])
    x = np.array([1.0, 2.0, -3.0, 0.5])
    f = lambda v: (v[mask] ** 3).sum()  # noqa: E731
    g = pf.grad(f)(x)
    ref = torch.func.grad(lambda v: (v[torch.tensor(mask)] ** 3).sum())(torch.tensor(x)).numpy()
    np.testing.assert_allclose(g, ref, rtol=1e-15)
    np.testing.assert_allclose(g, np.where(mask, 3 * x ** 2, 0.0), rtol=1e-15)


def test_constant_boolean_masks_of_several_axes_and_placements():
    x = np.arange(24.0).reshape(2, 3, 4)
    m2 = np.array([[True, False, True], [False, True, True]])
    m1 = np.array([False, True, True, False])
    for idx in [(m2,), (m2, 1), (slice(None), slice(None), m1), (Ellipsis, m1), (0, slice(None), m1),
                ([True, False],), (m2, slice(None))]:
        got, tangent = pf.jvp(lambda v: v[idx], (x,), (np.ones_like(x),))
        np.testing.assert_array_equal(got, x[idx])
        np.testing.assert_array_equal(tangent, np.ones_like(x)[idx])
    # torch masks under a transform, and the gradient scatters back where the mask is True
    t = torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    tm = torch.tensor([[True, False, True], [False, False, True]])
    g = pf.grad(lambda v: (v[tm] * 2.0).sum())(t)
    torch.testing.assert_close(g, tm.double() * 2.0)


def test_a_mismatched_mask_is_an_index_error():
    with pytest.raises(IndexError, match="boolean index of shape"):
        pf.grad(lambda v: v[np.array([True, False])].sum())(np.ones(3))


def test_a_traced_mask_is_still_refused_with_the_fix():
    with pytest.raises(IndexError) as e:
        pf.vmap(lambda v: v[v > 0].sum())(np.ones((2, 3)))
    assert "where(mask, x, other)" in str(e.value) and "constant mask" in str(e.value)


# ------------------------------------------------------------------ integer outputs
@pytest.mark.parametrize("fn", [lambda x: (x > 0).astype(np.int64), lambda x: pnp.floor(x).astype(np.int32),
                                lambda x: x > 0], ids=["gt-int", "floor-int32", "bool"])
def test_jacrev_and_jacfwd_agree_on_integer_outputs(fn):
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    r = pf.jacrev(fn)(x)
    f = pf.jacfwd(fn)(x)
    assert r.dtype == f.dtype == np.float32
    np.testing.assert_array_equal(r, np.zeros((3, 3), np.float32))
    np.testing.assert_array_equal(f, r)


def test_jacrev_and_jacfwd_agree_on_mixed_outputs():
    fn = lambda x: {"i": (x > 0).astype(np.int64), "f": pnp.sin(x)}  # noqa: E731
    x = np.array([0.5, -1.0])
    r, f = pf.jacrev(fn)(x), pf.jacfwd(fn)(x)
    for k in r:
        assert r[k].dtype == f[k].dtype == np.float64
        np.testing.assert_allclose(r[k], f[k], rtol=1e-15)
    np.testing.assert_allclose(r["f"], np.diag(np.cos(x)))


# ------------------------------------------------------------------ argnums
@pytest.mark.parametrize("transform", [pf.grad, pf.jacrev, pf.jacfwd, pf.grad_and_value])
def test_argnums_with_a_float_is_refused_even_after_the_int_form(transform):
    f = lambda a, b: (a * b).sum()  # noqa: E731
    transform(f, argnums=(0, 1))(np.ones(2), np.ones(2))   # caches the valid form
    for bad in [(0, 1.0), 1.0, (0.0,)]:
        with pytest.raises(TransformError, match="argnums must be an int or a tuple of ints"):
            transform(f, argnums=bad)(np.ones(2), np.ones(2))


# ------------------------------------------------------------------ escaped tracers
def test_tolist_and_friends_of_an_escaped_tracer_raise():
    saved = []

    def f(x):
        saved.append(x)
        assert x.tolist() == [1.0, 2.0]           # inside the transform the value is there
        return x.sum()
    pf.grad(f)(np.array([1.0, 2.0]))
    for read in (lambda t: t.tolist(), lambda t: t[0].item(), lambda t: float(t[0]), lambda t: bool(t[0]),
                 lambda t: int(t[1])):
        with pytest.raises(EscapedTracerError, match="escaped"):
            read(saved[0])


def test_escaped_vmap_tracer_tolist_raises():
    saved = []
    pf.vmap(lambda x: saved.append(x) or x)(np.ones((2, 3)))
    with pytest.raises(EscapedTracerError):
        saved[0].tolist()
