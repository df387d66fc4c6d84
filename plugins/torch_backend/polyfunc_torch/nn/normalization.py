"""Normalization layers of torch.nn.functional on traced tensors."""
from __future__ import annotations

import numpy as np
import torch.nn.functional as F

import polyfunc.numpy as pnp

from ..arguments import ndim, shape
from ..dtypes import to_np_dtype
from ..registry import implements


def _scale_shift(out, weight, bias, shp=None):
    if weight is not None:
        out = pnp.multiply(out, weight if shp is None else pnp.reshape(weight, shp))
    if bias is not None:
        out = pnp.add(out, bias if shp is None else pnp.reshape(bias, shp))
    return out


def _normalized(xc, var, eps):
    return pnp.multiply(xc, pnp.true_divide(1, pnp.sqrt(pnp.add(var, eps))))


@implements(F.layer_norm)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    axes = tuple(range(-k, 0))
    xc = pnp.subtract(input, pnp.mean(input, axis=axes, keepdims=True))
    var = pnp.mean(pnp.multiply(xc, xc), axis=axes, keepdims=True)
    return _scale_shift(_normalized(xc, var, eps), weight, bias)


@implements(F.batch_norm)
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    nd = ndim(input)
    shp = (1, -1) + (1,) * (nd - 2)
    if training:
        if running_mean is not None or running_var is not None:
            raise TypeError(
                "batch_norm in training mode updates its running statistics in place, which a traced "
                "function cannot do; build the module with track_running_stats=False, or call "
                "model.eval() to use the running statistics.")
        axes = (0,) + tuple(range(2, nd))
        xc = pnp.subtract(input, pnp.mean(input, axis=axes, keepdims=True))
        var = pnp.mean(pnp.multiply(xc, xc), axis=axes, keepdims=True)
    else:
        if running_mean is None or running_var is None:
            raise TypeError("batch_norm in eval mode needs running_mean and running_var")
        xc = pnp.subtract(input, pnp.reshape(running_mean, shp))
        var = pnp.reshape(running_var, shp)
    # the per-channel factors are folded first: one full-size multiply, not two (each one also
    # costs its tangent and cotangent passes under grad)
    scale = pnp.true_divide(1, pnp.sqrt(pnp.add(var, eps)))
    if weight is not None:
        scale = pnp.multiply(scale, pnp.reshape(weight, shp))
    return _scale_shift(pnp.multiply(xc, scale), None, bias, shp)


@implements(F.group_norm)
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    s = shape(input)
    n, c = s[0], s[1]
    x = pnp.reshape(input, (n, num_groups, -1))
    xc = pnp.subtract(x, pnp.mean(x, axis=2, keepdims=True))
    var = pnp.mean(pnp.multiply(xc, xc), axis=2, keepdims=True)
    out = pnp.reshape(_normalized(xc, var, eps), s)
    return _scale_shift(out, weight, bias, (1, c) + (1,) * (len(s) - 2))


@implements(F.instance_norm)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if not use_input_stats:        # eval mode of a module that tracks running statistics
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if running_mean is not None or running_var is not None:
        raise TypeError("instance_norm with track_running_stats=True updates its running statistics in place "
                        "in training mode, which a traced function cannot do; build the module with "
                        "track_running_stats=False (the default), or call model.eval().")
    # per sample and channel over the spatial dims: group norm with one channel per group
    return group_norm(input, shape(input)[1], weight, bias, eps)


@implements(getattr(F, "rms_norm", None))
def rms_norm(input, normalized_shape, weight=None, eps=None):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(n) for n in normalized_shape)
    k = len(ns)
    if not k or tuple(shape(input)[-k:]) != ns:
        raise RuntimeError(f"rms_norm: expected input with shape [*, {', '.join(map(str, ns))}], but got "
                           f"input of size {list(shape(input))}")
    if eps is None:
        eps = float(np.finfo(to_np_dtype(input.dtype)).eps)     # torch's default: the dtype's epsilon
    ms = pnp.mean(pnp.multiply(input, input), axis=tuple(range(-k, 0)), keepdims=True)
    return _scale_shift(_normalized(input, ms, eps), weight, None)
