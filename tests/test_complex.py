"""Complex numbers on every backend: forward values against NumPy, the derivative
convention (JAX's and autograd's: no conjugation; the conjugate of torch's
gradient), holomorphic=True, check_grads over the reals, NumPy's refusals and
lexicographic order, plus the scalar-cotangent and second-order fixes that came
with them."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.errors import DTypeError, TransformError
from polyfunc.testing import assert_backends_agree, check_grads, to_numpy

RNG = np.random.default_rng(7)
Z = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
Z = Z + 0.5 * Z / np.abs(Z)        # moduli away from 0, where abs and angle bend sharply


def _on(backend, a):
    return backend.asarray(np.asarray(a))


# ---------------------------------------------------------------- forward, every backend
# each written once for both modules: m is polyfunc.numpy or numpy
FORWARD = {
    "arith": lambda m, z: (z * z - z / (z + 2.0)) ** 2 + 1j * z,
    "exp_log": lambda m, z: m.log(m.exp(z) + 1.0),
    "trig": lambda m, z: m.sin(z) * m.cos(z) + m.tanh(z) - m.tan(z * 0.3),
    "hyperbolic": lambda m, z: m.sinh(z) + m.cosh(z) + m.arcsinh(z) + m.arctanh(z * 0.3) + m.arccosh(z + 2.0),
    "sqrt_abs_angle": lambda m, z: (m.sqrt(z), m.abs(z), m.angle(z), m.angle(z, deg=True)),
    "parts": lambda m, z: (m.real(z), m.imag(z), m.conj(z), m.conjugate(z)),
    "reductions": lambda m, z: (m.sum(z, axis=0), m.prod(z), m.mean(z, axis=1), m.var(z), m.std(z, axis=0),
                                m.cumsum(z, axis=1)),
    "products": lambda m, z: (m.dot(z, z.T), m.einsum("ij,kj->ik", z, z), m.outer(z[0], z[1]), m.matmul(z, z.T),
                              m.vdot(z, z), m.inner(z, z)),
    "linalg": lambda m, z: (m.linalg.det(z[:, :2]), m.linalg.inv(z[:, :2]), m.linalg.solve(z[:, :2], z),
                            tuple(m.linalg.slogdet(z[:, :2])), m.linalg.norm(z), m.linalg.norm(z, axis=0),
                            m.linalg.norm(z, ord=1)),
    "order": lambda m, z: (m.maximum(z, m.flip(z, 0)), m.minimum(z, 0.5), m.sort(z, axis=1), m.max(z, axis=1),
                           m.min(z), m.argsort(z, axis=None, kind="stable"), m.greater(z, m.flip(z, 0))),
    "sign_isfinite": lambda m, z: (m.sign(z), m.isfinite(z), m.isinf(z), m.isnan(z)),
}


def test_complex_forward_agrees_with_numpy(backend, name=None):
    z = _on(backend, Z)
    for name, f in FORWARD.items():
        got, want = pf.tree.flatten(f(pnp, z))[0], pf.tree.flatten(f(np, Z))[0]
        assert len(got) == len(want), name
        for g, w in zip(got, want):
            g, w = to_numpy(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape, (name, g.dtype, w.dtype, g.shape, w.shape)
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_complex_dtypes_are_kept(backend, dt):
    z = _on(backend, Z.astype(dt))
    out = pnp.exp(z) * 2.0 + 1j
    assert np.dtype(pnp.result_type(out)) == np.dtype(dt)
    assert pnp.abs(z).dtype == backend.asarray(np.zeros(1, np.real(np.zeros(1, dt)).dtype)).dtype
    assert to_numpy(pnp.real(z)).dtype == np.real(Z.astype(dt)).dtype


# ---------------------------------------------------------------- derivative convention
def _torch_grad(f_torch, z):
    t = torch.tensor(z, requires_grad=True)
    f_torch(t).backward()
    return t.grad.numpy()


def test_gradient_of_a_real_function_of_complex_input_is_conj_of_torchs(backend):
    z = _on(backend, Z)
    ours = to_numpy(pf.grad(lambda z: pnp.sum(pnp.abs(pnp.sin(z)) ** 2))(z))
    theirs = _torch_grad(lambda t: (torch.sin(t).abs() ** 2).sum(), Z)
    np.testing.assert_allclose(ours, np.conj(theirs), rtol=1e-10)
    # and the closed form: for |g|^2 with g holomorphic, df/dx - i df/dy = 2 conj(g) g'
    np.testing.assert_allclose(ours, 2 * np.conj(np.sin(Z)) * np.cos(Z), rtol=1e-10)


def test_gradient_of_abs_squared_is_twice_the_conjugate(backend):
    z = _on(backend, Z)
    g = pf.grad(lambda z: pnp.sum(pnp.real(z * pnp.conj(z))))(z)
    np.testing.assert_allclose(to_numpy(g), 2 * np.conj(Z), rtol=1e-12)


def test_vjp_is_the_transpose_of_jvp_without_conjugation(backend):
    z = _on(backend, Z)
    f = lambda z: pnp.exp(z) * pnp.conj(z) + pnp.real(z) * 1j
    ct = RNG.standard_normal(Z.shape) + 1j * RNG.standard_normal(Z.shape)
    t = RNG.standard_normal(Z.shape) + 1j * RNG.standard_normal(Z.shape)
    _, tout = pf.jvp(f, (z,), (_on(backend, t),))
    _, vjp_fn = pf.vjp(f, z)
    (cz,) = vjp_fn(_on(backend, ct))
    lhs = np.real(np.sum(ct * to_numpy(tout)))
    rhs = np.real(np.sum(to_numpy(cz) * t))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_holomorphic_grad_is_the_complex_derivative(backend):
    z = _on(backend, Z)
    g = pf.grad(lambda z: pnp.sum(pnp.sin(z) * z), holomorphic=True)(z)
    np.testing.assert_allclose(to_numpy(g), np.cos(Z) * Z + np.sin(Z), rtol=1e-12)
    jr = pf.jacrev(lambda z: pnp.exp(z), holomorphic=True)(z[0])
    jf = pf.jacfwd(lambda z: pnp.exp(z), holomorphic=True)(z[0])
    np.testing.assert_allclose(to_numpy(jr), np.diag(np.exp(Z[0])), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(jf), to_numpy(jr), rtol=1e-12)


def test_holomorphic_hessian_is_the_complex_second_derivative(backend):
    z = _on(backend, Z)
    # f(z) = sum(z e^z): d2f/dz_i dz_j = [i == j] (2 + z_i) e^{z_i}
    h = pf.hessian(lambda z: pnp.sum(z * pnp.exp(z)), holomorphic=True)(z[0])
    np.testing.assert_allclose(to_numpy(h), np.diag((2 + Z[0]) * np.exp(Z[0])), rtol=1e-12)
    # a vector output: h[k, i, j] = [k == i == j] 6 z_k for z ** 3
    h3 = to_numpy(pf.hessian(lambda z: z ** 3, holomorphic=True)(z[0]))
    n = Z.shape[1]
    want = np.zeros((n, n, n), dtype=Z.dtype)
    want[np.arange(n), np.arange(n), np.arange(n)] = 6 * Z[0]
    np.testing.assert_allclose(h3, want, rtol=1e-12)
    with pytest.raises(TransformError, match="holomorphic=True"):
        pf.hessian(lambda z: pnp.sum(z * pnp.exp(z)))(z[0])


def test_complex_output_needs_holomorphic(backend):
    z = _on(backend, Z)
    for t in (pf.grad, pf.jacrev):
        with pytest.raises(TransformError, match="holomorphic=True"):
            f = (lambda z: pnp.sum(z * z)) if t is pf.grad else (lambda z: z * z)
            t(f)(z)
    with pytest.raises(TransformError, match="holomorphic=True"):
        pf.jacfwd(lambda z: z * z)(z)
    with pytest.raises(TransformError, match="holomorphic=True needs complex inputs"):
        pf.grad(lambda x: pnp.sum(x), holomorphic=True)(_on(backend, np.ones(3)))


def test_jacrev_of_a_real_function_of_complex_input(backend):
    z = _on(backend, Z[0])
    j = pf.jacrev(lambda z: pnp.abs(z) ** 2)(z)
    np.testing.assert_allclose(to_numpy(j), np.diag(2 * np.conj(Z[0])), rtol=1e-12)


@pytest.mark.parametrize("name,f", [
    ("sin", pnp.sin), ("abs", pnp.abs), ("angle", pnp.angle), ("sign", pnp.sign), ("real", pnp.real),
    ("imag", pnp.imag), ("conj", pnp.conj), ("log_sqrt", lambda z: pnp.log(pnp.sqrt(z) + 2.0)),
    ("var", lambda z: pnp.var(z, axis=0)), ("sort", lambda z: pnp.sort(z, axis=1)),
    ("max", lambda z: pnp.max(z, axis=0)), ("det", lambda z: pnp.linalg.det(z[:, :2])),
    ("solve", lambda z: pnp.linalg.solve(z[:, :2] + 3.0, z)), ("prod", pnp.prod),
    ("mixed", lambda z: pnp.real(z) * pnp.imag(z) + pnp.abs(z) ** 3),
])
def test_check_grads_complex(backend, name, f):
    check_grads(f, (_on(backend, Z),), order=2)


def test_check_grads_catches_a_conjugated_rule():
    # a custom rule with the wrong convention (a conjugate too many) must not pass check_grads
    @pf.custom_jvp
    def f(z):
        return pnp.exp(z)

    @f.defjvp
    def f_jvp(primals, tangents):
        (z,), (t,) = primals, tangents
        return f(z), pnp.conj(pnp.exp(z) * t)
    with pytest.raises(AssertionError, match="check_grads"):
        check_grads(f, (pnp.asarray(Z),), order=1)


def test_check_grads_keeps_the_imaginary_part():
    # a function that only reads the imaginary part: a check that cast complex to real would see 0
    check_grads(lambda z: pnp.imag(z) ** 2, (pnp.asarray(Z),), order=2)
    with pytest.raises(AssertionError):
        @pf.custom_jvp
        def g(z):
            return pnp.imag(z) ** 2

        @g.defjvp
        def g_jvp(primals, tangents):
            (z,), (t,) = primals, tangents
            return g(z), 2 * pnp.imag(z) * pnp.real(t)     # wrong: real part of the tangent
        check_grads(g, (pnp.asarray(Z),), order=1)


@given(st.lists(st.complex_numbers(min_magnitude=0.2, max_magnitude=3.0, allow_nan=False, allow_infinity=False),
                min_size=1, max_size=4))
def test_property_vjp_matches_jvp_for_complex(zs):
    z = np.asarray(zs, dtype=np.complex128)
    f = lambda z: pnp.sin(z) * pnp.conj(z) + pnp.abs(z) - pnp.angle(z) * 1j
    t = np.cos(np.arange(z.size)) + 1j * np.sin(np.arange(z.size) + 1.0)
    ct = np.sin(np.arange(z.size) + 2.0) - 0.5j
    _, tout = pf.jvp(f, (z,), (t,))
    _, vjp_fn = pf.vjp(f, z)
    (cz,) = vjp_fn(ct)
    assert np.real(np.sum(ct * tout)) == pytest.approx(np.real(np.sum(cz * t)), rel=1e-9, abs=1e-9)


def test_vmap_of_complex_functions(backend):
    z = _on(backend, Z)
    f = lambda r: pnp.sum(pnp.abs(pnp.exp(r)) ** 2)
    got = pf.vmap(pf.grad(f))(z)
    want = np.stack([to_numpy(pf.grad(f)(_on(backend, Z[i]))) for i in range(2)])
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(pf.vmap(pnp.angle)(z)), np.angle(Z), rtol=1e-12)


# ---------------------------------------------------------------- NumPy's refusals and order
@pytest.mark.parametrize("name,call", [
    ("floor", lambda z: pnp.floor(z)), ("ceil", lambda z: pnp.ceil(z)), ("arctan2", lambda z: pnp.arctan2(z, z)),
    ("fmod", lambda z: pnp.fmod(z, z)), ("remainder", lambda z: pnp.remainder(z, 2.0)),
    ("floor_divide", lambda z: pnp.floor_divide(z, z)),
])
def test_complex_refused_where_numpy_refuses(backend, name, call):
    z = _on(backend, Z)
    with pytest.raises(TypeError):
        getattr(np, name)(Z, Z) if name not in ("floor", "ceil") else getattr(np, name)(Z)
    with pytest.raises(DTypeError, match=rf"{name}.*complex128"):
        call(z)


def test_maximum_and_sort_are_lexicographic_with_derivatives_to_the_chosen_element(backend):
    a = np.array([1 + 5j, 2 - 1j, 1 + 1j, -3 + 0j])
    b = np.array([1 + 2j, 2 + 0j, 0 + 9j, -3 + 1j])
    x, y = _on(backend, a), _on(backend, b)
    np.testing.assert_array_equal(to_numpy(pnp.maximum(x, y)), np.maximum(a, b))
    np.testing.assert_array_equal(to_numpy(pnp.sort(x)), np.sort(a))
    gx, gy = pf.grad(lambda x, y: pnp.sum(pnp.real(pnp.maximum(x, y) * (1 + 2j))), argnums=(0, 1))(x, y)
    pick = np.array([True, False, True, False])            # where a is the larger (lexicographically)
    np.testing.assert_allclose(to_numpy(gx), np.where(pick, 1 + 2j, 0))
    np.testing.assert_allclose(to_numpy(gy), np.where(pick, 0, 1 + 2j))
    g = pf.grad(lambda x: pnp.real(pnp.sort(x)[0]))(x)     # the smallest is -3+0j, element 3
    np.testing.assert_allclose(to_numpy(g), [0, 0, 0, 1])


# ---------------------------------------------------------------- scalar cotangents, second order
def test_python_float_cotangent_of_a_0d_output(backend):
    x = _on(backend, np.arange(3.0))
    out, vjp_fn = pf.vjp(lambda v: pnp.dot(v, v), x)
    for c in (1.0, 2, np.float64(1.5), np.float32(0.5)):
        (g,) = vjp_fn(c)
        assert backend.owns_type(type(g))
        np.testing.assert_allclose(to_numpy(g), 2 * np.arange(3.0) * float(c))
    with pytest.raises(TransformError, match="shape"):
        pf.vjp(pnp.sin, x)[1](1.0)
    with pytest.raises(TransformError, match="complex"):
        vjp_fn(1j)


def test_python_float_tangent(backend):
    x = _on(backend, np.asarray(0.5))
    _, t = pf.jvp(pnp.sin, (x,), (1.0,))
    assert backend.owns_type(type(t))
    assert float(to_numpy(t)) == pytest.approx(math.cos(0.5))


@pytest.mark.parametrize("f", [pnp.ceil, pnp.floor, pnp.sign, pnp.round, pnp.trunc, pnp.rint])
def test_second_order_of_piecewise_constant_functions(f):
    assert float(pf.grad(pf.grad(f))(0.3)) == 0.0
    assert float(pf.jvp(pf.grad(f), (0.3,), (1.0,))[1]) == 0.0
    check_grads(f, (np.array([0.3, 1.2]),), order=2)


# ---------------------------------------------------------------- float16 and bfloat16
def test_float16_everywhere(backend):
    x = _on(backend, np.array([0.5, 1.5], np.float16))
    g = pf.grad(lambda v: pnp.sum(pnp.sin(v) * v))(x)
    assert to_numpy(g).dtype == np.float16
    np.testing.assert_allclose(to_numpy(g), np.cos([0.5, 1.5]) * [0.5, 1.5] + np.sin([0.5, 1.5]), rtol=1e-2)


def test_bfloat16_on_torch():
    x = torch.tensor([0.5, 1.5], dtype=torch.bfloat16)
    g = pf.grad(lambda v: (torch.sin(v) * v).sum())(x)
    assert g.dtype is torch.bfloat16
    want = torch.func.grad(lambda v: (torch.sin(v) * v).sum())(x)
    torch.testing.assert_close(g, want)


def test_bfloat16_on_numpy_is_a_clear_error():
    with pytest.raises(DTypeError, match="torch"):
        pnp.zeros(3, dtype="bfloat16", backend="numpy")


def test_complex_attributes_and_torch_functions_on_tracers():
    z = Z[0]
    g = pf.grad(lambda z: pnp.sum(z.real * z.imag + abs(z.conj()) + z.conjugate().imag))(z)
    want = pf.grad(lambda z: pnp.sum(pnp.real(z) * pnp.imag(z) + pnp.abs(z) - pnp.imag(z)))(z)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    t = torch.tensor(z)

    def f(v):
        return (torch.real(v) * v.imag).sum() + torch.angle(v).sum() + torch.abs(torch.conj(v) * v).sum()
    ours = pf.grad(f)(t)
    torchs = torch.func.grad(f)(t)
    torch.testing.assert_close(ours, torchs.conj())     # torch's convention is the conjugate of ours
