"""One kernel per primitive, for any module with NumPy's API (``numpy`` here;
the CuPy plugin builds its kernels from the same factory with ``cupy``).
Kernels take arrays positionally and the primitive's parameters by keyword."""
from __future__ import annotations

import math

from polyfunc.plugin import remembered

from .convolution import make_conv_kernels


def _special_for(xp, name):
    """erf or erfc for arrays of ``xp``.  NumPy has neither: SciPy's when installed, else the
    C library's (``math.erf``) element by element, exact but slow on big arrays.  CuPy has
    cupyx's.  Integer input computes in float64, as NumPy's own exp does."""
    if xp.__name__ == "cupy":
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)
    try:
        import scipy.special
        return getattr(scipy.special, name)
    except ImportError:
        by_element = xp.frompyfunc(getattr(math, name), 1, 1)

        def f(x):
            x = xp.asarray(x)
            return xp.asarray(by_element(x), dtype=x.dtype if x.dtype.kind == "f" else xp.float64)
        return f


def make_kernels(backend, xp):
    """The kernel table for ``backend``, whose arrays live in the array module ``xp``."""

    plans: dict = {}

    def dot_plan(dimension_numbers, xnd, ynd):
        """Axis bookkeeping of a batched/general dot_general, worked out once per ranks and dims."""
        (lc, rc), (lb, rb) = dimension_numbers
        xf = [i for i in range(xnd) if i not in lc and i not in lb]
        yf = [i for i in range(ynd) if i not in rc and i not in rb]
        xperm, yperm = list(lb) + xf + list(lc), list(rb) + list(rc) + yf
        # a batch of outer products with one axis each: einsum straight on the transposed views
        simple_outer = not lc and len(lb) == len(xf) == len(yf) == 1
        return lb, lc, xf, yf, xperm, yperm, simple_outer

    def dot_general(x, y, *, dimension_numbers):
        (lc, rc), (lb, rb) = dimension_numbers
        if not lb and len(lc) == 1 and x.ndim <= 2 and y.ndim <= 2:
            # vector/matrix products go straight to BLAS; a transpose is a free view
            # (tensordot would add its own transposes and reshapes on top)
            return xp.dot(x if lc[0] == x.ndim - 1 else x.T, y if rc[0] == 0 else y.T)
        plan = remembered(plans, dot_plan, dimension_numbers, x.ndim, y.ndim, limit=1024)
        lb, lc, xf, yf, xperm, yperm, simple_outer = plan
        xt, yt = x.transpose(xperm), y.transpose(yperm)
        # a batch of outer products (per-sample gradients make many): einsum's loop beats
        # matmul's k=1 path about 3x and a broadcasting multiply about 1.4x.  It runs
        # fastest with the longer side innermost, so when that is x's side the result is
        # a transposed view (consumers usually transpose it back to contiguous).
        if simple_outer:
            if xt.shape[1] > yt.shape[1]:
                return xp.einsum("bm,bn->bnm", xt, yt).transpose(0, 2, 1)
            return xp.einsum("bm,bn->bmn", xt, yt)
        xs, ys = x.shape, y.shape
        bshape = [xs[i] for i in lb]
        out_shape = bshape + [xs[i] for i in xf] + [ys[i] for i in yf]
        nb, k = math.prod(bshape), math.prod([xs[i] for i in lc])
        m, n = math.prod([xs[i] for i in xf]), math.prod([ys[i] for i in yf])
        if k == 1:
            out = xp.einsum("bm,bn->bmn", xt.reshape(nb, m), yt.reshape(nb, n))
        else:
            out = xp.matmul(xt.reshape(nb, m, k), yt.reshape(nb, k, n))
        return out.reshape(out_shape)

    def pad(x, *, padding_value, padding_config):
        shape = tuple(lo + hi + n + max(n - 1, 0) * it for (lo, hi, it), n in zip(padding_config, x.shape))
        out = xp.full(shape, padding_value, dtype=x.dtype)
        out[tuple(slice(lo, lo + n + max(n - 1, 0) * it, it + 1)
                  for (lo, hi, it), n in zip(padding_config, x.shape))] = x
        return out

    def scatter_add(x, idx, upd, *, axis):
        out = xp.array(x, copy=True)
        k = idx.ndim
        # updates are laid out pre + idx + post; add.at wants idx + pre + post on an axis-first view
        u = xp.moveaxis(upd, list(range(axis, axis + k)), list(range(k)))
        xp.add.at(xp.moveaxis(out, axis, 0), idx, u)
        return out

    def slice_(x, *, start_indices, limit_indices, strides):
        return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]

    def cumsum(x, *, axis, reverse):
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return xp.cumsum(x, axis=axis, dtype=x.dtype)

    def iota(*, dtype, shape, dimension):
        shp = [1] * len(shape)
        shp[dimension] = shape[dimension]
        return xp.broadcast_to(xp.arange(shape[dimension], dtype=dtype).reshape(shp), shape).copy()

    def integer_pow(x, *, y):
        if y < 0 and x.dtype.kind in "iu":
            raise ValueError("integer_pow: integers to negative integer powers are not allowed")
        return xp.power(x, y) if y >= 0 else xp.power(x, float(y)).astype(x.dtype)

    def broadcast_in_dim(x, *, shape, broadcast_dimensions):
        if x.__class__ in (int, float, bool, complex):     # a Python scalar operand
            x = xp.asarray(x)
        src = [x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1 for i in range(len(shape))]
        if math.prod(shape) <= 4096:
            # small results are written out: that is cheaper than broadcast_to's view
            # machinery (about 2 us against 4-6 us) and gives later kernels contiguous input
            out = xp.empty(shape, dtype=x.dtype)
            out[...] = x.reshape(src)
            return out
        return xp.broadcast_to(xp.reshape(x, src), shape)

    def full_like(like, *, fill_value, shape, dtype):
        if not shape:       # a 0-d array (grad's seed, scalar operands): array() is 4x cheaper than full()
            try:
                return xp.array(fill_value, dtype=dtype)
            except (ValueError, OverflowError, TypeError):    # e.g. NaN or inf into an integer dtype, which full() casts
                pass
        return xp.full(shape, fill_value, dtype=dtype)

    def argsort(x, *, axis, descending, index_dtype):
        if not descending:
            return xp.argsort(x, axis=axis, kind="stable").astype(index_dtype, copy=False)
        # stable descending: sort the reversed array ascending, reverse back, and map the indices
        n = x.shape[axis]
        r = xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)
        return (n - 1 - r).astype(index_dtype, copy=False)

    def floats(dtype):
        return dtype if dtype in (xp.float32, xp.float64) else None

    def normal(*, shape, dtype):
        return backend.rng.standard_normal(shape, dtype=floats(dtype) or xp.float64).astype(dtype, copy=False)

    def uniform(*, shape, dtype):
        return backend.rng.random(shape, dtype=floats(dtype) or xp.float64).astype(dtype, copy=False)

    def randint(*, shape, low, high, dtype):
        return backend.rng.integers(low, high, size=shape, dtype=dtype)

    def convert_element_type(x, *, new_dtype):
        x = xp.asarray(x)
        if x.dtype.kind == "c" and new_dtype.kind != "c":
            x = x.real      # complex to real keeps the real part (NumPy's astype would warn)
        return x.astype(new_dtype)

    # dtype= on reductions keeps int32 int32 (NumPy would promote to the platform integer)
    return {
        "neg": xp.negative, "add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "div": xp.true_divide,
        "pow": xp.power, "max": xp.maximum, "min": xp.minimum, "exp": xp.exp, "log": xp.log,
        "log1p": xp.log1p, "expm1": xp.expm1, "sin": xp.sin, "cos": xp.cos, "tan": xp.tan, "tanh": xp.tanh,
        "erf": _special_for(xp, "erf"), "erfc": _special_for(xp, "erfc"),
        "logistic": lambda x: 0.5 * xp.tanh(0.5 * x) + 0.5,       # tanh form: no overflow for large |x|
        "sqrt": xp.sqrt, "rsqrt": lambda x: 1 / xp.sqrt(x), "abs": xp.abs, "sign": xp.sign,
        "floor": xp.floor, "ceil": xp.ceil, "round": xp.round, "asin": xp.arcsin, "acos": xp.arccos,
        "atan": xp.arctan, "sinh": xp.sinh, "cosh": xp.cosh, "atan2": xp.arctan2,
        "floor_div": xp.floor_divide, "rem": xp.remainder, "isnan": xp.isnan, "stop_gradient": lambda x: x,
        "eq": xp.equal, "ne": xp.not_equal, "lt": xp.less, "le": xp.less_equal, "gt": xp.greater,
        "ge": xp.greater_equal, "logical_and": xp.logical_and, "logical_or": xp.logical_or,
        "logical_xor": xp.logical_xor, "logical_not": xp.logical_not, "bitwise_and": xp.bitwise_and,
        "bitwise_or": xp.bitwise_or, "bitwise_xor": xp.bitwise_xor, "bitwise_not": xp.invert,
        "select": xp.where,
        # relu keeps NaN (maximum propagates it); relu_grad passes t where x <= 0 is false, NaN included
        "relu": lambda x: xp.maximum(x, 0),
        "relu_grad": lambda x, t: xp.where(x <= 0, 0, t),
        "integer_pow": integer_pow,
        "convert_element_type": convert_element_type,
        "real": xp.real, "imag": xp.imag, "conj": xp.conj, "angle": xp.angle,
        "full_like": full_like, "argsort": argsort,
        "solve": xp.linalg.solve, "det": xp.linalg.det, "cholesky": xp.linalg.cholesky,
        "slogdet": lambda a: list(xp.linalg.slogdet(a)),
        "iota": iota,
        "eye": lambda like, *, shape, offset, dtype: xp.eye(shape[0], shape[1], k=offset, dtype=dtype),
        "broadcast_in_dim": broadcast_in_dim,
        "reshape": lambda x, *, new_sizes: xp.reshape(x, new_sizes),
        "transpose": lambda x, *, permutation: xp.transpose(x, permutation),
        "squeeze": lambda x, *, dimensions: xp.squeeze(x, dimensions),
        "expand_dims": lambda x, *, dimensions: xp.expand_dims(x, dimensions),
        "slice": slice_,
        "pad": pad,
        "concatenate": lambda *xs, dimension: xp.concatenate(xs, axis=dimension),
        "rev": lambda x, *, dimensions: xp.flip(x, dimensions),
        "gather": lambda x, idx, *, axis: xp.take(x, idx, axis=axis),
        "scatter_add": scatter_add,
        "reduce_sum": lambda x, *, axes: x.sum(axis=axes, dtype=x.dtype),
        "reduce_max": lambda x, *, axes: xp.max(x, axis=axes),
        "reduce_min": lambda x, *, axes: xp.min(x, axis=axes),
        "reduce_prod": lambda x, *, axes: xp.prod(x, axis=axes, dtype=x.dtype),
        "argmax": lambda x, *, axis, index_dtype: xp.argmax(x, axis=axis).astype(index_dtype),
        "argmin": lambda x, *, axis, index_dtype: xp.argmin(x, axis=axis).astype(index_dtype),
        "cumsum": cumsum,
        "dot_general": dot_general,
        "random_normal": normal, "random_uniform": uniform, "random_randint": randint,
        **make_conv_kernels(xp),
    }
