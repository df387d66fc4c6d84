"""``polyfunc.numpy.linalg``: norms (vector and matrix), solve, inv, det, slogdet and
cholesky, written with polyfunc.numpy and the matrix primitives."""
from __future__ import annotations

import math
from typing import NamedTuple

from .. import ops
from ..errors import ShapeError
from ..avals import get_aval
from ..typing import Array, ArrayLike, Axis
from ._axes import norm_axes, norm_axis
from ._dtypes import convert, float64, int64, result_type, to_array
from . import _elementwise as _e
from . import _reductions as _r

__all__ = ["norm", "vector_norm", "matrix_norm", "solve", "inv", "det", "slogdet", "cholesky"]


def _float(x):
    """``x`` as an array, integers and bool converted to float64 (as NumPy's norm does)."""
    x = to_array(x)
    d = get_aval(x).dtype
    return convert(x, d, float64) if d.kind not in "fc" else x


def _abs2(x):
    """``|x|**2`` elementwise (real for complex ``x``)."""
    if get_aval(x).dtype.kind == "c":
        re, im = ops.real(x), ops.imag(x)
        return ops.add(ops.mul(re, re), ops.mul(im, im))
    return ops.mul(x, x)


def _vector(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return _sqrt0(_r.sum(_abs2(x), axis=axes, keepdims=keepdims))
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    if ord == math.inf:
        return _r.max(_e.abs(x), axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return _r.min(_e.abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        d = get_aval(x).dtype
        return convert(_r.sum(ops.ne(x, 0), axis=axes, keepdims=keepdims), int64, d)
    if ord == 1:
        return _r.sum(_e.abs(x), axis=axes, keepdims=keepdims)
    p = float(ord)
    return _e.power(_r.sum(_e.power(_e.abs(x), p), axis=axes, keepdims=keepdims), 1.0 / p)


def _matrix(x, ord, axes, keepdims):
    row, col = axes
    if ord is None or ord == "fro":
        return _sqrt0(_r.sum(_abs2(x), axis=(row, col), keepdims=keepdims))
    if ord in (1, -1, math.inf, -math.inf):
        pick = _r.max if ord in (1, math.inf) else _r.min
        # 1: largest column sum of |x|; inf: largest row sum
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        s = _r.sum(_e.abs(x), axis=inner, keepdims=True)
        out = pick(s, axis=outer, keepdims=True)
        return out if keepdims else ops.squeeze(out, tuple(sorted((row, col))))
    if ord in (2, -2, "nuc"):
        raise NotImplementedError(f"norm: matrix norm ord={ord!r} needs singular values, which polyfunc has "
                                  f"no primitive for yet; use ord='fro', 1, -1, inf or -inf.")
    raise ValueError(f"norm: invalid norm order {ord!r} for matrices")


def _sqrt0(s):
    """sqrt for a sum of squares, with gradient 0 (not NaN) where the sum is 0, as torch gives.
    The inner where keeps sqrt's infinite derivative at 0 out of the product rule."""
    zero = _e.equal(s, 0)
    return _e.where(zero, 0.0, _e.sqrt(_e.where(zero, 1.0, s)))


def norm(x: ArrayLike, ord: float | str | None = None, axis: Axis | list[int] = None, keepdims: bool = False) -> Array:
    """Vector or matrix norm, as numpy.linalg.norm (matrix ord 2, -2 and 'nuc' are not supported)."""
    x = _float(x)
    shape = get_aval(x).shape
    nd = len(shape)
    if axis is None:
        if ord is None:
            out = _sqrt0(_r.sum(_abs2(x)))
            return ops.reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            return _vector(x, ord, (0,), keepdims)
        if nd == 2:
            return _matrix(x, ord, (0, 1), keepdims)
        raise ShapeError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D array, got shape {shape}")
    if isinstance(axis, (tuple, list)):
        if len(axis) == 1:
            return _vector(x, ord, (norm_axis("norm", axis[0], shape),), keepdims)
        if len(axis) == 2:
            axes = (norm_axis("norm", axis[0], shape), norm_axis("norm", axis[1], shape))
            if axes[0] == axes[1]:
                raise ShapeError(f"norm: duplicate axes {tuple(axis)}")
            return _matrix(x, ord, axes, keepdims)
        raise ShapeError(f"norm: axis must name one or two axes, got {axis}")
    return _vector(x, ord, norm_axes("norm", axis, shape), keepdims)


def vector_norm(x: ArrayLike, axis: Axis | list[int] = None, keepdims: bool = False, ord: float = 2) -> Array:
    """The vector norm over ``axis`` (all axes, flattened, if None)."""
    x = _float(x)
    return _vector(x, ord, norm_axes("vector_norm", axis, get_aval(x).shape), keepdims)


def matrix_norm(x: ArrayLike, keepdims: bool = False, ord: float | str = "fro") -> Array:
    """The matrix norm over the last two axes."""
    x = _float(x)
    return _matrix(x, ord, (len(get_aval(x).shape) - 2, len(get_aval(x).shape) - 1), keepdims)


# ------------------------------------------------------------------ solve, inv, det
def _matrices(name, *given):
    """Stacks of matrices in one floating dtype, their leading axes broadcast to one shape."""
    xs = [_float(x) for x in given]
    dt = result_type(*xs) if len(xs) > 1 else get_aval(xs[0]).dtype
    xs = [convert(x, get_aval(x).dtype, dt) for x in xs]
    for x in xs:
        if len(get_aval(x).shape) < 2:
            raise ShapeError(f"{name}: expected arrays of at least 2 dimensions (stacks of matrices), "
                             f"got shape {get_aval(x).shape}")
    lead = ops.broadcast_shapes(*[get_aval(x).shape[:-2] for x in xs])
    return [ops.broadcast_to(x, lead + get_aval(x).shape[-2:]) for x in xs]


def solve(a: ArrayLike, b: ArrayLike) -> Array:
    """``x`` with ``a @ x == b``; ``b`` a vector (..., n) or a stack of matrices (..., n, k)."""
    b = to_array(b)
    bv = get_aval(b).shape
    if len(bv) == 1:                   # NumPy 2's rule: only a 1-D b is a vector
        a, b = _matrices("solve", a, ops.reshape(b, bv + (1,)))
        x = ops.solve(a, b)
        return ops.reshape(x, get_aval(x).shape[:-1])
    a, b = _matrices("solve", a, b)
    return ops.solve(a, b)


def inv(a: ArrayLike) -> Array:
    """The inverse of each matrix: ``solve(a, identity)``."""
    (a,) = _matrices("inv", a)
    s = get_aval(a).shape
    eye = ops.broadcast_in_dim(ops.eye_like(a, s[-1], get_aval(a).dtype), s, (len(s) - 2, len(s) - 1))
    return ops.solve(a, eye)


def det(a: ArrayLike) -> Array:
    """The determinant of each matrix.

    Its derivative is the cofactor matrix (the transposed adjugate) up to 8x8
    (``polyfunc.ops.matrix.COFACTOR_MAX_N``), exact also at singular matrices, as JAX and torch.func
    give it; above that it is ``det(a) * inv(a).T``, and an exactly singular matrix raises a
    TransformError naming the limit.  Raise the limit (the cofactors cost n^2 determinants of n x n
    matrices) to differentiate larger singular matrices."""
    (a,) = _matrices("det", a)
    return ops.det(a)


def slogdet(a: ArrayLike) -> SlogdetResult:
    """``(sign, log|det|)`` of each matrix."""
    (a,) = _matrices("slogdet", a)
    if get_aval(a).dtype.kind == "c":
        # the sign of a complex determinant is a unit complex number: both from det (whose rule
        # is written with solve), log|det| through log of the modulus
        d = ops.det(a)
        m = ops.abs(d)
        return SlogdetResult(ops.div(d, ops.convert_element_type(m, get_aval(d).dtype)), ops.log(m))
    sign, logabs = ops.slogdet(a)
    return SlogdetResult(sign, logabs)


def cholesky(a: ArrayLike, upper: bool = False) -> Array:
    """The lower (or upper) triangular factor ``l`` with ``l @ l^T == a``.  Only the lower triangle
    of ``a`` is read (the upper one when ``upper``), as NumPy and torch do, so a tangent of ``a``
    is read from that triangle too."""
    (a,) = _matrices("cholesky", a)
    if get_aval(a).dtype.kind == "c":
        raise NotImplementedError("cholesky: complex (Hermitian) matrices are not supported yet; its "
                                  "derivative rule is written for real symmetric matrices.")
    if upper:     # the upper factor of a is the transposed lower factor of a^T, read from a's upper triangle
        return ops.matrix_transpose(ops.cholesky(ops.matrix_transpose(a)))
    return ops.cholesky(a)


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)``, also readable by name as NumPy's result is.  A namedtuple, so it is a
    pytree node: jit, vmap and the derivatives see through it to its two arrays."""
    sign: Array
    logabsdet: Array

