"""Sorting and order statistics of torch code on traced tensors: sort, argsort, topk,
median, quantile.  Values are read at the sorting indices, so each gradient flows to the
element that landed there."""
from __future__ import annotations

import math

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc import ops

from .arguments import ndim, norm_dim, shape, values_indices
from .registry import implements


def _sort_idx(input, dim, descending):
    """(x, the permutation sorting it along dim, the axis); a 0-d tensor sorts as itself, index 0."""
    x = pnp.asarray(input) if isinstance(input, (int, float)) else input
    if ndim(x) == 0:
        if dim not in (0, -1):
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        return x, pnp.full_like(x, 0, dtype=np.int64), None
    d = norm_dim(dim, ndim(x))
    return x, ops.argsort(x, d, descending), d


@implements(torch.argsort, method="argsort")
def argsort(input, dim=-1, descending=False, stable=False):
    return _sort_idx(input, dim, descending)[1]


@implements(torch.sort, method="sort")
def sort(input, dim=-1, descending=False, stable=False):
    x, idx, d = _sort_idx(input, dim, descending)
    if d is None:
        return values_indices(x, idx)
    return values_indices(pnp.take_along_axis(x, idx, axis=d), idx)


@implements(torch.msort, method="msort")
def msort(input):
    return sort(input, dim=0).values


@implements(torch.topk, method="topk")
def topk(input, k, dim=-1, largest=True, sorted=True):
    x, idx, d = _sort_idx(input, dim, largest)
    n = x.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size {n}")
    if d is None:
        if k == 0:
            raise NotImplementedError("topk with k=0 on a 0-d tensor is not supported inside polyfunc transforms")
        return values_indices(x, idx)
    if k != n:
        idx = idx[(slice(None),) * d + (slice(0, k),)]
    return values_indices(pnp.take_along_axis(x, idx, axis=d), idx)


@implements(torch.median, method="median")
def median(input, dim=None, keepdim=False):
    """The lower median (torch's); with ``dim``, (values, indices).  The gradient reaches the
    element that is the median."""
    if dim is None:
        flat = pnp.reshape(input, (-1,))
        return sort(flat).values[(shape(flat)[0] - 1) // 2]
    d = norm_dim(dim, ndim(input))
    n = shape(input)[d]
    srt = sort(input, dim=d)
    sl = (slice(None),) * d + (slice((n - 1) // 2, (n - 1) // 2 + 1),)
    vals, idx = srt.values[sl], srt.indices[sl]
    if not keepdim:
        vals, idx = pnp.squeeze(vals, axis=d), pnp.squeeze(idx, axis=d)
    return values_indices(vals, idx)


@implements(torch.quantile, method="quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    if not isinstance(q, (int, float)):
        if ndim(q) == 0:
            q = float(q)
        else:
            return pnp.stack([quantile(input, float(v), dim, keepdim, interpolation=interpolation)
                              for v in q.tolist()], axis=0)
    x = pnp.reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, ndim(input))
    n = shape(x)[d]
    srt = sort(x, dim=d).values
    pos = q * (n - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))

    def take(i):
        return pnp.take(srt, i, axis=d)
    if interpolation == "lower" or lo == hi:
        res = take(lo)
    elif interpolation == "higher":
        res = take(hi)
    elif interpolation == "nearest":
        res = take(int(round(pos)))          # ties to even, as torch
    elif interpolation == "midpoint":
        res = pnp.multiply(pnp.add(take(lo), take(hi)), 0.5)
    elif interpolation == "linear":
        a = take(lo)
        res = pnp.add(a, pnp.multiply(pnp.subtract(take(hi), a), pos - lo))
    else:
        raise ValueError(f"quantile: unknown interpolation {interpolation!r}")
    if keepdim:
        res = pnp.reshape(res, (1,) * ndim(input)) if dim is None else pnp.expand_dims(res, d)
    return res
