"""Elementwise primitives.  Binary ones broadcast like NumPy; their array
operands share one dtype (polyfunc.numpy promotes first) and a Python scalar
operand takes the array's dtype.  Families come from two factories, ``unary``
and ``binary``."""
from __future__ import annotations

import builtins
import math
from collections.abc import Callable

import numpy as np  # dtypes only

from ..errors import DTypeError
from ..interpreters.batching import ElementwiseBatchRule
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array, ArrayLike, DTypeLike
from .structural import (LinearArg, broadcast_shapes, dtype_of, is_float_dtype, ndim_of, linear_jvp, broadcast_to, full_like,
                         moveaxis, reshape, shape_of, unbroadcast, zeros)

__all__ = [
    "neg", "add", "sub", "mul", "div", "pow", "integer_pow", "max", "min", "exp", "log", "log1p", "expm1",
    "sin", "cos", "tan", "tanh", "logistic", "sqrt", "rsqrt", "floor", "ceil", "round",
    "asin", "acos", "atan", "sinh", "cosh", "erf", "erfc", "atan2", "floor_div", "rem",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan",
    "select", "convert_element_type", "stop_gradient", "unary_prims", "binary_prims",
]

BOOL = np.dtype(bool)
_SCALARS = (int, float, bool)


# ------------------------------------------------------------------ factories
def _batch_elementwise(prim):
    """Batching for a broadcasting n-ary op: line the batch dims up in front."""
    def rule(vals, dims, **params):
        if len(vals) == 2:   # fast paths: a Python scalar operand, or both batched alike
            (x, y), (dx, dy) = vals, dims
            if dy is None and y.__class__ in _SCALARS:
                return prim.bind(x, y, **params), dx
            if dx is None and x.__class__ in _SCALARS:
                return prim.bind(x, y, **params), dy
            if dx == dy and ndim_of(x) == ndim_of(y):
                return prim.bind(x, y, **params), dx
            # batch dim in front and the other operand unbatched, of no higher rank: NumPy's
            # trailing alignment already puts the batch dim in front of the result
            if dx == 0 and dy is None and ndim_of(y) < ndim_of(x):
                return prim.bind(x, y, **params), 0
            if dy == 0 and dx is None and ndim_of(x) < ndim_of(y):
                return prim.bind(x, y, **params), 0
        first = next(d for d in dims if d is not None)
        ranks = [ndim_of(v) - (d is not None) for v, d in zip(vals, dims)]
        r = builtins.max(ranks)
        if all(d == first for d in dims) and all(k == r for k in ranks):
            return prim.bind(*vals, **params), first
        b = next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)
        new = []
        for v, d, k in zip(vals, dims, ranks):
            if d is not None:
                v = moveaxis(v, d, 0)
                if k < r:
                    v = reshape(v, (b,) + (1,) * (r - k) + shape_of(v)[1:])
            new.append(v)
        return prim.bind(*new, **params), 0
    return ElementwiseBatchRule(rule)


def _ae_elementwise(name, out_bool=False):
    what = f"operands of {name}"

    def rule(*avals, **params):
        a0 = avals[0]
        if len(avals) == 1 and not out_bool and not a0.weak:
            return a0                                  # avals are immutable: share it
        if len(avals) == 2:
            a1 = avals[1]
            # the common cases first: equal shapes, or a Python scalar operand
            if a1.weak or a0.shape == a1.shape:
                shape = a0.shape if not a0.weak else a1.shape
            elif a0.weak:
                shape = a1.shape
            else:
                shape = broadcast_shapes(a0.shape, a1.shape, what=what)
        elif len(avals) == 1:
            shape = a0.shape
        else:
            shape = broadcast_shapes(*[a.shape for a in avals], what=what)
        if len(avals) == 2 and not out_bool and not (a0.weak or a1.weak):
            if a0.dtype != a1.dtype:
                raise DTypeError(f"{name}: operands have dtypes {a0.dtype} and {a1.dtype}; promote them to one "
                                 f"dtype first (polyfunc.numpy functions do this for you).")
            return a0 if shape is a0.shape else ShapedArray(shape, a0.dtype)
        strong = [a.dtype for a in avals if not a.weak]
        dt = strong[0] if strong else a0.dtype
        for d in strong[1:]:
            if d != dt:
                raise DTypeError(f"{name}: operands have dtypes {dt} and {d}; promote them to one dtype first "
                                 f"(polyfunc.numpy functions do this for you).")
        return ShapedArray(shape, BOOL if out_bool else dt)
    return rule


unary_prims: dict[str, Primitive] = {}
binary_prims: dict[str, Primitive] = {}


def unary(name: str, deriv: Callable | None = None, *, linear: bool = False,
          out_bool: bool = False) -> tuple[Primitive, Callable[..., Array]]:
    """An elementwise one-input primitive.  ``deriv(x, out)`` is its derivative;
    None means piecewise constant (no tangent)."""
    p = Primitive(name)
    unary_prims[name] = p
    AE[p] = _ae_elementwise(name, out_bool)
    BR[p] = ElementwiseBatchRule(lambda v, d, **kw: (p.bind(v[0], **kw), d[0]))
    if linear:
        JR[p] = linear_jvp(p)
        TR[p] = lambda ct, x, **kw: [p.bind(ct, **kw)]
    elif deriv is not None:
        def jvp(pr, t, **kw):
            out = p.bind(pr[0], **kw)
            return out, mul(t[0], deriv(pr[0], out))
        JR[p] = jvp
    else:
        JR[p] = lambda pr, t, **kw: (p.bind(pr[0], **kw), None)
    return p, p.bind      # the op is its primitive's bind: one call frame fewer on every use


def binary(name: str, jvp: Callable | None = None, transpose: Callable | None = None, *,
           out_bool: bool = False) -> tuple[Primitive, Callable[..., Array]]:
    """A broadcasting two-input primitive.  ``jvp(x, y, out, tx, ty)`` returns the
    output tangent (tx/ty may be None); no jvp means no tangent."""
    p = Primitive(name)
    binary_prims[name] = p
    AE[p] = _ae_elementwise(name, out_bool)
    BR[p] = _batch_elementwise(p)
    if jvp is not None:
        def jrule(pr, t, **kw):
            x, y = pr
            out = p.bind(x, y, **kw)
            tout = jvp(x, y, out, t[0], t[1])
            if tout is not None and shape_of(tout) != shape_of(out):
                tout = broadcast_to(tout, shape_of(out))
            return out, tout
        JR[p] = jrule
    else:
        JR[p] = lambda pr, t, **kw: (p.bind(*pr, **kw), None)
    if transpose is not None:
        TR[p] = transpose
    return p, p.bind


def _sum_tangents(*ts):
    ts = [t for t in ts if t is not None]  # type: ignore[assignment]    # the tangents present, as a list
    if not ts:
        return None
    out = ts[0]
    for t in ts[1:]:
        out = add(out, t)
    return out


def _lin(ct, x):
    """Reduce a cotangent to the shape of the linear operand ``x`` (None if x is not linear)."""
    return unbroadcast(ct, x.aval) if isinstance(x, LinearArg) else None


# ------------------------------------------------------------------ arithmetic
neg_p, neg = unary("neg", linear=True)
add_p, add = binary("add", lambda x, y, o, tx, ty: _sum_tangents(tx, ty),
                    lambda ct, x, y: [_lin(ct, x), _lin(ct, y)])
sub_p, sub = binary("sub", lambda x, y, o, tx, ty: _sum_tangents(tx, None if ty is None else neg(ty)),
                    lambda ct, x, y: [_lin(ct, x), None if not isinstance(y, LinearArg) else _lin(neg(ct), y)])


def _mul_transpose(ct, x, y):
    if isinstance(x, LinearArg) and isinstance(y, LinearArg):
        raise TypeError("mul of two linear values cannot be transposed (the function is not linear)")
    return [_lin(mul(ct, y), x) if isinstance(x, LinearArg) else None,
            _lin(mul(x, ct), y) if isinstance(y, LinearArg) else None]


def _mul_jvp(x, y, o, tx, ty):
    if tx is not None and x is y and tx is ty:
        # x * x (a square): one linear term 2x·t instead of x·t + t·x, which halves the work
        # of transposing it (squared errors are in nearly every loss)
        return mul(tx, mul(x, 2))
    return _sum_tangents(None if tx is None else mul(tx, y), None if ty is None else mul(x, ty))


mul_p, mul = binary("mul", _mul_jvp, _mul_transpose)


def _div_transpose(ct, x, y):
    if isinstance(y, LinearArg):
        raise TypeError("div is not linear in its denominator and cannot be transposed with respect to it")
    return [_lin(div(ct, y), x), None]


div_p, div = binary("div", lambda x, y, o, tx, ty: _sum_tangents(
    None if tx is None else div(tx, y), None if ty is None else mul(ty, neg(div(o, y)))), _div_transpose)


def _as_array(v, out):
    """A Python scalar operand as a 0-d array, so a rule never binds scalars alone."""
    return full_like(out, v, (), out_dtype(out)) if v.__class__ in _SCALARS else v


def _pow_jvp(x, y, out, tx, ty):
    x, y = _as_array(x, out), _as_array(y, out)
    tangents = []
    if tx is not None:
        ym1 = y - 1 if isinstance(y, (int, float)) else sub(y, 1)
        tangents.append(mul(tx, mul(pow(x, ym1), y)))
    if ty is not None:
        # d/dy x**y = log(x) * x**y, taken as 0 where x == 0 (the limit for y > 0)
        safe_log = select(eq(x, 0), zeros(out), log(select(eq(x, 0), full_like(out, 1, shape_of(out), out_dtype(out)), broadcast_to(x, shape_of(out)))))
        tangents.append(mul(ty, mul(out, safe_log)))
    return _sum_tangents(*tangents)


def out_dtype(x):
    return dtype_of(x)


pow_p, pow = binary("pow", _pow_jvp)
floor_div_p, floor_div = binary("floor_div")
rem_p, rem = binary("rem", lambda x, y, o, tx, ty: _sum_tangents(
    tx, None if ty is None else mul(ty, neg(floor(div(x, y))))))
def _atan2_jvp(x, y, o, tx, ty):
    x, y = _as_array(x, o), _as_array(y, o)
    r2 = add(mul(x, x), mul(y, y))
    return _sum_tangents(None if tx is None else mul(tx, div(y, r2)), None if ty is None else mul(ty, neg(div(x, r2))))


atan2_p, atan2 = binary("atan2", _atan2_jvp)


def _minmax_jvp(pick):
    # ties split the tangent evenly between the two operands, as JAX does
    def jvp(x, y, out, tx, ty):
        shp = shape_of(out)
        dt = out_dtype(out)
        one = full_like(out, 1, shp, dt)
        half = full_like(out, 0.5, shp, dt)
        zero = zeros(out)
        wx = select(pick(x, y), one, select(eq(x, y), half, zero))
        wy = sub(one, wx)
        return _sum_tangents(None if tx is None else mul(tx, wx), None if ty is None else mul(ty, wy))
    return jvp


max_p, max = binary("max", _minmax_jvp(lambda x, y: gt(x, y)))
min_p, min = binary("min", _minmax_jvp(lambda x, y: lt(x, y)))

integer_pow_p = Primitive("integer_pow")


def integer_pow(x: Array, y: int) -> Array:
    return integer_pow_p.bind(x, y=int(y))


AE[integer_pow_p] = lambda x, *, y: ShapedArray(x.shape, x.dtype)
BR[integer_pow_p] = lambda v, d, *, y: (integer_pow(v[0], y), d[0])


def _integer_pow_jvp(p, t, *, y):
    x = p[0]
    out = integer_pow(x, y)
    if y == 0:
        return out, None
    d = full_like(x, 1, shape_of(x), out_dtype(x)) if y == 1 else mul(integer_pow(x, y - 1), y)
    return out, mul(t[0], d)


JR[integer_pow_p] = _integer_pow_jvp

# ------------------------------------------------------------------ transcendental
exp_p, exp = unary("exp", lambda x, o: o)
log_p, log = unary("log", lambda x, o: div(1, x))
log1p_p, log1p = unary("log1p", lambda x, o: div(1, add(x, 1)))
expm1_p, expm1 = unary("expm1", lambda x, o: add(o, 1))
sin_p, sin = unary("sin", lambda x, o: cos(x))
cos_p, cos = unary("cos", lambda x, o: neg(sin(x)))
tan_p, tan = unary("tan", lambda x, o: add(mul(o, o), 1))
tanh_p, tanh = unary("tanh", lambda x, o: sub(1, mul(o, o)))
# d/dx erf(x) = 2/sqrt(pi) * exp(-x^2) (exact GELU is built on it)
erf_p, erf = unary("erf", lambda x, o: mul(exp(neg(mul(x, x))), 2 / math.sqrt(math.pi)))
# erfc = 1 - erf, its own primitive because 1 - erf(x) rounds to 0 for x beyond about 6
erfc_p, erfc = unary("erfc", lambda x, o: mul(exp(neg(mul(x, x))), -2 / math.sqrt(math.pi)))
logistic_p, logistic = unary("logistic", lambda x, o: mul(o, sub(1, o)))
sqrt_p, sqrt = unary("sqrt", lambda x, o: div(0.5, o))
rsqrt_p, rsqrt = unary("rsqrt", lambda x, o: mul(div(o, x), -0.5))
asin_p, asin = unary("asin", lambda x, o: rsqrt(sub(1, mul(x, x))))
acos_p, acos = unary("acos", lambda x, o: neg(rsqrt(sub(1, mul(x, x)))))
atan_p, atan = unary("atan", lambda x, o: div(1, add(mul(x, x), 1)))
sinh_p, sinh = unary("sinh", lambda x, o: cosh(x))
cosh_p, cosh = unary("cosh", lambda x, o: sinh(x))
floor_p, floor = unary("floor")
ceil_p, ceil = unary("ceil")
round_p, round = unary("round")
isnan_p, isnan = unary("isnan", out_bool=True)
stop_gradient_p, stop_gradient = unary("stop_gradient")

# ------------------------------------------------------------------ comparisons and logic
eq_p, eq = binary("eq", out_bool=True)
ne_p, ne = binary("ne", out_bool=True)
lt_p, lt = binary("lt", out_bool=True)
le_p, le = binary("le", out_bool=True)
gt_p, gt = binary("gt", out_bool=True)
ge_p, ge = binary("ge", out_bool=True)
logical_and_p, logical_and = binary("logical_and", out_bool=True)
logical_or_p, logical_or = binary("logical_or", out_bool=True)
logical_xor_p, logical_xor = binary("logical_xor", out_bool=True)
logical_not_p, logical_not = unary("logical_not", out_bool=True)
bitwise_and_p, bitwise_and = binary("bitwise_and")
bitwise_or_p, bitwise_or = binary("bitwise_or")
bitwise_xor_p, bitwise_xor = binary("bitwise_xor")
bitwise_not_p, bitwise_not = unary("bitwise_not")

# ------------------------------------------------------------------ select
select_p = Primitive("select")


def select(pred: Array, on_true: ArrayLike, on_false: ArrayLike) -> Array:
    """``where(pred, on_true, on_false)`` with NumPy broadcasting."""
    return select_p.bind(pred, on_true, on_false)


_select_branches_ae = _ae_elementwise("select")


def _select_ae(p, x, y):
    if p.dtype != BOOL:
        raise DTypeError(f"select: the condition must be boolean, got {p.dtype}")
    out = _select_branches_ae(x, y)
    return ShapedArray(broadcast_shapes(p.shape, out.shape, what="operands of select"), out.dtype)


def _select_jvp(pr, t):
    p, x, y = pr
    out = select(p, x, y)
    if t[1] is None and t[2] is None:
        return out, None
    dt = out_dtype(out)

    def inst(tan, v):   # a zero tangent in the output's dtype (a Python 0 branch is not int64 here)
        return tan if tan is not None else full_like(out, 0, shape_of(v), dt)
    return out, select(p, inst(t[1], x), inst(t[2], y))


def _select_transpose(ct, p, x, y):
    if isinstance(p, LinearArg):
        raise TypeError("select is not linear in its condition")
    z = zeros(ct, shape=())     # broadcast by select: no full-size zeros
    # the branch not taken gets an exact zero, so a NaN there never reaches the gradient
    return [None, _lin(select(p, ct, z), x) if isinstance(x, LinearArg) else None,
            _lin(select(p, z, ct), y) if isinstance(y, LinearArg) else None]


AE[select_p] = _select_ae
JR[select_p] = _select_jvp
TR[select_p] = _select_transpose
BR[select_p] = _batch_elementwise(select_p)

# ------------------------------------------------------------------ convert_element_type
convert_element_type_p = Primitive("convert_element_type")


def convert_element_type(x: Array, new_dtype: DTypeLike) -> Array:

    new_dtype = np.dtype(new_dtype)
    return convert_element_type_p.bind(x, new_dtype=new_dtype)


def _convert_jvp(p, t, *, new_dtype):
    x = p[0]
    out = convert_element_type(x, new_dtype)
    if t[0] is None or not is_float_dtype(new_dtype) or not is_float_dtype(out_dtype(x)):
        return out, None
    return out, convert_element_type(t[0], new_dtype)


AE[convert_element_type_p] = lambda x, *, new_dtype: ShapedArray(x.shape, new_dtype)
JR[convert_element_type_p] = _convert_jvp
TR[convert_element_type_p] = lambda ct, x, *, new_dtype: [convert_element_type(ct, x.aval.dtype)]
BR[convert_element_type_p] = lambda v, d, **kw: (convert_element_type_p.bind(v[0], **kw), d[0])
