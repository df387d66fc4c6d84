"""torch's own random functions under vmap.

``torch.randn(3)`` inside ``pf.vmap`` has no traced argument, so it never
reaches a tracer's ``__torch_function__``; left alone it would draw once and
silently ignore vmap's ``randomness``.  When the torch backend is first used,
``torch.randn``, ``rand``, ``randint``, ``randn_like``, ``rand_like`` and
``bernoulli`` are wrapped: outside a vmap the wrapper calls torch's own
function after one context-variable read; inside one it draws through
polyfunc's random primitives on the torch backend, so 'error', 'different'
and 'same' hold.  (A TorchFunctionMode would do the same without touching
torch's namespace, but it intercepts every torch call under vmap and cost
10-30% on the vmap benchmarks.)
"""
from __future__ import annotations

import numpy as np
import torch

import polyfunc as pf
from polyfunc.plugin import get_aval, in_vmap, under_transform

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
        a = get_aval(x)
        return draw(tuple(a.shape), to_np_dtype(dt) if dt is not None else a.dtype)
    return f


_ROUTES = {
    torch.randn: _randn,
    torch.rand: _rand,
    torch.randint: _randint,
    torch.randn_like: _like(lambda s, d: pf.random.normal(s, d, backend="torch")),
    torch.rand_like: _like(lambda s, d: pf.random.uniform(s, dtype=d, backend="torch")),
    torch.bernoulli: lambda p, *a, **k: pf.ops.convert_element_type(
        pf.ops.lt(pf.random.uniform(tuple(get_aval(p).shape), dtype=get_aval(p).dtype,
                                    backend="torch"), p), get_aval(p).dtype),
}


def _under_vmap() -> bool:
    return in_vmap()


def install() -> None:
    """Wrap torch's random factories once (idempotent)."""
    for orig, route in list(_ROUTES.items()):
        name = orig.__name__
        if getattr(getattr(torch, name), "__polyfunc_route__", None) is not None:
            continue

        def wrapper(*args, _orig=orig, _route=route, **kwargs):
            if not under_transform() or not _under_vmap():
                return _orig(*args, **kwargs)
            return _route(*args, **kwargs)
        wrapper.__name__ = name
        wrapper.__doc__ = orig.__doc__
        wrapper.__wrapped__ = orig
        wrapper.__polyfunc_route__ = route
        setattr(torch, name, wrapper)
