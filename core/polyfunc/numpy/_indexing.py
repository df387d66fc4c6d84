"""Indexing: ``x[idx]`` for tracers (ints, slices, None, Ellipsis, integer
arrays), the out-of-place update ``index_update``, take, take_along_axis,
diagonal and diag.

Basic indices become rev/slice/squeeze/expand_dims; integer-array indices
become one gather on the indexed axes merged into one (a flat row-major index).
"""
from __future__ import annotations

import builtins
import operator

import numpy as np  # a constant boolean mask's nonzero positions, on the host

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..trace import Tracer
from ..typing import Array, ArrayLike, IndexLike
from ._axes import norm_axis, prod as _prod
from ._dtypes import (_on, asarray, backend_for, bool_, check_kind, convert, int64, is_array,
                      scalar_array, to_array)

__all__ = ["index_update", "index_add", "take", "take_along_axis", "diagonal", "diag"]


def _is_int(k) -> bool:
    if k.__class__ is int:
        return True
    if k.__class__ is bool or isinstance(k, Tracer) or k.__class__ in (list, tuple) or is_array(k):
        return False
    try:
        operator.index(k)
        return True
    except TypeError:
        return False


def _index_array(k, x):
    """An integer index array (int64) on ``x``'s backend."""
    if not is_array(k):
        k = asarray(k, backend=backend_for(x))
    elif not isinstance(k, Tracer):
        bk, bx = backend_for(k), backend_for(x)
        if bk is not bx and bk.name == "numpy":
            # host NumPy index arrays are accepted like lists (as torch and JAX accept them)
            k = asarray(k, backend=bx)
    a = get_aval(k)
    if a.dtype == bool_:
        raise IndexError("a traced boolean index selects a number of elements that depends on the data, which "
                         "polyfunc does not support; use polyfunc.numpy.where(mask, x, other) instead (a "
                         "constant mask, one not computed from traced values, works).")
    if a.dtype.kind not in "iu":
        raise IndexError(f"arrays used as indices must be of integer type, got {a.dtype}")
    return convert(k, a.dtype, int64)


def _normalise(i, n):
    """Negative indices counted from the end (index arrays cannot be bounds-checked without their values)."""
    return ops.select(ops.lt(i, 0), ops.add(i, n), i)


def _expand_index(idx, nd):
    """The index as a list with one entry per axis of the (None-expanded) array, and the None positions."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    consumed = 0
    ell = None
    for pos, k in enumerate(idx):
        if k is Ellipsis:
            if ell is not None:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ell = pos
        elif k is not None:
            if k.__class__ is bool:
                raise IndexError("boolean scalar indices are not supported; index with an int or a slice")
            consumed += 1
    if consumed > nd:
        raise IndexError(f"too many indices for array: array is {nd}-dimensional, but {consumed} were indexed")
    fill = [slice(None)] * (nd - consumed)
    full = list(idx[:ell]) + fill + list(idx[ell + 1:]) if ell is not None else list(idx) + fill
    new_axes = tuple(p for p, k in enumerate(full) if k is None)
    # an Ellipsis that spans no axis still separates advanced indices (NumPy): remember where it sat
    gap = ell if ell is not None and not fill else None
    return [slice(None) if k is None else k for k in full], new_axes, gap


def _all_bools(seq) -> bool:
    return all(_all_bools(e) if isinstance(e, (list, tuple)) else e.__class__ is bool for e in seq)


def _host_bool_mask(k):
    """``k`` as a host NumPy bool array when it is a constant boolean mask (an array of a backend
    or a list of bools, not a traced value), else None."""
    if isinstance(k, Tracer) or k.__class__ in (bool, int, float, slice) or k is None or k is Ellipsis:
        return None
    if isinstance(k, (list, tuple)):
        if not k or not _all_bools(k):     # (a list may hold tracers: never ask NumPy to read it)
            return None
        return np.asarray(k, dtype=np.bool_)
    if not is_array(k) or get_aval(k).dtype != bool_ or not get_aval(k).shape:
        return None
    return np.asarray(backend_for(k).to_numpy(k))


def _constant_masks(x, idx, shape):
    """``idx`` with each constant boolean mask replaced by the integer arrays of its True positions
    (NumPy's rule): the result's shape is then known before the values are, so a mask that is a
    constant (not traced) works under every transform, as in JAX and torch.func."""
    items = idx if isinstance(idx, tuple) else (idx,)
    masks = [_host_bool_mask(k) for k in items]
    if all(m is None for m in masks):
        return idx
    consumed = [0 if (k is None or k is Ellipsis) else (m.ndim if m is not None else 1) for k, m in zip(items, masks)]
    ell = next((i for i, k in enumerate(items) if k is Ellipsis), None)
    out = []
    b = backend_for(x)
    for i, (k, m) in enumerate(zip(items, masks)):
        if m is None:
            out.append(k)
            continue
        if ell is None or i < ell:
            first = sum(consumed[:i])
        else:
            first = len(shape) - sum(consumed[i:])
        want = tuple(shape[first:first + m.ndim])
        if first < 0 or want != m.shape:
            raise IndexError(f"boolean index of shape {m.shape} does not match the indexed axes of shape "
                             f"{want} (array shape {tuple(shape)}).")
        out.extend(asarray(p.astype(np.int64), backend=b) for p in np.nonzero(m))
    return tuple(out)


def _getitem(x, idx):
    """``x[idx]`` with NumPy's semantics for ints, slices, None, Ellipsis, integer arrays and
    constant boolean masks."""
    x = to_array(x)
    av = get_aval(x)
    idx = _constant_masks(x, idx, av.shape)
    full, new_axes, gap = _expand_index(idx, len(av.shape))
    if new_axes:
        x = ops.expand_dims(x, new_axes)
        av = get_aval(x)
    shape = av.shape
    adv = [p for p, k in enumerate(full) if not isinstance(k, slice) and not _is_int(k)]
    starts, limits, strides, revs, squeeze_axes, ints = [], [], [], [], [], {}
    for p, (k, n) in enumerate(zip(full, shape)):
        if isinstance(k, slice):
            lo, hi, st = k.indices(n)
            m = len(range(lo, hi, st))
            if st < 0:
                revs.append(p)
                lo, st = n - 1 - lo, -st
            if m == 0:
                lo = 0
            starts.append(lo)
            limits.append(lo + (m - 1) * st + 1 if m else lo)
            strides.append(st)
        elif p in adv:
            starts.append(0)
            limits.append(n)
            strides.append(1)
        else:
            i = operator.index(k)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {p} with size {n}")
            i = i + n if i < 0 else i
            if adv:
                # next to an index array an int is an index array too (NumPy's rule)
                ints[p] = i
                starts.append(0)
                limits.append(n)
                strides.append(1)
            else:
                squeeze_axes.append(p)
                starts.append(i)
                limits.append(i + 1)
                strides.append(1)
    if revs:
        x = ops.rev(x, revs)
    if list(starts) != [0] * len(shape) or list(limits) != list(shape) or builtins.any(s != 1 for s in strides):
        x = ops.slice(x, starts, limits, strides)
    if not adv:
        return ops.squeeze(x, squeeze_axes) if squeeze_axes else x
    axes = adv + list(ints)
    split = gap is not None and min(axes) < gap <= max(axes)
    return _advanced(x, {p: _index_array(full[p], x) for p in adv}, ints, split)


def _advanced(x, arrays, ints, split=False):
    """Gather with integer index arrays (and ints) on some axes, placing the
    result axes as NumPy does: in place if the indexed axes are adjacent (and no
    Ellipsis stood between them, ``split``), else in front."""
    shape = get_aval(x).shape
    axes = sorted(list(arrays) + list(ints))
    if len(axes) == 1 and not ints:
        p = axes[0]
        return ops.gather(x, _normalise(arrays[p], shape[p]), p)
    rest = [i for i in range(len(shape)) if i not in axes]
    x = ops.transpose(x, axes + rest)
    sizes = [shape[p] for p in axes]
    x = ops.reshape(x, (_prod(sizes),) + tuple(shape[i] for i in rest))
    flat = None
    offset = 0
    stride = 1
    for p, n in reversed(list(zip(axes, sizes))):
        if p in ints:
            offset += ints[p] * stride
        else:
            term = _normalise(arrays[p], n)
            term = ops.mul(term, stride) if stride != 1 else term
            flat = term if flat is None else ops.add(flat, term)
        stride *= n
    if offset:
        flat = ops.add(flat, offset)
    out = ops.gather(x, flat, 0)
    if not split and axes == list(range(axes[0], axes[0] + len(axes))) and axes[0] > 0:
        # adjacent indexed axes: the index dimensions replace them in place
        k = len(get_aval(flat).shape)
        nd = len(get_aval(out).shape)
        lead = axes[0]
        perm = list(range(k, k + lead)) + list(range(k)) + list(range(k + lead, nd))
        out = ops.transpose(out, perm)
    return out


def _positions(x, idx):
    """The flat positions ``x[idx]`` reads, as an int64 array shaped like ``x[idx]``."""
    av = get_aval(x)
    b = backend_for(x)
    with _on(b):
        flat = ops.iota(int64, (av.size,), 0)
    return _getitem(ops.reshape(flat, av.shape), idx)


def _scatter_flat(x, idx, value, name):
    x = to_array(x)
    av = get_aval(x)
    check_kind(av.dtype, name)
    pos = _positions(x, idx)
    ps = get_aval(pos).shape
    value = to_array(value, x)
    value = ops.broadcast_to(convert(value, get_aval(value).dtype, av.dtype), ps)
    return x, av, ops.reshape(pos, (_prod(ps),)), ops.reshape(value, (_prod(ps),))


def index_update(x: ArrayLike, idx: IndexLike, value: ArrayLike) -> Array:
    """A copy of ``x`` with ``x[idx] = value`` (out of place).  Where an index
    repeats, its updates are averaged (floor of the mean for integers)."""
    x, av, pos, v = _scatter_flat(x, idx, value, "index_update")
    # bool has no arithmetic: work in int64 and compare back
    work = int64 if av.dtype == bool_ else av.dtype
    xf = ops.reshape(convert(x, av.dtype, work), (av.size,))
    v = convert(v, av.dtype, work)
    zeros = ops.full_like(xf, 0, (av.size,), work)
    total = ops.scatter_add(zeros, pos, v, 0)
    count = ops.scatter_add(zeros, pos, ops.full_like(v, 1, get_aval(v).shape, work), 0)
    hit = ops.gt(count, 0)
    # dividing by 1 where nothing lands keeps those entries free of 0/0
    safe = ops.select(hit, count, ops.full_like(count, 1, (av.size,), work))
    new = ops.div(total, safe) if work.kind == "f" else ops.floor_div(total, safe)
    out = ops.select(hit, new, xf)
    if work != av.dtype:
        out = ops.ne(out, 0)
    return ops.reshape(out, av.shape)


def index_add(x: ArrayLike, idx: IndexLike, value: ArrayLike) -> Array:
    """A copy of ``x`` with ``value`` added at ``x[idx]`` (repeated indices accumulate)."""
    x, av, pos, v = _scatter_flat(x, idx, value, "index_add")
    return ops.reshape(ops.scatter_add(ops.reshape(x, (av.size,)), pos, v, 0), av.shape)


def take(a: ArrayLike, indices: ArrayLike, axis: int | None = None) -> Array:
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array if None)."""
    a = to_array(a)
    av = get_aval(a)
    if axis is None:
        a = ops.reshape(a, (av.size,))
        ax = 0
    else:
        ax = norm_axis("take", axis, av.shape)
    n = get_aval(a).shape[ax]
    if _is_int(indices):
        i = operator.index(indices)
        if not -n <= i < n:
            raise IndexError(f"take: index {i} is out of bounds for axis {ax} with size {n}")
        return _getitem(a, (slice(None),) * ax + (i,))
    return ops.gather(a, _normalise(_index_array(indices, a), n), ax)


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None) -> Array:
    """Elements of ``arr`` picked along ``axis`` by ``indices`` (same rank as ``arr``, broadcast elsewhere)."""
    arr = to_array(arr)
    av = get_aval(arr)
    idx = _index_array(indices, arr)
    ia = get_aval(idx)
    if axis is None:
        arr = ops.reshape(arr, (av.size,))
        av = get_aval(arr)
        ax = 0
    else:
        ax = norm_axis("take_along_axis", axis, av.shape)
    if len(ia.shape) != len(av.shape):
        raise ShapeError(f"take_along_axis: indices of shape {ia.shape} need the rank of the array "
                         f"(shape {av.shape})")
    nd = len(av.shape)
    arrays = {}
    b = backend_for(arr)
    for d in range(nd):
        if d == ax:
            arrays[d] = idx
        else:
            shp = [1] * nd
            shp[d] = av.shape[d]
            with _on(b):
                arrays[d] = ops.iota(int64, tuple(shp), d)
    # broadcast the index arrays to one shape (NumPy broadcasts the non-axis dims)
    out_shape = ops.broadcast_shapes(*[get_aval(v).shape for v in arrays.values()])
    arrays = {d: ops.broadcast_to(v, out_shape) for d, v in arrays.items()}
    return _advanced(arr, arrays, {}) if nd > 1 else ops.gather(arr, _normalise(idx, av.shape[0]), 0)


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """The ``offset`` diagonal of the ``axis1``/``axis2`` plane, as the last axis."""
    a = to_array(a)
    av = get_aval(a)
    if len(av.shape) < 2:
        raise ShapeError(f"diagonal: needs at least two dimensions, got shape {av.shape}")
    i = norm_axis("diagonal", axis1, av.shape)
    j = norm_axis("diagonal", axis2, av.shape)
    if i == j:
        raise ShapeError("diagonal: axis1 and axis2 cannot be the same")
    rest = [d for d in range(len(av.shape)) if d not in (i, j)]
    x = ops.transpose(a, rest + [i, j])
    n, m = av.shape[i], av.shape[j]
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(builtins.min(n - r0, m - c0), 0)
    lead = tuple(av.shape[d] for d in rest)
    x = ops.reshape(x, lead + (n * m,))
    with _ons(a):
        k = ops.iota(int64, (length,), 0)
    # element t of the diagonal sits at row r0 + t, column c0 + t
    flat = ops.add(ops.mul(k, m + 1), r0 * m + c0) if length else k
    return ops.gather(x, flat, len(lead))


def _ons(a):
    return _on(backend_for(a))


def diag(v: ArrayLike, k: int = 0) -> Array:

    """The ``k``-th diagonal of a 2-D array, or a 2-D array with the 1-D ``v`` on its ``k``-th diagonal."""
    v = to_array(v)
    va = get_aval(v)
    if len(va.shape) == 2:
        return diagonal(v, k)
    if len(va.shape) != 1:
        raise ShapeError(f"diag: input must be 1-D or 2-D, got shape {va.shape}")
    m = va.shape[0]
    n = m + builtins.abs(k)
    vp = ops.pad(v, 0, [(0, builtins.abs(k), 0)])
    with _ons(v):
        d = ops.sub(ops.iota(int64, (n, n), 1), ops.iota(int64, (n, n), 0))
    # row i holds v[i] for k >= 0; column j holds v[j] for k < 0
    vals = ops.reshape(vp, (n, 1) if k >= 0 else (1, n))
    return ops.select(ops.eq(d, k), ops.broadcast_to(vals, (n, n)), scalar_array(0, v, va.dtype))
