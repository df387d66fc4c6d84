"""Normalising ``axis`` and ``shape`` arguments, with errors that name the function."""
from __future__ import annotations

import operator

from ..errors import ShapeError

__all__ = ["norm_axis", "norm_axes", "norm_shape", "prod"]

_axes_cache: dict = {}


def _index(a, name, what="axis"):
    try:
        return operator.index(a)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an integer, got {a!r} of type {type(a).__name__}") from None


def norm_axis(name: str, axis, shape: tuple) -> int:
    """One axis, negative counted from the end, checked against ``shape``."""
    nd = len(shape)
    a = _index(axis, name)
    if not -nd <= a < nd:
        raise ShapeError(f"{name}: axis {axis} is out of range for an array of shape {tuple(shape)}")
    return a + nd if a < 0 else a


def norm_axes(name: str, axis, shape: tuple) -> tuple:
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    nd = len(shape)
    key = (name, axis if axis.__class__ is not list else tuple(axis), nd)
    try:
        r = _axes_cache.get(key)
    except TypeError:  # unhashable axis value
        r, key = None, None  # type: ignore[assignment]
    if r is not None:
        return r
    if axis is None:
        r = tuple(range(nd))
    elif isinstance(axis, (tuple, list)):
        r = tuple(sorted(norm_axis(name, a, shape) for a in axis))
        if len(set(r)) != len(r):
            raise ShapeError(f"{name}: repeated axis in {tuple(axis)}")
    else:
        r = (norm_axis(name, axis, shape),)
    if key is not None:
        _axes_cache[key] = r
    return r


def norm_shape(name: str, shape) -> tuple:
    """A shape argument (int or sequence of ints) as a tuple, refusing negative sizes."""
    if isinstance(shape, (tuple, list)):
        s = tuple(_index(d, name, "shape entries") for d in shape)
    else:
        s = (_index(shape, name, "shape"),)
    if any(d < 0 for d in s):
        raise ShapeError(f"{name}: negative dimensions are not allowed, got shape {s}")
    return s


def prod(xs) -> int:
    n = 1
    for d in xs:
        n *= d
    return n
