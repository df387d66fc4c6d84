"""Convolution and windowed-reduction kernels for any Array API library.

The standard has no strided views, so the windows of an operand are built by
slicing: one strided slice per offset inside the window, stacked on a last
axis (``(lead..., *out, K)``, K the window's size).  A convolution is then one
matrix product per feature group over those columns (im2col); the windowed
reductions reduce the last axis.  The standard has no in-place writes either:
padding and dilation go through the ``pad`` kernel, and the scatter of
``window_scatter`` through ``scatter_add`` (both from ``array_api.make_kernels``,
handed in).  Window sizes are small, so K slices per call is cheap next to the
product.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

__all__ = ["make_window_kernels"]


def make_window_kernels(xp: Any, pad: Callable, scatter_add: Callable) -> dict[str, Callable]:
    """The kernels of conv_general_dilated, reduce_window_sum/max, window_select and window_scatter."""

    def padded(x, pads, fill, dilation=None):
        cfg = [(lo, hi, (dilation[i] - 1) if dilation else 0) for i, (lo, hi) in enumerate(pads)]
        if not any(lo or hi or inner for lo, hi, inner in cfg):
            return x
        return pad(x, padding_value=fill, padding_config=cfg)

    def windows(x, out_sp, k, strides, dilation):
        """(lead..., *out_sp, prod(k)): each output position's window, offsets in row-major order."""
        lead = (slice(None),) * (x.ndim - len(out_sp))
        cols = []
        for q in itertools.product(*(range(n) for n in k)):
            cols.append(x[lead + tuple(slice(j * d, j * d + (m - 1) * s + 1, s)
                                       for j, d, m, s in zip(q, dilation, out_sp, strides))])
        return xp.stack(cols, axis=-1)

    def out_size(n, k, s, d):
        return (n - (k - 1) * d - 1) // s + 1

    # ---------------------------------------------------------------- convolution
    def conv_general_dilated(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                             feature_group_count):
        lspec, rspec, ospec = dimension_numbers
        x = xp.permute_dims(lhs, tuple(lspec))                  # (N, C, *spatial)
        w = xp.permute_dims(rhs, tuple(rspec))                  # (O, C/G, *k)
        x = padded(x, ((0, 0), (0, 0)) + tuple(padding), 0, (1, 1) + tuple(lhs_dilation))
        k = tuple(w.shape[2:])
        out_sp = tuple(out_size(n, kk, s, d) for n, kk, s, d in zip(x.shape[2:], k, window_strides, rhs_dilation))
        n, c, o, g = x.shape[0], x.shape[1], w.shape[0], feature_group_count
        p, kk = math.prod(out_sp), math.prod(k)
        win = windows(x, out_sp, k, window_strides, rhs_dilation)           # (N, C, *out, K)
        win = xp.reshape(win, (n, g, c // g, p, kk))
        cols = xp.reshape(xp.permute_dims(win, (1, 0, 3, 2, 4)), (g, n * p, (c // g) * kk))
        wg = xp.permute_dims(xp.reshape(w, (g, o // g, (c // g) * kk)), (0, 2, 1))
        res = xp.reshape(xp.matmul(cols, wg), (g, n, p, o // g))
        res = xp.reshape(xp.permute_dims(res, (1, 0, 3, 2)), (n, o) + out_sp)  # (N, O, *out)
        inv = [0] * len(ospec)
        for i, a in enumerate(ospec):
            inv[a] = i
        return xp.permute_dims(res, tuple(inv))

    # ---------------------------------------------------------------- windowed reductions
    def lowest(dtype):
        return -math.inf if xp.isdtype(dtype, "real floating") else int(xp.iinfo(dtype).min)

    def window_view(x, fill, window_dimensions, window_strides, padding, window_dilation):
        xp_ = padded(x, padding, fill)
        out = tuple(out_size(n, k, s, d) for n, k, s, d in zip(xp_.shape, window_dimensions, window_strides,
                                                                  window_dilation))
        return windows(xp_, out, window_dimensions, window_strides, window_dilation), out, tuple(xp_.shape)

    def reduce_window_sum(x, **params):
        return xp.sum(window_view(x, 0, **params)[0], axis=-1, dtype=x.dtype)

    def reduce_window_max(x, **params):
        return xp.max(window_view(x, lowest(x.dtype), **params)[0], axis=-1)

    def argmax_flat(operand, params):
        """Per output position: the flat index, into the padded operand, of its window's (first) arg-max."""
        win, out, pshape = window_view(operand, lowest(operand.dtype), **params)
        kk = win.shape[-1]
        pick = xp.argmax(win, axis=-1)
        flat = xp.reshape(xp.arange(math.prod(pshape), dtype=xp.int64), pshape)
        fwin = windows(flat, out, params["window_dimensions"], params["window_strides"], params["window_dilation"])
        hit = xp.arange(kk, dtype=pick.dtype) == pick[..., None]          # no take_along_axis before 2024.12
        return xp.sum(xp.where(hit, fwin, xp.zeros_like(fwin)), axis=-1), pshape

    def window_select(operand, t, **params):
        idx, _ = argmax_flat(operand, params)
        tp = xp.reshape(padded(t, params["padding"], 0), (-1,))
        return xp.reshape(xp.take(tp, xp.reshape(idx, (-1,))), idx.shape)

    def window_scatter(operand, source, **params):
        idx, pshape = argmax_flat(operand, params)
        acc = scatter_add(xp.zeros((math.prod(pshape),), dtype=operand.dtype), xp.reshape(idx, (-1,)),
                          xp.reshape(source, (-1,)), axis=0)
        acc = xp.reshape(acc, pshape)
        # back to the operand's shape: the padding cut off, cropped edges zero again
        return padded(acc, tuple((-lo, -hi) for lo, hi in params["padding"]), 0)

    return {"conv_general_dilated": conv_general_dilated, "reduce_window_sum": reduce_window_sum,
            "reduce_window_max": reduce_window_max, "window_select": window_select,
            "window_scatter": window_scatter}
