"""Type aliases for polyfunc's public signatures (``polyfunc.numpy``, ``polyfunc.ops``).

The backends share no array base class: a value may be a ``numpy.ndarray``, a
``torch.Tensor``, a ``cupy.ndarray``, a ``dask.array.Array``, an Array API
array, or a ``Tracer`` standing for one of them under a transform.  So
:data:`Array` and :data:`ArrayLike` are ``Any`` to a type checker; the names
say to a reader (and in the API pages) what a parameter takes and a function
gives back.  The other aliases are checked as written.
"""
from __future__ import annotations

from typing import Any, TypeAlias, Union

from .backends import Backend     # at run time too, so typing.get_type_hints resolves BackendLike

__all__ = ["Array", "ArrayLike", "Scalar", "DTypeLike", "Axis", "Ints", "IndexLike", "ShapeLike", "BackendLike"]

Array: TypeAlias = Any
"""An array of some backend, or a tracer standing for one (statically ``Any``: no shared base class)."""

ArrayLike: TypeAlias = Any
"""What an array parameter takes: an :data:`Array`, a Python scalar, or a nested list or tuple of them."""

Scalar: TypeAlias = Union[bool, int, float, complex]
"""A Python number (a weak operand: it takes the dtype of the array it meets)."""

DTypeLike: TypeAlias = Any
"""A dtype: a NumPy dtype or scalar type, a name such as ``'float32'``, a Python type, or a
backend's own dtype object (``torch.float32``); what ``numpy.dtype`` accepts and more."""

Axis: TypeAlias = Union[int, tuple[int, ...], None]
"""One axis, several, or None for all of them."""

IndexLike: TypeAlias = Any
"""An index expression as ``x[idx]`` takes it: ints, slices, None, Ellipsis, integer or boolean
arrays, or a tuple of them (statically ``Any``, as it holds arrays)."""

Ints: TypeAlias = Union[int, tuple[int, ...], list[int]]
"""One int, or a tuple or list of them (axes, shifts, repetitions, cut points): what the
functions that take "one or several" test for."""

ShapeLike: TypeAlias = Ints
"""A shape: one length, or a tuple or list of lengths."""

BackendLike: TypeAlias = Union[str, Backend, None]
"""A backend by name (``'numpy'``, ``'torch:cuda'``), a :class:`~polyfunc.backends.Backend`, or None for the current one."""
