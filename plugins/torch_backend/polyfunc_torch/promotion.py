"""torch's type promotion for torch code on traced values.

polyfunc.numpy promotes like NumPy (the same on every backend); torch code promotes like
torch: float32 * int64 tensor stays float32, a 0-d tensor does not raise the dtype of an
n-d one, int / int gives the default float.  Functions registered with ``promote=True``
(see ``registry.implements``) cast their first two operands to torch's result dtype
before the polyfunc.numpy call.  The result dtype is asked of torch itself, on 1-element
proxy tensors, once per (dtype, 0-d or not) pair.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc.plugin import get_aval

from .dtypes import to_np_dtype, to_torch_dtype

_SCALARS = (bool, int, float)
_SCALAR_PROXY = {bool: True, int: 1, float: 1.0}
_proxies: dict = {}
_result_types: dict = {}


def _key(v: Any) -> Any:
    if v.__class__ in _SCALARS:
        return v.__class__
    a = get_aval(v)
    return (a.dtype, bool(a.shape))


def _proxy(key: Any) -> Any:
    if key in _SCALARS:
        return _SCALAR_PROXY[key]
    p = _proxies.get(key)
    if p is None:
        dt, nd = key
        p = _proxies[key] = torch.empty((1,) if nd else (), dtype=to_torch_dtype(dt))
    return p


def _torch_result(ka: Any, kb: Any, true_div: bool = False) -> np.dtype:
    k = (ka, kb, true_div)
    rt = _result_types.get(k)
    if rt is None:
        t = torch.result_type(_proxy(ka), _proxy(kb))
        if true_div and not t.is_floating_point:
            t = torch.get_default_dtype()       # int / int is a float in torch
        rt = _result_types[k] = to_np_dtype(t)
    return rt


def cast(v: Any, dt: np.dtype) -> Any:
    if v.__class__ in _SCALARS:
        return v
    return v if get_aval(v).dtype == dt else pnp.astype(v, dt)


def result_dtype(a: Any, b: Any) -> np.dtype:
    """The dtype torch computes ``a op b`` in (tensors, tracers or Python scalars)."""
    return _torch_result(_key(a), _key(b))


def torch_promoted(fn: Callable[..., Any], true_div: bool = False) -> Callable[..., Any]:
    """``fn(a, b, ...)`` with a and b cast to the dtype torch would compute in."""
    def w(a, b, *rest, **kwargs):
        ka, kb = _key(a), _key(b)
        if ka in _SCALARS and kb in _SCALARS:
            return fn(a, b, *rest, **kwargs)
        dt = _torch_result(ka, kb, true_div)
        return fn(cast(a, dt), cast(b, dt), *rest, **kwargs)
    w.__name__ = getattr(fn, "__name__", "op")
    return w
