"""polyfunc.numpy against NumPy itself, on every installed backend: every function of
the table in polyfunc.testing.optable (NUMPY_CASES) on several shapes and dtypes,
broadcasting and keepdims included; hypothesis-drawn shapes for the elementwise,
reduction and shape families; and dtype promotion identical to NumPy 2."""
from __future__ import annotations

import fnmatch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.testing import to_numpy
from polyfunc.testing.optable import ALL_DTYPES, FLOATS, NUMPY_CASES, _vals, sample_numpy_args

F32 = np.dtype(np.float32)
TOL = {np.dtype(np.float32): (2e-5, 2e-5), np.dtype(np.float64): (1e-10, 1e-12)}

# Known discrepancies, marked xfail(strict=True) so that a fix shows up: fnmatch pattern of the test's
# name (the backend is the first id in the brackets) -> reason.
KNOWN_BUGS: dict = {}


@pytest.fixture(autouse=True)
def _known_bugs(request):
    for pattern, reason in KNOWN_BUGS.items():
        if fnmatch.fnmatchcase(request.node.name, pattern.replace("[", "[[]")):
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))
            break


def _leaves(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _compare(got, want, what, tol=None):
    gl, wl = _leaves(got), _leaves(want)
    assert len(gl) == len(wl), f"{what}: {len(gl)} results, NumPy gives {len(wl)}"
    for i, (g, w) in enumerate(zip(gl, wl)):
        g, w = to_numpy(g), np.asarray(w)
        assert g.shape == w.shape, f"{what} [result {i}]: shape {g.shape}, NumPy gives {w.shape}"
        assert g.dtype == w.dtype, f"{what} [result {i}]: dtype {g.dtype}, NumPy gives {w.dtype}"
        if w.dtype.kind == "f":
            rtol, atol = (tol or TOL).get(w.dtype, (1e-5, 1e-6))
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{what} [result {i}]")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{what} [result {i}]")


def _on(backend, arrays):
    # no catch-all: a conversion that breaks fails the test rather than skipping it
    return [backend.asarray(a, dtype=a.dtype) for a in arrays]


def _error_kinds(e: Exception) -> tuple:
    """The built-in error classes NumPy's exception belongs to: polyfunc must raise one of them (its
    ShapeError is a ValueError, DTypeError a TypeError), not any exception at all (an AttributeError or
    KeyError from a broken wrapper would otherwise pass as "refused like NumPy")."""
    kinds = tuple(k for k in (ValueError, TypeError, IndexError, ZeroDivisionError) if isinstance(e, k))
    return kinds or (type(e),)


def _run_both(backend, call, np_args, kw, what):
    """Call NumPy and polyfunc.numpy; if NumPy raises, polyfunc.numpy must raise an error of the same kind."""
    try:
        want = call(np, *np_args, **kw)
    except Exception as e:
        with pytest.raises(_error_kinds(e)):
            call(pnp, *_on(backend, np_args), **kw)
        return None, e
    return call(pnp, *_on(backend, np_args), **kw), want


def _table_params():
    out = []
    for case in NUMPY_CASES:
        for dt in case.dtypes:
            for si, shapes in enumerate(case.shapes):
                for ki, kw in enumerate(case.kwargs):
                    kid = ",".join(f"{k}={v}" for k, v in kw.items()).replace(" ", "")
                    out.append(pytest.param(case, dt, shapes, kw,
                                            id=f"{case.name}-{dt}-{'x'.join(map(str, shapes)) or 'noargs'}"
                                               f"{'-' + kid if kid else ''}-{si}{ki}"))
    return out


@pytest.mark.parametrize("case,dtype,shapes,kw", _table_params())
def test_numpy_function(backend, case, dtype, shapes, kw):
    rng = np.random.default_rng(0)
    what = f"pnp.{case.name}{shapes} {kw} {dtype} on {backend.name}"
    if shapes == ():   # creation functions
        want = case.call(np, dtype=dtype)
        got = case.call(pnp, dtype=dtype)
        for g in _leaves(got):
            assert backend.owns_type(type(g)), f"{what}: created a {type(g).__name__}, not a {backend.name} array"
        _compare(got, want, what, case.tol or None)
        return
    np_args = sample_numpy_args(case, shapes, dtype, rng)
    got, want = _run_both(backend, case.call, np_args, kw, what)
    if isinstance(want, Exception):
        return
    _compare(got, want, what, case.tol or None)


# ---------------------------------------------------------------- hypothesis: shapes
BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "equal", "less", "greater_equal", "logaddexp",
          "divide"]
NUM_DTYPES = ["float32", "float64", "int32", "int64"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       name=st.sampled_from(BINARY), dtype=st.sampled_from(NUM_DTYPES), seed=st.integers(0, 2 ** 16))
def test_binary_broadcasting(backend, shapes, name, dtype, seed):
    dtype = np.dtype(dtype)
    if name in ("logaddexp", "divide") and dtype.kind != "f":
        dtype = np.dtype(np.float64)
    rng = np.random.default_rng(seed)
    xs = [_vals(rng, s, dtype, "away0" if dtype.kind == "f" else "nonzero") for s in shapes.input_shapes]
    fn = lambda m, x, y: getattr(m, name)(x, y)  # noqa: E731
    got, want = _run_both(backend, fn, xs, {}, name)
    if not isinstance(want, Exception):
        _compare(got, want, f"pnp.{name}{tuple(shapes.input_shapes)} {dtype}")


@st.composite
def _shape_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    how = draw(st.sampled_from(["none", "int", "tuple"]))
    if how == "none" or not shape:
        axis = None
    elif how == "int":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
    else:
        axis = draw(hnp.valid_tuple_axes(len(shape)))
    return shape, axis


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sa=_shape_and_axes(), name=st.sampled_from(["sum", "prod", "max", "min", "mean", "var", "std"]),
       keepdims=st.booleans(), dtype=st.sampled_from(NUM_DTYPES), seed=st.integers(0, 2 ** 16))
def test_reductions_axis_keepdims(backend, sa, name, keepdims, dtype, seed):
    shape, axis = sa
    dtype = np.dtype(dtype)
    if name in ("mean", "var", "std") and dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x = _vals(np.random.default_rng(seed), shape, dtype, "small")
    fn = lambda m, x: getattr(m, name)(x, axis=axis, keepdims=keepdims)  # noqa: E731
    got, want = _run_both(backend, fn, [x], {}, name)
    if not isinstance(want, Exception):
        _compare(got, want, f"pnp.{name}(shape {shape}, axis={axis}, keepdims={keepdims}) {dtype}",
                 {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-10, 1e-12)})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_transpose_reshape_shapes(backend, shape, data):
    x = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    perm = data.draw(st.permutations(range(len(shape))))
    flat = data.draw(st.sampled_from([(-1,), (int(np.prod(shape)), 1), (1, -1)]))
    (bx,) = _on(backend, [x])
    _compare(pnp.transpose(bx, perm), np.transpose(x, perm), f"transpose{shape}{perm}")
    _compare(pnp.reshape(bx, flat), np.reshape(x, flat), f"reshape{shape}->{flat}")
    _compare(pnp.moveaxis(bx, 0, -1), np.moveaxis(x, 0, -1), f"moveaxis{shape}")


# ---------------------------------------------------------------- dtype promotion
PROMO_BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "power", "maximum", "minimum", "equal",
                "less", "logical_and", "where_xy"]
DTYPE_NAMES = [str(d) for d in ALL_DTYPES]


def _binary_call(name):
    if name == "where_xy":
        return lambda m, x, y: m.where(m.asarray([True, False]) if m is not np else np.array([True, False]), x, y)
    return lambda m, x, y: getattr(m, name)(x, y)


@pytest.mark.parametrize("name", PROMO_BINARY)
@pytest.mark.parametrize("dx", DTYPE_NAMES)
@pytest.mark.parametrize("dy", DTYPE_NAMES)
def test_promotion_array_array(backend, name, dx, dy):
    x = np.asarray([1, 2], dtype=dx)
    y = np.asarray([2, 1], dtype=dy)
    got, want = _run_both(backend, _binary_call(name), [x, y], {}, name)
    if isinstance(want, Exception):
        return
    assert to_numpy(got).dtype == np.asarray(want).dtype, \
        f"pnp.{name}({dx}, {dy}) -> {to_numpy(got).dtype} on {backend.name}; NumPy 2 gives {np.asarray(want).dtype}"


@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "maximum", "divide", "power", "less"])
@pytest.mark.parametrize("dx", DTYPE_NAMES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5], ids=["bool", "int", "float"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_promotion_python_scalar(backend, name, dx, scalar, side):
    x = np.asarray([1, 2], dtype=dx)

    def call(m, x):
        f = getattr(m, name)
        return f(x, scalar) if side == "right" else f(scalar, x)
    got, want = _run_both(backend, call, [x], {}, name)
    if isinstance(want, Exception):
        return
    assert to_numpy(got).dtype == np.asarray(want).dtype, \
        f"pnp.{name} with {dx} and Python {type(scalar).__name__} ({side}) -> {to_numpy(got).dtype} on " \
        f"{backend.name}; NumPy 2 gives {np.asarray(want).dtype}"
    np.testing.assert_allclose(to_numpy(got).astype(np.float64), np.asarray(want).astype(np.float64))


@pytest.mark.parametrize("name", ["sqrt", "exp", "sin", "negative", "abs", "square", "sign", "sum", "prod",
                                  "mean", "cumsum", "argmax", "max"])
@pytest.mark.parametrize("dx", DTYPE_NAMES)
def test_promotion_unary(backend, name, dx):
    x = np.asarray([1, 0, 1], dtype=dx)
    got, want = _run_both(backend, lambda m, x: getattr(m, name)(x), [x], {}, name)
    if isinstance(want, Exception):
        return
    _compare(got, want, f"pnp.{name}({dx}) on {backend.name}")


def test_float32_stays_float32(backend):
    (x,) = _on(backend, [np.asarray([1.0, 2.0], dtype=F32)])
    for y in [pnp.sin(x) * 2.0 + 1, pnp.sum(x), pnp.mean(x), x @ x, x / 2, x ** 2, pnp.linalg.norm(x)]:
        assert to_numpy(y).dtype == F32


def test_float_dtypes_cover_table():
    assert set(FLOATS) <= set(ALL_DTYPES)


@pytest.mark.parametrize("index", [
    lambda i: (slice(None), i, Ellipsis, 0), lambda i: (slice(None), i, 0), lambda i: (Ellipsis, i, 0),
    lambda i: (i, Ellipsis, 0), lambda i: (0, Ellipsis, i), lambda i: (None, slice(None), i, Ellipsis, 0),
])
def test_advanced_index_placement_with_ellipsis(index):
    # an Ellipsis between advanced indices puts their axes first, even when it spans no axis
    x = np.arange(120.0).reshape(6, 4, 5)
    i = np.array([2, 0])
    idx = index(i)
    np.testing.assert_array_equal(pf.jit(lambda v: v[idx])(x), x[idx])


@pytest.mark.parametrize("shape", [(), (3,)])
def test_full_casts_like_numpy(shape):
    # on the NumPy backend a fill value the dtype cannot hold is cast as NumPy's full() casts it,
    # for 0-d results too (torch refuses such a cast with an error of its own)
    with np.errstate(invalid="ignore"):
        want = np.full(shape, float("inf"), dtype=np.int64)
        with pf.use_backend("numpy"):
            got = pnp.full(shape, float("inf"), dtype="int64")
    assert isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("pw", [((1, 2), (3, 0)), ((4, 5), (7, 6)), 2])
def test_pad_modes_match_numpy(backend, mode, pw):
    x = np.arange(12.0).reshape(3, 4)
    got = pnp.pad(pnp.asarray(x, backend=backend), pw, mode=mode)
    np.testing.assert_array_equal(to_numpy(got), np.pad(x, pw, mode=mode))
    # each padded copy sends its gradient back to the element it copies
    g = pf.grad(lambda a: (pnp.pad(a, pw, mode=mode) ** 2).sum() / 2)(pnp.asarray(x, backend=backend))
    src = np.pad(np.arange(12).reshape(3, 4), pw, mode=mode)
    want = np.zeros(12)
    np.add.at(want, src.ravel(), x.ravel()[src.ravel()])
    np.testing.assert_allclose(to_numpy(g), want.reshape(3, 4))


def test_linalg_solve_inv_det_cholesky_match_numpy(backend):
    r = np.random.default_rng(1)
    a = r.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b, bm = r.standard_normal(3), r.standard_normal((3, 2))
    spd = a[0] @ a[0].T
    on = lambda v: pnp.asarray(v, backend=backend)  # noqa: E731
    pairs = [(pnp.linalg.solve(on(a[0]), on(b)), np.linalg.solve(a[0], b)),
             (pnp.linalg.solve(on(a), on(bm)), np.linalg.solve(a, bm)),
             (pnp.linalg.inv(on(a)), np.linalg.inv(a)), (pnp.linalg.det(on(a)), np.linalg.det(a)),
             (pnp.linalg.slogdet(on(a)).logabsdet, np.linalg.slogdet(a).logabsdet),
             (pnp.linalg.slogdet(on(a)).sign, np.linalg.slogdet(a).sign),
             (pnp.linalg.cholesky(on(spd)), np.linalg.cholesky(spd)),
             (pnp.linalg.cholesky(on(spd), upper=True), np.linalg.cholesky(spd, upper=True))]
    for got, want in pairs:
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-10, atol=1e-12)
    # d log|det a| / da = inv(a)^T
    g = pf.grad(lambda m: pnp.linalg.slogdet(m)[1])(on(a[0]))
    np.testing.assert_allclose(to_numpy(g), np.linalg.inv(a[0]).T, rtol=1e-10)


def test_pad_width_broadcasts_like_numpy_and_tracer_scan_dtypes():
    for shape, pw in (((2, 3), (1, 2)), ((3,), (1, 2)), ((2, 2, 2), ((1, 0),)), ((2, 3), 1)):
        x = np.ones(shape)
        for mode in ("constant", "edge", "reflect"):
            np.testing.assert_array_equal(pnp.pad(x, pw, mode=mode), np.pad(x, pw, mode=mode))
    got = pf.jit(lambda x: (x.cumprod(0, dtype=np.float32), x.cumsum(dtype=np.float32)))(np.arange(1, 4))
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32
    np.testing.assert_array_equal(got[0], [1, 2, 6])
