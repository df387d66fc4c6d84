"""``get_aval``: the abstract value (shape and dtype) of an array, tracer or Python scalar.

An array's abstract value comes from the backend that owns it, so this sits
above ``backends``; the answer's function is remembered per class in
``registry.aval_of_type``, which makes the hot path one dictionary lookup.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np  # dtypes only

from .backends import owner_of
from .registry import UNKNOWN, aval_of_type, type_owner
from .trace import ShapedArray, Tracer

__all__ = ["get_aval"]

_PY_SCALAR_DTYPES: dict[type, np.dtype] = {
    bool: np.dtype(bool), int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


def get_aval(x: Any) -> ShapedArray:
    """Shape and dtype of an array, tracer or Python scalar."""
    fn = aval_of_type.get(x.__class__)
    if fn is not None:
        return fn(x)
    return _aval_slow(x)


def _tracer_aval(x: Tracer) -> ShapedArray:
    return x.aval


def _weak_scalar(dt: np.dtype) -> Callable[[Any], ShapedArray]:
    return lambda _x: ShapedArray((), dt, weak=True)


def _aval_slow(x: Any) -> ShapedArray:
    cls = x.__class__
    fn: Callable[[Any], ShapedArray]
    if isinstance(x, Tracer):
        prop = getattr(cls, "aval", None)
        # the class's own property getter: one call fewer on a hot path
        fn = prop.fget if isinstance(prop, property) and prop.fget is not None else _tracer_aval
    elif cls in _PY_SCALAR_DTYPES:
        fn = _weak_scalar(_PY_SCALAR_DTYPES[cls])
    else:
        b = type_owner.get(cls, UNKNOWN)
        if b is UNKNOWN or b is None:
            b = owner_of(x, None)
        if b is None:
            raise TypeError(f"{x!r} of type {cls.__name__} is not an array any installed backend owns; "
                            f"convert it with polyfunc.numpy.asarray first.")
        fn = b.aval
    aval_of_type[cls] = fn
    return fn(x)
