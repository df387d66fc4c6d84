"""Elementwise functions (NumPy's ufuncs) with NumPy 2 dtype rules.

Each function checks first whether its operands already have the dtypes the
primitive wants (one set membership test per operand, learned on the first
call with those dtypes) and binds the primitive straight away; the general
path promotes, converts and materialises Python scalars where needed.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np  # dtypes only

from .. import ops
from ..avals import get_aval
from ..typing import Array, ArrayLike
from ._dtypes import (ARRAY_TYPES, PY_SCALARS, bool_, check_kind, convert, is_array, resolve, result_type,
                      scalar_array, scalar_fits, to_array)

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder", "mod", "power", "pow",
    "maximum", "minimum", "fmax", "fmin", "arctan2", "atan2", "hypot", "logaddexp",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "invert", "bitwise_not", "bitwise_invert",
    "negative", "positive", "abs", "absolute", "fabs", "sign", "floor", "ceil", "trunc", "fix", "round", "around",
    "rint", "sqrt", "square", "reciprocal", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10",
    "sin", "cos", "tan", "tanh", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh",
    "arctanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "deg2rad", "rad2deg", "degrees", "radians",
    "isnan", "isinf", "isfinite", "clip", "where",
]

_ARR = ARRAY_TYPES
_PYS = frozenset(PY_SCALARS)


_F = TypeVar("_F", bound=Callable)


def _named(f: _F, name: str, doc: str) -> _F:
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    f.__module__ = "polyfunc.numpy"
    return f


# ------------------------------------------------------------------ factories
def _binary(name: str, ufunc: np.ufunc, prim: Callable, doc: str, *, force: np.dtype | None = None,
            strong_scalars: bool = False) -> Callable[[ArrayLike, ArrayLike], Array]:
    """A NumPy-style binary function binding ``prim``.

    ``force``: a dtype both operands are converted to instead of NumPy's loop
    dtype (the logical functions work on bool).  ``strong_scalars``: Python
    scalars always become 0-d arrays (for primitives whose rules need arrays).
    """
    # keyed by the array class with its dtype, so a library's dtype is only ever compared with
    # the same library's (array_api_strict warns when its dtypes meet NumPy's)
    same: set = set()    # (class, dtype d, class, dtype d) for which prim(d, d) is what NumPy runs
    right: set = set()   # (class, dtype, Python scalar type) that bind directly
    left: set = set()    # (Python scalar type, class, dtype) that bind directly

    def general(x, y):
        xs, ys = x.__class__ in _PYS, y.__class__ in _PYS
        if xs and ys:
            x, xs = to_array(x), False
        if not xs:
            x = to_array(x, y)
        if not ys:
            y = to_array(y, x)
        xd = type(x) if xs else get_aval(x).dtype
        yd = type(y) if ys else get_aval(y).dtype
        if force is not None:
            for d in (xd, yd):
                if isinstance(d, np.dtype):
                    check_kind(d, name)
            tx = ty = force
        else:
            tx, ty = resolve(name, ufunc, (xd, yd))[:2]
        if xs:
            if force is not None:
                x = force.type(x).item()
            if strong_scalars or not scalar_fits(x, tx):
                x = scalar_array(x, y, tx)
            elif yd == ty and (force is None or xd is bool):
                left.add((xd, y.__class__, y.dtype))
        if ys:
            if force is not None:
                y = force.type(y).item()
            if strong_scalars or not scalar_fits(y, ty):
                y = scalar_array(y, x, ty)
            elif xd == tx and (force is None or yd is bool):
                right.add((x.__class__, x.dtype, yd))
        if not xs and not ys and xd == yd == tx == ty:
            same.add((x.__class__, x.dtype, y.__class__, y.dtype))
        x = x if xs else convert(x, xd, tx)
        y = y if ys else convert(y, yd, ty)
        return prim(x, y)

    def f(x: ArrayLike, y: ArrayLike) -> Array:
        cx, cy = x.__class__, y.__class__
        if cx in _ARR:
            if cy in _ARR:
                if (cx, x.dtype, cy, y.dtype) in same:
                    return prim(x, y)
            elif cy in _PYS and (cx, x.dtype, cy) in right:
                return prim(x, y)
        elif cx in _PYS and cy in _ARR and (cx, cy, y.dtype) in left:
            return prim(x, y)
        return general(x, y)
    return _named(f, name, doc)


def _unary(name: str, ufunc: np.ufunc, prim: Callable, doc: str, *,
           force: np.dtype | None = None) -> Callable[[ArrayLike], Array]:
    """A NumPy-style unary function binding ``prim`` (inputs converted to NumPy's loop dtype)."""
    same: set = set()

    def general(x):
        x = to_array(x)
        d = get_aval(x).dtype
        if force is not None:
            check_kind(d, name)
            t = force
        else:
            t = resolve(name, ufunc, (d,))[0]
        if d == t:
            same.add((x.__class__, x.dtype))     # keyed by class: no cross-library dtype comparison
            return prim(x)
        return prim(convert(x, d, t))

    def f(x: ArrayLike) -> Array:
        cx = x.__class__
        if cx in _ARR and (cx, x.dtype) in same:
            return prim(x)
        return general(x)
    return _named(f, name, doc)


def _float_operand(name, ufunc, x):
    """``x`` converted to the floating dtype NumPy's ``ufunc`` computes in, and that dtype."""
    x = to_array(x)
    d = get_aval(x).dtype
    t = resolve(name, ufunc, (d,))[0]
    return convert(x, d, t), t


# ------------------------------------------------------------------ arithmetic
add = _binary("add", np.add, ops.add, "Elementwise ``x + y``.")
subtract = _binary("subtract", np.subtract, ops.sub, "Elementwise ``x - y``.")
multiply = _binary("multiply", np.multiply, ops.mul, "Elementwise ``x * y``.")
divide = _binary("divide", np.true_divide, ops.div, "Elementwise true division (integers give float64).")


def _true_divide(x: ArrayLike, y: ArrayLike) -> Array:
    return divide(x, y)


true_divide = _named(_true_divide, "true_divide", "Same as divide.")
floor_divide = _binary("floor_divide", np.floor_divide, ops.floor_div, "Elementwise ``x // y``.")
remainder = _binary("remainder", np.remainder, ops.rem,
                    "Elementwise ``x % y`` (the sign of the divisor, as in Python).")
mod = remainder
maximum = _binary("maximum", np.maximum, ops.max, "Elementwise maximum (NaN propagates).")
minimum = _binary("minimum", np.minimum, ops.min, "Elementwise minimum (NaN propagates).")
arctan2 = _binary("arctan2", np.arctan2, ops.atan2, "Elementwise arc tangent of ``x1 / x2`` by quadrant.",
                  strong_scalars=True)
atan2 = arctan2
_pow = _binary("power", np.power, ops.pow, "", strong_scalars=True)


def power(x: ArrayLike, y: ArrayLike) -> Array:
    """Elementwise ``x ** y``; a Python int exponent uses integer_pow (exact, and a clean derivative)."""
    if y.__class__ is int and is_array(x):
        d = get_aval(x).dtype
        if d.kind in "fc" or (d.kind in "iu" and y >= 0):
            return ops.integer_pow(x, y)
    return _pow(x, y)


pow = power

# ------------------------------------------------------------------ comparisons and logic
equal = _binary("equal", np.equal, ops.eq, "Elementwise ``x == y``.")
not_equal = _binary("not_equal", np.not_equal, ops.ne, "Elementwise ``x != y``.")
less = _binary("less", np.less, ops.lt, "Elementwise ``x < y``.")
less_equal = _binary("less_equal", np.less_equal, ops.le, "Elementwise ``x <= y``.")
greater = _binary("greater", np.greater, ops.gt, "Elementwise ``x > y``.")
greater_equal = _binary("greater_equal", np.greater_equal, ops.ge, "Elementwise ``x >= y``.")
logical_and = _binary("logical_and", np.logical_and, ops.logical_and, "Elementwise logical and.", force=bool_)
logical_or = _binary("logical_or", np.logical_or, ops.logical_or, "Elementwise logical or.", force=bool_)
logical_xor = _binary("logical_xor", np.logical_xor, ops.logical_xor, "Elementwise logical xor.", force=bool_)
logical_not = _unary("logical_not", np.logical_not, ops.logical_not, "Elementwise logical not.", force=bool_)
bitwise_and = _binary("bitwise_and", np.bitwise_and, ops.bitwise_and, "Elementwise ``x & y`` (integers, bool).")
bitwise_or = _binary("bitwise_or", np.bitwise_or, ops.bitwise_or, "Elementwise ``x | y`` (integers, bool).")
bitwise_xor = _binary("bitwise_xor", np.bitwise_xor, ops.bitwise_xor, "Elementwise ``x ^ y`` (integers, bool).")
_bitwise_not = _unary("invert", np.invert, ops.bitwise_not, "")


def invert(x: ArrayLike) -> Array:
    """Elementwise ``~x``: bitwise not of integers, logical not of bools."""
    x = to_array(x)
    if get_aval(x).dtype == bool_:
        return ops.logical_not(x)
    return _bitwise_not(x)


bitwise_not = bitwise_invert = invert

# ------------------------------------------------------------------ unary
negative = _unary("negative", np.negative, ops.neg, "Elementwise ``-x``.")
abs = _unary("abs", np.absolute, ops.abs, "Elementwise absolute value.")
absolute = abs
sign = _unary("sign", np.sign, ops.sign, "Elementwise sign (-1, 0 or 1; NaN stays NaN).")
floor = _unary("floor", np.floor, ops.floor, "Elementwise floor.")
ceil = _unary("ceil", np.ceil, ops.ceil, "Elementwise ceiling.")
sqrt = _unary("sqrt", np.sqrt, ops.sqrt, "Elementwise square root.")
exp = _unary("exp", np.exp, ops.exp, "Elementwise exponential.")
expm1 = _unary("expm1", np.expm1, ops.expm1, "Elementwise ``exp(x) - 1``, accurate near 0.")
log = _unary("log", np.log, ops.log, "Elementwise natural logarithm.")
log1p = _unary("log1p", np.log1p, ops.log1p, "Elementwise ``log(1 + x)``, accurate near 0.")
sin = _unary("sin", np.sin, ops.sin, "Elementwise sine.")
cos = _unary("cos", np.cos, ops.cos, "Elementwise cosine.")
tan = _unary("tan", np.tan, ops.tan, "Elementwise tangent.")
tanh = _unary("tanh", np.tanh, ops.tanh, "Elementwise hyperbolic tangent.")
arcsin = _unary("arcsin", np.arcsin, ops.asin, "Elementwise inverse sine.")
arccos = _unary("arccos", np.arccos, ops.acos, "Elementwise inverse cosine.")
arctan = _unary("arctan", np.arctan, ops.atan, "Elementwise inverse tangent.")
sinh = _unary("sinh", np.sinh, ops.sinh, "Elementwise hyperbolic sine.")
cosh = _unary("cosh", np.cosh, ops.cosh, "Elementwise hyperbolic cosine.")
isnan = _unary("isnan", np.isnan, ops.isnan, "Elementwise test for NaN.")
asin, acos, atan = arcsin, arccos, arctan


def positive(x: ArrayLike) -> Array:
    """Elementwise ``+x`` (returns ``x``)."""
    x = to_array(x)
    resolve("positive", np.positive, (get_aval(x).dtype,))
    return x


def fabs(x: ArrayLike) -> Array:
    """Elementwise absolute value in floating point."""
    x, _ = _float_operand("fabs", np.fabs, x)
    return ops.abs(x)


def square(x: ArrayLike) -> Array:
    """Elementwise ``x * x``."""
    x = to_array(x)
    d = get_aval(x).dtype
    t = resolve("square", np.square, (d,))[0]
    x = convert(x, d, t)
    return ops.integer_pow(x, 2) if t.kind in "fc" else ops.mul(x, x)


def reciprocal(x: ArrayLike) -> Array:
    """Elementwise ``1 / x``; integers stay integers (truncated, as in NumPy)."""
    x = to_array(x)
    d = get_aval(x).dtype
    t = resolve("reciprocal", np.reciprocal, (d,))[0]
    if t.kind in "fc":
        return ops.div(1, convert(x, d, t))
    # the integer reciprocal is 0 except at +-1
    x = convert(x, d, t)
    return ops.select(ops.eq(ops.abs(x), 1), x, scalar_array(0, x, t))


def trunc(x: ArrayLike) -> Array:
    """Elementwise rounding towards zero."""
    x = to_array(x)
    d = get_aval(x).dtype
    t = resolve("trunc", np.trunc, (d,))[0]
    x = convert(x, d, t)
    if t.kind != "f":
        return x
    return ops.select(ops.lt(x, 0), ops.ceil(x), ops.floor(x))


fix = trunc


def round(x: ArrayLike, decimals: int = 0) -> Array:
    """Round to ``decimals`` places, halves to even (as NumPy)."""
    x = to_array(x)
    d = get_aval(x).dtype
    check_kind(d, "round")
    if d == bool_:
        # NumPy rounds bools in float16
        return round(ops.convert_element_type(x, np.float16), decimals)
    if d.kind != "f":
        if decimals >= 0:
            return x
        return ops.convert_element_type(round(ops.convert_element_type(x, np.float64), decimals), d)
    if decimals == 0:
        return ops.round(x)
    if decimals > 0:
        s = 10.0 ** decimals
        return ops.div(ops.round(ops.mul(x, s)), s)
    s = 10.0 ** -decimals
    return ops.mul(ops.round(ops.div(x, s)), s)


around = round


def rint(x: ArrayLike) -> Array:
    """Round to the nearest integer, halves to even (the result stays floating)."""
    x, _ = _float_operand("rint", np.rint, x)
    return ops.round(x)


def exp2(x: ArrayLike) -> Array:
    """Elementwise ``2 ** x``."""
    x, t = _float_operand("exp2", np.exp2, x)
    return ops.pow(scalar_array(2.0, x, t), x)


def log2(x: ArrayLike) -> Array:
    """Elementwise base-2 logarithm."""
    x, _ = _float_operand("log2", np.log2, x)
    return ops.div(ops.log(x), math.log(2.0))


def log10(x: ArrayLike) -> Array:
    """Elementwise base-10 logarithm."""
    x, _ = _float_operand("log10", np.log10, x)
    return ops.div(ops.log(x), math.log(10.0))


def _large(t):
    """The magnitude above which x**2 is negligible beside x**2 + 1 in dtype ``t`` (1/sqrt(eps)):
    x**2 still fits there, and log(2x) is asinh(x) and acosh(x) to the last bit above it."""
    try:
        eps = float(np.finfo(t).eps)
    except (TypeError, ValueError):      # a dtype NumPy has no finfo for (bfloat16)
        eps = 2.0 ** -7
    return eps ** -0.5


def arcsinh(x: ArrayLike) -> Array:
    """Elementwise inverse hyperbolic sine."""
    x, t = _float_operand("arcsinh", np.arcsinh, x)
    if t.kind == "c":
        return ops.log(ops.add(x, ops.sqrt(ops.add(ops.mul(x, x), 1.0))))
    # Each branch below is an exact identity for asinh on its domain, so every derivative is right,
    # including at 0 and where the branches meet; the inputs of the branch not taken are replaced by
    # safe values so its derivative (an inf or NaN there) never reaches the taken one.
    neg = ops.lt(x, 0.0)
    a = ops.select(neg, ops.neg(x), x)                     # |x| with derivative +1 at 0 (abs has 0)
    big = ops.gt(a, _large(t))
    small_a = ops.select(big, ops.full_like(a, 1.0, (), t), a)
    # log1p(a + a^2 / (1 + sqrt(1 + a^2))) = log(a + sqrt(a^2 + 1)), accurate for tiny a
    aa = ops.mul(small_a, small_a)
    near = ops.log1p(ops.add(small_a, ops.div(aa, ops.add(ops.sqrt(ops.add(aa, 1.0)), 1.0))))
    big_a = ops.select(big, a, ops.full_like(a, 1.0, (), t))
    far = ops.add(ops.log(big_a), math.log(2.0))           # a^2 would overflow: asinh(a) = log(2a)
    out = ops.select(big, far, near)
    return ops.select(neg, ops.neg(out), out)


def arccosh(x: ArrayLike) -> Array:
    """Elementwise inverse hyperbolic cosine."""
    x, t = _float_operand("arccosh", np.arccosh, x)
    if t.kind == "c":   # the principal branch: sqrt(x+1) sqrt(x-1), not sqrt(x^2-1)
        return ops.log(ops.add(x, ops.mul(ops.sqrt(ops.add(x, 1.0)), ops.sqrt(ops.sub(x, 1.0)))))
    big = ops.gt(x, _large(t))
    # acosh(1 + u) = log1p(u + sqrt(u (u + 2))), accurate near 1 (NaN below 1, as NumPy gives);
    # the far branch's safe input 2 keeps sqrt's infinite derivative at u = 0 out of it
    u = ops.sub(ops.select(big, ops.full_like(x, 2.0, (), t), x), 1.0)
    near = ops.log1p(ops.add(u, ops.sqrt(ops.mul(u, ops.add(u, 2.0)))))
    far = ops.add(ops.log(ops.select(big, x, ops.full_like(x, 2.0, (), t))), math.log(2.0))
    return ops.select(big, far, near)


def arctanh(x: ArrayLike) -> Array:
    """Elementwise inverse hyperbolic tangent."""
    x, _ = _float_operand("arctanh", np.arctanh, x)
    return ops.mul(ops.log1p(ops.div(ops.mul(x, 2.0), ops.sub(1.0, x))), 0.5)


asinh, acosh, atanh = arcsinh, arccosh, arctanh


def deg2rad(x: ArrayLike) -> Array:
    """Degrees to radians."""
    x, _ = _float_operand("deg2rad", np.deg2rad, x)
    return ops.mul(x, math.pi / 180.0)


def rad2deg(x: ArrayLike) -> Array:
    """Radians to degrees."""
    x, _ = _float_operand("rad2deg", np.rad2deg, x)
    return ops.mul(x, 180.0 / math.pi)


radians, degrees = deg2rad, rad2deg


def isinf(x: ArrayLike) -> Array:
    """Elementwise test for positive or negative infinity."""
    x = to_array(x)
    a = get_aval(x)
    if a.dtype.kind == "c":
        return ops.logical_or(isinf(ops.real(x)), isinf(ops.imag(x)))
    if a.dtype.kind != "f":
        check_kind(a.dtype, "isinf")
        return ops.full_like(x, False, a.shape, bool_)
    return ops.eq(ops.abs(x), math.inf)


def isfinite(x: ArrayLike) -> Array:
    """Elementwise test for values that are neither infinite nor NaN."""
    x = to_array(x)
    a = get_aval(x)
    if a.dtype.kind == "c":
        return ops.logical_and(isfinite(ops.real(x)), isfinite(ops.imag(x)))
    if a.dtype.kind != "f":
        check_kind(a.dtype, "isfinite")
        return ops.full_like(x, True, a.shape, bool_)
    # x - x is 0 for finite x and NaN for inf or NaN
    return ops.eq(ops.sub(x, x), 0.0)


# ------------------------------------------------------------------ composites
def _two_arrays(name, ufunc, x, y):
    """Both operands as arrays of the dtype NumPy's ``ufunc`` computes in."""
    if x.__class__ in _PYS and y.__class__ in _PYS:
        x = to_array(x)
    xa = x if x.__class__ in _PYS else to_array(x, y)
    ya = y if y.__class__ in _PYS else to_array(y, xa)
    xd = type(xa) if xa.__class__ in _PYS else get_aval(xa).dtype
    yd = type(ya) if ya.__class__ in _PYS else get_aval(ya).dtype
    tx, ty = resolve(name, ufunc, (xd, yd))[:2]
    xa = scalar_array(xa, ya, tx) if xa.__class__ in _PYS else convert(xa, xd, tx)
    ya = scalar_array(ya, xa, ty) if ya.__class__ in _PYS else convert(ya, yd, ty)
    return xa, ya, tx


def _log_add_exp(x, y, base_log: float):
    """``log_b(b**x + b**y)`` (``base_log`` = ln b) without overflow, smooth to every order at
    x == y: each branch adds a softplus of the smaller minus the larger, and the branch not taken
    gets 0 there, so no exp overflows (no inf or NaN reaches a derivative).  A written-out
    ``max + log1p(exp(-|x - y|))`` has kinks at x == y that cancel in value but lose the second
    derivative there."""
    gt = ops.gt(x, y)
    d = ops.sub(x, y)
    zero = ops.full_like(d, 0, get_aval(d).shape, get_aval(d).dtype)
    u_hi = ops.select(gt, ops.neg(d), zero)      # y - x where x is the larger, else 0
    u_lo = ops.select(gt, zero, d)               # x - y where y is the larger (or equal), else 0

    def softplus(u):     # log_b(1 + b**u)
        if base_log == 1.0:
            return ops.log1p(ops.exp(u))
        return ops.div(ops.log1p(ops.exp(ops.mul(u, base_log))), base_log)
    out = ops.select(gt, ops.add(x, softplus(u_hi)), ops.add(y, softplus(u_lo)))
    # d is NaN when x == y == +-inf (or an input is NaN); x + y is then the answer
    return ops.select(ops.ne(d, d), ops.add(x, y), out)


def logaddexp(x: ArrayLike, y: ArrayLike) -> Array:
    """Elementwise ``log(exp(x) + exp(y))`` without overflow."""
    x, y, _ = _two_arrays("logaddexp", np.logaddexp, x, y)
    return _log_add_exp(x, y, 1.0)


def hypot(x: ArrayLike, y: ArrayLike) -> Array:
    """Elementwise ``sqrt(x**2 + y**2)`` without overflow or underflow."""
    x, y, t = _two_arrays("hypot", np.hypot, x, y)
    if t.kind != "f":
        return ops.sqrt(ops.add(ops.mul(x, x), ops.mul(y, y)))
    # s * sqrt((x/s)^2 + (y/s)^2) is hypot for any constant s > 0; s = max(|x|, |y|) keeps the
    # squares in range, and stop_gradient makes it a constant, so derivatives stay those of hypot
    ax, ay = ops.abs(x), ops.abs(y)
    s = ops.stop_gradient(ops.max(ax, ay))
    s = ops.select(ops.eq(s, 0.0), ops.full_like(s, 1.0, (), t), s)     # (an infinite s is handled below)
    xs, ys = ops.div(x, s), ops.div(y, s)
    out = ops.mul(ops.sqrt(ops.add(ops.mul(xs, xs), ops.mul(ys, ys))), s)
    # an infinite operand gives inf even beside a NaN (C99's hypot, which NumPy follows)
    inf = ops.logical_or(ops.eq(ax, math.inf), ops.eq(ay, math.inf))
    return ops.select(inf, ops.full_like(out, math.inf, (), t), out)


def fmax(x: ArrayLike, y: ArrayLike) -> Array:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    x, y, t = _two_arrays("fmax", np.fmax, x, y)
    m = ops.max(x, y)
    if t.kind != "f":
        return m
    return ops.select(ops.isnan(x), ops.broadcast_to(y, get_aval(m).shape),
                      ops.select(ops.isnan(y), ops.broadcast_to(x, get_aval(m).shape), m))


def fmin(x: ArrayLike, y: ArrayLike) -> Array:
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    x, y, t = _two_arrays("fmin", np.fmin, x, y)
    m = ops.min(x, y)
    if t.kind != "f":
        return m
    return ops.select(ops.isnan(x), ops.broadcast_to(y, get_aval(m).shape),
                      ops.select(ops.isnan(y), ops.broadcast_to(x, get_aval(m).shape), m))


def clip(a: ArrayLike, a_min: ArrayLike | None = None, a_max: ArrayLike | None = None) -> Array:
    """``a`` limited to [a_min, a_max] (either bound may be None)."""
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    out = to_array(a)
    if a_min is not None:
        out = maximum(out, a_min)
    if a_max is not None:
        out = minimum(out, a_max)
    return out


_BOOL_DTYPES: set = set()


def where(condition: ArrayLike, x: ArrayLike | None = None, y: ArrayLike | None = None) -> Array:

    """Elementwise ``x`` where ``condition`` holds, else ``y`` (broadcasting, NumPy promotion)."""
    if x is None or y is None:
        raise TypeError("where: the one-argument form (the indices of nonzero elements) has a shape that "
                        "depends on the data, which polyfunc does not support; pass both x and y.")
    if (condition.__class__ in _ARR and x.__class__ in _ARR and y.__class__ in _ARR
            and (condition.__class__, condition.dtype) in _BOOL_DTYPES and x.__class__ is y.__class__
            and x.dtype == y.dtype):
        return ops.select(condition, x, y)
    cond = to_array(condition, x if is_array(x) else y)
    ca = get_aval(cond)
    if ca.dtype == bool_:
        _BOOL_DTYPES.add((cond.__class__, cond.dtype))  # the backend's own bool, keyed by its array class
    else:
        check_kind(ca.dtype, "where")
        cond = ops.convert_element_type(cond, bool_)
    xs, ys = x.__class__ in _PYS, y.__class__ in _PYS
    if xs and ys:
        dt = result_type(x, y)
        return ops.select(cond, scalar_array(x, cond, dt), scalar_array(y, cond, dt))
    if not xs:
        x = to_array(x, cond)
    if not ys:
        y = to_array(y, cond)
    dt = result_type(x, y)
    if xs:
        x = x if scalar_fits(x, dt) else scalar_array(x, y, dt)
    else:
        x = convert(x, get_aval(x).dtype, dt)
    if ys:
        y = y if scalar_fits(y, dt) else scalar_array(y, x, dt)
    else:
        y = convert(y, get_aval(y).dtype, dt)
    return ops.select(cond, x, y)
