"""Batching rules that keep a chunked batch axis chunked on concrete dask arrays.

The generic rules for gather and scatter_add with a batched operand *and*
batched indices fold the batch into the indexed axis and offset the indices;
on dask that pairs every chunk with every chunk.  Here the batch axis of both
stays the leading, blockwise axis: one task per batch chunk runs the NumPy
plugin's batched gather (or an ``np.add.at`` per row) on its block.
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from polyfunc.plugin import generic_batch_rule
from polyfunc_numpy.batching import gather_both_batched


def _front(x: Any, d: int) -> Any:
    return x if d == 0 else x.transpose([d] + [i for i in range(x.ndim) if i != d])


def gather(vals, dims, *, axis):
    x, idx = vals
    dx, di = dims
    if dx is None or di is None:
        return generic_batch_rule("gather")(vals, dims, axis=axis)
    import dask.array as da
    x, idx = da.asarray(_front(x, dx)), da.asarray(_front(idx, di))
    # the batch axis keeps its chunks; the indexed axis (and the index's own axes) become one chunk
    x = x.rechunk({axis + 1: -1})
    idx = idx.rechunk({i: -1 for i in range(1, idx.ndim)})
    letters = iter(string.ascii_letters)
    b = next(letters)
    xi = [b] + [next(letters) for _ in range(x.ndim - 1)]
    ii = [b] + [next(letters) for _ in range(idx.ndim - 1)]
    out = [b] + xi[1:axis + 1] + ii[1:] + xi[axis + 2:]

    def block(xb, ib):
        return gather_both_batched((xb, ib), (0, 0), axis=axis)[0]
    return da.blockwise(block, "".join(out), x, "".join(xi), idx, "".join(ii), dtype=x.dtype, concatenate=True), 0


def scatter_add(vals, dims, *, axis):
    x, idx, upd = vals
    dx, di, du = dims
    if di is None:
        return generic_batch_rule("scatter_add")(vals, dims, axis=axis)
    import dask.array as da
    idx = da.asarray(_front(idx, di))

    def batched(v, d):
        # an unbatched operand (the zeros a gather's transpose adds into, a shared cotangent) is
        # spread over the batch as a view chunked like the indices, not folded into a flat array
        v = da.asarray(v)
        if d is not None:
            return _front(v, d)
        return da.broadcast_to(v[None], (idx.shape[0],) + v.shape, chunks=(idx.chunks[0],) + v.chunks)
    x, upd = batched(x, dx), batched(upd, du)
    k = idx.ndim - 1
    x = x.rechunk({axis + 1: -1})
    idx = idx.rechunk({i: -1 for i in range(1, idx.ndim)})
    upd = upd.rechunk({i: -1 for i in range(axis + 1, axis + 1 + k)})
    letters = iter(string.ascii_letters)
    b = next(letters)
    xi = [b] + [next(letters) for _ in range(x.ndim - 1)]
    ii = [b] + [next(letters) for _ in range(k)]
    ui = [b] + xi[1:axis + 1] + ii[1:] + xi[axis + 2:]

    def block(xb, ib, ub):
        out = np.array(xb, copy=True)      # a writable copy (the block may be a broadcast view)
        n = out.shape[axis + 1]
        rows = np.arange(out.shape[0]).reshape((-1,) + (1,) * k)
        at = np.where(ib < 0, ib + n, ib)
        # updates laid out (B, pre.., I.., post..); add.at wants (B, I.., pre.., post..) on a (B, N, pre.., post..) view
        u = np.moveaxis(ub, list(range(axis + 1, axis + 1 + k)), list(range(1, 1 + k)))
        np.add.at(np.moveaxis(out, axis + 1, 1), (rows, at), u)
        return out
    return da.blockwise(block, "".join(xi), x, "".join(xi), idx, "".join(ii), upd, "".join(ui),
                        dtype=x.dtype, concatenate=True), 0


batch_rules = {"gather": gather, "scatter_add": scatter_add}
