"""New tensors from traced ones: ``torch.*_like`` and ``Tensor.new_*``."""
from __future__ import annotations

import torch

import polyfunc.numpy as pnp
from polyfunc import ops

from .arguments import device_of, kw_shape, np_dtype
from .dtypes import to_np_dtype
from .registry import implements


def _filled_like(fill, name):
    def f(input, *, dtype=None, **_):
        return pnp.full_like(input, fill, dtype=np_dtype(dtype))
    f.__name__ = name
    return f


zeros_like = implements(torch.zeros_like)(_filled_like(0, "zeros_like"))
ones_like = implements(torch.ones_like)(_filled_like(1, "ones_like"))
empty_like = implements(torch.empty_like)(_filled_like(0, "empty_like"))


@implements(torch.full_like)
def full_like(input, fill_value, *, dtype=None, **_):
    return pnp.full_like(input, fill_value, dtype=np_dtype(dtype))


def _new_filled(fill, name):
    def f(input, *args, size=None, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, **kw):
        shape = kw_shape(name, args, size, "size")
        return torch.full(shape, fill, dtype=dtype if dtype is not None else input.dtype,
                          device=device if device is not None else device_of(input))
    f.__name__ = name
    return f


new_zeros = implements(method="new_zeros")(_new_filled(0, "new_zeros"))
new_ones = implements(method="new_ones")(_new_filled(1, "new_ones"))
new_empty = implements(method="new_empty")(_new_filled(0, "new_empty"))


@implements(method="new_full")
def new_full(input, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    shape = kw_shape("new_full", (), size, "size")
    dtype = dtype if dtype is not None else input.dtype
    if isinstance(fill_value, (int, float, bool)):
        return torch.full(shape, fill_value, dtype=dtype, device=device if device is not None else device_of(input))
    return pnp.broadcast_to(pnp.astype(fill_value, to_np_dtype(dtype)), shape)


@implements(method="new_tensor")
def new_tensor(input, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dtype = dtype if dtype is not None else input.dtype
    if isinstance(data, torch.Tensor) or not hasattr(data, "_trace"):
        return torch.as_tensor(data, dtype=dtype, device=device if device is not None else device_of(input)).clone()
    return ops.stop_gradient(pnp.astype(data, to_np_dtype(dtype)))
