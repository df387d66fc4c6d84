"""torch functions that are variants or shorthands of ops the map already has: the ``*_copy``
forms (polyfunc never aliases, so a copy is the op itself), the split / stack / flip
shorthands, the NaN-ignoring reductions and small elementwise compositions.  Each is written
with the map's own functions, so its derivative and batching come from theirs."""
from __future__ import annotations

import math

import numpy as np
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.plugin import get_aval

from .arguments import ndim, norm_dim, shape
from .elementwise import erfc
from .reductions import sum_
from .registry import implements
from .shapes import (diagonal, expand, narrow, permute, split, squeeze, t, tensor_split, transpose, unbind, unsqueeze,
                     view)

# ------------------------------------------------------------------ copies: the op itself (no aliasing to break)
implements(torch.expand_copy)(expand)
implements(torch.diagonal_copy)(diagonal)
implements(torch.narrow_copy, method="narrow_copy")(narrow)
implements(torch.permute_copy)(permute)
implements(torch.squeeze_copy)(squeeze)
implements(torch.unsqueeze_copy)(unsqueeze)
implements(torch.transpose_copy)(transpose)
implements(torch.t_copy)(t)
implements(torch.unbind_copy)(unbind)
implements(torch.view_copy)(view)
implements(torch.split_with_sizes, torch.split_with_sizes_copy, torch.unsafe_split, method=(
    "split_with_sizes", "unsafe_split"))(split)


@implements(torch.alias_copy)
def alias_copy(input):
    return pnp.positive(input)


@implements(torch.unsafe_chunk, method="unsafe_chunk")
def unsafe_chunk(input, chunks, dim=0):
    n = shape(input)[norm_dim(dim, ndim(input))]
    return split(input, -(-n // chunks) if n else 1, dim)


@implements(torch.ravel, method="ravel")
def ravel(input):
    return pnp.reshape(input, (-1,))


# ------------------------------------------------------------------ at-least, stacking and splitting shorthands
def _atleast(k: int, name: str):
    """torch.atleast_kd: one tensor, or several (as a tuple), given at least k dims; a 1-d input
    becomes a row (1, n) and a 2-d one gets a trailing axis, as torch places them."""
    def one(x):
        n = ndim(x)
        if n >= k:
            return x
        if n == 0:
            return pnp.reshape(x, (1,) * k)
        if n == 1:
            return pnp.reshape(x, (1, shape(x)[0]) + ((1,) if k == 3 else ()))
        return pnp.expand_dims(x, -1)

    def f(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(one(x) for x in tensors[0])
        return one(tensors[0]) if len(tensors) == 1 else tuple(one(x) for x in tensors)
    f.__name__ = name
    return f


atleast_1d = implements(torch.atleast_1d)(_atleast(1, "atleast_1d"))
atleast_2d = implements(torch.atleast_2d)(_atleast(2, "atleast_2d"))
atleast_3d = implements(torch.atleast_3d)(_atleast(3, "atleast_3d"))


@implements(torch.column_stack)
def column_stack(tensors):
    return pnp.concatenate([x if ndim(x) >= 2 else pnp.reshape(x, (-1, 1)) for x in tensors], axis=1)


@implements(torch.dstack)
def dstack(tensors):
    return pnp.concatenate(atleast_3d(list(tensors)), axis=2)


def _split_along(name: str, dim: int, min_ndim: int):
    def f(input, indices_or_sections):
        if ndim(input) < min_ndim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension(s), got "
                               f"{ndim(input)}")
        d = 0 if (name == "hsplit" and ndim(input) == 1) else dim
        if isinstance(indices_or_sections, int) and shape(input)[d] % indices_or_sections:
            raise RuntimeError(f"torch.{name}: dimension {d} of size {shape(input)[d]} is not divisible by "
                               f"{indices_or_sections}; use torch.tensor_split for uneven parts")
        return tensor_split(input, indices_or_sections, d)
    f.__name__ = name
    return f


hsplit = implements(torch.hsplit, method="hsplit")(_split_along("hsplit", 1, 1))
vsplit = implements(torch.vsplit, method="vsplit")(_split_along("vsplit", 0, 2))
dsplit = implements(torch.dsplit, method="dsplit")(_split_along("dsplit", 2, 3))


@implements(torch.fliplr, method="fliplr")
def fliplr(input):
    if ndim(input) < 2:
        raise RuntimeError(f"torch.fliplr: input must be at least 2-D, got {ndim(input)}-D")
    return pnp.flip(input, axis=1)


@implements(torch.flipud, method="flipud")
def flipud(input):
    if ndim(input) < 1:
        raise RuntimeError("torch.flipud: input must be at least 1-D, got a 0-d tensor")
    return pnp.flip(input, axis=0)


@implements(torch.diagflat, method="diagflat")
def diagflat(input, offset=0):
    return pnp.diag(pnp.reshape(input, (-1,)), k=offset)


@implements(method="sum_to_size")
def sum_to_size(input, *size):
    """Sum over the dims that ``size`` (torch's expandable-to shape) has as 1 or lacks."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple, torch.Size)) else tuple(size)
    s = shape(input)
    lead = len(s) - len(size)
    out = pnp.sum(input, axis=tuple(range(lead))) if lead else input
    axes = tuple(i for i, (n, m) in enumerate(zip(shape(out), size)) if m == 1 and n != 1)
    return pnp.sum(out, axis=axes, keepdims=True) if axes else out


# ------------------------------------------------------------------ NaN-ignoring reductions
@implements(torch.nansum, method="nansum")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum_(pnp.where(pnp.isnan(input), pnp.zeros_like(input), input), dim, keepdim, dtype=dtype)


@implements(torch.nanmean, method="nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    kept = pnp.logical_not(pnp.isnan(input))
    count = sum_(pnp.astype(kept, get_aval(input).dtype), dim, keepdim)
    return pnp.true_divide(nansum(input, dim, keepdim, dtype=dtype), count)


@implements(torch.count_nonzero, method="count_nonzero")
def count_nonzero(input, dim=None):
    return sum_(pnp.astype(pnp.not_equal(input, 0), np.int64), dim)


# ------------------------------------------------------------------ elementwise compositions
@implements(torch.copysign, method="copysign")
def copysign(input, other):
    """|input| with the sign bit of other (so -0.0 counts as negative, as in torch)."""
    mag = pnp.abs(input)
    if isinstance(other, (int, float)):
        return pnp.negative(mag) if math.copysign(1.0, other) < 0 else mag
    return pnp.where(signbit(other), pnp.negative(mag), mag)


@implements(torch.logaddexp2, method="logaddexp2")
def logaddexp2(input, other):
    return pnp.logaddexp2(input, other)


@implements(torch.signbit, method="signbit")
def signbit(input):
    """x < 0, and -0.0 too (told from +0.0 by the sign of 1/x)."""
    neg = pnp.less(input, 0)
    if get_aval(input).dtype.kind != "f":
        return neg
    return pnp.logical_or(neg, pnp.logical_and(pnp.equal(input, 0), pnp.less(pnp.true_divide(1.0, input), 0)))


@implements(torch.isposinf, method="isposinf")
def isposinf(input):
    return pnp.logical_and(pnp.isinf(input), pnp.greater(input, 0))


@implements(torch.isneginf, method="isneginf")
def isneginf(input):
    return pnp.logical_and(pnp.isinf(input), pnp.less(input, 0))


@implements(torch.isreal, method="isreal")
def isreal(input):
    if get_aval(input).dtype.kind != "c":
        return pnp.ones_like(input, dtype=bool)
    return pnp.equal(pnp.imag(input), 0)


@implements(torch.resolve_neg, method="resolve_neg")
def resolve_neg(input):
    return input      # polyfunc never holds a lazily negated view: there is nothing to resolve


@implements(torch.special.xlog1py)
def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (also where log1p(other) is infinite), as torch defines it."""
    prod = pnp.multiply(input, pnp.log1p(other))
    return pnp.where(pnp.equal(input, 0), pnp.zeros_like(prod), prod)


def _entr_value(x):
    safe = pnp.where(pnp.greater(x, 0), x, pnp.ones_like(x))
    val = pnp.negative(pnp.multiply(safe, pnp.log(safe)))
    neg = pnp.full_like(x, -np.inf)
    return pnp.where(pnp.greater(x, 0), val, pnp.where(pnp.equal(x, 0), pnp.zeros_like(x), neg))


# torch differentiates entr by its x > 0 formula everywhere: -(1 + log x), so +inf at 0 and NaN
# below; a ``where`` would give 0 there, hence a rule of its own
_entr = pf.custom_jvp(_entr_value)


@_entr.defjvp
def _entr_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _entr(x), pnp.multiply(pnp.negative(pnp.add(pnp.log(x), 1.0)), t)


@implements(torch.special.entr)
def entr(input):
    """-x log x for x > 0, 0 at 0, -inf below."""
    return _entr(input)


@implements(torch.special.ndtr)
def ndtr(input):
    """The standard normal CDF, 1/2 erfc(-x/sqrt 2) (accurate in the lower tail, where 1 + erf cancels)."""
    return pnp.multiply(erfc(pnp.multiply(input, -1.0 / math.sqrt(2.0))), 0.5)

