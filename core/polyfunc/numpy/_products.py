"""Products: matmul, dot, vdot, inner, outer, tensordot, einsum.  All of them
are one or a few dot_general primitives; bool products are computed in int64
and compared with zero, as NumPy's logical-or-of-ands."""
from __future__ import annotations

from collections.abc import Sequence

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, DTypeLike, Ints
from ._axes import norm_axis
from ._dtypes import ARRAY_TYPES, PY_SCALARS, bool_, canonical_dtype, convert, int64, promote_arrays, to_array
from ._elementwise import multiply, subtract
from ._indexing import diagonal, take
from ._reductions import sum as _sum
from ._shape import broadcast_arrays, moveaxis, stack, swapaxes

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron", "cross", "vecdot",
           "matrix_transpose"]


def _pair(name, a, b):
    """Both operands as arrays of one promoted dtype, and that dtype."""
    if a.__class__ in ARRAY_TYPES and b.__class__ in ARRAY_TYPES:
        # keyed by array class: a library's dtype is never compared with another library's
        if (a.__class__, a.dtype, b.__class__, b.dtype) in _PLAIN:
            return a, b, get_aval(a).dtype
    (a, b), dt = promote_arrays(name, [a, b])
    if dt != bool_:
        _PLAIN.add((a.__class__, a.dtype, b.__class__, b.dtype))  # a pair that needs no promotion step
    return a, b, dt


_PLAIN: set = set()


def _finish(out, dt):
    return ops.ne(out, 0) if dt == bool_ else out


def _as(x, dt):
    return ops.convert_element_type(x, int64) if dt == bool_ else x


def _dot(a, b, contract, batch=((), ())):
    return ops.dot_general(a, b, (contract, batch))


def matmul(x1: ArrayLike, x2: ArrayLike) -> Array:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dimensions broadcast."""
    if x1.__class__ in PY_SCALARS or x2.__class__ in PY_SCALARS:
        raise ShapeError("matmul: scalar operands are not allowed; use multiply (or *)")
    a, b, dt = _pair("matmul", x1, x2)
    sa, sb = get_aval(a).shape, get_aval(b).shape
    na, nb = len(sa), len(sb)
    if not na or not nb:
        raise ShapeError(f"matmul: scalar operands are not allowed (shapes {sa} and {sb}); use multiply")
    ca, cb = na - 1, (0 if nb == 1 else nb - 2)
    if sa[ca] != sb[cb]:
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not line up: the last axis of the first "
                         f"({sa[ca]}) must equal the {'only' if nb == 1 else 'second-to-last'} axis of the "
                         f"second ({sb[cb]})")
    a, b = _as(a, dt), _as(b, dt)
    if na == 1 or nb <= 2:
        # one contraction; dot_general's layout (a's free axes, then b's) is already matmul's
        out = _dot(a, b, ((ca,), (cb,)))
    elif na == 2:
        # contract, then bring b's batch axes in front of a's row axis
        out = ops.moveaxis(_dot(a, b, ((1,), (cb,))), 0, nb - 2)
    else:
        batch = ops.broadcast_shapes(sa[:-2], sb[:-2], what="batch dimensions of matmul")
        a = ops.broadcast_to(a, batch + sa[-2:])
        b = ops.broadcast_to(b, batch + sb[-2:])
        k = len(batch)
        out = _dot(a, b, ((k + 1,), (k,)), (tuple(range(k)), tuple(range(k))))
    return _finish(out, dt)


def dot(a: ArrayLike, b: ArrayLike) -> Array:
    """NumPy's dot: products of scalars, inner product of vectors, matrix product, or a sum over the last
    axis of ``a`` and the second-to-last of ``b``."""
    x, y, dt = _pair("dot", a, b)
    sa, sb = get_aval(x).shape, get_aval(y).shape
    if not sa or not sb:
        return multiply(x, y)
    cb = 0 if len(sb) == 1 else len(sb) - 2
    if sa[-1] != sb[cb]:
        raise ShapeError(f"dot: shapes {sa} and {sb} are not aligned: {sa[-1]} (dim {len(sa) - 1}) != "
                         f"{sb[cb]} (dim {cb})")
    return _finish(_dot(_as(x, dt), _as(y, dt), ((len(sa) - 1,), (cb,))), dt)


def vdot(a: ArrayLike, b: ArrayLike) -> Array:
    """The dot product of the flattened arrays, the first conjugated (for complex input)."""
    x, y, dt = _pair("vdot", a, b)
    x = ops.conj(x)
    ax, ay = get_aval(x), get_aval(y)
    if ax.size != ay.size:
        raise ShapeError(f"vdot: the arrays have different sizes ({ax.size} and {ay.size})")
    x = ops.reshape(_as(x, dt), (ax.size,))
    y = ops.reshape(_as(y, dt), (ay.size,))
    return _finish(_dot(x, y, ((0,), (0,))), dt)


def inner(a: ArrayLike, b: ArrayLike) -> Array:
    """Sum product over the last axes of ``a`` and ``b``."""
    x, y, dt = _pair("inner", a, b)
    sa, sb = get_aval(x).shape, get_aval(y).shape
    if not sa or not sb:
        return multiply(x, y)
    if sa[-1] != sb[-1]:
        raise ShapeError(f"inner: the last dimensions of shapes {sa} and {sb} differ")
    return _finish(_dot(_as(x, dt), _as(y, dt), ((len(sa) - 1,), (len(sb) - 1,))), dt)


def outer(a: ArrayLike, b: ArrayLike) -> Array:
    """The outer product of the flattened arrays."""
    x, y = to_array(a), to_array(b, a)
    n, m = get_aval(x).size, get_aval(y).size
    return multiply(ops.reshape(x, (n, 1)), ops.reshape(y, (1, m)))


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | Sequence[Ints] = 2) -> Array:
    """Sum products over ``axes`` (an int N: the last N of ``a`` and the first N of ``b``; or a pair of
    axis lists)."""
    x, y, dt = _pair("tensordot", a, b)
    sa, sb = get_aval(x).shape, get_aval(y).shape
    if isinstance(axes, int):
        if axes < 0 or axes > min(len(sa), len(sb)):
            raise ShapeError(f"tensordot: cannot contract {axes} axes of shapes {sa} and {sb}")
        la, lb = tuple(range(len(sa) - axes, len(sa))), tuple(range(axes))
    else:
        pa, pb = axes
        la = tuple(pa) if isinstance(pa, (tuple, list)) else (pa,)
        lb = tuple(pb) if isinstance(pb, (tuple, list)) else (pb,)

        la = tuple(norm_axis("tensordot", i, sa) for i in la)
        lb = tuple(norm_axis("tensordot", i, sb) for i in lb)
    if len(la) != len(lb) or any(sa[i] != sb[j] for i, j in zip(la, lb)):
        raise ShapeError(f"tensordot: axes {la} of shape {sa} and {lb} of shape {sb} do not match")
    return _finish(_dot(_as(x, dt), _as(y, dt), (la, lb)), dt)


def vecdot(x1: ArrayLike, x2: ArrayLike, axis: int = -1) -> Array:
    """Dot product of vectors along ``axis``, broadcasting the other dimensions."""
    return _sum(multiply(x1, x2), axis=axis)


def matrix_transpose(x: ArrayLike) -> Array:
    """``x`` with its last two axes swapped."""
    return swapaxes(x, -1, -2)


def kron(a: ArrayLike, b: ArrayLike) -> Array:
    """The Kronecker product."""
    x, y, dt = _pair("kron", a, b)
    sa, sb = get_aval(x).shape, get_aval(y).shape
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    x = ops.reshape(x, tuple(v for n in sa for v in (n, 1)))
    y = ops.reshape(y, tuple(v for n in sb for v in (1, n)))
    return ops.reshape(multiply(x, y), tuple(m * n for m, n in zip(sa, sb)))


def cross(a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Array:
    """The cross product of 2- or 3-vectors, which lie along ``axisa`` of ``a`` and ``axisb`` of
    ``b`` (``axis`` sets all three); the result's vectors lie along ``axisc``.  A 2-vector has z = 0;
    two 2-vectors give the z component alone (no vector axis)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y, dt = _pair("cross", a, b)
    sx, sy = get_aval(x).shape, get_aval(y).shape
    x = moveaxis(x, norm_axis("cross", axisa, sx), -1)
    y = moveaxis(y, norm_axis("cross", axisb, sy), -1)
    nx, ny = get_aval(x).shape[-1], get_aval(y).shape[-1]
    if nx not in (2, 3) or ny not in (2, 3):
        raise ShapeError(f"cross: incompatible dimensions for cross product (dimension must be 2 or 3), got "
                         f"{nx} and {ny}")
    xs = [take(x, i, -1) for i in range(nx)]
    ys = [take(y, i, -1) for i in range(ny)]
    z = 0  # the missing z component of a 2-vector
    x2 = xs[2] if nx == 3 else z
    y2 = ys[2] if ny == 3 else z
    cz = subtract(multiply(xs[0], ys[1]), multiply(xs[1], ys[0]))
    if nx == 2 and ny == 2:
        return cz
    cx = subtract(multiply(xs[1], y2), multiply(x2, ys[1]))
    cy = subtract(multiply(x2, ys[0]), multiply(xs[0], y2))
    parts = broadcast_arrays(cx, cy, cz)
    out = stack(parts, axis=-1)
    return moveaxis(out, -1, norm_axis("cross", axisc, get_aval(out).shape))


# ------------------------------------------------------------------ einsum
def _parse_einsum(subscripts, shapes):
    """Per-operand label lists and the output labels, ellipses expanded to fresh labels."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins, out = s, None
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    n_ell = 0
    for t, sh in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(sh) - (len(t) - 3))
    ell = [f"...{i}" for i in range(n_ell)]  # labels no letter can collide with
    labels = []
    for t, sh in zip(terms, shapes):
        if "..." in t:
            pre, post = t.split("...")
            k = len(sh) - len(pre) - len(post)
            if k < 0:
                raise ShapeError(f"einsum: subscripts {t!r} have more labels than operand dimensions {sh}")
            lab = list(pre) + ell[n_ell - k:] + list(post)
        else:
            lab = list(t)
        for c in lab:
            if not c.startswith("...") and not c.isalpha():
                raise ValueError(f"einsum: invalid subscript {c!r} in {subscripts!r}")
        if len(lab) != len(sh):
            raise ShapeError(f"einsum: subscripts {t!r} name {len(lab)} axes, but the operand has shape {sh}")
        labels.append(lab)
    if out is None:
        counts: dict = {}
        for lab in labels:
            for c in lab:
                counts[c] = counts.get(c, 0) + 1
        out_labels = ell + sorted(c for c, n in counts.items() if n == 1 and not c.startswith("..."))
    else:
        if "..." in out:
            pre, post = out.split("...")
            out_labels = list(pre) + ell + list(post)
        else:
            out_labels = list(out)
        seen = set()
        for c in out_labels:
            if c in seen:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once")
            seen.add(c)
            if not any(c in lab for lab in labels):
                raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs")
    return labels, out_labels


def _einsum_diagonals(x, lab):
    """Take diagonals for labels repeated within one operand."""
    while True:
        dup = next((c for c in lab if lab.count(c) > 1), None)
        if dup is None:
            return x, lab
        p = lab.index(dup)
        q = lab.index(dup, p + 1)
        x = diagonal(x, 0, p, q)
        lab = [c for i, c in enumerate(lab) if i not in (p, q)] + [dup]


def _sum_labels(x, lab, drop):
    axes = tuple(i for i, c in enumerate(lab) if c in drop)
    if not axes:
        return x, lab
    return ops.reduce_sum(x, axes), [c for c in lab if c not in drop]


def _einsum_sizes(labels, shapes):
    size: dict = {}
    for lab, sh in zip(labels, shapes):
        for c, n in zip(lab, sh):
            m = size.get(c)
            if m is None or m == 1:
                size[c] = n
            elif n != 1 and n != m:
                raise ShapeError(f"einsum: label {c!r} has sizes {m} and {n} in different operands")
    return size


def _stretch(x, lab, size):
    """Broadcast size-1 axes of ``x`` up to the label sizes."""
    sh = get_aval(x).shape
    want = tuple(size[c] for c in lab)
    return x if sh == want else ops.broadcast_to(x, want)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublist_letters(sub) -> str:
    out = []
    for k in sub:
        if k is Ellipsis:
            out.append("...")
        elif isinstance(k, int) and not isinstance(k, bool) and 0 <= k < len(_LETTERS):
            out.append(_LETTERS[k])
        else:
            raise ValueError(f"einsum: a sublist holds integers in [0, {len(_LETTERS)}) and Ellipsis, got {k!r}")
    return "".join(out)


def _sublists_to_subscripts(args):
    """NumPy's operand/sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as a subscripts string
    and the operands."""
    operands, terms = list(args[0::2]), [_sublist_letters(s) for s in args[1::2]]
    out = None
    if len(terms) < len(operands):      # an odd count: the last entry is the output sublist
        out = _sublist_letters(operands.pop())
    return ",".join(terms) + ("" if out is None else "->" + out), tuple(operands)


def einsum(subscripts: str | ArrayLike, *operands: ArrayLike, optimize: bool | str | None = None,
           dtype: DTypeLike = None) -> Array:
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands are contracted pairwise,
    left to right.  NumPy's sublist form (``einsum(a, [0, 1], b, [1, 2])``) is read too; ``optimize``
    is accepted and ignored."""

    if not isinstance(subscripts, str):
        subscripts, operands = _sublists_to_subscripts((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    ops_list, dt = promote_arrays("einsum", list(operands))
    if dtype is not None:
        d = canonical_dtype(dtype, "einsum")
        ops_list, dt = [convert(o, dt, d) for o in ops_list], d
    ops_list = [_as(o, dt) for o in ops_list]
    shapes = [get_aval(o).shape for o in ops_list]
    labels, out = _parse_einsum(subscripts, shapes)
    size = _einsum_sizes(labels, shapes)
    terms = []
    for i, (x, lab) in enumerate(zip(ops_list, labels)):
        x, lab = _einsum_diagonals(x, list(lab))
        others = set(out)
        for j, l2 in enumerate(labels):
            if j != i:
                others.update(l2)
        x, lab = _sum_labels(x, lab, {c for c in lab if c not in others})
        terms.append((x, lab))
    cur, cl = terms[0]
    for k in range(1, len(terms)):
        x, xl = terms[k]
        keep = set(out)
        for _, l2 in terms[k + 1:]:
            keep.update(l2)
        cur, cl = _sum_labels(cur, cl, {c for c in cl if c not in keep and c not in xl})
        x, xl = _sum_labels(x, xl, {c for c in xl if c not in keep and c not in cl})
        shared = [c for c in cl if c in xl]
        cur, x = _stretch(cur, cl, size), _stretch(x, xl, size)
        batch = [c for c in shared if c in keep]
        contract = [c for c in shared if c not in keep]
        cur = ops.dot_general(cur, x, ((tuple(cl.index(c) for c in contract), tuple(xl.index(c) for c in contract)),
                                       (tuple(cl.index(c) for c in batch), tuple(xl.index(c) for c in batch))))
        cl = batch + [c for c in cl if c not in shared] + [c for c in xl if c not in shared]
    cur, cl = _sum_labels(cur, cl, {c for c in cl if c not in out})
    cur = _stretch(cur, cl, size)
    cur = ops.transpose(cur, tuple(cl.index(c) for c in out))
    return _finish(cur, dt)
