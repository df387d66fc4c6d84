"""Padding and resampling of torch.nn.functional on traced tensors: pad, interpolate,
pixel (un)shuffle."""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

import polyfunc.numpy as pnp

from ..arguments import as_tuple, device_of, ndim, shape
from ..registry import implements
from .convolution import adaptive_avg_pool2d

_PAD_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@implements(F.pad)
def pad(input, pad, mode="constant", value=None):
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"torch.nn.functional.pad(mode={mode!r}) is not supported inside polyfunc "
                                  f"transforms; use one of {tuple(_PAD_MODES)}")
    pad = list(pad)
    nd = ndim(input)
    if len(pad) % 2 or len(pad) // 2 > nd:
        raise RuntimeError(f"pad: the padding {tuple(pad)} must have an even length of at most {2 * nd} "
                           f"(two entries per padded dimension of a {nd}-D input)")
    shp = shape(input)
    width = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0 or hi < 0:
            raise NotImplementedError("torch.nn.functional.pad with negative padding (cropping) is not supported "
                                      "inside polyfunc transforms; slice instead")
        n = shp[nd - 1 - i]
        if (mode == "reflect" and max(lo, hi) >= n) or (mode == "circular" and max(lo, hi) > n):
            raise RuntimeError(f"pad: {mode} padding of ({lo}, {hi}) is too large for a dimension of size {n}")
        width[nd - 1 - i] = (lo, hi)
    if mode != "constant":
        return pnp.pad(input, width, mode=_PAD_MODES[mode])
    return pnp.pad(input, width, constant_values=0 if value is None else value)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_indices(n, m, scale, exact, two_d):
    """torch's source index of each output position, in float32 as its kernels compute it; the
    2-D kernel also copies equal sizes and halves exact doubling."""
    if two_d and not exact and m == n:
        return list(range(m))
    if two_d and not exact and m == 2 * n:
        return [j >> 1 for j in range(m)]
    s = np.float32(scale) if scale is not None and scale > 0 else np.float32(n) / np.float32(m)
    off = np.float32(0.5 if exact else 0.0)
    return [min(int(np.floor((np.float32(j) + off) * s)), n - 1) for j in range(m)]


@implements(F.interpolate, F.upsample)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resampling axis by axis: each output position reads one input position (nearest) or two,
    weighted (linear), by fixed indices, so gradients gather back to where values came from."""
    nsp = ndim(input) - 2
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported inside polyfunc transforms")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != nsp:
        raise NotImplementedError(f"interpolate: mode {mode!r} needs {_LINEAR_MODES[mode] + 2}-D input, "
                                  f"got {nsp + 2}-D")
    if mode == "area":
        if nsp != 2:
            raise NotImplementedError("interpolate(mode='area') is supported for 4-D input only")
    elif mode not in ("nearest", "nearest-exact") and mode not in _LINEAR_MODES:
        raise NotImplementedError(f"interpolate(mode={mode!r}) is not supported inside polyfunc transforms; "
                                  f"use 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' or 'area'")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sp = shape(input)[2:]
    given = size if size is not None else scale_factor
    if isinstance(given, (tuple, list)) and len(given) != nsp:
        raise ValueError(f"interpolate: {'size' if size is not None else 'scale_factor'} has {len(given)} "
                         f"entries but the input has {nsp} spatial dimension(s)")
    if mode not in ("nearest", "nearest-exact", "area") and not input.dtype.is_floating_point:
        raise NotImplementedError(f"interpolate(mode={mode!r}) on {input.dtype} input is not supported inside "
                                  f"polyfunc transforms; convert the input to a floating dtype first")
    if size is not None:
        out_sp = as_tuple(size, nsp)
        scales = [None] * nsp
    else:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nsp
        out_sp = tuple(int(math.floor(n * f)) for n, f in zip(in_sp, sf))
        scales = [None if recompute_scale_factor else 1.0 / f for f in sf]
    if mode == "area":
        return adaptive_avg_pool2d(input, out_sp)
    x = input
    dev, dt = device_of(input), input.dtype
    for i, (n, m, sc) in enumerate(zip(in_sp, out_sp, scales)):
        axis = 2 + i
        scale = sc if sc is not None else n / m
        if mode in ("nearest", "nearest-exact"):
            x = pnp.take(x, torch.tensor(_nearest_indices(n, m, sc, mode == "nearest-exact", nsp == 2),
                                         device=dev, dtype=torch.int64), axis=axis)
            continue
        if m == n and not align_corners:
            continue                               # torch copies an axis whose size does not change
        if align_corners:
            src = [j * (n - 1) / (m - 1) if m > 1 else 0.0 for j in range(m)]
        else:
            src = [max((j + 0.5) * scale - 0.5, 0.0) for j in range(m)]
        lo = [min(int(math.floor(v)), n - 1) for v in src]
        hi = [min(k + 1, n - 1) for k in lo]
        wshape = [1] * ndim(input)
        wshape[axis] = m
        w = torch.tensor([v - k for v, k in zip(src, lo)], dtype=dt, device=dev).reshape(wshape)
        a = pnp.take(x, torch.tensor(lo, device=dev), axis=axis)
        b = pnp.take(x, torch.tensor(hi, device=dev), axis=axis)
        x = pnp.add(a, pnp.multiply(pnp.subtract(b, a), w))
    return x


@implements(F.pixel_shuffle, torch.pixel_shuffle)
def pixel_shuffle(input, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = shape(input)
    x = pnp.reshape(input, tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = pnp.transpose(x, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return pnp.reshape(x, tuple(lead) + (c // (r * r), h * r, w * r))


@implements(F.pixel_unshuffle, torch.pixel_unshuffle)
def pixel_unshuffle(input, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = shape(input)
    x = pnp.reshape(input, tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    x = pnp.transpose(x, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return pnp.reshape(x, tuple(lead) + (c * r * r, h // r, w // r))
