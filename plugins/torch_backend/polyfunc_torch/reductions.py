"""Reductions, scans, softmax and norms of torch code on traced tensors."""
from __future__ import annotations

import math

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc import ops
from polyfunc.plugin import backend_of

from .arguments import axis, dim_kw, ndim, norm_dim, shape, np_dtype, safe_root, safe_sqrt, values_indices
from .registry import implements


def scalar_dim(input, dim):
    """torch lets a 0-d tensor be reduced over dim 0 or -1 (as if it had one dim of size 1):
    that is the whole tensor, ``dim=None`` for NumPy, which has no axis 0 to name there."""
    dims = (dim,) if isinstance(dim, int) else dim
    if isinstance(dims, (tuple, list)) and dims and ndim(input) == 0 and all(int(d) in (0, -1) for d in dims):
        return None
    return dim


def _reduction(pnp_fn, name):
    def f(input, dim=None, keepdim=False, *, dtype=None, **kw):
        dim = scalar_dim(input, dim_kw(dim, kw))
        keepdim = kw.pop("keepdims", keepdim)
        if dim == () or dim == []:
            dim = None
        elif dim is not None and ndim(input) == 0 and all(d in (0, -1) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))):
            dim = None                    # torch: a 0-d tensor has one (size-1) dim to reduce over, 0 or -1
        return pnp_fn(input, axis=axis(dim), keepdims=keepdim, dtype=np_dtype(dtype))
    f.__name__ = name
    return f


sum_ = implements(torch.sum, method="sum")(_reduction(pnp.sum, "sum"))
mean = implements(torch.mean, method="mean")(_reduction(pnp.mean, "mean"))


@implements(torch.prod, method="prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    return pnp.prod(input, axis=axis(dim), keepdims=keepdim, dtype=np_dtype(dtype))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _variance(input, dim, unbiased, keepdim, correction, kw):
    if isinstance(dim, bool):          # torch.var(x, False): the old (input, unbiased) overload
        dim, unbiased = None, dim
    dim = dim_kw(dim, kw)
    keepdim = kw.pop("keepdims", keepdim)
    return pnp.var(input, axis=axis(dim), ddof=_correction(unbiased, correction), keepdims=keepdim)


@implements(torch.var, method="var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
    return _variance(input, dim, unbiased, keepdim, correction, kw)


@implements(torch.std, method="std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
    # torch's derivative is 0 where the std is 0 (a constant slice), not NaN
    return safe_sqrt(_variance(input, dim, unbiased, keepdim, correction, kw))


def _mean_dim(dim):
    """The mean's dim for var_mean / std_mean: none in the (input, unbiased) overload."""
    return None if isinstance(dim, bool) else dim


@implements(torch.var_mean)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, _mean_dim(dim), keepdim)


@implements(torch.std_mean)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, _mean_dim(dim), keepdim)


@implements(torch.amax, method="amax")
def amax(input, dim=(), keepdim=False):
    dim = scalar_dim(input, dim)
    return pnp.max(input, axis=None if dim in ((), []) else axis(dim), keepdims=keepdim)


@implements(torch.amin, method="amin")
def amin(input, dim=(), keepdim=False):
    dim = scalar_dim(input, dim)
    return pnp.min(input, axis=None if dim in ((), []) else axis(dim), keepdims=keepdim)


def _extremum(whole, pair, arg, name):
    def f(input, dim=None, keepdim=False, **kw):
        dim = dim_kw(dim, kw)
        if dim is None:
            return whole(input)
        if not isinstance(dim, int):          # torch.max(x, other): elementwise
            return pair(input, dim)
        # the values are read at the returned indices, so ties send the gradient where torch does
        idx = arg(input, axis=dim, keepdims=True)
        vals = pnp.take_along_axis(input, idx, axis=dim)
        if not keepdim:
            vals, idx = pnp.squeeze(vals, axis=dim), pnp.squeeze(idx, axis=dim)
        return values_indices(vals, idx)
    f.__name__ = name
    return f


max_ = implements(torch.max, method="max")(_extremum(pnp.max, pnp.maximum, pnp.argmax, "max"))
min_ = implements(torch.min, method="min")(_extremum(pnp.min, pnp.minimum, pnp.argmin, "min"))


def _arg_extremum(pnp_arg, name):
    def f(input, dim=None, keepdim=False):
        dim = scalar_dim(input, dim)
        if dim is None:
            out = pnp_arg(pnp.reshape(input, (-1,)), axis=0)
            return pnp.reshape(out, (1,) * ndim(input)) if keepdim else out
        return pnp_arg(input, axis=dim, keepdims=keepdim)
    f.__name__ = name
    return f


argmax = implements(torch.argmax, method="argmax")(_arg_extremum(pnp.argmax, "argmax"))
argmin = implements(torch.argmin, method="argmin")(_arg_extremum(pnp.argmin, "argmin"))


@implements(torch.all, method="all")
def all_(input, dim=None, keepdim=False):
    dim = scalar_dim(input, dim)
    return pnp.all(input, axis=axis(dim), keepdims=keepdim)


@implements(torch.any, method="any")
def any_(input, dim=None, keepdim=False):
    dim = scalar_dim(input, dim)
    return pnp.any(input, axis=axis(dim), keepdims=keepdim)


# ------------------------------------------------------------------ scans
def _scan_0d(input, dim, dtype):
    """torch scans a 0-d tensor along dim 0 or -1 as itself (cast to dtype)."""
    if dim not in (0, -1):
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    return input if dtype is None else pnp.astype(input, np_dtype(dtype))


@implements(torch.cumsum, method="cumsum")
def cumsum(input, dim, *, dtype=None):
    if ndim(input) == 0:
        return _scan_0d(input, dim, dtype)
    return pnp.cumsum(input, axis=dim, dtype=np_dtype(dtype))


@implements(torch.cumprod, method="cumprod")
def cumprod(input, dim, *, dtype=None):
    if ndim(input) == 0:
        return _scan_0d(input, dim, dtype)
    return pnp.cumprod(input, axis=dim, dtype=np_dtype(dtype))


@implements(torch.logcumsumexp, method="logcumsumexp")
def logcumsumexp(input, dim):
    """A log-depth scan of logaddexp (``ops.prefix_scan``): exact where a shifted cumsum of
    exp would underflow."""
    return ops.prefix_scan(pnp.logaddexp, input, norm_dim(dim, ndim(input)), float("-inf"))


# ------------------------------------------------------------------ log-sum-exp and softmax
@implements(torch.logsumexp, torch.special.logsumexp, method="logsumexp")
def logsumexp(input, dim=None, keepdim=False):
    dim = scalar_dim(input, dim)
    ax = axis(dim) if dim not in ((), [], None) else None
    m = ops.stop_gradient(pnp.max(input, axis=ax, keepdims=True))
    m = pnp.where(pnp.isfinite(m), m, 0)
    s = pnp.log(pnp.sum(pnp.exp(pnp.subtract(input, m)), axis=ax, keepdims=True))
    out = pnp.add(s, m)
    return out if keepdim else pnp.squeeze(out, axis=ax) if ax is not None else pnp.reshape(out, ())


@implements(torch.softmax, torch.special.softmax, method="softmax")
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("softmax: pass dim= explicitly inside polyfunc transforms")
    if dtype is not None:
        input = pnp.astype(input, np_dtype(dtype))
    m = ops.stop_gradient(pnp.max(input, axis=dim, keepdims=True))
    e = pnp.exp(pnp.subtract(input, m))
    return pnp.true_divide(e, pnp.sum(e, axis=dim, keepdims=True))


@implements(torch.log_softmax, torch.special.log_softmax, method="log_softmax")
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("log_softmax: pass dim= explicitly inside polyfunc transforms")
    if dtype is not None:
        input = pnp.astype(input, np_dtype(dtype))
    return pnp.subtract(input, logsumexp(input, dim, keepdim=True))


# ------------------------------------------------------------------ norms
@implements(torch.linalg.vector_norm)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    ax = axis(dim)
    if dtype is not None:
        x = pnp.astype(x, np_dtype(dtype))
    if ord == 2:
        return safe_sqrt(pnp.sum(pnp.multiply(x, x), axis=ax, keepdims=keepdim))
    if ord == 1:
        return pnp.sum(pnp.abs(x), axis=ax, keepdims=keepdim)
    if ord == math.inf:
        return pnp.max(pnp.abs(x), axis=ax, keepdims=keepdim)
    if ord == -math.inf:
        return pnp.min(pnp.abs(x), axis=ax, keepdims=keepdim)
    return safe_root(pnp.sum(pnp.power(pnp.abs(x), ord), axis=ax, keepdims=keepdim), ord)


@implements(torch.norm, method="norm")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = pnp.astype(input, np_dtype(dtype))
    if isinstance(dim, (list, tuple, torch.Size)) and len(dim) == 1:
        dim = int(dim[0])
    if p in ("fro", 2, 2.0) and (dim is None or isinstance(dim, int) or len(dim) <= 2):
        return safe_sqrt(pnp.sum(pnp.multiply(input, input), axis=axis(dim),
                                 keepdims=keepdim if dim is not None else False))
    if (dim is None or isinstance(dim, int)) and isinstance(p, (int, float)):
        return vector_norm(input, p, dim, keepdim)
    return pnp.linalg.norm(input, ord=p if p is not None else ("fro" if len(dim) == 2 else None),
                           axis=axis(dim), keepdims=keepdim)


@implements(torch.linalg.norm)
def linalg_norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    return pnp.linalg.norm(x, ord=ord, axis=axis(dim), keepdims=keepdim)


@implements(torch.linalg.matrix_norm)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord != "fro" or tuple(dim) != (-2, -1):
        raise NotImplementedError(f"torch.linalg.matrix_norm(ord={ord!r}, dim={dim}) is not supported inside "
                                  f"polyfunc transforms; only the Frobenius norm over the last two dims")
    return vector_norm(A, 2, dim=(-2, -1), keepdim=keepdim, dtype=dtype)



@implements(torch.cummax, method="cummax")
def cummax(input, dim):
    return _cumulative_extreme(input, dim, pnp.max)


@implements(torch.cummin, method="cummin")
def cummin(input, dim):
    return _cumulative_extreme(input, dim, pnp.min)


def _cumulative_extreme(input, dim, extreme):
    """(running max/min along ``dim``, the index where it was reached, the last on ties as torch):
    an [i, j] table holding x[j] for j <= i (x[0] elsewhere, which never wins) reduced over j."""
    if ndim(input) == 0:
        return values_indices(input, pnp.zeros_like(input, dtype="int64"))
    d = norm_dim(dim, ndim(input))
    x = pnp.moveaxis(input, d, -1)
    n = shape(x)[-1]
    b = backend_of(input)
    seen = pnp.asarray(np.tril(np.ones((n, n), dtype=bool)), backend=b)           # [i, j]: j <= i
    table = pnp.where(seen, pnp.expand_dims(x, -2), pnp.expand_dims(x[..., :1], -1))
    values = extreme(table, axis=-1)
    at = pnp.logical_and(seen, pnp.equal(table, pnp.expand_dims(values, -1)))
    indices = pnp.max(pnp.where(at, pnp.asarray(np.arange(n), backend=b), -1), axis=-1)
    return values_indices(pnp.moveaxis(values, -1, d), pnp.astype(pnp.moveaxis(indices, -1, d), np.int64))
