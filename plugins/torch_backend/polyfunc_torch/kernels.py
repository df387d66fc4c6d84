"""One torch kernel per primitive (the names and parameters of polyfunc's
primitives).  Kernels take tensors positionally and parameters by keyword,
return tensors of exactly the dtype the primitive's abstract-eval rule gives,
create new tensors on their input's device, and never move data to the host.

Binary kernels accept a Python scalar in either position (a weak scalar: the
result takes the tensor's dtype).  On a machine with more than one kind of
device they, and every other kernel taking several tensors (select, concatenate,
dot_general, gather, scatter_add), check that the tensor operands share a device
and raise a BackendError naming both otherwise (torch itself lets a 0-d CPU
tensor meet a CUDA tensor, which would be a silent copy).  A Python bool operand
is a weak scalar of the tensor's dtype (True is 1 of an int or float tensor), and
integer floor_div/rem by zero give 0, as in NumPy 2."""
from __future__ import annotations

import math

import torch

from polyfunc.errors import BackendError

from .complex_kernels import complex_kernels
from .conv_kernels import make_conv_kernels
from .dtypes import NP_TO_TORCH, to_torch_dtype

_SCALARS = (int, float, bool, complex)
_SCALAR_SET = frozenset(_SCALARS)
_INT_OR_BOOL = frozenset({torch.bool, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
                          getattr(torch, "uint16", torch.uint8), getattr(torch, "uint32", torch.uint8),
                          getattr(torch, "uint64", torch.uint8)})
_PY_DEFAULT = {bool: torch.bool, int: torch.int64, float: torch.float64, complex: torch.complex128}


def _device_error(name, x, y):
    return BackendError(
        f"{name}: tensors on two devices meet in one operation: {x.device} and {y.device}. "
        f"polyfunc never copies between devices silently; move one first (x.to({str(y.device)!r})) "
        f"or pick one device with polyfunc.use_backend('torch:<device>').")


def _check_same_device(name, fn):
    """``fn`` (a kernel taking several tensors positionally) with a check that all its tensor
    operands share one device; a BackendError naming both devices otherwise.  Only wrapped
    in on machines with more than one kind of device."""
    Tensor = torch.Tensor

    def kernel(*args, **params):
        first = None
        for a in args:
            if isinstance(a, Tensor):
                if first is None:
                    first = a
                elif a.device != first.device:
                    raise _device_error(name, first, a)
        return fn(*args, **params)
    kernel.__name__ = name
    return kernel


def _as_tensor(s, like, default_device):
    """A Python scalar as a 0-d tensor with ``like``'s dtype and device (or the Python default)."""
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(s, dtype=like.dtype, device=like.device)
    return torch.as_tensor(s, dtype=_PY_DEFAULT[type(s)] if type(s) in _PY_DEFAULT else None,
                           device=default_device)


def _weak(s, t):
    """A Python scalar ``s`` meeting tensor ``t``: a weak scalar of ``t``'s dtype.  Only a
    Python bool needs converting (torch rejects e.g. ``torch.sub(x, True)``; NumPy 2
    reads True as 1 of x's dtype)."""
    if s.__class__ is bool and t.dtype is not torch.bool:
        return int(s)
    return s


def _binary(name, fn, *, swap=None, check_devices, default_device):
    """A binary kernel around ``fn(tensor, tensor_or_scalar)``.

    ``swap``: a function with the operands exchanged (``swap(y, x) == fn(x, y)``),
    used when only the first operand is a Python scalar."""

    def slow(x, y):
        # at least one operand is a Python scalar (or something torch rejected)
        xs, ys = x.__class__ in _SCALAR_SET, y.__class__ in _SCALAR_SET
        if xs and ys:
            x = _as_tensor(x, None, default_device)
            return fn(x, _as_tensor(y, x, default_device))
        if xs:
            x = _weak(x, y)
            if swap is not None:
                return swap(y, x)
            return fn(_as_tensor(x, y, None), y)
        if ys:
            y = _weak(y, x)
            try:
                return fn(x, y)
            except TypeError:
                return fn(x, _as_tensor(y, x, None))
        return fn(x, y)

    if check_devices:
        def kernel(x, y):
            if x.__class__ in _SCALAR_SET or y.__class__ in _SCALAR_SET:
                return slow(x, y)
            if x.device != y.device:
                raise _device_error(name, x, y)
            return fn(x, y)
    else:
        def kernel(x, y):
            if x.__class__ in _SCALAR_SET or y.__class__ is bool:
                return slow(x, y)
            try:
                return fn(x, y)
            except TypeError:
                if y.__class__ in _SCALAR_SET:
                    return slow(x, y)
                raise
    kernel.__name__ = name
    return kernel


# ------------------------------------------------------------------ helpers for the kernels
def _integer_pow(x, *, y):
    if y < 0 and x.dtype in _INT_OR_BOOL:
        raise ValueError("integer_pow: integers to negative integer powers are not allowed")
    if y == 2:
        return torch.mul(x, x)
    return torch.pow(x, y)


def _bool_scalar(x, y, absorbing):
    """max (absorbing=True) / min (absorbing=False) of a bool tensor and a Python scalar."""
    if bool(y) is absorbing:
        return torch.full_like(x, absorbing)
    return x.clone()


def _max(x, y):
    if y.__class__ in _SCALAR_SET:
        if x.dtype is torch.bool:       # clamp_min has no Bool kernel
            return _bool_scalar(x, y, True)
        return torch.clamp_min(x, y)
    if x.dtype is torch.bool:
        return torch.logical_or(x, y)
    return torch.maximum(x, y)


def _min(x, y):
    if y.__class__ in _SCALAR_SET:
        if x.dtype is torch.bool:
            return _bool_scalar(x, y, False)
        return torch.clamp_max(x, y)
    if x.dtype is torch.bool:
        return torch.logical_and(x, y)
    return torch.minimum(x, y)


def _int_by_zero(fn):
    """floor_div/rem on integers: NumPy gives 0 where the divisor is 0; torch raises on the
    CPU (and gives garbage on CUDA).  Floats go straight through (inf/nan, as NumPy)."""
    def kernel(x, y):
        if x.dtype not in _INT_OR_BOOL:
            return fn(x, y)
        if y.__class__ in _SCALAR_SET:
            if y == 0:
                return torch.zeros_like(x)
            return fn(x, y)
        if y.dtype is torch.bool:
            return fn(x, y)             # no bool loop in torch either way; let it raise
        zero = y == 0
        out = fn(x, torch.where(zero, torch.ones((), dtype=y.dtype, device=y.device), y))
        return torch.where(zero, torch.zeros((), dtype=out.dtype, device=out.device), out)
    return kernel


def _rem_t(x, y):
    return torch.remainder(x, y)


def _div(x, y):
    return torch.div(x, y)


def _floor_div_t(x, y):
    return torch.floor_divide(x, y)


_rem = _int_by_zero(_rem_t)
_floor_div = _int_by_zero(_floor_div_t)


def _abs(x):
    if x.dtype is torch.bool:           # abs_cpu has no Bool kernel; NumPy: identity
        return x
    return torch.abs(x)


def _atan2(x, y):
    if y.__class__ in _SCALAR_SET:
        y = torch.as_tensor(y, dtype=x.dtype, device=x.device)
    return torch.atan2(x, y)


def _pow(x, y):
    return torch.pow(x, y)


def _bitwise_not(x):
    if x.dtype == torch.bool:
        return torch.logical_not(x)
    return torch.bitwise_not(x)


def _reduce(fn):
    """reduce_sum/prod: torch widens small ints and bools; the primitive keeps the dtype."""
    def kernel(x, *, axes):
        if x.dtype in _INT_OR_BOOL:
            if not axes:
                return x
            if x.dtype == torch.bool:
                return fn(x.to(torch.int64), axes).to(torch.bool)
            return fn(x, axes, dtype=x.dtype)
        if not axes:
            return x
        return fn(x, axes)
    return kernel


def _reduce_sum(x, *, axes):
    if axes and x.dtype not in _INT_OR_BOOL:
        return torch.sum(x, axes)
    return _reduce_sum_slow(x, axes=axes)


def _sum(x, axes, dtype=None):
    return torch.sum(x, axes, dtype=dtype)


_reduce_sum_slow = _reduce(_sum)


def _prod(x, axes, dtype=None):
    # torch.prod reduces one dimension at a time
    if len(axes) == 1:
        return torch.prod(x, axes[0], dtype=dtype)
    if len(axes) == x.ndim:
        return torch.prod(x, dtype=dtype)
    keep = [i for i in range(x.ndim) if i not in axes]
    xt = x.permute(keep + list(axes)).reshape([x.shape[i] for i in keep] + [-1])
    return torch.prod(xt, -1, dtype=dtype)


def _reduce_extremum(fn):
    def kernel(x, *, axes):
        if not axes:
            return x
        return fn(x, axes)
    return kernel


def _arg(fn):
    def kernel(x, *, axis, index_dtype):
        if x.dtype == torch.bool:
            x = x.to(torch.uint8)
        out = fn(x, axis)
        td = NP_TO_TORCH[index_dtype]
        return out if td is torch.int64 else out.to(td)
    return kernel


def _cumsum(x, *, axis, reverse):
    dt = x.dtype if x.dtype in _INT_OR_BOOL else None
    if x.dtype == torch.bool:
        out = torch.cumsum(torch.flip(x, (axis,)) if reverse else x, axis).to(torch.bool)
        return torch.flip(out, (axis,)) if reverse else out
    if reverse:
        return torch.flip(torch.cumsum(torch.flip(x, (axis,)), axis, dtype=dt), (axis,))
    return torch.cumsum(x, axis, dtype=dt)


def _mm_ok(x):
    # integer and bool matmuls run on the CPU only; bool never
    return x.dtype not in _INT_OR_BOOL or (x.device.type == "cpu" and x.dtype != torch.bool)


def _matmul(a, b):
    """(..., M, K) @ (..., K, N), for any dtype torch supports on the device."""
    if _mm_ok(a):
        return torch.matmul(a, b)
    if a.dtype == torch.bool:
        return torch.matmul(a.to(torch.int64), b.to(torch.int64)) > 0 if a.device.type == "cpu" else \
            (a.unsqueeze(-1) & b.unsqueeze(-3)).any(-2)
    return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2, dtype=a.dtype)


def _contract(x, y, lc, rc):
    """A product without batch axes as one matmul: x's free axes then its contracted ones
    against y's contracted axes then its free ones.  (torch.tensordot does the same in
    Python and cost about 30 us a call here, a vmapped ``x @ w`` three times torch.func's.)"""
    xn, yn = x.ndim, y.ndim
    xf = [i for i in range(xn) if i not in lc]
    yf = [i for i in range(yn) if i not in rc]
    xs, ys = x.shape, y.shape
    k = math.prod(xs[i] for i in lc)
    xperm = xf + list(lc)
    yperm = list(rc) + yf
    xt = x if xperm == list(range(xn)) else x.permute(xperm)
    yt = y if yperm == list(range(yn)) else y.permute(yperm)
    free = [xs[i] for i in xf]
    if len(lc) != 1:
        xt = xt.reshape(free + [k])
    if len(rc) == 1 and len(yf) <= 1:       # y is (K,) or (K, N) already
        return torch.matmul(xt, yt)
    yfree = [ys[i] for i in yf]
    return torch.matmul(xt, yt.reshape(k, math.prod(yfree))).reshape(free + yfree)


def _dot_general(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    xn, yn = x.ndim, y.ndim
    if not lb:
        if len(lc) == 1 and _mm_ok(x):
            c, d = lc[0], rc[0]
            # the common products go straight to BLAS
            if xn == 2 and yn == 2 and c == 1 and d == 0:
                return torch.mm(x, y)
            if xn == 1 and yn == 1:
                return torch.dot(x, y)
            if xn == 2 and yn == 1 and c == 1:
                return torch.mv(x, y)
            if xn == 1 and yn == 2 and d == 0:
                return torch.mv(y.t(), x)
            if xn == 2 and yn == 2 and c == 1 and d == 1:
                return torch.mm(x, y.t())
        if _mm_ok(x):
            return _contract(x, y, lc, rc)
    xf = [i for i in range(xn) if i not in lc and i not in lb]
    yf = [i for i in range(yn) if i not in rc and i not in rb]
    xs, ys = x.shape, y.shape
    bshape = [xs[i] for i in lb]
    m = math.prod(xs[i] for i in xf)
    k = math.prod(xs[i] for i in lc)
    n = math.prod(ys[i] for i in yf)
    nb = math.prod(bshape)
    xt = x.permute(list(lb) + xf + list(lc)).reshape(nb, m, k)
    yt = y.permute(list(rb) + list(rc) + yf).reshape(nb, k, n)
    # a batch of outer products (per-sample gradients make many): a broadcasting multiply
    # beats bmm's k=1 path about 4x on the CPU
    out = xt * yt if k == 1 and xt.dtype.is_floating_point else _matmul(xt, yt)
    return out.reshape(bshape + [xs[i] for i in xf] + [ys[i] for i in yf])


def _broadcast_in_dim(x, *, shape, broadcast_dimensions):
    xs = x.shape
    inter = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        inter[d] = xs[i]
    return x.reshape(inter).expand(shape)


def _expand_dims(x, *, dimensions):
    nd = x.ndim + len(dimensions)
    it = iter(x.shape)
    return x.reshape([1 if i in dimensions else next(it) for i in range(nd)])


def _slice(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]


def _pad(x, *, padding_value, padding_config):
    shape = [lo + hi + n + max(n - 1, 0) * it for (lo, hi, it), n in zip(padding_config, x.shape)]
    out = torch.full(shape, padding_value, dtype=x.dtype, device=x.device)
    idx = tuple(slice(lo, lo + n + max(n - 1, 0) * it, it + 1) for (lo, hi, it), n in zip(padding_config, x.shape))
    out[idx] = x
    return out


def _index(idx):
    """Indices torch accepts: int64 or int32 (uint8 would be read as a mask)."""
    if idx.dtype is torch.int64 or idx.dtype is torch.int32:
        return idx
    return idx.to(torch.int64)


def _gather(x, idx, *, axis):
    idx = _index(idx)
    if idx.ndim == 1:
        return torch.index_select(x, axis, idx)
    xs = x.shape
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape(xs[:axis] + idx.shape + xs[axis + 1:])


def _scatter_add(x, idx, upd, *, axis):
    idx = _index(idx)
    xs = x.shape
    k = idx.numel()
    upd = upd.reshape(xs[:axis] + (k,) + xs[axis + 1:])
    if x.dtype == torch.bool:
        return torch.index_add(x.to(torch.int64), axis, idx.reshape(-1), upd.to(torch.int64)).to(torch.bool)
    return torch.index_add(x, axis, idx.reshape(-1), upd)


def _select(p, x, y):
    if x.__class__ in _SCALAR_SET and y.__class__ in _SCALAR_SET:
        # torch would use its default float32; the primitive says float64 (NumPy's rule)
        dev = p.device if isinstance(p, torch.Tensor) else None
        x = _as_tensor(x, None, dev)
        y = _as_tensor(y, x, dev)
    if p.__class__ is bool:
        return (x if p else y) if isinstance(x if p else y, torch.Tensor) else torch.where(
            torch.as_tensor(p), x, y)
    return torch.where(p, x, y)


_threshold_backward = torch.ops.aten.threshold_backward.default


def _relu_grad(x, t):
    # threshold_backward(grad, self, threshold): grad where self <= threshold is false, else 0
    if x.__class__ in _SCALAR_SET or t.__class__ in _SCALAR_SET:     # a weak scalar: the tensor's dtype
        like = t if isinstance(t, torch.Tensor) else x
        x, t = (_as_tensor(v, like if isinstance(like, torch.Tensor) else None, None) for v in (x, t))
    return _threshold_backward(t, x, 0)


def _convert(x, *, new_dtype):
    td = NP_TO_TORCH.get(new_dtype)
    if td is None:
        td = to_torch_dtype(new_dtype)
    if x.__class__ in _SCALAR_SET:
        return torch.as_tensor(x, dtype=td)
    return x.to(td)


def _stop_gradient(x):
    return x.detach() if x.requires_grad else x


def make_kernels(backend):
    """The kernel table of ``backend`` (a TorchBackend, maybe bound to a device)."""
    device = backend.device or "cpu"
    check = backend.multi_device()
    B = lambda name, fn, swap=None: _binary(name, fn, swap=swap, check_devices=check,  # noqa: E731
                                            default_device=device)

    def broadcast_in_dim(x, *, shape, broadcast_dimensions):
        if x.__class__ in _SCALAR_SET:       # a Python scalar (e.g. a Python-float primal under jvp)
            x = _as_tensor(x, None, device)
        return _broadcast_in_dim(x, shape=shape, broadcast_dimensions=broadcast_dimensions)

    def argsort(x, *, axis, descending, index_dtype):
        return torch.argsort(x, dim=axis, descending=descending, stable=True).to(NP_TO_TORCH[index_dtype])

    def full_like(like, *, fill_value, shape, dtype):
        if like.__class__ in _SCALAR_SET:
            return torch.full(shape, fill_value, dtype=NP_TO_TORCH[dtype], device=device)
        if like.shape == shape:
            # in like's memory layout: a batched value is often a permuted view, and an operation
            # mixing layouts runs strided (selects in the MAML meta-step ran 2-5x slower)
            return torch.full_like(like, fill_value, dtype=NP_TO_TORCH[dtype])
        return torch.full(shape, fill_value, dtype=NP_TO_TORCH[dtype], device=like.device)

    def iota(*, dtype, shape, dimension):
        shp = [1] * len(shape)
        shp[dimension] = shape[dimension]
        return torch.arange(shape[dimension], dtype=NP_TO_TORCH[dtype], device=device).reshape(shp).expand(shape)

    def eye(like, *, shape, offset, dtype):
        rows, cols = shape
        dev = like.device if isinstance(like, torch.Tensor) else device
        r = torch.arange(rows, device=dev)
        c = torch.arange(cols, device=dev)
        return (c[None, :] == r[:, None] + offset).to(NP_TO_TORCH[dtype])

    def _float(td):
        return td.is_floating_point

    def float_draw(draw):
        """A kernel drawing with ``draw`` from the backend's generator (in float64 for other dtypes)."""
        def kernel(*, shape, dtype):
            td = NP_TO_TORCH[dtype]
            g = backend.generator()
            if _float(td):
                return draw(shape, generator=g, dtype=td, device=device)
            return draw(shape, generator=g, dtype=torch.float64, device=device).to(td)
        return kernel

    # torch's own functions, not the routing forms interception puts in torch's namespace while a
    # transform runs (the table may be built then)
    normal = float_draw(getattr(torch.randn, "__wrapped__", torch.randn))
    uniform = float_draw(getattr(torch.rand, "__wrapped__", torch.rand))

    def randint(*, shape, low, high, dtype):
        return getattr(torch.randint, "__wrapped__", torch.randint)(low, high, shape, generator=backend.generator(), dtype=NP_TO_TORCH[dtype],
                             device=device)

    k = {
        # elementwise, unary
        "neg": torch.neg, "exp": torch.exp, "log": torch.log, "log1p": torch.log1p, "expm1": torch.expm1,
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "erf": torch.erf, "erfc": torch.erfc, "logistic": torch.sigmoid,
        "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "abs": _abs, "sign": torch.sign, "floor": torch.floor,
        "ceil": torch.ceil, "round": torch.round, "asin": torch.asin, "acos": torch.acos, "atan": torch.atan,
        "sinh": torch.sinh, "cosh": torch.cosh, "isnan": torch.isnan, "stop_gradient": _stop_gradient,
        "logical_not": torch.logical_not, "bitwise_not": _bitwise_not,
        # elementwise, binary
        "add": B("add", torch.add, torch.add),
        "sub": B("sub", torch.sub, torch.rsub),
        "mul": B("mul", torch.mul, torch.mul),
        "div": B("div", _div),
        "pow": B("pow", _pow),
        "max": B("max", _max, _max),
        "min": B("min", _min, _min),
        "atan2": B("atan2", _atan2),
        "floor_div": B("floor_div", _floor_div),
        "rem": B("rem", _rem),
        "eq": B("eq", torch.eq, torch.eq), "ne": B("ne", torch.ne, torch.ne),
        "lt": B("lt", torch.lt, torch.gt), "le": B("le", torch.le, torch.ge),
        "gt": B("gt", torch.gt, torch.lt), "ge": B("ge", torch.ge, torch.le),
        "logical_and": B("logical_and", torch.logical_and), "logical_or": B("logical_or", torch.logical_or),
        "logical_xor": B("logical_xor", torch.logical_xor),
        "bitwise_and": B("bitwise_and", torch.bitwise_and, torch.bitwise_and),
        "bitwise_or": B("bitwise_or", torch.bitwise_or, torch.bitwise_or),
        "bitwise_xor": B("bitwise_xor", torch.bitwise_xor, torch.bitwise_xor),
        "select": _select,
        # one native kernel each way: relu forward, and its backward as torch's own autograd runs it
        # (a select over a comparison with a 0-d zero ran about 10x slower on CPU)
        "relu": torch.relu,
        "relu_grad": _relu_grad,
        "integer_pow": _integer_pow,
        "convert_element_type": _convert,
        # creation and shape
        "full_like": full_like, "argsort": argsort,
        "solve": torch.linalg.solve, "det": torch.linalg.det, "cholesky": torch.linalg.cholesky,
        "slogdet": lambda a: list(torch.linalg.slogdet(a)),
        "iota": iota,
        "eye": eye,
        "broadcast_in_dim": broadcast_in_dim,
        "reshape": lambda x, *, new_sizes: torch.reshape(x, new_sizes),
        "transpose": lambda x, *, permutation: torch.permute(x, permutation),
        "squeeze": lambda x, *, dimensions: torch.squeeze(x, dimensions),
        "expand_dims": _expand_dims,
        "slice": _slice,
        "pad": _pad,
        "concatenate": lambda *xs, dimension: torch.cat(xs, dimension),
        "rev": lambda x, *, dimensions: torch.flip(x, dimensions),
        "gather": _gather,
        "scatter_add": _scatter_add,
        # reductions
        "reduce_sum": _reduce_sum,
        "reduce_prod": _reduce(_prod),
        "reduce_max": _reduce_extremum(torch.amax),
        "reduce_min": _reduce_extremum(torch.amin),
        "argmax": _arg(torch.argmax),
        "argmin": _arg(torch.argmin),
        "cumsum": _cumsum,
        "dot_general": _dot_general,
        # random numbers, from the backend's generator on its device
        "random_normal": normal, "random_uniform": uniform, "random_randint": randint,
    }
    k.update(complex_kernels(k))
    k.update(make_conv_kernels())       # convolution and pooling: torch's own kernels
    if check:
        # the binary kernels check their two operands themselves (see _binary); these take
        # several tensors too (torch.where would silently copy a 0-d CPU tensor to the GPU)
        for name in ("select", "relu_grad", "concatenate", "dot_general", "gather", "scatter_add"):
            k[name] = _check_same_device(name, k[name])
    return k
