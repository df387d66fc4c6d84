"""torch's own random functions under polyfunc transforms.

``torch.randn(3)`` inside ``pf.vmap`` has no traced argument, so it never
reaches a tracer's ``__torch_function__``; left alone it would draw once and
silently ignore vmap's ``randomness``.  While a transform runs user code, a
TorchFunctionMode routes torch's factory draws through polyfunc's random
primitives on the torch backend, so 'error', 'different' and 'same' hold.
"""
from __future__ import annotations

import numpy as np
import torch

import polyfunc as pf

from .dtypes import to_np_dtype


def _size(args, kwargs):
    size = kwargs.pop("size", None)
    if size is None:
        size = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)) else args
    return tuple(int(s) for s in size)


def _spec(kwargs, default_float=True):
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("generator", None), kwargs.pop("requires_grad", None), kwargs.pop("layout", None)
    if dt is None and default_float:
        dt = torch.get_default_dtype()
    backend = "torch" if dev is None else f"torch:{torch.device(dev)}"
    return (to_np_dtype(dt) if dt is not None else None), backend


def _randn(*args, **kwargs):
    shape = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.normal(shape, dt, backend=b)


def _rand(*args, **kwargs):
    shape = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.uniform(shape, dtype=dt, backend=b)


def _randint(*args, **kwargs):
    low, high, rest = (0, args[0], args[1:]) if len(args) == 2 else (args[0], args[1], args[2:])
    shape = _size(rest, kwargs)
    dt, b = _spec(kwargs, default_float=False)
    return pf.random.randint(low, high, shape, dtype=dt or np.int64, backend=b)


def _like(draw):
    def f(x, *args, **kwargs):
        dt = kwargs.pop("dtype", None)
        a = pf.trace.get_aval(x)
        return draw(tuple(a.shape), to_np_dtype(dt) if dt is not None else a.dtype)
    return f


_ROUTES = {
    torch.randn: _randn,
    torch.rand: _rand,
    torch.randint: _randint,
    torch.randn_like: _like(lambda s, d: pf.random.normal(s, d, backend="torch")),
    torch.rand_like: _like(lambda s, d: pf.random.uniform(s, dtype=d, backend="torch")),
    torch.bernoulli: lambda p, *a, **k: pf.ops.convert_element_type(
        pf.ops.lt(pf.random.uniform(tuple(pf.trace.get_aval(p).shape), dtype=pf.trace.get_aval(p).dtype,
                                    backend="torch"), p), pf.trace.get_aval(p).dtype),
}


class RandomMode(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        route = _ROUTES.get(func)
        if route is not None:
            return route(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))
