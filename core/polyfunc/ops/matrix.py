"""Matrix primitives over stacks of square matrices (the last two axes): solve, det, slogdet,
cholesky.  Their derivatives are written with solve itself, so they differentiate again.
Batch axes must match exactly (the polyfunc.numpy and torch wrappers broadcast first)."""
from __future__ import annotations

from ..errors import DTypeError, ShapeError, TransformError
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray, Tracer
from ..typing import Array
from .elementwise import add, eq, mul, neg, select, sub
from .contraction import dot_general
from .reductions import cumsum, reduce_sum
from .structural import (LinearArg, broadcast_in_dim, dtype_of, eye_like, full_like, moveaxis, ndim_of, shape_of,
                         transpose)

__all__ = ["solve", "det", "cofactors", "slogdet", "cholesky", "matmul_stacked", "matrix_transpose", "trace_stacked"]

solve_p = Primitive("solve")
det_p = Primitive("det")
slogdet_p = Primitive("slogdet", multiple_results=True)
cholesky_p = Primitive("cholesky")


# ------------------------------------------------------------------ helpers (stacks of matrices)
def matmul_stacked(x: Array, y: Array) -> Array:
    """``x @ y`` for stacks with equal leading axes."""
    nd = ndim_of(x)
    batch = tuple(range(nd - 2))
    return dot_general(x, y, (((nd - 1,), (nd - 2,)), (batch, batch)))


def matrix_transpose(x: Array) -> Array:
    nd = ndim_of(x)
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def trace_stacked(x: Array, like: Array | None = None) -> Array:
    """The trace of each matrix of the stack (its diagonal, picked by an identity mask).  The
    mask is made beside ``like`` (default ``x``): pass a primal when ``x`` is a tangent, so the
    mask is a constant of the linear graph rather than a function of the tangent."""
    s = shape_of(x)
    like = x if like is None else like
    eye = broadcast_in_dim(eye_like(like, s[-1], dtype_of(like)), s, (len(s) - 2, len(s) - 1))
    return reduce_sum(mul(x, eye), (len(s) - 2, len(s) - 1))


def _square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: expected a stack of square matrices (..., n, n), got shape {a.shape}")
    if a.dtype.kind not in "fc":
        raise DTypeError(f"{name}: expected a floating-point matrix, got {a.dtype}")


def _front(v, d, size):
    """``v`` with its batch axis first: moved there, or broadcast when it has none."""
    if d is not None:
        return moveaxis(v, d, 0)
    s = shape_of(v)
    return broadcast_in_dim(v, (size,) + s, tuple(range(1, len(s) + 1)))


def _batch_size(vals, dims):
    return next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)


# ------------------------------------------------------------------ solve
def solve(a: Array, b: Array) -> Array:
    """``x`` with ``a @ x == b``; ``b`` is a stack of matrices (..., n, k) like ``a``'s."""
    return solve_p.bind(a, b)


def _solve_ae(a, b):
    _square("solve", a)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"solve: the right-hand side of shape {b.shape} does not fit matrices of shape {a.shape}")
    if a.dtype != b.dtype:
        raise DTypeError(f"solve: operands have dtypes {a.dtype} and {b.dtype}; promote them first")
    return ShapedArray(b.shape, b.dtype)


def _solve_jvp(pr, t):
    a, b = pr
    ta, tb = t
    x = solve(a, b)
    # d(a^-1 b) = a^-1 (db - da x)
    rhs = tb if ta is None else (neg(matmul_stacked(ta, x)) if tb is None else sub(tb, matmul_stacked(ta, x)))
    return x, solve(a, rhs)


def _solve_transpose(ct, a, b):
    if isinstance(a, LinearArg):
        raise TypeError("solve is not linear in its matrix and cannot be transposed with respect to it")
    return [None, solve(matrix_transpose(a), ct)]


def _solve_batch(v, d):
    n = _batch_size(v, d)
    return solve(_front(v[0], d[0], n), _front(v[1], d[1], n)), 0


AE[solve_p] = _solve_ae
JR[solve_p] = _solve_jvp
TR[solve_p] = _solve_transpose
BR[solve_p] = _solve_batch


# ------------------------------------------------------------------ det, slogdet, cholesky
def _one_matrix(prim, keep_matrix: bool):
    """Abstract eval and batching of a primitive of one stack of square matrices: the output is
    the stack itself (``keep_matrix``) or one value per matrix, once per result; the batch
    axis goes first, where the kernels take stacks."""
    n_out = 2 if prim.multiple_results else 1

    def ae(a):
        _square(prim.name, a)
        out = ShapedArray(a.shape if keep_matrix else a.shape[:-2], a.dtype)
        return [out] * n_out if prim.multiple_results else out
    AE[prim] = ae
    BR[prim] = lambda v, d: (prim.bind(moveaxis(v[0], d[0], 0)), [0] * n_out if prim.multiple_results else 0)
    return prim.bind


det = _one_matrix(det_p, keep_matrix=False)
slogdet = _one_matrix(slogdet_p, keep_matrix=False)         # [sign, log|det a|]
cholesky = _one_matrix(cholesky_p, keep_matrix=True)        # lower l with l @ l^T == a (a symmetric pos. def.)


def _logdet_tangent(a, ta):
    """d log|det a| = tr(a^-1 da)."""
    return trace_stacked(solve(a, ta), a)


def _slogdet_jvp(pr, t):
    sign, logabs = slogdet(pr[0])
    return [sign, logabs], [None, _logdet_tangent(pr[0], t[0])]


# Up to this size the derivative of det uses the cofactor matrix, which exists (the adjugate,
# transposed) also where a is singular; above it, det(a) * tr(a^-1 da), whose solve fails there.
# The cofactors cost n^2 determinants of n x n matrices (an (n, n, n, n) intermediate), too much
# for large n.  polyfunc has no SVD primitive to build the adjugate of a singular matrix from, so
# a larger singular matrix is refused with an error that says how to raise this limit.
COFACTOR_MAX_N = 8


def cofactors(a: Array) -> Array:

    """The cofactor matrix of each matrix of the stack: c[i, j] = det(a with row i replaced by
    e_j), by Laplace expansion along row i.  Built from det alone, so it differentiates again."""
    s = shape_of(a)
    n, nd = s[-1], len(s)
    eye = eye_like(a, n, dtype_of(a))
    full = s[:-2] + (n, n, n, n)                                       # (..., i, j, k, l)
    row_i = broadcast_in_dim(eye, full, (nd - 2, nd))                  # [k == i]
    col_j = broadcast_in_dim(eye, full, (nd - 1, nd + 1))              # [l == j]
    spread = broadcast_in_dim(a, full, tuple(range(nd - 2)) + (nd, nd + 1))
    return det(add(mul(spread, sub(1.0, row_i)), mul(row_i, col_j)))


def _det_jvp(pr, t):
    """The derivative of det: the cofactor matrix for n <= COFACTOR_MAX_N (exact at singular
    matrices too, as JAX and torch.func give it), det(a) * tr(a^-1 da) above.  There, an exactly
    singular concrete matrix raises a TransformError naming the limit (the solve would fail with the
    backend's bare LinAlgError); under jit or vmap the matrix is not known here, and the backend's
    error arises when the derivative is evaluated."""
    a, ta = pr[0], t[0]
    d = det(a)
    n = shape_of(a)[-1]
    if n == 0:
        return d, None
    if n <= COFACTOR_MAX_N:
        # d det = sum_ij cof(a)_ij da_ij: exact also at singular a (grad det = the cofactors)
        nd = ndim_of(a)
        return d, reduce_sum(mul(cofactors(a), ta), (nd - 2, nd - 1))
    if not isinstance(d, Tracer) and _any_zero(d):
        raise TransformError(
            f"the derivative of det (grad, jvp, jacrev, ... of det) at a singular {n}x{n} matrix: above "
            f"{COFACTOR_MAX_N}x{COFACTOR_MAX_N} it is det(a) * tr(a^-1 da), which needs a nonsingular a. "
            f"Set polyfunc.ops.matrix.COFACTOR_MAX_N = {n} to use the cofactor matrix instead (exact at "
            f"singular matrices; it costs {n}^2 determinants of {n}x{n} matrices), or differentiate "
            f"slogdet away from singular matrices.")
    return d, mul(d, _logdet_tangent(a, ta))


def _any_zero(d) -> bool:
    """Whether any determinant of the concrete stack ``d`` is exactly 0 (the solve would fail)."""
    zero = full_like(d, 0, shape_of(d), dtype_of(d))
    hits = select(eq(d, zero), full_like(d, 1, shape_of(d), dtype_of(d)), zero)
    return bool(reduce_sum(hits, tuple(range(ndim_of(d)))))


JR[det_p] = _det_jvp
JR[slogdet_p] = _slogdet_jvp


def _cholesky_jvp(pr, t):
    a, ta = pr[0], t[0]
    low = cholesky(a)
    # only a's symmetric part is a Cholesky input, so the tangent is symmetrised first; the
    # gradient (this rule transposed) is then symmetric, as JAX and torch.func return it
    ta = mul(add(ta, matrix_transpose(ta)), 0.5)
    # dl = l · phi(l^-1 da l^-T), phi: the lower triangle with the diagonal halved
    p = solve(low, ta)
    s = matrix_transpose(solve(low, matrix_transpose(p)))
    mask = broadcast_in_dim(_phi_mask(a, shape_of(a)[-1]), shape_of(a), (ndim_of(a) - 2, ndim_of(a) - 1))
    return low, matmul_stacked(low, mul(s, mask))


def _phi_mask(like, n):
    """1 strictly below the diagonal, 1/2 on it, 0 above, on ``like``'s backend."""
    eye = eye_like(like, n, dtype_of(like))
    return add(sub(cumsum(eye, 0), eye), mul(eye, 0.5))     # cumsum of the identity: the lower triangle


JR[cholesky_p] = _cholesky_jvp
