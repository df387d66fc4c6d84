"""Creation and shape primitives: full_like, iota, broadcast_in_dim, reshape,
transpose, squeeze, expand_dims, slice, pad, concatenate, rev, gather,
scatter_add; plus the small helpers other rules are written with."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np  # dtypes and shape arithmetic only

from ..errors import ShapeError
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..avals import get_aval
from ..interpreters.jvp import linear_jvp
from ..registry import aval_of_type as _aval_of_type
from ..trace import ShapedArray
from ..typing import Array, ArrayLike, DTypeLike, Scalar

__all__ = [
    "full_like", "iota", "broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims",
    "slice_p", "slice", "pad", "concatenate", "rev",
    "shape_of", "dtype_of", "is_float_dtype", "zeros", "instantiate", "moveaxis", "broadcast_to", "unbroadcast",
    "index_in_dim", "stack", "LinearArg", "ndim_of", "linear_jvp", "broadcast_shapes", "eye_like", "eye_p",
    "reduce_sum", "reduce_prims",
]


class LinearArg:
    """Marks the linear input of a primitive being transposed (its value is unknown)."""
    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval


def shape_of(x: ArrayLike) -> tuple:
    """The shape of an array, tracer, Python scalar or ``LinearArg``."""
    c = x.__class__
    if c is np.ndarray:         # the common concrete case: NumPy's shape is already our tuple
        return x.shape
    if c is LinearArg:
        return x.aval.shape
    fn = _aval_of_type.get(c)
    return (fn(x) if fn is not None else get_aval(x)).shape


_SCALAR_TYPES = (int, float, bool, complex)


def ndim_of(x: ArrayLike) -> int:
    """The rank of an array, tracer or Python scalar, without building its abstract value."""
    c = x.__class__
    if c in _SCALAR_TYPES:
        return 0
    if c is LinearArg:
        return len(x.aval.shape)
    try:
        return x.ndim       # NumPy, CuPy and torch arrays and every tracer have it
    except AttributeError:
        return len(get_aval(x).shape)


def is_float_dtype(dt: DTypeLike) -> bool:
    """Whether ``dt`` (a NumPy dtype or anything np.dtype accepts) is floating or complex
    (bfloat16, ml_dtypes' NumPy dtype for torch's, counts: NumPy files it under kind 'V')."""
    dt = np.dtype(dt)
    return dt.kind in "fc" or dt.name == "bfloat16"


def dtype_of(x: Array | LinearArg) -> np.dtype:
    return x.aval.dtype if isinstance(x, LinearArg) else get_aval(x).dtype


def broadcast_shapes(*shapes: Sequence[int], what: str = "operands") -> tuple:
    nd = max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        d = 1
        for s in shapes:
            k = i - (nd - len(s))
            if k < 0:
                continue
            e = s[k]
            if e != 1:
                if d != 1 and d != e:
                    raise ShapeError(f"shapes {' and '.join(str(tuple(s)) for s in shapes)} of the {what} "
                                     f"do not broadcast (dimension {i} is {d} in one, {e} in another). "
                                     f"Reshape or expand one of them so each dimension matches or is 1.")
                d = e
        out.append(d)
    return tuple(out)


# ------------------------------------------------------------------ full_like
full_like_p = Primitive("full_like")


def full_like(like: Array, fill_value: Scalar, shape: Sequence[int], dtype: DTypeLike) -> Array:
    """An array of ``shape``/``dtype`` filled with ``fill_value`` on ``like``'s backend and device."""
    return full_like_p.bind(like, fill_value=fill_value, shape=tuple(shape), dtype=np.dtype(dtype))


AE[full_like_p] = lambda like, *, fill_value, shape, dtype: ShapedArray(shape, dtype)
JR[full_like_p] = lambda p, t, **kw: (full_like_p.bind(*p, **kw), None)
TR[full_like_p] = lambda ct, like, **kw: [None]
# ``like`` only names the backend and device, so its batch dimension is irrelevant
BR[full_like_p] = lambda v, d, **kw: (full_like_p.bind(v[0], **kw), None)


def zeros(like: Array, shape: Sequence[int] | None = None, dtype: DTypeLike = None) -> Array:
    a = get_aval(like)
    return full_like(like, 0, a.shape if shape is None else shape, a.dtype if dtype is None else dtype)


def instantiate(t: Array | None, primal: Array) -> Array:
    """A tangent that may be a symbolic zero (None), made concrete with ``primal``'s shape."""
    return zeros(primal) if t is None else t


# ------------------------------------------------------------------ iota
iota_p = Primitive("iota")


def iota(dtype: DTypeLike, shape: Sequence[int], dimension: int = 0) -> Array:
    """Indices counting along ``dimension`` of an array of ``shape`` (on the current backend)."""
    return iota_p.bind(dtype=np.dtype(dtype), shape=tuple(shape), dimension=dimension)


AE[iota_p] = lambda *, dtype, shape, dimension: ShapedArray(shape, dtype)


# ------------------------------------------------------------------ broadcast_in_dim
broadcast_in_dim_p = Primitive("broadcast_in_dim")


def broadcast_in_dim(x: Array, shape: Sequence[int], broadcast_dimensions: Sequence[int]) -> Array:
    shape = tuple(shape)
    if shape_of(x) == shape:
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=tuple(broadcast_dimensions))


def _bid_ae(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim or any(
            x.shape[i] not in (1, shape[d]) for i, d in enumerate(broadcast_dimensions)):
        raise ShapeError(f"cannot broadcast an array of shape {x.shape} to {shape}")
    return ShapedArray(shape, x.dtype)


AE[broadcast_in_dim_p] = _bid_ae
JR[broadcast_in_dim_p] = linear_jvp(broadcast_in_dim_p)


def _bid_transpose(ct, x, *, shape, broadcast_dimensions):
    xs = x.aval.shape
    bd = broadcast_dimensions
    new_axes = tuple(i for i in range(len(shape)) if i not in bd)
    stretched = tuple(d for i, d in enumerate(bd) if xs[i] == 1 and shape[d] != 1)
    s = reduce_sum(ct, axes=tuple(sorted(new_axes + stretched)))
    return [reshape(s, xs)]


def _bid_batch(v, d, *, shape, broadcast_dimensions):
    x = moveaxis(v[0], d[0], 0)
    b = shape_of(x)[0]
    return broadcast_in_dim_p.bind(x, shape=(b,) + shape, broadcast_dimensions=(0,) + tuple(
        i + 1 for i in broadcast_dimensions)), 0


TR[broadcast_in_dim_p] = _bid_transpose
BR[broadcast_in_dim_p] = _bid_batch


def broadcast_to(x: Array, shape: Sequence[int]) -> Array:
    """NumPy-style broadcast of ``x`` to ``shape`` (trailing dimensions aligned)."""
    shape = tuple(shape)
    xs = shape_of(x)
    if xs == shape:
        return x
    if len(xs) > len(shape) or any(a not in (1, b) for a, b in zip(xs, shape[len(shape) - len(xs):])):
        raise ShapeError(f"cannot broadcast an array of shape {xs} to shape {shape}")
    lead = len(shape) - len(xs)
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def unbroadcast(ct: Array, aval: ShapedArray) -> Array:
    """Sum a cotangent of a broadcast result back down to ``aval``'s shape."""
    cs = shape_of(ct)
    s = aval.shape
    if cs == s:
        return ct
    lead = len(cs) - len(s)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(s) if d == 1 and cs[i + lead] != 1)
    if axes:
        ct = reduce_sum(ct, axes=axes)
    return reshape(ct, s) if shape_of(ct) != s else ct


# ------------------------------------------------------------------ reduce_sum and the reduction factory
# Here rather than in reductions.py: reduce_sum's transpose is broadcast_in_dim and broadcast_in_dim's
# is reduce_sum, and one module holding both keeps the ops' imports acyclic.
def check_axes(name, x, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ShapeError(f"{name}: axis {a} is out of range for an array of shape {x.shape}")


def _phys(axes, bd):
    return tuple(a + (a >= bd) for a in axes)


def _reduce_batch(prim):
    def rule(v, d, *, axes):
        bd = d[0]
        ph = _phys(axes, bd)
        return prim.bind(v[0], axes=ph), bd - sum(1 for a in ph if a < bd)
    return rule


def keep_shape(x_shape, axes):
    return tuple(n for i, n in enumerate(x_shape) if i not in axes)


def expand_back(y, x_shape, axes):
    """Broadcast a reduced value back to the input's shape."""
    kept = tuple(i for i in range(len(x_shape)) if i not in axes)
    return broadcast_in_dim(y, x_shape, kept)


reduce_prims: dict = {}


class Reduce(Protocol):
    """The signature of reduce_sum, reduce_max, reduce_min and reduce_prod."""

    def __call__(self, x: Array, axes: Sequence[int]) -> Array: ...


def reduction(name: str, jvp: Callable | None) -> tuple[Primitive, Reduce]:
    p = Primitive(name)
    reduce_prims[name] = p

    def ae(x, *, axes):
        check_axes(name, x, axes)
        return ShapedArray(keep_shape(x.shape, axes), x.dtype)
    AE[p] = ae
    BR[p] = _reduce_batch(p)
    if jvp is not None:      # reduce_max and reduce_min get theirs after, made from their primitives
        JR[p] = jvp

    def f(x: Array, axes: Sequence[int]) -> Array:
        return p.bind(x, axes=tuple(sorted(axes)))
    return p, f


def _sum_jvp(pr, t, *, axes):
    return reduce_sum(pr[0], axes), reduce_sum(t[0], axes)


reduce_sum_p, reduce_sum = reduction("reduce_sum", _sum_jvp)
TR[reduce_sum_p] = lambda ct, x, *, axes: [expand_back(ct, x.aval.shape, axes)]


# ------------------------------------------------------------------ reshape
reshape_p = Primitive("reshape")


def reshape(x: Array, new_sizes: Sequence[int]) -> Array:
    new_sizes = tuple(int(d) for d in new_sizes)
    if shape_of(x) == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


def _reshape_ae(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ShapeError(f"cannot reshape an array of shape {x.shape} (size {x.size}) into shape {new_sizes}")
    return ShapedArray(new_sizes, x.dtype)


AE[reshape_p] = _reshape_ae
JR[reshape_p] = linear_jvp(reshape_p)
TR[reshape_p] = lambda ct, x, **kw: [reshape(ct, x.aval.shape)]
BR[reshape_p] = lambda v, d, *, new_sizes: (
    reshape(moveaxis(v[0], d[0], 0), (shape_of(v[0])[d[0]],) + new_sizes), 0)


# ------------------------------------------------------------------ transpose
transpose_p = Primitive("transpose")


def transpose(x: Array, permutation: Sequence[int]) -> Array:
    permutation = tuple(permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


def _transpose_ae(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ShapeError(f"axes {permutation} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return ShapedArray(tuple(x.shape[i] for i in permutation), x.dtype)


AE[transpose_p] = _transpose_ae
JR[transpose_p] = linear_jvp(transpose_p)
TR[transpose_p] = lambda ct, x, *, permutation: [transpose(ct, tuple(np.argsort(permutation)))]
BR[transpose_p] = lambda v, d, *, permutation: (
    transpose(v[0], _perm_with_batch(permutation, d[0])), d[0])


def _perm_with_batch(perm, bd):
    # keep the batch dim where it is; permute the others around it
    phys = [p + (p >= bd) for p in perm]
    return tuple(phys[:bd] + [bd] + phys[bd:])


def moveaxis(x: Array, src: int, dst: int) -> Array:
    nd = ndim_of(x)
    src %= nd
    dst %= nd
    if src == dst:
        return x
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, perm)


# ------------------------------------------------------------------ squeeze / expand_dims
squeeze_p = Primitive("squeeze")
expand_dims_p = Primitive("expand_dims")


def squeeze(x: Array, dimensions: Sequence[int]) -> Array:
    if not dimensions:
        return x
    return squeeze_p.bind(x, dimensions=tuple(sorted(dimensions)))


def expand_dims(x: Array, dimensions: Sequence[int]) -> Array:
    if not dimensions:
        return x
    return expand_dims_p.bind(x, dimensions=tuple(sorted(dimensions)))


def _squeeze_ae(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ShapeError(f"cannot squeeze axis {d} of shape {x.shape}: it must exist and have size 1")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions), x.dtype)


def _expand_ae(x, *, dimensions):
    nd = x.ndim + len(dimensions)
    it = iter(x.shape)
    return ShapedArray(tuple(1 if i in dimensions else next(it) for i in range(nd)), x.dtype)


def _squeeze_batch(v, d, *, dimensions):
    x = moveaxis(v[0], d[0], 0)
    return squeeze_p.bind(x, dimensions=tuple(i + 1 for i in dimensions)), 0


def _expand_batch(v, d, *, dimensions):
    x = moveaxis(v[0], d[0], 0)
    return expand_dims_p.bind(x, dimensions=tuple(i + 1 for i in dimensions)), 0


AE[squeeze_p] = _squeeze_ae
JR[squeeze_p] = linear_jvp(squeeze_p)
TR[squeeze_p] = lambda ct, x, **kw: [reshape(ct, x.aval.shape)]
BR[squeeze_p] = _squeeze_batch
AE[expand_dims_p] = _expand_ae
JR[expand_dims_p] = linear_jvp(expand_dims_p)
TR[expand_dims_p] = lambda ct, x, **kw: [reshape(ct, x.aval.shape)]
BR[expand_dims_p] = _expand_batch


# ------------------------------------------------------------------ slice
slice_p = Primitive("slice")


def slice(x: Array, start_indices: Sequence[int], limit_indices: Sequence[int],
          strides: Sequence[int] | None = None) -> Array:
    strides = tuple(strides) if strides is not None else (1,) * len(start_indices)
    return slice_p.bind(x, start_indices=tuple(start_indices), limit_indices=tuple(limit_indices),
                        strides=strides)


def _slice_ae(x, *, start_indices, limit_indices, strides):
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim) or any(
            not 0 <= s <= l <= n or st < 1 for s, l, n, st in zip(start_indices, limit_indices, x.shape, strides)):
        raise ShapeError(f"slice {start_indices}:{limit_indices}:{strides} does not fit shape {x.shape}")
    return ShapedArray(tuple(-(-(l - s) // st) for s, l, st in zip(start_indices, limit_indices, strides)),
                       x.dtype)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    cfg = []
    for s, l, st, n, m in zip(start_indices, limit_indices, strides, x.aval.shape, shape_of(ct)):
        used = s + (m - 1) * st + 1 if m else s
        cfg.append((s, n - used, st - 1) if m else (0, n, 0))
    if any(m == 0 for m in shape_of(ct)):
        return [zeros(ct, x.aval.shape)]
    return [pad(ct, 0, cfg)]


def _slice_batch(v, d, *, start_indices, limit_indices, strides):
    b = d[0]
    n = shape_of(v[0])[b]
    return slice_p.bind(v[0], start_indices=start_indices[:b] + (0,) + start_indices[b:],
                        limit_indices=limit_indices[:b] + (n,) + limit_indices[b:],
                        strides=strides[:b] + (1,) + strides[b:]), b


AE[slice_p] = _slice_ae
JR[slice_p] = linear_jvp(slice_p)
TR[slice_p] = _slice_transpose
BR[slice_p] = _slice_batch


def index_in_dim(x: Array, i: int, axis: int) -> Array:
    """``x`` indexed at ``i`` along ``axis`` (the axis removed)."""
    s = shape_of(x)
    start = [0] * len(s)
    lim = list(s)
    start[axis], lim[axis] = i, i + 1
    return squeeze(slice(x, start, lim), (axis,))


# ------------------------------------------------------------------ pad
pad_p = Primitive("pad")


def pad(x: Array, padding_value: Scalar, padding_config: Sequence[Sequence[int]]) -> Array:
    """Pad with (low, high, interior) per axis, all >= 0, filling with the scalar ``padding_value``."""
    return pad_p.bind(x, padding_value=padding_value, padding_config=tuple(tuple(c) for c in padding_config))


def _pad_ae(x, *, padding_value, padding_config):
    if len(padding_config) != x.ndim or any(min(c) < 0 for c in padding_config):
        raise ShapeError(f"padding {padding_config} does not fit shape {x.shape} (one non-negative "
                         f"(low, high, interior) per axis)")
    return ShapedArray(tuple(lo + hi + n + max(n - 1, 0) * it for (lo, hi, it), n in zip(padding_config, x.shape)),
                       x.dtype)


def _pad_jvp(p, t, *, padding_value, padding_config):
    return pad_p.bind(p[0], padding_value=padding_value, padding_config=padding_config), \
        pad_p.bind(t[0], padding_value=0, padding_config=padding_config)


def _pad_transpose(ct, x, *, padding_value, padding_config):
    s = shape_of(ct)
    return [slice(ct, [lo for lo, _, _ in padding_config], [n - hi for (_, hi, _), n in zip(padding_config, s)],
                  [it + 1 for _, _, it in padding_config])]


AE[pad_p] = _pad_ae
JR[pad_p] = _pad_jvp
TR[pad_p] = _pad_transpose
BR[pad_p] = lambda v, d, *, padding_value, padding_config: (pad_p.bind(
    v[0], padding_value=padding_value,
    padding_config=padding_config[:d[0]] + ((0, 0, 0),) + padding_config[d[0]:]), d[0])


# ------------------------------------------------------------------ concatenate
concatenate_p = Primitive("concatenate")


def concatenate(xs: Sequence[Array], dimension: int) -> Array:
    xs = list(xs)
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, dimension=dimension)


def _concat_ae(*xs, dimension):
    s0 = xs[0].shape
    for x in xs:
        if x.ndim != len(s0) or any(a != b for i, (a, b) in enumerate(zip(x.shape, s0)) if i != dimension):
            raise ShapeError(f"cannot concatenate shapes {[tuple(y.shape) for y in xs]} along axis {dimension}: "
                             f"all other dimensions must match")
        if x.dtype != xs[0].dtype:
            raise ShapeError(f"concatenate needs one dtype, got {[str(y.dtype) for y in xs]}")
    return ShapedArray(s0[:dimension] + (sum(x.shape[dimension] for x in xs),) + s0[dimension + 1:], xs[0].dtype)


def _concat_jvp(p, t, *, dimension):
    return concatenate_p.bind(*p, dimension=dimension), concatenate_p.bind(
        *[instantiate(ti, pi) for pi, ti in zip(p, t)], dimension=dimension)


def _concat_transpose(ct, *xs, dimension):
    out, start = [], 0
    s = shape_of(ct)
    for x in xs:
        n = shape_of(x)[dimension]
        if isinstance(x, LinearArg):
            lo = [0] * len(s)
            hi = list(s)
            lo[dimension], hi[dimension] = start, start + n
            out.append(slice(ct, lo, hi))
        else:
            out.append(None)
        start += n
    return out


def _concat_batch(v, d, *, dimension):
    b = next(shape_of(x)[k] for x, k in zip(v, d) if k is not None)
    xs = [moveaxis(x, k, 0) if k is not None else broadcast_in_dim(
        x, (b,) + shape_of(x), tuple(range(1, len(shape_of(x)) + 1))) for x, k in zip(v, d)]
    return concatenate_p.bind(*xs, dimension=dimension + 1), 0


AE[concatenate_p] = _concat_ae
JR[concatenate_p] = _concat_jvp
TR[concatenate_p] = _concat_transpose
BR[concatenate_p] = _concat_batch


def stack(xs: Sequence[Array], axis: int = 0) -> Array:
    xs = [expand_dims(x, (axis,)) for x in xs]
    return concatenate(xs, axis)


# ------------------------------------------------------------------ rev
rev_p = Primitive("rev")


def rev(x: Array, dimensions: Sequence[int]) -> Array:
    if not dimensions:
        return x
    return rev_p.bind(x, dimensions=tuple(sorted(dimensions)))


AE[rev_p] = lambda x, *, dimensions: ShapedArray(x.shape, x.dtype)
JR[rev_p] = linear_jvp(rev_p)
TR[rev_p] = lambda ct, x, **kw: [rev_p.bind(ct, **kw)]
BR[rev_p] = lambda v, d, *, dimensions: (rev_p.bind(v[0], dimensions=tuple(
    k + (k >= d[0]) for k in dimensions)), d[0])


# ------------------------------------------------------------------ eye
eye_p = Primitive("eye")


def eye_like(like: Array, n: int, dtype: DTypeLike, rows: int | None = None, offset: int = 0) -> Array:

    """Rows ``[offset, offset + rows)`` of the n x n identity, on ``like``'s backend and device.

    jacrev builds its basis from it one chunk of rows at a time, so a chunked
    Jacobian never holds the whole n x n identity."""
    rows = n if rows is None else rows
    return eye_p.bind(like, shape=(int(rows), int(n)), offset=int(offset), dtype=np.dtype(dtype))


AE[eye_p] = lambda like, *, shape, offset, dtype: ShapedArray(shape, dtype)
JR[eye_p] = lambda p, t, **kw: (eye_p.bind(*p, **kw), None)
TR[eye_p] = lambda ct, like, **kw: [None]
BR[eye_p] = lambda v, d, **kw: (eye_p.bind(v[0], **kw), None)   # like only names the backend
