"""Reductions and scans: reduce_sum/max/min/prod, argmax/argmin, cumsum.
Axes are given in the input's coordinates; batching shifts them past the
batch dimension."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np  # dtypes only

from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array, DTypeLike, Scalar
from .elementwise import convert_element_type, div, eq, mul, select
from .structural import (broadcast_in_dim, broadcast_to, check_axes, dtype_of, expand_back, eye_like, full_like,
                         keep_shape, linear_jvp, pad, reduce_prims, reduce_sum, reduction, reshape, shape_of,
                         slice as slice_, transpose)

__all__ = ["reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin", "argsort", "cumsum", "prefix_scan"]




def _extremum_jvp(prim):
    def jvp(pr, t, *, axes):
        x = pr[0]
        out = prim.bind(x, axes=axes)
        mask = convert_element_type(eq(x, expand_back(out, shape_of(x), axes)), dtype_of(x))
        count = reduce_sum(mask, axes)
        # ties share the tangent evenly
        return out, div(reduce_sum(mul(t[0], mask), axes), count)
    return jvp


reduce_max_p, reduce_max = reduction("reduce_max", None)
reduce_min_p, reduce_min = reduction("reduce_min", None)
JR[reduce_max_p] = _extremum_jvp(reduce_max_p)
JR[reduce_min_p] = _extremum_jvp(reduce_min_p)


def _prod_jvp(pr, t, *, axes):
    # d prod = sum_i t_i * prod_{j != i} x_j.  The product of the others is taken
    # directly (not prod / x_i) so zeros in x give the right answer.
    x = pr[0]
    out = reduce_prod(x, axes)
    xs = shape_of(x)
    kept = [i for i in range(len(xs)) if i not in axes]
    n = 1
    for a in axes:
        n *= xs[a]
    perm = kept + list(axes)
    ks = tuple(xs[i] for i in kept)

    def flat(v):
        return reshape(transpose(v, perm), ks + (n,))
    x2 = flat(x)
    big = broadcast_in_dim(x2, ks + (n, n), tuple(range(len(ks))) + (len(ks) + 1,))
    eye = eye_like(x, n, bool)
    one = full_like(x, 1, ks + (n, n), dtype_of(x))
    others = reduce_prod(select(broadcast_to(eye, ks + (n, n)), one, big), (len(ks) + 1,))
    return out, reduce_sum(mul(flat(t[0]), others), (len(ks),))


reduce_prod_p, reduce_prod = reduction("reduce_prod", _prod_jvp)


# ------------------------------------------------------------------ argmax / argmin
def _arg(name: str) -> tuple[Primitive, Callable[..., Array]]:
    p = Primitive(name)
    reduce_prims[name] = p

    def ae(x, *, axis, index_dtype):
        check_axes(name, x, (axis,))
        return ShapedArray(keep_shape(x.shape, (axis,)), np.dtype(index_dtype))
    AE[p] = ae
    JR[p] = lambda pr, t, **kw: (p.bind(pr[0], **kw), None)

    def batch(v, d, *, axis, index_dtype):
        bd = d[0]
        a = axis + (axis >= bd)
        return p.bind(v[0], axis=a, index_dtype=index_dtype), bd - (a < bd)
    BR[p] = batch

    def f(x: Array, axis: int, index_dtype: DTypeLike = np.int64) -> Array:
        return p.bind(x, axis=axis, index_dtype=np.dtype(index_dtype))
    return p, f


argmax_p, argmax = _arg("argmax")
argmin_p, argmin = _arg("argmin")

# ------------------------------------------------------------------ argsort
# The permutation that sorts along ``axis`` (stable: ties keep their order).  Sorting
# itself is take_along_axis of it, so values are differentiated through gather.
argsort_p = Primitive("argsort")


def argsort(x: Array, axis: int, descending: bool = False, index_dtype: DTypeLike = np.int64) -> Array:
    axis = axis + len(shape_of(x)) if axis < 0 else axis     # the primitive takes axes >= 0
    return argsort_p.bind(x, axis=axis, descending=bool(descending), index_dtype=np.dtype(index_dtype))


def _argsort_ae(x, *, axis, descending, index_dtype):
    check_axes("argsort", x, (axis,))
    return ShapedArray(x.shape, index_dtype)


AE[argsort_p] = _argsort_ae
JR[argsort_p] = lambda pr, t, **kw: (argsort_p.bind(pr[0], **kw), None)
BR[argsort_p] = lambda v, d, *, axis, **kw: (argsort_p.bind(v[0], axis=axis + (axis >= d[0]), **kw), d[0])

# ------------------------------------------------------------------ cumsum
cumsum_p = Primitive("cumsum")


def cumsum(x: Array, axis: int, reverse: bool = False) -> Array:
    axis = axis + len(shape_of(x)) if axis < 0 else axis     # the primitive takes axes >= 0
    return cumsum_p.bind(x, axis=axis, reverse=reverse)


def _cumsum_ae(x, *, axis, reverse):
    check_axes("cumsum", x, (axis,))
    return ShapedArray(x.shape, x.dtype)


AE[cumsum_p] = _cumsum_ae
JR[cumsum_p] = linear_jvp(cumsum_p)
TR[cumsum_p] = lambda ct, x, *, axis, reverse: [cumsum(ct, axis, not reverse)]
BR[cumsum_p] = lambda v, d, *, axis, reverse: (cumsum(v[0], axis + (axis >= d[0]), reverse), d[0])

def prefix_scan(combine: Callable[[Array, Array], Array], x: Array, axis: int, identity: Scalar) -> Array:

    """Inclusive scan of an associative ``combine`` along ``axis`` in log depth: each step
    combines the array with itself shifted 1, 2, 4, ... places (``identity`` shifted in), so it
    is differentiable through whatever ``combine`` is built of (cumprod: mul; logcumsumexp:
    logaddexp)."""
    shape = shape_of(x)
    axis = axis + len(shape) if axis < 0 else axis
    n, k = shape[axis], 1
    while k < n:
        cfg = [(0, 0, 0)] * len(shape)
        cfg[axis] = (k, 0, 0)
        shifted = slice_(pad(x, identity, cfg), [0] * len(shape), list(shape))   # x moved k places along
        x = combine(x, shifted)
        k *= 2
    return x
