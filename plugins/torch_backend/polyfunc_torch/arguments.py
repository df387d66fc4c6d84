"""torch's argument conventions translated for polyfunc.numpy: ``dim``/``keepdim``, sizes
given as ``f(2, 3)`` or ``f((2, 3))``, torch dtypes, devices of traced tensors."""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc.plugin import backend_of, base_value

from .dtypes import to_np_dtype

# what torch.max(x, dim), torch.sort, torch.topk, ... return
torch_return_types = namedtuple("torch_return_types", ["values", "indices"])
values_indices = torch_return_types


def axis(dim: Any) -> int | tuple[int, ...] | None:
    """torch's ``dim`` (an int, a sequence of ints or None) as a NumPy axis."""
    if dim is None or isinstance(dim, int):
        return dim
    if isinstance(dim, (list, tuple, torch.Size)):
        return tuple(int(d) for d in dim)
    return int(dim)


def dim_kw(dim: Any, kw: dict, default: Any = None) -> Any:
    """torch's ``dim`` (also accepted as NumPy's ``axis``)."""
    if "axis" in kw:
        return kw.pop("axis")
    return default if dim is None else dim


def np_dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else to_np_dtype(dtype)


def shape_args(args: tuple) -> tuple[int, ...]:
    """``view(2, 3)``, ``view((2, 3))`` and ``view(torch.Size([2, 3]))`` alike."""
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def kw_shape(name: str, args: tuple, kwval: Any, kwname: str) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` or torch's keyword form ``f(<kwname>=(2, 3))``."""
    if kwval is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument {kwname!r}")
        return shape_args((kwval,)) if not isinstance(kwval, int) else (int(kwval),)
    return shape_args(args)


def shape(x: Any) -> tuple[int, ...]:
    return tuple(pnp.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


def ndim(x: Any) -> int:
    return len(shape(x))


def norm_dim(d: int, nd: int) -> int:
    return d + nd if d < 0 else d


def as_tuple(v: Any, n: int) -> tuple:
    return (v,) * n if isinstance(v, int) else tuple(v)


def float_of(x: Any) -> np.dtype:
    """x's dtype if floating, else float32 (torch's default for integer input)."""
    dt = pnp.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
    dt = to_np_dtype(dt)
    return dt if dt.kind == "f" else np.dtype(np.float32)


def is_int(x: Any) -> bool:
    dt = getattr(x, "dtype", None)
    return dt is not None and to_np_dtype(dt).kind in "iu"


def safe_sqrt(s: Any) -> Any:
    """sqrt with derivative 0 (not inf/NaN) at 0, as torch's norms."""
    z = pnp.equal(s, 0)
    return pnp.where(z, pnp.zeros_like(s), pnp.sqrt(pnp.where(z, pnp.ones_like(s), s)))


def safe_root(s: Any, p: float) -> Any:
    z = pnp.equal(s, 0)
    return pnp.where(z, pnp.zeros_like(s), pnp.power(pnp.where(z, pnp.ones_like(s), s), 1.0 / p))


def device_of(x: Any) -> torch.device:
    """The device of the concrete tensor under a tracer (JVP primal, batched value), else the
    backend's device, else the CPU."""
    x = base_value(x)
    if isinstance(x, torch.Tensor):
        return x.device
    try:
        b = backend_of(x)
    except Exception:
        b = None
    if b is None or not b.owns_type(torch.Tensor):
        # a traced array of another library (NumPy, ...): no torch attribute
        raise AttributeError("a traced array that is not a torch tensor has no attribute 'device'")
    return torch.device(b.device) if b.device else torch.device("cpu")
