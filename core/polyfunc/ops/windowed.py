"""Windowed reductions (pooling): the sum and the maximum of each window of an array, over
every axis at once (a window of size 1 and stride 1 leaves an axis alone), with strides,
explicit (low, high) padding per axis (negative values crop) and window dilation.

Four primitives, all with the same window parameters:

* ``reduce_window_sum`` -- linear; its transpose spreads the cotangent out by the strides
  (interior padding), pads it by what the windows overhang and sums windows again.
* ``reduce_window_max`` -- its jvp is the tangent at each window's arg-max (the first
  maximum in the window's row-major order, as torch picks it), read by ``window_select``.
* ``window_select(operand, t)`` -- ``t`` at each window's arg-max of ``operand``; linear in
  ``t``, transposed by ``window_scatter``.
* ``window_scatter(operand, s)`` -- adds each ``s`` value into its window's arg-max of
  ``operand`` (an array shaped like ``operand``); linear in ``s``, transposed by
  ``window_select``.

The arg-max positions are piecewise constant in ``operand``, so its tangent contributes
nothing to the last two.  Batching gives the vmapped axis a window of size 1."""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import DTypeError, ShapeError
from ..memo import remembered
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array
from .structural import LinearArg, broadcast_in_dim, moveaxis, ndim_of, pad, shape_of

__all__ = ["reduce_window_sum", "reduce_window_max", "window_select", "window_scatter", "window_output_shape",
           "reduce_window_sum_p", "reduce_window_max_p", "window_select_p", "window_scatter_p"]

reduce_window_sum_p = Primitive("reduce_window_sum")
reduce_window_max_p = Primitive("reduce_window_max")
window_select_p = Primitive("window_select")
window_scatter_p = Primitive("window_scatter")


def _params(x, window_dimensions, window_strides, padding, window_dilation, where):
    """The window parameters as tuples, checked against ``x``'s shape here, where the caller's
    own rank is known (under vmap the primitive sees one more axis)."""
    nd = ndim_of(x)
    wd = tuple(int(k) for k in window_dimensions)
    ws = tuple(int(s) for s in window_strides) if window_strides is not None else (1,) * nd
    pd = tuple((int(lo), int(hi)) for lo, hi in padding) if padding is not None else ((0, 0),) * nd
    dl = tuple(int(d) for d in window_dilation) if window_dilation is not None else (1,) * nd
    params = dict(window_dimensions=wd, window_strides=ws, padding=pd, window_dilation=dl)
    remembered(_check_cache, _check, shape_of(x), wd, ws, pd, dl, where)
    return params


_check_cache: dict = {}


def _check(shape, wd, ws, pd, dl, where):
    return window_output_shape(shape, window_dimensions=wd, window_strides=ws, padding=pd, window_dilation=dl,
                               where=where)


def reduce_window_sum(x: Array, window_dimensions: Sequence[int], window_strides: Sequence[int] | None = None,
                      padding: Sequence[tuple[int, int]] | None = None, window_dilation: Sequence[int] | None = None) -> Array:
    """The sum of each window; parameters have one entry per axis of ``x``."""
    return reduce_window_sum_p.bind(x, **_params(x, window_dimensions, window_strides, padding, window_dilation,
                                             "reduce_window_sum"))


def reduce_window_max(x: Array, window_dimensions: Sequence[int], window_strides: Sequence[int] | None = None,
                      padding: Sequence[tuple[int, int]] | None = None, window_dilation: Sequence[int] | None = None) -> Array:
    """The maximum of each window (padding never wins: it is below every value)."""
    return reduce_window_max_p.bind(x, **_params(x, window_dimensions, window_strides, padding, window_dilation,
                                             "reduce_window_max"))


def window_select(operand: Array, t: Array, window_dimensions: Sequence[int], window_strides: Sequence[int] | None = None,
                  padding: Sequence[tuple[int, int]] | None = None, window_dilation: Sequence[int] | None = None) -> Array:
    return window_select_p.bind(operand, t, **_params(operand, window_dimensions, window_strides, padding,
                                                       window_dilation, "window_select"))


def window_scatter(operand: Array, source: Array, window_dimensions: Sequence[int],
                   window_strides: Sequence[int] | None = None, padding: Sequence[tuple[int, int]] | None = None,
                   window_dilation: Sequence[int] | None = None) -> Array:
    return window_scatter_p.bind(operand, source, **_params(operand, window_dimensions, window_strides, padding,
                                                             window_dilation, "window_scatter"))


def window_output_shape(shape: Sequence[int], *, window_dimensions: Sequence[int], window_strides: Sequence[int],
                        padding: Sequence[tuple[int, int]], window_dilation: Sequence[int],
                        where: str = "reduce_window") -> tuple:

    """The shape of the windowed result; a ShapeError naming the sizes when a window does not fit."""
    nd = len(shape)
    if not (len(window_dimensions) == len(window_strides) == len(padding) == len(window_dilation) == nd):
        raise ShapeError(f"{where}: window sizes {window_dimensions}, strides {window_strides}, padding "
                         f"{padding} and dilation {window_dilation} need one entry per axis of shape "
                         f"{tuple(shape)}")
    for name, vals in (("window size", window_dimensions), ("stride", window_strides),
                       ("window dilation", window_dilation)):
        if any(v < 1 for v in vals):
            raise ShapeError(f"{where}: every {name} must be at least 1, got {tuple(vals)}")
    out = []
    for i, (n, k, s, (lo, hi), d) in enumerate(zip(shape, window_dimensions, window_strides, padding,
                                                   window_dilation)):
        padded, extent = n + lo + hi, (k - 1) * d + 1
        if padded < extent:
            raise ShapeError(f"{where}: the window (size {k}, dilated to {extent}) is larger than the padded "
                             f"input (size {n}, padded to {padded}) along axis {i} of shape {tuple(shape)}")
        out.append((padded - extent) // s + 1)
    return tuple(out)


_ae_cache: dict = {}


def _window_ae(name, kinds):
    def ae(x, *rest, **params):
        return remembered(_ae_cache, _window_ae_uncached, name, kinds, x.shape, x.dtype,
                          tuple((r.shape, r.dtype) for r in rest), tuple(sorted(params.items())))
    return ae


def _window_ae_uncached(name, kinds, shape, dtype, rest, params):
    if dtype.kind not in kinds:
        raise DTypeError(f"{name}: expected a numeric array, got {dtype}")
    params = dict(params)
    out = window_output_shape(shape, where=name, **params)
    if rest:
        (s2, d2), = rest
        want = shape if name == "window_select" else out
        if s2 != want:
            raise ShapeError(f"{name}: the second operand has shape {s2}, expected {want} for an operand of "
                             f"shape {shape}")
        if d2 != dtype:
            raise DTypeError(f"{name}: operands have dtypes {dtype} and {d2}; promote them first")
        if name == "window_scatter":
            return ShapedArray(shape, dtype)
    return ShapedArray(out, dtype)


def _with_batch_axis(params, bd):
    """The window parameters with a trivial window inserted at axis ``bd``."""
    ins = lambda t, v: t[:bd] + (v,) + t[bd:]  # noqa: E731
    return dict(window_dimensions=ins(params["window_dimensions"], 1),
                window_strides=ins(params["window_strides"], 1),
                padding=ins(params["padding"], (0, 0)), window_dilation=ins(params["window_dilation"], 1))


# ------------------------------------------------------------------ reduce_window_sum
def _sum_transpose(ct, x, *, window_dimensions, window_strides, padding, window_dilation):
    shape = x.aval.shape
    cfg, pads = [], []
    for n, k, s, (lo, hi), d in zip(shape, window_dimensions, window_strides, padding, window_dilation):
        extent = (k - 1) * d + 1
        r = (n + lo + hi - extent) % s
        cfg.append((0, 0, s - 1))
        pads.append((extent - 1 - lo, extent - 1 - hi + r))
    spread = pad(ct, 0, cfg) if any(s > 1 for s in window_strides) else ct
    return [reduce_window_sum_p.bind(spread, window_dimensions=window_dimensions,
                                     window_strides=(1,) * len(shape), padding=tuple(pads),
                                     window_dilation=window_dilation)]


AE[reduce_window_sum_p] = _window_ae("reduce_window_sum", "iuf")
JR[reduce_window_sum_p] = lambda p, t, **kw: (reduce_window_sum_p.bind(p[0], **kw),
                                              reduce_window_sum_p.bind(t[0], **kw))
TR[reduce_window_sum_p] = _sum_transpose
BR[reduce_window_sum_p] = lambda v, d, **kw: (reduce_window_sum_p.bind(v[0], **_with_batch_axis(kw, d[0])), d[0])


# ------------------------------------------------------------------ reduce_window_max
AE[reduce_window_max_p] = _window_ae("reduce_window_max", "iuf")
JR[reduce_window_max_p] = lambda p, t, **kw: (reduce_window_max_p.bind(p[0], **kw),
                                              window_select_p.bind(p[0], t[0], **kw))
BR[reduce_window_max_p] = lambda v, d, **kw: (reduce_window_max_p.bind(v[0], **_with_batch_axis(kw, d[0])), d[0])


# ------------------------------------------------------------------ window_select / window_scatter
def _pair_jvp(prim):
    """Linear in the second operand; the first only picks positions (a zero tangent)."""
    def jvp(p, t, **kw):
        out = prim.bind(p[0], p[1], **kw)
        return out, (None if t[1] is None else prim.bind(p[0], t[1], **kw))
    return jvp


def _pair_transpose(other):
    def tr(ct, operand, y, **kw):
        if isinstance(operand, LinearArg):
            raise TypeError("window_select/window_scatter are not linear in the operand that picks the arg-max")
        return [None, other.bind(operand, ct, **kw)]
    return tr


def _pair_batch(prim):
    def batch(v, d, **kw):
        (a, b), (da, db) = v, d
        if da is None or db is None:
            size = shape_of(a)[da] if da is not None else shape_of(b)[db]
        a = moveaxis(a, da, 0) if da is not None else _broadcast_front(a, size)
        b = moveaxis(b, db, 0) if db is not None else _broadcast_front(b, size)
        return prim.bind(a, b, **_with_batch_axis(kw, 0)), 0
    return batch


def _broadcast_front(x, size):
    s = shape_of(x)
    return broadcast_in_dim(x, (size,) + s, tuple(range(1, len(s) + 1)))


AE[window_select_p] = _window_ae("window_select", "iuf")
AE[window_scatter_p] = _window_ae("window_scatter", "iuf")
for _prim, _other in ((window_select_p, window_scatter_p), (window_scatter_p, window_select_p)):
    JR[_prim] = _pair_jvp(_prim)
    TR[_prim] = _pair_transpose(_other)
    BR[_prim] = _pair_batch(_prim)
del _prim, _other
