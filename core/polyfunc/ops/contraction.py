"""dot_general, the one contraction primitive: contraction over given dimensions with batch dimensions.
Output layout: batch dims, then the free dims of x, then those of y."""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import DTypeError, ShapeError
from ..memo import remembered
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array
from .elementwise import add
from .structural import LinearArg, moveaxis, ndim_of, transpose

__all__ = ["dot_general"]

dot_general_p = Primitive("dot_general")


def dot_general(x: Array, y: Array,
                dimension_numbers: tuple[tuple[Sequence[int], Sequence[int]], tuple[Sequence[int], Sequence[int]]]) -> Array:

    """``dimension_numbers = ((x_contract, y_contract), (x_batch, y_batch))``."""
    (lc, rc), (lb, rb) = dimension_numbers
    return dot_general_p.bind(x, y, dimension_numbers=((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb))))


def _free(nd, *used):
    u = set(used[0]) | set(used[1])
    return [i for i in range(nd) if i not in u]


# The rules below are pure functions of ranks and dimension numbers (and shapes, for the
# abstract rule), and a few of them recur in every step of a training loop: each is
# worked out once and remembered.  The caches are cleared when they grow large.
_ae_cache: dict = {}
_ct_cache: dict = {}
_batch_cache: dict = {}


def _dot_ae(x, y, *, dimension_numbers):
    return remembered(_ae_cache, _dot_ae_uncached, x.shape, y.shape, x.dtype, y.dtype, dimension_numbers)


def _dot_ae_uncached(xs, ys, xd, yd, dimension_numbers):
    x, y = ShapedArray(xs, xd), ShapedArray(ys, yd)
    (lc, rc), (lb, rb) = dimension_numbers
    if x.dtype != y.dtype:
        raise DTypeError(f"dot_general: operands have dtypes {x.dtype} and {y.dtype}; promote them first")
    if len(lc) != len(rc) or len(lb) != len(rb) or any(x.shape[a] != y.shape[b] for a, b in zip(lc + lb, rc + rb)):
        raise ShapeError(f"dot_general: shapes {x.shape} and {y.shape} do not line up for contracting "
                         f"dims {lc}/{rc} and batch dims {lb}/{rb}")
    shape = tuple(x.shape[i] for i in lb) + tuple(x.shape[i] for i in _free(x.ndim, lc, lb)) + \
        tuple(y.shape[i] for i in _free(y.ndim, rc, rb))
    return ShapedArray(shape, x.dtype)


def _dot_jvp(pr, t, *, dimension_numbers):
    x, y = pr
    tx, ty = t
    out = dot_general_p.bind(x, y, dimension_numbers=dimension_numbers)
    parts = []
    if tx is not None:
        parts.append(dot_general_p.bind(tx, y, dimension_numbers=dimension_numbers))
    if ty is not None:
        parts.append(dot_general_p.bind(x, ty, dimension_numbers=dimension_numbers))
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _ct_plan(nd_self, self_c, self_b, other_c, other_b, nd_other, self_first):
    """Dimension numbers contracting ct's other-free dims with ``other``, and the permutation
    that puts the result back in the order of the operand's own axes."""
    nb = len(self_b)
    self_free = _free(nd_self, self_c, self_b)
    other_free = _free(nd_other, other_c, other_b)
    if self_first:
        ct_other_free = tuple(range(nb + len(self_free), nb + len(self_free) + len(other_free)))
    else:
        ct_other_free = tuple(range(nb, nb + len(other_free)))
    batch = (tuple(range(nb)), tuple(other_b))
    contracted = [self_c[other_c.index(d)] for d in sorted(other_c)]  # other's remaining dims, as self axes
    # dot_general(ct, other) is laid out: batch, self free, other's remaining dims.  When
    # dot_general(other, ct) (batch, other's remaining, self free) is already in self's axis
    # order, it is used instead and no transpose is needed: matmul weight gradients are such.
    src = list(self_b) + self_free + contracted
    if src != list(range(nd_self)) and list(self_b) + contracted + self_free == list(range(nd_self)):
        return True, ((tuple(other_free), ct_other_free), batch[::-1]), None
    perm = tuple(sorted(range(len(src)), key=src.__getitem__))
    return False, ((ct_other_free, tuple(other_free)), batch), perm


def _ct_operand(ct, other, nd_self, self_c, self_b, other_c, other_b, nd_other, self_first):
    """Cotangent of one operand: contract ct's other-free dims with ``other``."""
    swap, dn, perm = remembered(_ct_cache, _ct_plan, nd_self, self_c, self_b, other_c, other_b, nd_other,
                             self_first)
    if swap:
        return dot_general_p.bind(other, ct, dimension_numbers=dn)
    return transpose(dot_general_p.bind(ct, other, dimension_numbers=dn), perm)


def _dot_transpose(ct, x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    nx, ny = ndim_of(x), ndim_of(y)
    return [
        _ct_operand(ct, y, nx, lc, lb, rc, rb, ny, True) if isinstance(x, LinearArg) else None,
        _ct_operand(ct, x, ny, rc, rb, lc, lb, nx, False) if isinstance(y, LinearArg) else None,
    ]


def _batch_plan(dimension_numbers, bx, by, nx, ny):
    """(axis to move to the front of x or None, same for y, new dimension numbers, output batch dim)."""
    (lc, rc), (lb, rb) = dimension_numbers
    if bx is not None and by is not None:
        sh = lambda ds: tuple(i + 1 for i in ds)  # noqa: E731
        return bx, by, ((sh(lc), sh(rc)), ((0,) + sh(lb), (0,) + sh(rb))), 0
    if bx is not None:
        ph = lambda ds: tuple(i + (i >= bx) for i in ds)  # noqa: E731
        nlc, nlb = ph(lc), ph(lb)
        free = _free(nx, nlc, nlb)
        return None, None, ((nlc, rc), (nlb, rb)), len(lb) + free.index(bx)
    ph = lambda ds: tuple(i + (i >= by) for i in ds)  # noqa: E731
    nrc, nrb = ph(rc), ph(rb)
    xfree = _free(nx, lc, lb)
    free = _free(ny, nrc, nrb)
    return None, None, ((lc, nrc), (lb, nrb)), len(lb) + len(xfree) + free.index(by)


def _dot_batch(v, d, *, dimension_numbers):
    x, y = v
    bx, by = d
    mx, my, dn, out_dim = remembered(_batch_cache, _batch_plan, dimension_numbers, bx, by,
                                  ndim_of(x), ndim_of(y))
    if mx is not None:
        x, y = moveaxis(x, mx, 0), moveaxis(y, my, 0)
    return dot_general_p.bind(x, y, dimension_numbers=dn), out_dim


AE[dot_general_p] = _dot_ae
JR[dot_general_p] = _dot_jvp
TR[dot_general_p] = _dot_transpose
BR[dot_general_p] = _dot_batch
