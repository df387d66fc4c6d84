"""Random numbers drawn from the active backend's generator.

The same ``seed`` gives the same stream on a backend from run to run.  Under
vmap, ``randomness`` decides whether batch elements share a draw.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np  # dtypes only

from . import ops
from .backends import Backend, current_backend, use_backend
from .avals import get_aval

__all__ = ["seed", "normal", "uniform", "bernoulli", "randint"]

Shape = int | Sequence[int]
BackendSpec = str | Backend | None


def _shape(shape: Shape | None) -> tuple:
    if shape is None:
        return ()
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _with(backend: BackendSpec, fn: Callable[[], Any]) -> Any:
    if backend is None:
        return fn()
    with use_backend(backend):
        return fn()


def seed(n: int, backend: BackendSpec = None) -> None:
    """Reseed the generator of the active backend (or ``backend``)."""
    _with(backend, lambda: current_backend().seed(int(n)))


def normal(shape: Shape = (), dtype: Any = None, *, backend: BackendSpec = None) -> Any:
    """Standard normal samples of ``shape`` (float64 unless ``dtype``).

    >>> import polyfunc as pf
    >>> pf.random.seed(0); pf.random.normal((2,)).shape
    (2,)
    """
    return _with(backend, lambda: ops.random_normal(_shape(shape), np.dtype(dtype or np.float64)))


def uniform(shape: Shape = (), low: float = 0.0, high: float = 1.0, dtype: Any = None, *,
            backend: BackendSpec = None) -> Any:
    """Uniform samples on [low, high)."""
    def draw() -> Any:
        u = ops.random_uniform(_shape(shape), np.dtype(dtype or np.float64))
        if low == 0.0 and high == 1.0:
            return u
        return ops.add(ops.mul(u, float(high - low)), float(low))
    return _with(backend, draw)


def bernoulli(p: Any, shape: Shape | None = None, *, backend: BackendSpec = None) -> Any:
    """Booleans that are True with probability ``p`` (a float or an array)."""
    def draw() -> Any:
        if isinstance(p, (int, float)):
            return ops.lt(ops.random_uniform(_shape(shape), np.dtype(np.float64)), float(p))
        a = get_aval(p)
        shp = _shape(shape) if shape is not None else a.shape
        u = ops.random_uniform(shp, a.dtype)
        return ops.lt(u, p)
    return _with(backend, draw)


def randint(low: int, high: int, shape: Shape = (), dtype: Any = None, *, backend: BackendSpec = None) -> Any:
    """Integers drawn uniformly from [low, high)."""
    return _with(backend, lambda: ops.random_randint(_shape(shape), low, high, np.dtype(dtype or np.int64)))
