"""Kernels for any library that implements the Python Array API standard.

``make_kernels(backend, xp)`` returns one kernel per primitive, written with
the functions of the namespace ``xp`` only (no in-place writes, no NumPy), so
``polyfunc.backends.ArrayAPIBackend`` runs on any such library.  The standard
has no ``erf``; ``erf``/``erfc`` here are portable (a power series near 0 and a
continued fraction in the tails, in float64 where the library has it).  Random
numbers come from a NumPy generator the backend holds and are copied into the
library; a library with its own generator overrides those three kernels.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .array_api_windows import make_window_kernels

__all__ = ["make_kernels", "dtype_table", "load_namespace", "portable_erf", "portable_erfc"]

DTYPE_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float32", "float64", "complex64", "complex128")
_PY_SCALARS = (bool, int, float, complex)


def dtype_table(xp: Any) -> tuple[dict, dict]:
    """({numpy dtype: xp dtype}, {xp dtype: numpy dtype}) for the dtypes ``xp`` has.

    Comparisons stay inside each library: a library's dtypes are never compared
    with NumPy's (``array_api_strict`` warns on every such comparison)."""
    to_xp, to_np = {}, {}
    for n in DTYPE_NAMES:
        d = getattr(xp, n, None)
        if d is not None:
            to_xp[np.dtype(n)] = d
            to_np[d] = np.dtype(n)
    return to_xp, to_np


def load_namespace(module: str) -> Any:
    """The Array API namespace of the library a plugin names (``"array_api_strict"``): the module's
    ``__array_namespace__()`` when it offers one, else the module itself.  A third-party library,
    imported by the name the plugin gives, so it is no edge of polyfunc's own import graph."""
    mod = __import__(module)
    for part in module.split(".")[1:]:
        mod = getattr(mod, part)
    return mod.__array_namespace__() if hasattr(mod, "__array_namespace__") else mod


# ---------------------------------------------------------------- erf / erfc without a special-function library
_SERIES_TERMS = 40        # the Maclaurin series of erf, used for |x| < 1.5 (terms fall below 1e-17 by then)
_CF_DEPTH = 120           # depth of the continued fraction of erfc, used for x >= 1.5 (2e-16 there)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SPLIT = 1.5


def _wide(xp, x):
    """``x`` in the widest float dtype of ``xp`` (float64 if it has one); integers too."""
    wide = getattr(xp, "float64", None) or xp.float32
    return xp.astype(x, wide), wide


def _erf_series(xp, x):
    # erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); the terms are built by their ratio
    x2 = x * x
    term = x
    total = x
    for n in range(1, _SERIES_TERMS):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    return total * _TWO_OVER_SQRT_PI


def _erfc_tail(xp, x):
    # for x > 0: erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
    t = x
    for k in range(_CF_DEPTH, 0, -1):
        t = x + (k / 2) / t
    return xp.exp(-x * x) / (math.sqrt(math.pi) * t)


def portable_erf(xp: Any) -> Callable:
    """erf for arrays of ``xp`` from the standard's functions alone (about 1e-15 relative in float64)."""
    def erf(x):
        dt = x.dtype
        w, wide = _wide(xp, x)
        a = xp.abs(w)
        near = _erf_series(xp, xp.clip(w, -_SPLIT, _SPLIT))
        far = 1.0 - _erfc_tail(xp, xp.clip(a, _SPLIT, None))
        out = xp.where(a < _SPLIT, near, xp.sign(w) * far)
        return out if dt == wide or not xp.isdtype(dt, "real floating") else xp.astype(out, dt)
    return erf


def portable_erfc(xp: Any) -> Callable:
    """erfc for arrays of ``xp``, accurate relative to erfc itself far in the right tail."""
    def erfc(x):
        dt = x.dtype
        w, wide = _wide(xp, x)
        a = xp.abs(w)
        tail = _erfc_tail(xp, xp.clip(a, _SPLIT, None))          # erfc(|x|) for |x| >= 1.5
        near = 1.0 - _erf_series(xp, xp.clip(w, -_SPLIT, _SPLIT))
        out = xp.where(a < _SPLIT, near, xp.where(w > 0, tail, 2.0 - tail))
        return out if dt == wide or not xp.isdtype(dt, "real floating") else xp.astype(out, dt)
    return erfc


# ---------------------------------------------------------------- the kernel table
def make_kernels(backend: Any, xp: Any) -> dict[str, Callable]:
    """The kernel table for ``backend``, whose arrays live in the Array API namespace ``xp``."""
    to_xp, _ = dtype_table(xp)
    bool_ = xp.bool

    def xdt(dtype):
        """The library's dtype for a NumPy dtype (parameters arrive as NumPy dtypes)."""
        return to_xp[np.dtype(dtype)]

    def is_bool(x):
        return x.dtype == bool_

    def default_for(v):
        # a Python scalar alone takes the library's default dtype of its kind, as NumPy's would
        if isinstance(v, bool):
            return bool_
        if isinstance(v, int):
            return xp.int64 if hasattr(xp, "int64") else xp.int32
        if isinstance(v, complex):
            return getattr(xp, "complex128", None) or xp.complex64
        return getattr(xp, "float64", None) or xp.float32

    def is_complex(x):
        return xp.isdtype(x.dtype, "complex floating")

    def operands(*args):
        """Arrays for every operand: a Python scalar takes the dtype of the arrays it meets when
        that dtype can hold it (a weak scalar), else its own default dtype."""
        like = next((a for a in args if not isinstance(a, _PY_SCALARS)), None)
        out = []
        for a in args:
            if isinstance(a, _PY_SCALARS):
                dt = default_for(a)
                if like is not None:
                    ld = like.dtype
                    if isinstance(a, complex) and not xp.isdtype(ld, "complex floating"):
                        # a complex scalar meets real numbers: the complex dtype of their precision
                        dt = xp.complex64 if ld == getattr(xp, "float32", None) else dt
                    elif isinstance(a, bool) or (isinstance(a, int) and ld != bool_) or \
                            xp.isdtype(ld, ("real floating", "complex floating")):
                        dt = ld
                a = xp.asarray(a, dtype=dt)
            out.append(a)
        return out

    def binary(f):
        def k(x, y):
            return f(*operands(x, y))
        return k

    def ordered(f):
        # the standard orders real numbers only: booleans compare as 0 and 1, complex numbers as NumPy
        # orders them (by real part, then by imaginary part)
        def k(x, y):
            x, y = operands(x, y)
            if is_bool(x):
                x, y = xp.astype(x, xp.int8), xp.astype(y, xp.int8)
            if is_complex(x):
                xr, yr = xp.real(x), xp.real(y)
                return xp.logical_or(f(xr, yr), xp.logical_and(xr == yr, f(xp.imag(x), xp.imag(y))))
            return f(x, y)
        return k

    def complex_pick(x, y, x_wins):
        """NumPy's complex maximum/minimum: a NaN operand wins (the first if both), else ``x_wins``."""
        nx, ny = xp.isnan(x), xp.isnan(y)
        return xp.where(xp.logical_or(nx, xp.logical_and(xp.logical_not(ny), x_wins)), x, y)

    def lex_ge(x, y):
        xr, yr = xp.real(x), xp.real(y)
        return xp.logical_or(xr > yr, xp.logical_and(xr == yr, xp.imag(x) >= xp.imag(y)))

    def complex_reduce(pick, x, axes):
        """A complex maximum/minimum over ``axes``: the reduced axes flattened last, halved pairwise."""
        keep = [i for i in range(x.ndim) if i not in axes]
        x = xp.permute_dims(x, tuple(keep) + tuple(axes))
        x = xp.reshape(x, tuple(x.shape[:len(keep)]) + (-1,))
        while x.shape[-1] > 1:
            h = x.shape[-1] // 2
            x = xp.concat([pick(x[..., :h], x[..., h:2 * h]), x[..., 2 * h:]], axis=-1)
        return x[..., 0]

    def as_bool(x):
        return x if is_bool(x) else x != xp.zeros((), dtype=x.dtype)

    def logical(f):
        def k(*xs):
            return f(*[as_bool(a) for a in operands(*xs)])
        return k

    def maximum(x, y):
        x, y = operands(x, y)
        if is_complex(x):
            return complex_pick(x, y, lex_ge(x, y))
        return xp.logical_or(x, y) if is_bool(x) else xp.maximum(x, y)

    def minimum(x, y):
        x, y = operands(x, y)
        if is_complex(x):
            return complex_pick(x, y, lex_ge(y, x))
        return xp.logical_and(x, y) if is_bool(x) else xp.minimum(x, y)

    def select(c, x, y):
        x, y = operands(x, y)          # a scalar branch takes the other branch's dtype
        if isinstance(c, _PY_SCALARS):
            c = xp.asarray(bool(c))
        return xp.where(as_bool(c), x, y)

    def relu(x):
        (x,) = operands(x)
        # a select rather than maximum: the standard leaves maximum's NaN result to the library
        return xp.where(x <= 0, xp.zeros((), dtype=x.dtype), x)

    def relu_grad(x, t):
        x, t = operands(x, t)
        return xp.where(x <= 0, xp.zeros((), dtype=t.dtype), t)

    def integer_pow(x, *, y):
        if y < 0 and not xp.isdtype(x.dtype, "real floating"):
            raise ValueError("integer_pow: integers to negative integer powers are not allowed")
        # repeated squaring keeps the dtype and is exact for integers
        n, acc, base = abs(y), None, x
        while n:
            if n & 1:
                acc = base if acc is None else acc * base
            n >>= 1
            if n:
                base = base * base
        if acc is None:
            acc = xp.ones(x.shape, dtype=x.dtype)
        return 1 / acc if y < 0 else acc

    def logistic(x):
        return 0.5 * xp.tanh(0.5 * x) + 0.5       # no overflow for large |x|

    def full_like(like, *, fill_value, shape, dtype):
        return xp.full(tuple(shape), fill_value, dtype=xdt(dtype))

    def iota(*, dtype, shape, dimension):
        shp = [1] * len(shape)
        shp[dimension] = shape[dimension]
        r = xp.reshape(xp.arange(shape[dimension], dtype=xdt(dtype)), tuple(shp))
        return xp.broadcast_to(r, tuple(shape))

    def eye(like, *, shape, offset, dtype):
        return xp.eye(shape[0], shape[1], k=offset, dtype=xdt(dtype))

    def broadcast_in_dim(x, *, shape, broadcast_dimensions):
        if isinstance(x, _PY_SCALARS):
            x = xp.asarray(x)
        src = tuple(x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1
                    for i in range(len(shape)))
        return xp.broadcast_to(xp.reshape(x, src), tuple(shape))

    def expand_dims(x, *, dimensions):
        shape = list(x.shape)
        for d in sorted(dimensions):
            shape.insert(d, 1)
        return xp.reshape(x, tuple(shape))

    def squeeze(x, *, dimensions):
        return xp.reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dimensions))

    def slice_(x, *, start_indices, limit_indices, strides):
        return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]

    def pad(x, *, padding_value, padding_config):
        # functional (no item assignment): interior padding by stacking a fill block after each
        # element and trimming, then the edges by concatenation (negative edges crop)
        for axis, (lo, hi, interior) in enumerate(padding_config):
            n = x.shape[axis]
            if interior and n > 1:
                shp = list(x.shape)
                shp.insert(axis + 1, interior)
                shp[axis] = n
                fill = xp.full(tuple(shp), padding_value, dtype=x.dtype)
                y = xp.concat([expand_dims(x, dimensions=(axis + 1,)), fill], axis=axis + 1)
                merged = list(x.shape)
                merged[axis] = n * (interior + 1)
                y = xp.reshape(y, tuple(merged))
                x = xp.take(y, xp.arange(n + (n - 1) * interior), axis=axis)
            parts = []
            for width in (lo, hi):
                shp = list(x.shape)
                shp[axis] = max(width, 0)
                parts.append(xp.full(tuple(shp), padding_value, dtype=x.dtype))
            x = xp.concat([parts[0], x, parts[1]], axis=axis)
            if lo < 0 or hi < 0:
                m = x.shape[axis]
                x = xp.take(x, xp.arange(max(-lo, 0), m - max(-hi, 0)), axis=axis)
        return x

    def gather(x, idx, *, axis):
        # the standard's take wants 1-d indices: flatten them and restore their shape after
        idx = xp.asarray(idx)
        flat = xp.take(x, xp.reshape(idx, (-1,)), axis=axis)
        return xp.reshape(flat, tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))

    def scatter_add(x, idx, upd, *, axis):
        # no in-place add: a one-hot matrix sums the updates into their rows (repeats add up)
        idx = xp.asarray(idx)
        n = x.shape[axis]
        pre, post = tuple(x.shape[:axis]), tuple(x.shape[axis + 1:])
        p, q, k = math.prod(pre), math.prod(post), math.prod(idx.shape)
        hot = xp.astype(xp.reshape(idx, (k, 1)) == xp.reshape(xp.arange(n, dtype=idx.dtype), (1, n)), x.dtype)
        u = xp.permute_dims(xp.reshape(upd, (p, k, q)), (0, 2, 1))           # (p, q, k)
        add = xp.permute_dims(xp.matmul(u, hot), (0, 2, 1))                 # (p, n, q)
        return x + xp.reshape(add, x.shape)

    def dot_general(x, y, *, dimension_numbers):
        (lc, rc), (lb, rb) = dimension_numbers
        xf = [i for i in range(x.ndim) if i not in lc and i not in lb]
        yf = [i for i in range(y.ndim) if i not in rc and i not in rb]
        xs, ys = x.shape, y.shape
        bshape = [xs[i] for i in lb]
        nb, k = math.prod(bshape), math.prod([xs[i] for i in lc])
        m, n = math.prod([xs[i] for i in xf]), math.prod([ys[i] for i in yf])
        xt = xp.reshape(xp.permute_dims(x, tuple(lb) + tuple(xf) + tuple(lc)), (nb, m, k))
        yt = xp.reshape(xp.permute_dims(y, tuple(rb) + tuple(rc) + tuple(yf)), (nb, k, n))
        if is_bool(x):
            out = xp.matmul(xp.astype(xt, xp.int64), xp.astype(yt, xp.int64)) != 0
        else:
            out = xp.matmul(xt, yt)
        return xp.reshape(out, tuple(bshape + [xs[i] for i in xf] + [ys[i] for i in yf]))

    def cumsum(x, *, axis, reverse):
        if reverse:
            return xp.flip(xp.cumulative_sum(xp.flip(x, axis=axis), axis=axis, dtype=x.dtype), axis=axis)
        return xp.cumulative_sum(x, axis=axis, dtype=x.dtype)

    def reduce_sum(x, *, axes):
        return xp.sum(x, axis=tuple(axes), dtype=x.dtype) if axes else x

    def reduce_prod(x, *, axes):
        return xp.prod(x, axis=tuple(axes), dtype=x.dtype) if axes else x

    def reduce_max(x, *, axes):
        if not axes:
            return x
        if is_complex(x):
            return complex_reduce(maximum, x, axes)
        return xp.any(x, axis=tuple(axes)) if is_bool(x) else xp.max(x, axis=tuple(axes))

    def reduce_min(x, *, axes):
        if not axes:
            return x
        if is_complex(x):
            return complex_reduce(minimum, x, axes)
        return xp.all(x, axis=tuple(axes)) if is_bool(x) else xp.min(x, axis=tuple(axes))

    def complex_arg(x, axis, want_max):
        """NumPy's complex argmax/argmin: the first index of the lexicographic extreme (the extreme
        real part, then among those the extreme imaginary part), or of the first NaN where a slice
        holds one; the standard's argmax returns the first of equal maxima, so it finds the first hit."""
        red = xp.max if want_max else xp.min
        re, im = xp.real(x), xp.imag(x)
        cand = re == red(re, axis=axis, keepdims=True)
        im = xp.where(cand, im, xp.full_like(im, -math.inf if want_max else math.inf))
        hit = xp.logical_and(cand, im == red(im, axis=axis, keepdims=True))
        nan = xp.isnan(x)
        hit = xp.where(xp.any(nan, axis=axis, keepdims=True), nan, hit)
        return xp.argmax(xp.astype(hit, xp.int8), axis=axis)

    def arg(f, want_max):
        def k(x, *, axis, index_dtype):
            if is_complex(x):
                return xp.astype(complex_arg(x, axis, want_max), xdt(index_dtype))
            if is_bool(x):
                x = xp.astype(x, xp.int8)
            return xp.astype(f(x, axis=axis), xdt(index_dtype))
        return k

    def argsort(x, *, axis, descending, index_dtype):
        if not descending:
            return xp.astype(xp.argsort(x, axis=axis, stable=True), xdt(index_dtype))
        # stable descending: sort the reversed array ascending, reverse back, and map the indices
        n = x.shape[axis]
        r = xp.flip(xp.argsort(xp.flip(x, axis=axis), axis=axis, stable=True), axis=axis)
        return xp.astype((n - 1) - r, xdt(index_dtype))

    def convert(x, *, new_dtype):
        x = operands(x)[0]
        target = xdt(new_dtype)
        if target == bool_:
            return as_bool(x)
        if is_bool(x) and xp.isdtype(target, ("real floating", "complex floating")):
            return xp.astype(xp.astype(x, xp.int8), target)
        if is_complex(x) and not xp.isdtype(target, "complex floating"):
            # NumPy keeps the real part (the standard refuses the cast)
            return xp.astype(xp.real(x), target)
        return xp.astype(x, target)

    def floor_div(x, y):
        x, y = operands(x, y)
        return xp.floor_divide(x, y)

    def rem(x, y):
        x, y = operands(x, y)
        return xp.remainder(x, y)

    def sign(x):
        return xp.sign(x)

    def rounding(f):
        def k(x):
            return x if not xp.isdtype(x.dtype, "real floating") else f(x)
        return k

    def solve(a, b):
        if b.ndim == a.ndim - 1:       # a vector (or a batch of them): NumPy's solve(a, b) convention
            return xp.linalg.solve(a, b[..., None])[..., 0]
        return xp.linalg.solve(a, b)

    def slogdet(a):
        r = xp.linalg.slogdet(a)
        return [r[0], r[1]]

    def angle(x):
        # atan2 of the parts: NumPy's angle, -0.0 (pi) included; a real operand is its own real part
        if xp.isdtype(x.dtype, "complex floating"):
            return xp.atan2(xp.imag(x), xp.real(x))
        return xp.atan2(xp.zeros_like(x), x)

    def random_normal(*, shape, dtype):
        return xp.asarray(backend.rng.standard_normal(tuple(shape)), dtype=xdt(dtype))

    def random_uniform(*, shape, dtype):
        return xp.asarray(backend.rng.random(tuple(shape)), dtype=xdt(dtype))

    def random_randint(*, shape, low, high, dtype):
        return xp.asarray(backend.rng.integers(low, high, size=tuple(shape)), dtype=xdt(dtype))

    return {
        "neg": xp.negative, "add": binary(xp.add), "sub": binary(xp.subtract), "mul": binary(xp.multiply),
        "div": binary(xp.divide), "pow": binary(xp.pow), "max": maximum, "min": minimum,
        "exp": xp.exp, "log": xp.log, "log1p": xp.log1p, "expm1": xp.expm1, "sin": xp.sin, "cos": xp.cos,
        "tan": xp.tan, "tanh": xp.tanh, "erf": portable_erf(xp), "erfc": portable_erfc(xp),
        "logistic": logistic, "sqrt": xp.sqrt, "rsqrt": lambda x: 1 / xp.sqrt(x), "abs": xp.abs, "sign": sign,
        "floor": rounding(xp.floor), "ceil": rounding(xp.ceil), "round": rounding(xp.round),
        "asin": xp.asin, "acos": xp.acos, "atan": xp.atan, "sinh": xp.sinh, "cosh": xp.cosh,
        "atan2": binary(xp.atan2), "floor_div": floor_div, "rem": rem, "isnan": xp.isnan,
        "stop_gradient": lambda x: x,
        "eq": binary(xp.equal), "ne": binary(xp.not_equal), "lt": ordered(xp.less), "le": ordered(xp.less_equal),
        "gt": ordered(xp.greater), "ge": ordered(xp.greater_equal),
        "logical_and": logical(xp.logical_and), "logical_or": logical(xp.logical_or),
        "logical_xor": logical(xp.logical_xor), "logical_not": logical(xp.logical_not),
        "bitwise_and": binary(xp.bitwise_and), "bitwise_or": binary(xp.bitwise_or),
        "bitwise_xor": binary(xp.bitwise_xor), "bitwise_not": xp.bitwise_invert,
        "select": select, "relu": relu, "relu_grad": relu_grad, "integer_pow": integer_pow, "convert_element_type": convert,
        "full_like": full_like, "argsort": argsort,
        "solve": solve, "det": xp.linalg.det, "cholesky": xp.linalg.cholesky, "slogdet": slogdet,
        "iota": iota, "eye": eye, "broadcast_in_dim": broadcast_in_dim,
        "reshape": lambda x, *, new_sizes: xp.reshape(x, tuple(new_sizes)),
        "transpose": lambda x, *, permutation: xp.permute_dims(x, tuple(permutation)),
        "squeeze": squeeze, "expand_dims": expand_dims, "slice": slice_, "pad": pad,
        "concatenate": lambda *xs, dimension: xp.concat(list(xs), axis=dimension),
        "rev": lambda x, *, dimensions: xp.flip(x, axis=tuple(dimensions)) if dimensions else x,
        "gather": gather, "scatter_add": scatter_add,
        "reduce_sum": reduce_sum, "reduce_max": reduce_max, "reduce_min": reduce_min, "reduce_prod": reduce_prod,
        "argmax": arg(xp.argmax, True), "argmin": arg(xp.argmin, False), "cumsum": cumsum, "dot_general": dot_general,
        "random_normal": random_normal, "random_uniform": random_uniform, "random_randint": random_randint,
        "real": xp.real, "imag": xp.imag, "conj": xp.conj, "angle": angle,
        **make_window_kernels(xp, pad, scatter_add),
    }
