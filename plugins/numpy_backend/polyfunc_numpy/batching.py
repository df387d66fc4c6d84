"""Batching rules that beat the generic ones on concrete NumPy arrays.

The generic gather rule for a batched operand *and* batched indices flattens
the batch into the operand and offsets the indices (about eight primitives);
NumPy does the same in one advanced-indexing call.
"""
from __future__ import annotations

import numpy as np

from polyfunc.plugin import generic_batch_rule

__all__ = ["batch_rules", "gather_both_batched"]


def gather_both_batched(vals, dims, *, axis):
    """gather with both operand and indices batched, as one NumPy advanced-indexing call
    (also run per block by the dask plugin)."""
    x, idx = vals
    dx, di = dims
    if dx is None or di is None:
        return _generic("gather")(vals, dims, axis=axis)
    # np.moveaxis is a Python function costing microseconds: skip it when nothing moves
    if dx:
        x = np.moveaxis(x, dx, 0)
    if di:
        idx = np.moveaxis(idx, di, 0)
    b = x.shape[0]
    xm = np.moveaxis(x, axis + 1, 1) if axis else x           # (B, N, pre.., post..)
    rows = np.arange(b).reshape((b,) + (1,) * (idx.ndim - 1))
    out = xm[rows, idx]                                       # (B, I.., pre.., post..)
    if not axis:
        return out, 0
    k = idx.ndim - 1
    m = out.ndim - 1 - k - axis
    perm = [0] + [k + 1 + j for j in range(axis)] + [1 + j for j in range(k)] + [k + axis + 1 + j for j in range(m)]
    return out.transpose(perm), 0


def _generic(name):
    return generic_batch_rule(name)


batch_rules = {"gather": gather_both_batched}
