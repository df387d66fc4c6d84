"""Kernels of the convolution and windowed-reduction primitives for any module with NumPy's
API (NumPy here, CuPy through the same factory): a strided window view of the padded input
and one GEMM (im2col) per feature group, or one reduction over the window axes.  Shapes are
checked by the primitives' own shape functions first, so bad input fails before any work
with an error naming the sizes."""
from __future__ import annotations

import math

from polyfunc.ops import conv_output_shape, window_output_shape
from polyfunc.plugin import remembered


def make_conv_kernels(xp) -> dict:
    """The kernels of conv_general_dilated, reduce_window_sum/max, window_select/scatter."""
    plans: dict = {}

    def padded(x, pads, fill, dilation=None):
        """``x`` spread out by ``dilation`` (zeros between) and padded by ``pads`` (negative crops)."""
        if dilation is not None and any(d > 1 for d in dilation):
            shape = tuple((n - 1) * d + 1 if n else 0 for n, d in zip(x.shape, dilation))
            spread = xp.zeros(shape, dtype=x.dtype)
            spread[tuple(slice(None, None, d) for d in dilation)] = x
            x = spread
        if not any(lo or hi for lo, hi in pads):
            return x
        if any(lo < 0 or hi < 0 for lo, hi in pads):
            x = x[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, x.shape))]
            pads = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
        if not any(lo or hi for lo, hi in pads):
            return x
        out = xp.full(tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pads)), fill, dtype=x.dtype)
        out[tuple(slice(lo, lo + n) for n, (lo, hi) in zip(x.shape, pads))] = x
        return out

    def windows(x, out_sp, k, strides, dilation):
        """A view (lead..., *out, *k) of ``x`` (lead..., *spatial): each output position's window."""
        lead = x.ndim - len(out_sp)
        st = x.strides
        shape = x.shape[:lead] + tuple(out_sp) + tuple(k)
        sp_st = st[lead:]
        view = xp.lib.stride_tricks.as_strided(x, shape, st[:lead] + tuple(a * s for a, s in zip(sp_st, strides)) +
                          tuple(a * d for a, d in zip(sp_st, dilation)))
        if hasattr(view, "setflags"):       # NumPy: windows overlap, so the view must never be written
            view.setflags(write=False)
        return view

    # ---------------------------------------------------------------- convolution
    def conv_general_dilated(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                             feature_group_count):
        out_shape = remembered(plans, _conv_shape, lhs.shape, rhs.shape, window_strides, padding, lhs_dilation,
                               rhs_dilation, dimension_numbers, feature_group_count)
        lspec, rspec, ospec = dimension_numbers
        x = lhs.transpose(lspec)
        w = rhs.transpose(rspec)
        nsp = x.ndim - 2
        x = padded(x, ((0, 0), (0, 0)) + tuple(padding), 0, (1, 1) + tuple(lhs_dilation))
        out_sp = tuple(out_shape[a] for a in ospec[2:])
        k = w.shape[2:]
        n, c = x.shape[:2]
        o = w.shape[0]
        g = feature_group_count
        p, kk = math.prod(out_sp), math.prod(k)
        win = windows(x, out_sp, k, window_strides, rhs_dilation)        # (N, C, *out, *k)
        sp_axes = tuple(range(2, 2 + nsp))
        k_axes = tuple(range(2 + nsp, 2 + 2 * nsp))
        if g == 1:
            cols = win.transpose((0,) + sp_axes + (1,) + k_axes).reshape(n * p, c * kk)     # im2col
            res = (cols @ w.reshape(o, c * kk).T).reshape((n,) + out_sp + (o,))
            res = res.transpose((0, nsp + 1) + tuple(range(1, nsp + 1)))
        else:
            win = win.reshape((n, g, c // g) + win.shape[2:])
            cols = win.transpose((1, 0) + tuple(a + 1 for a in sp_axes) + (2,) + tuple(a + 1 for a in k_axes))
            cols = cols.reshape(g, n * p, (c // g) * kk)
            wg = w.reshape(g, o // g, (c // g) * kk).transpose(0, 2, 1)
            res = xp.matmul(cols, wg).reshape((g, n) + out_sp + (o // g,))               # (G, N, *out, O/G)
            res = res.transpose((1, 0, nsp + 2) + tuple(range(2, nsp + 2))).reshape((n, o) + out_sp)
        inv = [0] * len(ospec)
        for i, a in enumerate(ospec):
            inv[a] = i
        return res.transpose(inv)

    # ---------------------------------------------------------------- windowed reductions
    def lowest(dtype):
        return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min

    def window_view(x, fill, window_dimensions, window_strides, padding, window_dilation):
        out = remembered(plans, _window_shape, x.shape, window_dimensions, window_strides, padding,
                         window_dilation)
        xp_ = padded(x, padding, fill)
        return windows(xp_, out, window_dimensions, window_strides, window_dilation), out, xp_.shape

    def window_axes(nd):
        return tuple(range(nd, 2 * nd))

    def reduce_window_sum(x, **params):
        win, out, _ = window_view(x, 0, **params)
        return win.sum(axis=window_axes(x.ndim), dtype=x.dtype)

    def reduce_window_max(x, **params):
        win, out, _ = window_view(x, lowest(x.dtype), **params)
        return win.max(axis=window_axes(x.ndim))

    def argmax_flat(operand, params):
        """Per output position: the flat index, into the padded operand, of its window's arg-max."""
        win, out, pshape = window_view(operand, lowest(operand.dtype), **params)
        kk = math.prod(params["window_dimensions"])
        pick = xp.argmax(win.reshape(tuple(out) + (kk,)), axis=-1)
        flat = xp.arange(math.prod(pshape)).reshape(pshape)
        fwin = windows(flat, out, params["window_dimensions"], params["window_strides"],
                       params["window_dilation"])
        return xp.take_along_axis(fwin.reshape(tuple(out) + (kk,)), pick[..., None], axis=-1)[..., 0], pshape

    def window_select(operand, t, **params):
        idx, pshape = argmax_flat(operand, params)
        tp = padded(t, params["padding"], 0)
        return tp.reshape(-1)[idx]

    def window_scatter(operand, source, **params):
        idx, pshape = argmax_flat(operand, params)
        size = math.prod(pshape)
        if xp.__name__ == "numpy":
            acc = xp.bincount(idx.reshape(-1), weights=source.reshape(-1), minlength=size)
            acc = acc.astype(operand.dtype, copy=False)
        else:
            acc = xp.zeros(size, dtype=operand.dtype)
            xp.add.at(acc, idx.reshape(-1), source.reshape(-1))
        acc = acc.reshape(pshape)
        if not any(lo or hi for lo, hi in params["padding"]):
            return acc
        return _uncrop(acc, operand.shape, params["padding"])

    def _uncrop(acc, shape, pads):
        """The padded accumulator back to the operand's shape: padding cut off, cropped edges zero."""
        out = xp.zeros(shape, dtype=acc.dtype)
        src, dst = [], []
        for (lo, hi), n, m in zip(pads, shape, acc.shape):
            src.append(slice(max(lo, 0), m - max(hi, 0)))
            dst.append(slice(max(-lo, 0), n - max(-hi, 0)))
        out[tuple(dst)] = acc[tuple(src)]
        return out

    return {"conv_general_dilated": conv_general_dilated, "reduce_window_sum": reduce_window_sum,
            "reduce_window_max": reduce_window_max, "window_select": window_select,
            "window_scatter": window_scatter}



def _conv_shape(ls, rs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers, fgc):
    return conv_output_shape(ls, rs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
                             rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
                             feature_group_count=fgc)


def _window_shape(shape, window_dimensions, window_strides, padding, window_dilation):
    return window_output_shape(shape, window_dimensions=window_dimensions, window_strides=window_strides,
                               padding=padding, window_dilation=window_dilation)
