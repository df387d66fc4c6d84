"""Elementwise torch functions, Tensor methods and operators on traced tensors."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc import ops
from polyfunc.plugin import Tracer, get_aval

from .arguments import float_of
from .dtypes import to_np_dtype, to_torch_dtype
from .promotion import cast, result_dtype
from .registry import implements

T = torch.Tensor

_FLOATS = frozenset(to_np_dtype(d) for d in (torch.float16, torch.float32, torch.float64))


def _lean(numpy_fn, prim_fn):
    """``numpy_fn`` for torch, binding ``prim_fn`` straight away on a traced floating tensor (the
    dtype torch and NumPy both compute in): ``torch.sin(tracer)`` reaches ``bind`` without
    polyfunc.numpy's dtype resolution, measured about a third of a vmapped ``torch.sin``'s cost."""
    def fn(input):
        if isinstance(input, Tracer) and input.aval.dtype in _FLOATS:
            return prim_fn(input)
        return numpy_fn(input)
    fn.__name__ = fn.__qualname__ = numpy_fn.__name__
    return fn


# ------------------------------------------------------------------ one polyfunc.numpy function each
# the same signature as polyfunc.numpy's (one tensor, or two): registered as they are
implements(torch.sin, method="sin")(_lean(pnp.sin, ops.sin))
implements(torch.cos, method="cos")(_lean(pnp.cos, ops.cos))
implements(torch.tan, method="tan")(_lean(pnp.tan, ops.tan))
implements(torch.tanh, method="tanh")(_lean(pnp.tanh, ops.tanh))
implements(torch.exp, method="exp")(_lean(pnp.exp, ops.exp))
implements(torch.exp2, torch.special.exp2, method="exp2")(pnp.exp2)
implements(torch.expm1, torch.special.expm1, method="expm1")(_lean(pnp.expm1, ops.expm1))
implements(torch.log, method="log")(_lean(pnp.log, ops.log))
implements(torch.log2, method="log2")(pnp.log2)
implements(torch.log10, method="log10")(pnp.log10)
implements(torch.log1p, torch.special.log1p, method="log1p")(_lean(pnp.log1p, ops.log1p))
implements(torch.sqrt, method="sqrt")(_lean(pnp.sqrt, ops.sqrt))
implements(torch.abs, torch.absolute, method=("abs", "absolute", "__abs__"))(pnp.abs)
implements(torch.neg, torch.negative, method=("neg", "negative", "__neg__"))(pnp.negative)
implements(torch.positive, method=("positive", "__pos__"))(pnp.positive)
implements(torch.sign, torch.sgn, method=("sign", "sgn"))(pnp.sign)
implements(torch.floor, method="floor")(pnp.floor)
implements(torch.ceil, method="ceil")(pnp.ceil)
implements(torch.trunc, torch.fix, method=("trunc", "fix"))(pnp.trunc)
implements(torch.asin, torch.arcsin, method=("asin", "arcsin"))(pnp.arcsin)
implements(torch.acos, torch.arccos, method=("acos", "arccos"))(pnp.arccos)
implements(torch.atan, torch.arctan, method=("atan", "arctan"))(pnp.arctan)
implements(torch.sinh, method="sinh")(pnp.sinh)
implements(torch.cosh, method="cosh")(pnp.cosh)
implements(torch.asinh, torch.arcsinh, method=("asinh", "arcsinh"))(pnp.arcsinh)
implements(torch.acosh, torch.arccosh, method=("acosh", "arccosh"))(pnp.arccosh)
implements(torch.atanh, torch.arctanh, method=("atanh", "arctanh"))(pnp.arctanh)
implements(torch.reciprocal, method="reciprocal")(pnp.reciprocal)
implements(torch.deg2rad, method="deg2rad")(pnp.deg2rad)
# complex parts (a tracer's x.real and x.imag attributes come with polyfunc.numpy's method table)
implements(torch.real)(pnp.real)
implements(torch.imag)(pnp.imag)
implements(torch.conj, torch.conj_physical, method=("conj", "conj_physical"))(pnp.conj)
implements(torch.angle, method="angle")(pnp.angle)


@implements(torch.resolve_conj, method="resolve_conj")
def resolve_conj(input):
    return input      # polyfunc never holds a lazily conjugated view: there is nothing to resolve

implements(torch.rad2deg, method="rad2deg")(pnp.rad2deg)
implements(torch.isnan, method="isnan")(pnp.isnan)
implements(torch.isinf, method="isinf")(pnp.isinf)
implements(torch.isfinite, method="isfinite")(pnp.isfinite)
implements(torch.logical_not, method="logical_not")(pnp.logical_not)
implements(torch.bitwise_not, method=("bitwise_not", "__invert__"))(pnp.invert)

# comparisons and logic: no promotion needed (bool results; torch compares in the common dtype)
implements(torch.eq, method=("eq", "__eq__"))(pnp.equal)
implements(torch.ne, torch.not_equal, method=("ne", "not_equal", "__ne__"))(pnp.not_equal)
implements(torch.lt, torch.less, method=("lt", "less", "__lt__"))(pnp.less)
implements(torch.le, torch.less_equal, method=("le", "less_equal", "__le__"))(pnp.less_equal)
implements(torch.gt, torch.greater, method=("gt", "greater", "__gt__"))(pnp.greater)
implements(torch.ge, torch.greater_equal, method=("ge", "greater_equal", "__ge__"))(pnp.greater_equal)
implements(torch.logical_and, method="logical_and")(pnp.logical_and)
implements(torch.logical_or, method="logical_or")(pnp.logical_or)
implements(torch.logical_xor, method="logical_xor")(pnp.logical_xor)
implements(torch.bitwise_and, method=("bitwise_and", "__and__"))(pnp.bitwise_and)
implements(torch.bitwise_or, method=("bitwise_or", "__or__"))(pnp.bitwise_or)
implements(torch.bitwise_xor, method=("bitwise_xor", "__xor__"))(pnp.bitwise_xor)
implements(method="__rand__", swap=True)(pnp.bitwise_and)
implements(method="__ror__", swap=True)(pnp.bitwise_or)
implements(method="__rxor__", swap=True)(pnp.bitwise_xor)

# arithmetic: torch's promotion (see promotion)
implements(torch.multiply, method="multiply", promote=True)(pnp.multiply)
implements(torch.true_divide, method=("true_divide", "__truediv__", "__div__"), promote="true_div")(pnp.true_divide)
implements(method=("__rtruediv__", "__rdiv__"), promote="true_div", swap=True)(pnp.true_divide)
implements(torch.floor_divide, method=("floor_divide", "__floordiv__"), promote=True)(pnp.floor_divide)
implements(method="__rfloordiv__", promote=True, swap=True)(pnp.floor_divide)
implements(torch.remainder, method=("remainder", "__mod__"), promote=True)(pnp.remainder)
implements(method="__rmod__", promote=True, swap=True)(pnp.remainder)
implements(torch.pow, torch.float_power, method=("pow", "float_power", "__pow__"), promote=True)(pnp.power)
implements(method="__rpow__", promote=True, swap=True)(pnp.power)
implements(method="__radd__", promote=True, swap=True)(pnp.add)
implements(method="__rsub__", promote=True, swap=True)(pnp.subtract)
implements(method="__rmul__", promote=True, swap=True)(pnp.multiply)
implements(torch.maximum, method="maximum", promote=True)(pnp.maximum)
implements(torch.minimum, method="minimum", promote=True)(pnp.minimum)
implements(torch.fmax, method="fmax", promote=True)(pnp.fmax)
implements(torch.fmin, method="fmin", promote=True)(pnp.fmin)
implements(torch.atan2, torch.arctan2, method=("atan2", "arctan2"), promote=True)(pnp.arctan2)
implements(torch.hypot, method="hypot", promote=True)(pnp.hypot)
implements(torch.logaddexp, method="logaddexp", promote=True)(pnp.logaddexp)


# ------------------------------------------------------------------ torch's own signatures
@implements(torch.add, method=("add", "__add__"), promote=True)
def add(input, other, *, alpha=1):
    return pnp.add(input, other if alpha == 1 else pnp.multiply(other, alpha))


@implements(torch.sub, torch.subtract, method=("sub", "subtract", "__sub__"), promote=True)
def sub(input, other, *, alpha=1):
    return pnp.subtract(input, other if alpha == 1 else pnp.multiply(other, alpha))


@implements(torch.rsub)
def rsub(input, other, *, alpha=1):
    return pnp.subtract(other, input if alpha == 1 else pnp.multiply(input, alpha))


@implements(torch.mul, method=("mul", "__mul__"), promote=True)
def mul(input, other):
    return pnp.multiply(input, other)


@implements(torch.div, torch.divide, method=("div", "divide"), promote="true_div")
def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return pnp.true_divide(input, other)
    if rounding_mode == "floor":
        return pnp.floor_divide(input, other)
    if rounding_mode == "trunc":
        r = pnp.trunc(pnp.true_divide(input, other))
        dt = getattr(input, "dtype", None)
        if dt is not None and to_np_dtype(dt).kind in "iu":
            r = pnp.astype(r, to_np_dtype(dt))
        return r
    raise ValueError(f"torch.div: rounding_mode must be None, 'trunc' or 'floor', not {rounding_mode!r}")


@implements(torch.fmod, method="fmod", promote=True)
def fmod(input, other):
    # C's fmod: the result has the sign of the dividend
    if to_np_dtype(getattr(input, "dtype", np.float64)).kind == "f":
        return pnp.subtract(input, pnp.multiply(pnp.trunc(pnp.true_divide(input, other)), other))
    return pnp.subtract(input, pnp.multiply(div(input, other, rounding_mode="trunc"), other))


def _float_input(x: Any) -> Any:
    """x as a tensor of a floating dtype (integers: torch's float32)."""
    x = pnp.asarray(x) if isinstance(x, (int, float)) else x
    dt = float_of(x)
    return x if to_np_dtype(x.dtype) == dt else pnp.astype(x, dt)


@implements(torch.erf, torch.special.erf, method="erf")
def erf(input):
    return ops.erf(_float_input(input))


@implements(torch.erfc, torch.special.erfc, method="erfc")
def erfc(input):
    return ops.erfc(_float_input(input))


@implements(torch.sigmoid, torch.special.expit, method="sigmoid")
def sigmoid(input):
    return ops.logistic(pnp.asarray(input) if isinstance(input, (int, float)) else input)


@implements(torch.special.logit, torch.logit, method="logit")
def logit(input, eps=None):
    if eps is not None:           # torch clamps to [eps, 1 - eps] first
        input = pnp.clip(input, eps, 1 - eps)
    return pnp.log(pnp.true_divide(input, pnp.subtract(1, input)))


@implements(torch.sinc, torch.special.sinc, method="sinc")
def sinc(input):
    """sin(pi x) / (pi x), 1 at 0; the division runs on a safe x so its gradient at 0 is 0, not NaN."""
    x = input if get_aval(input).dtype.kind == "f" else pnp.astype(input, float_of(input))
    zero = pnp.equal(x, 0)
    px = pnp.multiply(pnp.where(zero, 1.0, x), np.pi)
    return pnp.where(zero, pnp.ones_like(x), pnp.true_divide(pnp.sin(px), px))


@implements(torch.result_type)
def result_type(tensor, other):
    """torch's promotion of a tensor (traced or not) with a tensor or Python number."""
    return to_torch_dtype(result_dtype(tensor, other))


@implements(torch.square, method="square")
def square(input):
    return pnp.multiply(input, input)


@implements(torch.rsqrt, method="rsqrt")
def rsqrt(input):
    return pnp.true_divide(1, pnp.sqrt(input))


@implements(torch.frac, method="frac")
def frac(input):
    return pnp.subtract(input, pnp.trunc(input))


@implements(torch.lerp, method="lerp")
def lerp(input, end, weight):
    return pnp.add(input, pnp.multiply(weight, pnp.subtract(end, input)))


def _bound_like(b, x):
    return pnp.full_like(x, b) if isinstance(b, (int, float)) else b


@implements(torch.clamp, torch.clip, method=("clamp", "clip"))
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("torch.clamp: at least one of min and max must be given")
    # torch passes the gradient where min <= x <= max (the bounds included); min > max gives max
    out = input
    if min is not None:
        out = pnp.where(pnp.less(out, min), _bound_like(min, out), out)
    if max is not None:
        out = pnp.where(pnp.greater(out, max), _bound_like(max, out), out)
    return out


@implements(torch.clamp_min, method="clamp_min")
def clamp_min(input, min):
    return clamp(input, min=min)


@implements(torch.clamp_max, method="clamp_max")
def clamp_max(input, max):
    return clamp(input, max=max)


@implements(torch.round, method="round")
def round_(input, *, decimals=0):
    return pnp.round(input, decimals)


@implements(torch.xlogy, torch.special.xlogy, method="xlogy")
def xlogy(input, other):
    safe = pnp.where(pnp.equal(input, 0), 1, other)
    out = pnp.multiply(input, pnp.log(safe))
    return pnp.where(pnp.equal(input, 0), pnp.zeros_like(out), out)


@implements(torch.where)
def where(condition, input=None, other=None):
    if input is None and other is None:
        raise NotImplementedError("torch.where(condition) (nonzero) has a data-dependent shape and cannot be "
                                  "traced; use the three-argument form torch.where(cond, x, y).")
    if input is None or other is None:
        return pnp.where(condition, input, other)
    dt = result_dtype(input, other)        # torch's promotion of the two branches
    return pnp.where(condition, cast(input, dt), cast(other, dt))


@implements(method="where")
def where_method(input, condition, other):
    """x.where(condition, y): torch.where(condition, x, y)."""
    return where(condition, input, other)


@implements(torch.addcmul, method="addcmul")
def addcmul(input, tensor1, tensor2, *, value=1):
    return pnp.add(input, pnp.multiply(pnp.multiply(tensor1, tensor2), value))


@implements(torch.addcdiv, method="addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1):
    return pnp.add(input, pnp.multiply(pnp.true_divide(tensor1, tensor2), value))


@implements(torch.nan_to_num, method="nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    info = np.finfo(to_np_dtype(input.dtype))
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    x = pnp.where(pnp.isnan(input), nan, input)
    inf = pnp.isinf(x)
    return pnp.where(pnp.logical_and(inf, pnp.greater(x, 0)), hi, pnp.where(inf, lo, x))


@implements(torch.is_floating_point, method="is_floating_point")
def is_floating_point(input):
    return input.dtype.is_floating_point
