"""torch kernels of the convolution and windowed-reduction primitives: torch's own
convolution (``torch.convolution``: MKL-DNN on CPU, cuDNN on CUDA) and pooling functions.

Layouts are made canonical (``N C *spatial``) with views; padding that torch's functions do not
take (asymmetric, negative, or beyond half a pooling window) goes through ``F.pad`` first;
input dilation (the transpose of a strided convolution) uses torch's transposed convolution.
Windows over more than three axes, or dilated sums, use ``Tensor.unfold`` views.  Shapes are
checked by the primitives' shape functions first, so bad input fails before any work with an
error naming the sizes."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from polyfunc.plugin import remembered
from polyfunc.ops import conv_output_shape, window_output_shape

_plans: dict = {}
# the dtypes whose weight-gradient kernel is measured faster than the convolution (complex and half not tried)
_WEIGHT_GRAD_DTYPES = (torch.float32, torch.float64)
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_MAX_POOL_IDX = {1: F.max_pool1d_with_indices, 2: F.max_pool2d_with_indices, 3: F.max_pool3d_with_indices}


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _torch_pad(pads):
    """(lo, hi) per axis, first axis first, as F.pad's flat list (last axis first)."""
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return flat


def _conv_plan(ls, rs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers, g):
    out = conv_output_shape(ls, rs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
                            rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers, feature_group_count=g)
    lspec, rspec, ospec = dimension_numbers
    canon = tuple(range(len(ls)))
    lperm = None if tuple(lspec) == canon else list(lspec)
    rperm = None if tuple(rspec) == canon else list(rspec)
    operm = None if tuple(ospec) == canon else _inverse(ospec)
    dilated = any(d > 1 for d in lhs_dilation)
    in_sp = [ls[a] for a in lspec[2:]]
    k_sp = [rs[a] for a in rspec[2:]]
    out_sp = [out[a] for a in ospec[2:]]
    if dilated or (all(s == 1 for s in window_strides) and math.prod(in_sp) < math.prod(out_sp)):
        # conv with input dilation s == torch's transposed conv with stride s (the kernel
        # flipped, in/out exchanged), cropped or zero-extended to the padding asked for.  Taken
        # too for an input smaller than the output, so mostly padding (the convolution a
        # transpose rule makes with a large kernel, as second derivatives through a kernel
        # gradient do): it touches only the input's positions (30x faster in the MAML meta-step)
        o, i = rs[rspec[0]], rs[rspec[1]]
        k = [rs[a] for a in rspec[2:]]
        ext = [(kk - 1) * d + 1 for kk, d in zip(k, rhs_dilation)]
        return ("transposed", lperm, rperm, operm, out, (g, o, i, len(k)), ext)
    sym = all(lo == hi and lo >= 0 for lo, hi in padding)
    conv_pad = [lo for lo, _ in padding] if sym else [0] * len(padding)
    pre_pad = None if sym else _torch_pad(padding)
    if math.prod(k_sp) > math.prod(out_sp) and _is_kernel_gradient(in_sp, k_sp, out_sp, window_strides, padding,
                                                                    rhs_dilation):
        return ("kernel_gradient", lperm, rperm, operm, out, conv_pad, pre_pad)
    return ("plain", lperm, rperm, operm, out, conv_pad, pre_pad)


def _is_kernel_gradient(in_sp, k_sp, out_sp, window_strides, padding, rhs_dilation) -> bool:
    """Whether torch's weight-gradient kernel computes this convolution: read as the gradient
    of a convolution whose stride is our kernel dilation and whose dilation is our stride, the
    "output gradient" (our kernel) must have the size torch derives for that convolution."""
    for n, k, q, s, (lo, hi), d in zip(in_sp, k_sp, out_sp, window_strides, padding, rhs_dilation):
        if (n + lo + hi - s * (q - 1) - 1) // d + 1 != k:
            return False
    return True


def _kernel_gradient(x, w, conv_pad, stride, dilation, g):
    """The convolution of ``x`` (B, G*C, *sp) with a kernel ``w`` (O, C, *k) larger than its
    output, as torch's weight-gradient kernel: the convolution a transpose rule makes for the
    gradient with respect to a kernel.  Read with C as the batch, B as input channels and ``w``
    as the output gradient, it is ``d weight`` of a convolution with ``g`` groups whose stride is
    our kernel dilation and whose dilation is our stride.  (torch.convolution runs it as a
    convolution with a huge kernel: 2.5-3x slower in the MAML meta-step's blocks.)"""
    b, c = x.shape[0], x.shape[1] // g
    sp = tuple(x.shape[2:])
    if g == 1:
        xt = x.transpose(0, 1)
    else:
        xt = x.reshape((b, g, c) + sp).permute((2, 1, 0) + tuple(range(3, 3 + len(sp)))).reshape((c, g * b) + sp)
    grad_out = w.transpose(0, 1)                                  # (C, O, *k)
    o = w.shape[0]
    out_sp = [(n + 2 * p - dl * (k - 1) - 1) // st + 1
              for n, p, k, st, dl in zip(sp, conv_pad, w.shape[2:], stride, dilation)]
    weight = x.new_empty((o, b) + tuple(out_sp))                 # only its shape is read
    grad_w = torch.ops.aten.convolution_backward(grad_out, xt, weight, None, list(dilation), conv_pad,
                                                 list(stride), False, [0] * len(sp), g,
                                                 [False, True, False])[1]
    return grad_w.transpose(0, 1)


def make_conv_kernels() -> dict:
    """The kernels of conv_general_dilated, reduce_window_sum/max, window_select/scatter."""

    def conv_general_dilated(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                             dimension_numbers, feature_group_count):
        plan = remembered(_plans, _conv_plan, tuple(lhs.shape), tuple(rhs.shape), window_strides, padding,
                          lhs_dilation, rhs_dilation, dimension_numbers, feature_group_count)
        kind, lperm, rperm, operm, out_shape = plan[:5]
        x = lhs if lperm is None else lhs.permute(lperm)
        w = rhs if rperm is None else rhs.permute(rperm)
        g = feature_group_count
        if kind == "kernel_gradient" and x.dtype not in _WEIGHT_GRAD_DTYPES:
            kind = "plain"
        if kind == "plain":
            conv_pad, pre_pad = plan[5:]
            if pre_pad is not None:
                x = F.pad(x, pre_pad)
            res = torch.convolution(x, w, None, list(window_strides), conv_pad, list(rhs_dilation), False,
                                    [0] * len(conv_pad), g)
        elif kind == "kernel_gradient":
            conv_pad, pre_pad = plan[5:]
            if pre_pad is not None:
                x = F.pad(x, pre_pad)
            res = _kernel_gradient(x, w, conv_pad, window_strides, rhs_dilation, g)
        else:
            (g, o, i, nsp), ext = plan[5:]
            # torch's transposed weight (G*I, O/G, *k): the kernel flipped, in/out exchanged per group
            k = tuple(w.shape[2:])
            wt = w.flip(list(range(2, 2 + nsp))).reshape((g, o // g, i) + k).transpose(1, 2).reshape(
                (g * i, o // g) + k)
            res = torch.convolution(x, wt, None, list(lhs_dilation), [0] * nsp, list(rhs_dilation), True,
                                    [0] * nsp, g)
            res = _crop_pad(res, padding, ext)
            if any(s > 1 for s in window_strides):
                res = res[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in window_strides)]
        return res if operm is None else res.permute(operm)

    # ---------------------------------------------------------------- windowed reductions
    def lowest(dtype):
        return -math.inf if dtype.is_floating_point else torch.iinfo(dtype).min

    def window_plan(shape, window_dimensions, window_strides, padding, window_dilation):
        out = window_output_shape(shape, window_dimensions=window_dimensions, window_strides=window_strides,
                                  padding=padding, window_dilation=window_dilation)
        active = [i for i in range(len(shape)) if window_dimensions[i] != 1 or window_strides[i] != 1
                  or padding[i] != (0, 0)]
        rest = [i for i in range(len(shape)) if i not in active]
        perm = rest + active
        native = 1 <= len(active) <= 3
        pads = [padding[i] for i in active]
        # torch's pooling pads at most half a window on each side, symmetric: more goes through F.pad
        sym = all(lo == hi and 0 <= lo <= window_dimensions[i] // 2 for i, (lo, hi) in zip(active, pads))
        return dict(out=out, active=active, perm=perm, inv=_inverse(perm), native=native,
                    k=[window_dimensions[i] for i in active], s=[window_strides[i] for i in active],
                    d=[window_dilation[i] for i in active], pads=pads, sym=sym,
                    lead=[shape[i] for i in rest])

    def as_planes(x, plan, fill):
        """``x`` as (M, 1, *active axes), padded by F.pad when torch's own padding cannot do it."""
        y = x.permute(plan["perm"]) if plan["perm"] != list(range(x.ndim)) else x
        y = y.reshape((-1, 1) + tuple(y.shape[len(plan["lead"]):]))
        if plan["sym"]:
            return y, [lo for lo, _ in plan["pads"]]
        return F.pad(y, _torch_pad(plan["pads"]), value=fill), [0] * len(plan["pads"])

    def from_planes(y, plan):
        y = y.reshape(tuple(plan["lead"]) + tuple(y.shape[2:]))
        return y.permute(plan["inv"]) if plan["perm"] != list(range(y.ndim)) else y

    def unfolded(x, fill, window_dimensions, window_strides, padding, window_dilation):
        """(*out, *window) view of ``x`` padded: the general path."""
        y = F.pad(x, _torch_pad(padding), value=fill) if any(lo or hi for lo, hi in padding) else x
        nd = x.ndim
        for i in range(nd):
            ext = (window_dimensions[i] - 1) * window_dilation[i] + 1
            y = y.unfold(i, ext, window_strides[i])
            if window_dilation[i] > 1:
                y = y[..., ::window_dilation[i]]
        return y

    def get_plan(x, params):
        return remembered(_plans, window_plan, tuple(x.shape), params["window_dimensions"],
                          params["window_strides"], params["padding"], params["window_dilation"])

    def reduce_window_max(x, **params):
        plan = get_plan(x, params)
        if not plan["active"]:
            return x.clone()
        if plan["native"] and x.dtype.is_floating_point:
            y, pad = as_planes(x, plan, lowest(x.dtype))
            n = len(plan["k"])
            return from_planes(_MAX_POOL[n](y, plan["k"], plan["s"], pad, plan["d"]), plan)
        y = unfolded(x, lowest(x.dtype), **params)
        return y.amax(dim=tuple(range(x.ndim, 2 * x.ndim)))

    def reduce_window_sum(x, **params):
        plan = get_plan(x, params)
        if not plan["active"]:
            return x.clone()
        n = len(plan["k"])
        if plan["native"] and x.dtype.is_floating_point and all(d == 1 for d in plan["d"]) and n >= 2:
            y, pad = as_planes(x, plan, 0)
            pool = F.avg_pool2d if n == 2 else F.avg_pool3d
            return from_planes(pool(y, plan["k"], plan["s"], pad, False, True, 1), plan)
        y = unfolded(x, 0, **params)
        return y.sum(dim=tuple(range(x.ndim, 2 * x.ndim)), dtype=x.dtype)

    def argmax_flat(operand, params):
        """(planes view info, flat index into each padded plane of its window's arg-max)."""
        plan = get_plan(operand, params)
        y, pad = as_planes(operand, plan, lowest(operand.dtype))
        n = len(plan["k"])
        if n == 0 or n > 3 or not operand.dtype.is_floating_point:
            return plan, None, pad
        _, idx = _MAX_POOL_IDX[n](y, plan["k"], plan["s"], pad, plan["d"], False, True)
        return plan, idx, pad

    def general_flat(operand, params):
        """Flat index into the padded operand of each window's arg-max (the general path)."""
        win = unfolded(operand, lowest(operand.dtype), **params)
        nd = operand.ndim
        out = tuple(win.shape[:nd])
        pick = win.reshape(out + (-1,)).argmax(-1, keepdim=True)
        pshape = [n + lo + hi for n, (lo, hi) in zip(operand.shape, params["padding"])]
        flat = torch.arange(math.prod(pshape), device=operand.device).reshape(pshape)
        fwin = unfolded(flat, 0, params["window_dimensions"], params["window_strides"], ((0, 0),) * nd,
                        params["window_dilation"])
        return fwin.reshape(out + (-1,)).gather(-1, pick)[..., 0], pshape

    def window_select(operand, t, **params):
        plan, idx, pad = argmax_flat(operand, params)
        if idx is None:
            flat, pshape = general_flat(operand, params)
            tp = F.pad(t, _torch_pad(params["padding"])) if any(lo or hi for lo, hi in params["padding"]) else t
            return tp.reshape(-1)[flat]
        ty, _ = as_planes(t, plan, 0)
        # torch's indices count within each padded-by-torch plane as if unpadded when it pads itself:
        # they index the unpadded plane (its own padding never wins)
        got = ty.flatten(2).gather(2, idx.flatten(2)).reshape(idx.shape)
        return from_planes(got, plan)

    def window_scatter(operand, source, **params):
        plan, idx, pad = argmax_flat(operand, params)
        if idx is None:
            flat, pshape = general_flat(operand, params)
            acc = torch.zeros(math.prod(pshape), dtype=source.dtype, device=source.device)
            acc.index_add_(0, flat.reshape(-1), source.reshape(-1))
            acc = acc.reshape(pshape)
            return _uncrop(acc, tuple(operand.shape), params["padding"])
        ty, _ = as_planes(operand, plan, 0)           # the planes' shape (padded by F.pad when needed)
        acc = torch.zeros(ty.shape[:2] + (math.prod(ty.shape[2:]),), dtype=source.dtype, device=source.device)
        src, _ = _source_planes(source, plan)
        acc.scatter_add_(2, idx.flatten(2), src.flatten(2))
        acc = acc.reshape(ty.shape)
        if not plan["sym"]:
            acc = _uncrop_planes(acc, plan["pads"])
        return from_planes(acc, plan)

    return {"conv_general_dilated": conv_general_dilated, "reduce_window_sum": reduce_window_sum,
            "reduce_window_max": reduce_window_max, "window_select": window_select,
            "window_scatter": window_scatter}


def _crop_pad(res, padding, ext):
    """The full transposed-convolution result (every position a kernel touches: offsets
    -(ext-1) .. (n-1)*s of the dilated input) cut or zero-extended to the padded frame's
    valid positions."""
    nsp = len(padding)
    sl, pads = [slice(None), slice(None)], []
    for j in range(nsp):
        lo, hi = padding[j]
        full = res.shape[2 + j]                      # (n-1)*s + ext: offsets -(ext-1) .. (n-1)*s
        start = ext[j] - 1 - lo                      # position of the padded frame's first element
        stop = full - (ext[j] - 1 - hi)
        a, b = max(start, 0), min(stop, full)
        sl.append(slice(a, b))
        pads.append((max(-start, 0), max(stop - full, 0)))
    res = res[tuple(sl)]
    if any(lo or hi for lo, hi in pads):
        res = F.pad(res, _torch_pad(pads))
    return res


def _source_planes(source, plan):
    y = source.permute(plan["perm"]) if plan["perm"] != list(range(source.ndim)) else source
    return y.reshape((-1, 1) + tuple(y.shape[len(plan["lead"]):])), None


def _uncrop_planes(acc, pads):
    """Cut F.pad's padding (or restore cropped edges as zeros) off (M, 1, *active) planes."""
    return F.pad(acc, _torch_pad([(-lo, -hi) for lo, hi in pads]))


def _uncrop(acc, shape, pads):
    return F.pad(acc, _torch_pad([(-lo, -hi) for lo, hi in pads]))
