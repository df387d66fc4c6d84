"""Shape manipulation: reshape, transpose, moveaxis, squeeze, broadcasting,
joining and splitting, flip, roll, tile, repeat, pad, triu/tril, astype."""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Literal

import numpy as np

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, Axis, DTypeLike, Ints, Scalar, ShapeLike
from ._axes import norm_axes, norm_axis, prod as _prod
from ._dtypes import (_on, asarray, backend_for, canonical_dtype, check_kind, convert, int64, is_array,
                      promote_arrays, scalar_array, to_array)
from ._elementwise import not_equal, subtract
from ._indexing import take

__all__ = ["reshape", "ravel", "transpose", "permute_dims", "moveaxis", "swapaxes", "expand_dims", "squeeze",
           "broadcast_to", "broadcast_arrays", "broadcast_shapes", "concatenate", "concat", "stack", "hstack",
           "vstack", "dstack", "column_stack", "split", "array_split", "flip", "fliplr", "flipud", "roll",
           "tile", "repeat", "triu", "tril", "atleast_1d", "atleast_2d", "atleast_3d", "pad", "diff",
           "shape", "ndim", "size", "astype"]


def _arr(a):
    a = to_array(a)
    return a, get_aval(a)


def shape(a: ArrayLike) -> tuple[int, ...]:
    """The shape of ``a`` as a tuple."""
    return get_aval(to_array(a)).shape


def ndim(a: ArrayLike) -> int:
    """The number of dimensions of ``a``."""
    return len(shape(a))


def size(a: ArrayLike, axis: int | None = None) -> int:
    """The number of elements of ``a`` (along ``axis`` if given)."""
    s = shape(a)
    return _prod(s) if axis is None else s[norm_axis("size", axis, s)]


def astype(x: ArrayLike, dtype: DTypeLike, copy: bool = True) -> Array:
    """``x`` converted to ``dtype``."""
    x, av = _arr(x)
    return convert(x, av.dtype, canonical_dtype(dtype, "astype"))


def reshape(a: ArrayLike, newshape: ShapeLike | None = None, order: str = "C", *, shape: ShapeLike | None = None) -> Array:
    """``a`` with a new shape of the same size; one entry may be -1."""
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported")
    ns = shape if newshape is None else newshape
    if ns is None:
        raise TypeError("reshape: give the new shape")
    a, av = _arr(a)
    ns = tuple(int(d) for d in ns) if isinstance(ns, (tuple, list)) else (int(ns),)
    if -1 in ns:
        if ns.count(-1) > 1:
            raise ShapeError(f"reshape: can only specify one unknown dimension (-1), got {ns}")
        known = _prod(d for d in ns if d != -1)
        if known == 0 or av.size % known:
            raise ShapeError(f"reshape: cannot reshape an array of shape {av.shape} (size {av.size}) into {ns}")
        ns = tuple(av.size // known if d == -1 else d for d in ns)
    if _prod(ns) != av.size or builtins.any(d < 0 for d in ns):
        raise ShapeError(f"reshape: cannot reshape an array of shape {av.shape} (size {av.size}) into {ns}")
    return ops.reshape(a, ns)


def ravel(a: ArrayLike, order: str = "C") -> Array:
    """``a`` flattened to one dimension."""
    a, av = _arr(a)
    return ops.reshape(a, (av.size,))


def transpose(a: ArrayLike, axes: Sequence[int] | None = None) -> Array:
    """``a`` with its axes permuted (reversed if ``axes`` is None)."""
    a, av = _arr(a)
    nd = len(av.shape)
    if axes is None:
        perm = tuple(range(nd - 1, -1, -1))
    else:
        perm = tuple(norm_axis("transpose", x, av.shape) for x in axes)
        if sorted(perm) != list(range(nd)):
            raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of the {nd} axes of shape "
                             f"{av.shape}")
    return ops.transpose(a, perm)


permute_dims = transpose


def _seq(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def moveaxis(a: ArrayLike, source: Ints, destination: Ints) -> Array:
    """``a`` with the axes ``source`` moved to positions ``destination``."""
    a, av = _arr(a)
    src = [norm_axis("moveaxis", s, av.shape) for s in _seq(source)]
    dst = [norm_axis("moveaxis", d, av.shape) for d in _seq(destination)]
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} have different lengths")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    order = [i for i in range(len(av.shape)) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return ops.transpose(a, order)


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> Array:
    """``a`` with two axes exchanged."""
    a, av = _arr(a)
    i, j = norm_axis("swapaxes", axis1, av.shape), norm_axis("swapaxes", axis2, av.shape)
    perm = list(range(len(av.shape)))
    perm[i], perm[j] = j, i
    return ops.transpose(a, perm)


def expand_dims(a: ArrayLike, axis: Ints) -> Array:
    """``a`` with new size-1 axes at the positions ``axis`` of the result."""
    a, av = _arr(a)
    out_shape = (1,) * (len(av.shape) + len(_seq(axis)))
    dims = norm_axes("expand_dims", axis if isinstance(axis, (tuple, list)) else (axis,), out_shape)
    return ops.expand_dims(a, dims)


def squeeze(a: ArrayLike, axis: Axis = None) -> Array:
    """``a`` without its size-1 axes (only those in ``axis`` if given)."""
    a, av = _arr(a)
    if axis is None:
        dims = tuple(i for i, n in enumerate(av.shape) if n == 1)
    else:
        dims = norm_axes("squeeze", axis, av.shape)
        for d in dims:
            if av.shape[d] != 1:
                raise ShapeError(f"squeeze: cannot remove axis {d} of shape {av.shape}: its size is not 1")
    return ops.squeeze(a, dims)


def broadcast_shapes(*shapes: ShapeLike) -> tuple[int, ...]:
    """The shape NumPy broadcasting gives ``shapes``."""
    return ops.broadcast_shapes(*[tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in shapes])


def broadcast_to(array: ArrayLike, shape: ShapeLike) -> Array:
    """``array`` broadcast to ``shape``."""
    a, av = _arr(array)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if len(shape) < len(av.shape) or builtins.any(
            n not in (1, m) for n, m in zip(av.shape, shape[len(shape) - len(av.shape):])):
        raise ShapeError(f"broadcast_to: cannot broadcast an array of shape {av.shape} to shape {shape}")
    return ops.broadcast_to(a, shape)


def broadcast_arrays(*args: ArrayLike) -> list[Array]:
    """The arrays broadcast against each other."""
    arrs = [to_array(a) for a in args]
    s = ops.broadcast_shapes(*[get_aval(a).shape for a in arrs])
    return [ops.broadcast_to(a, s) for a in arrs]


def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0, dtype: DTypeLike = None) -> Array:
    """The arrays joined along an existing axis (flattened first if ``axis`` is None)."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("concatenate: need at least one array")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    arrays, dt = promote_arrays("concatenate", arrays)
    if dtype is not None:
        d = canonical_dtype(dtype, "concatenate")
        arrays = [convert(a, dt, d) for a in arrays]
    shapes = [get_aval(a).shape for a in arrays]
    nd = len(shapes[0])
    if nd == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    ax = norm_axis("concatenate", axis, shapes[0])
    for s in shapes:
        if len(s) != nd or builtins.any(m != n for i, (m, n) in enumerate(zip(s, shapes[0])) if i != ax):
            raise ShapeError(f"concatenate: shapes {shapes} do not match except along axis {axis}")
    return ops.concatenate(arrays, ax)


concat = concatenate


def stack(arrays: Sequence[ArrayLike], axis: int = 0, dtype: DTypeLike = None) -> Array:
    """The arrays (all of one shape) joined along a new axis."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("stack: need at least one array")
    arrays, dt = promote_arrays("stack", arrays)
    shapes = [get_aval(a).shape for a in arrays]
    if builtins.any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack: all arrays must have the same shape, got {shapes}")
    ax = norm_axis("stack", axis, (1,) * (len(shapes[0]) + 1))
    out = ops.concatenate([ops.expand_dims(a, (ax,)) for a in arrays], ax)
    return out if dtype is None else astype(out, dtype)


def atleast_1d(*arys: ArrayLike) -> Array | list[Array]:
    """Each input with at least one dimension (one array for one input, else a list)."""
    out = [to_array(a) for a in arys]
    out = [ops.reshape(a, (1,)) if not get_aval(a).shape else a for a in out]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: ArrayLike) -> Array | list[Array]:
    """Each input with at least two dimensions (new axes in front); one array for one input, else a list."""
    out = []
    for a in arys:
        a, av = _arr(a)
        if len(av.shape) < 2:
            a = ops.reshape(a, (1,) * (2 - len(av.shape)) + av.shape)
        out.append(a)
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: ArrayLike) -> Array | list[Array]:
    """Each input with at least three dimensions (as NumPy places the new axes); one array for one
    input, else a list."""
    out = []
    for a in arys:
        a, av = _arr(a)
        s = av.shape
        if len(s) == 0:
            a = ops.reshape(a, (1, 1, 1))
        elif len(s) == 1:
            a = ops.reshape(a, (1, s[0], 1))
        elif len(s) == 2:
            a = ops.reshape(a, s + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else out


def _listify(x):
    return x if isinstance(x, list) else [x]


def hstack(tup: Sequence[ArrayLike], dtype: DTypeLike = None) -> Array:
    """Arrays joined column-wise (along axis 0 for 1-D inputs, else axis 1)."""
    arrs = _listify(atleast_1d(*tup))
    return concatenate(arrs, 0 if len(get_aval(arrs[0]).shape) == 1 else 1, dtype=dtype)


def vstack(tup: Sequence[ArrayLike], dtype: DTypeLike = None) -> Array:
    """Arrays joined row-wise (1-D inputs become rows)."""
    return concatenate(_listify(atleast_2d(*tup)), 0, dtype=dtype)


def dstack(tup: Sequence[ArrayLike]) -> Array:
    """Arrays joined along the third axis."""
    return concatenate(_listify(atleast_3d(*tup)), 2)


def column_stack(tup: Sequence[ArrayLike]) -> Array:
    """1-D arrays as columns of a 2-D array (2-D arrays joined as they are)."""
    arrs = []
    for a in tup:
        a, av = _arr(a)
        arrs.append(ops.reshape(a, (av.shape[0] if av.shape else 1, 1)) if len(av.shape) < 2 else a)
    return concatenate(arrs, 1)


def _slice_axis(a, shape, axis, start, stop):
    starts = [0] * len(shape)
    limits = list(shape)
    starts[axis], limits[axis] = start, stop
    return ops.slice(a, starts, limits)


def _split(name, ary, indices_or_sections, axis, equal):
    a, av = _arr(ary)
    ax = norm_axis(name, axis, av.shape)
    n = av.shape[ax]
    if isinstance(indices_or_sections, (tuple, list)):
        cuts = [builtins.min(builtins.max(i + n if i < 0 else i, 0), n) for i in indices_or_sections]
        bounds = list(zip([0] + cuts, cuts + [n]))
    else:
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"{name}: number of sections must be larger than 0")
        if equal and n % k:
            raise ShapeError(f"{name}: an axis of size {n} does not split into {k} equal sections; "
                             f"use array_split for unequal sections")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        starts = [builtins.sum(sizes[:i]) for i in range(k)]
        bounds = [(s, s + z) for s, z in zip(starts, sizes)]
    return [_slice_axis(a, av.shape, ax, builtins.max(lo, 0), builtins.max(hi, lo)) for lo, hi in bounds]


def split(ary: ArrayLike, indices_or_sections: Ints, axis: int = 0) -> list[Array]:
    """``ary`` cut into equal sections, or at the given indices, along ``axis``."""
    return _split("split", ary, indices_or_sections, axis, True)


def array_split(ary: ArrayLike, indices_or_sections: Ints, axis: int = 0) -> list[Array]:
    """Like split, but the sections may differ in size by one."""
    return _split("array_split", ary, indices_or_sections, axis, False)


def flip(m: ArrayLike, axis: Axis = None) -> Array:
    """``m`` with the order of elements reversed along ``axis`` (all axes if None)."""
    a, av = _arr(m)
    return ops.rev(a, norm_axes("flip", axis, av.shape))


def fliplr(m: ArrayLike) -> Array:
    """``m`` reversed along axis 1."""
    return flip(m, 1)


def flipud(m: ArrayLike) -> Array:
    """``m`` reversed along axis 0."""
    return flip(m, 0)


def roll(a: ArrayLike, shift: Ints, axis: Axis = None) -> Array:
    """Elements shifted cyclically by ``shift`` along ``axis`` (of the flattened array if None)."""
    a, av = _arr(a)
    if axis is None:
        return ops.reshape(roll(ops.reshape(a, (av.size,)), shift, 0), av.shape)
    shifts, axes = _seq(shift), _seq(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: shift {shift} and axis {axis} do not match")
    total: dict = {}
    for s, ax in zip(shifts, axes):
        ax = norm_axis("roll", ax, av.shape)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        n = av.shape[ax]
        s = s % n if n else 0
        if s:
            a = ops.concatenate([_slice_axis(a, av.shape, ax, n - s, n), _slice_axis(a, av.shape, ax, 0, n - s)], ax)
    return a


def tile(A: ArrayLike, reps: Ints) -> Array:
    """``A`` repeated ``reps`` times along each axis."""
    a, av = _arr(A)
    reps = tuple(int(r) for r in _seq(reps))
    nd = builtins.max(len(av.shape), len(reps))
    s = (1,) * (nd - len(av.shape)) + av.shape
    reps = (1,) * (nd - len(reps)) + reps
    if builtins.all(r == 1 for r in reps):
        return ops.reshape(a, s)
    # interleave a size-r axis before every axis, broadcast, and merge the pairs
    inter = tuple(x for n in s for x in (1, n))
    big = tuple(x for r, n in zip(reps, s) for x in (r, n))
    out = ops.broadcast_to(ops.reshape(a, inter), big)
    return ops.reshape(out, tuple(r * n for r, n in zip(reps, s)))


def _concrete_ints(v, name):
    """A list of Python ints from a sequence or a concrete array (its values fix the output shape)."""
    if is_array(v):
        if hasattr(v, "concrete"):
            v = v.concrete()
        v = backend_for(v).to_numpy(v).tolist()
    if isinstance(v, (tuple, list)):
        return [int(r) for r in v]
    return int(v)


def repeat(a: ArrayLike, repeats: Ints | ArrayLike, axis: int | None = None) -> Array:
    """Each element of ``a`` repeated ``repeats`` times (per element if a sequence) along ``axis``."""
    a, av = _arr(a)
    if axis is None:
        a = ops.reshape(a, (av.size,))
        ax = 0
    else:
        ax = norm_axis("repeat", axis, av.shape)
    s = get_aval(a).shape
    n = s[ax]
    reps = _concrete_ints(repeats, "repeat")
    if isinstance(reps, list) and len(reps) == 1:
        reps = reps[0]
    if isinstance(reps, int):
        if reps < 0:
            raise ValueError("repeat: repeats may not be negative")
        x = ops.expand_dims(a, (ax + 1,))
        x = ops.broadcast_to(x, s[:ax + 1] + (reps,) + s[ax + 1:])
        return ops.reshape(x, s[:ax] + (n * reps,) + s[ax + 1:])
    if len(reps) != n:
        raise ShapeError(f"repeat: {len(reps)} repeat counts for an axis of size {n}")
    idx = [i for i, r in enumerate(reps) for _ in range(r)]
    return ops.gather(a, asarray(idx, dtype=int64, backend=backend_for(a)), ax)


def _tri_mask(m, k, lower):
    a, av = _arr(m)
    if len(av.shape) < 2:
        if len(av.shape) == 0:
            raise ShapeError(f"{'tril' if lower else 'triu'}: input must have at least one dimension")
        a = ops.broadcast_to(a, (av.shape[0], av.shape[0]))
        av = get_aval(a)
    r, c = av.shape[-2:]
    with _on(backend_for(a)):
        d = ops.sub(ops.iota(int64, (r, c), 1), ops.iota(int64, (r, c), 0))
    mask = ops.le(d, k) if lower else ops.ge(d, k)
    return ops.select(mask, a, scalar_array(0, a, av.dtype))


def triu(m: ArrayLike, k: int = 0) -> Array:
    """``m`` with the elements below the ``k``-th diagonal zeroed (last two axes)."""
    return _tri_mask(m, k, False)


def tril(m: ArrayLike, k: int = 0) -> Array:
    """``m`` with the elements above the ``k``-th diagonal zeroed (last two axes)."""
    return _tri_mask(m, k, True)


def _pad_source(p, n, mode):
    """The input position that padded position ``p`` (in input coordinates) copies."""
    if mode == "edge":
        return min(max(p, 0), n - 1)
    if mode == "wrap":
        return p % n
    if mode == "reflect":                   # mirror without repeating the edge: period 2n - 2
        if n == 1:
            return 0
        q = p % (2 * n - 2)
        return q if q < n else 2 * n - 2 - q
    q = p % (2 * n)                         # symmetric: mirror repeating the edge, period 2n
    return q if q < n else 2 * n - 1 - q


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array: ArrayLike, pad_width: Ints | Sequence[Sequence[int]],
        mode: Literal["constant", "edge", "reflect", "symmetric", "wrap"] = "constant",
        constant_values: Scalar = 0) -> Array:
    """``array`` padded along each axis: with ``constant_values``, or with copies of its own
    elements (modes 'edge', 'reflect', 'symmetric', 'wrap', as NumPy's), which are gathers
    at fixed indices, so gradients add up at the elements copied."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use one of {_PAD_MODES}")
    a, av = _arr(array)
    check_kind(av.dtype, "pad")
    nd = len(av.shape)
    try:     # NumPy's rule: pad_width broadcasts to one (before, after) pair per axis
        cfg = [(int(lo), int(hi)) for lo, hi in np.broadcast_to(np.asarray(pad_width), (nd, 2))]
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width} does not fit an array of shape {av.shape}") from None
    if builtins.any(min(c) < 0 for c in cfg):
        raise ShapeError(f"pad: pad_width {pad_width} has a negative entry")
    if mode != "constant":
        for ax, (lo, hi) in enumerate(cfg):
            n = get_aval(a).shape[ax]
            if (lo or hi) and n == 0:
                raise ShapeError(f"pad: mode {mode!r} cannot pad axis {ax}, which has no elements")
            if lo or hi:
                a = take(a, [_pad_source(j - lo, n, mode) for j in range(lo + n + hi)], axis=ax)
        return a
    value = constant_values
    if value.__class__ is float and av.dtype.kind in "biu":
        value = av.dtype.type(value).item()
    return ops.pad(a, value, [(int(lo), int(hi), 0) for lo, hi in cfg])


def diff(a: ArrayLike, n: int = 1, axis: int = -1) -> Array:

    """The ``n``-th discrete difference along ``axis``."""
    a, av = _arr(a)
    ax = norm_axis("diff", axis, av.shape)
    for _ in range(n):
        s = get_aval(a).shape
        m = s[ax]
        hi = _slice_axis(a, s, ax, builtins.min(1, m), m)
        lo = _slice_axis(a, s, ax, 0, builtins.max(m - 1, 0))
        a = not_equal(hi, lo) if get_aval(a).dtype.kind == "b" else subtract(hi, lo)
    return a
