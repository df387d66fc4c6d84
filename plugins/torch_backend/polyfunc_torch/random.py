"""Random numbers in torch code under transforms.

``torch.randn_like(x)``, ``torch.rand_like(x)`` and ``torch.bernoulli(p)`` on a traced
tensor, and ``F.dropout``, draw through polyfunc's random primitives on the torch backend,
so vmap's ``randomness`` ('error', 'different', 'same') holds for them.  The factories
with no tensor argument (``torch.randn(3)``) never meet a tracer: ``FACTORIES`` routes
them the same way, for ``interception`` to call while a vmap runs.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc import ops
from polyfunc.plugin import backend_of, get_aval

from .arguments import float_of, shape
from .dtypes import to_np_dtype
from .registry import implements


def _size(args, kwargs):
    size = kwargs.pop("size", None)
    if size is None:
        size = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)) else args
    return tuple(int(s) for s in size)


def _spec(kwargs, default_float=True):
    """(numpy dtype, backend name) from torch's dtype= and device= keywords."""
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    for k in ("generator", "requires_grad", "layout", "pin_memory", "memory_format"):
        kwargs.pop(k, None)
    if dt is None and default_float:
        dt = torch.get_default_dtype()
    backend = "torch" if dev is None else f"torch:{torch.device(dev)}"
    return (to_np_dtype(dt) if dt is not None else None), backend


def randn(*args, **kwargs):
    shp = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.normal(shp, dt, backend=b)


def rand(*args, **kwargs):
    shp = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.uniform(shp, dtype=dt, backend=b)


def randint(*args, **kwargs):
    low, high, rest = (0, args[0], args[1:]) if len(args) == 2 else (args[0], args[1], args[2:])
    shp = _size(rest, kwargs)
    dt, b = _spec(kwargs, default_float=False)
    return pf.random.randint(low, high, shp, dtype=dt or np.int64, backend=b)


def _like_spec(x, kwargs):
    dt = kwargs.pop("dtype", None)
    a = get_aval(x)
    return tuple(a.shape), (to_np_dtype(dt) if dt is not None else a.dtype)


@implements(torch.randn_like)
def randn_like(input, **kwargs):
    shp, dt = _like_spec(input, kwargs)
    return pf.random.normal(shp, dt, backend="torch")


@implements(torch.rand_like)
def rand_like(input, **kwargs):
    shp, dt = _like_spec(input, kwargs)
    return pf.random.uniform(shp, dtype=dt, backend="torch")


@implements(torch.bernoulli, method="bernoulli")
def bernoulli(input, *args, **kwargs):
    a = get_aval(input)
    u = pf.random.uniform(tuple(a.shape), dtype=a.dtype, backend="torch")
    return ops.convert_element_type(ops.lt(u, input), a.dtype)


@implements(torch.nn.functional.dropout)
def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0:
        return input
    if p == 1:
        return pnp.zeros_like(input)
    keep = pnp.greater_equal(pf.random.uniform(shape(input), dtype=float_of(input), backend=backend_of(input)), p)
    scaled = pnp.true_divide(input, 1.0 - p)
    return pnp.where(keep, scaled, pnp.zeros_like(scaled))


# torch's random functions -> their draws through polyfunc, for calls that meet no tracer
FACTORIES: dict[Any, Callable[..., Any]] = {
    torch.randn: randn, torch.rand: rand, torch.randint: randint,
    torch.randn_like: randn_like, torch.rand_like: rand_like, torch.bernoulli: bernoulli,
}
