"""Indexing of torch code on traced tensors: ``x[idx]``, gathers, scatters, masked fills."""
from __future__ import annotations

import torch

import polyfunc.numpy as pnp
from polyfunc.plugin import getitem

from .arguments import device_of, ndim, norm_dim, shape
from .dtypes import to_np_dtype
from .registry import implements


# NumPy's indexing rules, also for a real tensor indexed by a traced value (table[idx])
implements(method="__getitem__")(getitem)


@implements(torch.index_select, method="index_select")
def index_select(input, dim, index):
    return pnp.take(input, index, axis=dim)


@implements(torch.gather, method="gather")
def gather(input, dim, index, *, sparse_grad=False):
    return pnp.take_along_axis(input, index, axis=dim)


@implements(torch.take_along_dim, method="take_along_dim")
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return pnp.take_along_axis(pnp.reshape(input, (-1,)), pnp.reshape(indices, (-1,)), axis=0)
    return pnp.take_along_axis(input, indices, axis=dim)


def _scatter_index(input, dim, index):
    """The advanced index that addresses ``input`` where torch.scatter* writes: ``index``
    along ``dim``, and each position itself along the other axes."""
    nd = ndim(input)
    d = norm_dim(dim, nd)
    ishape = shape(index)
    dev = device_of(input)
    return tuple(index if a == d else torch.arange(ishape[a], device=dev).reshape(
        [-1 if b == a else 1 for b in range(nd)]) for a in range(nd)), ishape


def _scatter_src(src, ishape):
    if isinstance(src, (int, float, bool)):
        return src
    if shape(src) != ishape:              # torch reads only the index-shaped corner of src
        src = src[tuple(slice(0, n) for n in ishape)]
    return src


@implements(torch.scatter_add, method="scatter_add")
def scatter_add(input, dim, index, src):
    idx, ishape = _scatter_index(input, dim, index)
    return pnp.index_add(input, idx, _scatter_src(src, ishape))


@implements(torch.scatter, method="scatter")
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if reduce is not None:
        raise NotImplementedError(f"torch.scatter(reduce={reduce!r}) is not supported inside polyfunc transforms; "
                                  f"use scatter_add, or scatter_reduce outside them")
    idx, ishape = _scatter_index(input, dim, index)
    # where an index repeats, torch keeps one of the writes (which one is unspecified); polyfunc their mean
    return pnp.index_update(input, idx, _scatter_src(src if src is not None else value, ishape))


@implements(torch.index_add, method="index_add")
def index_add(input, dim, index, source, *, alpha=1):
    d = norm_dim(dim, ndim(input))
    src = source if alpha == 1 else pnp.multiply(source, alpha)
    return pnp.index_add(input, (slice(None),) * d + (index,), src)


@implements(torch.masked_fill, method="masked_fill")
def masked_fill(input, mask, value):
    v = pnp.full_like(input, value) if isinstance(value, (int, float, bool)) else \
        pnp.astype(value, to_np_dtype(input.dtype))
    return pnp.where(mask, v, input)


@implements(torch.take, method="take")
def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (shaped like ``index``)."""
    return getitem(pnp.ravel(input), index)


@implements(torch.select, method="select")
def select(input, dim, index):
    d = norm_dim(dim, ndim(input))
    return getitem(input, (slice(None),) * d + (int(index),))
