"""Derivatives and values where rules are most often wrong (issue 15, "silently wrong numbers"):
ties of logaddexp, 0 of odd functions, overflow and underflow of composites, the symmetric
Cholesky gradient, det at singular matrices, the variance of nothing.  Every expected value
comes from an independent reference: a closed form, mpmath at 50 digits, NumPy's own ufunc,
torch.func on torch's own functions, or float64 finite differences."""
import math

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import polyfunc as pf
import polyfunc.numpy as pnp

mpmath.mp.dps = 50


def arr(x, dtype="float64"):
    return pnp.asarray(np.asarray(x, dtype=dtype), backend=pf.current_backend())


def num(x):
    """A polyfunc result as a NumPy float64 array (torch tensors included)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def fd2(f, x, h=1e-4):
    """Second derivative by central differences in float64 (the independent reference)."""
    return (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2


# ------------------------------------------------------------------ logaddexp and what is built on it
@pytest.mark.parametrize("x", [0.0, 1.5, -3.0, 40.0])
def test_logaddexp_second_derivative_at_ties(backend, x):
    # d2/dx2 logaddexp(x, c) = s (1 - s), s = sigmoid(x - c); at the tie x == c that is 1/4
    f = lambda v: pnp.logaddexp(v, arr(x))  # noqa: E731
    got = num(pf.grad(pf.grad(f))(arr(x)))
    assert got == pytest.approx(0.25, abs=1e-12)
    # and jointly: the Hessian of (x, y) -> logaddexp(x, y) at x == y is [[1, -1], [-1, 1]] / 4
    h = num(pf.hessian(lambda v: pnp.logaddexp(v[0], v[1]))(arr([x, x])))
    np.testing.assert_allclose(h, np.array([[1, -1], [-1, 1]]) / 4, atol=1e-12)


def test_logaddexp_derivatives_match_closed_form_off_ties(backend):
    xs = np.array([-30.0, -2.0, -1e-9, 0.0, 1e-9, 0.7, 25.0])
    ys = np.array([0.0, 1.0, 0.0, 0.0, 0.0, -0.7, 25.0])
    s = 1 / (1 + np.exp(-(xs - ys)))
    g = num(pf.vmap(pf.grad(pnp.logaddexp, argnums=(0, 1)))(arr(xs), arr(ys))[0])
    np.testing.assert_allclose(g, s, rtol=1e-12, atol=1e-15)
    gg = num(pf.vmap(pf.grad(pf.grad(pnp.logaddexp)))(arr(xs), arr(ys)))
    np.testing.assert_allclose(gg, s * (1 - s), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(num(pnp.logaddexp(arr(xs), arr(ys))), np.logaddexp(xs, ys), rtol=1e-15)


def test_logaddexp_infinities_keep_numpy_values(backend):
    xs = np.array([np.inf, -np.inf, np.inf, -np.inf, 3.0, np.nan])
    ys = np.array([np.inf, -np.inf, -np.inf, 2.0, -np.inf, 1.0])
    with np.errstate(invalid="ignore"):      # inf - inf inside, as inside NumPy's own
        np.testing.assert_array_equal(num(pnp.logaddexp(arr(xs), arr(ys))), np.logaddexp(xs, ys))


def _torch_and_ours(fn, x):
    """(polyfunc's second derivative, torch.func's) of the scalar function ``fn`` at ``x``."""
    ours = pf.grad(pf.grad(fn))(torch.tensor(x, dtype=torch.float64))
    ref = torch.func.grad(torch.func.grad(fn))(torch.tensor(x, dtype=torch.float64))
    return float(ours), float(ref)


@pytest.mark.parametrize("fn", [
    lambda v: F.softplus(v),
    lambda v: F.logsigmoid(v),
    lambda v: torch.logaddexp(v, torch.zeros((), dtype=torch.float64)),
    lambda v: F.binary_cross_entropy_with_logits(v, torch.tensor(0.3, dtype=torch.float64)),
], ids=["softplus", "logsigmoid", "torch.logaddexp", "bce_with_logits"])
def test_torch_functions_on_logaddexp_second_derivative_at_zero(fn):
    ours, ref = _torch_and_ours(fn, 0.0)
    # closed form: each is +-s(1 - s) with s = sigmoid(0) = 1/2, so |f''(0)| = 1/4
    assert abs(ref) == pytest.approx(0.25, abs=1e-15)
    assert ours == pytest.approx(ref, abs=1e-12)


def test_logistic_regression_hessian_at_zero_weights():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 3, generator=g, dtype=torch.float64)
    y = (torch.rand(12, generator=g) > 0.5).double()

    def loss(w):
        return F.binary_cross_entropy_with_logits(x @ w, y)
    w0 = torch.zeros(3, dtype=torch.float64)
    ours = pf.hessian(loss)(w0)
    ref = torch.func.hessian(loss)(w0)
    # closed form: X^T diag(s (1 - s)) X / n with s = 1/2 at w = 0
    closed = x.T @ x * 0.25 / 12
    torch.testing.assert_close(ref, closed)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ arcsinh, arccosh, hypot
@pytest.mark.parametrize("x", [0.0, 1e-300, -1e-20, 0.5, -3.0, 1e5, -1e9, 1e200])
def test_arcsinh_derivatives_closed_form(backend, x):
    g = num(pf.grad(pnp.arcsinh)(arr(x)))
    assert g == pytest.approx(float(1 / mpmath.sqrt(1 + mpmath.mpf(x) ** 2)), rel=1e-14, abs=0)
    gg = num(pf.grad(pf.grad(pnp.arcsinh))(arr(x)))
    ref = float(-mpmath.mpf(x) / (1 + mpmath.mpf(x) ** 2) ** 1.5)
    assert gg == pytest.approx(ref, rel=1e-12, abs=1e-300)


def test_torch_asinh_derivative_at_zero():
    t = torch.tensor(0.0, dtype=torch.float64)
    assert float(pf.grad(torch.asinh)(t)) == 1.0 == float(torch.func.grad(torch.asinh)(t))


@pytest.mark.parametrize("x", [1e-20, -1e-20, 1e-8, 0.3, -7.0, 1e100, 1e200, -1e300, 1.7e308])
def test_arcsinh_values_against_mpmath(backend, x):
    got = num(pnp.arcsinh(arr(x)))
    assert got == pytest.approx(float(mpmath.asinh(mpmath.mpf(x))), rel=4e-16)
    np.testing.assert_allclose(got, np.arcsinh(x), rtol=4e-16)


def test_arcsinh_float32_small_and_large(backend):
    xs = np.array([1e-8, -1e-30, 3e-3, 1e19, 3e38], dtype=np.float32)
    got = pnp.arcsinh(arr(xs, "float32"))
    assert str(got.dtype) in ("float32", "torch.float32")
    ref = np.array([float(mpmath.asinh(mpmath.mpf(float(v)))) for v in xs])
    np.testing.assert_allclose(num(got), ref, rtol=2e-7)


@pytest.mark.parametrize("x", [1.0, 1.0 + 1e-12, 1.5, 1e4, 1e100, 1e200, 1.7e308])
def test_arccosh_values_against_mpmath(backend, x):
    got = num(pnp.arccosh(arr(x)))
    assert got == pytest.approx(float(mpmath.acosh(mpmath.mpf(x))), rel=4e-12 if x - 1 < 1e-6 else 4e-16)
    np.testing.assert_allclose(got, np.arccosh(x), rtol=1e-11)


@pytest.mark.parametrize("x", [1.0 + 1e-6, 2.0, 1e10, 1e200])
def test_arccosh_derivatives_closed_form(backend, x):
    g = num(pf.grad(pnp.arccosh)(arr(x)))
    assert g == pytest.approx(float(1 / mpmath.sqrt(mpmath.mpf(x) ** 2 - 1)), rel=1e-9)
    gg = num(pf.grad(pf.grad(pnp.arccosh))(arr(x)))
    assert gg == pytest.approx(float(-mpmath.mpf(x) / (mpmath.mpf(x) ** 2 - 1) ** 1.5), rel=1e-6)


def test_arccosh_below_one_is_nan_as_numpy(backend):
    with np.errstate(invalid="ignore"):
        assert np.isnan(num(pnp.arccosh(arr(0.5)))) and np.isnan(np.arccosh(0.5))


@pytest.mark.parametrize("x,y", [(1e200, 1e200), (1e-200, 1e-200), (3.0, 4.0), (0.0, 0.0), (-1e308, 1e308),
                                 (0.0, -5e-324), (np.inf, 1.0), (np.nan, 1.0), (np.inf, np.nan)])
def test_hypot_values_against_numpy(backend, x, y):
    got = num(pnp.hypot(arr(x), arr(y)))
    ref = np.hypot(x, y)
    np.testing.assert_allclose(got, ref, rtol=4e-16)
    if np.isfinite(ref):
        assert got == pytest.approx(float(mpmath.sqrt(mpmath.mpf(x) ** 2 + mpmath.mpf(y) ** 2)), rel=4e-16)


@pytest.mark.parametrize("x,y", [(3.0, 4.0), (0.0, 3.0), (-2.0, 2.0), (1e200, -1e200), (1e-200, 3e-200)])
def test_hypot_derivatives_closed_form(backend, x, y):
    gx, gy = (num(g) for g in pf.grad(pnp.hypot, argnums=(0, 1))(arr(x), arr(y)))
    r = math.hypot(x, y)
    assert gx == pytest.approx(x / r, rel=1e-14, abs=1e-300) and gy == pytest.approx(y / r, rel=1e-14)
    # d2/dx2 = y^2 / r^3: at x = 0 it is 1/|y|, which an abs inside the rule would lose
    gxx = num(pf.grad(pf.grad(pnp.hypot))(arr(x), arr(y)))
    mx, my = mpmath.mpf(x), mpmath.mpf(y)
    assert gxx == pytest.approx(float(my ** 2 / mpmath.sqrt(mx ** 2 + my ** 2) ** 3), rel=1e-12)


# ------------------------------------------------------------------ cholesky and det
def _spd(n, seed):
    b = np.random.default_rng(seed).standard_normal((n, n))
    return b @ b.T + n * np.eye(n)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_cholesky_gradient_is_symmetric_and_matches_torch_func(backend, n):
    a = _spd(n, n)
    w = np.random.default_rng(100 + n).standard_normal((n, n))
    g = num(pf.grad(lambda m: (pnp.linalg.cholesky(m) * arr(w)).sum())(arr(a)))
    ref = torch.func.grad(lambda m: (torch.linalg.cholesky(m) * torch.tensor(w)).sum())(torch.tensor(a)).numpy()
    np.testing.assert_allclose(g, g.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12)


def test_cholesky_jacobians_agree_with_torch_func(backend):
    a = _spd(3, 7)
    ref = torch.func.jacrev(torch.linalg.cholesky)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(num(pf.jacrev(pnp.linalg.cholesky)(arr(a))), ref, atol=1e-12)
    # a symmetric tangent pushes forward to the same change as torch's
    t = np.random.default_rng(8).standard_normal((3, 3))
    t = t + t.T
    _, ours = pf.jvp(pnp.linalg.cholesky, (arr(a),), (arr(t),))
    _, theirs = torch.func.jvp(torch.linalg.cholesky, (torch.tensor(a),), (torch.tensor(t),))
    np.testing.assert_allclose(num(ours), theirs.numpy(), atol=1e-12)


def _adjugate_transposed(a):
    """The cofactor matrix by its definition, signed minors (the reference for grad det)."""
    n = a.shape[0]
    c = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


@pytest.mark.parametrize("a", [
    [[1.0, 2.0], [2.0, 4.0]],
    [[0.0, 0.0], [0.0, 0.0]],
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]],
    [[2.0]], [[0.0]],
], ids=["2x2-rank1", "zero", "3x3-rank2", "3x3-rank2b", "1x1", "1x1-zero"])
def test_grad_det_at_singular_matrices_is_the_cofactor_matrix(backend, a):
    a = np.asarray(a)
    g = num(pf.grad(pnp.linalg.det)(arr(a)))
    np.testing.assert_allclose(g, _adjugate_transposed(a), atol=1e-12)
    ref = torch.func.grad(torch.linalg.det)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(g, ref, atol=1e-10)


def test_grad_det_of_the_issue_example(backend):
    np.testing.assert_allclose(num(pf.grad(pnp.linalg.det)(arr([[1.0, 2.0], [2.0, 4.0]]))), [[4, -2], [-2, 1]])


def test_det_second_derivatives_match_torch_func(backend):
    for a in (np.array([[1.0, 2.0], [2.0, 4.0]]), np.random.default_rng(3).standard_normal((3, 3))):
        ours = num(pf.hessian(pnp.linalg.det)(arr(a)))
        ref = torch.func.hessian(torch.linalg.det)(torch.tensor(a)).numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_det_derivative_on_stacks_and_under_vmap(backend):
    b = np.random.default_rng(4).standard_normal((3, 4, 4))
    b[1, 2] = b[1, 0]                     # one singular matrix in the stack
    ref = torch.func.vmap(torch.func.grad(torch.linalg.det))(torch.tensor(b)).numpy()
    np.testing.assert_allclose(num(pf.vmap(pf.grad(pnp.linalg.det))(arr(b))), ref, atol=1e-10)
    np.testing.assert_allclose(num(pf.grad(lambda m: pnp.linalg.det(m).sum())(arr(b))), ref, atol=1e-10)
    # a nonsingular matrix larger than the cofactor limit still takes the solve form
    big = _spd(12, 5)
    np.testing.assert_allclose(num(pf.grad(pnp.linalg.det)(arr(big))),
                               np.linalg.det(big) * np.linalg.inv(big).T, rtol=1e-9)


def _singular_9x9(kind):
    a = np.random.default_rng(9).standard_normal((9, 9))
    if kind == "zero row":
        a[8] = 0.0              # LU keeps the zero row: an exactly zero pivot, det(a) == 0.0
    elif kind == "equal rows":
        a[8] = a[3]             # rank 8, though rounding leaves det(a) about 1e-15
    elif kind == "rank 7":
        a[8], a[7] = a[3], a[2]  # adj(a) = 0: every 8x8 minor is singular
    elif kind == "zero":
        a[:] = 0.0
    elif kind == "rank 1":
        a = np.outer(a[0], a[1])
    return a


SINGULAR_KINDS = ["zero row", "equal rows", "rank 7", "zero", "rank 1", "nonsingular"]


@pytest.mark.parametrize("kind", SINGULAR_KINDS)
def test_grad_det_above_the_cofactor_limit_is_the_adjugate_even_at_singular_matrices(backend, kind):
    from polyfunc.ops import matrix
    assert matrix.COFACTOR_MAX_N < 9                  # the two-shift form, not the cofactors
    a = _singular_9x9(kind)
    ref = _adjugate_transposed(a)
    g = num(pf.grad(pnp.linalg.det)(arr(a)))
    np.testing.assert_allclose(g, ref, atol=1e-10 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(g, torch.func.grad(torch.linalg.det)(torch.tensor(a)).numpy(),
                               atol=1e-10 * max(1.0, np.abs(ref).max()))
    if kind == "zero row":
        assert num(pnp.linalg.det(arr(a))) == 0.0     # the forward value stays NumPy's


def test_grad_det_above_the_cofactor_limit_under_jit_vmap_and_in_float32(backend):
    # a stack mixing singular kinds, under vmap and jit, where the matrices are not known while
    # the derivative is built
    stack = np.stack([_singular_9x9(k) for k in SINGULAR_KINDS])
    ref = np.stack([_adjugate_transposed(m) for m in stack])
    tol = 1e-10 * np.abs(ref).max()
    f = pf.grad(pnp.linalg.det)
    np.testing.assert_allclose(num(pf.vmap(f)(arr(stack))), ref, atol=tol)
    np.testing.assert_allclose(num(pf.jit(pf.vmap(f))(arr(stack))), ref, atol=tol)
    np.testing.assert_allclose(num(pf.grad(lambda m: pnp.linalg.det(m).sum())(arr(stack))), ref, atol=tol)
    g32 = pf.vmap(f)(arr(stack, "float32"))
    assert str(g32.dtype).endswith("float32")
    np.testing.assert_allclose(num(g32), ref, atol=1e-5 * np.abs(ref).max())


def test_det_second_derivatives_above_the_cofactor_limit_match_torch_func(backend):
    for kind in ("equal rows", "nonsingular"):
        a = _singular_9x9(kind)
        ours = num(pf.hessian(pnp.linalg.det)(arr(a)))
        ref = torch.func.hessian(torch.linalg.det)(torch.tensor(a)).numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-9 * np.abs(ref).max())


def test_slogdet_of_complex_matrices_matches_torch_func(backend):
    rng = np.random.default_rng(6)
    z = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))
    dz = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))
    (sign, logabs), (tsign, tlog) = pf.jvp(pnp.linalg.slogdet, (arr(z, "complex128"),), (arr(dz, "complex128"),))
    assert "complex" in str(sign.dtype) and "float64" in str(logabs.dtype)
    want, want_t = torch.func.jvp(lambda m: tuple(torch.linalg.slogdet(m)), (torch.tensor(z),), (torch.tensor(dz),))
    for got, ref in zip((sign, logabs, tsign, tlog), (*want, *want_t)):
        got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-12)


def test_grad_det_of_a_complex_singular_matrix_above_the_cofactor_limit(backend):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((9, 9)) + 1j * rng.standard_normal((9, 9))
    z[8] = z[3]
    ours = pf.grad(lambda m: pnp.real(pnp.linalg.det(m)))(arr(z, "complex128"))
    ours = ours.numpy() if isinstance(ours, torch.Tensor) else np.asarray(ours)     # num() drops imaginary parts
    # torch.func's gradient of a real function of complex input is the conjugate of polyfunc's
    # (tests/test_complex.py); the cofactors give it directly
    ref = torch.func.grad(lambda m: torch.linalg.det(m).real)(torch.tensor(z)).numpy().conj()
    np.testing.assert_allclose(ours, ref, atol=1e-10 * np.abs(ref).max())
    np.testing.assert_allclose(ours, _adjugate_transposed(z), atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("kind", ["zero row", "equal rows"])
def test_grad_det_at_a_singular_9x9_matrix_with_the_limit_raised_is_the_cofactor_matrix(backend, monkeypatch, kind):
    from polyfunc.ops import matrix
    monkeypatch.setattr(matrix, "COFACTOR_MAX_N", 9)       # both forms agree at the limit
    a = _singular_9x9(kind)
    g = num(pf.grad(pnp.linalg.det)(arr(a)))
    ref = _adjugate_transposed(a)
    assert np.abs(ref).max() > 1e-3                          # rank 8: the adjugate is not zero
    np.testing.assert_allclose(g, ref, atol=1e-10)
    np.testing.assert_allclose(g, torch.func.grad(torch.linalg.det)(torch.tensor(a)).numpy(), atol=1e-10)


# ------------------------------------------------------------------ var and std of nothing
@pytest.mark.parametrize("fn", [pnp.var, pnp.std], ids=["var", "std"])
def test_jvp_of_var_of_an_empty_array_is_zero(backend, fn):
    x = arr(np.zeros(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out, t = pf.jvp(fn, (x,), (arr(np.zeros(0)),))
        assert np.isnan(num(out))
        assert num(t) == 0.0
        g = pf.grad(fn)(x)
    assert num(g).shape == (0,)
    # a reduction over an empty axis of a non-empty array: zero tangents per output
    with np.errstate(invalid="ignore", divide="ignore"):
        _, t2 = pf.jvp(lambda v: fn(v, axis=1), (arr(np.ones((3, 0))),), (arr(np.ones((3, 0))),))
    np.testing.assert_array_equal(num(t2), np.zeros(3))


def _ulps(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_composites_within_two_ulps_of_numpy_over_the_whole_range(backend):
    rng = np.random.default_rng(15)
    mag = 10 ** rng.uniform(-300, 300, 4000)
    x = np.concatenate([mag, -mag, rng.uniform(-5, 5, 2000)])
    assert _ulps(num(pnp.arcsinh(arr(x))), np.arcsinh(x)).max() <= 2
    assert _ulps(num(pnp.arccosh(arr(1 + mag))), np.arccosh(1 + mag)).max() <= 2
    y = 10 ** rng.uniform(-300, 300, x.size)
    assert _ulps(num(pnp.hypot(arr(x), arr(y))), np.hypot(x, y)).max() <= 2
    a, b = rng.uniform(-50, 50, 4000), rng.uniform(-50, 50, 4000)
    assert _ulps(num(pnp.logaddexp(arr(a), arr(b))), np.logaddexp(a, b)).max() <= 2
