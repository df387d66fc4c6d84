"""torch's convolution and pooling functions on traced values, as the conv_general_dilated and
windowed-reduction primitives (whose kernels on the torch backend are torch's own), each
registered for its ``torch.nn.functional`` name below.

``F.conv*d`` and ``F.conv_transpose*d`` (and so ``nn.Conv*d`` / ``nn.ConvTranspose*d``, whose
non-zero padding modes pad with ``F.pad`` first), ``F.max_pool*d`` (ceil_mode, dilation,
return_indices), ``F.avg_pool*d`` (ceil_mode, count_include_pad, divisor_override),
``F.lp_pool*d`` and ``F.adaptive_{avg,max}_pool*d``.  Arguments are checked as torch checks
them, with errors that name the sizes."""
from __future__ import annotations

import math

import numpy as np
import torch.nn.functional as F

import polyfunc.numpy as pnp
from polyfunc import ops
from polyfunc.errors import ShapeError

from ..registry import implements

__all__ = ["FUNCTIONAL", "adaptive_avg_pool2d"]


def _tuple(v, n, name, where):
    t = (int(v),) * n if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n:
        raise ValueError(f"{where}: {name} {tuple(t)} needs {n} entries (one per spatial dimension)")
    return t


def _shape(x):
    return tuple(ops.shape_of(x))


def _batched(input, nsp, where):
    """``input`` with a batch axis (added for unbatched input), and whether one was added."""
    nd = len(_shape(input))
    if nd == nsp + 1:
        return pnp.expand_dims(input, 0), True
    if nd != nsp + 2:
        raise ShapeError(f"{where}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D (batched) input, got shape "
                         f"{_shape(input)}")
    return input, False


def _positive(vals, name, where):
    if any(v <= 0 for v in vals):
        raise ShapeError(f"{where}: {name} must be positive, got {tuple(vals)}")


def _nonnegative(vals, name, where):
    if any(v < 0 for v in vals):
        raise ShapeError(f"{where}: negative {name} {tuple(vals)} is not supported")


def _add_bias(out, bias, nsp):
    if bias is None:
        return out
    o = _shape(out)[1]
    return pnp.add(out, pnp.reshape(bias, (1, o) + (1,) * nsp))


# ------------------------------------------------------------------ convolution
def _conv(nsp):
    where = f"conv{nsp}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        x, unbatched = _batched(input, nsp, where)
        ws = _shape(weight)
        if len(ws) != nsp + 2:
            raise ShapeError(f"{where}: expected a {nsp + 2}-D weight (out_channels, in_channels/groups, *kernel), "
                             f"got shape {ws}")
        stride, dilation = _tuple(stride, nsp, "stride", where), _tuple(dilation, nsp, "dilation", where)
        _positive(stride, "stride", where)
        _positive(dilation, "dilation", where)
        if isinstance(padding, str):
            if padding == "valid":
                pads = ((0, 0),) * nsp
            elif padding == "same":
                if any(s != 1 for s in stride):
                    raise ValueError(f"{where}: padding='same' is not supported for strided convolutions")
                pads = tuple(((d * (k - 1)) // 2, d * (k - 1) - (d * (k - 1)) // 2)
                             for k, d in zip(ws[2:], dilation))
            else:
                raise ValueError(f"{where}: padding must be 'valid', 'same' or integers, not {padding!r}")
        else:
            p = _tuple(padding, nsp, "padding", where)
            _nonnegative(p, "padding", where)
            pads = tuple((v, v) for v in p)
        if groups < 1:
            raise ShapeError(f"{where}: groups must be positive, got {groups}")
        out = ops.conv_general_dilated(x, weight, stride, pads, None, dilation, None, groups)
        out = _add_bias(out, bias, nsp)
        return pnp.squeeze(out, axis=0) if unbatched else out
    conv.__name__ = where
    return conv


def _conv_transpose(nsp):
    where = f"conv_transpose{nsp}d"

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x, unbatched = _batched(input, nsp, where)
        ws = _shape(weight)                          # (C_in, C_out / groups, *k)
        if len(ws) != nsp + 2:
            raise ShapeError(f"{where}: expected a {nsp + 2}-D weight (in_channels, out_channels/groups, *kernel), "
                             f"got shape {ws}")
        stride, padding = _tuple(stride, nsp, "stride", where), _tuple(padding, nsp, "padding", where)
        output_padding = _tuple(output_padding, nsp, "output_padding", where)
        dilation = _tuple(dilation, nsp, "dilation", where)
        _positive(stride, "stride", where)
        _positive(dilation, "dilation", where)
        _nonnegative(padding, "padding", where)
        _nonnegative(output_padding, "output_padding", where)
        if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
            raise ShapeError(f"{where}: output_padding {output_padding} must be smaller than either stride "
                             f"{stride} or dilation {dilation}")
        g = groups
        cin, cog = ws[0], ws[1]
        c = _shape(x)[1]
        if g < 1 or cin % g:
            raise ShapeError(f"{where}: groups={g} does not divide the weight's {cin} input channels")
        if c != cin:
            raise ShapeError(f"{where}: a weight of shape {ws} expects an input with {cin} channels, but the input "
                             f"of shape {_shape(x)} has {c} channels")
        k = ws[2:]
        # the transposed convolution is a convolution of the input spread out by the stride (input
        # dilation) with the kernel flipped in space and its in/out channels exchanged per group
        w = ops.reshape(weight, (g, cin // g, cog) + tuple(k))
        w = ops.transpose(w, (0, 2, 1) + tuple(range(3, nsp + 3)))
        w = ops.rev(ops.reshape(w, (g * cog, cin // g) + tuple(k)), tuple(range(2, nsp + 2)))
        pads = tuple((d * (kk - 1) - p, d * (kk - 1) - p + op)
                     for kk, d, p, op in zip(k, dilation, padding, output_padding))
        out = ops.conv_general_dilated(x, w, 1, pads, stride, dilation, None, g)
        out = _add_bias(out, bias, nsp)
        return pnp.squeeze(out, axis=0) if unbatched else out
    conv_transpose.__name__ = where
    return conv_transpose


# ------------------------------------------------------------------ pooling
def _pool_geometry(where, sp, k, s, p, d, ceil_mode):
    """Per spatial axis: (output size, extra high padding that ceil_mode adds), checked as torch does."""
    _positive(k, "kernel_size", where)
    _positive(s, "stride", where)
    _positive(d, "dilation", where)
    _nonnegative(p, "padding", where)
    res = []
    for n, kk, ss, pp, dd in zip(sp, k, s, p, d):
        if pp > kk // 2:
            raise ShapeError(f"{where}: padding {tuple(p)} should be at most half of the kernel size {tuple(k)}")
        ext = dd * (kk - 1) + 1
        span = n + 2 * pp - ext
        if span < 0:
            raise ShapeError(f"{where}: the kernel (size {kk}, dilated to {ext}) is larger than the padded input "
                             f"(size {n}, padded to {n + 2 * pp}); input spatial sizes {tuple(sp)}")
        out = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (out - 1) * ss >= n + pp:
            out -= 1          # the last window must start inside the input or its low padding
        res.append((out, max((out - 1) * ss + ext - (n + 2 * pp), 0)))
    return res


def _pool_args(nsp, where, input, kernel_size, stride, padding, dilation, ceil_mode):
    x, unbatched = _batched(input, nsp, where)
    k = _tuple(kernel_size, nsp, "kernel_size", where)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, nsp, "stride",
                                                                                              where)
    p = _tuple(padding, nsp, "padding", where)
    d = _tuple(dilation, nsp, "dilation", where)
    sp = _shape(x)[2:]
    geo = _pool_geometry(where, sp, k, s, p, d, ceil_mode)
    params = dict(window_dimensions=(1, 1) + k, window_strides=(1, 1) + s,
                  padding=((0, 0), (0, 0)) + tuple((pp, pp + extra) for pp, (_, extra) in zip(p, geo)),
                  window_dilation=(1, 1) + d)
    return x, unbatched, params, (k, s, p, geo)


def _flat_spatial_index(x, nsp):
    """Each element's flat index within its (N, C) plane, in x's dtype (exact below 2**24)."""
    shape = _shape(x)
    sp = shape[2:]
    # counted from ones made like x, so the indices land on x's backend and device (a bare iota
    # would use the current backend, which need not be x's)
    ones = ops.full_like(x, 1, sp, np.int64)

    def count(ax):
        return ops.sub(ops.cumsum(ones, axis=ax), 1)
    idx = count(0)
    for ax in range(1, nsp):
        idx = ops.add(ops.mul(idx, sp[ax]), count(ax))
    idx = ops.convert_element_type(idx, ops.dtype_of(x))
    return ops.broadcast_in_dim(idx, shape, tuple(range(2, 2 + nsp)))


def _max_pool(nsp):
    where = f"max_pool{nsp}d"

    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        x, unbatched, params, _ = _pool_args(nsp, where, input, kernel_size, stride, padding, dilation, ceil_mode)
        out = ops.reduce_window_max(x, **params)
        if return_indices:
            idx = ops.convert_element_type(ops.window_select(x, _flat_spatial_index(x, nsp), **params), np.int64)
            idx = ops.stop_gradient(idx)
            if unbatched:
                out, idx = pnp.squeeze(out, axis=0), pnp.squeeze(idx, axis=0)
            return out, idx
        return pnp.squeeze(out, axis=0) if unbatched else out
    max_pool.__name__ = where
    return max_pool


def _max_pool_with_indices(nsp):
    f = _max_pool(nsp)

    def max_pool_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                              return_indices=False):
        return f(input, kernel_size, stride, padding, dilation, ceil_mode, True)
    max_pool_with_indices.__name__ = f"max_pool{nsp}d_with_indices"
    return max_pool_with_indices


def _avg_pool(nsp):
    where = f"avg_pool{nsp}d"

    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        x, unbatched, params, (k, s, p, geo) = _pool_args(nsp, where, input, kernel_size, stride, padding, 1,
                                                          ceil_mode)
        total = ops.reduce_window_sum(x, **params)
        if divisor_override is not None:
            if divisor_override == 0:
                raise ValueError(f"{where}: divisor_override must not be zero")
            out = pnp.true_divide(total, float(divisor_override))
        elif not any(extra for _, extra in geo) and (count_include_pad or not any(p)):
            out = pnp.true_divide(total, float(math.prod(k)))
        else:
            # torch's divisor: the window's cells inside the input plus (count_include_pad) its padding,
            # never the overhang that ceil_mode adds
            sp = _shape(x)[2:]
            if count_include_pad:
                ones = ops.full_like(x, 1, tuple(n + 2 * pp for n, pp in zip(sp, p)), ops.dtype_of(x))
                cpad = tuple((0, extra) for _, extra in geo)
            else:
                ones = ops.full_like(x, 1, sp, ops.dtype_of(x))
                cpad = tuple((pp, pp + extra) for pp, (_, extra) in zip(p, geo))
            count = ops.reduce_window_sum(ones, k, s, cpad, None)
            out = pnp.true_divide(total, ops.broadcast_in_dim(count, _shape(total), tuple(range(2, 2 + nsp))))
        return pnp.squeeze(out, axis=0) if unbatched else out
    avg_pool.__name__ = where
    return avg_pool


def _lp_pool(nsp):
    where = f"lp_pool{nsp}d"
    avg = _avg_pool(nsp)

    def lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        # torch's form: the window mean of x**p times the window size, to the power 1/p
        k = _tuple(kernel_size, nsp, "kernel_size", where)
        out = avg(pnp.power(input, float(norm_type)), kernel_size, stride, 0, ceil_mode)
        return pnp.power(pnp.multiply(out, float(math.prod(k))), 1.0 / float(norm_type))
    lp_pool.__name__ = where
    return lp_pool


def _adaptive_bounds(n, o):
    return [((i * n) // o, -(-((i + 1) * n) // o)) for i in range(o)]


def _adaptive(nsp, kind):
    where = f"adaptive_{kind}_pool{nsp}d"

    def adaptive(input, output_size, return_indices=False):
        if return_indices:
            raise NotImplementedError(f"{where}(return_indices=True) is not supported inside polyfunc transforms")
        x, unbatched = _batched(input, nsp, where)
        sp = _shape(x)[2:]
        osz = (output_size,) * nsp if isinstance(output_size, int) else tuple(output_size)
        if len(osz) != nsp:
            raise ValueError(f"{where}: output_size {osz} needs {nsp} entries")
        osz = tuple(n if o is None else int(o) for n, o in zip(sp, osz))
        _positive(osz, "output_size", where)
        if any(n == 0 for n in sp):
            raise ShapeError(f"{where}: input spatial sizes {sp} must be non-zero")
        if all(n % o == 0 for n, o in zip(sp, osz)):
            # equal windows: one windowed reduction
            k = tuple(n // o for n, o in zip(sp, osz))
            params = dict(window_dimensions=(1, 1) + k, window_strides=(1, 1) + k)
            if kind == "max":
                out = ops.reduce_window_max(x, **params)
            else:
                out = pnp.true_divide(ops.reduce_window_sum(x, **params), float(math.prod(k)))
        else:
            # windows of different sizes: the box is separable, one axis at a time
            out = x
            for ax, (n, o) in enumerate(zip(sp, osz)):
                parts = []
                for lo, hi in _adaptive_bounds(n, o):
                    sl = _axis_slice(out, 2 + ax, lo, hi)
                    parts.append(pnp.max(sl, axis=2 + ax) if kind == "max" else pnp.mean(sl, axis=2 + ax))
                out = pnp.stack(parts, axis=2 + ax)
        return pnp.squeeze(out, axis=0) if unbatched else out
    adaptive.__name__ = where
    return adaptive


def _axis_slice(x, axis, lo, hi):
    s = _shape(x)
    start = [0] * len(s)
    limit = list(s)
    start[axis], limit[axis] = lo, hi
    return ops.slice(x, start, limit)


FUNCTIONAL: dict = {}      # F.<name> -> its implementation
for _n in (1, 2, 3):
    FUNCTIONAL[f"conv{_n}d"] = _conv(_n)
    FUNCTIONAL[f"conv_transpose{_n}d"] = _conv_transpose(_n)
    FUNCTIONAL[f"max_pool{_n}d"] = _max_pool(_n)
    FUNCTIONAL[f"max_pool{_n}d_with_indices"] = _max_pool_with_indices(_n)
    FUNCTIONAL[f"avg_pool{_n}d"] = _avg_pool(_n)
    FUNCTIONAL[f"lp_pool{_n}d"] = _lp_pool(_n)
    FUNCTIONAL[f"adaptive_avg_pool{_n}d"] = _adaptive(_n, "avg")
    FUNCTIONAL[f"adaptive_max_pool{_n}d"] = _adaptive(_n, "max")
del _n

for _name, _fn in FUNCTIONAL.items():
    implements(getattr(F, _name, None))(_fn)
del _name, _fn
adaptive_avg_pool2d = FUNCTIONAL["adaptive_avg_pool2d"]     # F.interpolate's "area" mode (resampling)
