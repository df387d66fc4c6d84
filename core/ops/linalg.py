"""dot_general: contraction over given dimensions with batch dimensions.
Output layout: batch dims, then the free dims of x, then those of y."""
from __future__ import annotations

import numpy as np  # argsort of small tuples

from ..errors import DTypeError, ShapeError
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from .structural import LinearArg, moveaxis, shape_of, transpose

__all__ = ["dot_general"]

dot_general_p = Primitive("dot_general")


def dot_general(x, y, dimension_numbers):
    """``dimension_numbers = ((x_contract, y_contract), (x_batch, y_batch))``."""
    (lc, rc), (lb, rb) = dimension_numbers
    return dot_general_p.bind(x, y, dimension_numbers=((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb))))


def _free(nd, *used):
    u = set(used[0]) | set(used[1])
    return [i for i in range(nd) if i not in u]


def _dot_ae(x, y, *, dimension_numbers):
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
    out = dot_general(x, y, dimension_numbers)
    parts = []
    if tx is not None:
        parts.append(dot_general(tx, y, dimension_numbers))
    if ty is not None:
        parts.append(dot_general(x, ty, dimension_numbers))
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _ct_operand(ct, other, nd_self, self_c, self_b, other_c, other_b, nd_other, self_first):
    """Cotangent of one operand: contract ct's other-free dims with ``other``."""
    nb = len(self_b)
    self_free = _free(nd_self, self_c, self_b)
    other_free = _free(nd_other, other_c, other_b)
    if self_first:
        ct_other_free = list(range(nb + len(self_free), nb + len(self_free) + len(other_free)))
    else:
        ct_other_free = list(range(nb, nb + len(other_free)))
    r = dot_general(ct, other, ((ct_other_free, other_free), (list(range(nb)), list(other_b))))
    # r layout: batch, self free, other's remaining (= other_c in axis order) -> self axes
    src = list(self_b) + self_free + [self_c[other_c.index(d)] for d in sorted(other_c)]
    return transpose(r, tuple(int(i) for i in np.argsort(src)))


def _dot_transpose(ct, x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    xs, ys = shape_of(x), shape_of(y)
    return [
        _ct_operand(ct, y, len(xs), lc, lb, rc, rb, len(ys), True) if isinstance(x, LinearArg) else None,
        _ct_operand(ct, x, len(ys), rc, rb, lc, lb, len(xs), False) if isinstance(y, LinearArg) else None,
    ]


def _dot_batch(v, d, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    x, y = v
    bx, by = d
    if bx is not None and by is not None:
        x, y = moveaxis(x, bx, 0), moveaxis(y, by, 0)
        sh = lambda ds: tuple(i + 1 for i in ds)  # noqa: E731
        return dot_general(x, y, ((sh(lc), sh(rc)), ((0,) + sh(lb), (0,) + sh(rb)))), 0
    if bx is not None:
        ph = lambda ds: tuple(i + (i >= bx) for i in ds)  # noqa: E731
        nlc, nlb = ph(lc), ph(lb)
        free = _free(len(shape_of(x)), nlc, nlb)
        return dot_general(x, y, ((nlc, rc), (nlb, rb))), len(lb) + free.index(bx)
    ph = lambda ds: tuple(i + (i >= by) for i in ds)  # noqa: E731
    nrc, nrb = ph(rc), ph(rb)
    xfree = _free(len(shape_of(x)), lc, lb)
    free = _free(len(shape_of(y)), nrc, nrb)
    return dot_general(x, y, ((lc, nrc), (lb, nrb))), len(lb) + len(xfree) + free.index(by)


AE[dot_general_p] = _dot_ae
JR[dot_general_p] = _dot_jvp
TR[dot_general_p] = _dot_transpose
BR[dot_general_p] = _dot_batch

from .elementwise import add  # noqa: E402
