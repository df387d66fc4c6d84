"""The parts of a backend's contract the op table's value checks do not reach.

* Python scalars: the core hands kernels Python ``bool``/``int``/``float``
  operands (weak scalars, which take the dtype of the array they meet) in
  either position of the binary elementwise primitives, in both, in
  ``select``'s branches and as ``broadcast_in_dim``'s operand;
* operators with a concrete array of the backend on the left and a traced
  value on the right (``W @ x`` under ``grad`` or ``vmap``), which only work
  when the library's operators return ``NotImplemented`` for an operand they
  do not know;
* random kernels: shape, dtype, the same seed giving the same stream, and
  moments.

Every test here and in ``test_conformance`` runs with the backend's kernels
checked (``polyfunc.kernel_check``): each result must be an array of the
backend under test with the shape and dtype of the primitive's abstract
evaluation, or the test fails naming the primitive and the backend.
"""
from __future__ import annotations

import operator

import numpy as np
import pytest

import polyfunc as pf
from polyfunc.avals import get_aval
from polyfunc.registry import abstract_eval_rules, primitives
from polyfunc.testing.checks import _assert_close, to_numpy
from polyfunc.testing.optable import BOOL, F32, F64, I32, I64, op_cases, tolerance

# ---------------------------------------------------------------- Python scalar operands
# the binary elementwise primitives; each gets a Python scalar of its array's kind on either side
SCALAR_BINARY = ("add", "sub", "mul", "div", "pow", "max", "min", "atan2", "floor_div", "rem",
                 "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                 "bitwise_and", "bitwise_or", "bitwise_xor")
_LOGICAL = ("logical_and", "logical_or", "logical_xor")


def _scalars(name: str, dtype: np.dtype) -> tuple:
    """Two Python scalars of the kind the core passes next to arrays of ``dtype``."""
    if dtype == BOOL or name in _LOGICAL:
        return True, False
    if dtype.kind in "iu":
        return 2, 3
    return 1.5, 0.75


def _scalar_params():
    out = []
    cases = op_cases()
    for name in SCALAR_BINARY:
        case = cases[name]
        for dt in case.dtypes:
            for where in ("right", "left", "both"):
                out.append(pytest.param(name, dt, where, id=f"{name}-{dt}-{where}",
                                        marks=pytest.mark.polyfunc_op(name, "scalars")))
    return out


def _expected_aval(name, args, params=None):
    return abstract_eval_rules[primitives[name]](*[get_aval(a) for a in args], **(params or {}))


def _check(backend, name, got, want_aval, want, label):
    assert got.__class__ not in (bool, int, float), \
        f"{label}: the kernel returned a Python {got.__class__.__name__}, not an array of backend {backend.name!r}"
    assert backend.owns_type(type(got)), \
        f"{label}: the result is a {type(got).__module__}.{type(got).__qualname__}, not an array of backend " \
        f"{backend.name!r}"
    g = to_numpy(got)
    assert (g.shape, g.dtype) == (tuple(want_aval.shape), np.dtype(want_aval.dtype)), \
        f"{label}: {g.dtype}{list(g.shape)}, the abstract evaluation says {want_aval}"
    want = np.asarray(want).astype(g.dtype)
    if g.dtype.kind == "f":
        rtol, atol = tolerance(g.dtype)
        _assert_close(g, want, rtol, atol, f"{label} vs NumPy")
    else:
        np.testing.assert_array_equal(g, want, err_msg=f"{label} vs NumPy")


@pytest.mark.parametrize("name,dtype,where", _scalar_params())
def test_python_scalar_operands(backend, name, dtype, where):
    case = op_cases()[name]
    sample = case.samples(dtype)[1]            # (3,) x (3,)
    s1, s2 = _scalars(name, dtype)
    x, y = sample.args
    if where == "right":
        np_args, args = (x, s1), (backend.asarray(x, dtype=x.dtype), s1)
    elif where == "left":
        np_args, args = (s1, y), (s1, backend.asarray(y, dtype=y.dtype))
    else:
        np_args, args = (s1, s2), (s1, s2)
    label = f"{name}({', '.join(type(a).__name__ if a.__class__ in (bool, int, float) else str(a.dtype) for a in np_args)})"
    want_aval = _expected_aval(name, args)
    got = primitives[name].bind(*args)
    ref = np.power if name == "pow" else case.ref     # the table's pow reference wants arrays
    _check(backend, name, got, want_aval, ref(*np_args), f"backend {backend.name!r}: {label}")


@pytest.mark.parametrize("dtype", [F64, F32, I32, BOOL], ids=str)
@pytest.mark.parametrize("where", ["true", "false", "both"])
def test_select_with_python_scalar_branches(backend, dtype, where):
    rng = np.random.default_rng(0)
    c = rng.random(4) < 0.5
    x = np.asarray(rng.integers(-3, 4, 4), dtype=dtype)
    s1, s2 = _scalars("select", np.dtype(dtype))
    cb, xb = backend.asarray(c, dtype=c.dtype), backend.asarray(x, dtype=x.dtype)
    args, np_args = {"true": ((cb, s1, xb), (c, s1, x)), "false": ((cb, xb, s1), (c, x, s1)),
                     "both": ((cb, s1, s2), (c, s1, s2))}[where]
    want_aval = _expected_aval("select", args)
    got = primitives["select"].bind(*args)
    _check(backend, "select", got, want_aval, np.where(*np_args), f"backend {backend.name!r}: select, {where}")


@pytest.mark.parametrize("value", [2.5, 3, True], ids=["float", "int", "bool"])
def test_broadcast_in_dim_of_a_python_scalar(backend, value):
    params = dict(shape=(2, 3), broadcast_dimensions=())
    want_aval = _expected_aval("broadcast_in_dim", (value,), params)
    got = primitives["broadcast_in_dim"].bind(value, **params)
    _check(backend, "broadcast_in_dim", got, want_aval, np.full((2, 3), value),
           f"backend {backend.name!r}: broadcast_in_dim({value!r})")


# ---------------------------------------------------------------- concrete array OP traced value
REFLECTED = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "pow": operator.pow, "matmul": operator.matmul, "lt": operator.lt, "ge": operator.ge, "eq": operator.eq,
}


@pytest.mark.parametrize("op", list(REFLECTED))
def test_reflected_operators(backend, op):
    """``concrete OP tracer``: the library's operator must give way (return NotImplemented) to the tracer."""
    fn = REFLECTED[op]
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 2.0, (3, 3))
    ys = rng.uniform(0.5, 2.0, (2, 3))
    wb, yb = backend.asarray(w, dtype=w.dtype), backend.asarray(ys, dtype=ys.dtype)
    how = (f"backend {backend.name!r}: `concrete {op} traced` (e.g. `W @ x` with W a {type(wb).__name__} and x "
           f"traced by vmap)")
    try:
        got = pf.vmap(lambda y: fn(wb, y))(yb)
    except TypeError as e:
        pytest.fail(f"{how} raised TypeError: {e}. The library's array operator raises for an operand it does "
                    f"not know instead of returning NotImplemented, so Python never asks the tracer; user code "
                    f"must put the traced value first or call polyfunc.numpy's function (pnp.matmul(W, x)). "
                    f"Declare it with polyfunc_conformance_gaps if the library cannot change.")
    want = np.stack([fn(w, ys[i]) for i in range(2)])
    _check(backend, op, got, get_aval(got), want, how)
    if op in ("lt", "ge", "eq"):
        return
    t = np.ones(3)
    out, tan = pf.jvp(lambda y: fn(wb, y), (backend.asarray(ys[0], dtype=ys.dtype),),
                      (backend.asarray(t, dtype=t.dtype),))
    eps = 1e-6
    fd = (fn(w, ys[0] + eps * t) - fn(w, ys[0] - eps * t)) / (2 * eps)
    _assert_close(to_numpy(out), fn(w, ys[0]), 1e-12, 1e-12, f"{how}: jvp primal")
    _assert_close(to_numpy(tan), fd, 1e-6, 1e-7, f"{how}: jvp tangent vs finite differences")


# ---------------------------------------------------------------- random kernels
N = 20000


def _draw(backend, name, shape, dtype, **params):
    p = primitives[name]
    out = p.bind(shape=shape, dtype=np.dtype(dtype), **params)
    label = f"backend {backend.name!r}: {name}(shape={shape}, dtype={np.dtype(dtype)})"
    assert backend.owns_type(type(out)), f"{label} returned a {type(out).__name__}, not the backend's array"
    g = to_numpy(out)
    assert g.shape == tuple(shape) and g.dtype == np.dtype(dtype), f"{label}: got {g.dtype}{list(g.shape)}"
    return g


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
def test_random_normal_and_uniform(backend, dtype):
    backend.seed(7)
    a = _draw(backend, "random_normal", (N,), dtype)
    u = _draw(backend, "random_uniform", (4, N // 4), dtype)
    backend.seed(7)
    a2 = _draw(backend, "random_normal", (N,), dtype)
    u2 = _draw(backend, "random_uniform", (4, N // 4), dtype)
    np.testing.assert_array_equal(a, a2, err_msg=f"backend {backend.name!r}: the same seed gave another stream")
    np.testing.assert_array_equal(u, u2, err_msg=f"backend {backend.name!r}: the same seed gave another stream")
    b = _draw(backend, "random_normal", (N,), dtype)
    assert not np.array_equal(a, b), f"backend {backend.name!r}: two draws in a row gave the same numbers"
    # moments, five standard errors wide
    se = 5 / np.sqrt(N)
    assert abs(a.astype(np.float64).mean()) < se, f"normal mean {a.mean()}"
    assert abs(a.astype(np.float64).var() - 1) < 5 * np.sqrt(2 / N), f"normal variance {a.var()}"
    assert abs(np.mean(a.astype(np.float64) ** 3)) < 5 * np.sqrt(15 / N), "normal skewness"
    assert u.min() >= 0 and u.max() < 1, f"uniform outside [0, 1): {u.min()}, {u.max()}"
    assert abs(u.astype(np.float64).mean() - 0.5) < se * np.sqrt(1 / 12), f"uniform mean {u.mean()}"
    assert abs(u.astype(np.float64).var() - 1 / 12) < 5 * np.sqrt(1 / 180 / N), f"uniform variance {u.var()}"


@pytest.mark.parametrize("dtype", [I64, I32], ids=str)
def test_random_randint(backend, dtype):
    backend.seed(3)
    r = _draw(backend, "random_randint", (N,), dtype, low=-2, high=3)
    backend.seed(3)
    np.testing.assert_array_equal(r, _draw(backend, "random_randint", (N,), dtype, low=-2, high=3))
    assert r.min() == -2 and r.max() == 2, f"randint(-2, 3) gave values in [{r.min()}, {r.max()}]"
    counts = np.bincount(r + 2, minlength=5) / N
    assert np.all(np.abs(counts - 0.2) < 5 * np.sqrt(0.16 / N)), f"randint frequencies {counts}"


def test_random_state_round_trip(backend):
    state = backend.rng_state()
    if state is None:
        pytest.skip(f"backend {backend.name!r} cannot snapshot its generator (rng_state() is None)")
    a = _draw(backend, "random_uniform", (5,), F64)
    backend.set_rng_state(state)
    np.testing.assert_array_equal(a, _draw(backend, "random_uniform", (5,), F64))
