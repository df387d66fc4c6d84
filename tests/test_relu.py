"""The relu and relu_grad primitives on every backend: the derivative at the kink (0, as torch
and JAX take it) under every transform, NaN, integers, batching with mixed in_dims, second
derivatives, and bad dtypes refused by name.  (The op table's rows check the kernels against
NumPy and finite differences; tests/test_torch_native.py compares torch models with torch.func.)"""
import numpy as np
import pytest

import polyfunc as pf
from polyfunc import ops
from polyfunc.errors import DTypeError
from polyfunc.testing import check_grads, to_numpy

X = np.array([-1.5, 0.0, -0.0, 0.7, 2.0, -0.2])
SLOPE = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0])        # relu'(x), 0 at x == 0


def _arr(backend, a):
    a = np.asarray(a)
    return backend.asarray(a, dtype=a.dtype)


def test_derivative_at_the_kink_is_zero_under_every_transform(backend):
    x, w = _arr(backend, X), _arr(backend, np.arange(1.0, 7.0))
    f = lambda x: ops.reduce_sum(ops.mul(ops.relu(x), w), (0,))  # noqa: E731
    np.testing.assert_array_equal(to_numpy(pf.grad(f)(x)), SLOPE * np.arange(1.0, 7.0))
    out, t = pf.jvp(ops.relu, (x,), (_arr(backend, np.ones(6)),))
    np.testing.assert_array_equal(to_numpy(out), np.where(X <= 0, 0, X))
    np.testing.assert_array_equal(to_numpy(t), SLOPE)
    _, pull = pf.vjp(ops.relu, x)
    np.testing.assert_array_equal(to_numpy(pull(_arr(backend, np.full(6, 3.0)))[0]), 3 * SLOPE)
    for jac in (pf.jacrev, pf.jacfwd):
        np.testing.assert_array_equal(to_numpy(jac(ops.relu)(x)), np.diag(SLOPE))
    np.testing.assert_array_equal(to_numpy(pf.jit(pf.grad(f))(x)), SLOPE * np.arange(1.0, 7.0))
    lin_out, lin = pf.linearize(ops.relu, x)
    np.testing.assert_array_equal(to_numpy(lin(_arr(backend, np.ones(6)))), SLOPE)


def test_second_derivatives(backend):
    x = _arr(backend, X)
    # relu(x)**2: derivative 2 relu(x), second derivative 2 where x > 0 and 0 at the kink (torch's value)
    f = lambda x: ops.reduce_sum(ops.mul(ops.relu(x), ops.relu(x)), (0,))  # noqa: E731
    np.testing.assert_array_equal(to_numpy(pf.hessian(f)(x)), np.diag(2 * SLOPE))
    # relu itself is piecewise linear: its Hessian is 0, forward over reverse and reverse over reverse
    g = lambda x: ops.reduce_sum(ops.mul(ops.relu(x), ops.sin(x)), (0,))  # noqa: E731
    xs = _arr(backend, np.array([-1.0, 0.4, 1.3]))
    want = np.diag(np.where(to_numpy(xs) > 0, 2 * np.cos(to_numpy(xs)) - to_numpy(xs) * np.sin(to_numpy(xs)), 0))
    np.testing.assert_allclose(to_numpy(pf.hessian(g)(xs)), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(pf.jacrev(pf.grad(g))(xs)), want, rtol=1e-12, atol=1e-12)
    check_grads(g, (xs,), order=3)


def test_nan_stays_and_passes_its_tangent(backend):
    # torch's kernels: relu(NaN) is NaN and its backward (x <= 0 picks 0) lets the tangent through
    x = _arr(backend, np.array([np.nan, -1.0, 1.0]))
    out, t = pf.jvp(ops.relu, (x,), (_arr(backend, np.ones(3)),))
    np.testing.assert_array_equal(to_numpy(out), [np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(to_numpy(t), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_dtypes_are_kept(backend, dtype):
    x = _arr(backend, np.array([-3, 0, 4], dtype=dtype))
    out = ops.relu(x)
    assert to_numpy(out).dtype == np.dtype(dtype)
    np.testing.assert_array_equal(to_numpy(out), np.array([0, 0, 4], dtype=dtype))
    assert to_numpy(pf.jit(ops.relu)(x)).dtype == np.dtype(dtype)


@pytest.mark.parametrize("in_dims", [(0, 0), (None, 0), (0, None), (1, 0), (1, None)])
def test_relu_grad_batches_with_mixed_in_dims(backend, in_dims):
    rng = np.random.default_rng(0)
    dx, dt = in_dims
    x = rng.normal(size=(3, 4) if dx != 1 else (4, 3))
    x[1, 2] = x[2, 0] = 0.0
    t = rng.normal(size=(3, 4))
    got = to_numpy(pf.vmap(ops.relu_grad, in_dims=in_dims)(_arr(backend, x), _arr(backend, t)))
    rows = []
    for i in range(3):
        xi = x if dx is None else np.take(x, i, axis=dx)
        ti = t if dt is None else np.take(t, i, axis=dt)
        rows.append(np.where(xi <= 0, 0.0, ti))
    np.testing.assert_array_equal(got, np.stack(rows))


def test_per_example_gradients_of_a_relu_net_match_a_loop(backend):
    rng = np.random.default_rng(1)
    w1, w2 = _arr(backend, rng.normal(size=(3, 5))), _arr(backend, rng.normal(size=(5,)))
    xs = rng.normal(size=(4, 3))
    xs[0] = 0.0                       # every pre-activation at the kink

    def loss(w1, x):
        return ops.reduce_sum(ops.mul(ops.relu(ops.dot_general(x, w1, (((0,), (0,)), ((), ())))), w2), (0,))
    got = to_numpy(pf.vmap(pf.grad(loss), in_dims=(None, 0))(w1, _arr(backend, xs)))
    for i in range(4):
        h = xs[i] @ to_numpy(w1)
        want = np.outer(xs[i], np.where(h > 0, to_numpy(w2), 0.0))
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("how", ["eager", "jit", "vmap"])
def test_bool_and_complex_are_refused_by_name(backend, how):
    run = {"eager": lambda f, x: f(x), "jit": lambda f, x: pf.jit(f)(x), "vmap": lambda f, x: pf.vmap(f)(x)}[how]
    mask = _arr(backend, np.array([True, False]))
    with pytest.raises(DTypeError, match=r"relu: expected real numbers .* got bool"):
        run(ops.relu, mask)
    with pytest.raises(DTypeError, match=r"relu_grad: expected real numbers .* got bool"):
        run(lambda m: ops.relu_grad(m, _arr(backend, np.ones(2))), mask)
    with pytest.raises(DTypeError, match=r"relu: expected real numbers .* got complex128"):
        run(ops.relu, _arr(backend, np.array([1 + 2j, -1j])))
