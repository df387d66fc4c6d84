"""The op table: one ``OpCase`` per primitive, and one ``NumpyCase`` per
``polyfunc.numpy`` function.

An ``OpCase`` says how to call the primitive (``fn``, written with
``polyfunc.ops``), what NumPy computes for it (``ref``), how to make sample
inputs for a dtype (``make(rng, dtype) -> [Sample]``: NumPy arrays plus the
primitive's parameters), the tolerances per dtype, which arguments are
differentiable and whether the primitive is batchable.  The conformance suite
(``polyfunc.testing.conformance``) turns every row into forward, jvp, vjp,
vmap and second-order tests for each backend; a test asserts that every
registered primitive has a row, so a new primitive cannot go untested.

Sample generators are deterministic functions of ``rng``: called with
different generators they return samples of the same shapes and parameters
and different values, which is how the vmap tests build batches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import math

import numpy as np

from .. import ops

__all__ = ["Sample", "OpCase", "OP_CASES", "op_cases", "EXCLUDED_PRIMITIVES", "NumpyCase", "NUMPY_CASES",
           "FLOATS", "INTS", "ALL_DTYPES", "COMPLEX", "tolerance", "numpy_cases"]

F32, F64, I32, I64, BOOL = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64),
                            np.dtype(bool))
FLOATS = (F32, F64)
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)
COMPLEX = (C64, C128)    # rows where NumPy computes with complex numbers too
INTS = (I32, I64)
NUMERIC = FLOATS + INTS
ALL_DTYPES: tuple[np.dtype, ...] = NUMERIC + (BOOL,)

# primitives with their own statistical / determinism / custom-rule tests
EXCLUDED_PRIMITIVES = frozenset({"custom_jvp_call", "custom_vjp_call", "custom_lin",
                                 "random_normal", "random_uniform", "random_randint"})

# forward comparison tolerances (rtol, atol); integers and bools compare exactly
DEFAULT_TOL = {F32: (1e-5, 1e-6), F64: (1e-10, 1e-12), C64: (1e-5, 1e-6), C128: (1e-10, 1e-12)}


def tolerance(dtype, overrides: dict | None = None) -> tuple[float, float]:
    dtype = np.dtype(dtype)
    if overrides and dtype in overrides:
        return overrides[dtype]
    return DEFAULT_TOL.get(dtype, (0.0, 0.0))


@dataclass
class Sample:
    """NumPy arguments (positional) and the primitive's parameters (keywords)."""
    args: tuple
    params: dict = field(default_factory=dict)
    label: str = ""
    grad: bool = True          # usable for derivative checks (smooth there, float64 version)
    # the highest derivative order finite differences can check here: 1 at a tie or a kink, where the
    # central difference equals the rule's convention (ties split evenly, abs'(0) = 0) but the
    # derivative itself jumps, so a second-order difference across it means nothing
    order: int | None = None


@dataclass
class OpCase:
    name: str                                   # the primitive's name
    fn: Callable                                # fn(*arrays, **params) with polyfunc.ops
    ref: Callable                               # ref(*numpy arrays, **params) -> numpy array
    make: Callable[[np.random.Generator, np.dtype], list]   # -> [Sample]
    dtypes: tuple = FLOATS
    diff_args: tuple = (0,)                     # differentiable argument indices; () = not differentiable
    batchable: bool = True
    tol: dict = field(default_factory=dict)     # dtype -> (rtol, atol) overriding DEFAULT_TOL
    grad_tol: tuple | None = None               # (rtol, atol) for check_grads
    grad_eps: float | None = None
    grad_order: int = 2

    @property
    def differentiable(self) -> bool:
        return bool(self.diff_args)

    def samples(self, dtype, seed: int = 0) -> list:
        return self.make(np.random.default_rng(seed), np.dtype(dtype))

    def __repr__(self):
        return f"OpCase({self.name})"


# ---------------------------------------------------------------- value generators
def _vals(rng, shape, dtype, domain="normal"):
    """Values of ``shape``/``dtype`` in ``domain`` (a NumPy array, 0-d for shape ())."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if dtype.kind == "c":
        # the real part from the domain; a small imaginary part keeps the values near the real
        # domain (away from branch cuts of log, sqrt, arcsin ... on the negative or outer real axis)
        re = _vals(rng, shape, np.float64, domain)
        im = rng.uniform(-0.5, 0.5, shape) if domain not in ("ties", "index") else rng.integers(-1, 2, shape)
        return np.asarray(re + 1j * im, dtype=dtype)
    if dtype == BOOL:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        lo, hi = {"positive": (1, 5), "nonzero": (1, 5), "small": (-2, 3), "index": (0, 3)}.get(domain, (-5, 6))
        v = rng.integers(lo, hi, size=shape)
        if domain == "nonzero":
            v = v * np.where(rng.random(shape) < 0.5, -1, 1)
        return np.asarray(v, dtype=dtype)
    if domain == "normal":
        v = rng.uniform(-2.0, 2.0, shape)
    elif domain == "positive":
        v = rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":            # inside (-1, 1), away from the ends
        v = rng.uniform(-0.8, 0.8, shape)
    elif domain == "tan":
        v = rng.uniform(-1.2, 1.2, shape)
    elif domain in ("away0", "nonzero"):  # |x| in [0.3, 2], either sign
        v = rng.uniform(0.3, 2.0, shape) * np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    elif domain == "nonint":          # away from integers and half-integers (kinks of floor/ceil/round)
        v = rng.integers(-3, 3, size=shape) + rng.choice([0.15, 0.3, 0.65, 0.85], size=shape) \
            + rng.uniform(-0.05, 0.05, shape)
    elif domain == "grid_lo":         # k + 0.25: never within 0.5 of a grid_hi value (kinks of max/min)
        v = rng.integers(-3, 3, size=shape) + 0.25 + rng.uniform(-0.05, 0.05, shape)
    elif domain == "grid_hi":
        v = rng.integers(-3, 3, size=shape) + 0.75 + rng.uniform(-0.05, 0.05, shape)
    elif domain == "ties":            # small integers: equal values are common
        v = rng.integers(-2, 3, size=shape).astype(np.float64)
    elif domain == "small":
        v = rng.uniform(-1.2, 1.2, shape)
    else:
        raise ValueError(domain)
    return np.asarray(v, dtype=dtype)


UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


# IEEE hard points every elementwise forward pass must get right as NumPy does (forward only)
SPECIALS = (0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 1e-300, -1e-300, 0.5, 2.0)
# domains that contain 0 where the function is smooth: a sample at 0 checks odd functions' f(0) = 0, f'(0)
_SMOOTH_AT_ZERO = ("normal", "unit", "tan", "small")


def _specials(dtype):
    with np.errstate(over="ignore"):       # 1e300 is inf in float32, as it should be
        return np.asarray(SPECIALS, dtype=np.float64).astype(dtype)


def _unary_make(domain="normal", shapes=UNARY_SHAPES, extra=None):
    def make(rng, dtype):
        out = [Sample((_vals(rng, s, dtype, domain),), label=f"{s}") for s in shapes]
        if dtype.kind == "f":
            if domain in _SMOOTH_AT_ZERO:
                z = np.asarray([0.0, -0.0, 0.0], dtype=dtype) + (0 * rng.random(3)).astype(dtype)
                z[2] = _vals(rng, (), dtype, domain)
                out.append(Sample((z,), label="at 0"))
            out.append(Sample((_specials(dtype)[rng.permutation(len(SPECIALS))],), label="inf,nan,1e300", grad=False))
        if extra is not None:
            out += extra(rng, dtype)
        return out
    return make


def _binary_make(dx="normal", dy="normal", shapes=BINARY_SHAPES):
    def make(rng, dtype):
        return [Sample((_vals(rng, sx, dtype, dx), _vals(rng, sy, dtype, dy)), label=f"{sx}x{sy}")
                for sx, sy in shapes]
    return make


# ---------------------------------------------------------------- NumPy references
def _logistic(x):
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def _rsqrt(x):
    return (1.0 / np.sqrt(x.astype(np.float64))).astype(x.dtype)


def _integer_pow_ref(x, *, y):
    if y < 0:
        return np.power(x.astype(np.float64), y).astype(x.dtype)
    return np.power(x, y).astype(x.dtype)


def _round_ref(x):
    return np.round(x)   # half to even, as NumPy


def _bid_ref(x, *, shape, broadcast_dimensions):
    tmp = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        tmp[d] = x.shape[i]
    return np.broadcast_to(np.reshape(x, tmp), shape)


def _pad_ref(x, *, padding_value, padding_config):
    shape = tuple(lo + hi + n + max(n - 1, 0) * it for (lo, hi, it), n in zip(padding_config, x.shape))
    out = np.full(shape, padding_value, dtype=x.dtype)
    idx = tuple(slice(lo, lo + (n - 1) * (it + 1) + 1, it + 1) if n else slice(lo, lo)
                for (lo, hi, it), n in zip(padding_config, x.shape))
    out[idx] = x
    return out


def _scatter_add_ref(x, idx, upd, *, axis):
    out = np.array(x, copy=True)
    for pos in np.ndindex(*idx.shape):
        sel_out = (slice(None),) * axis + (int(idx[pos]),)
        sel_upd = (slice(None),) * axis + tuple(pos)
        out[sel_out] = out[sel_out] + upd[sel_upd]
    return out


def _cumsum_ref(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def _dot_general_ref(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    xs = [next(letters) for _ in range(x.ndim)]
    ys = [next(letters) for _ in range(y.ndim)]
    for a, b in zip(lc, rc):
        ys[b] = xs[a]
    for a, b in zip(lb, rb):
        ys[b] = xs[a]
    out = [xs[i] for i in lb] + [xs[i] for i in range(x.ndim) if i not in lc and i not in lb] + \
        [ys[i] for i in range(y.ndim) if i not in rc and i not in rb]
    if x.dtype == BOOL:
        return np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x.astype(np.int64), y).astype(bool)
    return np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y).astype(x.dtype)


def _reduce_ref(npfn):
    def ref(x, *, axes):
        if x.dtype == BOOL or npfn in (np.max, np.min):
            return np.asarray(npfn(x, axis=axes))
        return np.asarray(npfn(x, axis=axes, dtype=x.dtype))
    return ref


# ---------------------------------------------------------------- sample makers for the special ops
def _pow_make(rng, dtype):
    if dtype.kind in "fc":
        return _binary_make("positive", "normal")(rng, dtype)
    # integer powers: non-negative exponents
    return [Sample((_vals(rng, sx, dtype, "small"), np.asarray(rng.integers(0, 4, size=sy), dtype=dtype)),
                   label=f"{sx}x{sy}") for sx, sy in BINARY_SHAPES]


def _divmod_make(rng, dtype):
    """Operands of floor_div / rem: x / y away from integers (the kinks), divisors away from 0."""
    out = []
    for sx, sy in [((3,), (3,)), ((2, 3), (3,)), ((), ())]:
        y = _vals(rng, sy, dtype, "nonzero")
        if dtype.kind == "f":
            q = _vals(rng, np.broadcast_shapes(sx, sy), np.float64, "nonint")
            x = np.asarray(q * y.astype(np.float64), dtype=dtype)
        else:
            x = _vals(rng, sx, dtype, "normal")
        out.append(Sample((x, y), label=f"{sx}x{sy}"))
    return out


def _atan2_make(rng, dtype):
    return _binary_make("away0", "normal", BINARY_SHAPES[:4])(rng, dtype)


def _integer_pow_make(rng, dtype):
    ys = [0, 1, 2, 3] + ([-2] if dtype.kind == "f" else [])
    dom = "away0" if dtype.kind == "f" else "small"
    return [Sample((_vals(rng, s, dtype, dom),), dict(y=y), label=f"{s}^{y}")
            for y, s in zip(ys, [(3,), (2, 3), (), (3,), (2, 2)])]


def _round_make(rng, dtype):
    out = _unary_make("nonint")(rng, dtype)
    ties = np.asarray([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], dtype=dtype) + 0 * rng.random(6)
    out.append(Sample((ties.astype(dtype),), label="half-integers", grad=False))
    return out


def _sign_make(rng, dtype):
    out = _unary_make("away0")(rng, dtype)
    z = np.asarray([-1, 0, 2], dtype=dtype) * (1 + 0 * rng.random(3)).astype(dtype)
    out.append(Sample((z,), label="zeros", grad=False))
    return out


def _isnan_make(rng, dtype):
    x = _vals(rng, (5,), dtype)
    x[rng.permutation(5)[:2]] = np.nan
    return [Sample((x,), label="(5,) with nan"), Sample((_vals(rng, (2, 2), dtype),), label="(2,2)")]


def _cmp_make(rng, dtype):
    dom = "ties" if dtype.kind == "f" else ("small" if dtype.kind in "iu" else "normal")
    return _binary_make(dom, dom)(rng, dtype)


def _kink_at_zero(rng, dtype):
    """abs at 0 (and beside it): the central difference there is abs's convention abs'(0) = 0."""
    x = _vals(rng, (4,), dtype, "away0")
    x[rng.permutation(4)[:2]] = 0
    return [Sample((x,), label="kink at 0", order=1)]


def _minmax_make(rng, dtype):
    if dtype.kind != "f":
        out = _binary_make()(rng, dtype)
        x = _vals(rng, (5,), dtype, "small")
        y = np.array(x)
        flip = rng.permutation(5)[:2]
        y[flip] = ~y[flip] if dtype == BOOL else y[flip] + 1
        # complex ties are kinks as real ones are: first order only (integers and booleans have none)
        return out + [Sample((x, y), label="ties", order=1 if dtype.kind == "c" else None)]
    out = _binary_make("grid_lo", "grid_hi")(rng, dtype)
    # ties: x == y at some entries (the tangent splits evenly there, which is what the central
    # difference measures), and relu's kink max(x, 0) at x == 0
    x = _vals(rng, (2, 3), dtype)
    y = np.array(x)
    y[0, rng.permutation(3)[:2]] += np.asarray([0.7, -0.6], dtype=dtype)
    out.append(Sample((x, y), label="ties (2,3)x(2,3)", order=1))
    t = _vals(rng, (), dtype)
    out.append(Sample((t, np.array(t)), label="tie ()x()", order=1))
    r = _vals(rng, (4,), dtype, "away0")
    r[rng.permutation(4)[:2]] = 0
    out.append(Sample((r, np.zeros((), dtype)), label="relu kink (4,)x()", order=1))
    out.append(Sample((_specials(dtype), _specials(dtype)[::-1].copy()), label="inf,nan,1e300", grad=False))
    return out


def _select_make(rng, dtype):
    shapes = [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((), (2,), (2,)), ((2, 1), (), (3,))]
    return [Sample((_vals(rng, sp, BOOL), _vals(rng, sx, dtype), _vals(rng, sy, dtype)), label=f"{sp}{sx}{sy}")
            for sp, sx, sy in shapes]


def _convert_make(rng, dtype):
    out = []
    for i, target in enumerate(ALL_DTYPES):
        s = [(3,), (2, 2), ()][i % 3]
        dom = "nonint" if dtype.kind == "f" else "normal"
        out.append(Sample((_vals(rng, s, dtype, dom),), dict(new_dtype=target), label=f"to_{target}",
                          grad=dtype.kind == "f" and target.kind == "f"))
    return out


def _full_like_make(rng, dtype):
    fill = {"f": 1.5, "i": 7, "b": True}[dtype.kind]
    return [Sample((_vals(rng, (3,), dtype),), dict(fill_value=fill, shape=(2, 3), dtype=dtype), label="(2,3)"),
            Sample((_vals(rng, (), dtype),), dict(fill_value=fill, shape=(), dtype=dtype), label="()"),
            Sample((_vals(rng, (2,), F32 if dtype != F32 else F64),), dict(fill_value=0, shape=(4,), dtype=dtype),
                   label="other_dtype_like", grad=False)]


def _eye_make(rng, dtype):
    like = _vals(rng, (2,), dtype)
    return [Sample((like,), dict(shape=(3, 3), offset=0, dtype=dtype), label="3x3"),
            Sample((like,), dict(shape=(2, 5), offset=2, dtype=dtype), label="2x5+2"),
            Sample((like,), dict(shape=(4, 3), offset=-1, dtype=dtype), label="4x3-1")]


def _iota_make(rng, dtype):
    return [Sample((), dict(dtype=dtype, shape=(5,), dimension=0), label="(5,)"),
            Sample((), dict(dtype=dtype, shape=(2, 3), dimension=1), label="(2,3)d1"),
            Sample((), dict(dtype=dtype, shape=(3, 2), dimension=0), label="(3,2)d0")]


def _bid_make(rng, dtype):
    cfgs = [((3,), (2, 3), (1,)), ((3, 1), (3, 4), (0, 1)), ((), (2, 2), ()), ((3,), (3, 2), (0,)),
            ((1, 2), (3, 2, 2), (0, 2))]
    return [Sample((_vals(rng, s, dtype),), dict(shape=o, broadcast_dimensions=bd), label=f"{s}->{o}")
            for s, o, bd in cfgs]


def _reshape_make(rng, dtype):
    cfgs = [((2, 3), (3, 2)), ((6,), (2, 3)), ((), (1, 1)), ((2, 3), (6,)), ((1, 4), (2, 2))]
    return [Sample((_vals(rng, s, dtype),), dict(new_sizes=o), label=f"{s}->{o}") for s, o in cfgs]


def _transpose_make(rng, dtype):
    cfgs = [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((3,), (0,)), ((2, 1, 3), (1, 2, 0))]
    return [Sample((_vals(rng, s, dtype),), dict(permutation=p), label=f"{s}{p}") for s, p in cfgs]


def _squeeze_make(rng, dtype):
    cfgs = [((1, 3), (0,)), ((2, 1, 3, 1), (1, 3)), ((1,), (0,))]
    return [Sample((_vals(rng, s, dtype),), dict(dimensions=d), label=f"{s}{d}") for s, d in cfgs]


def _expand_make(rng, dtype):
    cfgs = [((3,), (0,)), ((2, 3), (1, 3)), ((), (0,)), ((2,), (1,))]
    return [Sample((_vals(rng, s, dtype),), dict(dimensions=d), label=f"{s}{d}") for s, d in cfgs]


def _slice_make(rng, dtype):
    cfgs = [((5,), (1,), (4,), (1,)), ((4, 5), (0, 1), (3, 5), (2, 2)), ((3, 2), (1, 0), (3, 1), (1, 1)),
            ((6,), (0,), (6,), (3,))]
    return [Sample((_vals(rng, s, dtype),), dict(start_indices=a, limit_indices=b, strides=st),
                   label=f"{s}[{a}:{b}:{st}]") for s, a, b, st in cfgs]


def _pad_make(rng, dtype):
    val = {"f": 1.5, "i": 7, "b": True}[dtype.kind]
    cfgs = [((3,), ((1, 2, 0),)), ((2, 3), ((0, 1, 1), (2, 0, 0))), ((3,), ((0, 0, 2),)),
            ((2, 2), ((1, 1, 1), (0, 0, 0)))]
    return [Sample((_vals(rng, s, dtype),), dict(padding_value=val, padding_config=c), label=f"{s}{c}")
            for s, c in cfgs]


def _concat_make(rng, dtype):
    cfgs: list[tuple[list[tuple[int, ...]], int]] = [([(2, 3), (1, 3)], 0), ([(2,), (3,), (1,)], 0), ([(2, 1), (2, 3)], 1)]
    return [Sample(tuple(_vals(rng, s, dtype) for s in shapes), dict(dimension=d), label=f"{shapes}@{d}")
            for shapes, d in cfgs]


def _rev_make(rng, dtype):
    cfgs = [((4,), (0,)), ((2, 3), (0, 1)), ((2, 3), (1,))]
    return [Sample((_vals(rng, s, dtype),), dict(dimensions=d), label=f"{s}{d}") for s, d in cfgs]


def _gather_make(rng, dtype):
    return [
        Sample((_vals(rng, (5,), dtype), np.asarray(rng.integers(0, 5, size=(4,)), dtype=I64)), dict(axis=0),
               label="(5,)[(4,)]"),
        Sample((_vals(rng, (3, 4), dtype), np.asarray(rng.integers(0, 4, size=(2, 2)), dtype=I32)), dict(axis=1),
               label="(3,4)[:,(2,2)]"),
        Sample((_vals(rng, (4, 2), dtype), np.asarray(rng.integers(0, 4), dtype=I64)), dict(axis=0),
               label="(4,2)[()]"),
    ]


def _scatter_make(rng, dtype):
    i1 = np.asarray(rng.integers(0, 3, size=(4,)), dtype=I64)   # repeats are common
    i2 = np.asarray(rng.integers(0, 4, size=(2,)), dtype=I32)
    return [
        Sample((_vals(rng, (5,), dtype), i1, _vals(rng, (4,), dtype)), dict(axis=0), label="(5,)@(4,)"),
        Sample((_vals(rng, (3, 4), dtype), i2, _vals(rng, (3, 2), dtype)), dict(axis=1), label="(3,4)@:,(2,)"),
        Sample((_vals(rng, (3, 2), dtype), np.asarray(rng.integers(0, 3), dtype=I64), _vals(rng, (2,), dtype)),
               dict(axis=0), label="(3,2)@()"),
    ]


REDUCE_CFGS = [((3,), (0,)), ((2, 3), (0,)), ((2, 3), (1,)), ((2, 3), (0, 1)), ((2, 3), ()), ((), ()),
               ((2, 3, 2), (0, 2))]
# size-0 inputs: an empty sum is 0 and an empty product 1 (max and min of nothing are errors, as in NumPy)
EMPTY_REDUCE_CFGS = [((0, 3), (0,)), ((2, 0), (0,)), ((0, 0, 2), (0, 1)), ((0, 0, 0), (0, 1))]


def _reduce_make(domain="normal", ties=False, empty=False):
    def make(rng, dtype):
        cfgs = REDUCE_CFGS + (EMPTY_REDUCE_CFGS if empty else [])
        out = [Sample((_vals(rng, s, dtype, domain),), dict(axes=a), label=f"{s}{a}") for s, a in cfgs]
        if ties:
            out += _extremum_ties(rng, dtype)
        return out
    return make


def _extremum_ties(rng, dtype):
    """Each reduced slice's extreme value held by exactly two entries, at both ends: ties share the
    tangent evenly, and with two tied entries that is what the central difference measures
    (with three or more it measures (max + min) / 2 of their tangents, not the mean)."""
    base = _vals(rng, (2, 3, 2), dtype, "small") if dtype.kind != "f" else \
        np.asarray(rng.uniform(-1.0, 1.0, (2, 3, 2)), dtype=dtype)
    hi = np.asarray(3, dtype=dtype) if dtype != BOOL else np.asarray(True)
    lo = np.asarray(-3, dtype=dtype) if dtype != BOOL else np.asarray(False)
    out = []
    row = np.array(base[0, :, 0])                 # (3,): reduce over axis 0
    row[1:] = hi
    row2 = np.array(row)
    row2[1:] = lo
    out.append(Sample((np.stack([row, row2]),), dict(axes=(1,)), label="ties in rows (2,3)(1,)", order=1))
    m = np.array(base)                            # (2,3,2) over axes (0,2): a pair tied in each slice
    m[0, :, 1] = hi
    m[1, :, 0] = hi
    m[0, :, 0] = lo
    m[1, :, 1] = lo
    out.append(Sample((m,), dict(axes=(0, 2)), label="ties (2,3,2)(0,2)", order=1))
    return out


def _arg_make(rng, dtype):
    cfgs = [((4,), 0, I64), ((2, 3), 0, I64), ((2, 3), 1, I32), ((3, 1), 1, I64)]
    # complex: small integer parts, so real parts tie often and the imaginary part decides
    dom = "small" if dtype.kind in "iu" else ("ties" if dtype.kind == "c" else "normal")
    out = [Sample((_vals(rng, s, dtype, dom),), dict(axis=a, index_dtype=idt), label=f"{s}@{a}")
           for s, a, idt in cfgs]
    if dtype.kind == "c":
        # NumPy's lexicographic order: equal real parts ordered by the imaginary part, and the
        # first of equal values wins; NaN in either part wins wherever it comes first
        x = np.asarray([[1 + 2j, 1 + 3j, 1 + 3j, 0j, 1 - 1j],
                        [2 - 1j, 2 - 1j, 2 - 2j, -1 + 9j, 2 + 0j],
                        [0j, complex(0, np.nan), 5j, complex(np.nan, 0), -5j]], dtype=dtype)
        out += [Sample((x,), dict(axis=1, index_dtype=I64), label="real-part ties (3,5)@1", grad=False),
                Sample((x[:2].T,), dict(axis=1, index_dtype=I32), label="real-part ties (5,2)@1")]
    return out


def _argsort_make(rng, dtype):
    cfgs = [((5,), 0, False), ((5,), 0, True), ((2, 4), 1, False), ((3, 2), 0, True), ((2, 3, 2), 1, False)]
    dom = "small" if dtype.kind in "iu" else "normal"      # small integers: ties, which must stay in order
    return [Sample((_vals(rng, s, dtype, dom),), dict(axis=a, descending=de, index_dtype=I64),
                   label=f"{s}@{a}{'d' if de else ''}") for s, a, de in cfgs]


def _argsort_ref(x, *, axis, descending, index_dtype):
    """Stable argsort by Python's sorted (ties keep their order), row by row: independent of the kernels."""
    def row(r):
        return np.array(sorted(range(len(r)), key=lambda i: -float(r[i]) if descending else float(r[i])))
    if np.size(x) == 0:
        return np.zeros(np.shape(x), dtype=index_dtype)
    return np.apply_along_axis(row, axis, np.asarray(x)).astype(index_dtype)


def _cumsum_make(rng, dtype):
    cfgs = [((4,), 0, False), ((4,), 0, True), ((2, 3), 1, False), ((2, 3), 0, True)]
    return [Sample((_vals(rng, s, dtype),), dict(axis=a, reverse=r), label=f"{s}@{a}{'r' if r else ''}")
            for s, a, r in cfgs]


DOT_CFGS = [
    ((2, 3), (3, 4), (((1,), (0,)), ((), ())), "matmul"),
    ((3,), (3,), (((0,), (0,)), ((), ())), "vdot"),
    ((2, 2, 3), (2, 3, 2), (((2,), (1,)), ((0,), (0,))), "batched"),
    ((2,), (3,), (((), ()), ((), ())), "outer"),
    ((3, 2), (4, 3), (((0,), (1,)), ((), ())), "transposed"),
    ((2, 3), (3,), (((1,), (0,)), ((), ())), "matvec"),
    # batch axes off the front, several contracted axes, both at once: the transpose rule's
    # permutation is then a 3-cycle, so using it in place of its inverse shows
    ((3, 2, 4), (4, 2, 5), (((2,), (0,)), ((1,), (1,))), "batch in the middle"),
    ((2, 3, 4), (4, 5, 3), (((1, 2), (2, 0)), ((), ())), "two contracted axes"),
    ((3, 4, 2), (4, 3, 5, 2), (((0, 1), (1, 0)), ((2,), (3,))), "batch last, two contracted"),
    ((2, 3, 4), (3, 4, 2, 5), (((2,), (1,)), ((0, 1), (2, 0))), "two batch axes, swapped"),
    ((4, 2, 3), (2, 5, 3), (((2,), (2,)), ((1,), (0,))), "contract last with last"),
]


def _dot_make(rng, dtype):
    dom = "small" if dtype.kind in "iu" else "normal"
    return [Sample((_vals(rng, sx, dtype, dom), _vals(rng, sy, dtype, dom)), dict(dimension_numbers=dn), label=lbl)
            for sx, sy, dn, lbl in DOT_CFGS]


def _well_conditioned(rng, shape, dtype):
    """Stacks of square matrices safely away from singular (a dominant diagonal)."""
    n = shape[-1]
    m = rng.standard_normal(shape) + 3 * np.eye(n)
    if np.dtype(dtype).kind == "c":
        m = m + 0.5j * rng.standard_normal(shape)
    return m.astype(dtype)


def _spd(rng, shape, dtype):
    m = rng.standard_normal(shape)
    return (m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def _solve_make(rng, dtype):
    cfgs = [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((1, 1), (1, 4))]
    return [Sample((_well_conditioned(rng, sa, dtype), _vals(rng, sb, dtype)), label=f"{sa}\\{sb}")
            for sa, sb in cfgs]


def _square_make(spd):
    def make(rng, dtype):
        gen = _spd if spd else _well_conditioned
        return [Sample((gen(rng, s, dtype),), label=str(s)) for s in [(3, 3), (2, 4, 4), (1, 1)]]
    return make


def _sym(a):
    """The symmetric part: cholesky reads one triangle, so its rule assumes symmetric perturbations."""
    return ops.mul(ops.add(a, ops.matrix_transpose(a)), 0.5)


# ---------------------------------------------------------------- the table
def _by_element(fn):
    """A float function of the C library applied per element, keeping the dtype (the reference)."""
    u = np.frompyfunc(fn, 1, 1)
    return lambda x: np.asarray(u(x), dtype=np.asarray(x).dtype)


def _u(name, ref, domain="normal", dtypes=FLOATS, diff=True, **kw):
    prim = getattr(ops, name)
    return OpCase(name, lambda x, _p=prim: _p(x), lambda x: np.asarray(ref(x)), kw.pop("make", _unary_make(domain)),
                  dtypes=dtypes, diff_args=(0,) if diff else (), **kw)


def _b(name, ref, make=None, dtypes=FLOATS, diff=(0, 1), **kw):
    prim = getattr(ops, name)
    return OpCase(name, lambda x, y, _p=prim: _p(x, y), lambda x, y: np.asarray(ref(x, y)),
                  make or _binary_make(), dtypes=dtypes, diff_args=diff, **kw)


def _same_dtype(npfn):
    """A NumPy function whose result is cast back to the first operand's dtype (primitive semantics)."""
    def ref(*xs):
        return np.asarray(npfn(*xs)).astype(xs[0].dtype)
    return ref


def _p(name, fn, ref, make, dtypes=FLOATS, diff=(0,), **kw):
    return OpCase(name, fn, ref, make, dtypes=dtypes, diff_args=diff, **kw)


OP_CASES: list[OpCase] = [
    # creation and structure
    _p("full_like", lambda x, **p: ops.full_like(x, **p), lambda x, *, fill_value, shape, dtype:
       np.full(shape, fill_value, dtype=dtype), _full_like_make, dtypes=ALL_DTYPES),
    _p("iota", lambda **p: ops.iota(**p), lambda *, dtype, shape, dimension: np.broadcast_to(
        np.arange(shape[dimension], dtype=dtype).reshape([n if i == dimension else 1 for i, n in enumerate(shape)]),
        shape), _iota_make, dtypes=NUMERIC, diff=(), batchable=False),
    _p("eye", lambda x, **p: ops.eye_p.bind(x, **p), lambda x, *, shape, offset, dtype: np.eye(
        shape[0], shape[1], k=offset, dtype=dtype), _eye_make, dtypes=ALL_DTYPES, diff=()),
    _p("broadcast_in_dim", lambda x, **p: ops.broadcast_in_dim(x, **p), _bid_ref, _bid_make, dtypes=ALL_DTYPES),
    _p("reshape", lambda x, **p: ops.reshape(x, **p), lambda x, *, new_sizes: np.reshape(x, new_sizes),
       _reshape_make, dtypes=ALL_DTYPES),
    _p("transpose", lambda x, **p: ops.transpose(x, **p), lambda x, *, permutation: np.transpose(x, permutation),
       _transpose_make, dtypes=ALL_DTYPES),
    _p("squeeze", lambda x, **p: ops.squeeze(x, **p), lambda x, *, dimensions: np.squeeze(x, dimensions),
       _squeeze_make, dtypes=ALL_DTYPES),
    _p("expand_dims", lambda x, **p: ops.expand_dims(x, **p), lambda x, *, dimensions: np.expand_dims(x, dimensions),
       _expand_make, dtypes=ALL_DTYPES),
    _p("slice", lambda x, **p: ops.slice(x, **p), lambda x, *, start_indices, limit_indices, strides: x[tuple(
        slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))], _slice_make, dtypes=ALL_DTYPES),
    _p("pad", lambda x, **p: ops.pad(x, **p), _pad_ref, _pad_make, dtypes=ALL_DTYPES),
    _p("concatenate", lambda *xs, dimension: ops.concatenate(xs, dimension),
       lambda *xs, dimension: np.concatenate(xs, axis=dimension), _concat_make, dtypes=ALL_DTYPES, diff=(0, 1, 2)),
    _p("rev", lambda x, **p: ops.rev(x, **p), lambda x, *, dimensions: np.flip(x, dimensions), _rev_make,
       dtypes=ALL_DTYPES),
    _p("gather", lambda x, i, **p: ops.gather(x, i, **p), lambda x, i, *, axis: np.take(x, i, axis=axis),
       _gather_make, dtypes=ALL_DTYPES),
    _p("scatter_add", lambda x, i, u, **p: ops.scatter_add(x, i, u, **p), _scatter_add_ref, _scatter_make,
       dtypes=NUMERIC, diff=(0, 2)),
    # arithmetic
    _u("neg", np.negative, dtypes=NUMERIC),
    _b("add", np.add, dtypes=ALL_DTYPES[:4] + COMPLEX),
    _b("sub", np.subtract, dtypes=NUMERIC + COMPLEX),
    _b("mul", np.multiply, dtypes=NUMERIC + COMPLEX),
    _b("div", np.true_divide, _binary_make("normal", "away0"), dtypes=FLOATS + COMPLEX),
    _b("pow", _same_dtype(np.power), _pow_make, dtypes=NUMERIC + COMPLEX),
    _b("floor_div", np.floor_divide, _divmod_make, dtypes=NUMERIC),
    _b("rem", np.remainder, _divmod_make, dtypes=NUMERIC),
    _b("atan2", np.arctan2, _atan2_make),
    # complex numbers: NumPy's lexicographic order (real part, then imaginary)
    _b("max", np.maximum, _minmax_make, dtypes=ALL_DTYPES + (C128,)),
    _b("min", np.minimum, _minmax_make, dtypes=ALL_DTYPES + (C128,)),
    _p("integer_pow", lambda x, **p: ops.integer_pow(x, **p), _integer_pow_ref, _integer_pow_make,
       dtypes=NUMERIC + COMPLEX),
    # transcendental
    _u("exp", np.exp, dtypes=FLOATS + COMPLEX), _u("log", np.log, "positive", dtypes=FLOATS + COMPLEX),
    _u("log1p", np.log1p, "positive", dtypes=FLOATS + COMPLEX),
    _u("expm1", np.expm1, dtypes=FLOATS + COMPLEX), _u("sin", np.sin, dtypes=FLOATS + COMPLEX),
    _u("cos", np.cos, dtypes=FLOATS + COMPLEX), _u("tan", np.tan, "tan", dtypes=FLOATS + COMPLEX),
    _u("tanh", np.tanh, dtypes=FLOATS + COMPLEX), _u("erf", _by_element(math.erf)), _u("erfc", _by_element(math.erfc)),
    _u("logistic", _logistic), _u("sqrt", np.sqrt, "positive", dtypes=FLOATS + COMPLEX),
    _u("rsqrt", _rsqrt, "positive"), _u("asin", np.arcsin, "unit", dtypes=FLOATS + (C128,)),
    _u("acos", np.arccos, "unit", dtypes=FLOATS + (C128,)),
    _u("atan", np.arctan, "unit", dtypes=FLOATS + (C128,)), _u("sinh", np.sinh, dtypes=FLOATS + COMPLEX),
    _u("cosh", np.cosh, dtypes=FLOATS + COMPLEX),
    _u("abs", np.abs, "away0", dtypes=NUMERIC + COMPLEX, make=_unary_make("away0", extra=_kink_at_zero)),
    _u("sign", np.sign, dtypes=NUMERIC + COMPLEX, make=_sign_make),
    # complex parts (on real input angle is 0 or pi, piecewise constant)
    _u("real", np.real, dtypes=COMPLEX), _u("imag", np.imag, dtypes=COMPLEX), _u("conj", np.conj, dtypes=COMPLEX),
    _u("angle", lambda x: np.angle(x).astype(np.real(x).dtype), "away0", dtypes=FLOATS + COMPLEX),
    _u("floor", np.floor, "nonint"), _u("ceil", np.ceil, "nonint"),
    _u("round", _round_ref, make=_round_make),
    _u("isnan", np.isnan, diff=False, make=_isnan_make),
    _u("stop_gradient", lambda x: x, dtypes=ALL_DTYPES, diff=False),
    # comparisons and logic
    *[_b(n, f, _cmp_make, dtypes=ALL_DTYPES + (C128,), diff=()) for n, f in [
        ("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
        ("ge", np.greater_equal)]],
    *[_b(n, f, dtypes=(BOOL, I32), diff=()) for n, f in [
        ("logical_and", np.logical_and), ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]],
    _u("logical_not", np.logical_not, dtypes=(BOOL, I32), diff=False),
    *[_b(n, f, dtypes=INTS + (BOOL,), diff=()) for n, f in [
        ("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)]],
    _u("bitwise_not", np.invert, dtypes=INTS + (BOOL,), diff=False),
    _p("select", lambda c, x, y: ops.select(c, x, y), lambda c, x, y: np.where(c, x, y), _select_make,
       dtypes=ALL_DTYPES + (C128,), diff=(1, 2)),
    _p("convert_element_type", lambda x, **p: ops.convert_element_type(x, **p),
       lambda x, *, new_dtype: x.astype(new_dtype), _convert_make, dtypes=ALL_DTYPES,
       grad_tol=(1e-3, 1e-3), grad_eps=1e-2),
    # reductions
    _p("reduce_sum", lambda x, **p: ops.reduce_sum(x, **p), _reduce_ref(np.sum), _reduce_make(empty=True),
       dtypes=NUMERIC + COMPLEX),
    _p("reduce_max", lambda x, **p: ops.reduce_max(x, **p), _reduce_ref(np.max), _reduce_make(ties=True),
       dtypes=ALL_DTYPES + (C128,)),
    _p("reduce_min", lambda x, **p: ops.reduce_min(x, **p), _reduce_ref(np.min), _reduce_make(ties=True),
       dtypes=ALL_DTYPES + (C128,)),
    _p("reduce_prod", lambda x, **p: ops.reduce_prod(x, **p), _reduce_ref(np.prod), _reduce_make("small", empty=True),
       dtypes=NUMERIC + COMPLEX),
    _p("argmax", lambda x, **p: ops.argmax(x, **p), lambda x, *, axis, index_dtype: np.argmax(x, axis=axis).astype(
        index_dtype), _arg_make, dtypes=ALL_DTYPES + COMPLEX, diff=()),
    _p("argmin", lambda x, **p: ops.argmin(x, **p), lambda x, *, axis, index_dtype: np.argmin(x, axis=axis).astype(
        index_dtype), _arg_make, dtypes=ALL_DTYPES + COMPLEX, diff=()),
    _p("argsort", lambda x, **p: ops.argsort(x, **p), _argsort_ref, _argsort_make, dtypes=NUMERIC, diff=()),
    _p("cumsum", lambda x, **p: ops.cumsum(x, **p), _cumsum_ref, _cumsum_make, dtypes=NUMERIC + COMPLEX),
    _p("dot_general", lambda x, y, **p: ops.dot_general(x, y, **p), _dot_general_ref, _dot_make,
       dtypes=NUMERIC + COMPLEX, diff=(0, 1), tol={F32: (1e-5, 1e-5), C64: (1e-5, 1e-5)}),
    # matrices
    _p("solve", lambda a, b: ops.solve(a, b), np.linalg.solve, _solve_make, diff=(0, 1), dtypes=FLOATS + COMPLEX,
       tol={F32: (1e-4, 1e-5), C64: (1e-4, 1e-5)}),
    _p("det", lambda a: ops.det(a), np.linalg.det, _square_make(False), dtypes=FLOATS + COMPLEX,
       tol={F32: (1e-4, 1e-5), C64: (1e-4, 1e-5)}),
    _p("slogdet", lambda a: ops.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], _square_make(False),
       tol={F32: (1e-4, 1e-5)}),
    _p("cholesky", lambda a: ops.cholesky(_sym(a)), lambda a: np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2),
       _square_make(True), tol={F32: (1e-4, 1e-5)}),
]


# ---------------------------------------------------------------- convolution and windowed reductions
def _conv_ref(x, w, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers, feature_group_count):
    """A direct convolution: one product-sum per kernel offset, per group."""
    lspec, rspec, ospec = dimension_numbers
    x, w = np.transpose(x, lspec), np.transpose(w, rspec)
    g = feature_group_count
    sp = [(n - 1) * d + 1 for n, d in zip(x.shape[2:], lhs_dilation)]
    d = np.zeros(x.shape[:2] + tuple(sp), dtype=x.dtype)
    d[(slice(None),) * 2 + tuple(slice(None, None, s) for s in lhs_dilation)] = x
    for j, (lo, hi) in enumerate(padding):
        ax = 2 + j
        d = d[(slice(None),) * ax + (slice(max(-lo, 0), d.shape[ax] - max(-hi, 0)),)]
        cfg = [(0, 0)] * d.ndim
        cfg[ax] = (max(lo, 0), max(hi, 0))
        d = np.pad(d, cfg)
    k = w.shape[2:]
    out_sp = [(n - (kk - 1) * r - 1) // s + 1 for n, kk, r, s in zip(d.shape[2:], k, rhs_dilation, window_strides)]
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    out = np.zeros((n, o) + tuple(out_sp), dtype=np.float64)
    for q in np.ndindex(*k):
        part = d[(slice(None),) * 2 + tuple(slice(qq * r, qq * r + (m - 1) * s + 1, s) for qq, r, m, s in
                                            zip(q, rhs_dilation, out_sp, window_strides))]
        for gi in range(g):
            xs = part[:, gi * (c // g):(gi + 1) * (c // g)]
            ws = w[gi * (o // g):(gi + 1) * (o // g), :, *q]
            out[:, gi * (o // g):(gi + 1) * (o // g)] += np.einsum("nc...,oc->no...", xs, ws)
    return np.transpose(out, np.argsort(ospec)).astype(x.dtype)


CONV_CFGS = [   # (lhs shape, rhs shape, params, label)
    ((2, 3, 7), (4, 3, 3), dict(window_strides=(2,), padding=((1, 2),), lhs_dilation=(1,), rhs_dilation=(2,),
                                dimension_numbers=((0, 1, 2),) * 3, feature_group_count=1), "1d-stride-dil"),
    ((2, 4, 5, 6), (6, 2, 2, 3), dict(window_strides=(1, 2), padding=((0, 1), (2, -1)), lhs_dilation=(1, 2),
                                      rhs_dilation=(1, 1), dimension_numbers=((0, 1, 2, 3),) * 3,
                                      feature_group_count=2), "2d-groups-lhsdil-negpad"),
    ((2, 5, 4, 3), (2, 2, 3, 4), dict(window_strides=(1, 1), padding=((1, 1), (0, 0)), lhs_dilation=(1, 1),
                                      rhs_dilation=(1, 1), dimension_numbers=((0, 3, 1, 2), (3, 2, 0, 1),
                                                                              (0, 3, 1, 2)),
                                      feature_group_count=1), "2d-NHWC-HWIO"),
    ((1, 2, 4, 3, 3), (2, 2, 2, 2, 2), dict(window_strides=(1, 2, 1), padding=((1, 0), (0, 0), (1, 1)),
                                            lhs_dilation=(2, 1, 1), rhs_dilation=(1, 1, 2),
                                            dimension_numbers=((0, 1, 2, 3, 4),) * 3, feature_group_count=1),
     "3d"),
]


def _conv_make(rng, dtype):
    return [Sample((_vals(rng, sx, dtype), _vals(rng, sw, dtype)), dict(p), label=lbl)
            for sx, sw, p, lbl in CONV_CFGS]


def _windows_ref(x, fill, *, window_dimensions, window_strides, padding, window_dilation):
    """(*out, K) windows of ``x`` padded with ``fill`` (negative padding crops), by loops."""
    xp_ = x
    for ax, (lo, hi) in enumerate(padding):
        xp_ = xp_[(slice(None),) * ax + (slice(max(-lo, 0), xp_.shape[ax] - max(-hi, 0)),)]
        cfg = [(0, 0)] * x.ndim
        cfg[ax] = (max(lo, 0), max(hi, 0))
        xp_ = np.pad(xp_, cfg, constant_values=fill)
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(xp_.shape, window_dimensions, window_strides,
                                                                  window_dilation)]
    res = np.empty(tuple(out) + (math.prod(window_dimensions),), dtype=x.dtype)
    flat = np.empty(tuple(out) + (math.prod(window_dimensions),), dtype=np.int64)
    for pos in np.ndindex(*out):
        for j, q in enumerate(np.ndindex(*window_dimensions)):
            at = tuple(p * s + qq * d for p, s, qq, d in zip(pos, window_strides, q, window_dilation))
            res[pos + (j,)] = xp_[at]
            flat[pos + (j,)] = np.ravel_multi_index(at, xp_.shape)
    return res, flat, xp_.shape


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _rw_sum_ref(x, **p):
    return _windows_ref(x, 0, **p)[0].sum(axis=-1, dtype=x.dtype)


def _rw_max_ref(x, **p):
    return _windows_ref(x, _lowest(x.dtype), **p)[0].max(axis=-1)


def _select_ref(x, t, **p):
    win, flat, pshape = _windows_ref(x, _lowest(x.dtype), **p)
    tw = _windows_ref(t, 0, **p)[0]
    return np.take_along_axis(tw, np.argmax(win, axis=-1)[..., None], axis=-1)[..., 0]


def _scatter_ref(x, s, **p):
    win, flat, pshape = _windows_ref(x, _lowest(x.dtype), **p)
    idx = np.take_along_axis(flat, np.argmax(win, axis=-1)[..., None], axis=-1)[..., 0]
    acc = np.zeros(math.prod(pshape), dtype=np.float64)
    np.add.at(acc, idx.reshape(-1), s.reshape(-1))
    acc = acc.reshape(pshape)
    out = np.zeros(x.shape, dtype=np.float64)
    src = tuple(slice(max(lo, 0), m - max(hi, 0)) for (lo, hi), m in zip(p["padding"], pshape))
    dst = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(p["padding"], x.shape))
    out[dst] = acc[src]
    return out.astype(x.dtype)


WINDOW_CFGS: list[tuple[tuple[int, ...], dict[str, Any], str]] = [   # (shape, params, label)
    ((2, 3, 6, 5), dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 2, 2), padding=((0, 0),) * 4,
                        window_dilation=(1,) * 4), "pool2d-2x2"),
    ((2, 7, 3), dict(window_dimensions=(1, 3, 1), window_strides=(1, 2, 1), padding=((0, 0), (1, 1), (0, 0)),
                     window_dilation=(1, 1, 1)), "pool1d-pad-middle-axis"),
    ((3, 5, 6), dict(window_dimensions=(2, 2, 3), window_strides=(1, 2, 2), padding=((0, 1), (1, 0), (-1, 2)),
                     window_dilation=(1, 2, 1)), "all-axes-dilated-asym-negpad"),
    ((1, 1, 3, 4, 5), dict(window_dimensions=(1, 1, 2, 2, 2), window_strides=(1, 1, 1, 2, 2),
                           padding=((0, 0), (0, 0), (0, 0), (1, 1), (0, 1)), window_dilation=(1,) * 5),
     "pool3d"),
]


def _window_make(n_args, out_second=False):
    def make(rng, dtype):
        res = []
        for shape, p, lbl in WINDOW_CFGS:
            x = _vals(rng, shape, dtype)
            if n_args == 1:
                res.append(Sample((x,), dict(p), label=lbl))
                continue
            out = [(n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, (lo, hi), d in zip(
                shape, p["window_dimensions"], p["window_strides"], p["padding"], p["window_dilation"])]
            res.append(Sample((x, _vals(rng, out if out_second else shape, dtype)), dict(p), label=lbl))
        return res
    return make


OP_CASES += [
    _p("conv_general_dilated", lambda x, w, **p: ops.conv_general_dilated_p.bind(x, w, **p), _conv_ref,
       _conv_make, diff=(0, 1), tol={F32: (1e-4, 1e-5)}),
    _p("reduce_window_sum", lambda x, **p: ops.reduce_window_sum(x, **p), _rw_sum_ref, _window_make(1),
       dtypes=NUMERIC),
    _p("reduce_window_max", lambda x, **p: ops.reduce_window_max(x, **p), _rw_max_ref, _window_make(1),
       dtypes=NUMERIC),
    _p("window_select", lambda x, t, **p: ops.window_select(x, t, **p), _select_ref, _window_make(2),
       dtypes=NUMERIC, diff=(1,)),
    _p("window_scatter", lambda x, s, **p: ops.window_scatter(x, s, **p), _scatter_ref, _window_make(2, True),
       dtypes=NUMERIC, diff=(1,)),
]


# ---------------------------------------------------------------- the rectifier
def _relu_ref(x):
    return np.where(x <= 0, np.zeros((), x.dtype), x)        # NaN is not <= 0: it stays


def _relu_grad_ref(x, t):
    return np.where(x <= 0, np.zeros((), t.dtype), t)


def _relu_make(rng, dtype):
    out = _unary_make("away0")(rng, dtype)       # smooth samples (|x| >= 0.3) and, for floats, inf/nan
    x = _vals(rng, (2, 3), dtype, "away0")
    x[0, rng.permutation(3)[:2]] = 0
    if dtype.kind == "f":
        x[1, 0] = -0.0
    # at the kink the central difference is 1/2 and relu's derivative is 0 (torch's and JAX's
    # convention), so this sample checks the forward pass and vmap; the derivative there is
    # relu_grad's, whose row below checks it at x == 0 on every backend
    out.append(Sample((x,), label="kink at 0 (2,3)", grad=False))
    return out


def _relu_grad_make(rng, dtype):
    out = []
    for sx, st in [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((), (2, 3)), ((2, 1), (1, 3)), ((2, 3), ())]:
        x = _vals(rng, sx, dtype, "away0")
        if x.ndim:                      # zeros (and -0.0): the kink, where the mask is 0
            flat = x.reshape(-1)
            flat[rng.permutation(flat.size)[:max(1, flat.size // 2)]] = 0
            if dtype.kind == "f":
                flat[0] = -0.0
        out.append(Sample((x, _vals(rng, st, dtype)), label=f"{sx}x{st} with zeros"))
    if dtype.kind == "f":
        out.append(Sample((_specials(dtype), _vals(rng, (len(SPECIALS),), dtype)), label="x inf,nan,1e300",
                          grad=False))
    return out


OP_CASES += [
    _p("relu", lambda x: ops.relu(x), _relu_ref, _relu_make, dtypes=NUMERIC),
    _p("relu_grad", lambda x, t: ops.relu_grad(x, t), _relu_grad_ref, _relu_grad_make, dtypes=NUMERIC, diff=(1,)),
]


# the ops-level helpers forward a Python call to the primitive, so e.g. ops.reshape(x, s) with the same
# shape returns x itself: the table always binds with shapes that change something.


def op_cases() -> dict[str, OpCase]:
    return {c.name: c for c in OP_CASES}


# ---------------------------------------------------------------- polyfunc.numpy functions
@dataclass
class NumpyCase:
    """A polyfunc.numpy function against the NumPy function of the same name.

    ``call(mod, *args, **kwargs)`` calls it on ``mod`` (numpy or polyfunc.numpy);
    ``shapes`` is a list of argument-shape tuples; ``kwargs`` a list of keyword
    variants; ``domain`` the value domain of the sample arrays.
    """
    name: str
    call: Callable
    shapes: list
    dtypes: tuple = ALL_DTYPES
    kwargs: list = field(default_factory=lambda: [{}])
    domain: str = "normal"
    tol: dict = field(default_factory=dict)
    arg_dtypes: tuple | None = None        # fixed dtypes of some arguments (None = the case dtype)
    check_dtype: bool = True

    def __repr__(self):
        return f"NumpyCase({self.name})"


def _resolve(mod, name):
    obj = mod
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _by_name(name):
    return lambda mod, *a, **k: _resolve(mod, name)(*a, **k)


def _nc(name, shapes, dtypes=ALL_DTYPES, kwargs=None, domain="normal", call=None, **kw):
    return NumpyCase(name, call or _by_name(name), shapes, dtypes, kwargs or [{}], domain, **kw)


U = [((),), ((3,),), ((2, 3),)]
B = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
RED_SHAPES = [((2, 3),), ((4,),), ((2, 3, 2),)]
RED_KW = [{}, {"axis": 0}, {"axis": -1}, {"axis": (0, 1)}, {"axis": 1, "keepdims": True}, {"keepdims": True}]
ARG_KW = [{}, {"axis": 0}, {"axis": -1}, {"axis": 1, "keepdims": True}]


def _creation(name, fn):
    return NumpyCase(name, lambda mod, _f=fn, **kw: _f(mod, **kw), [()], dtypes=ALL_DTYPES)


NUMPY_CASES: list[NumpyCase] = [
    # creation: call(mod, dtype=...) gets no array arguments
    _creation("asarray", lambda m, dtype: m.asarray([[1, 0], [2, 3]], dtype=dtype)),
    _creation("array", lambda m, dtype: m.array([1.5, 0.0, -2.0], dtype=dtype)),
    _creation("zeros", lambda m, dtype: m.zeros((2, 3), dtype=dtype)),
    _creation("ones", lambda m, dtype: m.ones(4, dtype=dtype)),
    _creation("full", lambda m, dtype: m.full((2, 2), 1, dtype=dtype)),
    _creation("empty", lambda m, dtype: m.zeros_like(m.empty((2, 3), dtype=dtype))),
    _creation("arange", lambda m, dtype: m.arange(1, 7, 2, dtype=dtype if dtype != BOOL else None)),
    _creation("linspace", lambda m, dtype: m.linspace(0.0, 1.0, 5, dtype=dtype if dtype.kind == "f" else None)),
    _creation("eye", lambda m, dtype: m.eye(3, 4, k=1, dtype=dtype)),
    _nc("zeros_like", U), _nc("ones_like", U),
    _nc("full_like", U, call=lambda m, x: m.full_like(x, 1)),
    _nc("astype", U, call=lambda m, x: (x.astype(np.float32), x.astype(np.int64), x.astype(bool))
        if m is np else (m.astype(x, np.float32), m.astype(x, np.int64), m.astype(x, bool))),
    # elementwise arithmetic
    *[_nc(n, B, NUMERIC) for n in ["add", "subtract", "multiply", "maximum", "minimum"]],
    *[_nc(n, B, FLOATS) for n in ["divide", "true_divide"]],
    _nc("floor_divide", B, NUMERIC, domain="nonzero"),
    _nc("power", B, FLOATS, domain="positive"),
    _nc("logaddexp", B, FLOATS),
    *[_nc(n, U, NUMERIC) for n in ["negative", "square", "abs", "sign"]],
    _nc("reciprocal", U, FLOATS, domain="away0"),
    *[_nc(n, U, FLOATS) for n in ["exp", "expm1", "sin", "cos", "tanh", "arctan", "sinh", "cosh"]],
    *[_nc(n, U, FLOATS, domain="positive") for n in ["sqrt", "log", "log1p"]],
    _nc("tan", U, FLOATS, domain="tan"),
    *[_nc(n, U, FLOATS, domain="unit") for n in ["arcsin", "arccos"]],
    _nc("clip", [((2, 3),), ((4,),)], NUMERIC, call=lambda m, x, **k: m.clip(x, -1, 1)),
    _nc("where", [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((), (2,), ())], ALL_DTYPES,
        arg_dtypes=(BOOL, None, None)),
    # comparisons and logic
    *[_nc(n, B, ALL_DTYPES, domain="ties") for n in ["equal", "not_equal", "less", "less_equal", "greater",
                                                     "greater_equal"]],
    *[_nc(n, B, (BOOL,)) for n in ["logical_and", "logical_or"]],
    _nc("logical_not", U, (BOOL,)),
    # reductions
    *[_nc(n, RED_SHAPES, NUMERIC, RED_KW) for n in ["sum", "prod", "max", "min"]],
    *[_nc(n, RED_SHAPES, FLOATS, RED_KW) for n in ["mean", "var", "std"]],
    _nc("var", RED_SHAPES[:1], FLOATS, [{"ddof": 1}, {"axis": 0, "ddof": 1, "keepdims": True}]),
    *[_nc(n, RED_SHAPES, NUMERIC, ARG_KW) for n in ["argmax", "argmin"]],
    *[_nc(n, RED_SHAPES, NUMERIC, [{"kind": "stable"}, {"axis": 0, "kind": "stable"},
                                    {"axis": None, "kind": "stable"}]) for n in ["sort", "argsort"]],
    _nc("cumsum", RED_SHAPES, NUMERIC, [{}, {"axis": 0}, {"axis": -1}]),
    _nc("cumprod", RED_SHAPES, NUMERIC, [{}, {"axis": 0}, {"axis": -1}], domain="small"),
    # linear algebra
    _nc("matmul", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 2, 3), (3, 2)), ((2, 3), (3,))], NUMERIC, domain="small"),
    _nc("dot", [((2, 3), (3, 4)), ((3,), (3,)), ((), (2,))], NUMERIC, domain="small"),
    _nc("vdot", [((3,), (3,)), ((2, 2), (2, 2))], NUMERIC, domain="small"),
    _nc("tensordot", [((2, 3, 4), (3, 4, 2))], NUMERIC, [{}, {"axes": 2}, {"axes": ([1], [0])}], domain="small"),
    _nc("einsum", [((2, 3), (3, 4))], NUMERIC, call=lambda m, x, y: (m.einsum("ij,jk->ik", x, y),
                                                                      m.einsum("ij->j", x), m.einsum("ij,ij->", x, x)),
        domain="small"),
    _nc("outer", [((2,), (3,)), ((2, 2), (3,))], NUMERIC),
    _nc("inner", [((3,), (3,)), ((2, 3), (4, 3))], NUMERIC, domain="small"),
    _nc("trace", [((3, 3),), ((2, 4),)], NUMERIC, [{}, {"offset": 1}]),
    _nc("linalg.norm", [((3,),), ((2, 3),)], FLOATS, [{}, {"axis": -1}, {"axis": 0, "keepdims": True}]),
    _nc("diag", [((3,),), ((3, 4),)], NUMERIC, [{}, {"k": 1}]),
    # shape
    _nc("reshape", [((2, 3),)], ALL_DTYPES, call=lambda m, x: (m.reshape(x, (3, 2)), m.reshape(x, (-1,)),
                                                               m.reshape(x, (1, 6, 1)))),
    _nc("ravel", [((2, 3),), ((),)], ALL_DTYPES),
    _nc("transpose", [((2, 3),), ((2, 3, 4),)], ALL_DTYPES),
    _nc("transpose", [((2, 3, 4),)], ALL_DTYPES, [{"axes": (1, 0, 2)}, {"axes": (2, 0, 1)}]),
    _nc("moveaxis", [((2, 3, 4),)], ALL_DTYPES, call=lambda m, x: (m.moveaxis(x, 0, -1), m.moveaxis(x, [0, 1],
                                                                                                       [2, 0]))),
    _nc("swapaxes", [((2, 3, 4),)], ALL_DTYPES, call=lambda m, x: (m.swapaxes(x, 0, 2), m.swapaxes(x, -1, 1))),
    _nc("expand_dims", [((2, 3),)], ALL_DTYPES, [{"axis": 0}, {"axis": -1}, {"axis": (0, 2)}]),
    _nc("squeeze", [((1, 3, 1),)], ALL_DTYPES, [{}, {"axis": 0}, {"axis": -1}]),
    _nc("broadcast_to", [((3,),), ((2, 1),)], ALL_DTYPES, call=lambda m, x: m.broadcast_to(x, (4, 2, 3)
                                                                                           if x.shape == (3,)
                                                                                           else (2, 5))),
    _nc("concatenate", [((2, 3), (1, 3))], ALL_DTYPES, call=lambda m, x, y: m.concatenate([x, y])),
    _nc("concatenate", [((2, 3), (2, 1))], ALL_DTYPES, call=lambda m, x, y: m.concatenate((x, y), axis=-1)),
    _nc("stack", [((2, 3), (2, 3))], ALL_DTYPES, [{}, {"axis": 1}, {"axis": -1}],
        call=lambda m, x, y, **k: m.stack([x, y], **k)),
    _nc("split", [((6, 2),)], ALL_DTYPES, call=lambda m, x: tuple(m.split(x, 3)) + tuple(m.split(x, [1, 4]))
        + tuple(m.split(x, 2, axis=1))),
    _nc("take", [((5,),), ((3, 4),)], ALL_DTYPES, call=lambda m, x: (
        m.take(x, m.asarray([0, 2, 2, 1])), m.take(x, m.asarray([[1, 0], [0, 2]]), axis=0),
        m.take(x, m.asarray([-1, 0]), axis=-1))),
    _nc("flip", [((2, 3),)], ALL_DTYPES, [{}, {"axis": 0}, {"axis": -1}, {"axis": (0, 1)}]),
    _nc("roll", [((2, 3),)], ALL_DTYPES, call=lambda m, x: (m.roll(x, 1), m.roll(x, -2, axis=1),
                                                           m.roll(x, (1, 1), axis=(0, 1)))),
    _nc("tile", [((2, 3),), ((3,),)], ALL_DTYPES, call=lambda m, x: (m.tile(x, 2), m.tile(x, (2, 1)))),
    _nc("repeat", [((2, 3),)], ALL_DTYPES, call=lambda m, x: (m.repeat(x, 2), m.repeat(x, 2, axis=0),
                                                             m.repeat(x, 3, axis=-1))),
    _nc("triu", [((3, 3),), ((3, 4),)], ALL_DTYPES, [{}, {"k": 1}, {"k": -1}]),
    _nc("tril", [((3, 3),), ((3, 4),)], ALL_DTYPES, [{}, {"k": 1}, {"k": -1}]),
]

ISSUE_NUMPY_NAMES = """asarray array zeros ones full zeros_like ones_like full_like empty arange linspace eye add
subtract multiply divide true_divide floor_divide negative power square sqrt reciprocal exp log log1p expm1 sin cos
tan tanh arcsin arccos arctan sinh cosh abs sign maximum minimum clip where logaddexp equal not_equal less
less_equal greater greater_equal logical_and logical_or logical_not sum mean var std prod max min argmax argmin
cumsum matmul dot vdot tensordot einsum outer inner reshape ravel transpose moveaxis swapaxes expand_dims squeeze
broadcast_to concatenate stack split take flip roll tile repeat triu tril diag trace linalg.norm astype""".split()


def numpy_cases() -> list[NumpyCase]:
    return list(NUMPY_CASES)


def sample_numpy_args(case: NumpyCase, shapes: tuple, dtype, rng) -> list:
    dtype = np.dtype(dtype)
    out = []
    for i, s in enumerate(shapes):
        dt = case.arg_dtypes[i] if case.arg_dtypes and case.arg_dtypes[i] is not None else dtype
        out.append(_vals(rng, s, dt, case.domain))
    return out
