"""Batching rules that beat the generic ones on concrete torch tensors.

They are used by vmap only when every input is a concrete tensor (no tracer
of an inner transform), so they may call torch directly.

* gather with both the operand and the indices batched: the generic rule
  flattens the batch into the operand and offsets the indices (about eight
  primitives, each a kernel call); torch does it in one advanced-indexing call (small operands) or
  one offset ``index_select`` (large ones).
* scatter_add with batched indices: one ``index_put_(accumulate=True)`` on a
  copy (small operands) or one offset ``index_add`` (large ones) instead of the
  generic rule's sequence of primitives.
"""
from __future__ import annotations

import torch

from polyfunc.plugin import generic_batch_rule as _generic

from .kernels import _device_error


_MULTI: list = []   # [bool] once known: may tensors live on more than one kind of device here?


def _check_devices(name, *ts):
    """The kernels' device check (see kernels._check_same_device), free on CPU-only machines."""
    if not _MULTI:
        mps = getattr(torch.backends, "mps", None)
        _MULTI.append(bool(torch.cuda.is_available() or (mps is not None and mps.is_available())))
    if _MULTI[0]:
        first = None
        for t in ts:
            if isinstance(t, torch.Tensor):
                if first is None:
                    first = t
                elif t.device != first.device:
                    raise _device_error(name, first, t)


def _index(idx):
    if idx.dtype is torch.int64 or idx.dtype is torch.int32:
        return idx
    return idx.to(torch.int64)


_SMALL = 1 << 14   # below this many operand elements one advanced-indexing call is fastest


def _gather_both_batched(vals, dims, *, axis):
    x, idx = vals
    dx, di = dims
    if dx is None or di is None:
        return _generic("gather")(vals, dims, axis=axis)
    _check_devices("gather", x, idx)
    x = torch.movedim(x, dx, 0)
    idx = _index(torch.movedim(idx, di, 0))
    b = x.shape[0]
    xm = torch.movedim(x, axis + 1, 1) if axis else x         # (B, N, pre.., post..)
    k = idx.ndim - 1
    if x.numel() <= _SMALL:
        rows = torch.arange(b, device=x.device).reshape((b,) + (1,) * k)
        out = xm[rows, idx]                                   # (B, I.., pre.., post..)
    else:
        # large operands: offset the indices into the flattened (B*N, rest) operand and take
        # one index_select (torch's advanced indexing is slower there on the CPU)
        n = xm.shape[1]
        rest = xm.shape[2:]
        offs = torch.arange(0, b * n, n, device=x.device, dtype=idx.dtype).reshape((b,) + (1,) * k)
        out = torch.index_select(xm.reshape((b * n,) + rest), 0, (idx + offs).reshape(-1))
        out = out.reshape(tuple(idx.shape) + rest)
    if axis == 0:
        return out, 0
    m = out.ndim - 1 - k - axis
    perm = [0] + [k + 1 + j for j in range(axis)] + [1 + j for j in range(k)] + [k + axis + 1 + j for j in range(m)]
    return out.permute(perm), 0


def _scatter_add_batched_idx(vals, dims, *, axis):
    x, idx, upd = vals
    dx, di, du = dims
    if di is None or x.__class__ is not torch.Tensor and not isinstance(x, torch.Tensor):
        return _generic("scatter_add")(vals, dims, axis=axis)
    _check_devices("scatter_add", x, idx, upd)
    b = idx.shape[di]
    idx = _index(torch.movedim(idx, di, 0))                   # (B, I..)
    if dx is None:
        x = x.unsqueeze(0).expand((b,) + tuple(x.shape))
    else:
        x = torch.movedim(x, dx, 0)
    k = idx.ndim - 1
    if du is None:
        upd = upd.unsqueeze(0).expand((b,) + tuple(upd.shape))
    else:
        upd = torch.movedim(upd, du, 0)                       # (B, pre, I.., post)
    if x.dtype == torch.bool:
        return _generic("scatter_add")(vals, dims, axis=axis)
    # move the indexed axis of x next to the batch axis: (B, N, pre, post)
    xm = torch.movedim(x, axis + 1, 1) if axis else x
    # updates to (B, I.., pre, post)
    u = torch.movedim(upd, list(range(axis + 1, axis + 1 + k)), list(range(1, 1 + k))) if axis else upd
    if x.numel() <= _SMALL:
        rows = torch.arange(b, device=x.device).reshape((b,) + (1,) * k)
        out = xm.clone().index_put_((rows, idx), u, accumulate=True)
    else:
        n = xm.shape[1]
        rest = tuple(xm.shape[2:])
        offs = torch.arange(0, b * n, n, device=x.device, dtype=idx.dtype).reshape((b,) + (1,) * k)
        out = torch.index_add(xm.reshape((b * n,) + rest), 0, (idx + offs).reshape(-1),
                              u.reshape((-1,) + rest)).reshape(xm.shape)
    return (torch.movedim(out, 1, axis + 1) if axis else out), 0


batch_rules = {"gather": _gather_both_batched, "scatter_add": _scatter_add_batched_idx}
