"""conv_general_dilated: an N-d convolution (cross-correlation) with window strides, explicit
(low, high) padding per spatial axis (negative values crop), input (lhs) dilation, kernel (rhs)
dilation, feature groups and a layout given as dimension numbers.

Dimension numbers are three tuples of axis indices, ``(lhs_spec, rhs_spec, out_spec)``:
``lhs_spec = (batch, feature, *spatial)`` of the input, ``rhs_spec = (out_feature,
in_feature, *spatial)`` of the kernel, ``out_spec = (batch, feature, *spatial)`` of the
result.  Strings such as ``("NHWC", "HWIO", "NHWC")`` are accepted by ``conv_general_dilated``
and turned into that form.  The canonical layout is ``N C *spatial`` / ``O I *spatial``.

All rules are written with the primitive itself: the jvp is bilinear, the transpose with
respect to the input is a convolution of the cotangent with the flipped kernel (its strides
become input dilation), the transpose with respect to the kernel is a convolution of the input
with the cotangent (strides and kernel dilation swap roles), and batching folds a vmapped axis
into the batch axis (input only) or into feature groups (per-sample kernels)."""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import DTypeError, ShapeError
from ..memo import remembered
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array
from .structural import LinearArg, ndim_of, reshape, rev, shape_of, transpose

__all__ = ["conv_general_dilated", "conv_general_dilated_p", "conv_dimension_numbers", "conv_output_shape"]

conv_general_dilated_p = Primitive("conv_general_dilated")

# layout strings (``("NHWC", "HWIO", "NHWC")``) or axis-index tuples, for input, kernel and output
ConvDimensionNumbers = tuple[str, str, str] | tuple[Sequence[int], Sequence[int], Sequence[int]]



# ------------------------------------------------------------------ parameters
def _spec_of(s, kind: str) -> tuple:
    """One layout string (``"NCHW"``, ``"OIHW"``, ``"NHWC"``...) as axis indices (batch or
    out-feature, feature or in-feature, *spatial in the order the string's spatial letters
    appear in its canonical partner)."""
    if kind == "lhs":
        first, second = "N", "C"
    else:
        first, second = "O", "I"
    if first not in s or second not in s or len(set(s)) != len(s):
        raise ValueError(f"conv_general_dilated: layout {s!r} needs one {first!r}, one {second!r} and distinct "
                         f"spatial letters")
    return (s.index(first), s.index(second))


def conv_dimension_numbers(ndim: int, dimension_numbers: ConvDimensionNumbers | None = None) -> tuple:
    """Dimension numbers as ``(lhs_spec, rhs_spec, out_spec)`` tuples of axis indices.  ``None``
    means the canonical ``N C *spatial`` / ``O I *spatial`` layout; strings name each axis."""
    if dimension_numbers is None:
        c = tuple(range(ndim))
        return (c, c, c)
    lhs, rhs, out = dimension_numbers
    if isinstance(lhs, str):
        if not (len(lhs) == len(rhs) == len(out) == ndim):
            raise ValueError(f"conv_general_dilated: layouts {dimension_numbers} do not all have {ndim} letters")
        lspec = _spec_of(lhs, "lhs")
        rspec = _spec_of(rhs, "rhs")
        ospec = _spec_of(out, "lhs")
        spatial = [ch for ch in lhs if ch not in "NC"]
        # a string lhs layout comes with string (or letter-sequence) rhs and out layouts: _spec_of
        # above found their letters; mypy cannot narrow the other two members of the triple
        if (sorted(spatial) != sorted(ch for ch in rhs if ch not in "OI")  # type: ignore[operator]
                or sorted(spatial) != sorted(ch for ch in out if ch not in "NC")):  # type: ignore[operator]
            raise ValueError(f"conv_general_dilated: layouts {dimension_numbers} name different spatial axes")
        return (lspec + tuple(lhs.index(ch) for ch in spatial), rspec + tuple(rhs.index(ch) for ch in spatial),
                ospec + tuple(out.index(ch) for ch in spatial))
    specs = tuple(tuple(int(i) for i in s) for s in (lhs, rhs, out))
    for s in specs:
        if sorted(s) != list(range(ndim)):
            raise ValueError(f"conv_general_dilated: dimension numbers {dimension_numbers} are not permutations "
                             f"of the {ndim} axes")
    return specs


def _tuple_of(v, n, name):
    t = (int(v),) * n if isinstance(v, int) else tuple(int(i) for i in v)
    if len(t) != n:
        raise ValueError(f"conv_general_dilated: {name} {v} has {len(t)} entries for {n} spatial dimension(s)")
    return t


def conv_general_dilated(lhs: Array, rhs: Array, window_strides: int | Sequence[int] | None = None,
                         padding: int | Sequence[int | Sequence[int]] | None = None,
                         lhs_dilation: int | Sequence[int] | None = None, rhs_dilation: int | Sequence[int] | None = None,
                         dimension_numbers: ConvDimensionNumbers | None = None, feature_group_count: int = 1) -> Array:
    """Convolve ``lhs`` (input) with ``rhs`` (kernel).  ``padding``: one ``(low, high)`` pair per
    spatial axis (or an int for all); dilations and strides: an int or one per spatial axis."""
    nd = ndim_of(lhs)
    nsp = nd - 2
    if nsp < 1:
        raise ShapeError(f"conv_general_dilated: the input needs a batch, a feature and at least one spatial "
                         f"axis; got shape {shape_of(lhs)}")
    dn = conv_dimension_numbers(nd, dimension_numbers)
    strides = _tuple_of(1 if window_strides is None else window_strides, nsp, "window_strides")
    if padding is None:
        padding = 0
    if isinstance(padding, int):
        pads = ((padding, padding),) * nsp
    else:
        pads = tuple((int(p), int(p)) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in padding)
        if len(pads) != nsp:
            raise ValueError(f"conv_general_dilated: padding {padding} has {len(pads)} entries for {nsp} spatial "
                             f"dimension(s)")
    ld = _tuple_of(1 if lhs_dilation is None else lhs_dilation, nsp, "lhs_dilation")
    rd = _tuple_of(1 if rhs_dilation is None else rhs_dilation, nsp, "rhs_dilation")
    return conv_general_dilated_p.bind(lhs, rhs, window_strides=strides, padding=pads, lhs_dilation=ld,
                                       rhs_dilation=rd, dimension_numbers=dn,
                                       feature_group_count=int(feature_group_count))


def conv_output_shape(lhs_shape: Sequence[int], rhs_shape: Sequence[int], *, window_strides: Sequence[int],
                      padding: Sequence[tuple[int, int]], lhs_dilation: Sequence[int], rhs_dilation: Sequence[int],
                      dimension_numbers: tuple[Sequence[int], Sequence[int], Sequence[int]],
                      feature_group_count: int) -> tuple:
    """The result's shape; a ShapeError naming the sizes when the operands do not fit."""
    lspec, rspec, ospec = dimension_numbers
    nd = len(lhs_shape)
    nsp = nd - 2
    where = "conv_general_dilated"
    if len(rhs_shape) != nd or not (len(lspec) == len(rspec) == len(ospec) == nd):
        raise ShapeError(f"{where}: the input of shape {tuple(lhs_shape)} and the kernel of shape "
                         f"{tuple(rhs_shape)} must have the same rank ({nd}: batch, channels and {nsp} spatial)")
    if not (len(window_strides) == len(padding) == len(lhs_dilation) == len(rhs_dilation) == nsp):
        raise ShapeError(f"{where}: strides, padding and dilations need one entry per spatial axis ({nsp})")
    for name, vals in (("stride", window_strides), ("input dilation", lhs_dilation),
                       ("kernel dilation", rhs_dilation)):
        if any(v < 1 for v in vals):
            raise ShapeError(f"{where}: every {name} must be at least 1, got {tuple(vals)}")
    g = feature_group_count
    n, c = lhs_shape[lspec[0]], lhs_shape[lspec[1]]
    o, i = rhs_shape[rspec[0]], rhs_shape[rspec[1]]
    if g < 1:
        raise ShapeError(f"{where}: groups must be at least 1, got {g}")
    if c % g:
        raise ShapeError(f"{where}: groups={g} does not divide the {c} input channels (input of shape "
                         f"{tuple(lhs_shape)})")
    if o % g:
        raise ShapeError(f"{where}: groups={g} does not divide the {o} output channels (kernel of shape "
                         f"{tuple(rhs_shape)})")
    if i * g != c:
        raise ShapeError(f"{where}: with groups={g}, a kernel of shape {tuple(rhs_shape)} expects an input with "
                         f"{i * g} channels, but the input of shape {tuple(lhs_shape)} has {c} channels")
    out = [0] * nd
    out[ospec[0]], out[ospec[1]] = n, o
    for j in range(nsp):
        size = lhs_shape[lspec[2 + j]]
        k = rhs_shape[rspec[2 + j]]
        lo, hi = padding[j]
        padded = (size - 1) * lhs_dilation[j] + 1 + lo + hi if size else lo + hi
        extent = (k - 1) * rhs_dilation[j] + 1
        if k < 1 or padded < extent:
            raise ShapeError(f"{where}: the kernel (size {k}, dilated to {extent}) is larger than the padded "
                             f"input (size {size}, padded to {padded}) along spatial axis {j}; input of shape "
                             f"{tuple(lhs_shape)}, kernel of shape {tuple(rhs_shape)}")
        out[ospec[2 + j]] = (padded - extent) // window_strides[j] + 1
    return tuple(out)


_ae_cache: dict = {}


def _conv_ae_uncached(ls, rs, ld, rd, params):
    if ld != rd:
        raise DTypeError(f"conv_general_dilated: the input is {ld} and the kernel {rd}; promote them first")
    if ld.kind not in "fc":
        raise DTypeError(f"conv_general_dilated: expected floating-point operands, got {ld}")
    return ShapedArray(conv_output_shape(ls, rs, **dict(params)), ld)


def _conv_ae(lhs, rhs, **params):
    return remembered(_ae_cache, _conv_ae_uncached, lhs.shape, rhs.shape, lhs.dtype, rhs.dtype,
                      tuple(sorted(params.items())))


# ------------------------------------------------------------------ rules
def _bind(lhs, rhs, **params):
    return conv_general_dilated_p.bind(lhs, rhs, **params)


def _canonical(nd):
    c = tuple(range(nd))
    return (c, c, c)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _conv_jvp(pr, t, **params):
    x, w = pr
    tx, tw = t
    out = _bind(x, w, **params)
    parts = []
    if tx is not None:
        parts.append(_bind(tx, w, **params))
    if tw is not None:
        parts.append(_bind(x, tw, **params))
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _remainders(in_sp, k_sp, window_strides, padding, lhs_dilation, rhs_dilation):
    """Per spatial axis: (kernel extent, (padded size - extent) mod stride)."""
    res = []
    for n, k, s, (lo, hi), ld, rd in zip(in_sp, k_sp, window_strides, padding, lhs_dilation, rhs_dilation):
        extent = (k - 1) * rd + 1
        padded = (n - 1) * ld + 1 + lo + hi
        res.append((extent, (padded - extent) % s))
    return res


def _conv_transpose_rule(ct, x, w, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                         feature_group_count):
    lspec, rspec, ospec = dimension_numbers
    nd = len(lspec)
    g = feature_group_count
    canon = _canonical(nd)
    ct_c = transpose(ct, ospec)                     # (N, O, *out)
    xs = x.aval.shape if isinstance(x, LinearArg) else shape_of(x)
    ws = w.aval.shape if isinstance(w, LinearArg) else shape_of(w)
    in_sp = [xs[a] for a in lspec[2:]]
    k_sp = [ws[a] for a in rspec[2:]]
    o, i = ws[rspec[0]], ws[rspec[1]]
    rem = _remainders(in_sp, k_sp, window_strides, padding, lhs_dilation, rhs_dilation)
    ct_x = ct_w = None
    if isinstance(x, LinearArg):
        # the flipped kernel with in/out channels exchanged inside each group: (G*I, O/G, *k)
        w_c = transpose(w, rspec)
        w_c = reshape(w_c, (g, o // g, i) + tuple(k_sp))
        w_c = transpose(w_c, (0, 2, 1) + tuple(range(3, nd + 1)))
        w_c = rev(reshape(w_c, (g * i, o // g) + tuple(k_sp)), tuple(range(2, nd)))
        pads = tuple((e - 1 - lo, e - 1 - hi + r) for (e, r), (lo, hi) in zip(rem, padding))
        res = _bind(ct_c, w_c, window_strides=lhs_dilation, padding=pads, lhs_dilation=window_strides,
                    rhs_dilation=rhs_dilation, dimension_numbers=canon, feature_group_count=g)
        ct_x = transpose(res, _inverse(lspec))
    if isinstance(w, LinearArg):
        n, c = xs[lspec[0]], xs[lspec[1]]
        # the input with its batch as features (grouped) and its channels of one group as batch
        x_c = transpose(x, lspec)
        if g > 1:
            x_c = reshape(x_c, (n, g, c // g) + tuple(in_sp))
            x_c = reshape(transpose(x_c, (2, 1, 0) + tuple(range(3, nd + 1))), (c // g, g * n) + tuple(in_sp))
        else:
            x_c = transpose(x_c, (1, 0) + tuple(range(2, nd)))
        ct_r = transpose(ct_c, (1, 0) + tuple(range(2, nd)))         # (O, N, *out)
        pads = tuple((lo, hi - r) for (_, r), (lo, hi) in zip(rem, padding))
        res = _bind(x_c, ct_r, window_strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
                    rhs_dilation=window_strides, dimension_numbers=canon, feature_group_count=g)
        res = transpose(res, (1, 0) + tuple(range(2, nd)))            # (O, C/G, *k)
        ct_w = transpose(res, _inverse(rspec))
    return [ct_x, ct_w]


def _front_canonical(v, spec, bdim):
    """``v`` in the canonical layout with its batch axis first."""
    return transpose(v, (bdim,) + tuple(s + (s >= bdim) for s in spec))


def _conv_batch(v, d, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                feature_group_count):
    x, w = v
    bx, bw = d
    lspec, rspec, ospec = dimension_numbers
    nd = len(lspec)
    g = feature_group_count
    canon = _canonical(nd)
    params = dict(window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
                  rhs_dilation=rhs_dilation, dimension_numbers=canon)
    if bx is not None:
        x_c = _front_canonical(x, lspec, bx)             # (B, N, C, *sp)
        b = shape_of(x_c)[0]
    if bw is not None:
        w_c = _front_canonical(w, rspec, bw)             # (B, O, I, *k)
        b = shape_of(w_c)[0]
    if bx is not None and bw is None:
        xs = shape_of(x_c)
        out = _bind(reshape(x_c, (xs[0] * xs[1],) + xs[2:]), transpose(w, rspec), feature_group_count=g,
                    **params)
        os_ = shape_of(out)
        out = reshape(out, (b, xs[1]) + os_[1:])
    elif bw is not None and bx is None:
        ws = shape_of(w_c)
        o = ws[1]
        # out features ordered (group, sample, channel of the group) so groups stay contiguous
        w2 = reshape(w_c, (b, g, o // g) + ws[2:])
        w2 = reshape(transpose(w2, (1, 0) + tuple(range(2, nd + 2))), (g * b * (o // g),) + ws[2:])
        out = _bind(transpose(x, lspec), w2, feature_group_count=g, **params)
        os_ = shape_of(out)
        out = reshape(out, (os_[0], g, b, o // g) + os_[2:])
        out = transpose(out, (2, 0, 1) + tuple(range(3, nd + 2)))
        out = reshape(out, (b, os_[0], o) + os_[2:])
    else:
        xs, ws = shape_of(x_c), shape_of(w_c)
        x2 = transpose(x_c, (1, 0) + tuple(range(2, nd + 1)))          # (N, B, C, *sp)
        x2 = reshape(x2, (xs[1], b * xs[2]) + xs[3:])
        w2 = reshape(w_c, (b * ws[1],) + ws[2:])
        out = _bind(x2, w2, feature_group_count=b * g, **params)
        os_ = shape_of(out)
        out = reshape(out, (os_[0], b, ws[1]) + os_[2:])
        out = transpose(out, (1, 0) + tuple(range(2, nd + 1)))
    # (B, N, O, *out) -> the batch axis first, then the output layout
    return transpose(out, (0,) + tuple(1 + a for a in _inverse(ospec))), 0


AE[conv_general_dilated_p] = _conv_ae
JR[conv_general_dilated_p] = _conv_jvp
TR[conv_general_dilated_p] = _conv_transpose_rule
BR[conv_general_dilated_p] = _conv_batch

from .elementwise import add  # noqa: E402
