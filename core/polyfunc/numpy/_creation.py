"""Array creation: asarray, zeros/ones/full (and their *_like), arange, linspace, eye."""
from __future__ import annotations

import math

import numpy as np  # dtypes only

from .. import ops
from ..avals import get_aval
from ..typing import Array, ArrayLike, BackendLike, DTypeLike, ShapeLike
from ._axes import norm_shape
from ._dtypes import (DEFAULT_FLOAT, DEFAULT_INT, PY_SCALARS, _on, _pick_backend, asarray, bool_, canonical_dtype,
                      float64, foreign_target, int64, is_array, scalar_dtype)
from ._elementwise import add, floor, multiply, subtract, where
from ._shape import expand_dims, moveaxis

__all__ = ["asarray", "array", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "eye", "identity", "tri"]


_zero_like: dict = {}


def _anchor(backend):
    """A cached 0-d array of ``backend``: the ``like`` operand of full_like."""
    a = _zero_like.get(backend)
    if a is None:
        a = _zero_like[backend] = backend.asarray(0)
    return a


def _full(shape, value, dtype, backend):
    return ops.full_like(_anchor(backend), value, shape, dtype)


def array(obj: ArrayLike, dtype: DTypeLike = None, copy: bool | None = True, backend: BackendLike = None,
          like: ArrayLike | None = None) -> Array:
    """Like asarray (polyfunc arrays are never written in place, so copying is moot)."""
    return asarray(obj, dtype=dtype, backend=backend, like=like)


def _dt(dtype, default, name):
    return default if dtype is None else canonical_dtype(dtype, name)


def zeros(shape: ShapeLike, dtype: DTypeLike = None, backend: BackendLike = None, like: ArrayLike | None = None) -> Array:
    """An array of zeros (float64 by default)."""
    return _full(norm_shape("zeros", shape), 0, _dt(dtype, float64, "zeros"), _pick_backend(backend, like))


def ones(shape: ShapeLike, dtype: DTypeLike = None, backend: BackendLike = None, like: ArrayLike | None = None) -> Array:
    """An array of ones (float64 by default)."""
    return _full(norm_shape("ones", shape), 1, _dt(dtype, float64, "ones"), _pick_backend(backend, like))


def empty(shape: ShapeLike, dtype: DTypeLike = None, backend: BackendLike = None, like: ArrayLike | None = None) -> Array:
    """An array of the given shape; its values are zeros (there is no uninitialised memory here)."""
    return zeros(shape, dtype, backend, like)


def full(shape: ShapeLike, fill_value: ArrayLike, dtype: DTypeLike = None, backend: BackendLike = None,
         like: ArrayLike | None = None) -> Array:
    """An array filled with ``fill_value`` (a scalar, or an array broadcast to ``shape``)."""
    shape = norm_shape("full", shape)
    if fill_value.__class__ in PY_SCALARS:
        dt = scalar_dtype(fill_value) if dtype is None else canonical_dtype(dtype, "full")
        return _full(shape, fill_value, dt, _pick_backend(backend, like))
    v = asarray(fill_value, dtype, backend=backend, like=like)
    return ops.broadcast_to(v, shape)


def _like(name, a, dtype, shape):
    if not is_array(a) or foreign_target(a) is not None:
        # a list, or a concrete array of a backend other than the selected one: the result is
        # made on the selected backend, as asarray would make it
        a = asarray(a)
    av = get_aval(a)
    dt = av.dtype if dtype is None else canonical_dtype(dtype, name)
    return a, dt, (av.shape if shape is None else norm_shape(name, shape))


def zeros_like(a: ArrayLike, dtype: DTypeLike = None, shape: ShapeLike | None = None) -> Array:
    """Zeros with ``a``'s shape and dtype, on the selected backend (``use_backend``,
    ``POLYFUNC_BACKEND``) if one is selected, else on ``a``'s, as ``asarray`` chooses."""
    a, dt, s = _like("zeros_like", a, dtype, shape)
    return ops.full_like(a, 0, s, dt)


def ones_like(a: ArrayLike, dtype: DTypeLike = None, shape: ShapeLike | None = None) -> Array:
    """Ones with ``a``'s shape and dtype, on the selected backend (``use_backend``,
    ``POLYFUNC_BACKEND``) if one is selected, else on ``a``'s, as ``asarray`` chooses."""
    a, dt, s = _like("ones_like", a, dtype, shape)
    return ops.full_like(a, 1, s, dt)


def empty_like(a: ArrayLike, dtype: DTypeLike = None, shape: ShapeLike | None = None) -> Array:
    """Like zeros_like."""
    return zeros_like(a, dtype, shape)


def full_like(a: ArrayLike, fill_value: ArrayLike, dtype: DTypeLike = None, shape: ShapeLike | None = None) -> Array:
    """``fill_value`` in ``a``'s shape and dtype, on the backend ``zeros_like`` chooses."""
    a, dt, s = _like("full_like", a, dtype, shape)
    if fill_value.__class__ in PY_SCALARS:
        if dt.kind in "iub" and fill_value.__class__ is float:
            fill_value = dt.type(fill_value).item()  # NumPy truncates the fill value to the dtype
        return ops.full_like(a, fill_value, s, dt)
    v = asarray(fill_value, dt, like=a)
    return ops.broadcast_to(v, s)


def _iota(n, dtype, backend):
    with _on(backend):
        return ops.iota(dtype, (n,), 0)


def arange(start: float, stop: float | None = None, step: float | None = None, dtype: DTypeLike = None,
           backend: BackendLike = None, like: ArrayLike | None = None) -> Array:
    """Evenly spaced values in [start, stop) with ``step`` (int64 for integer arguments, else float64)."""
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    for v in (start, stop, step):
        if is_array(v):
            raise TypeError("arange: start, stop and step must be Python numbers (the length of the "
                            "result must be known); got an array.")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    all_int = all(isinstance(v, int) for v in (start, stop, step))
    dt = (DEFAULT_INT if all_int else DEFAULT_FLOAT) if dtype is None else canonical_dtype(dtype, "arange")
    n = max(-(-(stop - start) // step), 0) if all_int else max(math.ceil((stop - start) / step), 0)
    b = _pick_backend(backend, like)
    if all_int and dt.kind in "iu":
        r = _iota(n, dt, b)
        if step != 1:
            r = ops.mul(r, step)
        return ops.add(r, start) if start != 0 else r
    if dt.kind in "iu":
        # NumPy casts the first two values to the integer dtype and steps by their difference
        first = int(start)
        delta = int(start + step) - first
        r = _iota(n, dt, b)
        r = ops.mul(r, delta) if delta != 1 else r
        return ops.add(r, first) if first else r
    # compute in float64 and round once to the target dtype, as NumPy does
    r = _iota(n, float64, b)
    if step != 1:
        r = ops.mul(r, float(step))
    if start != 0:
        r = ops.add(r, float(start))
    return r if dt == float64 else ops.convert_element_type(r, dt)


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: DTypeLike = None, axis: int = 0, backend: BackendLike = None,
             like: ArrayLike | None = None) -> Array | tuple[Array, float | Array]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (float64 unless ``dtype`` says otherwise);
    with ``retstep``, the pair (values, step)."""
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    div = (num - 1) if endpoint else num
    scalars = start.__class__ in PY_SCALARS and stop.__class__ in PY_SCALARS
    b = _pick_backend(backend, like if like is not None else next(
        (v for v in (start, stop) if is_array(v)), None))
    dt = None if dtype is None else canonical_dtype(dtype, "linspace")
    i = _iota(num, float64, b)
    if scalars:
        start, stop = float(start), float(stop)
        step = (stop - start) / div if div > 0 else math.nan
        y = ops.add(ops.mul(i, step), start) if div > 0 else ops.add(ops.mul(i, stop - start), start)
        if endpoint and num > 1:
            # the last value is exactly ``stop``
            y = ops.select(ops.eq(i, float(num - 1)), ops.full_like(y, stop, (num,), float64), y)
    else:
        start = asarray(start, backend=b)
        stop = asarray(stop, backend=b)
        fdt = canonical_dtype(np.result_type(get_aval(start).dtype, get_aval(stop).dtype, float))
        start, stop = asarray(start, fdt), asarray(stop, fdt)
        delta = subtract(stop, start)
        nd = max(len(get_aval(start).shape), len(get_aval(stop).shape))
        ii = ops.reshape(ops.convert_element_type(i, fdt), (num,) + (1,) * nd)
        step = ops.div(delta, float(div)) if div > 0 else ops.mul(delta, math.nan)
        y = add(multiply(ii, step if div > 0 else delta), start)
        if endpoint and num > 1:
            y = where(ops.eq(ii, float(num - 1)), expand_dims(stop, 0), y)
        if axis != 0:
            y = moveaxis(y, 0, axis)
    out_dt = dt if dt is not None else get_aval(y).dtype
    if out_dt.kind in "iub" and out_dt != bool_:
        y = floor(y)  # NumPy 2 floors before casting to an integer dtype
    y = y if get_aval(y).dtype == out_dt else ops.convert_element_type(y, out_dt)
    return (y, step) if retstep else y


def eye(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None, backend: BackendLike = None,
        like: ArrayLike | None = None) -> Array:
    """A 2-D array with ones on the ``k``-th diagonal and zeros elsewhere."""
    return _diagonal_mask("eye", ops.eq, N, M, k, dtype, backend, like)


def _diagonal_mask(name, compare, N, M, k, dtype, backend, like):
    """``compare(column - row, k)`` over an N x M grid, as ``dtype`` (float64 by default)."""
    M = N if M is None else M
    dt = _dt(dtype, float64, name)
    with _on(_pick_backend(backend, like)):
        rows = ops.iota(int64, (N, M), 0)
        cols = ops.iota(int64, (N, M), 1)
    return ops.convert_element_type(compare(ops.sub(cols, rows), k), dt)


def identity(n: int, dtype: DTypeLike = None, backend: BackendLike = None, like: ArrayLike | None = None) -> Array:
    """The ``n`` by ``n`` identity matrix."""
    return eye(n, dtype=dtype, backend=backend, like=like)


def tri(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None, backend: BackendLike = None,
        like: ArrayLike | None = None) -> Array:

    """Ones at and below the ``k``-th diagonal."""
    return _diagonal_mask("tri", ops.le, N, M, k, dtype, backend, like)
