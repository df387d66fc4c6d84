"""Pooling of torch.nn.functional on traced tensors: max, average, power-average and
adaptive pools, as stacked strided windows and one reduction."""
from __future__ import annotations

import math

import numpy as np
import torch.nn.functional as F

import polyfunc.numpy as pnp

from ..arguments import as_tuple, ndim, shape
from ..registry import implements
from .activations import relu


def _first_max(stacked, axis):
    """The value at the first maximum along ``axis`` (torch's index), so ties give it the gradient."""
    return pnp.squeeze(pnp.take_along_axis(stacked, pnp.argmax(stacked, axis=axis, keepdims=True), axis=axis),
                       axis=axis)


def _pool(input, kernel_size, stride, padding, nsp, take_max, pad_value):
    unbatched = ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    k = as_tuple(kernel_size, nsp)
    st = k if stride is None or stride == [] else as_tuple(stride, nsp)
    pads = as_tuple(padding, nsp)
    if any(pads):
        input = pnp.pad(input, [(0, 0), (0, 0)] + [(p, p) for p in pads], constant_values=pad_value)
    sp = shape(input)[2:]
    out_sp = [(sp[i] - k[i]) // st[i] + 1 for i in range(nsp)]
    patches = []
    for offs in np.ndindex(*k):
        idx = (slice(None), slice(None)) + tuple(
            slice(o, o + (m - 1) * s + 1, s) for o, m, s in zip(offs, out_sp, st))
        patches.append(input[idx])
    stacked = pnp.stack(patches, axis=2)
    res = _first_max(stacked, 2) if take_max else pnp.mean(stacked, axis=2)
    return pnp.squeeze(res, axis=0) if unbatched else res


def _max_pool(nsp):
    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if dilation != 1 or ceil_mode or return_indices:
            raise NotImplementedError(f"max_pool{nsp}d: dilation, ceil_mode and return_indices are not supported "
                                      f"inside polyfunc transforms")
        return _pool(input, kernel_size, stride, padding, nsp, True, -math.inf)
    max_pool.__name__ = f"max_pool{nsp}d"
    return max_pool


def _avg_pool(nsp):
    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        if ceil_mode or not count_include_pad or divisor_override is not None:
            raise NotImplementedError(f"avg_pool{nsp}d: ceil_mode, count_include_pad=False and divisor_override "
                                      f"are not supported inside polyfunc transforms")
        return _pool(input, kernel_size, stride, padding, nsp, False, 0)
    avg_pool.__name__ = f"avg_pool{nsp}d"
    return avg_pool


def _lp_pool(nsp):
    def lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        # torch's form: the window mean of x^p, times the window size, to the power 1/p
        k = as_tuple(kernel_size, nsp)
        out = _avg_pool(nsp)(pnp.power(input, float(norm_type)), kernel_size, stride, 0, ceil_mode)
        out = pnp.multiply(pnp.multiply(pnp.sign(out), relu(pnp.abs(out))), float(math.prod(k)))
        return pnp.power(out, 1.0 / float(norm_type))
    lp_pool.__name__ = f"lp_pool{nsp}d"
    return lp_pool


max_pool1d = implements(F.max_pool1d)(_max_pool(1))
max_pool2d = implements(F.max_pool2d)(_max_pool(2))
max_pool3d = implements(F.max_pool3d)(_max_pool(3))
avg_pool1d = implements(F.avg_pool1d)(_avg_pool(1))
avg_pool2d = implements(F.avg_pool2d)(_avg_pool(2))
avg_pool3d = implements(F.avg_pool3d)(_avg_pool(3))
lp_pool1d = implements(F.lp_pool1d)(_lp_pool(1))
lp_pool2d = implements(F.lp_pool2d)(_lp_pool(2))


def _adaptive_sizes(name, input, output_size):
    sp = shape(input)[-2:]
    osz = as_tuple(output_size, 2) if not isinstance(output_size, int) else (output_size, output_size)
    osz = tuple(sp[i] if o is None else int(o) for i, o in enumerate(osz))
    if any(n % o for n, o in zip(sp, osz)):
        raise NotImplementedError(
            f"{name}: an input size {tuple(sp)} that is not a multiple of the output size {osz} (windows of "
            f"different sizes) is not supported inside polyfunc transforms; only divisible sizes are")
    return sp, osz


def _adaptive_windows(input, sp, osz):
    """(..., oh, ow, kh*kw): each output position's window, for divisible sizes."""
    lead = shape(input)[:-2]
    (h, w), (oh, ow) = sp, osz
    kh, kw = h // oh, w // ow
    x = pnp.reshape(input, lead + (oh, kh, ow, kw))
    nl = len(lead)
    x = pnp.transpose(x, tuple(range(nl)) + (nl, nl + 2, nl + 1, nl + 3))
    return pnp.reshape(x, lead + (oh, ow, kh * kw))


@implements(F.adaptive_avg_pool2d)
def adaptive_avg_pool2d(input, output_size):
    sp, osz = _adaptive_sizes("adaptive_avg_pool2d", input, output_size)
    return pnp.mean(_adaptive_windows(input, sp, osz), axis=-1)


@implements(F.adaptive_max_pool2d)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d(return_indices=True) is not supported inside polyfunc "
                                  "transforms")
    sp, osz = _adaptive_sizes("adaptive_max_pool2d", input, output_size)
    return _first_max(_adaptive_windows(input, sp, osz), -1)
