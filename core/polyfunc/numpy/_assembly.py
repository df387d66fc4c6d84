"""Building arrays from pieces and taking them apart: ``r_``, ``c_``, ``append``,
``row_stack``, ``vsplit``/``hsplit``/``dsplit``, ``rot90`` and ``rollaxis``.
All are concatenations, slices, flips and transposes, so they differentiate
and batch through those primitives."""
from __future__ import annotations

import builtins
from collections.abc import Sequence


from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, DTypeLike, IndexLike, Ints
from ._axes import norm_axis
from ._creation import arange, linspace
from ._dtypes import PY_SCALARS, is_array, promote_arrays, to_array
from ._shape import concatenate, flip, ravel, split, transpose, vstack

__all__ = ["r_", "c_", "append", "row_stack", "vsplit", "hsplit", "dsplit", "rot90", "rollaxis"]


# ------------------------------------------------------------------ r_ and c_
def _slice_values(s: slice, partner):
    """NumPy's r_ reading of a slice: ``start:stop:step`` is arange, and an imaginary step ``nj``
    asks for n points from start to stop inclusive (linspace)."""
    start = 0 if s.start is None else s.start
    step = 1 if s.step is None else s.step
    kw = {"like": partner} if partner is not None else {}
    if isinstance(step, complex):
        return linspace(start, s.stop, int(builtins.abs(step)), **kw)
    return arange(start, s.stop, step, **kw)


class _AxisConcatenator:
    """``r_[...]`` and ``c_[...]``: NumPy's index-expression concatenation."""

    def __init__(self, name: str, axis: int, ndmin: int, trans1d: int):
        self.name, self.axis, self.ndmin, self.trans1d = name, axis, ndmin, trans1d

    def _directive(self, s: str):
        if s in ("r", "c"):
            raise TypeError(f"{self.name}: the matrix directives 'r' and 'c' make numpy.matrix objects, which "
                            f"polyfunc does not have; stack the arrays and reshape instead.")
        try:
            parts = [int(p) for p in s.split(",")]
        except ValueError:
            raise ValueError(f"{self.name}: unknown string directive {s!r}; use 'axis', 'axis,ndmin' or "
                             f"'axis,ndmin,trans1d' with integers.") from None
        axis, ndmin, trans1d = (parts + [self.ndmin, self.trans1d][len(parts) - 1:])[:3]
        return axis, ndmin, trans1d

    def _shaped(self, a, ndmin: int, trans1d: int):
        """``a`` with at least ``ndmin`` dims: new axes go in front, then (trans1d) NumPy moves
        the original axes to position ``trans1d``."""
        nd = len(get_aval(a).shape)
        if nd >= ndmin:
            return a
        a = ops.reshape(a, (1,) * (ndmin - nd) + get_aval(a).shape)
        if trans1d != -1:
            k2, k1 = ndmin - nd, trans1d
            if k1 < 0:
                k1 += k2 + 1
            axes = list(range(ndmin))
            a = ops.transpose(a, tuple(axes[:k1] + axes[k2:] + axes[k1:k2]))
        return a

    def __getitem__(self, key: IndexLike) -> Array:
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if items and isinstance(items[0], str):
            axis, ndmin, trans1d = self._directive(items[0])
            items = items[1:]
        partner = next((x for x in items if is_array(x)), None)
        pieces = []
        for it in items:
            if isinstance(it, slice):
                pieces.append(_slice_values(it, partner))
            elif isinstance(it, str):
                raise ValueError(f"{self.name}: a string directive may only come first")
            else:
                pieces.append(it if it.__class__ in PY_SCALARS else to_array(it, partner))
        if not pieces:
            raise ValueError(f"{self.name}: nothing to concatenate")
        arrays, _ = promote_arrays(self.name, pieces)
        arrays = [self._shaped(a, ndmin, trans1d) for a in arrays]
        return concatenate(arrays, axis)

    def __len__(self) -> int:
        return 0


r_ = _AxisConcatenator("r_", 0, 1, -1)
c_ = _AxisConcatenator("c_", -1, 2, 0)


# ------------------------------------------------------------------ append and stacking
def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Array:
    """``values`` added at the end of ``arr``: both flattened when ``axis`` is None, else joined
    along ``axis`` (they must then agree in every other dimension)."""
    (a, v), _ = promote_arrays("append", [to_array(arr), values if values.__class__ in PY_SCALARS
                                          else to_array(values, arr)])
    if axis is None:
        return concatenate([ravel(a), ravel(v)], 0)
    return concatenate([a, v], axis)


def row_stack(tup: Sequence[ArrayLike], dtype: DTypeLike = None) -> Array:
    """Same as vstack (NumPy's older name)."""
    return vstack(tup, dtype=dtype)


# ------------------------------------------------------------------ splitting
def _split_along(name, ary, sections, axis, min_nd):
    a = to_array(ary)
    nd = len(get_aval(a).shape)
    if nd < min_nd:
        raise ShapeError(f"{name} only works on arrays of {min_nd} or more dimensions, got shape "
                         f"{get_aval(a).shape}")
    return split(a, sections, axis)


def vsplit(ary: ArrayLike, indices_or_sections: Ints) -> list[Array]:
    """Split along the first axis (rows); the array needs 2 or more dimensions."""
    return _split_along("vsplit", ary, indices_or_sections, 0, 2)


def hsplit(ary: ArrayLike, indices_or_sections: Ints) -> list[Array]:
    """Split along the second axis (columns); a 1-D array splits along its only axis."""
    a = to_array(ary)
    nd = len(get_aval(a).shape)
    if nd == 0:
        raise ShapeError("hsplit only works on arrays of 1 or more dimensions")
    return split(a, indices_or_sections, 1 if nd > 1 else 0)


def dsplit(ary: ArrayLike, indices_or_sections: Ints) -> list[Array]:
    """Split along the third axis (depth); the array needs 3 or more dimensions."""
    return _split_along("dsplit", ary, indices_or_sections, 2, 3)


# ------------------------------------------------------------------ rotating and rolling axes
def rot90(m: ArrayLike, k: int = 1, axes: tuple[int, int] | list[int] = (0, 1)) -> Array:
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``, from the first axis
    towards the second."""
    m = to_array(m)
    shape = get_aval(m).shape
    if len(axes) != 2:
        raise ValueError("rot90: axes must name exactly two axes")
    a0, a1 = (norm_axis("rot90", a, shape) for a in axes)
    if a0 == a1:
        raise ValueError("rot90: the two axes must differ")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(len(shape)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), perm)
    return flip(transpose(m, perm), a1)


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Array:
    """``axis`` moved to sit before position ``start`` (NumPy's older moveaxis)."""
    a = to_array(a)
    n = len(get_aval(a).shape)
    axis = norm_axis("rollaxis", axis, get_aval(a).shape)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise ShapeError(f"rollaxis: start={start} is out of range for an array of {n} dimensions")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    perm = list(range(n))
    perm.remove(axis)
    perm.insert(start, axis)
    return transpose(a, perm)

