"""Products and linear algebra of torch code on traced tensors."""
from __future__ import annotations

import collections

import torch

import polyfunc.numpy as pnp

from .arguments import ndim, shape
from .registry import implements

implements(torch.inner, method="inner")(pnp.inner)
implements(torch.vdot, method="vdot")(pnp.vdot)
implements(torch.outer, torch.ger, method=("outer", "ger"))(pnp.outer)
implements(torch.kron, method="kron")(pnp.kron)
implements(torch.trace, method="trace")(pnp.trace)
implements(method="__rmatmul__", swap=True)(pnp.matmul)


@implements(torch.matmul, torch.linalg.matmul, method=("matmul", "__matmul__"))
def matmul(input, other):
    return pnp.matmul(input, other)


def _ranked(name: str, ranks: tuple[int, int]):
    """``torch.<name>``: matmul of operands of exactly ``ranks`` dims, refused otherwise as torch does."""
    def f(input, other):
        got = (ndim(input), ndim(other))
        if got != ranks:
            raise RuntimeError(f"torch.{name}: expects a {ranks[0]}-D and a {ranks[1]}-D tensor, got {got[0]}-D "
                               f"and {got[1]}-D; use torch.matmul for broadcasting or batched operands")
        if name == "bmm" and shape(input)[0] != shape(other)[0]:
            raise RuntimeError(f"torch.bmm: batch sizes differ ({shape(input)[0]} and {shape(other)[0]})")
        return pnp.matmul(input, other)
    f.__name__ = name
    return f


mm = implements(torch.mm, method="mm")(_ranked("mm", (2, 2)))
bmm = implements(torch.bmm, method="bmm")(_ranked("bmm", (3, 3)))
mv = implements(torch.mv, method="mv")(_ranked("mv", (2, 1)))


@implements(torch.cross, torch.linalg.cross, method="cross")
def cross(input, other, dim=None):
    """torch.cross: along ``dim`` (the first of size 3 when None, as torch.cross; -1 for linalg.cross)."""
    a, b = pnp.broadcast_arrays(input, other)
    if dim is None:
        dim = next((i for i, n in enumerate(shape(a)) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"torch.cross: no dimension of size 3 in shape {tuple(shape(a))}")
    if shape(a)[dim] != 3:
        raise RuntimeError(f"torch.cross: dimension {dim} has size {shape(a)[dim]}, it must have size 3")
    return pnp.moveaxis(pnp.cross(pnp.moveaxis(a, dim, -1), pnp.moveaxis(b, dim, -1)), -1, dim)


@implements(torch.cov, method="cov")
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations), unweighted."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("torch.cov with fweights/aweights is not supported on traced values; "
                                  "weight the observations yourself")
    x = input if ndim(input) == 2 else pnp.reshape(input, (1, -1))
    n = shape(x)[1]
    centred = pnp.subtract(x, pnp.mean(x, axis=1, keepdims=True))
    c = pnp.true_divide(pnp.matmul(centred, pnp.swapaxes(centred, 0, 1)), max(n - correction, 0))
    return c if ndim(input) == 2 else pnp.reshape(c, ())


@implements(torch.dot, method="dot")
def dot(input, other):
    if ndim(input) != 1 or ndim(other) != 1:
        raise RuntimeError(f"torch.dot: 1D tensors expected, but got {ndim(input)}D and {ndim(other)}D tensors")
    return pnp.matmul(input, other)


@implements(torch.einsum)
def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return pnp.einsum(equation, *operands)


@implements(torch.tensordot, method="tensordot")
def tensordot(a, b, dims=2):
    return pnp.tensordot(a, b, axes=dims if isinstance(dims, int) else tuple(tuple(d) for d in dims))


@implements(torch.nn.functional.linear)
def linear(input, weight, bias=None):
    out = pnp.matmul(input, pnp.swapaxes(weight, -1, -2) if ndim(weight) == 2 else weight)
    return out if bias is None else pnp.add(out, bias)


# ------------------------------------------------------------------ fused multiply-adds
def _scaled_sum(input, product, beta, alpha):
    left = input if beta == 1 else (pnp.multiply(input, beta) if beta != 0 else pnp.zeros_like(input))
    return pnp.add(left, product if alpha == 1 else pnp.multiply(product, alpha))


@implements(torch.addmm, method="addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    prod = pnp.matmul(mat1, mat2)
    if alpha != 1:
        prod = pnp.multiply(prod, alpha)
    if beta == 0:
        return prod
    return pnp.add(input if beta == 1 else pnp.multiply(input, beta), prod)


@implements(torch.baddbmm, method="baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, pnp.matmul(batch1, batch2), beta, alpha)


@implements(torch.addbmm, method="addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, pnp.sum(pnp.matmul(batch1, batch2), axis=0), beta, alpha)


@implements(torch.addmv, method="addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _scaled_sum(input, pnp.matmul(mat, vec), beta, alpha)


@implements(torch.addr, method="addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return _scaled_sum(input, pnp.outer(vec1, vec2), beta, alpha)


# ------------------------------------------------------------------ solves and decompositions
torch_return_types_slogdet = collections.namedtuple("torch_return_types_slogdet", ["sign", "logabsdet"])


@implements(torch.linalg.solve)
def solve(A, B, *, left=True):
    if not left:
        raise NotImplementedError("torch.linalg.solve(left=False) is not supported inside polyfunc transforms; "
                                  "solve the transposed system")
    sa, sb = shape(A), shape(B)
    if len(sb) == 1 or (len(sb) == len(sa) - 1 and tuple(sb) == tuple(sa[:-1])):   # a (batch of) vector(s)
        return pnp.squeeze(pnp.linalg.solve(A, pnp.expand_dims(B, -1)), axis=-1)
    return pnp.linalg.solve(A, B)


@implements(torch.linalg.inv, torch.inverse, method="inverse")
def inv(A):
    return pnp.linalg.inv(A)


@implements(torch.linalg.det, torch.det, method="det")
def det(A):
    return pnp.linalg.det(A)


@implements(torch.linalg.slogdet, torch.slogdet, method="slogdet")
def slogdet(A):
    sign, logabs = pnp.linalg.slogdet(A)
    return torch_return_types_slogdet(sign, logabs)


@implements(torch.logdet, method="logdet")
def logdet(input):
    sign, logabs = pnp.linalg.slogdet(input)
    return pnp.where(pnp.less(sign, 0), float("nan"), logabs)      # torch: nan for a negative determinant


@implements(torch.linalg.cholesky)
def linalg_cholesky(A, *, upper=False):
    return pnp.linalg.cholesky(A, upper=upper)


@implements(torch.cholesky, method="cholesky")
def cholesky(input, upper=False):
    return pnp.linalg.cholesky(input, upper)
