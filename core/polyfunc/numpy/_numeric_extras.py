"""More of NumPy's numeric functions: ``select``, ``partition``, ``nan_to_num``,
``gradient`` and ``logaddexp2``, written with the primitives so they
differentiate and batch."""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np  # dtypes and finfo only

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, Axis, Ints
from ._axes import norm_axes, norm_axis
from ._dtypes import check_kind, convert, float64, to_array
from ._elementwise import _log_add_exp, _two_arrays, where
from ._reductions import sort

__all__ = ["select", "partition", "nan_to_num", "gradient", "logaddexp2", "fmod"]


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> Array:
    """Elementwise the choice of the first condition that holds, else ``default`` (broadcasting)."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: list of cases must be same length as list of conditions "
                         f"({len(condlist)} conditions, {len(choicelist)} choices)")
    if not condlist:
        raise ValueError("select: select with an empty condition list is not possible")
    for i, c in enumerate(condlist):
        d = get_aval(to_array(c)).dtype
        if d.kind != "b":
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean ndarray, got {d}")
    out = default
    for c, v in zip(reversed(condlist), reversed(choicelist)):   # the first condition wins
        out = where(c, v, out)
    partner = next((v for v in choicelist if not isinstance(v, (int, float, bool, complex))), condlist[0])
    out = to_array(out, partner)
    # the result has the shape every condition and choice broadcasts to
    shapes = [get_aval(to_array(x, partner)).shape for x in condlist + choicelist]
    want = np.broadcast_shapes(*shapes, get_aval(out).shape)
    return out if get_aval(out).shape == want else ops.broadcast_to(out, want)


def partition(a: ArrayLike, kth: Ints, axis: int | None = -1, kind: str = "introselect", order: None = None) -> Array:
    """``a`` rearranged so that the element at each ``kth`` position is the one a sort would put
    there, smaller ones before it and larger ones after.  NumPy leaves the order within each side
    unspecified; polyfunc returns the fully sorted array, which is one valid partition (the same
    values, and the same derivative: each output's gradient flows to the input it came from)."""
    if order is not None:
        raise TypeError("partition: order= (structured arrays) is not supported")
    a = to_array(a)
    shape = get_aval(a).shape
    n = shape[norm_axis("partition", axis, shape)] if axis is not None else get_aval(a).size
    for k in np.atleast_1d(np.asarray(kth)).tolist():
        if not -n <= operator.index(k) < n:
            raise ValueError(f"partition: kth(={k}) out of bounds ({n})")
    return sort(a, axis)


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Array:
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (the largest and smallest
    finite values of the dtype by default); complex numbers get this for each part.  Finite
    elements keep their derivative; replaced ones get zero -- unless the inf was made with an
    infinite derivative (``x / 0``), which reaches the gradient as NaN, as with ``where``."""
    x = to_array(x)
    d = get_aval(x).dtype
    check_kind(d, "nan_to_num")
    if d.kind == "c":
        re = nan_to_num(ops.real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(ops.imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return ops.complex_from_parts(re, im)
    if d.kind != "f":
        return x
    info = np.finfo(d)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    out = where(ops.isnan(x), nan, x)
    out = where(ops.eq(x, math.inf), hi, out)
    return where(ops.eq(x, -math.inf), lo, out)


def _spacings(varargs, n_axes):
    if not varargs:
        return [1.0] * n_axes
    if len(varargs) == 1 and n_axes != 1:
        varargs = varargs * n_axes
    if len(varargs) != n_axes:
        raise TypeError(f"gradient: give one spacing for all axes or one per axis ({n_axes}), got {len(varargs)}")
    out = []
    for h in varargs:
        if np.ndim(h) != 0:
            raise TypeError("gradient: coordinate arrays as spacings are not supported; pass scalar spacings")
        out.append(float(h))
    return out


def _slab(f, shape, axis, start, stop):
    lo, hi = [0] * len(shape), list(shape)
    lo[axis], hi[axis] = start, stop
    return ops.slice(f, lo, hi)


def gradient(f: ArrayLike, *varargs: float, axis: Axis | list[int] = None, edge_order: int = 1) -> Array | list[Array]:
    """The gradient of samples ``f`` by finite differences: second-order central differences
    inside, one-sided differences of order ``edge_order`` (1 or 2) at the ends.  Spacings are
    scalars (one for all axes, or one per axis).  One array per axis; a lone array for one axis."""
    f = to_array(f)
    av = get_aval(f)
    check_kind(av.dtype, "gradient")
    if av.dtype.kind not in "fc":
        f = convert(f, av.dtype, float64)
    shape = av.shape
    axes = norm_axes("gradient", axis, shape) if axis is not None else tuple(range(len(shape)))
    if axis is not None and not isinstance(axis, (tuple, list)):
        axes = (norm_axis("gradient", axis, shape),)
    elif axis is not None:
        axes = tuple(norm_axis("gradient", a, shape) for a in axis)
    if edge_order not in (1, 2):
        raise ValueError("gradient: edge_order must be 1 or 2")
    hs = _spacings(varargs, len(axes))
    outs = []
    for ax, h in zip(axes, hs):
        n = shape[ax]
        if n < edge_order + 1:
            raise ShapeError(f"gradient: shape of the array along axis {ax} is {n}; at least edge_order + 1 "
                             f"= {edge_order + 1} samples are needed")
        pieces = []
        if edge_order == 1:
            first = ops.div(ops.sub(_slab(f, shape, ax, 1, 2), _slab(f, shape, ax, 0, 1)), h)
            last = ops.div(ops.sub(_slab(f, shape, ax, n - 1, n), _slab(f, shape, ax, n - 2, n - 1)), h)
        else:
            s = [_slab(f, shape, ax, i, i + 1) for i in (0, 1, 2)]
            first = ops.div(ops.add(ops.add(ops.mul(s[0], -1.5), ops.mul(s[1], 2.0)), ops.mul(s[2], -0.5)), h)
            e = [_slab(f, shape, ax, i, i + 1) for i in (n - 3, n - 2, n - 1)]
            last = ops.div(ops.add(ops.add(ops.mul(e[0], 0.5), ops.mul(e[1], -2.0)), ops.mul(e[2], 1.5)), h)
        pieces.append(first)
        if n > 2:
            pieces.append(ops.div(ops.sub(_slab(f, shape, ax, 2, n), _slab(f, shape, ax, 0, n - 2)), 2.0 * h))
        pieces.append(last)
        outs.append(ops.concatenate(pieces, ax))
    return outs[0] if len(outs) == 1 else outs


def logaddexp2(x1: ArrayLike, x2: ArrayLike) -> Array:
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow."""
    x, y, _ = _two_arrays("logaddexp2", np.logaddexp2, x1, x2)
    return _log_add_exp(x, y, math.log(2.0))


def fmod(x1: ArrayLike, x2: ArrayLike) -> Array:

    """Elementwise remainder of C's fmod: the sign of the dividend (``remainder`` takes the
    divisor's sign, as Python's ``%``)."""
    x, y, _ = _two_arrays("fmod", np.fmod, x1, x2)
    r = ops.rem(x, y)
    # rem and fmod differ by y where the remainder is nonzero and the operands' signs differ
    differ = ops.logical_and(ops.ne(r, 0), ops.ne(ops.lt(x, 0), ops.lt(y, 0)))
    return ops.select(differ, ops.sub(r, y), r)
