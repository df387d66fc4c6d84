"""Random number primitives.  They take no arrays: the backend is the current
one, and its generator supplies the numbers.  Under vmap, ``randomness``
decides: 'different' draws a batch of numbers, 'same' draws once."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np  # dtypes only

from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR
from ..trace import ShapedArray
from ..typing import Array, DTypeLike

__all__ = ["random_normal", "random_uniform", "random_randint", "random_prims"]

random_prims: dict = {}


def _random_prim(name):
    p = Primitive(name, random=True)
    random_prims[name] = p
    AE[p] = lambda **kw: ShapedArray(kw["shape"], kw["dtype"])
    JR[p] = lambda pr, t, **kw: (p.bind(*pr, **kw), None)

    def batch(vals, dims, *, axis_size, different, shape, **kw):
        if not different:
            return p.bind(*vals, shape=shape, **kw), None
        return p.bind(*vals, shape=(axis_size,) + tuple(shape), **kw), 0
    BR[p] = batch
    return p


random_normal_p = _random_prim("random_normal")
random_uniform_p = _random_prim("random_uniform")
random_randint_p = _random_prim("random_randint")


def random_normal(shape: Sequence[int], dtype: DTypeLike) -> Array:
    return random_normal_p.bind(shape=tuple(shape), dtype=np.dtype(dtype))


def random_uniform(shape: Sequence[int], dtype: DTypeLike) -> Array:
    """Uniform on [0, 1)."""
    return random_uniform_p.bind(shape=tuple(shape), dtype=np.dtype(dtype))


def random_randint(shape: Sequence[int], low: int, high: int, dtype: DTypeLike) -> Array:

    """Integers in [low, high)."""
    return random_randint_p.bind(shape=tuple(shape), low=int(low), high=int(high), dtype=np.dtype(dtype))
