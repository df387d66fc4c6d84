"""The autodiff transforms on every installed backend: the seed's examples,
composition to higher order, perturbation confusion, pytrees, custom rules."""
import collections
import dataclasses

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.testing import check_grads, to_numpy as _to_numpy


def to_numpy(x):
    return np.asarray(x) if isinstance(x, (list, tuple)) else _to_numpy(x)


def close(a, b, **kw):
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=kw.get("rtol", 1e-6), atol=kw.get("atol", 1e-8))


def rand(*shape):
    return pnp.asarray(np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape), backend=pf.current_backend())


# ------------------------------------------------------------------ the whirlwind tour
def test_grad_sin(backend):
    x = rand()
    close(pf.grad(pnp.sin)(x), pnp.cos(x))
    close(pf.grad(pf.grad(pnp.sin))(x), -pnp.sin(x))
    close(pf.grad(pf.grad(pf.grad(pnp.sin)))(x), -pnp.cos(x))


def test_vjp_sin(backend):
    x, ct = rand(3), rand(3) * 0.5
    out, vjp_fn = pf.vjp(pnp.sin, x)
    close(out, pnp.sin(x))
    (g,) = vjp_fn(ct)
    close(g, ct * pnp.cos(x))


def test_jvp_product(backend):
    x, y = rand(5), rand(5) + 1.0
    out, t = pf.jvp(lambda x, y: x * y, (x, y), (pnp.ones(5), pnp.ones(5)))
    close(out, x * y)
    close(t, x + y)


def test_jacobians_of_sin(backend):
    x = rand(5)
    close(pf.jacrev(pnp.sin)(x), pnp.diag(pnp.cos(x)))
    close(pf.jacfwd(pnp.sin)(x), pnp.diag(pnp.cos(x)))


def test_hessian_three_ways(backend):
    def f(x):
        return pnp.sin(x).sum()
    x = rand(5)
    h = pf.hessian(f)(x)
    close(h, pf.jacfwd(pf.jacrev(f))(x))
    close(h, pf.jacrev(pf.jacrev(f))(x))
    close(h, pnp.diag(-pnp.sin(x)))


# ------------------------------------------------------------------ composition
def test_hvp_by_jvp_of_grad_and_vjp_of_grad(backend):
    def f(x):
        return (pnp.tanh(x) ** 2).sum() + (x[0] * x[1])
    x, v = rand(4), rand(4)
    h = to_numpy(pf.hessian(f)(x))
    _, hv = pf.jvp(pf.grad(f), (x,), (v,))
    close(hv, h @ to_numpy(v))
    _, vjp_fn = pf.vjp(pf.grad(f), x)
    close(vjp_fn(v)[0], to_numpy(v) @ h)


def test_perturbation_confusion(backend):
    # d/dx [x * d/dy (x + y)] at y = 0 is 1: the inner derivative must not see x's perturbation
    def f(x):
        return x * pf.grad(lambda y: x + y)(pnp.asarray(0.0))
    close(pf.grad(f)(pnp.asarray(2.0)), 1.0)
    _, t = pf.jvp(f, (pnp.asarray(2.0),), (pnp.asarray(1.0),))
    close(t, 1.0)


def test_inner_grad_closes_over_outer_variable(backend):
    # d/dx grad_y(x * y^2)(y=3) = d/dx 6x = 6
    close(pf.grad(lambda x: pf.grad(lambda y: x * y ** 2)(pnp.asarray(3.0)))(pnp.asarray(1.5)), 6.0)


def test_fourth_order(backend):
    f = pnp.sin
    for _ in range(4):
        f = pf.grad(f)
    x = rand()
    close(f(x), pnp.sin(x))


def test_linearize(backend):
    x, t = rand(3), rand(3)
    out, f_jvp = pf.linearize(lambda x: pnp.exp(x) * x, x)
    close(out, pnp.exp(x) * x)
    close(f_jvp(t), (pnp.exp(x) * x + pnp.exp(x)) * t)


def test_check_grads_on_a_composite(backend):
    def f(x, w):
        return pnp.tanh(x @ w).sum() + pnp.log1p(x ** 2).mean()
    check_grads(f, (rand(3, 4), rand(4, 2)), order=2)


# ------------------------------------------------------------------ argnums, pytrees, aux
def test_argnums_tuple_and_negative(backend):
    f = lambda x, y, z: (x * y * z).sum()  # noqa: E731
    x, y, z = rand(2), rand(2), rand(2)
    gx, gz = pf.grad(f, argnums=(0, -1))(x, y, z)
    close(gx, y * z)
    close(gz, x * y)


def test_unused_input_gets_zero_gradient(backend):
    gx, gy = pf.grad(lambda x, y: (x ** 2).sum(), argnums=(0, 1))(rand(3), rand(2))
    close(gy, np.zeros(2))


def test_pytree_inputs_and_structure(backend):
    Point = collections.namedtuple("Point", "a b")

    @dataclasses.dataclass
    class Params:
        w: object
        b: object
    params = {"layer": [Point(rand(2), rand(2))], "p": Params(rand(3), rand())}

    def f(p):
        pt = p["layer"][0]
        return (pt.a * pt.b).sum() + (p["p"].w ** 2).sum() * p["p"].b
    g = pf.grad(f)(params)
    assert isinstance(g["layer"][0], Point) and isinstance(g["p"], Params)
    close(g["layer"][0].a, params["layer"][0].b)
    close(g["p"].w, 2 * params["p"].w * params["p"].b)
    close(g["p"].b, (params["p"].w ** 2).sum())


def test_has_aux_and_grad_and_value(backend):
    x = rand(3)
    g, aux = pf.grad(lambda x: ((x ** 2).sum(), {"n": x.sum()}), has_aux=True)(x)
    close(g, 2 * x)
    close(aux["n"], x.sum())
    g, (v, aux) = pf.grad_and_value(lambda x: ((x ** 2).sum(), 7), has_aux=True)(x)
    close(v, (x ** 2).sum())
    assert aux == 7


def test_kwargs_pass_through(backend):
    g = pf.grad(lambda x, scale=1.0: (x * scale).sum())(rand(2), scale=3.0)
    close(g, [3.0, 3.0])


def test_jacobian_shapes_and_pytree_outputs(backend):
    def f(x, y):
        return {"a": x[:, None] * y[None, :], "b": pnp.sin(x).sum()}
    x, y = rand(3), rand(2)
    xn, yn = to_numpy(x), to_numpy(y)
    # d(x_i y_j)/dx_k = [i == k] y_j and d(x_i y_j)/dy_k = x_i [j == k]: values, not only shapes
    want_ax = np.einsum("ik,j->ijk", np.eye(3), yn)
    want_ay = np.einsum("i,jk->ijk", xn, np.eye(2))
    for jac in (pf.jacrev, pf.jacfwd):
        j = jac(f, argnums=(0, 1))(x, y)
        assert j["a"][0].shape == (3, 2, 3) and j["a"][1].shape == (3, 2, 2)
        assert j["b"][0].shape == (3,) and j["b"][1].shape == (2,)
        close(j["a"][0], want_ax)
        close(j["a"][1], want_ay)
        close(j["b"][0], pnp.cos(x))
        close(j["b"][1], np.zeros(2))


def test_jacobians_keep_a_one_array_container(backend):
    # one array inside a dict or tuple: the Jacobian keeps that container (jacrev's one-input path)
    x = rand(3)
    for jac in (pf.jacrev, pf.jacfwd):
        j = jac(lambda d: pnp.sin(d["a"]))({"a": x})
        assert set(j) == {"a"}
        close(j["a"], np.diag(np.cos(to_numpy(x))))
        j = jac(lambda t: pnp.sin(t[0]))((x,))
        assert isinstance(j, tuple) and len(j) == 1
        j = jac(lambda d: pnp.sin(d["a"]), argnums=(0,))({"a": x})
        assert isinstance(j, tuple) and set(j[0]) == {"a"}
    h = pf.hessian(lambda d: (d["a"] ** 3).sum())({"a": x})
    close(h["a"]["a"], np.diag(6 * to_numpy(x)))


def test_python_float_primal_broadcast(backend):
    # a Python-float primal and tangent meeting an array: the broadcast kernel gets a Python scalar
    out, t = pf.jvp(lambda x: x + pnp.ones(3), (3.0,), (1.0,))
    close(out, [4.0, 4.0, 4.0])
    close(t, [1.0, 1.0, 1.0])
    close(pf.linearize(lambda x: x + pnp.ones(3), 3.0)[1](1.0), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("chunk", [1, 2, 4, None])
def test_jacrev_chunk_size(backend, chunk):
    x = rand(5)
    f = lambda x: pnp.tanh(x)[:4] * x.sum()  # noqa: E731
    # the Jacobian worked out by hand (an independent reference, not jacfwd)
    xn = to_numpy(x)
    t = np.tanh(xn[:4])
    want = np.tile(t[:, None], (1, 5))
    want[np.arange(4), np.arange(4)] += (1 - t ** 2) * xn.sum()
    close(pf.jacrev(f, chunk_size=chunk)(x), want)
    close(pf.jacfwd(f)(x), want)


def test_stop_gradient(backend):
    x = rand(3)
    close(pf.grad(lambda x: (x * pf.stop_gradient(x)).sum())(x), x)


def test_where_nan_in_untaken_branch_gives_exact_zero(backend):
    # the "double where" trick: the branch not taken must contribute an exact 0, never NaN
    def safe_log(x):
        safe = pnp.where(x > 0, x, 1.0)
        return pnp.where(x > 0, pnp.log(safe), 0.0)
    g = pf.grad(lambda x: safe_log(x).sum())(pnp.asarray([0.0, 2.0]))
    close(g, [0.0, 0.5])
    g = pf.grad(lambda x: pnp.where(x > 0, x, 0.0).sum())(pnp.asarray([-1.0, 2.0]))
    close(g, [0.0, 1.0])


# ------------------------------------------------------------------ custom rules
def test_custom_jvp_used_by_grad_and_vmap(backend):
    @pf.custom_jvp
    def f(x):
        return pnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * t
    x = rand(4)
    close(pf.grad(lambda x: f(x).sum())(x), np.full(4, 3.0))
    close(pf.vmap(pf.grad(f))(x), np.full(4, 3.0))
    close(pf.grad(lambda x: pf.vmap(f)(x).sum())(x), np.full(4, 3.0))
    close(f(x), pnp.sin(x))


def test_custom_vjp_clip_gradient(backend):
    @pf.custom_vjp
    def clip_grad(x):
        return x
    clip_grad.defvjp(lambda x: (x, None), lambda res, g: (pnp.clip(g, -1.0, 1.0),))
    x = pnp.asarray([1.0, 2.0])
    close(pf.grad(lambda x: (5.0 * clip_grad(x)).sum())(x), [1.0, 1.0])
    close(pf.vmap(pf.grad(lambda x: 5.0 * clip_grad(x)))(x), [1.0, 1.0])
    close(pf.grad(lambda x: (5.0 * pf.vmap(clip_grad)(x)).sum())(x), [1.0, 1.0])


def test_custom_vjp_residuals(backend):
    @pf.custom_vjp
    def f(x, y):
        return pnp.sin(x) * y

    def fwd(x, y):
        return f(x, y), (pnp.cos(x), pnp.sin(x), y)

    def bwd(res, g):
        cos_x, sin_x, y = res
        return (cos_x * g * y, sin_x * g)
    f.defvjp(fwd, bwd)
    x, y = rand(3), rand(3)
    gx, gy = pf.grad(lambda x, y: f(x, y).sum(), argnums=(0, 1))(x, y)
    close(gx, pnp.cos(x) * y)
    close(gy, pnp.sin(x))


def test_custom_vjp_refuses_forward_mode(backend):
    @pf.custom_vjp
    def f(x):
        return x
    f.defvjp(lambda x: (x, None), lambda r, g: (g,))
    with pytest.raises(pf.TransformError, match="reverse mode only"):
        pf.jvp(f, (rand(2),), (rand(2),))


def test_custom_vjp_rule_survives_vmap(backend):
    # the batched call keeps the user's rule (a deliberately scaled one): per-element grads under
    # vmap, and an unbatched argument collects the cotangents of every element
    @pf.custom_vjp
    def f(x, w):
        return x * w

    def fwd(x, w):
        return f(x, w), (x, w)

    def bwd(res, g):
        x, w = res
        return (2.0 * g * w, 3.0 * g * x)
    f.defvjp(fwd, bwd)
    xs, w = rand(4, 3), rand(3)
    gx, gw = pf.grad(lambda xs, w: pf.vmap(f, in_dims=(0, None))(xs, w).sum(), argnums=(0, 1))(xs, w)
    close(gx, 2.0 * np.broadcast_to(to_numpy(w), (4, 3)))
    close(gw, 3.0 * to_numpy(xs).sum(0))
    close(pf.vmap(pf.grad(lambda x, w: f(x, w).sum()), in_dims=(0, None))(xs, w),
          2.0 * np.broadcast_to(to_numpy(w), (4, 3)))


def test_custom_jvp_rule_survives_vmap_under_forward_mode(backend):
    @pf.custom_jvp
    def f(x):
        return pnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * t * x
    x, t = rand(4, 2), pnp.reshape(rand(2, 4), (4, 2))
    out, tout = pf.jvp(pf.vmap(f), (x,), (t,))
    close(out, np.sin(to_numpy(x)))
    close(tout, 3.0 * to_numpy(t) * to_numpy(x))
    close(pf.jacfwd(lambda x: pf.vmap(f)(x).sum())(x), 3.0 * to_numpy(x))


# ------------------------------------------------------------------ native numpy code
def test_native_numpy_code_under_grad():
    x = np.array([0.1, 0.2, 0.3])
    g = pf.grad(lambda x: np.sum(np.sin(x) ** 2))(x)
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x))
    np.testing.assert_allclose(pf.vmap(lambda v: np.dot(v, v))(np.ones((2, 3))), [3.0, 3.0])


def test_native_numpy_function_without_mapping_is_named():
    with pytest.raises(NotImplementedError, match="fft"):
        pf.grad(lambda x: np.fft.fft(x).real.sum())(np.ones(4))


def test_sort_gradients(backend):
    # sort is take_along_axis of argsort: each output's gradient lands on the input it came from
    x = rand(3, 5)
    for f in (lambda x: pnp.sort(x), lambda x: pnp.sort(x, axis=0), lambda x: pnp.sort(x, axis=None)[::2]):
        check_grads(f, (x,), order=2)
        close(pf.vmap(f)(pnp.stack([x, -x])), pnp.stack([f(x), f(-x)]))
    g = pf.grad(lambda x: (pnp.sort(x) * pnp.arange(5.0)).sum())(x)
    ranks = np.argsort(np.argsort(to_numpy(x), axis=1), axis=1)
    close(g, ranks.astype(float))


def test_cumprod_gradients_with_zeros(backend):
    # the scan is differentiable through zeros, where a cumsum-of-logs or a division would not be
    x = pnp.asarray(np.array([[1.5, 0.0, -2.0, 0.5, 3.0], [0.7, 1.1, 0.0, 0.0, -1.2]]), backend=pf.current_backend())
    for axis in (1, 0, None):
        check_grads(lambda x: pnp.cumprod(x, axis=axis), (x,), order=2)
    w = np.arange(1.0, 6.0)
    wb = pnp.asarray(w, backend=pf.current_backend())
    g = pf.grad(lambda r: (pnp.cumprod(r) * wb).sum())(x[0])
    xr = to_numpy(x[0])
    want = [sum(w[i] * np.prod([xr[k] for k in range(i + 1) if k != j]) for i in range(j, 5)) for j in range(5)]
    close(g, want)


def test_erf_kernel_on_ints_and_python_scalars():
    import polyfunc.ops as ops
    with pf.use_backend("numpy"):
        np.testing.assert_allclose(ops.erf(np.arange(3)), [0.0, 0.8427007929497149, 0.9953222650189527])
        np.testing.assert_allclose(ops.erfc(np.asarray(10.0)), 2.088487583762545e-45, rtol=1e-12)
        np.testing.assert_allclose(ops.erf(0.5), 0.5204998778130465)
