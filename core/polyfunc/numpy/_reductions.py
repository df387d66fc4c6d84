"""Reductions and scans: sum, mean, var, std, prod, max, min, argmax, argmin,
cumsum, all, any, count_nonzero, with NumPy's dtype rules (integer sums
accumulate in 64 bits, means of integers are float64)."""
from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Protocol

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, Axis, DTypeLike, Scalar
from ._axes import norm_axes, norm_axis, prod as _prod
from ._dtypes import (bool_, canonical_dtype, check_kind, convert, float16, float32, float64, int64, to_array,
                      uint64)
from ._elementwise import isnan, maximum, minimum, subtract
from ._indexing import diagonal, take_along_axis

__all__ = ["sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "argsort", "sort",
           "cumsum", "cumprod",
           "all", "any", "count_nonzero", "nanmax", "nanmin", "ptp", "trace"]


def _acc_dtype(d):
    """The dtype NumPy sums and multiplies ``d`` in: small integers and bool widen to 64 bits."""
    if d.kind == "b" or (d.kind == "i" and d.itemsize < 8):
        return int64
    if d.kind == "u" and d.itemsize < 8:
        return uint64
    return d


def _prep(name, a, axis):
    a = to_array(a)
    av = get_aval(a)
    check_kind(av.dtype, name)
    return a, av, norm_axes(name, axis, av.shape)


def _keep(y, axes, keepdims):
    if not keepdims or not axes:
        return y
    # a reshape is cheaper than expand_dims on most backends
    shape = list(get_aval(y).shape)
    for a in axes:
        shape.insert(a, 1)
    return ops.reshape(y, shape)


class _Accumulating(Protocol):
    """The signature of sum and prod."""

    def __call__(self, a: ArrayLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False) -> Array: ...


def _accumulating(name: str, reduce: Callable, doc: str) -> _Accumulating:
    """sum and prod: NumPy's accumulator dtype (bool and small ints widen), then the reduction."""
    def f(a: ArrayLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False) -> Array:
        a, av, axes = _prep(name, a, axis)
        dt = _acc_dtype(av.dtype) if dtype is None else canonical_dtype(dtype, name)
        a = convert(a, av.dtype, dt)
        if not axes:
            return a
        return _keep(reduce(a, axes), axes, keepdims)
    f.__name__, f.__qualname__, f.__doc__ = name, name, doc
    return f


sum = _accumulating("sum", ops.reduce_sum, "Sum over ``axis`` (all axes if None).")
prod = _accumulating("prod", ops.reduce_prod, "Product over ``axis`` (all axes if None).")


def _mean_dtypes(name, d, dtype):
    """(result dtype, accumulation dtype) of a mean: integers give float64; float16 accumulates in float32."""
    out = (float64 if d.kind in "biu" else d) if dtype is None else canonical_dtype(dtype, name)
    if out.kind not in "fc":
        return out, float64
    return out, (float32 if out == float16 else out)


def mean(a: ArrayLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False) -> Array:
    """Arithmetic mean over ``axis``."""
    a, av, axes = _prep("mean", a, axis)
    out_dt, acc = _mean_dtypes("mean", av.dtype, dtype)
    a = convert(a, av.dtype, acc)
    n = _prod(av.shape[i] for i in axes)
    s = ops.reduce_sum(a, axes) if axes else a
    m = ops.div(s, float(n))
    return _keep(convert(m, acc, out_dt), axes, keepdims)


def var(a: ArrayLike, axis: Axis = None, dtype: DTypeLike = None, ddof: int = 0, keepdims: bool = False) -> Array:
    """Variance over ``axis``, dividing by ``n - ddof``."""
    a, av, axes = _prep("var", a, axis)
    out_dt, acc = _mean_dtypes("var", av.dtype, dtype)
    a = convert(a, av.dtype, acc)
    n = _prod(av.shape[i] for i in axes)
    if not axes:
        m = a
    else:
        m = ops.expand_dims(ops.div(ops.reduce_sum(a, axes), float(n)), axes)
    d = ops.sub(a, m)
    if get_aval(d).dtype.kind == "c":
        # |d|^2 = re^2 + im^2: the variance of complex numbers is real, as in NumPy
        re, im = ops.real(d), ops.imag(d)
        s = ops.add(ops.mul(re, re), ops.mul(im, im))
        acc, out_dt = ops.real_dtype(acc), ops.real_dtype(out_dt)
    else:
        s = ops.mul(d, d)
    if axes:
        s = ops.reduce_sum(s, axes)
    if n == 0:
        # a sum over nothing is the constant 0: the value is 0/0 (NaN, as NumPy), its derivative 0
        s = ops.stop_gradient(s)
    v = ops.div(s, float(builtins.max(n - ddof, 0)))
    return _keep(convert(v, acc, out_dt), axes, keepdims)


def std(a: ArrayLike, axis: Axis = None, dtype: DTypeLike = None, ddof: int = 0, keepdims: bool = False) -> Array:
    """Standard deviation over ``axis``, dividing by ``n - ddof``."""
    a, av, axes = _prep("std", a, axis)
    out_dt, acc = _mean_dtypes("std", av.dtype, dtype)
    v = var(a, axis=axes, dtype=acc, ddof=ddof, keepdims=keepdims)
    acc, out_dt = ops.real_dtype(acc), ops.real_dtype(out_dt)
    # at zero variance (constant data, or one element) sqrt's derivative is infinite and meets a
    # zero: the gradient is taken as 0 there instead of NaN (as for abs at 0). ``ne``, not ``gt``: the
    # variance of nothing is NaN, and so is its square root
    pos = ops.ne(v, 0)
    safe = ops.select(pos, v, ops.full_like(v, 1, get_aval(v).shape, get_aval(v).dtype))
    s = ops.select(pos, ops.sqrt(safe), ops.full_like(v, 0, get_aval(v).shape, get_aval(v).dtype))
    return convert(s, acc, out_dt)


def _extremum(name, prim, pick, a, axis, keepdims, initial):
    a, av, axes = _prep(name, a, axis)
    if not axes:
        out = a
    elif builtins.any(av.shape[i] == 0 for i in axes):
        if initial is None:
            raise ShapeError(f"{name}: the reduction runs over an axis of size 0 (shape {av.shape}), "
                             f"which has no {name}; pass initial=... to give the empty case a value.")
        shape = tuple(n for i, n in enumerate(av.shape) if i not in axes)
        return _keep(ops.full_like(a, initial, shape, av.dtype), axes, keepdims)
    else:
        out = prim(a, axes)
    if initial is not None:
        out = pick(out, initial)
    return _keep(out, axes, keepdims)


def max(a: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: Scalar | None = None) -> Array:
    """Maximum over ``axis`` (NaN propagates)."""
    return _extremum("max", ops.reduce_max, maximum, a, axis, keepdims, initial)


def min(a: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: Scalar | None = None) -> Array:
    """Minimum over ``axis`` (NaN propagates)."""
    return _extremum("min", ops.reduce_min, minimum, a, axis, keepdims, initial)


amax, amin = max, min


def ptp(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Range (maximum minus minimum) over ``axis``."""
    return subtract(max(a, axis, keepdims), min(a, axis, keepdims))


def _nan_extremum(name, prim, a, axis, keepdims, fill):
    a = to_array(a)
    av = get_aval(a)
    if av.dtype.kind != "f":
        return prim(a, axis=axis, keepdims=keepdims)
    safe = ops.select(isnan(a), ops.full_like(a, fill, av.shape, av.dtype), a)
    out = prim(safe, axis=axis, keepdims=keepdims)
    # an all-NaN slice gives NaN, as in NumPy
    all_nan = all(isnan(a), axis=axis, keepdims=keepdims)
    return ops.select(all_nan, ops.full_like(out, float("nan"), get_aval(out).shape, av.dtype), out)


def nanmax(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Maximum over ``axis`` ignoring NaN."""
    return _nan_extremum("nanmax", max, a, axis, keepdims, float("-inf"))


def nanmin(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Minimum over ``axis`` ignoring NaN."""
    return _nan_extremum("nanmin", min, a, axis, keepdims, float("inf"))


def _arg(name, prim, a, axis, keepdims):
    a = to_array(a)
    av = get_aval(a)
    check_kind(av.dtype, name)
    if axis is None:
        if av.size == 0:
            raise ShapeError(f"{name}: attempt to get {name} of an empty array (shape {av.shape})")
        out = prim(ops.reshape(a, (av.size,)), 0, int64)
        return ops.reshape(out, (1,) * len(av.shape)) if keepdims else out
    ax = norm_axis(name, axis, av.shape)
    if av.shape[ax] == 0:
        raise ShapeError(f"{name}: attempt to get {name} along axis {axis} of size 0 (shape {av.shape})")
    out = prim(a, ax, int64)
    return ops.expand_dims(out, (ax,)) if keepdims else out


def argmax(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the maximum along ``axis`` (of the flattened array if None); the first one on ties."""
    return _arg("argmax", ops.argmax, a, axis, keepdims)


def argmin(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the minimum along ``axis`` (of the flattened array if None); the first one on ties."""
    return _arg("argmin", ops.argmin, a, axis, keepdims)


def _sort_axis(name, a, axis):
    a = to_array(a)
    av = get_aval(a)
    if axis is None:                       # NumPy: sort the flattened array
        return ops.reshape(a, (av.size,)), 0
    if not av.shape:
        raise ShapeError(f"{name}: a 0-d array has no axis to sort along; pass axis=None")
    return a, norm_axis(name, axis, av.shape)


def argsort(a: ArrayLike, axis: int | None = -1, kind: str | None = None, order: None = None, *,
            stable: bool | None = None) -> Array:
    """Indices that sort ``a`` along ``axis`` (of the flattened array if None).  Always stable:
    equal elements keep their order, whatever ``kind`` asks for."""
    if order is not None:
        raise TypeError("argsort: order= (structured arrays) is not supported")
    a, ax = _sort_axis("argsort", a, axis)
    return _argsort(a, ax)


def _argsort(a, ax):
    """Stable argsort; complex numbers in NumPy's lexicographic order (real part, then imaginary)."""
    if get_aval(a).dtype.kind != "c":
        return ops.argsort(a, ax)
    by_imag = ops.argsort(ops.imag(a), ax)
    # a stable sort by the real part of the imag-sorted values keeps ties in imaginary order
    return take_along_axis(by_imag, ops.argsort(take_along_axis(ops.real(a), by_imag, ax), ax), ax)


def sort(a: ArrayLike, axis: int | None = -1, kind: str | None = None, order: None = None, *,
         stable: bool | None = None) -> Array:
    """``a`` sorted along ``axis`` (of the flattened array if None); differentiable: the
    gradient of each output element flows to the input element it came from."""
    if order is not None:
        raise TypeError("sort: order= (structured arrays) is not supported")
    a, ax = _sort_axis("sort", a, axis)
    return take_along_axis(a, _argsort(a, ax), ax)


def _scan_operand(name, a, axis, dtype):
    """``a`` (flattened if axis is None) in the dtype a cumulative op accumulates in, and the axis."""
    a = to_array(a)
    av = get_aval(a)
    check_kind(av.dtype, name)
    if axis is None:
        a = ops.reshape(a, (av.size,))
        ax = 0
    else:
        ax = norm_axis(name, axis, av.shape)
    dt = _acc_dtype(av.dtype) if dtype is None else canonical_dtype(dtype, name)
    return convert(a, av.dtype, dt), ax


def cumsum(a: ArrayLike, axis: int | None = None, dtype: DTypeLike = None) -> Array:
    """Cumulative sum along ``axis`` (of the flattened array if None)."""
    return ops.cumsum(*_scan_operand("cumsum", a, axis, dtype))


def cumprod(a: ArrayLike, axis: int | None = None, dtype: DTypeLike = None) -> Array:
    """Cumulative product along ``axis`` (of the flattened array if None): a log-depth scan of
    mul (``ops.prefix_scan``), so it is differentiable, zeros included."""
    y, ax = _scan_operand("cumprod", a, axis, dtype)
    return ops.prefix_scan(ops.mul, y, ax, 1)


def _truth(name, a, axis):
    a, av, axes = _prep(name, a, axis)
    return convert(a, av.dtype, bool_), av, axes


def _bool_reduce(name, reduce, empty, a, axis, keepdims):
    b, av, axes = _truth(name, a, axis)
    if not axes:
        return b
    if builtins.any(av.shape[i] == 0 for i in axes):   # NumPy: all() of nothing is True, any() False
        shape = tuple(n for i, n in enumerate(av.shape) if i not in axes)
        return _keep(ops.full_like(b, empty, shape, bool_), axes, keepdims)
    return _keep(reduce(b, axes), axes, keepdims)


def all(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Whether every element along ``axis`` is true (nonzero)."""
    return _bool_reduce("all", ops.reduce_min, True, a, axis, keepdims)


def any(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Whether some element along ``axis`` is true (nonzero)."""
    return _bool_reduce("any", ops.reduce_max, False, a, axis, keepdims)


def count_nonzero(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Number of nonzero elements along ``axis`` (int64)."""
    b, av, axes = _truth("count_nonzero", a, axis)
    return sum(b, axis=axes, keepdims=keepdims)


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: DTypeLike = None) -> Array:

    """Sum along the ``offset`` diagonal of the ``axis1``/``axis2`` plane."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)
