"""Indexing primitives: gather (``take`` along one axis) and scatter_add, each the other's
transpose.  Their batching rules fold the batch into the indexed axis by offsetting the
indices, which takes arithmetic: that is why they live here, above elementwise and
reductions, rather than with the structural primitives."""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import ShapeError
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array
from .elementwise import add, mul, sub
from .reductions import cumsum
from .structural import (LinearArg, broadcast_in_dim, dtype_of, full_like, instantiate, moveaxis, reshape, shape_of,
                         transpose, zeros)

__all__ = ["gather", "scatter_add", "iota_like"]

gather_p = Primitive("gather")
scatter_add_p = Primitive("scatter_add")


def gather(x: Array, idx: Array, axis: int) -> Array:
    """``take(x, idx, axis)``: result shape ``x.shape[:axis] + idx.shape + x.shape[axis+1:]``.
    Indices must be in range (callers normalise negative ones)."""
    return gather_p.bind(x, idx, axis=axis)


def scatter_add(x: Array, idx: Array, updates: Array, axis: int) -> Array:
    """``x`` with ``updates`` added at ``idx`` along ``axis`` (repeated indices accumulate)."""
    return scatter_add_p.bind(x, idx, updates, axis=axis)


def _gather_ae(x, idx, *, axis):
    if not 0 <= axis < x.ndim:
        raise ShapeError(f"gather axis {axis} is out of range for shape {x.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather indices must be integers, got {idx.dtype}")
    return ShapedArray(x.shape[:axis] + idx.shape + x.shape[axis + 1:], x.dtype)


def _scatter_ae(x, idx, upd, *, axis):
    want = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
    if upd.shape != want:
        raise ShapeError(f"scatter_add updates have shape {upd.shape}, expected {want}")
    return ShapedArray(x.shape, x.dtype)


def _gather_transpose(ct, x, idx, *, axis):
    return [scatter_add(zeros(ct, x.aval.shape), idx, ct, axis), None]


def _scatter_jvp(p, t, *, axis):
    x, idx, u = p
    tx, _, tu = t
    out = scatter_add(x, idx, u, axis)
    if tx is None and tu is None:
        return out, None
    return out, scatter_add(instantiate(tx, x), idx, instantiate(tu, u), axis)


def _scatter_transpose(ct, x, idx, upd, *, axis):
    return [ct if isinstance(x, LinearArg) else None, None,
            gather(ct, idx, axis) if isinstance(upd, LinearArg) else None]


def _flat_batch_index(x, idx, axis, b):
    """x (B, ...) with indexed axis ``axis+1`` -> (B*N, rest) and idx (B, I..) -> offset idx."""
    x2 = moveaxis(x, axis + 1, 1)
    s = shape_of(x2)
    n = s[1]
    x2 = reshape(x2, (b * n,) + s[2:])
    ishape = shape_of(idx)
    offs = mul(iota_like(idx, (b,) + (1,) * (len(ishape) - 1)), n)
    return x2, add(idx, offs), s



def iota_like(x: Array, shape: Sequence[int]) -> Array:

    """iota along axis 0 of ``shape`` with x's dtype and backend."""
    ones = full_like(x, 1, shape, dtype_of(x))
    return sub(cumsum(ones, axis=0), 1)



def _gather_batch(v, d, *, axis):
    x, idx = v
    dx, di = d
    if di is None:
        return gather(moveaxis(x, dx, 0), idx, axis + 1), 0
    if dx is None:
        return gather(x, idx, axis), axis + di
    x = moveaxis(x, dx, 0)
    idx = moveaxis(idx, di, 0)
    b = shape_of(x)[0]
    x2, idx2, s = _flat_batch_index(x, idx, axis, b)
    out = gather(x2, idx2, 0)                     # (B, I.., pre.., post..)
    k = len(shape_of(idx)) - 1
    m = len(s) - 2 - axis
    perm = [0] + [k + 1 + j for j in range(axis)] + [1 + j for j in range(k)] + [k + axis + 1 + j for j in range(m)]
    return transpose(out, perm), 0


def _scatter_batch(v, d, *, axis):
    x, idx, u = v
    dx, di, du = d
    b = next(shape_of(a)[k] for a, k in zip(v, d) if k is not None)

    def front(a, k):
        return moveaxis(a, k, 0) if k is not None else broadcast_in_dim(
            a, (b,) + shape_of(a), tuple(range(1, len(shape_of(a)) + 1)))

    x, u = front(x, dx), front(u, du)
    if di is None:
        return scatter_add(x, idx, u, axis + 1), 0
    idx = moveaxis(idx, di, 0)
    x2, idx2, s = _flat_batch_index(x, idx, axis, b)
    k = len(shape_of(idx)) - 1
    m = len(s) - 2 - axis
    # updates (B, pre, I, post) -> (B, I, pre, post)
    perm = [0] + [axis + 1 + j for j in range(k)] + [1 + j for j in range(axis)] + [axis + k + 1 + j for j in range(m)]
    out = scatter_add(x2, idx2, transpose(u, perm), 0)
    return moveaxis(reshape(out, s), 1, axis + 1), 0


AE[gather_p] = _gather_ae
JR[gather_p] = lambda p, t, *, axis: (gather(p[0], p[1], axis), None if t[0] is None else gather(t[0], p[1], axis))
TR[gather_p] = _gather_transpose
BR[gather_p] = _gather_batch
AE[scatter_add_p] = _scatter_ae
JR[scatter_add_p] = _scatter_jvp
TR[scatter_add_p] = _scatter_transpose
BR[scatter_add_p] = _scatter_batch
