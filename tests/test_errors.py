"""Bad input: every error names what was wrong and how to fix it."""
import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp


def x3():
    return pnp.asarray([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ autodiff
def test_grad_of_non_scalar_output():
    with pytest.raises(pf.TransformError, match=r"grad.*scalar.*shape \(3,\).*(vjp|jacrev)"):
        pf.grad(pnp.sin)(x3())


@pytest.mark.parametrize("value", [np.array([1, 2]), np.array([True, False]), 3])
def test_grad_of_integer_or_bool_input(value):
    with pytest.raises(pf.TransformError, match=r"grad: only floating-point.*(float64|as a float).*argnums"):
        pf.grad(lambda x: (x * 1.0).sum())(value)


@pytest.mark.parametrize("argnums,msg", [(2, "names argument 2"), ((0, 0), "repeats"), ((), "empty"),
                                         ("a", "int or a tuple")])
def test_bad_argnums(argnums, msg):
    with pytest.raises(pf.TransformError, match=msg):
        pf.grad(lambda x, y: (x * y).sum(), argnums=argnums)(x3(), x3())


def test_has_aux_without_pair():
    with pytest.raises(pf.TransformError, match=r"has_aux=True.*pair"):
        pf.grad(lambda x: x.sum(), has_aux=True)(x3())
    with pytest.raises(pf.TransformError, match=r"has_aux=True.*pair.*length 3"):
        pf.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(x3())


def test_cotangent_mismatch():
    _, vjp_fn = pf.vjp(lambda x: (x, x.sum()), x3())
    with pytest.raises(pf.TransformError, match="structure"):
        vjp_fn(pnp.ones(3))
    with pytest.raises(pf.TransformError, match=r"shape \(2,\)"):
        vjp_fn((pnp.ones(2), pnp.asarray(1.0)))


def test_tangent_mismatch():
    with pytest.raises(pf.TransformError, match="structure"):
        pf.jvp(pnp.sin, (x3(),), (x3(), x3()))
    with pytest.raises(pf.TransformError, match=r"shape \(2,\)"):
        pf.jvp(pnp.sin, (x3(),), (pnp.ones(2),))
    with pytest.raises(pf.TransformError, match="dtype float32"):
        pf.jvp(pnp.sin, (x3(),), (pnp.ones(3, dtype="float32"),))


def test_escaped_tracer_names_the_transform():
    leaked = []

    def f(x):
        leaked.append(pnp.sin(x))
        return x.sum()
    pf.grad(f)(x3())
    with pytest.raises(pf.EscapedTracerError, match=r"`grad`.*has_aux"):
        pnp.cos(leaked[0])
    leaked.clear()
    pf.vmap(lambda x: leaked.append(x * 2) or x)(x3())
    with pytest.raises(pf.EscapedTracerError, match="`vmap`"):
        pnp.cos(leaked[0])


# ------------------------------------------------------------------ vmap
def test_in_dims_structure_mismatch_shows_both():
    with pytest.raises(pf.TransformError, match=r"in_dims.*2 entries.*3 positional"):
        pf.vmap(lambda a, b, c: a, in_dims=(0, 0))(x3(), x3(), x3())
    with pytest.raises(pf.TransformError, match=r"structure.*PyTreeSpec"):
        pf.vmap(lambda d: d["a"], in_dims=({"b": 0},))({"a": x3()})


def test_int_in_dim_for_non_array():
    with pytest.raises(pf.TransformError, match=r"not an array.*None"):
        pf.vmap(lambda a, s: a * s)(x3(), 2.0)
    with pytest.raises(pf.TransformError, match=r"not an array.*None"):   # NumPy's float64 is a float too
        pf.vmap(lambda a, s: a * s)(x3(), np.float64(2.0))


def test_batch_sizes_differ():
    with pytest.raises(pf.TransformError, match=r"different sizes.*3.*2"):
        pf.vmap(lambda a, b: a + b.sum())(x3(), pnp.ones((2, 2)))


def test_in_dim_out_of_range():
    with pytest.raises(pf.TransformError, match=r"in_dim 2 is out of range.*shape \(3,\)"):
        pf.vmap(pnp.sin, in_dims=2)(x3())


def test_no_batched_argument():
    with pytest.raises(pf.TransformError, match="no argument is batched"):
        pf.vmap(pnp.sin, in_dims=None)(x3())
    with pytest.raises(pf.TransformError, match="no positional arguments"):
        pf.vmap(lambda: 1.0)()


def test_batched_output_with_out_dims_none():
    with pytest.raises(pf.TransformError, match="out_dims=None"):
        pf.vmap(pnp.sin, out_dims=None)(x3())


@pytest.mark.parametrize("use", [bool, float, int, lambda v: v.item()])
def test_control_flow_on_batched_value(use):
    with pytest.raises(pf.ConcretizationError, match=r"batched.*where"):
        pf.vmap(lambda v: v * 2 if use(v > 0) else v)(x3())


def test_control_flow_under_grad_uses_the_concrete_value():
    # grad does not stage: like torch.func, Python control flow sees the primal value
    f = lambda x: x * 2 if float(x) > 0 else x * 3  # noqa: E731
    assert float(pf.grad(f)(pnp.asarray(1.0))) == 2.0
    assert float(pf.grad(f)(pnp.asarray(-1.0))) == 3.0


def test_random_under_vmap_with_error_mode():
    with pytest.raises(pf.TransformError, match=r"random_normal.*randomness='different'"):
        pf.vmap(lambda v: v + pf.random.normal(()))(x3())


def test_abstract_value_under_jit_cannot_branch():
    with pytest.raises(pf.ConcretizationError, match="`jit`.*where"):
        pf.jit(lambda v: v if float(v.sum()) > 0 else -v)(x3())


def test_custom_rules_with_wrong_outputs_are_named():
    g = pf.custom_vjp(lambda x: x * 2)
    g.defvjp(lambda x: (g(x), None), lambda r, ct: (ct[:2],))
    with pytest.raises(pf.TransformError, match=r"custom_vjp rule.*shape \(2,\).*\(4,\)"):
        pf.grad(lambda x: g(x).sum())(np.arange(1.0, 5.0))
    h = pf.custom_vjp(lambda x, y: x * y)
    h.defvjp(lambda x, y: (h(x, y), (x, y)), lambda r, ct: (ct * r[1], ct * r[0], ct))
    with pytest.raises(pf.TransformError, match=r"one cotangent per argument \(2\), got 3"):
        pf.grad(lambda x: h(x, x).sum())(np.arange(1.0, 5.0))
    f = pf.custom_jvp(lambda x: x * 2)
    f.defjvp(lambda p, t: (f(p[0]), t[0][:2]))
    with pytest.raises(pf.TransformError, match=r"custom_jvp rule.*tangent has shape \(2,\)"):
        pf.grad(lambda x: f(x).sum())(np.arange(1.0, 5.0))
    k = pf.custom_jvp(lambda x: x)
    k.defjvp(lambda p, t: p[0])
    with pytest.raises(pf.TransformError, match=r"must return a pair"):
        pf.jvp(k, (x3(),), (x3(),))
    with pytest.raises(pf.TransformError, match="positional arguments only"):
        k(x=x3())


def test_norm_gradient_at_zero_is_zero_not_nan():
    np.testing.assert_array_equal(pf.grad(lambda v: pnp.linalg.norm(v))(np.zeros(3)), np.zeros(3))
    np.testing.assert_allclose(pf.grad(lambda v: pnp.linalg.norm(v))(np.array([3.0, 4.0])), [0.6, 0.8])


def test_vmap_output_that_is_not_an_array():
    with pytest.raises(pf.TransformError, match=r"vmap: the function returned a str"):
        pf.vmap(lambda v: "label")(x3())
