"""Tensor methods about the tensor itself on traced tensors: sizes, dtype conversions,
device moves (refused), copies, ``detach``, and the attributes modules read."""
from __future__ import annotations

import math

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc import ops

from .arguments import device_of, ndim, shape
from .dtypes import to_np_dtype
from .registry import implements, tensor_property


# (x.size() on a tracer is the core's: a tracer has its own size attribute)
@implements(method=("dim", "ndimension"))
def dim(input):
    return ndim(input)


@implements(method=("numel", "nelement"))
def numel(input):
    return math.prod(shape(input))


def _astype(np_dtype, name):
    def f(input, memory_format=None):
        return pnp.astype(input, np_dtype)
    f.__name__ = name
    return f


for _name, _dt in (("float", np.float32), ("double", np.float64), ("half", np.float16), ("int", np.int32),
                   ("long", np.int64), ("short", np.int16), ("bool", np.bool_), ("byte", np.uint8)):
    implements(method=_name)(_astype(_dt, _name))


def _same_device(input, device, what):
    """A traced tensor stays on its device: moving it is refused, naming both devices."""
    want, have = torch.device(device), device_of(input)
    if want.type != have.type or (want.index is not None and have.index is not None and want.index != have.index):
        raise NotImplementedError(
            f"{what}: moving a traced tensor from {have} to {want} is not supported inside polyfunc transforms; "
            f"move the inputs (and the model) before calling the transformed function.")


@implements(method="to")
def to(input, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other)``: the dtype part; the device must be the
    tensor's own."""
    dtype = kwargs.get("dtype")
    if kwargs.get("device") is not None:
        _same_device(input, kwargs["device"], "x.to(device=...)")
    for a in args:
        if isinstance(a, torch.dtype):
            dtype = a
        elif isinstance(a, (str, torch.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            _same_device(input, f"cuda:{a}" if isinstance(a, int) else a, "x.to(device)")
        elif isinstance(a, torch.Tensor) or hasattr(a, "dtype"):
            _same_device(input, device_of(a), "x.to(other)")
            dtype = a.dtype
    return input if dtype is None else pnp.astype(input, to_np_dtype(dtype))


@implements(method="cpu")
def cpu(input, *args, **kwargs):
    _same_device(input, "cpu", "x.cpu()")
    return input


@implements(method="cuda")
def cuda(input, device=None, *args, **kwargs):
    _same_device(input, "cuda" if device is None else (device if not isinstance(device, int) else f"cuda:{device}"),
                 "x.cuda()")
    return input


@implements(method="type_as")
def type_as(input, other):
    return pnp.astype(input, to_np_dtype(other.dtype))


_TYPE_NAMES = {"torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64, "torch.LongTensor": np.int64,
               "torch.IntTensor": np.int32, "torch.BoolTensor": np.bool_, "torch.HalfTensor": np.float16}


@implements(method="type")
def type_(input, dtype=None, non_blocking=False, **kw):
    if dtype is None:
        raise TypeError("x.type() (the type name) is not available on a traced tensor; use x.dtype")
    if isinstance(dtype, str):
        if dtype not in _TYPE_NAMES:
            raise TypeError(f"x.type({dtype!r}) is not supported inside polyfunc transforms; use x.to(dtype)")
        return pnp.astype(input, _TYPE_NAMES[dtype])
    return pnp.astype(input, to_np_dtype(dtype))


@implements(method=("clone", "contiguous"))
def identity(input, *args, **kwargs):
    return input      # traced values are immutable: a copy is the value itself


@implements(torch.detach, method="detach")
def detach(input):
    return ops.stop_gradient(input)


# ------------------------------------------------------------------ attributes modules read
tensor_property("device")(device_of)


def _torch_only(name, value):
    """An attribute of traced torch tensors only (another library's tracer raises AttributeError)."""
    def get(x):
        try:
            device_of(x)
        except AttributeError:
            raise AttributeError(f"a traced array that is not a torch tensor has no attribute {name!r}") from None
        return value
    get.__name__ = name
    return get


for _name in ("is_nested", "requires_grad", "is_sparse"):
    tensor_property(_name)(_torch_only(_name, False))


@tensor_property("is_cuda")
def is_cuda(x):
    return device_of(x).type == "cuda"
