"""Convolutions of torch.nn.functional on traced tensors: N-d cross-correlation as strided
slices and one contraction, and the transposed convolution as a plain one."""
from __future__ import annotations

import numpy as np
import torch.nn.functional as F

import polyfunc.numpy as pnp
from polyfunc import ops

from ..arguments import as_tuple, ndim, shape
from ..registry import implements


def conv(input, weight, bias, stride, padding, dilation, groups, nsp):
    """N-d convolution (cross-correlation) over ``nsp`` spatial dims."""
    unbatched = ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    ws = shape(weight)
    k = ws[2:]
    stride, dilation = as_tuple(stride, nsp), as_tuple(dilation, nsp)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nsp
        elif padding == "same":
            pads = []
            for kk, d in zip(k, dilation):
                tot = d * (kk - 1)
                pads.append((tot // 2, tot - tot // 2))
        else:
            raise ValueError(f"conv: padding must be 'valid', 'same' or integers, not {padding!r}")
    else:
        pads = [(p, p) for p in as_tuple(padding, nsp)]
    if any(lo or hi for lo, hi in pads):
        input = pnp.pad(input, [(0, 0), (0, 0)] + pads)
    s = shape(input)
    n, c = s[0], s[1]
    sp = s[2:]
    out_sp = [(sp[i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    patches = []
    for offs in np.ndindex(*k):
        idx = (slice(None), slice(None)) + tuple(
            slice(o * d, o * d + (m - 1) * st + 1, st) for o, d, m, st in zip(offs, dilation, out_sp, stride))
        patches.append(input[idx])                                  # (N, C, *out)
    kk = len(patches)
    pat = pnp.stack(patches, axis=2)                                # (N, C, K, *out)
    g = groups
    o = ws[0]
    pat = pnp.reshape(pat, (n, g, c // g, kk) + tuple(out_sp))     # (N, G, C/G, K, *out)
    w = pnp.reshape(weight, (g, o // g, c // g, kk))               # (G, O/G, C/G, K)
    # batch G; contract C/G and K -> (G, N, *out, O/G)
    nout = len(out_sp)
    res = ops.dot_general(pat, w, (((2, 3), (2, 3)), ((1,), (0,))))
    perm = (1, 0, 2 + nout) + tuple(range(2, 2 + nout))             # (N, G, O/G, *out)
    res = pnp.reshape(pnp.transpose(res, perm), (n, o) + tuple(out_sp))
    if bias is not None:
        res = pnp.add(res, pnp.reshape(bias, (1, o) + (1,) * nsp))
    return pnp.squeeze(res, axis=0) if unbatched else res


@implements(F.conv1d)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv(input, weight, bias, stride, padding, dilation, groups, 1)


@implements(F.conv2d)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv(input, weight, bias, stride, padding, dilation, groups, 2)


@implements(F.conv3d)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nsp):
    """The transposed convolution as a plain one: the input spread out by ``stride`` (interior
    padding), padded by what the kernel overhangs, then convolved with the kernel flipped in
    space and with its in/out channels swapped."""
    unbatched = ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    stride, padding = as_tuple(stride, nsp), as_tuple(padding, nsp)
    output_padding, dilation = as_tuple(output_padding, nsp), as_tuple(dilation, nsp)
    ws = shape(weight)                          # (C_in, C_out / groups, *k)
    k = ws[2:]
    cfg, crop = [(0, 0, 0), (0, 0, 0)], []
    for i in range(nsp):
        lo = dilation[i] * (k[i] - 1) - padding[i]
        hi = lo + output_padding[i]
        cfg.append((max(lo, 0), max(hi, 0), stride[i] - 1))
        crop.append((max(-lo, 0), max(-hi, 0)))  # padding beyond the overhang crops instead
    x = ops.pad(input, 0, cfg)
    if any(a or b for a, b in crop):
        sx = shape(x)
        x = x[(slice(None),) * 2 + tuple(slice(a, sx[2 + i] - b) for i, (a, b) in enumerate(crop))]
    g, cin, cog = groups, ws[0], ws[1]
    w = pnp.reshape(weight, (g, cin // g, cog) + tuple(k))
    w = pnp.swapaxes(w, 1, 2)                                        # (G, C_out/G, C_in/G, *k)
    w = pnp.reshape(w, (g * cog, cin // g) + tuple(k))
    w = pnp.flip(w, axis=tuple(range(2, 2 + nsp)))
    out = conv(x, w, bias, 1, 0, dilation, groups, nsp)
    return pnp.squeeze(out, axis=0) if unbatched else out


@implements(F.conv_transpose1d)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


@implements(F.conv_transpose2d)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


@implements(F.conv_transpose3d)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
