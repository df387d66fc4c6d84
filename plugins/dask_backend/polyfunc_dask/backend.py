"""The Dask backend object: conversion, shapes without computing, random state, kernels.

Arrays are ``dask.array.Array``: every kernel adds tasks to a graph and nothing
runs until the user calls ``.compute()`` (or ``to_numpy``).  Abstract evaluation
reads the shape and dtype dask already knows, so it never computes.
"""
from __future__ import annotations

import sys
from functools import cached_property
from typing import Any

import numpy as np

from polyfunc.errors import DTypeError, ShapeError
from polyfunc.plugin import Backend, ShapedArray

SUPPORTED_KINDS = "biufc"
_HINTS = 8      # chunked axis lengths remembered for new arrays (see DaskBackend._axis_chunks)


def _da():
    import dask.array
    return dask.array


class DaskBackend(Backend):
    """``dask.array`` arrays, computed by whatever dask scheduler is active when the user
    computes (the threaded one, or a ``dask.distributed.Client``'s cluster)."""

    name = "dask"

    def __init__(self) -> None:
        self._rng = None
        # the chunks of the chunked axes seen most recently, by length: an array polyfunc creates
        # along an axis of such a length (the cotangent of a mean spread back over the batch, a
        # random draw per sample) is chunked the same way, so it meets the data block by block
        # instead of as one task holding the whole axis.  Only chunking follows it, never values.
        self._axis_chunks: dict[int, tuple[int, ...]] = {}

    # ---------------------------------------------------------------- availability
    def is_available(self) -> tuple[bool, str]:
        try:
            _da()
        except Exception as e:  # ImportError, or dask without its array extra (no toolz, ...)
            return False, (f"dask.array cannot be imported ({type(e).__name__}: {e}); "
                           f'pip install "polyfunc[dask]"')
        return True, ""

    # Backend declares version, kernels and batch_rules as plain attributes; here they are computed
    # on first use (dask and the kernel table are imported only when the backend is used)
    @property
    def version(self) -> str:  # type: ignore[override]
        try:
            import dask
            return dask.__version__
        except Exception:
            return ""

    @cached_property
    def kernels(self) -> dict:  # type: ignore[override]
        from .kernels import make_dask_kernels
        return make_dask_kernels(self)

    @cached_property
    def batch_rules(self) -> dict:  # type: ignore[override]
        from .batching import batch_rules
        return batch_rules

    # ---------------------------------------------------------------- arrays
    def array_types(self) -> tuple[type, ...]:
        return (_da().Array,)

    def owns_type(self, cls: type) -> bool:
        # no dask array can exist before dask.array is imported, so never import it here
        mod = sys.modules.get("dask.array")
        if mod is None or not cls.__module__.startswith("dask"):
            return False
        try:
            return issubclass(cls, mod.Array)
        except TypeError:
            return False

    def aval(self, x: Any) -> ShapedArray:
        shape = x.shape
        for n in shape:
            if n != n:   # NaN: dask does not know this length until it computes
                raise ShapeError(
                    f"dask array {x.name!r} has shape {shape} with unknown (data-dependent) lengths, so "
                    f"polyfunc cannot trace through it without computing. Call x.compute_chunk_sizes() "
                    f"first (it computes the lengths), or avoid boolean-mask selection before the transform.")
        for n, c in zip(shape, x.chunks):
            # only splits into non-empty blocks are hints: a slice can leave an axis as (0, 0) or
            # (1, 0), and a hint of length 0 would divide by zero when scaled below
            if len(c) > 1 and 0 not in c and self._axis_chunks.get(n) != c:
                hints = self._axis_chunks
                hints.pop(n, None)
                hints[n] = c
                if len(hints) > _HINTS:
                    del hints[next(iter(hints))]     # forget the least recently chunked length
        return ShapedArray(tuple(shape), np.dtype(x.dtype))

    def clear_caches(self) -> None:
        # hints left by one computation split another's small arrays into many blocks: a test of
        # det after tests with axes chunked (1, 1, 1, 1) took minutes instead of a second
        self._axis_chunks.clear()

    def new_chunks(self, shape: tuple, dtype: Any) -> tuple:
        """Chunks for a new array of ``shape``: like a recently seen chunked axis of the same length
        (or of a length it is a multiple of), else dask's automatic chunks (up to ``array.chunk-size``)."""
        if 0 in shape:      # nothing to split; and dask cannot reshape an empty array split in blocks
            return tuple((n,) for n in shape)
        return _da().core.normalize_chunks(tuple(self._hint(n) for n in shape), shape, dtype=dtype)

    def _hint(self, n: int) -> Any:
        hints = self._axis_chunks
        c = hints.get(n)
        if c is not None:
            return c
        # a batch folded with another axis (vmap's generic gather/scatter rules flatten (B, k) to
        # B*k): the batch's chunks, each k times longer
        for m, c in reversed(hints.items()):
            if n > m and n % m == 0:
                return tuple(ci * (n // m) for ci in c)
        return "auto"

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        da = _da()
        if isinstance(obj, da.Array):
            a = obj if dtype is None or np.dtype(dtype) == obj.dtype else obj.astype(dtype)
        else:
            if isinstance(obj, (list, tuple)) and any(isinstance(e, da.Array) for e in obj):
                a = da.stack([self.asarray(e, dtype) for e in obj])
            else:
                host = np.asarray(obj, dtype=dtype)
                a = da.from_array(host, chunks="auto" if host.ndim else ())
        if a.dtype.kind not in SUPPORTED_KINDS:
            raise DTypeError(f"dtype {a.dtype} is not supported by polyfunc (use bool, integer, floating or complex arrays)")
        return a

    def to_numpy(self, x: Any) -> np.ndarray:
        """Compute ``x`` (on the active scheduler or cluster) and return it as a NumPy array."""
        da = _da()
        if isinstance(x, da.Array):
            x = x.compute()
        return np.asarray(x)

    # ---------------------------------------------------------------- random numbers
    @property
    def rng(self) -> Any:
        if self._rng is None:
            self._rng = _da().random.default_rng(0)
        return self._rng

    def seed(self, n: int) -> None:
        self._rng = _da().random.default_rng(n)

    def synchronize(self) -> None:
        """Nothing to wait for: dask work runs when the user computes."""

