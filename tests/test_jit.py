"""Graph capture and jit on every installed backend."""
import numpy as np

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.testing import to_numpy


def arr(v):
    return pnp.asarray(v, backend=pf.current_backend())


def test_make_graph_lists_primitives(backend):
    g = pf.make_graph(lambda x, y: pnp.sum(pnp.sin(x) * y))(arr([1.0, 2.0]), arr([3.0, 4.0]))
    text = str(g)
    assert [e.prim.name for e in g.eqns] == ["sin", "mul", "reduce_sum"]
    assert "float64[2]" in text and "reduce_sum[axes=(0,)]" in text
    np.testing.assert_allclose(to_numpy(g(arr([0.0, 1.0]), arr([1.0, 1.0]))[0]), np.sin(1.0))


def test_jit_caches_per_signature(backend):
    calls = []

    def f(x):
        calls.append(1)
        return pnp.tanh(x) * 2.0
    jf = pf.jit(f)
    x = arr([0.1, 0.2])
    np.testing.assert_allclose(to_numpy(jf(x)), np.tanh([0.1, 0.2]) * 2.0)
    jf(arr([0.3, 0.4]))
    assert len(calls) == 1
    jf(arr([0.3, 0.4, 0.5]))
    assert len(calls) == 2


def test_jit_static_argnums(backend):
    jf = pf.jit(lambda x, n: x * n if n > 1 else -x, static_argnums=1)
    np.testing.assert_allclose(to_numpy(jf(arr([1.0]), 3)), [3.0])
    np.testing.assert_allclose(to_numpy(jf(arr([1.0]), 0)), [-1.0])


def test_jit_random_draws_every_call(backend):
    jf = pf.jit(lambda x: x + pf.random.normal(x.shape))
    a, b = to_numpy(jf(arr([0.0, 0.0]))), to_numpy(jf(arr([0.0, 0.0])))
    assert not np.allclose(a, b)


def test_transforms_of_jit_and_jit_of_transforms(backend):
    f = lambda x: pnp.sum(pnp.sin(x) ** 2)  # noqa: E731
    x = arr([0.3, 0.7])
    want = 2 * np.sin([0.3, 0.7]) * np.cos([0.3, 0.7])
    np.testing.assert_allclose(to_numpy(pf.grad(pf.jit(f))(x)), want)
    np.testing.assert_allclose(to_numpy(pf.jit(pf.grad(f))(x)), want)
    np.testing.assert_allclose(to_numpy(pf.vmap(pf.jit(pf.grad(f)))(pnp.stack([x, x]))), [want, want])


def test_jit_closing_over_an_outer_tracer_is_not_cached_stale(backend):
    def outer(w):
        return pf.jit(lambda x: x * w)(arr([1.0, 2.0])).sum()
    np.testing.assert_allclose(to_numpy(pf.grad(outer)(arr(3.0))), 3.0)
    np.testing.assert_allclose(to_numpy(pf.grad(outer)(arr(5.0))), 3.0)


def test_jit_static_args_are_keyed_by_type_too(backend):
    f = pf.jit(lambda x, n: x * 2 if isinstance(n, float) else x * 3, static_argnums=1)
    x = arr([1.0])
    np.testing.assert_allclose(to_numpy(f(x, 2)), [3.0])
    np.testing.assert_allclose(to_numpy(f(x, 2.0)), [2.0])
    g = pf.jit(lambda x, *, mode: x * 2 if mode is True else x * 3)
    np.testing.assert_allclose(to_numpy(g(x, mode=1)), [3.0])
    np.testing.assert_allclose(to_numpy(g(x, mode=True)), [2.0])


def test_custom_rules_survive_jit(backend):
    @pf.custom_jvp
    def f(x):
        return pnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), 2.0 * t[0]
    x = arr(0.3)
    np.testing.assert_allclose(to_numpy(pf.grad(pf.jit(f))(x)), 2.0)
    g = pf.custom_vjp(lambda v: v * 2.0)
    g.defvjp(lambda v: (g(v), None), lambda r, c: (5.0 * c,))
    np.testing.assert_allclose(to_numpy(pf.grad(pf.jit(g))(x)), 5.0)
    assert [e.prim.name for e in pf.make_graph(f)(x).eqns] == ["custom_jvp_call"]


def test_jit_does_not_cache_outputs_of_an_enclosing_transform(backend):
    holder = {}
    jf = pf.jit(lambda v: (v * 2.0, holder["y"] * 3.0))

    def outer(y):
        holder["y"] = y
        a, b = jf(arr([1.0, 1.0]))
        return a.sum() + b.sum()
    np.testing.assert_allclose(to_numpy(pf.grad(outer)(arr(1.0))), 3.0)
    np.testing.assert_allclose(to_numpy(pf.grad(outer)(arr(5.0))), 3.0)


def test_jit_static_argnums_out_of_range():
    import pytest
    with pytest.raises(pf.TransformError, match="static_argnums names argument 3"):
        pf.jit(lambda x, n: x * n, static_argnums=3)(np.ones(2), 2.0)


def test_backward_pass_of_a_captured_linear_graph():
    g = pf.make_graph(lambda v: v * 2.0)(np.ones(2))
    (ct,) = pf.backward_pass(g, [np.array([1.0, 3.0])])
    np.testing.assert_allclose(ct, [2.0, 6.0])


def test_primitive_defined_by_impl_under_every_transform():
    from polyfunc.primitive import Primitive
    from polyfunc import ops
    p = Primitive("test_sincos_impl", multiple_results=True, impl=lambda x: [ops.sin(x), ops.cos(x)])
    x = np.array([0.1, 0.2, 0.3])
    s, c = pf.vmap(lambda v: p.bind(v))(x)
    np.testing.assert_allclose(s, np.sin(x))
    _, (ts, tc) = pf.jvp(lambda v: p.bind(v), (x,), (np.ones(3),))
    np.testing.assert_allclose(ts, np.cos(x))
    np.testing.assert_allclose(pf.grad(lambda v: p.bind(v)[1].sum())(x), -np.sin(x))
