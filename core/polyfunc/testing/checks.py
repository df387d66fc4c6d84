"""Numerical checks of derivatives and of agreement between backends.

``check_grads`` compares forward mode (``jvp``) with central finite
differences taken in float64 along random directions, and reverse mode
(``vjp``) with the same directional derivatives through the identity
``<v, J u> == <J^T v, u>``.  With ``order > 1`` it checks the derivative
functions themselves, recursively, so ``order=2`` covers jvp-of-jvp,
vjp-of-jvp, jvp-of-vjp and vjp-of-vjp.

``assert_backends_agree`` runs one function on every available backend and
compares the results (values and dtypes) with the NumPy backend's.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..api import jvp, vjp
from ..backends import backend_of, backends as list_backends, current_backend, use_backend
from ..interpreters.batching import generic_batch_rules
from ..ops.structural import is_float_dtype
from ..trace import Tracer
from ..tree import flatten, unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "check_vjp_against_jvp", "numerical_jvp",
           "assert_backends_agree", "to_numpy", "default_tolerance", "generic_batch_rules"]

_PY_SCALARS = (bool, int, float, complex)

# (rtol, atol) per dtype for comparing two computations of the same value
_TOL = {
    np.dtype(np.float16): (1e-2, 1e-3),
    np.dtype(np.float32): (2e-5, 2e-6),
    np.dtype(np.float64): (1e-10, 1e-12),
    np.dtype(np.complex64): (2e-5, 2e-6),
    np.dtype(np.complex128): (1e-10, 1e-12),
}


def default_tolerance(dtype: Any) -> tuple[float, float]:
    """(rtol, atol) used to compare two computations of a result of ``dtype`` (0, 0 for exact dtypes)."""
    return _TOL.get(np.dtype(dtype), (0.0, 0.0))


# ---------------------------------------------------------------- conversions
def to_numpy(x: Any) -> np.ndarray:
    """A numpy.ndarray copy of ``x``: an array of any installed backend, a tracer's
    concrete value, a Python scalar or a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (np.generic,) + _PY_SCALARS):
        return np.asarray(x)
    if isinstance(x, Tracer):
        x = x.concrete()
        if isinstance(x, np.ndarray):
            return x
    return np.asarray(backend_of(x).to_numpy(x))


def _backend_for(x):
    if type(x) in _PY_SCALARS:    # not isinstance: numpy.float64 subclasses float but is an array
        return current_backend()
    return backend_of(x)


def _flatten(tree):
    return flatten(tree)


def _unflatten(spec, leaves):
    return unflatten(spec, leaves)


def _as_float64(x):
    """``x`` as a float64 (complex128 for complex input) array on its own backend (float32 or
    complex64 where the backend has no 64-bit floats)."""
    b = _backend_for(x)
    a = to_numpy(x)
    if not is_float_dtype(a.dtype):
        raise TypeError(f"check_grads differentiates with respect to every argument, but one has dtype "
                        f"{a.dtype}; close over non-floating arguments (functools.partial or a lambda).")
    wide, narrow = (np.complex128, np.complex64) if a.dtype.kind == "c" else (np.float64, np.float32)
    try:
        return b.asarray(a.astype(wide), dtype=wide)
    except Exception:  # a backend or device without float64
        return b.asarray(a.astype(narrow), dtype=narrow)


def _like(ref, values: np.ndarray):
    """``values`` (numpy) as an array on ``ref``'s backend, with ``ref``'s dtype."""
    b = _backend_for(ref)
    dt = to_numpy(ref).dtype
    return b.asarray(np.asarray(values, dtype=dt), dtype=dt)


def _randn(rng, x):
    """Standard normal values shaped like ``x``; complex (both parts random) for a complex ``x``."""
    shape = np.shape(to_numpy(x))
    if to_numpy(x).dtype.kind == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _random_like(rng, leaves):
    return [_like(x, _randn(rng, x)) for x in leaves]


def _wide(x) -> np.ndarray:
    a = to_numpy(x)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _inner(xs: Sequence, ys: Sequence) -> float:
    """``sum Re(x * y)``: the real inner product that pairs cotangents with tangents.  A complex
    number counts as two real coordinates, and (JAX's and autograd's convention) the pairing of a
    cotangent with a tangent has no conjugate."""
    total = 0.0
    for x, y in zip(xs, ys):
        if x is None or y is None:
            continue
        total += float(np.real(np.sum(_wide(x) * _wide(y))))
    return total


def _float_out_leaves(out):
    leaves, spec = _flatten(out)
    return leaves, spec, [i for i, o in enumerate(leaves) if is_float_dtype(to_numpy(o).dtype)]


def _default_eps(leaves) -> float:
    dts = [to_numpy(x).dtype for x in leaves]
    return 1e-4 if all(d in (np.float64, np.complex128) for d in dts) else 1e-2


def _default_tols(leaves) -> tuple[float, float]:
    dts = [to_numpy(x).dtype for x in leaves]
    if all(d in (np.float64, np.complex128) for d in dts):
        return 1e-5, 1e-5
    return 2e-2, 2e-2


def _assert_close(got, want, rtol, atol, what: str) -> None:
    g = _wide(got) if got is not None else None
    w = np.asarray(want)
    w = w.astype(np.complex128 if w.dtype.kind == "c" or (g is not None and g.dtype.kind == "c") else np.float64)
    if g is None:
        g = np.zeros_like(w)
    if g.shape != w.shape:
        raise AssertionError(f"{what}: shape {g.shape} differs from the expected {w.shape}")
    with np.errstate(invalid="ignore"):     # inf - inf: equal infinities compare equal below
        bad = ~((g == w) | (np.abs(g - w) <= atol + rtol * np.abs(w)))
    bad |= np.isnan(g) != np.isnan(w)
    bad &= ~(np.isnan(g) & np.isnan(w))
    if bad.any():
        idx = tuple(int(i[0]) for i in np.nonzero(bad)) if g.ndim else ()
        err = np.abs(g - w)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values differ beyond rtol={rtol:g}, atol={atol:g}; "
            f"max abs error {np.nanmax(err) if err.size else 0:.3g}; first at index {idx}: got {g[idx]!r}, "
            f"expected {w[idx]!r}.\n got: {np.array2string(g, precision=8, threshold=20)}\n"
            f" expected: {np.array2string(w, precision=8, threshold=20)}")


# ---------------------------------------------------------------- finite differences
def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence, eps: float) -> list:
    """Central difference ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` per output leaf (numpy arrays,
    None for non-floating outputs), computed in the primals' precision."""
    plus = [_like(p, to_numpy(p) + eps * to_numpy(t)) for p, t in zip(primals, tangents)]
    minus = [_like(p, to_numpy(p) - eps * to_numpy(t)) for p, t in zip(primals, tangents)]
    hi, _, fl = _float_out_leaves(f(*plus))
    lo, _, _ = _float_out_leaves(f(*minus))
    return [(_wide(hi[i]) - _wide(lo[i])) / (2 * eps)
            if i in fl else None for i in range(len(hi))]


def _no_float_outputs(label: str, outs: Sequence) -> TypeError:
    """A check of a function without floating outputs would compare nothing: say so rather than pass."""
    kinds = ", ".join(str(to_numpy(o).dtype) for o in outs) or "no outputs at all"
    return TypeError(f"check_grads [{label}]: the function has no floating-point outputs ({kinds}), so there is "
                     f"no derivative to check; differentiate a function with a floating result (for an integer "
                     f"or boolean output there is nothing to test with check_grads)")


def check_jvp(f: Callable, primals: Sequence, *, eps: float | None = None, atol: float | None = None,
              rtol: float | None = None, seed: int = 0,
              label: str = "order 1") -> None:
    """``jvp(f)`` against central finite differences along one random direction."""
    primals = list(primals)
    eps = eps or _default_eps(primals)
    drt, dat = _default_tols(primals)
    rtol = drt if rtol is None else rtol
    atol = dat if atol is None else atol
    rng = np.random.default_rng(seed)
    tangents = _random_like(rng, primals)
    out, tout = jvp(f, tuple(primals), tuple(tangents))
    outs, spec, fl = _float_out_leaves(out)
    if not fl:
        raise _no_float_outputs(label, outs)
    touts, tspec = _flatten(tout)
    if tspec != spec:
        raise AssertionError(f"check_grads [{label}, mode fwd]: the jvp tangent has structure {tspec}, but the "
                             f"output has structure {spec}")
    num = numerical_jvp(f, primals, tangents, eps)
    for i in fl:
        oa, ta = to_numpy(outs[i]), to_numpy(touts[i])
        if oa.shape != ta.shape or oa.dtype != ta.dtype:
            raise AssertionError(f"check_grads [{label}, mode fwd]: output {i} has shape {oa.shape} and dtype "
                                 f"{oa.dtype}, but its jvp tangent has shape {ta.shape} and dtype {ta.dtype}")
        _assert_close(touts[i], num[i], rtol, atol,
                      f"check_grads [{label}, mode fwd]: jvp tangent of output {i} vs central finite "
                      f"differences (eps={eps:g})")


def check_vjp(f: Callable, primals: Sequence, *, eps: float | None = None, atol: float | None = None,
              rtol: float | None = None, seed: int = 0,
              label: str = "order 1", tangent_fn: str = "numerical") -> None:
    """``vjp(f)`` through ``<v, J u> == <J^T v, u>`` with random ``u`` and ``v``; ``J u`` from central
    finite differences (``tangent_fn='numerical'``) or from ``jvp`` (``'jvp'``)."""
    primals = list(primals)
    eps = eps or _default_eps(primals)
    drt, dat = _default_tols(primals)
    rtol = drt if rtol is None else rtol
    atol = dat if atol is None else atol
    rng = np.random.default_rng(seed + 1)
    u = _random_like(rng, primals)
    out, vjp_fn = vjp(f, *primals)
    outs, spec, fl = _float_out_leaves(out)
    if not fl:
        raise _no_float_outputs(label, outs)
    v = [_like(o, _randn(rng, o)) if i in fl else _like(o, np.zeros(np.shape(to_numpy(o))))
         for i, o in enumerate(outs)]
    ct = vjp_fn(_unflatten(spec, v))
    if not isinstance(ct, tuple) or len(ct) != len(primals):
        raise AssertionError(f"check_grads [{label}, mode rev]: vjp_fn returned {type(ct).__name__} of "
                             f"length {len(ct) if hasattr(ct, '__len__') else '?'}, expected a tuple with "
                             f"one cotangent per primal ({len(primals)})")
    for i, (c, p) in enumerate(zip(ct, primals)):
        ca, pa = to_numpy(c), to_numpy(p)
        if ca.shape != pa.shape or ca.dtype != pa.dtype:
            raise AssertionError(f"check_grads [{label}, mode rev]: the cotangent of primal {i} has shape "
                                 f"{ca.shape} and dtype {ca.dtype}, but the primal has shape {pa.shape} and "
                                 f"dtype {pa.dtype}")
    if tangent_fn == "jvp":
        _, tout = jvp(f, tuple(primals), tuple(u))
        ju = _flatten(tout)[0]
        source = "jvp"
    else:
        ju = numerical_jvp(f, primals, u, eps)
        source = f"central finite differences (eps={eps:g})"
    lhs = _inner([v[i] for i in fl], [ju[i] for i in fl])
    rhs = _inner(ct, u)
    scale = max(1.0, abs(lhs))
    if not abs(lhs - rhs) <= atol * scale + rtol * abs(lhs) + atol:
        raise AssertionError(
            f"check_grads [{label}, mode rev]: <v, J u> = {lhs!r} (J u from {source}) but <J^T v, u> = {rhs!r} "
            f"(J^T v from vjp); difference {abs(lhs - rhs):.3g} exceeds rtol={rtol:g}, atol={atol:g}")


def check_vjp_against_jvp(f: Callable, primals: Sequence, *, atol: float | None = None,
                          rtol: float | None = None, seed: int = 0) -> None:
    """``vjp`` against ``jvp`` through ``<v, J u> == <J^T v, u>`` (no finite differences)."""
    primals = list(primals)
    if atol is None or rtol is None:
        dt = [to_numpy(p).dtype for p in primals]
        tight = (1e-9, 1e-9) if all(d in (np.float64, np.complex128) for d in dt) else (1e-4, 1e-4)
        rtol = tight[0] if rtol is None else rtol
        atol = tight[1] if atol is None else atol
    check_vjp(f, primals, atol=atol, rtol=rtol, seed=seed, label="vjp vs jvp", tangent_fn="jvp")


def check_grads(f: Callable, args: Sequence, order: int = 2, modes: Iterable[str] = ("fwd", "rev"),
                eps: float | None = None, atol: float | None = None, rtol: float | None = None,
                *, seed: int = 0) -> None:
    """Check ``f``'s derivatives with respect to every argument up to ``order``.

    ``args`` are arrays of any backend (or pytrees of them; every leaf must be
    floating or complex); they are converted to float64 (complex128) on their
    backend first.  Complex numbers count as pairs of reals: directions have
    random real and imaginary parts, and cotangents pair with tangents by
    ``Re(sum(v * t))`` (no conjugate: JAX's and autograd's convention).  Mode
    ``"fwd"`` compares ``jvp`` with central finite differences along a random
    direction; ``"rev"`` checks ``vjp`` through ``<v, J u> == <J^T v, u>`` with
    ``J u`` from finite differences.  For ``order > 1`` the same checks run on
    the derivative functions ``(x, t) -> jvp(f, x, t)`` and ``(x, v) -> vjp(f, x)(v)``.
    Raises AssertionError naming the order and the chain of modes that failed.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> from polyfunc.testing import check_grads
    >>> check_grads(lambda x: pnp.sin(x) * x, (pnp.asarray([0.5, 1.0]),), order=2)
    """
    modes = tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: modes must be drawn from ('fwd', 'rev'), got {m!r}")
    if order < 1:
        raise ValueError(f"check_grads: order must be >= 1, got {order}")
    leaves, spec = _flatten(tuple(args))
    leaves = [_as_float64(x) for x in leaves]

    def flat_f(*xs):
        return f(*_unflatten(spec, list(xs)))
    _check_grads_flat(flat_f, leaves, order, modes, eps, atol, rtol, seed, [])


def _check_grads_flat(f, primals, order, modes, eps, atol, rtol, seed, chain):
    depth = len(chain) + 1
    kw = dict(eps=eps, atol=atol, rtol=rtol, seed=seed + 17 * depth)
    n = len(primals)
    if "fwd" in modes:
        check_jvp(f, primals, label=_label(chain, "fwd"), **kw)
    if "rev" in modes:
        check_vjp(f, primals, label=_label(chain, "rev"), **kw)
    if order <= 1:
        return
    rng = np.random.default_rng(seed + 1000 + depth)
    if "fwd" in modes:
        tangents = _random_like(rng, primals)

        def f_jvp(*xt):
            return jvp(f, tuple(xt[:n]), tuple(xt[n:]))
        _check_grads_flat(f_jvp, list(primals) + tangents, order - 1, modes, eps, atol, rtol, seed, chain + ["fwd"])
    if "rev" in modes:
        out = f(*primals)
        outs, ospec, fl = _float_out_leaves(out)
        if not fl:
            return
        if len(fl) != len(outs):   # vjp needs a cotangent for every output; keep the floating ones only
            def g(*xs):
                lv = _flatten(f(*xs))[0]
                return [lv[i] for i in fl]
            outs = [outs[i] for i in fl]
        else:
            g = f
        cts = _random_like(rng, outs)
        gspec = _flatten(g(*primals))[1]

        def f_vjp(*xv):
            _, vjp_fn = vjp(g, *xv[:n])
            return vjp_fn(_unflatten(gspec, list(xv[n:])))
        _check_grads_flat(f_vjp, list(primals) + cts, order - 1, modes, eps, atol, rtol, seed, chain + ["rev"])


def _label(chain, mode):
    order = len(chain) + 1
    if not chain:
        return f"order {order}"
    return f"order {order}, derivative of " + " of ".join(reversed(chain))


# ---------------------------------------------------------------- backends agreeing
def assert_backends_agree(f: Callable, args_np: Sequence, backends: Iterable[str] | None = None,
                          rtol: float | None = None, atol: float | None = None, *,
                          check_dtype: bool = True, kwargs: dict | None = None) -> dict:
    """Run ``f(*args)`` on every available backend (or those named) with the NumPy
    arrays ``args_np`` converted by each backend's ``asarray``, and compare each
    result (to_numpy) with the NumPy backend's: values within rtol/atol (per
    dtype by default), shapes and, with ``check_dtype``, dtypes identical.
    Returns {backend name: result as numpy}.

    >>> import numpy as np, polyfunc.numpy as pnp
    >>> from polyfunc.testing import assert_backends_agree
    >>> _ = assert_backends_agree(lambda x: pnp.sum(pnp.sin(x)), [np.arange(3.0)])
    """
    if backends is None:
        names = [b.name for b in list_backends() if b.available]
    else:
        names = list(backends)
    kwargs = kwargs or {}

    def run(name):
        with use_backend(name) as b:
            args = [b.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args_np]
            out = f(*args, **kwargs)
            leaves, spec = _flatten(out)
            return [to_numpy(x) for x in leaves], spec

    ref_name = "numpy"
    ref, ref_spec = run(ref_name)
    results = {ref_name: _unflatten(ref_spec, ref)}
    for name in names:
        if name.partition(":")[0] == ref_name and name == ref_name:
            continue
        got, spec = run(name)
        if spec != ref_spec:
            raise AssertionError(f"assert_backends_agree: on backend {name!r} the result has structure {spec}, "
                                 f"on numpy {ref_spec}")
        for i, (g, r) in enumerate(zip(got, ref)):
            if check_dtype and g.dtype != r.dtype:
                raise AssertionError(f"assert_backends_agree: output {i} has dtype {g.dtype} on backend "
                                     f"{name!r} but {r.dtype} on numpy")
            if g.shape != r.shape:
                raise AssertionError(f"assert_backends_agree: output {i} has shape {g.shape} on backend "
                                     f"{name!r} but {r.shape} on numpy")
            drt, dat = default_tolerance(r.dtype)
            if r.dtype.kind in "fc":
                _assert_close(g, r, drt if rtol is None else rtol, dat if atol is None else atol,
                              f"assert_backends_agree: output {i} on backend {name!r} vs numpy")
            elif not np.array_equal(g, r):
                raise AssertionError(f"assert_backends_agree: output {i} on backend {name!r} differs from "
                                     f"numpy:\n got: {g}\n numpy: {r}")
        results[name] = _unflatten(spec, got)
    return results
