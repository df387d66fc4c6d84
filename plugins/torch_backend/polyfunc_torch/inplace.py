"""In-place torch methods and functions on traced tensors: a TypeError naming the
out-of-place form (a traced value cannot be mutated)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import implements

# x[i] = t on a real x is dispatched with the traced value; for x += t, x /= t, ... on a real
# x torch returns NotImplemented, and Python computes the out-of-place form instead
_DUNDERS = ("__setitem__",)


_refusals: dict = {}


def refusal(name: str):
    """The function refusing in-place ``name``, its message naming what to write instead
    (one per name: torch.relu_ is also F.relu_)."""
    if name in _refusals:
        return _refusals[name]
    out_name = name.rstrip("_") if not name.startswith("__i") else name[3:-2]
    if name == "__setitem__":
        hint = "the out-of-place form polyfunc.numpy.index_update(x, idx, v) (or torch.where(mask, v, x))"
    elif name in ("copy_", "set_"):
        hint = "the value you would copy in, directly"
    elif name in ("zero_", "fill_"):
        hint = "torch.zeros_like(x) / torch.full_like(x, value)"
    else:
        hint = f"the out-of-place form x.{out_name}(...)"

    def refuse(*args, **kwargs):
        raise TypeError(f"in-place {name} on a traced tensor is not supported; use {hint} and keep "
                        f"the returned value.")
    refuse.__name__ = name
    _refusals[name] = refuse
    return refuse


# every in-place Tensor method (x.add_(...), ...), as a method of tracers and for torch's dispatch
for _name in dir(torch.Tensor):
    if _name.endswith("_") and not _name.startswith("_") and callable(getattr(torch.Tensor, _name, None)):
        implements(method=_name)(refusal(_name))
for _name in _DUNDERS:
    implements(getattr(torch.Tensor, _name, None))(refusal(_name))
for _name in ("relu_", "sigmoid_", "tanh_", "exp_", "clamp_", "fill_", "zero_"):
    implements(getattr(torch, _name, None))(refusal(_name))
for _name in ("relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_", "rrelu_"):
    implements(getattr(F, _name, None))(refusal(_name))
