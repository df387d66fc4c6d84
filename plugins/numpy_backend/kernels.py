"""One NumPy kernel per primitive.  Kernels take arrays positionally and the
primitive's parameters by keyword, and return a new array."""
from __future__ import annotations

import numpy as np


def _unary(fn):
    return lambda x: fn(x)


def _dot_general(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    xf = [i for i in range(x.ndim) if i not in lc and i not in lb]
    yf = [i for i in range(y.ndim) if i not in rc and i not in rb]
    if not lb and len(lc) == 1 and x.ndim <= 2 and y.ndim <= 2:
        if lc[0] == x.ndim - 1 and rc[0] == 0:
            return np.dot(x, y)           # plain vector/matrix products: straight to BLAS
        return np.tensordot(x, y, (lc, rc))
    bshape = [x.shape[i] for i in lb]
    xt = x.transpose(list(lb) + xf + list(lc))
    yt = y.transpose(list(rb) + list(rc) + yf)
    nb = int(np.prod(bshape, dtype=np.int64))
    m = int(np.prod([x.shape[i] for i in xf], dtype=np.int64))
    k = int(np.prod([x.shape[i] for i in lc], dtype=np.int64))
    n = int(np.prod([y.shape[i] for i in yf], dtype=np.int64))
    if k == 1:
        # an outer product (per-sample gradients make many): broadcasting beats matmul's k=1 path 3x
        out = xt.reshape(nb, m, 1) * yt.reshape(nb, 1, n)
    else:
        out = np.matmul(xt.reshape(nb, m, k), yt.reshape(nb, k, n))
    return out.reshape(bshape + [x.shape[i] for i in xf] + [y.shape[i] for i in yf])


def _pad(x, *, padding_value, padding_config):
    shape = tuple(lo + hi + n + max(n - 1, 0) * it for (lo, hi, it), n in zip(padding_config, x.shape))
    out = np.full(shape, padding_value, dtype=x.dtype)
    idx = tuple(slice(lo, lo + n + max(n - 1, 0) * it, it + 1) for (lo, hi, it), n in zip(padding_config, x.shape))
    out[idx] = x
    return out


def _scatter_add(x, idx, upd, *, axis):
    out = np.array(x, copy=True)
    k = np.ndim(idx)
    # updates are laid out pre + idx + post; add.at wants idx + pre + post on an axis-first view
    u = np.moveaxis(upd, list(range(axis, axis + k)), list(range(k)))
    np.add.at(np.moveaxis(out, axis, 0), idx, np.moveaxis(u, list(range(k, k + axis)), list(range(k, k + axis))))
    return out


def _slice(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]


def _cumsum(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def _iota(*, dtype, shape, dimension):
    shp = [1] * len(shape)
    shp[dimension] = shape[dimension]
    return np.broadcast_to(np.arange(shape[dimension], dtype=dtype).reshape(shp), shape).copy()


def _integer_pow(x, *, y):
    if y < 0 and x.dtype.kind in "iu":
        raise ValueError("integer_pow: integers to negative integer powers are not allowed")
    return np.power(x, y) if y >= 0 else np.power(x, float(y)).astype(x.dtype)


def _floor_div(x, y):
    return np.floor_divide(x, y)


def make_kernels(backend):
    rng_owner = backend

    def normal(*, shape, dtype):
        return rng_owner.rng.standard_normal(shape, dtype=dtype if dtype in (np.float32, np.float64) else None).astype(dtype, copy=False)

    def uniform(*, shape, dtype):
        return rng_owner.rng.random(shape, dtype=dtype if dtype in (np.float32, np.float64) else None).astype(dtype, copy=False)

    def randint(*, shape, low, high, dtype):
        return rng_owner.rng.integers(low, high, size=shape, dtype=dtype)

    k = {
        "neg": np.negative, "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
        "pow": np.power, "max": np.maximum, "min": np.minimum, "exp": np.exp, "log": np.log,
        "log1p": np.log1p, "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
        "logistic": lambda x: 0.5 * np.tanh(0.5 * x) + 0.5,
        "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "abs": np.abs, "sign": np.sign,
        "floor": np.floor, "ceil": np.ceil, "round": np.round, "asin": np.arcsin, "acos": np.arccos,
        "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "atan2": np.arctan2,
        "floor_div": _floor_div, "rem": np.remainder, "isnan": np.isnan, "stop_gradient": lambda x: x,
        "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
        "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
        "logical_xor": np.logical_xor, "logical_not": np.logical_not, "bitwise_and": np.bitwise_and,
        "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor, "bitwise_not": np.invert,
        "select": np.where,
        "integer_pow": _integer_pow,
        "convert_element_type": lambda x, *, new_dtype: np.asarray(x).astype(new_dtype),
        "full_like": lambda like, *, fill_value, shape, dtype: np.full(shape, fill_value, dtype=dtype),
        "iota": _iota,
        "broadcast_in_dim": lambda x, *, shape, broadcast_dimensions: np.broadcast_to(
            np.reshape(x, [x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1
                           for i in range(len(shape))]), shape),
        "reshape": lambda x, *, new_sizes: np.reshape(x, new_sizes),
        "transpose": lambda x, *, permutation: np.transpose(x, permutation),
        "squeeze": lambda x, *, dimensions: np.squeeze(x, dimensions),
        "expand_dims": lambda x, *, dimensions: np.expand_dims(x, dimensions),
        "slice": _slice,
        "pad": _pad,
        "concatenate": lambda *xs, dimension: np.concatenate(xs, axis=dimension),
        "rev": lambda x, *, dimensions: np.flip(x, dimensions),
        "gather": lambda x, idx, *, axis: np.take(x, idx, axis=axis),
        "scatter_add": _scatter_add,
        # dtype= keeps int32 int32 (NumPy would promote to the platform integer)
        "reduce_sum": lambda x, *, axes: np.sum(x, axis=axes, dtype=x.dtype),
        "reduce_max": lambda x, *, axes: np.max(x, axis=axes),
        "reduce_min": lambda x, *, axes: np.min(x, axis=axes),
        "reduce_prod": lambda x, *, axes: np.prod(x, axis=axes, dtype=x.dtype),
        "argmax": lambda x, *, axis, index_dtype: np.argmax(x, axis=axis).astype(index_dtype),
        "argmin": lambda x, *, axis, index_dtype: np.argmin(x, axis=axis).astype(index_dtype),
        "cumsum": _cumsum,
        "dot_general": _dot_general,
        "random_normal": normal, "random_uniform": uniform, "random_randint": randint,
    }
    return k
