"""More torch.* tensor functions on traced tensors: fused multiply-adds, shape helpers,
pairwise distances, order statistics and log-space scans, written with polyfunc.numpy and
the helpers of ``native``.  Merged into the native map by ``native._table``."""
from __future__ import annotations

import collections
import math

import numpy as np
import torch

import polyfunc.numpy as pnp
from polyfunc import ops

from . import native as N
from .dtypes import to_np_dtype


# ------------------------------------------------------------------ fused arithmetic
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    N._no_out(out, "addcmul")
    return pnp.add(input, pnp.multiply(pnp.multiply(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    N._no_out(out, "addcdiv")
    return pnp.add(input, pnp.multiply(pnp.true_divide(tensor1, tensor2), value))


def _scaled_sum(input, product, beta, alpha):
    left = input if beta == 1 else (pnp.multiply(input, beta) if beta != 0 else pnp.zeros_like(input))
    return pnp.add(left, product if alpha == 1 else pnp.multiply(product, alpha))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    N._no_out(out, "baddbmm")
    return _scaled_sum(input, pnp.matmul(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    N._no_out(out, "addbmm")
    return _scaled_sum(input, pnp.sum(pnp.matmul(batch1, batch2), axis=0), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    N._no_out(out, "addmv")
    return _scaled_sum(input, pnp.matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    N._no_out(out, "addr")
    return _scaled_sum(input, pnp.outer(vec1, vec2), beta, alpha)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    N._no_out(out, "nan_to_num")
    info = np.finfo(to_np_dtype(input.dtype))
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    x = pnp.where(pnp.isnan(input), nan, input)
    inf = pnp.isinf(x)
    return pnp.where(pnp.logical_and(inf, pnp.greater(x, 0)), hi, pnp.where(inf, lo, x))


# ------------------------------------------------------------------ shapes
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    if (dim1, dim2) not in ((-2, -1), (-1, -2)):
        raise NotImplementedError("diag_embed with dims other than the last two is not supported inside "
                                  "polyfunc transforms")
    n = N._shape(input)[-1]
    m = n + abs(offset)
    eye = torch.eye(n, dtype=input.dtype, device=N._device_of(input))
    out = pnp.multiply(pnp.expand_dims(input, -1), eye)         # (..., n, n), the values on the diagonal
    nd = N._ndim(out)
    pads = [(0, 0)] * (nd - 2) + ([(0, offset), (offset, 0)] if offset >= 0 else [(-offset, 0), (0, -offset)])
    out = pnp.pad(out, pads) if offset else out
    return out if (dim1, dim2) == (-2, -1) or m == 0 else pnp.swapaxes(out, -1, -2)


def rot90(input, k=1, dims=(0, 1)):
    d0, d1 = (N._norm_dim(d, N._ndim(input)) for d in dims)
    k %= 4
    if k == 1:
        return pnp.swapaxes(pnp.flip(input, axis=d1), d0, d1)
    if k == 2:
        return pnp.flip(input, axis=(d0, d1))
    if k == 3:
        return pnp.flip(pnp.swapaxes(input, d0, d1), axis=d1)
    return input


def diff(input, n=1, dim=-1, prepend=None, append=None):
    parts = [t for t in (prepend, input, append) if t is not None]
    x = pnp.concatenate(parts, axis=dim) if len(parts) > 1 else input
    return pnp.diff(x, n=n, axis=dim)


def cdist(x1, x2, p=2.0, compute_mode=None):
    # (..., P, M) and (..., R, M) -> (..., P, R); a zero distance has gradient 0, as in torch
    d = pnp.subtract(pnp.expand_dims(x1, -2), pnp.expand_dims(x2, -3))
    return N.vector_norm(d, p, dim=-1)


# ------------------------------------------------------------------ order statistics
def median(input, dim=None, keepdim=False):
    """The lower median (torch's); with ``dim``, (values, indices).  The gradient reaches the
    element that is the median."""
    if dim is None:
        flat = pnp.reshape(input, (-1,))
        n = N._shape(flat)[0]
        return N.sort(flat).values[(n - 1) // 2]
    d = N._norm_dim(dim, N._ndim(input))
    n = N._shape(input)[d]
    srt = N.sort(input, dim=d)
    sl = (slice(None),) * d + (slice((n - 1) // 2, (n - 1) // 2 + 1),)
    vals, idx = srt.values[sl], srt.indices[sl]
    if not keepdim:
        vals, idx = pnp.squeeze(vals, axis=d), pnp.squeeze(idx, axis=d)
    return N._values_indices(vals, idx)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    N._no_out(out, "quantile")
    if not isinstance(q, (int, float)):
        if N._ndim(q) == 0:
            q = float(q)
        else:
            return pnp.stack([quantile(input, float(v), dim, keepdim, interpolation=interpolation)
                              for v in q.tolist()], axis=0)
    x = pnp.reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else N._norm_dim(dim, N._ndim(input))
    n = N._shape(x)[d]
    srt = N.sort(x, dim=d).values
    pos = q * (n - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    take = lambda i: pnp.take(srt, i, axis=d)  # noqa: E731
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
        res = pnp.reshape(res, (1,) * N._ndim(input)) if dim is None else pnp.expand_dims(res, d)
    return res


# ------------------------------------------------------------------ log-space scans
def logcumsumexp(input, dim, *, out=None):
    """A log-depth scan of logaddexp (``ops.prefix_scan``): exact where a shifted cumsum of
    exp would underflow."""
    N._no_out(out, "logcumsumexp")
    return ops.prefix_scan(pnp.logaddexp, input, N._norm_dim(dim, N._ndim(input)), float("-inf"))


# ------------------------------------------------------------------ linear algebra
_Slogdet = collections.namedtuple("torch_return_types_slogdet", ["sign", "logabsdet"])


def linalg_solve(A, B, *, left=True, out=None):
    N._no_out(out, "linalg.solve")
    if not left:
        raise NotImplementedError("torch.linalg.solve(left=False) is not supported inside polyfunc transforms; "
                                  "solve the transposed system")
    sa, sb = N._shape(A), N._shape(B)
    if len(sb) == 1 or (len(sb) == len(sa) - 1 and tuple(sb) == tuple(sa[:-1])):   # a (batch of) vector(s)
        return pnp.squeeze(pnp.linalg.solve(A, pnp.expand_dims(B, -1)), axis=-1)
    return pnp.linalg.solve(A, B)


def linalg_slogdet(A, *, out=None):
    N._no_out(out, "slogdet")
    sign, logabs = pnp.linalg.slogdet(A)
    return _Slogdet(sign, logabs)


def logdet(input):
    sign, logabs = pnp.linalg.slogdet(input)
    return pnp.where(pnp.less(sign, 0), float("nan"), logabs)      # torch: nan for a negative determinant


def linalg_cholesky(A, *, upper=False, out=None):
    N._no_out(out, "linalg.cholesky")
    return pnp.linalg.cholesky(A, upper=upper)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    N._no_out(out, "linalg.matrix_norm")
    if ord != "fro" or tuple(dim) != (-2, -1):
        raise NotImplementedError(f"torch.linalg.matrix_norm(ord={ord!r}, dim={dim}) is not supported inside "
                                  f"polyfunc transforms; only the Frobenius norm over the last two dims")
    return N.vector_norm(A, 2, dim=(-2, -1), keepdim=keepdim, dtype=dtype)


LINALG = {"solve": linalg_solve, "inv": lambda A, *, out=None: pnp.linalg.inv(A), "det": lambda A, *, out=None:
          pnp.linalg.det(A), "slogdet": linalg_slogdet, "cholesky": linalg_cholesky, "matrix_norm": matrix_norm}


BOTH = {
    "addcmul": addcmul, "addcdiv": addcdiv, "baddbmm": baddbmm, "addbmm": addbmm, "addmv": addmv, "addr": addr,
    "nan_to_num": nan_to_num, "diag_embed": diag_embed, "rot90": rot90, "diff": diff, "median": median,
    "quantile": quantile, "logcumsumexp": logcumsumexp,
    "inverse": lambda input: pnp.linalg.inv(input), "det": lambda input: pnp.linalg.det(input),
    "slogdet": linalg_slogdet, "logdet": logdet, "cholesky": lambda input, upper=False: pnp.linalg.cholesky(input, upper),
}
TORCH = {"cdist": cdist}
