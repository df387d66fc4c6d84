"""Matrix primitives over stacks of square matrices (the last two axes): solve, det, slogdet,
cholesky.  Their derivatives are written with solve itself, so they differentiate again.
Batch axes must match exactly (the polyfunc.numpy and torch wrappers broadcast first)."""
from __future__ import annotations

import math

import numpy as np  # dtypes only

from ..errors import DTypeError, ShapeError
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array
from .complex import abs, is_complex_dtype, real, real_dtype
from .elementwise import add, convert_element_type, cos, div, eq, ge, log, mul, neg, select, sqrt, stop_gradient, sub
from .contraction import dot_general
from .indexing import iota_like
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
def _one_matrix(prim, keep_matrix: bool, result_dtypes=None):
    """Abstract eval and batching of a primitive of one stack of square matrices: the output is
    the stack itself (``keep_matrix``) or one value per matrix, once per result, of the input's
    dtype or ``result_dtypes(dtype)``; the batch axis goes first, where the kernels take stacks."""
    n_out = 2 if prim.multiple_results else 1

    def ae(a):
        _square(prim.name, a)
        shape = a.shape if keep_matrix else a.shape[:-2]
        dtypes = result_dtypes(a.dtype) if result_dtypes else [a.dtype] * n_out
        out = [ShapedArray(shape, dt) for dt in dtypes]
        return out if prim.multiple_results else out[0]
    AE[prim] = ae
    BR[prim] = lambda v, d: (prim.bind(moveaxis(v[0], d[0], 0)), [0] * n_out if prim.multiple_results else 0)
    return prim.bind


det = _one_matrix(det_p, keep_matrix=False)
# [sign, log|det a|]: the sign of a complex matrix is det / |det|, and log|det| is real
slogdet = _one_matrix(slogdet_p, keep_matrix=False, result_dtypes=lambda dt: [dt, real_dtype(dt)])
cholesky = _one_matrix(cholesky_p, keep_matrix=True)        # lower l with l @ l^T == a (a symmetric pos. def.)


def _logdet_tangent(a, ta):
    """d log|det a| = tr(a^-1 da)."""
    return trace_stacked(solve(a, ta), a)


def _slogdet_jvp(pr, t):
    a = pr[0]
    sign, logabs = slogdet(a)
    tr = _logdet_tangent(a, t[0])                 # d log det a = tr(a^-1 da)
    if not is_complex_dtype(dtype_of(a)):
        return [sign, logabs], [None, tr]
    # log det = log|det| + i angle: log|det| moves with tr's real part, the sign turns with i Im(tr)
    re = real(tr)
    return [sign, logabs], [mul(sign, sub(tr, convert_element_type(re, dtype_of(a)))), re]


# Up to this size the derivative of det uses the cofactor matrix (exact, also at singular a).
# The cofactors cost n^2 determinants of n x n matrices (an (n, n, n, n) intermediate), so above
# it the derivative is taken at two rank-one shifts of a instead (see _det_tangent_shifted).
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


def _rank_one_shift(a):
    """t * u v^T per matrix of the stack: u and v fixed unit vectors with generic entries (the
    same for every a, so the result has no structure in common with a's), t a's root-mean-square
    singular value (held constant: the formula below does not depend on it)."""
    s = shape_of(a)
    n, nd = s[-1], len(s)
    i = iota_like(full_like(a, 0, (), dtype_of(a)), (n,))
    u, v = cos(add(mul(i, 1.7), 0.4)), cos(add(mul(i, 2.3), 1.1))
    u, v = div(u, sqrt(reduce_sum(mul(u, u), (0,)))), div(v, sqrt(reduce_sum(mul(v, v), (0,))))
    uv = mul(broadcast_in_dim(u, (n, n), (0,)), broadcast_in_dim(v, (n, n), (1,)))
    mag = abs(a)
    t = stop_gradient(sqrt(div(reduce_sum(mul(mag, mag), (nd - 2, nd - 1)), float(n))))
    t = convert_element_type(select(eq(t, 0.0), full_like(t, 1.0, shape_of(t), dtype_of(t)), t), dtype_of(a))
    return mul(broadcast_in_dim(t, s, tuple(range(nd - 2))), broadcast_in_dim(uv, s, (nd - 2, nd - 1)))


def _det_tangent_shifted(a, ta):
    """tr(adj(a) da) from two neighbours of a: every cofactor of a + s E, for a rank-one E, is
    the determinant of a rank-one update of a minor of a, hence affine in s, so
    adj(a) = (adj(a + E) + adj(a - E)) / 2, and adj(m) da = det(m) m^-1 da where m is nonsingular.
    For a generic E, a +- E are nonsingular when a has rank n or n - 1, so this holds at singular
    a too, and it needs no look at a's values: it works under jit and vmap.  Where a has rank
    n - 2 or less, adj(a) = 0 and a +- E are singular as well; such an m is given a zero term (and
    the identity to solve with, so nothing raises).  Singular is judged numerically -- |det m|
    below n * eps times the product of m's row norms, its largest possible value -- because
    det(m) m^-1 of a numerically singular m is not adj(m) once transposed: det and the solve
    with m^T factor different matrices, and their tiny pivots no longer cancel."""
    shift = _rank_one_shift(a)
    s = shape_of(a)
    n, nd = s[-1], len(s)
    eye = broadcast_in_dim(eye_like(a, n, dtype_of(a)), s, (nd - 2, nd - 1))
    log_tol = math.log(n * np.finfo(dtype_of(a)).eps)
    terms = []
    for m in (add(a, shift), sub(a, shift)):
        fixed = stop_gradient(m)
        mag = abs(fixed)
        log_rows = reduce_sum(mul(log(reduce_sum(mul(mag, mag), (nd - 1,))), 0.5), (nd - 2,))
        ok = ge(sub(slogdet(fixed)[1], log_rows), log_tol)          # NaN (a zero row) counts as singular
        ok_m = broadcast_in_dim(ok, s, tuple(range(nd - 2)))
        d = select(ok, det(m), full_like(m, 0, s[:-2], dtype_of(m)))
        terms.append(mul(d, _logdet_tangent(select(ok_m, m, eye), ta)))
    return mul(add(terms[0], terms[1]), 0.5)


def _det_jvp(pr, t):
    """The derivative of det, tr(adj(a) da), exact at singular matrices too, as JAX and
    torch.func give it: with the cofactor matrix up to COFACTOR_MAX_N, from two rank-one shifts
    of a above."""
    a, ta = pr[0], t[0]
    d = det(a)
    n = shape_of(a)[-1]
    if n == 0:
        return d, None
    if n <= COFACTOR_MAX_N:
        # d det = sum_ij cof(a)_ij da_ij: exact also at singular a (grad det = the cofactors)
        nd = ndim_of(a)
        return d, reduce_sum(mul(cofactors(a), ta), (nd - 2, nd - 1))
    return d, _det_tangent_shifted(a, ta)


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
