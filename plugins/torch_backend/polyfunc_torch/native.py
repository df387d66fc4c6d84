"""The map from torch functions and Tensor methods to polyfunc callables, so
plain torch code (``torch.sin(x)``, ``F.linear(x, w, b)``, ``t @ x``, ...)
binds polyfunc primitives when it meets a traced value.

``Tracer.__torch_function__`` receives the very object torch passes: a
function of ``torch`` (``torch.sin``), of ``torch.nn.functional``, or a
``torch.Tensor`` method (``torch.Tensor.add`` for ``t + x``, ``Tensor.__rsub__``,
``Tensor.__getitem__``, ...).  Each is mapped to a composition of
``polyfunc.numpy`` functions, with torch's argument conventions (``dim``,
``keepdim``, ``alpha``, torch dtypes) translated.  In-place methods (``add_``,
``__setitem__``, ...) raise a TypeError that names the out-of-place form.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np
import torch

from .dtypes import to_np_dtype

pnp = None   # polyfunc.numpy, bound by register_all
ops = None   # polyfunc.ops

_values_indices = namedtuple("torch_return_types", ["values", "indices"])


# ------------------------------------------------------------------ argument helpers
def _axis(dim):
    if dim is None or isinstance(dim, int):
        return dim
    if isinstance(dim, (list, tuple, torch.Size)):
        return tuple(int(d) for d in dim)
    return int(dim)


def _dim_kw(dim, kw, default=None):
    """torch's ``dim`` (also accepted as NumPy's ``axis``)."""
    if "axis" in kw:
        return kw.pop("axis")
    return default if dim is None else dim


def _dt(dtype):
    return None if dtype is None else to_np_dtype(dtype)


def _shape_args(args):
    """``view(2, 3)``, ``view((2, 3))`` and ``view(torch.Size([2, 3]))`` alike."""
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _shape(x):
    return tuple(pnp.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


def _ndim(x):
    return len(_shape(x))


def _kw_shape(name, args, kwval, kwname):
    """``f(2, 3)``, ``f((2, 3))`` or torch's keyword form ``f(<kwname>=(2, 3))``."""
    if kwval is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument {kwname!r}")
        return _shape_args((kwval,)) if not isinstance(kwval, int) else (int(kwval),)
    return _shape_args(args)


def _safe_sqrt(s):
    """sqrt with derivative 0 (not inf/NaN) at 0, as torch's norms."""
    z = pnp.equal(s, 0)
    return pnp.where(z, pnp.zeros_like(s), pnp.sqrt(pnp.where(z, pnp.ones_like(s), s)))


def _safe_root(s, p):
    z = pnp.equal(s, 0)
    return pnp.where(z, pnp.zeros_like(s), pnp.power(pnp.where(z, pnp.ones_like(s), s), 1.0 / p))


def _norm_dim(d, nd):
    return d + nd if d < 0 else d


def _float_of(x):
    dt = pnp.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
    dt = to_np_dtype(dt)
    return dt if dt.kind == "f" else np.dtype(np.float32)


# ------------------------------------------------------------------ elementwise
def add(input, other, *, alpha=1, out=None):
    _no_out(out, "add")
    return pnp.add(input, other if alpha == 1 else pnp.multiply(other, alpha))


def sub(input, other, *, alpha=1, out=None):
    _no_out(out, "sub")
    return pnp.subtract(input, other if alpha == 1 else pnp.multiply(other, alpha))


def rsub(input, other, *, alpha=1):
    return pnp.subtract(other, input if alpha == 1 else pnp.multiply(input, alpha))


def mul(input, other, *, out=None):
    _no_out(out, "mul")
    return pnp.multiply(input, other)


def div(input, other, *, rounding_mode=None, out=None):
    _no_out(out, "div")
    if rounding_mode is None:
        return pnp.true_divide(input, other)
    if rounding_mode == "floor":
        return pnp.floor_divide(input, other)
    if rounding_mode == "trunc":
        q = pnp.true_divide(input, other)
        r = pnp.trunc(q)
        dt = getattr(input, "dtype", None)
        if dt is not None and to_np_dtype(dt).kind in "iu":
            r = pnp.astype(r, to_np_dtype(dt))
        return r
    raise ValueError(f"torch.div: rounding_mode must be None, 'trunc' or 'floor', not {rounding_mode!r}")


def fmod(input, other):
    # C's fmod: the result has the sign of the dividend
    return pnp.subtract(input, pnp.multiply(pnp.trunc(pnp.true_divide(input, other)), other)) \
        if to_np_dtype(getattr(input, "dtype", np.float64)).kind == "f" else \
        pnp.subtract(input, pnp.multiply(div(input, other, rounding_mode="trunc"), other))


def pow_(input, exponent):
    return pnp.power(input, exponent)


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"torch.{name}(..., out=...) writes in place, which a transform cannot trace; "
                        f"drop out= and use the returned value.")


def relu(input, inplace=False):
    # zeros_like, not a Python 0: the gradient is exactly 0 for x <= 0, as torch's
    return pnp.where(pnp.greater(input, 0), input, pnp.zeros_like(input))


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    # torch's derivative is 0 at the bounds themselves (strict inequalities)
    lo = pnp.full_like(input, min_val)
    hi = pnp.full_like(input, max_val)
    return pnp.where(pnp.less_equal(input, min_val), lo, pnp.where(pnp.greater_equal(input, max_val), hi, input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return pnp.where(pnp.greater(input, 0), input, pnp.multiply(input, negative_slope))


def _nonpos(input):
    """``input`` where it is <= 0, else 0: a safe input for the negative branch, with derivative 1 at 0."""
    pos = pnp.greater(input, 0)
    return pos, pnp.where(pos, pnp.zeros_like(input), input)


def elu(input, alpha=1.0, inplace=False):
    pos, neg = _nonpos(input)
    return pnp.where(pos, input, pnp.multiply(pnp.expm1(neg), alpha))


def selu(input, inplace=False):
    a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return pnp.multiply(elu(input, a), s)


def celu(input, alpha=1.0, inplace=False):
    pos, neg = _nonpos(input)
    return pnp.where(pos, input, pnp.multiply(pnp.expm1(pnp.true_divide(neg, alpha)), alpha))


def sigmoid(input, *, out=None):
    _no_out(out, "sigmoid")
    return ops.logistic(pnp.asarray(input) if isinstance(input, (int, float)) else input)


def logsigmoid(input):
    return pnp.negative(softplus(pnp.negative(input)))


def silu(input, inplace=False):
    return pnp.multiply(input, sigmoid(input))


def softplus(input, beta=1.0, threshold=20.0):
    bx = input if beta == 1 else pnp.multiply(input, beta)
    soft = pnp.logaddexp(bx, 0.0)
    if beta != 1:
        soft = pnp.true_divide(soft, beta)
    return pnp.where(pnp.greater(bx, threshold), input, soft)


def mish(input, inplace=False):
    return pnp.multiply(input, pnp.tanh(softplus(input)))


def erf(input, *, out=None):
    _no_out(out, "erf")
    x = pnp.asarray(input) if isinstance(input, (int, float)) else input
    dt = _float_of(x)
    return ops.erf(x if to_np_dtype(x.dtype) == dt else pnp.astype(x, dt))   # ints: torch's float32


def erfc(input, *, out=None):
    _no_out(out, "erfc")
    x = pnp.asarray(input) if isinstance(input, (int, float)) else input
    dt = _float_of(x)
    return ops.erfc(x if to_np_dtype(x.dtype) == dt else pnp.astype(x, dt))


def gelu(input, approximate="none"):
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        inner = pnp.multiply(pnp.add(input, pnp.multiply(pnp.power(input, 3), 0.044715)), c)
        return pnp.multiply(pnp.multiply(input, 0.5), pnp.add(pnp.tanh(inner), 1.0))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    # the exact form: x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))
    return pnp.multiply(pnp.multiply(input, 0.5), pnp.add(erf(pnp.multiply(input, 1 / math.sqrt(2.0))), 1.0))


def tanhshrink(input):
    return pnp.subtract(input, pnp.tanh(input))


def softsign(input):
    return pnp.true_divide(input, pnp.add(pnp.abs(input), 1))


def square(input):
    return pnp.multiply(input, input)


def rsqrt(input):
    return pnp.true_divide(1, pnp.sqrt(input))


def frac(input):
    return pnp.subtract(input, pnp.trunc(input))


def lerp(input, end, weight):
    return pnp.add(input, pnp.multiply(weight, pnp.subtract(end, input)))


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("torch.clamp: at least one of min and max must be given")
    # torch passes the gradient where min <= x <= max (the bounds included); min > max gives max
    out = input
    if min is not None:
        out = pnp.where(pnp.less(out, min), _bound_like(min, out), out)
    if max is not None:
        out = pnp.where(pnp.greater(out, max), _bound_like(max, out), out)
    return out


def _bound_like(b, x):
    return pnp.full_like(x, b) if isinstance(b, (int, float)) else b


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def round_(input, *, decimals=0):
    return pnp.round(input, decimals)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    prod = pnp.matmul(mat1, mat2)
    if alpha != 1:
        prod = pnp.multiply(prod, alpha)
    if beta == 0:
        return prod
    return pnp.add(input if beta == 1 else pnp.multiply(input, beta), prod)


def xlogy(input, other):
    safe = pnp.where(pnp.equal(input, 0), 1, other)
    out = pnp.multiply(input, pnp.log(safe))
    return pnp.where(pnp.equal(input, 0), pnp.zeros_like(out), out)


# ------------------------------------------------------------------ reductions
def _reduce(pnp_name):
    def f(input, dim=None, keepdim=False, *, dtype=None, **kw):
        dim = _dim_kw(dim, kw)
        keepdim = kw.pop("keepdims", keepdim)
        _no_out(kw.pop("out", None), pnp_name)
        if dim == () or dim == []:
            dim = None
        return getattr(pnp, pnp_name)(input, axis=_axis(dim), keepdims=keepdim, dtype=_dt(dtype))
    f.__name__ = pnp_name
    return f


t_sum = _reduce("sum")
t_mean = _reduce("mean")


def t_prod(input, dim=None, keepdim=False, *, dtype=None):
    return pnp.prod(input, axis=_axis(dim), keepdims=keepdim, dtype=_dt(dtype))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_like(pnp_name):
    def f(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
        if isinstance(dim, bool):          # torch.var(x, False): the old (input, unbiased) overload
            dim, unbiased = None, dim
        dim = _dim_kw(dim, kw)
        keepdim = kw.pop("keepdims", keepdim)
        v = pnp.var(input, axis=_axis(dim), ddof=_correction(unbiased, correction), keepdims=keepdim)
        # std: torch's derivative is 0 where the std is 0 (a constant slice), not NaN
        return v if pnp_name == "var" else _safe_sqrt(v)
    return f


t_var = _var_like("var")
t_std = _var_like("std")


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (t_var(input, dim, unbiased, keepdim, correction=correction),
            t_mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (t_std(input, dim, unbiased, keepdim, correction=correction),
            t_mean(input, dim, keepdim))


def amax(input, dim=(), keepdim=False):
    return pnp.max(input, axis=None if dim in ((), []) else _axis(dim), keepdims=keepdim)


def amin(input, dim=(), keepdim=False):
    return pnp.min(input, axis=None if dim in ((), []) else _axis(dim), keepdims=keepdim)


def _extremum(name, pair, arg):
    def f(input, dim=None, keepdim=False, **kw):
        dim = _dim_kw(dim, kw)
        if dim is None:
            return getattr(pnp, name)(input)
        if not isinstance(dim, int):          # torch.max(x, other): elementwise
            return getattr(pnp, pair)(input, dim)
        # the values are read at the returned indices, so ties send the gradient where torch does
        idx = getattr(pnp, arg)(input, axis=dim, keepdims=True)
        vals = pnp.take_along_axis(input, idx, axis=dim)
        if not keepdim:
            vals, idx = pnp.squeeze(vals, axis=dim), pnp.squeeze(idx, axis=dim)
        return _values_indices(vals, idx)
    f.__name__ = name
    return f


def _sort_idx(input, dim, descending):
    """(x, the permutation sorting it along dim, the axis); a 0-d tensor sorts as itself, index 0."""
    x = pnp.asarray(input) if isinstance(input, (int, float)) else input
    if _ndim(x) == 0:
        if dim not in (0, -1):
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        return x, pnp.full_like(x, 0, dtype=np.int64), None
    d = _norm_dim(dim, _ndim(x))
    return x, ops.argsort(x, d, descending), d


def argsort(input, dim=-1, descending=False, stable=False):
    return _sort_idx(input, dim, descending)[1]


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    _no_out(out, "sort")
    x, idx, d = _sort_idx(input, dim, descending)
    if d is None:
        return _values_indices(x, idx)
    # values read at the returned indices: each gradient flows to the element that landed there
    return _values_indices(pnp.take_along_axis(x, idx, axis=d), idx)


def msort(input):
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    _no_out(out, "topk")
    x, idx, d = _sort_idx(input, dim, largest)
    n = x.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size {n}")
    if d is None:
        if k == 0:
            raise NotImplementedError("topk with k=0 on a 0-d tensor is not supported inside polyfunc transforms")
        return _values_indices(x, idx)
    if k != n:
        idx = idx[(slice(None),) * d + (slice(0, k),)]
    return _values_indices(pnp.take_along_axis(x, idx, axis=d), idx)


t_max = _extremum("max", "maximum", "argmax")
t_min = _extremum("min", "minimum", "argmin")


def argmax(input, dim=None, keepdim=False):
    if dim is None:
        out = pnp.argmax(pnp.reshape(input, (-1,)), axis=0)
        return pnp.reshape(out, (1,) * _ndim(input)) if keepdim else out
    return pnp.argmax(input, axis=dim, keepdims=keepdim)


def argmin(input, dim=None, keepdim=False):
    if dim is None:
        out = pnp.argmin(pnp.reshape(input, (-1,)), axis=0)
        return pnp.reshape(out, (1,) * _ndim(input)) if keepdim else out
    return pnp.argmin(input, axis=dim, keepdims=keepdim)


def cumsum(input, dim, *, dtype=None):
    if _ndim(input) == 0:
        return _scan_0d(input, dim, dtype)
    return pnp.cumsum(input, axis=dim, dtype=_dt(dtype))


def _scan_0d(input, dim, dtype):
    """torch scans a 0-d tensor along dim 0 or -1 as itself (cast to dtype)."""
    if dim not in (0, -1):
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    return input if dtype is None else pnp.astype(input, _dt(dtype))


def cumprod(input, dim, *, dtype=None):
    if _ndim(input) == 0:
        return _scan_0d(input, dim, dtype)
    return pnp.cumprod(input, axis=dim, dtype=_dt(dtype))


def logsumexp(input, dim=None, keepdim=False):
    axis = _axis(dim) if dim not in ((), [], None) else None
    m = ops.stop_gradient(pnp.max(input, axis=axis, keepdims=True))
    m = pnp.where(pnp.isfinite(m), m, 0)
    s = pnp.log(pnp.sum(pnp.exp(pnp.subtract(input, m)), axis=axis, keepdims=True))
    out = pnp.add(s, m)
    return out if keepdim else pnp.squeeze(out, axis=axis) if axis is not None else pnp.reshape(out, ())


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("softmax: pass dim= explicitly inside polyfunc transforms")
    if dtype is not None:
        input = pnp.astype(input, _dt(dtype))
    m = ops.stop_gradient(pnp.max(input, axis=dim, keepdims=True))
    e = pnp.exp(pnp.subtract(input, m))
    return pnp.true_divide(e, pnp.sum(e, axis=dim, keepdims=True))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("log_softmax: pass dim= explicitly inside polyfunc transforms")
    if dtype is not None:
        input = pnp.astype(input, _dt(dtype))
    return pnp.subtract(input, logsumexp(input, dim, keepdim=True))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    _no_out(out, "norm")
    if dtype is not None:
        input = pnp.astype(input, _dt(dtype))
    if isinstance(dim, (list, tuple, torch.Size)) and len(dim) == 1:
        dim = int(dim[0])
    if p in ("fro", 2, 2.0) and (dim is None or isinstance(dim, int) or len(dim) <= 2):
        return _safe_sqrt(pnp.sum(pnp.multiply(input, input), axis=_axis(dim),
                                  keepdims=keepdim if dim is not None else False))
    if (dim is None or isinstance(dim, int)) and isinstance(p, (int, float)):
        return vector_norm(input, p, dim, keepdim)
    ord_ = p
    return pnp.linalg.norm(input, ord=ord_ if ord_ is not None else ("fro" if len(dim) == 2 else None),
                           axis=_axis(dim), keepdims=keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    axis = _axis(dim)
    if dtype is not None:
        x = pnp.astype(x, _dt(dtype))
    if ord == 2:
        return _safe_sqrt(pnp.sum(pnp.multiply(x, x), axis=axis, keepdims=keepdim))
    if ord == 1:
        return pnp.sum(pnp.abs(x), axis=axis, keepdims=keepdim)
    if ord == math.inf:
        return pnp.max(pnp.abs(x), axis=axis, keepdims=keepdim)
    if ord == -math.inf:
        return pnp.min(pnp.abs(x), axis=axis, keepdims=keepdim)
    return _safe_root(pnp.sum(pnp.power(pnp.abs(x), ord), axis=axis, keepdims=keepdim), ord)


def t_all(input, dim=None, keepdim=False):
    return pnp.all(input, axis=_axis(dim), keepdims=keepdim)


def t_any(input, dim=None, keepdim=False):
    return pnp.any(input, axis=_axis(dim), keepdims=keepdim)


# ------------------------------------------------------------------ linear algebra
def matmul(input, other, *, out=None):
    _no_out(out, "matmul")
    return pnp.matmul(input, other)


def dot(input, other, *, out=None):
    if _ndim(input) != 1 or _ndim(other) != 1:
        raise RuntimeError(f"torch.dot: 1D tensors expected, but got {_ndim(input)}D and {_ndim(other)}D tensors")
    return pnp.matmul(input, other)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return pnp.einsum(equation, *operands)


def tensordot(a, b, dims=2, out=None):
    return pnp.tensordot(a, b, axes=dims if isinstance(dims, int) else tuple(tuple(d) for d in dims))


def linear(input, weight, bias=None):
    out = pnp.matmul(input, pnp.swapaxes(weight, -1, -2) if _ndim(weight) == 2 else weight)
    return out if bias is None else pnp.add(out, bias)


# ------------------------------------------------------------------ shapes
def reshape(input, *args, shape=None):
    return pnp.reshape(input, _kw_shape("reshape", args, shape, "shape"))


def view(input, *args, size=None, dtype=None):
    if dtype is not None or len(args) == 1 and isinstance(args[0], torch.dtype):
        raise NotImplementedError("x.view(dtype) (reinterpreting the bits) is not supported inside polyfunc "
                                  "transforms; use x.to(dtype)")
    return pnp.reshape(input, _kw_shape("view", args, size, "size"))


def flatten(input, start_dim=0, end_dim=-1):
    s = _shape(input)
    if not s:
        return pnp.reshape(input, (1,))
    a, b = _norm_dim(start_dim, len(s)), _norm_dim(end_dim, len(s))
    return pnp.reshape(input, s[:a] + (math.prod(s[a:b + 1]),) + s[b + 1:])


def unflatten(input, dim, sizes):
    s = _shape(input)
    d = _norm_dim(dim, len(s))
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(k for k in sizes if k != -1)
        sizes = tuple(s[d] // known if k == -1 else k for k in sizes)
    return pnp.reshape(input, s[:d] + sizes + s[d + 1:])


def squeeze(input, dim=None):
    s = _shape(input)
    if dim is None:
        dims = tuple(i for i, n in enumerate(s) if n == 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        # torch leaves a dimension whose size is not 1 alone
        dims = tuple(_norm_dim(d, len(s)) for d in dims if s[d] == 1) if s else ()
    return pnp.squeeze(input, axis=dims) if dims else input


def unsqueeze(input, dim):
    return pnp.expand_dims(input, _norm_dim(dim, _ndim(input) + 1))


def transpose(input, dim0, dim1):
    return pnp.swapaxes(input, dim0, dim1)


def permute(input, *args, dims=None):
    return pnp.transpose(input, _kw_shape("permute", args, dims, "dims"))


def t(input):
    return input if _ndim(input) < 2 else pnp.swapaxes(input, 0, 1)


def movedim(input, source, destination):
    return pnp.moveaxis(input, source, destination)


def stack(tensors, dim=0, *, out=None):
    _no_out(out, "stack")
    return pnp.stack(list(tensors), axis=dim)


def cat(tensors, dim=0, *, out=None, **kw):
    _no_out(out, "cat")
    dim = _dim_kw(dim, kw, 0)
    return pnp.concatenate(list(tensors), axis=dim)


def hstack(tensors):
    return pnp.hstack(list(tensors))


def vstack(tensors):
    return pnp.vstack(list(tensors))


def where(condition, input=None, other=None):
    if input is None and other is None:
        raise NotImplementedError("torch.where(condition) (nonzero) has a data-dependent shape and cannot be "
                                  "traced; use the three-argument form torch.where(cond, x, y).")
    return pnp.where(condition, input, other)


def flip(input, *args, dims=None):
    return pnp.flip(input, axis=_kw_shape("flip", args, dims, "dims"))


def roll(input, shifts, dims=None):
    if dims is None:
        return pnp.roll(input, shifts)
    return pnp.roll(input, shifts if isinstance(shifts, int) else tuple(shifts),
                    axis=dims if isinstance(dims, int) else tuple(dims))


def broadcast_to(input, size):
    return pnp.broadcast_to(input, tuple(size))


def expand(input, *args, size=None, implicit=False):
    sizes = _kw_shape("expand", args, size, "size")
    s = _shape(input)
    lead = len(sizes) - len(s)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(s)})")
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
    full = tuple(s[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return pnp.broadcast_to(input, full)


def expand_as(input, other):
    return pnp.broadcast_to(input, _shape(other))


def view_as(input, other):
    return pnp.reshape(input, _shape(other))


def tensor_repeat(input, *args, repeats=None):
    sizes = _kw_shape("repeat", args, repeats, "repeats")
    s = _shape(input)
    x = pnp.reshape(input, (1,) * (len(sizes) - len(s)) + s) if len(sizes) > len(s) else input
    return pnp.tile(x, sizes)


def tile(input, dims):
    return pnp.tile(input, tuple(dims))


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    if dim is None:
        return pnp.repeat(pnp.reshape(input, (-1,)), repeats, axis=0)
    return pnp.repeat(input, repeats, axis=dim)


def index_select(input, dim, index):
    return pnp.take(input, index, axis=dim)


def gather(input, dim, index, *, sparse_grad=False):
    return pnp.take_along_axis(input, index, axis=dim)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return pnp.take_along_axis(pnp.reshape(input, (-1,)), pnp.reshape(indices, (-1,)), axis=0)
    return pnp.take_along_axis(input, indices, axis=dim)


def narrow(input, dim, start, length):
    d = _norm_dim(dim, _ndim(input))
    idx = (builtins.slice(None),) * d + (builtins.slice(start, start + length),)
    return input[idx]


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    if split_size is not None:            # Tensor.split's name for it
        if split_size_or_sections is not None:
            raise TypeError("split() got multiple values for argument 'split_size'")
        split_size_or_sections = split_size
    if split_size_or_sections is None:
        raise TypeError("split() missing required argument 'split_size_or_sections'")
    n = _shape(tensor)[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        bounds = list(range(0, n, step)) + [n]
    else:
        bounds = [0]
        for k in split_size_or_sections:
            bounds.append(bounds[-1] + int(k))
        if bounds[-1] != n:
            raise RuntimeError(f"split: sizes {list(split_size_or_sections)} do not sum to {n}")
    d = _norm_dim(dim, _ndim(tensor))
    return tuple(tensor[(builtins.slice(None),) * d + (builtins.slice(a, b),)] for a, b in zip(bounds, bounds[1:]))


def chunk(input, chunks, dim=0):
    n = _shape(input)[dim]
    return split(input, -(-n // chunks), dim)


def unbind(input, dim=0):
    d = _norm_dim(dim, _ndim(input))
    return tuple(input[(builtins.slice(None),) * d + (i,)] for i in range(_shape(input)[d]))


def diagonal(input, offset=0, dim1=0, dim2=1):
    return pnp.diagonal(input, offset, dim1, dim2)


def diag(input, diagonal=0):
    return pnp.diag(input, diagonal)


def triu(input, diagonal=0):
    return pnp.triu(input, diagonal)


def tril(input, diagonal=0):
    return pnp.tril(input, diagonal)


def outer(input, vec2):
    return pnp.outer(input, vec2)


def _like(fill):
    def f(input, *, dtype=None, **_):
        return pnp.full_like(input, fill, dtype=_dt(dtype))
    return f


def full_like(input, fill_value, *, dtype=None, **_):
    return pnp.full_like(input, fill_value, dtype=_dt(dtype))


# ------------------------------------------------------------------ Tensor methods
def size(input, dim=None):
    s = _shape(input)
    if dim is None:
        return torch.Size(s)
    return s[dim]


def dim(input):
    return _ndim(input)


def numel(input):
    return math.prod(_shape(input))


def _astype(np_dtype):
    return lambda input, memory_format=None: pnp.astype(input, np_dtype)


def _same_device(input, device, what):
    """A traced tensor stays on its device: moving it is refused, naming both devices."""
    want, have = torch.device(device), _device_of(input)
    if want.type != have.type or (want.index is not None and have.index is not None and want.index != have.index):
        raise NotImplementedError(
            f"{what}: moving a traced tensor from {have} to {want} is not supported inside polyfunc transforms; "
            f"move the inputs (and the model) before calling the transformed function.")


def to(input, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other)``: the dtype part; the device must be the
    tensor's own."""
    dtype = kwargs.get("dtype")
    if kwargs.get("device") is not None:
        _same_device(input, kwargs["device"], "x.to(device=...)")
    for a in args:
        if isinstance(a, torch.dtype):
            dtype = a
        elif isinstance(a, (str, torch.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            _same_device(input, f"cuda:{a}" if isinstance(a, int) else a, "x.to(device)")
        elif isinstance(a, torch.Tensor) or hasattr(a, "dtype"):
            _same_device(input, _device_of(a), "x.to(other)")
            dtype = a.dtype
    return input if dtype is None else pnp.astype(input, to_np_dtype(dtype))


def to_cpu(input, *args, **kwargs):
    _same_device(input, "cpu", "x.cpu()")
    return input


def to_cuda(input, device=None, *args, **kwargs):
    _same_device(input, "cuda" if device is None else (device if not isinstance(device, int) else f"cuda:{device}"),
                 "x.cuda()")
    return input


def type_as(input, other):
    return pnp.astype(input, to_np_dtype(other.dtype))


def tensor_type(input, dtype=None, non_blocking=False, **kw):
    if dtype is None:
        raise TypeError("x.type() (the type name) is not available on a traced tensor; use x.dtype")
    if isinstance(dtype, str):
        names = {"torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64, "torch.LongTensor": np.int64,
                 "torch.IntTensor": np.int32, "torch.BoolTensor": np.bool_, "torch.HalfTensor": np.float16}
        if dtype not in names:
            raise TypeError(f"x.type({dtype!r}) is not supported inside polyfunc transforms; use x.to(dtype)")
        return pnp.astype(input, names[dtype])
    return pnp.astype(input, to_np_dtype(dtype))


def identity(input, *args, **kwargs):
    return input


def detach(input):
    return ops.stop_gradient(input)


def getitem(input, idx):
    return pnp._getitem(input, idx)


def _swap(fn):
    return lambda self, other: fn(other, self)


# ------------------------------------------------------------------ torch's type promotion
# polyfunc.numpy promotes like NumPy (the same on every backend); torch code promotes like
# torch: float32 * int64 tensor stays float32, a 0-d tensor does not raise the dtype of an
# n-d one, int / int gives the default float.  Torch's own functions and operators on a
# traced value therefore cast their operands to torch's result dtype before the pnp call.
_SCALARS = (bool, int, float)
_proxies: dict = {}
_result_types: dict = {}


def _key(v):
    if v.__class__ in _SCALARS:
        return v.__class__
    from polyfunc.trace import get_aval
    a = get_aval(v)
    return (a.dtype, bool(a.shape))


def _proxy(key):
    p = _proxies.get(key)
    if p is None:
        from .dtypes import to_torch_dtype
        dt, nd = key
        p = _proxies[key] = torch.empty((1,) if nd else (), dtype=to_torch_dtype(dt))
    return p


def _torch_result(ka, kb, true_div=False):
    k = (ka, kb, true_div)
    rt = _result_types.get(k)
    if rt is None:
        pa = {bool: True, int: 1, float: 1.0}[ka] if ka in _SCALARS else _proxy(ka)
        pb = {bool: True, int: 1, float: 1.0}[kb] if kb in _SCALARS else _proxy(kb)
        t = torch.result_type(pa, pb)
        if true_div and not t.is_floating_point:
            t = torch.get_default_dtype()       # int / int is a float in torch
        rt = _result_types[k] = to_np_dtype(t)
    return rt


def _cast(v, dt):
    if v.__class__ in _SCALARS:
        return v
    from polyfunc.trace import get_aval
    return v if get_aval(v).dtype == dt else pnp.astype(v, dt)


def _torch_promoted(fn, true_div=False):
    """``fn(a, b, ...)`` with a and b cast to the dtype torch would compute in."""
    def w(a, b, *rest, **kwargs):
        ka, kb = _key(a), _key(b)
        if ka in _SCALARS and kb in _SCALARS:
            return fn(a, b, *rest, **kwargs)
        dt = _torch_result(ka, kb, true_div)
        return fn(_cast(a, dt), _cast(b, dt), *rest, **kwargs)
    w.__name__ = getattr(fn, "__name__", "op")
    return w


def _torch_where(condition, input=None, other=None):
    if input is None or other is None:
        return where(condition, input, other)
    dt = _torch_result(_key(input), _key(other))
    return where(condition, _cast(input, dt), _cast(other, dt))


# ------------------------------------------------------------------ torch.nn.functional
def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0:
        return input
    if p == 1:
        return pnp.zeros_like(input)
    import polyfunc as pf
    from polyfunc.backends import backend_of
    keep = pnp.greater_equal(pf.random.uniform(_shape(input), dtype=_float_of(input),
                                               backend=backend_of(input)), p)
    scaled = pnp.true_divide(input, 1.0 - p)
    return pnp.where(keep, scaled, pnp.zeros_like(scaled))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    axes = tuple(range(-k, 0))
    mean = pnp.mean(input, axis=axes, keepdims=True)
    xc = pnp.subtract(input, mean)
    var = pnp.mean(pnp.multiply(xc, xc), axis=axes, keepdims=True)
    out = pnp.multiply(xc, pnp.true_divide(1, pnp.sqrt(pnp.add(var, eps))))
    if weight is not None:
        out = pnp.multiply(out, weight)
    if bias is not None:
        out = pnp.add(out, bias)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    nd = _ndim(input)
    shape = (1, -1) + (1,) * (nd - 2)
    if training:
        if running_mean is not None or running_var is not None:
            raise TypeError(
                "batch_norm in training mode updates its running statistics in place, which a traced "
                "function cannot do; build the module with track_running_stats=False, or call "
                "model.eval() to use the running statistics.")
        axes = (0,) + tuple(range(2, nd))
        mean = pnp.mean(input, axis=axes, keepdims=True)
        xc = pnp.subtract(input, mean)
        var = pnp.mean(pnp.multiply(xc, xc), axis=axes, keepdims=True)
    else:
        if running_mean is None or running_var is None:
            raise TypeError("batch_norm in eval mode needs running_mean and running_var")
        xc = pnp.subtract(input, pnp.reshape(running_mean, shape))
        var = pnp.reshape(running_var, shape)
    out = pnp.multiply(xc, pnp.true_divide(1, pnp.sqrt(pnp.add(var, eps))))
    if weight is not None:
        out = pnp.multiply(out, pnp.reshape(weight, shape))
    if bias is not None:
        out = pnp.add(out, pnp.reshape(bias, shape))
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    s = _shape(input)
    n, c = s[0], s[1]
    x = pnp.reshape(input, (n, num_groups, -1))
    mean = pnp.mean(x, axis=2, keepdims=True)
    xc = pnp.subtract(x, mean)
    var = pnp.mean(pnp.multiply(xc, xc), axis=2, keepdims=True)
    out = pnp.reshape(pnp.multiply(xc, pnp.true_divide(1, pnp.sqrt(pnp.add(var, eps)))), s)
    shape = (1, c) + (1,) * (len(s) - 2)
    if weight is not None:
        out = pnp.multiply(out, pnp.reshape(weight, shape))
    if bias is not None:
        out = pnp.add(out, pnp.reshape(bias, shape))
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if not use_input_stats:        # eval mode of a module that tracks running statistics
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if running_mean is not None or running_var is not None:
        raise TypeError("instance_norm with track_running_stats=True updates its running statistics in place "
                        "in training mode, which a traced function cannot do; build the module with "
                        "track_running_stats=False (the default), or call model.eval().")
    # per sample and channel over the spatial dims: group norm with one channel per group
    return group_norm(input, _shape(input)[1], weight, bias, eps)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) renormalises the weight in place; not traceable")
    import polyfunc as pf
    rows = pnp.take(weight, input, axis=0)
    if scale_grad_by_freq:
        # torch divides each row's gradient by how often its index occurs in input; the value is unchanged
        flat = pnp.reshape(input, (-1,))
        count = pnp.sum(pnp.equal(pnp.expand_dims(input, -1), flat), axis=-1, keepdims=True)
        sg = pf.stop_gradient(rows)
        rows = pnp.add(sg, pnp.true_divide(pnp.subtract(rows, sg), pnp.astype(count, _float_of(rows))))
    if padding_idx is not None:
        n = _shape(weight)[0]
        pi = padding_idx + n if padding_idx < 0 else padding_idx
        if not 0 <= pi < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        # the padding row gets no gradient (torch's rule), its value is read as usual
        rows = pnp.where(pnp.expand_dims(pnp.equal(input, pi), -1), pf.stop_gradient(rows), rows)
    return rows


def one_hot(tensor, num_classes=-1):
    if num_classes < 0:
        raise TypeError("one_hot: num_classes must be given inside polyfunc transforms (the maximum of a "
                        "traced tensor is not known while tracing)")
    classes = pnp.arange(num_classes, dtype=np.int64, like=tensor) if _supports_like() else \
        pnp.arange(num_classes, dtype=np.int64)
    return pnp.astype(pnp.equal(pnp.expand_dims(tensor, -1), classes), np.int64)


def _supports_like():
    import inspect
    try:
        return "like" in inspect.signature(pnp.arange).parameters
    except (TypeError, ValueError):
        return False


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    n = vector_norm(input, p, dim, keepdim=True)
    return pnp.true_divide(input, pnp.maximum(n, eps))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    # torch: each side divided by its norm clamped at eps, then the dot product
    n1 = pnp.maximum(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = pnp.maximum(vector_norm(x2, 2, dim, keepdim=True), eps)
    return pnp.sum(pnp.multiply(pnp.true_divide(x1, n1), pnp.true_divide(x2, n2)), axis=dim)


def _reduction(loss, reduction, weight_sum=None):
    if reduction == "mean":
        return pnp.mean(loss) if weight_sum is None else pnp.true_divide(pnp.sum(loss), weight_sum)
    if reduction == "sum":
        return pnp.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction!r} is not a valid reduction (use 'mean', 'sum' or 'none')")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    d = pnp.subtract(input, target)
    return _reduction(pnp.multiply(d, d), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _reduction(pnp.abs(pnp.subtract(input, target)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    d = pnp.abs(pnp.subtract(input, target))
    if beta == 0:
        return _reduction(d, reduction)
    loss = pnp.where(pnp.less(d, beta), pnp.true_divide(pnp.multiply(pnp.multiply(d, d), 0.5), beta),
                     pnp.subtract(d, 0.5 * beta))
    return _reduction(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    d = pnp.abs(pnp.subtract(input, target))
    loss = pnp.where(pnp.less(d, delta), pnp.multiply(pnp.multiply(d, d), 0.5),
                     pnp.multiply(pnp.subtract(d, 0.5 * delta), delta))
    return _reduction(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    loss = _bce(input, target)
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return _reduction(loss, reduction)


def _bce_value(x, t):
    # torch clamps the logs at -100; the double where keeps log's derivative at 0 out of the gradient
    q = pnp.subtract(1, x)
    xp, qp = pnp.greater(x, 0), pnp.greater(q, 0)
    lp = pnp.maximum(pnp.where(xp, pnp.log(pnp.where(xp, x, pnp.ones_like(x))), pnp.full_like(x, -100.0)), -100.0)
    lq = pnp.maximum(pnp.where(qp, pnp.log(pnp.where(qp, q, pnp.ones_like(q))), pnp.full_like(q, -100.0)), -100.0)
    return pnp.negative(pnp.add(pnp.multiply(t, lp), pnp.multiply(pnp.subtract(1, t), lq))), lp, lq


_BCE_EPS = float(np.float32(1e-12))   # torch's EPSILON, a float constant


def _bce(x, t):
    """Elementwise binary cross-entropy with torch's derivatives: d/dx = (x - t) / max(x (1 - x), 1e-12),
    d/dt = log(1 - x) - log(x) (each log clamped at -100, where torch leaves them unclamped: a
    concrete target's zero tangent must not meet an infinity)."""
    import polyfunc as pf

    @pf.custom_jvp
    def f(x, t):
        return _bce_value(x, t)[0]

    @f.defjvp
    def f_jvp(primals, tangents):
        x, t = primals
        dx, dt = tangents
        out, lp, lq = _bce_value(x, t)
        gx = pnp.true_divide(pnp.subtract(x, t), pnp.maximum(pnp.multiply(x, pnp.subtract(1, x)), _BCE_EPS))
        gt = pnp.subtract(lq, lp)
        return out, pnp.add(pnp.multiply(gx, dx), pnp.multiply(gt, dt))

    x, t = pnp.broadcast_arrays(x, t) if hasattr(pnp, "broadcast_arrays") else (x, t)
    return f(x, pnp.astype(t, to_np_dtype(x.dtype)) if hasattr(x, "dtype") else t)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    log_sig = logsigmoid(input)
    log_one_minus = logsigmoid(pnp.negative(input))
    pos = pnp.multiply(target, log_sig)
    if pos_weight is not None:
        pos = pnp.multiply(pos, pos_weight)
    loss = pnp.negative(pnp.add(pos, pnp.multiply(pnp.subtract(1, target), log_one_minus)))
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return _reduction(loss, reduction)


def _is_int(x):
    dt = getattr(x, "dtype", None)
    return dt is not None and to_np_dtype(dt).kind in "iu"


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    # input (N, C, d..) or (C,), target (N, d..) or ()
    cdim = 0 if _ndim(input) == 1 else 1
    valid = pnp.not_equal(target, ignore_index)
    safe_t = pnp.where(valid, target, 0)
    picked = pnp.squeeze(pnp.take_along_axis(input, pnp.expand_dims(safe_t, cdim), axis=cdim), axis=cdim)
    w = pnp.astype(valid, _float_of(input))
    if weight is not None:
        w = pnp.multiply(w, pnp.take(weight, safe_t, axis=0))
    loss = pnp.negative(pnp.multiply(picked, w))
    if reduction == "mean":
        return pnp.true_divide(pnp.sum(loss), pnp.sum(w))
    return _reduction(loss, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    cdim = 0 if _ndim(input) == 1 else 1
    logp = log_softmax(input, cdim)
    if _is_int(target):
        nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
        if label_smoothing == 0.0:
            return nll
        c = _shape(input)[cdim]
        valid = pnp.astype(pnp.not_equal(target, ignore_index), _float_of(input))
        lw = logp if weight is None else pnp.multiply(
            logp, pnp.reshape(weight, (-1,) + (1,) * (_ndim(input) - cdim - 1)))
        smooth = pnp.multiply(pnp.negative(pnp.sum(lw, axis=cdim)), valid)
        if reduction == "mean":
            if weight is None:
                smooth = pnp.true_divide(pnp.sum(smooth), pnp.sum(valid))
            else:
                safe_t = pnp.where(pnp.not_equal(target, ignore_index), target, 0)
                wsum = pnp.sum(pnp.multiply(pnp.take(weight, safe_t, axis=0), valid))
                smooth = pnp.true_divide(pnp.sum(smooth), wsum)
        else:
            smooth = _reduction(smooth, reduction)
        return pnp.add(pnp.multiply(nll, 1.0 - label_smoothing), pnp.multiply(smooth, label_smoothing / c))
    # class probabilities as targets
    c = _shape(input)[cdim]
    if label_smoothing:
        target = pnp.add(pnp.multiply(target, 1.0 - label_smoothing), label_smoothing / c)
    prod = pnp.multiply(logp, target)
    if weight is not None:
        prod = pnp.multiply(prod, pnp.reshape(weight, (-1,) + (1,) * (_ndim(input) - cdim - 1)))
    loss = pnp.negative(pnp.sum(prod, axis=cdim))
    if reduction == "mean":
        n = _shape(input)[0] if _ndim(input) > 1 else 1
        return pnp.true_divide(pnp.sum(loss), n * math.prod(_shape(input)[2:]) if _ndim(input) > 2 else n)
    return _reduction(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if log_target:
        loss = pnp.multiply(pnp.exp(target), pnp.subtract(target, input))
    else:
        loss = pnp.subtract(xlogy(target, target), pnp.multiply(target, input))
    if reduction == "batchmean":
        return pnp.true_divide(pnp.sum(loss), _shape(input)[0])
    return _reduction(loss, reduction)


_TORCH_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def f_pad(input, pad, mode="constant", value=None):
    if mode not in _TORCH_PAD_MODES:
        raise NotImplementedError(f"torch.nn.functional.pad(mode={mode!r}) is not supported inside polyfunc "
                                  f"transforms; use one of {tuple(_TORCH_PAD_MODES)}")
    pad = list(pad)
    nd = _ndim(input)
    if len(pad) % 2 or len(pad) // 2 > nd:
        raise RuntimeError(f"pad: the padding {tuple(pad)} must have an even length of at most {2 * nd} "
                           f"(two entries per padded dimension of a {nd}-D input)")
    shape = _shape(input)
    width = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0 or hi < 0:
            raise NotImplementedError("torch.nn.functional.pad with negative padding (cropping) is not supported "
                                      "inside polyfunc transforms; slice instead")
        n = shape[nd - 1 - i]
        if (mode == "reflect" and max(lo, hi) >= n) or (mode == "circular" and max(lo, hi) > n):
            raise RuntimeError(f"pad: {mode} padding of ({lo}, {hi}) is too large for a dimension of size {n}")
        width[nd - 1 - i] = (lo, hi)
    if mode != "constant":
        return pnp.pad(input, width, mode=_TORCH_PAD_MODES[mode])
    return pnp.pad(input, width, constant_values=0 if value is None else value)


def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _conv(input, weight, bias, stride, padding, dilation, groups, nsp):
    """N-d convolution (cross-correlation) as strided slices and one contraction."""
    unbatched = _ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    ws = _shape(weight)
    k = ws[2:]
    stride, dilation = _tuple(stride, nsp), _tuple(dilation, nsp)
    s = _shape(input)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nsp
        elif padding == "same":
            pads = []
            for kk, d in zip(k, dilation):
                tot = d * (kk - 1)
                pads.append((tot // 2, tot - tot // 2))
        else:
            raise ValueError(f"conv: padding must be 'valid', 'same' or integers, not {padding!r}")
    else:
        pads = [(p, p) for p in _tuple(padding, nsp)]
    if any(lo or hi for lo, hi in pads):
        input = pnp.pad(input, [(0, 0), (0, 0)] + pads)
        s = _shape(input)
    n, c = s[0], s[1]
    sp = s[2:]
    out_sp = [(sp[i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    patches = []
    for offs in np.ndindex(*k):
        idx = (builtins.slice(None), builtins.slice(None)) + tuple(
            builtins.slice(o * d, o * d + (m - 1) * st + 1, st) for o, d, m, st in zip(offs, dilation, out_sp, stride))
        patches.append(input[idx])                                  # (N, C, *out)
    kk = len(patches)
    pat = pnp.stack(patches, axis=2)                                # (N, C, K, *out)
    g = groups
    o = ws[0]
    pat = pnp.reshape(pat, (n, g, c // g, kk) + tuple(out_sp))     # (N, G, C/G, K, *out)
    w = pnp.reshape(weight, (g, o // g, c // g, kk))               # (G, O/G, C/G, K)
    # batch G; contract C/G and K -> (G, N, *out, O/G)
    nout = len(out_sp)
    res = ops.dot_general(pat, w, (((2, 3), (2, 3)), ((1,), (0,))))
    perm = (1, 0, 2 + nout) + tuple(range(2, 2 + nout))             # (N, G, O/G, *out)
    res = pnp.reshape(pnp.transpose(res, perm), (n, o) + tuple(out_sp))
    if bias is not None:
        res = pnp.add(res, pnp.reshape(bias, (1, o) + (1,) * nsp))
    return pnp.squeeze(res, axis=0) if unbatched else res


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nsp):
    """The transposed convolution as a plain one: the input spread out by ``stride`` (interior
    padding), padded by what the kernel overhangs, then convolved with the kernel flipped in
    space and with its in/out channels swapped."""
    unbatched = _ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    stride, padding = _tuple(stride, nsp), _tuple(padding, nsp)
    output_padding, dilation = _tuple(output_padding, nsp), _tuple(dilation, nsp)
    ws = _shape(weight)                          # (C_in, C_out / groups, *k)
    k = ws[2:]
    cfg, crop = [(0, 0, 0), (0, 0, 0)], []
    for i in range(nsp):
        lo = dilation[i] * (k[i] - 1) - padding[i]
        hi = lo + output_padding[i]
        cfg.append((max(lo, 0), max(hi, 0), stride[i] - 1))
        crop.append((max(-lo, 0), max(-hi, 0)))  # padding beyond the overhang crops instead
    x = ops.pad(input, 0, cfg)
    if any(a or b for a, b in crop):
        sx = _shape(x)
        x = x[(builtins.slice(None),) * 2 + tuple(builtins.slice(a, sx[2 + i] - b) for i, (a, b) in enumerate(crop))]
    g, cin, cog = groups, ws[0], ws[1]
    w = pnp.reshape(weight, (g, cin // g, cog) + tuple(k))
    w = pnp.swapaxes(w, 1, 2)                                        # (G, C_out/G, C_in/G, *k)
    w = pnp.reshape(w, (g * cog, cin // g) + tuple(k))
    w = pnp.flip(w, axis=tuple(range(2, 2 + nsp)))
    out = _conv(x, w, bias, 1, 0, dilation, groups, nsp)
    return pnp.squeeze(out, axis=0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


def _pool(input, kernel_size, stride, padding, nsp, reduce, pad_value):
    unbatched = _ndim(input) == nsp + 1
    if unbatched:
        input = pnp.expand_dims(input, 0)
    k = _tuple(kernel_size, nsp)
    st = k if stride is None or stride == [] else _tuple(stride, nsp)
    pads = _tuple(padding, nsp)
    if any(pads):
        input = pnp.pad(input, [(0, 0), (0, 0)] + [(p, p) for p in pads], constant_values=pad_value)
    sp = _shape(input)[2:]
    out_sp = [(sp[i] - k[i]) // st[i] + 1 for i in range(nsp)]
    patches = []
    for offs in np.ndindex(*k):
        idx = (builtins.slice(None), builtins.slice(None)) + tuple(
            builtins.slice(o, o + (m - 1) * s + 1, s) for o, m, s in zip(offs, out_sp, st))
        patches.append(input[idx])
    stacked = pnp.stack(patches, axis=2)
    if reduce is pnp.max:
        # the value at the first maximum of each window (torch's index), so ties give it the gradient
        res = pnp.squeeze(pnp.take_along_axis(stacked, pnp.argmax(stacked, axis=2, keepdims=True), axis=2), axis=2)
    else:
        res = reduce(stacked, axis=2)
    return pnp.squeeze(res, axis=0) if unbatched else res


def _max_pool(nsp):
    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if dilation != 1 or ceil_mode or return_indices:
            raise NotImplementedError(f"max_pool{nsp}d: dilation, ceil_mode and return_indices are not supported "
                                      f"inside polyfunc transforms")
        return _pool(input, kernel_size, stride, padding, nsp, pnp.max, -math.inf)
    max_pool.__name__ = f"max_pool{nsp}d"
    return max_pool


def _avg_pool(nsp):
    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        if ceil_mode or not count_include_pad or divisor_override is not None:
            raise NotImplementedError(f"avg_pool{nsp}d: ceil_mode, count_include_pad=False and divisor_override "
                                      f"are not supported inside polyfunc transforms")
        return _pool(input, kernel_size, stride, padding, nsp, pnp.mean, 0)
    avg_pool.__name__ = f"avg_pool{nsp}d"
    return avg_pool


def _lp_pool(nsp):
    def lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        # torch's form: the window mean of x^p, times the window size, to the power 1/p
        k = _tuple(kernel_size, nsp)
        out = _avg_pool(nsp)(pnp.power(input, float(norm_type)), kernel_size, stride, 0, ceil_mode)
        out = pnp.multiply(pnp.multiply(pnp.sign(out), relu(pnp.abs(out))), float(math.prod(k)))
        return pnp.power(out, 1.0 / float(norm_type))
    lp_pool.__name__ = f"lp_pool{nsp}d"
    return lp_pool


max_pool1d, max_pool2d, max_pool3d = (_max_pool(n) for n in (1, 2, 3))
avg_pool1d, avg_pool2d, avg_pool3d = (_avg_pool(n) for n in (1, 2, 3))
lp_pool1d, lp_pool2d = _lp_pool(1), _lp_pool(2)


def _adaptive_sizes(name, input, output_size):
    sp = _shape(input)[-2:]
    osz = _tuple(output_size, 2) if not isinstance(output_size, int) else (output_size, output_size)
    osz = tuple(sp[i] if o is None else int(o) for i, o in enumerate(osz))
    if any(n % o for n, o in zip(sp, osz)):
        raise NotImplementedError(
            f"{name}: an input size {tuple(sp)} that is not a multiple of the output size {osz} (windows of "
            f"different sizes) is not supported inside polyfunc transforms; only divisible sizes are")
    return sp, osz


def _adaptive_windows(input, sp, osz):
    """(..., oh, ow, kh*kw): each output position's window, for divisible sizes."""
    lead = _shape(input)[:-2]
    (h, w), (oh, ow) = sp, osz
    kh, kw = h // oh, w // ow
    x = pnp.reshape(input, lead + (oh, kh, ow, kw))
    nl = len(lead)
    x = pnp.transpose(x, tuple(range(nl)) + (nl, nl + 2, nl + 1, nl + 3))
    return pnp.reshape(x, lead + (oh, ow, kh * kw))


def adaptive_avg_pool2d(input, output_size):
    sp, osz = _adaptive_sizes("adaptive_avg_pool2d", input, output_size)
    return pnp.mean(_adaptive_windows(input, sp, osz), axis=-1)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_indices(n, m, scale, exact, two_d):
    """torch's source index of each output position, in float32 as its kernels compute it; the
    2-D kernel also copies equal sizes and halves exact doubling."""
    if two_d and not exact and m == n:
        return list(range(m))
    if two_d and not exact and m == 2 * n:
        return [j >> 1 for j in range(m)]
    s = np.float32(scale) if scale is not None and scale > 0 else np.float32(n) / np.float32(m)
    off = np.float32(0.5 if exact else 0.0)
    return [min(int(np.floor((np.float32(j) + off) * s)), n - 1) for j in range(m)]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resampling axis by axis: each output position reads one input position (nearest) or two,
    weighted (linear), by fixed indices, so gradients gather back to where values came from."""
    nsp = _ndim(input) - 2
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported inside polyfunc transforms")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != nsp:
        raise NotImplementedError(f"interpolate: mode {mode!r} needs {_LINEAR_MODES[mode] + 2}-D input, "
                                  f"got {nsp + 2}-D")
    if mode == "area":
        if nsp != 2:
            raise NotImplementedError("interpolate(mode='area') is supported for 4-D input only")
    elif mode not in ("nearest", "nearest-exact") and mode not in _LINEAR_MODES:
        raise NotImplementedError(f"interpolate(mode={mode!r}) is not supported inside polyfunc transforms; "
                                  f"use 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' or 'area'")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sp = _shape(input)[2:]
    given = size if size is not None else scale_factor
    if isinstance(given, (tuple, list)) and len(given) != nsp:
        raise ValueError(f"interpolate: {'size' if size is not None else 'scale_factor'} has {len(given)} "
                         f"entries but the input has {nsp} spatial dimension(s)")
    if mode not in ("nearest", "nearest-exact", "area") and not input.dtype.is_floating_point:
        raise NotImplementedError(f"interpolate(mode={mode!r}) on {input.dtype} input is not supported inside "
                                  f"polyfunc transforms; convert the input to a floating dtype first")
    if size is not None:
        out_sp = _tuple(size, nsp)
        scales = [None] * nsp
    else:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nsp
        out_sp = tuple(int(math.floor(n * f)) for n, f in zip(in_sp, sf))
        scales = [None if recompute_scale_factor else 1.0 / f for f in sf]
    if mode == "area":
        return adaptive_avg_pool2d(input, out_sp)
    x = input
    dev, dt = _device_of(input), input.dtype
    for i, (n, m, sc) in enumerate(zip(in_sp, out_sp, scales)):
        axis = 2 + i
        scale = sc if sc is not None else n / m
        if mode in ("nearest", "nearest-exact"):
            x = pnp.take(x, torch.tensor(_nearest_indices(n, m, sc, mode == "nearest-exact", nsp == 2),
                                         device=dev, dtype=torch.int64), axis=axis)
            continue
        if m == n and not align_corners:
            continue                               # torch copies an axis whose size does not change
        if align_corners:
            src = [j * (n - 1) / (m - 1) if m > 1 else 0.0 for j in range(m)]
        else:
            src = [max((j + 0.5) * scale - 0.5, 0.0) for j in range(m)]
        lo = [min(int(math.floor(v)), n - 1) for v in src]
        hi = [min(k + 1, n - 1) for k in lo]
        shape = [1] * _ndim(input)
        shape[axis] = m
        w = torch.tensor([v - k for v, k in zip(src, lo)], dtype=dt, device=dev).reshape(shape)
        a = pnp.take(x, torch.tensor(lo, device=dev), axis=axis)
        b = pnp.take(x, torch.tensor(hi, device=dev), axis=axis)
        x = pnp.add(a, pnp.multiply(pnp.subtract(b, a), w))
    return x


def adaptive_max_pool2d(input, output_size, return_indices=False):
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d(return_indices=True) is not supported inside polyfunc "
                                  "transforms")
    sp, osz = _adaptive_sizes("adaptive_max_pool2d", input, output_size)
    win = _adaptive_windows(input, sp, osz)
    return pnp.squeeze(pnp.take_along_axis(win, pnp.argmax(win, axis=-1, keepdims=True), axis=-1), axis=-1)


# ------------------------------------------------------------------ masks and new tensors
def rms_norm(input, normalized_shape, weight=None, eps=None):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(n) for n in normalized_shape)
    k = len(ns)
    if not k or tuple(_shape(input)[-k:]) != ns:
        raise RuntimeError(f"rms_norm: expected input with shape [*, {', '.join(map(str, ns))}], but got "
                           f"input of size {list(_shape(input))}")
    if eps is None:
        eps = float(np.finfo(to_np_dtype(input.dtype)).eps)     # torch's default: the dtype's epsilon
    ms = pnp.mean(pnp.multiply(input, input), axis=tuple(range(-k, 0)), keepdims=True)
    out = pnp.multiply(input, pnp.true_divide(1, pnp.sqrt(pnp.add(ms, eps))))
    return out if weight is None else pnp.multiply(out, weight)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    if dropout_p:
        raise NotImplementedError("scaled_dot_product_attention with dropout_p > 0 draws random numbers torch "
                                  "does not route through polyfunc; pass dropout_p=0.0 (e.g. in eval mode).")
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if enable_gqa and len(qs) >= 3:
        # grouped-query attention: each key (value) head serves several query heads
        hq, hk, hv = qs[-3], ks[-3], vs[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"scaled_dot_product_attention: the number of heads in key ({hk}) and value ({hv}) "
                               f"must divide the number of heads in query ({hq})")
        if hk != hq:
            key = pnp.repeat(key, hq // hk, axis=-3)
        if hv != hq:
            value = pnp.repeat(value, hq // hv, axis=-3)
    s = scale if scale is not None else 1.0 / math.sqrt(qs[-1])
    scores = pnp.multiply(pnp.matmul(query, pnp.swapaxes(key, -1, -2)), s)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
        attn_mask = pnp.tril(pnp.full_like(scores, True, dtype=bool)[..., :, :])
    if attn_mask is None:
        return pnp.matmul(softmax(scores, dim=-1), value)
    if to_np_dtype(attn_mask.dtype) == np.dtype(bool):
        scores = pnp.where(attn_mask, scores, float("-inf"))
    else:
        scores = pnp.add(scores, attn_mask)
    # a query that may attend to nothing gets zeros, as in torch, not 0/0 (and no NaN gradient)
    keep = pnp.any(pnp.greater(scores, float("-inf")), axis=-1, keepdims=True)
    probs = softmax(pnp.where(keep, scores, 0.0), dim=-1)
    return pnp.matmul(pnp.where(keep, probs, 0.0), value)


# ------------------------------------------------------------------ recurrent layers
# nn.LSTM / nn.GRU / nn.RNN call torch._VF.lstm / gru / rnn_tanh / rnn_relu with the flat weight
# list; under a transform these run as an unrolled loop of matmuls and gates (torch's gate
# order: LSTM i, f, g, o; GRU r, z, n), so every transform sees ordinary primitives.
def _lstm_cell(g, h, c):
    i, f, gg, o = pnp.split(g, 4, axis=-1)
    c = pnp.add(pnp.multiply(ops.logistic(f), c), pnp.multiply(ops.logistic(i), pnp.tanh(gg)))
    return pnp.multiply(ops.logistic(o), pnp.tanh(c)), c


def _step(kind, xi, h, c, w_hh, b_hh, w_hr=None):
    """One time step from the projected input ``xi``: the new (h, c) (c is None but for LSTM)."""
    gh = pnp.matmul(h, pnp.transpose(w_hh))
    if b_hh is not None:
        gh = pnp.add(gh, b_hh)
    if kind == "lstm":
        h, c = _lstm_cell(pnp.add(xi, gh), h, c)
        return (h if w_hr is None else pnp.matmul(h, pnp.transpose(w_hr))), c
    if kind == "gru":
        xr, xz, xn = pnp.split(xi, 3, axis=-1)
        hr, hz, hn = pnp.split(gh, 3, axis=-1)
        r, z = ops.logistic(pnp.add(xr, hr)), ops.logistic(pnp.add(xz, hz))
        n = pnp.tanh(pnp.add(xn, pnp.multiply(r, hn)))
        return pnp.add(n, pnp.multiply(z, pnp.subtract(h, n))), None           # (1 - z) n + z h
    a = pnp.add(xi, gh)
    return (pnp.tanh(a) if kind == "rnn_tanh" else relu(a)), None      # torch's relu: gradient 0 at 0


def _cell_fn(kind):
    """torch._VF.lstm_cell / gru_cell / rnn_*_cell (nn.LSTMCell and friends): one step."""
    def f(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        xi = pnp.matmul(input, pnp.transpose(w_ih))
        if b_ih is not None:
            xi = pnp.add(xi, b_ih)
        if kind == "lstm":
            return _step(kind, xi, hx[0], hx[1], w_hh, b_hh)
        return _step(kind, xi, hx, None, w_hh, b_hh)[0]
    f.__name__ = kind + "_cell"
    return f


def _recurrent(kind, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    if not isinstance(has_biases, bool):     # the packed overload: (data, batch_sizes, hx, params, ...)
        raise NotImplementedError(f"torch.{kind} on packed sequences is not supported inside polyfunc transforms; "
                                  f"pad the batch instead (torch.nn.utils.rnn.pad_packed_sequence).")
    if dropout and train and num_layers > 1:
        raise NotImplementedError(f"torch.{kind} with dropout between layers in training mode draws random numbers "
                                  f"torch does not route through polyfunc; call .eval() or use dropout=0.")
    lstm = kind == "lstm"
    n_dir = 2 if bidirectional else 1
    per = len(params) // (num_layers * n_dir)       # w_ih, w_hh[, b_ih, b_hh][, w_hr (LSTM projections)]
    h0, c0 = (hx[0], hx[1]) if lstm else (hx, None)
    x = pnp.swapaxes(input, 0, 1) if batch_first else input          # (time, batch, features)
    steps = x.shape[0]
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(n_dir):
            k = layer * n_dir + d
            w = params[k * per:(k + 1) * per]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            xi = pnp.matmul(x, pnp.transpose(w[0]))        # the input projection of every step at once
            if b_ih is not None:
                xi = pnp.add(xi, b_ih)
            h, c = h0[k], (c0[k] if lstm else None)
            ys = [None] * steps
            for t in (range(steps) if d == 0 else range(steps - 1, -1, -1)):
                h, c = _step(kind, xi[t], h, c, w[1], b_hh, w_hr)
                ys[t] = h
            outs.append(pnp.stack(ys, axis=0))
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if n_dir == 1 else pnp.concatenate(outs, axis=-1)
    out = pnp.swapaxes(x, 0, 1) if batch_first else x
    if lstm:
        return out, pnp.stack(h_n, axis=0), pnp.stack(c_n, axis=0)
    return out, pnp.stack(h_n, axis=0)


def _recurrent_fn(kind):
    def f(*args):
        return _recurrent(kind, *args)
    f.__name__ = kind
    return f


def _scatter_index(input, dim, index):
    """The advanced index that addresses ``input`` where torch.scatter* writes: ``index``
    along ``dim``, and each position itself along the other axes."""
    nd = _ndim(input)
    d = _norm_dim(dim, nd)
    ishape = _shape(index)
    dev = _device_of(input)
    return tuple(index if a == d else torch.arange(ishape[a], device=dev).reshape(
        [-1 if b == a else 1 for b in range(nd)]) for a in range(nd)), ishape


def _scatter_src(src, ishape, input):
    if isinstance(src, (int, float, bool)):
        return src
    if _shape(src) != ishape:              # torch reads only the index-shaped corner of src
        src = src[tuple(slice(0, n) for n in ishape)]
    return src


def scatter_add(input, dim, index, src):
    idx, ishape = _scatter_index(input, dim, index)
    return pnp.index_add(input, idx, _scatter_src(src, ishape, input))


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if reduce is not None:
        raise NotImplementedError(f"torch.scatter(reduce={reduce!r}) is not supported inside polyfunc transforms; "
                                  f"use scatter_add, or scatter_reduce outside them")
    idx, ishape = _scatter_index(input, dim, index)
    # where an index repeats, torch keeps one of the writes (which one is unspecified); polyfunc their mean
    return pnp.index_update(input, idx, _scatter_src(src if src is not None else value, ishape, input))


def index_add(input, dim, index, source, *, alpha=1):
    d = _norm_dim(dim, _ndim(input))
    src = source if alpha == 1 else pnp.multiply(source, alpha)
    return pnp.index_add(input, (slice(None),) * d + (index,), src)


def _additive_mask(mask, like):
    """torch's canonical attention mask: a bool mask (True = may not attend) as -inf/0, a float one as is."""
    if to_np_dtype(mask.dtype) == np.dtype(bool):
        return pnp.where(mask, float("-inf"), pnp.zeros_like(like, shape=()))
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """nn.MultiheadAttention's computation, written out: projections, heads, masks, softmax, output."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward with static_k/static_v is not supported inside "
                                  "polyfunc transforms")
    if training and dropout_p:
        raise NotImplementedError("MultiheadAttention with dropout in training mode draws random numbers torch "
                                  "does not route through polyfunc; call .eval() or use dropout=0.")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint.")
    unbatched = _ndim(query) == 2                # (L, E): a batch of one in the middle
    if unbatched:
        query, key, value = (pnp.expand_dims(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = pnp.expand_dims(key_padding_mask, 0)
    tgt, bsz, embed = _shape(query)
    hd = embed // num_heads
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = pnp.split(in_proj_weight, 3, axis=0)
    bq, bk, bv = pnp.split(in_proj_bias, 3, axis=0) if in_proj_bias is not None else (None, None, None)

    def proj(x, w, b):
        y = pnp.matmul(x, pnp.transpose(w))
        return y if b is None else pnp.add(y, b)
    q, k, v = proj(query, wq, bq), proj(key, wk, bk), proj(value, wv, bv)
    if attn_mask is not None:
        attn_mask = _additive_mask(attn_mask, q)
        if _ndim(attn_mask) == 2:
            attn_mask = pnp.expand_dims(attn_mask, 0)                 # (1, L, S): the same for every head
    if key_padding_mask is not None:
        key_padding_mask = _additive_mask(key_padding_mask, q)
    if bias_k is not None:                       # one learned key/value appended to every sequence
        k = pnp.concatenate([k, pnp.broadcast_to(bias_k, (1, bsz, embed))], axis=0)
        v = pnp.concatenate([v, pnp.broadcast_to(bias_v, (1, bsz, embed))], axis=0)
        attn_mask = None if attn_mask is None else pnp.pad(attn_mask, [(0, 0), (0, 0), (0, 1)])
        key_padding_mask = None if key_padding_mask is None else pnp.pad(key_padding_mask, [(0, 0), (0, 1)])

    def heads(x):                                # (S, N, E) -> (N * H, S, hd)
        return pnp.swapaxes(pnp.reshape(x, (_shape(x)[0], bsz * num_heads, hd)), 0, 1)
    q, k, v = heads(q), heads(k), heads(v)
    if add_zero_attn:                            # one all-zero key/value appended as well
        zeros = pnp.zeros_like(k[:, :1, :])
        k, v = pnp.concatenate([k, zeros], axis=1), pnp.concatenate([v, zeros], axis=1)
        attn_mask = None if attn_mask is None else pnp.pad(attn_mask, [(0, 0), (0, 0), (0, 1)])
        key_padding_mask = None if key_padding_mask is None else pnp.pad(key_padding_mask, [(0, 0), (0, 1)])
    src = _shape(k)[1]
    scores = pnp.matmul(pnp.multiply(q, 1.0 / math.sqrt(hd)), pnp.swapaxes(k, 1, 2))      # (N * H, L, S)
    if attn_mask is not None:
        scores = pnp.add(scores, attn_mask)
    if key_padding_mask is not None:
        kpm = pnp.reshape(key_padding_mask, (bsz, 1, 1, src))
        scores = pnp.reshape(pnp.add(pnp.reshape(scores, (bsz, num_heads, tgt, src)), kpm),
                             (bsz * num_heads, tgt, src))
    if need_weights:
        weights = softmax(scores, dim=-1)      # torch's own path here: a row with nothing to attend to is NaN
    else:
        # torch takes scaled_dot_product_attention here, which gives such a row zeros
        keep = pnp.any(pnp.greater(scores, float("-inf")), axis=-1, keepdims=True)
        weights = pnp.where(keep, softmax(pnp.where(keep, scores, 0.0), dim=-1), 0.0)
    out = pnp.matmul(weights, v)                                                        # (N * H, L, hd)
    out = pnp.reshape(pnp.swapaxes(out, 0, 1), (tgt, bsz, embed))
    out = proj(out, out_proj_weight, out_proj_bias)
    if need_weights:
        weights = pnp.reshape(weights, (bsz, num_heads, tgt, src))
        if average_attn_weights:
            weights = pnp.mean(weights, axis=1)
        if unbatched:
            weights = pnp.squeeze(weights, axis=0)
    else:
        weights = None
    return (pnp.squeeze(out, axis=1) if unbatched else out), weights


def masked_fill(input, mask, value):
    v = pnp.full_like(input, value) if isinstance(value, (int, float, bool)) else \
        pnp.astype(value, to_np_dtype(input.dtype))
    return pnp.where(mask, v, input)


def _device_of(x):
    """The device of the concrete tensor under a tracer (JVP primal, batched value), else the
    backend's device, else the CPU."""
    from polyfunc.trace import base_value
    x = base_value(x)
    if isinstance(x, torch.Tensor):
        return x.device
    from polyfunc.backends import backend_of
    from .backend import TorchBackend
    try:
        b = backend_of(x)
    except Exception:
        b = None
    if not isinstance(b, TorchBackend):
        # a traced array of another library (NumPy, ...): no torch attribute
        raise AttributeError("a traced array that is not a torch tensor has no attribute 'device'")
    return torch.device(b.device) if b.device else torch.device("cpu")


def _torch_attr(fn, name):
    """An attribute of traced torch tensors only (another library's tracer raises AttributeError)."""
    def get(x):
        try:
            _device_of(x)
        except AttributeError:
            raise AttributeError(f"a traced array that is not a torch tensor has no attribute {name!r}") from None
        return fn(x)
    return get


def _new(fill):
    def f(input, *args, size=None, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, **kw):
        shape = _kw_shape("new_*", args, size, "size")
        return torch.full(shape, fill, dtype=dtype if dtype is not None else input.dtype,
                          device=device if device is not None else _device_of(input))
    return f


def new_full(input, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    shape = _kw_shape("new_full", (), size, "size")
    dtype = dtype if dtype is not None else input.dtype
    if isinstance(fill_value, (int, float, bool)):
        return torch.full(shape, fill_value, dtype=dtype, device=device if device is not None else _device_of(input))
    return pnp.broadcast_to(pnp.astype(fill_value, to_np_dtype(dtype)), shape)


def new_tensor(input, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dtype = dtype if dtype is not None else input.dtype
    if isinstance(data, torch.Tensor) or not hasattr(data, "_trace"):
        return torch.as_tensor(data, dtype=dtype,
                               device=device if device is not None else _device_of(input)).clone()
    return ops.stop_gradient(pnp.astype(data, to_np_dtype(dtype)))


# ------------------------------------------------------------------ in-place: refuse
def _inplace(name):
    out_name = name.rstrip("_") if not name.startswith("__i") else name[3:-2]
    if name == "__setitem__":
        hint = ("the out-of-place form polyfunc.numpy.index_update(x, idx, v) (or torch.where(mask, v, x))")
    elif name in ("copy_", "set_"):
        hint = "the value you would copy in, directly"
    elif name in ("zero_", "fill_"):
        hint = "torch.zeros_like(x) / torch.full_like(x, value)"
    else:
        hint = f"the out-of-place form x.{out_name}(...)"

    def refuse(*args, **kwargs):
        raise TypeError(f"in-place {name} on a traced tensor is not supported; use {hint} and keep "
                        f"the returned value.")
    refuse.__name__ = name
    return refuse


_INPLACE_DUNDERS = ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
                    "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__",
                    "__setitem__"]


# ------------------------------------------------------------------ the table
def _table():
    P = pnp
    unary_same = {  # torch name -> polyfunc.numpy function (same signature: one tensor)
        "sin": P.sin, "cos": P.cos, "tan": P.tan, "tanh": P.tanh, "exp": P.exp, "exp2": P.exp2, "expm1": P.expm1,
        "log": P.log, "log2": P.log2, "log10": P.log10, "log1p": P.log1p, "sqrt": P.sqrt, "abs": P.abs,
        "absolute": P.abs, "neg": P.negative, "negative": P.negative, "sign": P.sign, "sgn": P.sign,
        "floor": P.floor, "ceil": P.ceil, "trunc": P.trunc, "fix": P.trunc,
        "asin": P.arcsin, "arcsin": P.arcsin, "acos": P.arccos, "arccos": P.arccos, "atan": P.arctan,
        "arctan": P.arctan, "sinh": P.sinh, "cosh": P.cosh, "asinh": P.arcsinh, "arcsinh": P.arcsinh,
        "acosh": P.arccosh, "arccosh": P.arccosh, "atanh": P.arctanh, "arctanh": P.arctanh,
        "reciprocal": P.reciprocal, "isnan": P.isnan, "isinf": P.isinf, "isfinite": P.isfinite,
        "logical_not": P.logical_not, "bitwise_not": P.invert, "deg2rad": P.deg2rad, "rad2deg": P.rad2deg,
        "positive": P.positive, "erf": erf, "erfc": erfc,
        "is_floating_point": lambda input: input.dtype.is_floating_point,
    }
    binary_same = {
        "multiply": P.multiply, "true_divide": P.true_divide, "floor_divide": P.floor_divide,
        "remainder": P.remainder, "pow": P.power, "float_power": P.power, "maximum": P.maximum,
        "minimum": P.minimum, "fmax": P.fmax, "fmin": P.fmin, "atan2": P.arctan2, "arctan2": P.arctan2,
        "hypot": P.hypot, "logaddexp": P.logaddexp,
        "eq": P.equal, "ne": P.not_equal, "not_equal": P.not_equal, "lt": P.less, "less": P.less,
        "le": P.less_equal, "less_equal": P.less_equal, "gt": P.greater, "greater": P.greater,
        "ge": P.greater_equal, "greater_equal": P.greater_equal,
        "logical_and": P.logical_and, "logical_or": P.logical_or, "logical_xor": P.logical_xor,
        "bitwise_and": P.bitwise_and, "bitwise_or": P.bitwise_or, "bitwise_xor": P.bitwise_xor,
        "inner": P.inner, "vdot": P.vdot, "outer": outer, "ger": outer, "kron": P.kron,
        "mm": matmul, "bmm": matmul, "mv": matmul,
    }
    # arithmetic promotes like torch (see _torch_promoted)
    for name in ("multiply", "floor_divide", "remainder", "pow", "float_power", "maximum", "minimum",
                 "fmax", "fmin", "atan2", "arctan2", "hypot", "logaddexp"):
        binary_same[name] = _torch_promoted(binary_same[name])
    binary_same["true_divide"] = _torch_promoted(binary_same["true_divide"], true_div=True)
    t_add, t_sub, t_mul = _torch_promoted(add), _torch_promoted(sub), _torch_promoted(mul)
    t_div, t_fmod = _torch_promoted(div, true_div=True), _torch_promoted(fmod)
    # functions available as torch.X and as the method Tensor.X (self first)
    both = dict(unary_same)
    both.update(binary_same)
    both.update({
        "add": t_add, "sub": t_sub, "subtract": t_sub, "mul": t_mul, "div": t_div, "divide": t_div, "fmod": t_fmod,
        "rsqrt": rsqrt, "square": square, "frac": frac, "lerp": lerp, "xlogy": xlogy,
        "sigmoid": sigmoid, "relu": relu, "round": round_, "clamp": clamp, "clip": clamp,
        "clamp_min": clamp_min, "clamp_max": clamp_max, "addmm": addmm,
        "sum": t_sum, "mean": t_mean, "prod": t_prod, "var": t_var, "std": t_std, "amax": amax, "amin": amin,
        "max": t_max, "min": t_min, "argmax": argmax, "argmin": argmin, "cumsum": cumsum, "cumprod": cumprod,
        "sort": sort, "argsort": argsort, "msort": msort, "topk": topk,
        "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "norm": norm,
        "all": t_all, "any": t_any,
        "matmul": matmul, "dot": dot, "tensordot": tensordot,
        "reshape": reshape, "flatten": flatten, "unflatten": unflatten, "squeeze": squeeze,
        "unsqueeze": unsqueeze, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
        "permute": permute, "t": t, "movedim": movedim, "moveaxis": movedim, "where": _torch_where, "flip": flip,
        "roll": roll, "broadcast_to": broadcast_to, "tile": tile, "repeat_interleave": repeat_interleave,
        "index_select": index_select, "gather": gather, "scatter_add": scatter_add, "scatter": scatter,
        "index_add": index_add, "take_along_dim": take_along_dim, "narrow": narrow,
        "split": split, "chunk": chunk, "unbind": unbind, "diagonal": diagonal, "diag": diag, "triu": triu,
        "tril": tril, "trace": P.trace, "detach": detach,
    })
    torch_only = {
        "rsub": rsub, "stack": stack, "cat": cat, "concat": cat, "concatenate": cat, "hstack": hstack,
        "vstack": vstack, "einsum": einsum, "var_mean": var_mean, "std_mean": std_mean,
        "masked_fill": masked_fill,
        # nn.TransformerEncoder's fast path asks this; with a traced input the fast path is never taken
        "_nested_tensor_from_mask_left_aligned": lambda *a, **k: False,
        "zeros_like": _like(0), "ones_like": _like(1), "full_like": full_like, "empty_like": _like(0),
        **{kind: _recurrent_fn(kind) for kind in ("lstm", "gru", "rnn_tanh", "rnn_relu")},
        **{kind + "_cell": _cell_fn(kind) for kind in ("lstm", "gru", "rnn_tanh", "rnn_relu")},
    }
    tensor_only = {
        "view": view, "view_as": view_as, "reshape_as": view_as, "expand": expand, "expand_as": expand_as,
        "repeat": tensor_repeat, "size": size, "dim": dim, "ndimension": dim, "numel": numel,
        "nelement": numel, "to": to, "cpu": to_cpu, "cuda": to_cuda, "type_as": type_as, "type": tensor_type, "clone": identity,
        "contiguous": identity, "float": _astype(np.float32), "double": _astype(np.float64),
        "half": _astype(np.float16), "int": _astype(np.int32), "long": _astype(np.int64),
        "short": _astype(np.int16), "bool": _astype(np.bool_), "byte": _astype(np.uint8),
        "__getitem__": getitem, "tanh": P.tanh, "masked_fill": masked_fill,
        "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0), "new_full": new_full,
        "new_tensor": new_tensor,
        # operators; torch passes Tensor.add for t + x, and these for the rest
        "__add__": t_add, "__radd__": _swap(_torch_promoted(P.add)), "__sub__": t_sub,
        "__rsub__": _swap(_torch_promoted(P.subtract)), "__mul__": t_mul,
        "__rmul__": _swap(_torch_promoted(P.multiply)), "__truediv__": _torch_promoted(P.true_divide, True),
        "__rtruediv__": _swap(_torch_promoted(P.true_divide, True)),
        "__rdiv__": _swap(_torch_promoted(P.true_divide, True)), "__div__": _torch_promoted(P.true_divide, True),
        "__floordiv__": _torch_promoted(P.floor_divide), "__rfloordiv__": _swap(_torch_promoted(P.floor_divide)),
        "__mod__": _torch_promoted(P.remainder), "__rmod__": _swap(_torch_promoted(P.remainder)),
        "__pow__": _torch_promoted(P.power), "__rpow__": _swap(_torch_promoted(P.power)),
        "__matmul__": P.matmul, "__rmatmul__": _swap(P.matmul), "__neg__": P.negative, "__abs__": P.abs,
        "__pos__": P.positive, "__invert__": P.invert,
        "__and__": P.bitwise_and, "__rand__": _swap(P.bitwise_and), "__or__": P.bitwise_or,
        "__ror__": _swap(P.bitwise_or), "__xor__": P.bitwise_xor, "__rxor__": _swap(P.bitwise_xor),
        "__eq__": P.equal, "__ne__": P.not_equal, "__lt__": P.less, "__le__": P.less_equal,
        "__gt__": P.greater, "__ge__": P.greater_equal,
    }
    functional = {
        "linear": linear, "relu": relu, "relu6": relu6, "hardtanh": hardtanh, "leaky_relu": leaky_relu,
        "elu": elu, "selu": selu, "celu": celu, "gelu": gelu, "silu": silu, "mish": mish,
        "softplus": softplus, "logsigmoid": logsigmoid, "tanhshrink": tanhshrink, "softsign": softsign,
        "sigmoid": sigmoid, "tanh": P.tanh, "softmax": softmax, "log_softmax": log_softmax,
        "dropout": dropout, "layer_norm": layer_norm, "rms_norm": rms_norm, "instance_norm": instance_norm,
        "scaled_dot_product_attention": scaled_dot_product_attention,
        "multi_head_attention_forward": multi_head_attention_forward, "batch_norm": batch_norm, "group_norm": group_norm,
        "embedding": embedding, "one_hot": one_hot, "normalize": normalize,
        "cosine_similarity": cosine_similarity, "mse_loss": mse_loss, "l1_loss": l1_loss,
        "smooth_l1_loss": smooth_l1_loss, "huber_loss": huber_loss,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits, "nll_loss": nll_loss,
        "cross_entropy": cross_entropy, "kl_div": kl_div, "pad": f_pad, "conv1d": conv1d, "conv2d": conv2d,
        "conv3d": conv3d, "conv_transpose1d": conv_transpose1d, "conv_transpose2d": conv_transpose2d,
        "conv_transpose3d": conv_transpose3d, "max_pool1d": max_pool1d, "max_pool2d": max_pool2d, "max_pool3d": max_pool3d,
        "avg_pool1d": avg_pool1d, "avg_pool2d": avg_pool2d, "avg_pool3d": avg_pool3d,
        "lp_pool1d": lp_pool1d, "lp_pool2d": lp_pool2d,
        "adaptive_avg_pool2d": adaptive_avg_pool2d, "interpolate": interpolate, "upsample": interpolate, "adaptive_max_pool2d": adaptive_max_pool2d,
    }
    special = {"expit": sigmoid, "logit": lambda x, eps=None: P.log(P.true_divide(x, P.subtract(1, x))),
               "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "xlogy": xlogy,
               "exp2": P.exp2, "expm1": P.expm1, "log1p": P.log1p, "erf": erf, "erfc": erfc}
    linalg = {"vector_norm": vector_norm, "matmul": matmul,
              "norm": lambda x, ord=None, dim=None, keepdim=False, *, dtype=None: P.linalg.norm(
                  x, ord=ord, axis=_axis(dim), keepdims=keepdim)}
    from . import more_functional, more_tensor, nn_convolution       # the rest of the map, in files of their own
    both.update(more_tensor.BOTH)
    torch_only.update(more_tensor.TORCH)
    torch_only.update(more_functional.TORCH)
    functional.update(more_functional.FUNCTIONAL)
    functional.update(nn_convolution.FUNCTIONAL)    # conv and pooling as primitives (overrides the above)
    linalg.update(more_tensor.LINALG)
    return both, torch_only, tensor_only, functional, special, linalg


def _install_mask_helpers() -> None:
    """nn.MultiheadAttention and the Transformer layers turn bool masks into float ones with
    torch.nn.functional._canonical_mask, which fills in place, and read mask dtypes with
    _none_or_dtype, which accepts only torch.Tensor: a per-sample (traced) mask needs both
    done out of place.  Wrapped once; untraced masks go to torch's own functions."""
    import torch.nn.functional as F
    from polyfunc.trace import Tracer
    if getattr(F._canonical_mask, "__polyfunc_wrapped__", False):
        return
    canonical, none_or_dtype = F._canonical_mask, F._none_or_dtype

    def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
        if not isinstance(mask, Tracer):
            return canonical(mask, mask_name, other_type, other_name, target_type, check_other)
        if mask.dtype == torch.bool:
            return pnp.where(mask, float("-inf"), pnp.zeros_like(mask, dtype=to_np_dtype(target_type), shape=()))
        if not mask.dtype.is_floating_point:
            raise AssertionError(f"only bool and floating types of {mask_name} are supported")
        return mask

    def _none_or_dtype(input):
        return input.dtype if isinstance(input, Tracer) else none_or_dtype(input)
    _canonical_mask.__polyfunc_wrapped__ = True
    F._canonical_mask, F._none_or_dtype = _canonical_mask, _none_or_dtype


def register_all(register):
    """Fill the native map: ``register(torch_function_or_method, polyfunc_callable)``."""
    global pnp, ops
    from .random_mode import install
    install()      # torch.randn & co. follow vmap's randomness
    _install_mask_helpers()
    import polyfunc.numpy as _pnp
    import polyfunc.ops as _ops
    pnp, ops = _pnp, _ops
    import torch.nn.functional as F

    both, torch_only, tensor_only, functional, special, linalg = _table()
    T = torch.Tensor
    done = {}
    wrapped = {}

    def no_out(fn):
        """torch forwards ``out=None`` through ``handle_torch_function`` for many functions: accept it,
        and refuse a real ``out=`` (an in-place write a transform cannot trace)."""
        w = wrapped.get(id(fn))
        if w is None:
            def w(*args, **kwargs):
                if "out" in kwargs:
                    _no_out(kwargs.pop("out"), getattr(fn, "__name__", "function"))
                return fn(*args, **kwargs)
            w.__name__ = getattr(fn, "__name__", "function")
            w.__wrapped__ = fn
            wrapped[id(fn)] = (w, fn)      # keep fn alive so its id stays unique
        else:
            w = w[0]
        return w

    def reg(obj, fn):
        if obj is None:
            return
        fn = no_out(fn)
        prev = done.get(id(obj))
        if prev is not None and prev is not fn:
            # one torch object reachable under two names with the same meaning: keep the first
            return
        done[id(obj)] = fn
        register(obj, fn)

    for name, fn in both.items():
        reg(getattr(torch, name, None), fn)
        reg(getattr(T, name, None), fn)
    for name, fn in torch_only.items():
        reg(getattr(torch, name, None), fn)
    for name, fn in tensor_only.items():
        reg(getattr(T, name, None), fn)
    # Methods by name, for a tracer's __getattr__ (x.relu(), x.dim(), x.view(...)): a tracer
    # is not a torch.Tensor, so torch never dispatches its own methods to __torch_function__.
    methods = dict(both)
    methods.update(tensor_only)
    for name, fn in methods.items():
        if hasattr(T, name):   # operators too: a torch tracer's x * y follows torch's promotion
            register(("method", name), no_out(fn))
    # attributes of torch tensors that modules read (GRU/LSTM read x.device, x.is_nested)
    register(("property", "device"), _device_of)
    register(("property", "is_nested"), _torch_attr(lambda x: False, "is_nested"))
    register(("property", "requires_grad"), _torch_attr(lambda x: False, "requires_grad"))
    register(("property", "is_cuda"), lambda x: _device_of(x).type == "cuda")
    register(("property", "is_sparse"), _torch_attr(lambda x: False, "is_sparse"))
    for name, fn in functional.items():
        reg(getattr(F, name, None), fn)
    for name, fn in special.items():
        reg(getattr(torch.special, name, None), fn)
    for name, fn in linalg.items():
        reg(getattr(torch.linalg, name, None), fn)
    # in-place methods and functions: an error naming the out-of-place form
    for name in dir(T):
        if name.endswith("_") and not name.startswith("_") and callable(getattr(T, name, None)):
            reg(getattr(T, name), _inplace(name))
            register(("method", name), _inplace(name))
    for name in _INPLACE_DUNDERS:
        reg(getattr(T, name, None), _inplace(name))
    for name in ("relu_", "sigmoid_", "tanh_", "exp_", "clamp_", "fill_", "zero_"):
        reg(getattr(torch, name, None), _inplace(name))
    for name in ("relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_", "rrelu_"):
        reg(getattr(F, name, None), _inplace(name))


def tensor_method(name):
    """The polyfunc callable registered for the method ``torch.Tensor.<name>``, or None.

    The native map holds it under the key ``("method", name)``, so the
    core can offer torch's methods on a tracer (``x.relu()``) from ``__getattr__``
    without knowing torch."""
    from polyfunc.native import native_map
    return native_map.get(("method", name))
