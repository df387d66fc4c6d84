"""Property-based differential tests over every op-table row (hypothesis).

For each primitive of polyfunc.testing.optable and each installed backend,
hypothesis draws the structure of a call (shapes from 0-d to 3-d, size-0 axes
included, broadcasting pairs, axes, permutations, dimension numbers, index
arrays) and its values (inside the primitive's domain, with the hard points
mixed in: ties, 0, kinks; and, for the forward pass only, inf, NaN and
1e+-300), then checks

* forward: against the NumPy reference of the row (values, shape, dtype);
* jvp and vjp: against central finite differences in float64 (where the
  values are away from kinks), and to second order (``check_grads``);
* vmap: a batch of independently drawn values stacked on a random axis per
  argument, with the backends' own batching rules on or off (the core's
  generic rules), against a loop.

The amount of work follows the hypothesis profile (tests/conftest.py): ``ci``
keeps it within the CI budget, ``nightly`` draws many more examples.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import polyfunc as pf
from polyfunc.testing import check_grads, generic_batch_rules, to_numpy
from polyfunc.testing.checks import _assert_close
from polyfunc.testing.optable import BOOL, EXCLUDED_PRIMITIVES, F32, F64, OP_CASES, SPECIALS, op_cases, tolerance

CASES = op_cases()

# ---------------------------------------------------------------- values
# (low, high) of the values drawn for derivative checks; each draw mixes in the domain's hard points
DOMAINS = {
    "normal": (-2.0, 2.0, (0.0, -0.0, 1.0, -1.0)),
    "positive": (0.2, 3.0, (1.0,)),
    "unit": (-0.9, 0.9, (0.0, 0.5, -0.5)),
    "tan": (-1.2, 1.2, (0.0,)),
    "away0": (0.2, 2.0, ()),             # either sign: |x| in [0.2, 2]
    "nonint": (0.1, 0.4, ()),            # k + frac, frac in [0.1, 0.4] or [0.6, 0.9]
    "ties": (-2.0, 2.0, ()),             # small integers as floats: ties everywhere
}

UNARY_DOMAIN = {"log": "positive", "log1p": "positive", "sqrt": "positive", "rsqrt": "positive", "asin": "unit",
                "acos": "unit", "tan": "tan", "sign": "away0", "floor": "nonint", "ceil": "nonint",
                "round": "nonint", "angle": "away0",
                # relu's kink: a central difference at 0 gives 1/2, its derivative is 0 (tests/test_relu.py checks it)
                "relu": "away0"}
UNARY = {"neg", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "erf", "erfc", "logistic", "sqrt",
         "rsqrt", "asin", "acos", "atan", "sinh", "cosh", "abs", "sign", "floor", "ceil", "round", "isnan",
         "stop_gradient", "logical_not", "bitwise_not", "real", "imag", "conj", "angle", "relu"}
BINARY = {"add", "sub", "mul", "div", "pow", "floor_div", "rem", "atan2", "max", "min", "eq", "ne", "lt", "le",
          "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
          "relu_grad"}
BINARY_DOMAIN = {"div": ("normal", "away0"), "pow": ("positive", "normal"), "atan2": ("away0", "normal"),
                 "max": ("ties", "ties"), "min": ("ties", "ties"), "relu_grad": ("away0", "normal")}
REDUCE = {"reduce_sum", "reduce_max", "reduce_min", "reduce_prod"}
# functions with kinks at hard points their derivative draws may land on: first order only there
KINKED = {"abs", "max", "min", "reduce_max", "reduce_min"}

shape_st = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
nonempty_shape_st = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def _floats(dtype, lo, hi):
    # nothing within 1e-3 of 0 but 0 itself: finite differences (eps 1e-4) must not straddle abs's kink
    return st.floats(lo, hi, width=32 if dtype == F32 else 64, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0 or abs(v) >= 1e-3)


def float_array(draw, shape, dtype, domain, special=False, unique=False):
    """An array of ``shape``: ``domain``'s values and hard points; with ``special``, IEEE hard points too."""
    lo, hi, hard = DOMAINS[domain]
    if domain == "ties":
        el = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])
    elif domain == "nonint":
        el = st.builds(lambda k, f, up: k + (1 - f if up else f), st.integers(-3, 2), _floats(F64, lo, hi),
                       st.booleans())
    elif domain == "away0":
        el = st.builds(lambda v, neg: -v if neg else v, _floats(F64, lo, hi), st.booleans())
    else:
        el = st.one_of(_floats(F64, lo, hi), st.sampled_from(hard)) if hard else _floats(F64, lo, hi)
    if special:
        el = st.one_of(el, st.sampled_from(SPECIALS))
    a = draw(hnp.arrays(np.float64, shape, elements=el, unique=unique))
    with np.errstate(over="ignore"):
        return a.astype(dtype)


def int_array(draw, shape, dtype, lo=-4, hi=4):
    return draw(hnp.arrays(dtype, shape, elements=st.integers(lo, hi)))


def values(draw, shape, dtype, domain="normal", special=False, unique=False):
    dtype = np.dtype(dtype)
    if dtype == BOOL:
        return draw(hnp.arrays(BOOL, shape, elements=st.booleans()))
    if dtype.kind in "iu":
        return int_array(draw, shape, dtype, 1 if domain == "positive" else -4, 4)
    if dtype.kind == "c":       # both parts from the domain; the IEEE hard points in either part
        part = np.float32 if dtype == np.complex64 else np.float64
        re = float_array(draw, shape, part, domain, special, unique)
        im = float_array(draw, shape, part, domain, special)
        return (re + 1j * im).astype(dtype)
    return float_array(draw, shape, dtype, domain, special, unique)


# ---------------------------------------------------------------- structures
# A structure is (arg specs, params, smooth): one spec per argument, (shape, dtype, kind); ``fill`` draws
# values for it, so vmap can draw several independent calls of one structure.  ``smooth`` is False where
# the values may sit on a kink (first-order checks only).

def _unary_struct(draw, name, dtype):
    shape = draw(shape_st)
    return [(shape, dtype, UNARY_DOMAIN.get(name, "normal"))], {}, name not in KINKED


def _binary_struct(draw, name, dtype):
    sx, sy = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3)).input_shapes
    dx, dy = BINARY_DOMAIN.get(name, ("normal", "normal"))
    if name in ("floor_div", "rem") and np.dtype(dtype).kind == "f":
        # x = q * y with q away from integers: away from the jumps of floor(x / y)
        return [(np.broadcast_shapes(sx, sy), dtype, "quotient"), (sy, dtype, "away0")], {}, True
    if name in ("floor_div", "rem"):
        return [(sx, dtype, "normal"), (sy, dtype, "positive")], {}, True
    if name in ("pow",) and np.dtype(dtype).kind in "iu":
        return [(sx, dtype, "normal"), (sy, dtype, "positive")], {}, True
    return [(sx, dtype, dx), (sy, dtype, dy)], {}, name not in KINKED


def _axes(draw, nd):
    return tuple(sorted(draw(st.sets(st.integers(0, nd - 1), max_size=nd)))) if nd else ()


def _reduce_struct(draw, name, dtype):
    shape = draw(shape_st)
    axes = _axes(draw, len(shape))
    if name in ("reduce_max", "reduce_min"):       # NumPy refuses an empty reduction: so does the primitive
        shape = tuple(max(n, 1) if i in axes else n for i, n in enumerate(shape))
    return [(shape, dtype, "unique" if name in ("reduce_max", "reduce_min", "reduce_prod") else "normal")], \
        dict(axes=axes), True


def _arg_struct(draw, name, dtype):
    shape = draw(nonempty_shape_st.filter(lambda s: len(s) >= 1))
    axis = draw(st.integers(0, len(shape) - 1))
    return [(shape, dtype, "ties")], dict(axis=axis, index_dtype=np.dtype(draw(st.sampled_from([np.int32, np.int64])))), True


def _argsort_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    return [(shape, dtype, "ties")], dict(axis=draw(st.integers(0, len(shape) - 1)), descending=draw(st.booleans()),
                                          index_dtype=np.dtype(np.int64)), True


def _cumsum_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    return [(shape, dtype, "normal")], dict(axis=draw(st.integers(0, len(shape) - 1)), reverse=draw(st.booleans())), True


def _dot_struct(draw, name, dtype):
    nb, nc, fx, fy = (draw(st.integers(0, 2)) for _ in range(4))
    size = st.integers(0, 3)
    bs, cs = [draw(size) for _ in range(nb)], [draw(size) for _ in range(nc)]
    xf, yf = [draw(size) for _ in range(fx)], [draw(size) for _ in range(fy)]
    # the roles laid out in a random order in each operand: batch and contracted axes anywhere
    xroles = draw(st.permutations([("b", i) for i in range(nb)] + [("c", i) for i in range(nc)]
                                  + [("f", i) for i in range(fx)]))
    yroles = draw(st.permutations([("b", i) for i in range(nb)] + [("c", i) for i in range(nc)]
                                  + [("f", i) for i in range(fy)]))
    sizes = {"b": bs, "c": cs}
    xshape = tuple(sizes[r][i] if r != "f" else xf[i] for r, i in xroles)
    yshape = tuple(sizes[r][i] if r != "f" else yf[i] for r, i in yroles)
    # contracted pairs in a random order, batch pairs in order (the output's batch layout)
    corder = draw(st.permutations(list(range(nc))))
    lc = tuple(xroles.index(("c", i)) for i in corder)
    rc = tuple(yroles.index(("c", i)) for i in corder)
    lb = tuple(xroles.index(("b", i)) for i in range(nb))
    rb = tuple(yroles.index(("b", i)) for i in range(nb))
    return [(xshape, dtype, "normal"), (yshape, dtype, "normal")], dict(dimension_numbers=((lc, rc), (lb, rb))), True


def _transpose_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 2))
    perm = tuple(draw(st.permutations(list(range(len(shape))))))
    if perm == tuple(range(len(shape))):
        perm = perm[1:] + perm[:1]               # ops.transpose returns x itself for the identity
    return [(shape, dtype, "normal")], dict(permutation=perm), True


def _reshape_struct(draw, name, dtype):
    shape = draw(shape_st)
    parts = draw(st.permutations(list(shape) + [1] * draw(st.integers(0, 2))))
    new = []
    for p in parts:                              # merge some neighbours: the same size, another layout
        if new and draw(st.booleans()):
            new[-1] *= p
        else:
            new.append(p)
    new = tuple(new)
    if new == shape:
        new = shape + (1,)
    return [(shape, dtype, "normal")], dict(new_sizes=new), True


def _squeeze_struct(draw, name, dtype):
    shape = list(draw(shape_st))
    k = draw(st.integers(1, 2))
    for _ in range(k):
        shape.insert(draw(st.integers(0, len(shape))), 1)
    ones = [i for i, n in enumerate(shape) if n == 1]
    dims = tuple(sorted(draw(st.sets(st.sampled_from(ones), min_size=1))))
    return [(tuple(shape), dtype, "normal")], dict(dimensions=dims), True


def _expand_struct(draw, name, dtype):
    shape = draw(shape_st)
    nd = len(shape) + draw(st.integers(1, 2))
    dims = tuple(sorted(draw(st.sets(st.integers(0, nd - 1), min_size=nd - len(shape), max_size=nd - len(shape)))))
    return [(shape, dtype, "normal")], dict(dimensions=dims), True


def _slice_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    start, limit, strides = [], [], []
    for n in shape:
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, n))
        start.append(a), limit.append(b), strides.append(draw(st.integers(1, 3)))
    return [(shape, dtype, "normal")], dict(start_indices=tuple(start), limit_indices=tuple(limit),
                                           strides=tuple(strides)), True


def _pad_struct(draw, name, dtype):
    shape = draw(shape_st)
    cfg = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    fill = {"f": 0.5, "i": 3, "b": True}[np.dtype(dtype).kind]
    return [(shape, dtype, "normal")], dict(padding_value=fill, padding_config=cfg), True


def _concat_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    axis = draw(st.integers(0, len(shape) - 1))
    k = draw(st.integers(2, 3))
    specs = []
    for _ in range(k):
        s = list(shape)
        s[axis] = draw(st.integers(0, 3))
        specs.append((tuple(s), dtype, "normal"))
    return specs, dict(dimension=axis), True


def _rev_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    dims = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    return [(shape, dtype, "normal")], dict(dimensions=dims), True


def _gather_struct(draw, name, dtype):
    shape = draw(nonempty_shape_st.filter(lambda s: len(s) >= 1))
    axis = draw(st.integers(0, len(shape) - 1))
    ishape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    idt = np.dtype(draw(st.sampled_from([np.int32, np.int64])))
    specs = [(shape, dtype, "normal"), (ishape, idt, f"index{shape[axis]}")]
    if name == "scatter_add":
        specs.append((shape[:axis] + ishape + shape[axis + 1:], dtype, "normal"))
    return specs, dict(axis=axis), True


def _bid_struct(draw, name, dtype):
    out = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    dims = tuple(sorted(draw(st.sets(st.integers(0, len(out) - 1), max_size=len(out)))))
    shape = tuple(out[d] if draw(st.booleans()) else 1 for d in dims)
    if shape == out:
        out = (2,) + out
        dims = tuple(d + 1 for d in dims)
    return [(shape, dtype, "normal")], dict(shape=out, broadcast_dimensions=dims), True


def _select_struct(draw, name, dtype):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3)).input_shapes
    return [(shapes[0], BOOL, "bool"), (shapes[1], dtype, "normal"), (shapes[2], dtype, "normal")], {}, True


def _convert_struct(draw, name, dtype):
    target = np.dtype(draw(st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_])))
    kind = "nonint" if np.dtype(dtype).kind == "f" else "normal"
    # inf and nan have no integer value (NumPy and torch give different garbage): specials only to floats
    return [(draw(shape_st), dtype, kind if target.kind != "f" else "normal")], dict(new_dtype=target), \
        target.kind == "f"


def _full_like_struct(draw, name, dtype):
    fill = {"f": 1.5, "i": 7, "b": True}[np.dtype(dtype).kind]
    return [(draw(shape_st), dtype, "normal")], dict(fill_value=fill, shape=draw(shape_st), dtype=np.dtype(dtype)), True


def _eye_struct(draw, name, dtype):
    n, m = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    return [((2,), dtype, "normal")], dict(shape=(n, m), offset=draw(st.integers(-3, 3)), dtype=np.dtype(dtype)), True


def _iota_struct(draw, name, dtype):
    shape = draw(shape_st.filter(lambda s: len(s) >= 1))
    return [], dict(dtype=np.dtype(dtype), shape=shape, dimension=draw(st.integers(0, len(shape) - 1))), True


def _integer_pow_struct(draw, name, dtype):
    y = draw(st.integers(-2 if np.dtype(dtype).kind == "f" else 0, 4))
    return [(draw(shape_st), dtype, "away0" if y < 0 else "normal")], dict(y=y), True


def _matrix_struct(draw, name, dtype):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=2))
    n = draw(st.integers(1, 4))
    hard = np.dtype(dtype) == F64     # float32 has too few digits for a condition number of 1e8
    kind = draw(st.sampled_from(["spd"] + (["spd_ill"] if hard else []) if name == "cholesky" else
                                ["wellcond", "wellcond"] + (["ill"] if hard else [])
                                + (["singular"] if name == "det" else [])))
    specs = [(batch + (n, n), dtype, kind)]
    if name == "solve":
        specs.append((batch + (n, draw(st.integers(1, 3))), dtype, "normal"))
    return specs, {}, kind in ("wellcond", "spd")


def _window_struct(draw, name, dtype):
    """A window over 1-3 axes: sizes, strides, dilations and padding drawn, every output axis non-empty and
    every window touching the operand (a max over padding alone has no argument to select)."""
    nd = draw(st.integers(1, 3))
    shape, dims, strides, dil, pad, out = [], [], [], [], [], []
    for _ in range(nd):
        n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        s, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        lo, hi = (draw(st.integers(-1 if name == "reduce_window_sum" else 0, 1)) if k > 1 else 0 for _ in range(2))
        if k > 1 and (lo > 0 or hi > 0):
            d = 1                        # a padded window is contiguous: it always reaches the operand
        if n + lo + hi < (k - 1) * d + 1:
            k, d, lo, hi = 1, 1, 0, 0    # the window does not fit: a window of one
        shape.append(n), dims.append(k), strides.append(s), dil.append(d), pad.append((lo, hi))
        out.append((n + lo + hi - (k - 1) * d - 1) // s + 1)
    params = dict(window_dimensions=tuple(dims), window_strides=tuple(strides), padding=tuple(pad),
                  window_dilation=tuple(dil))
    if name == "reduce_window_sum":
        return [(tuple(shape), dtype, "normal")], params, True
    # the operand that picks the maximum has distinct values: a tie's winner is the kernel's choice
    specs = [(tuple(shape), dtype, "distinct")]
    if name == "window_select":
        specs.append((tuple(shape), dtype, "normal"))
    elif name == "window_scatter":
        specs.append((tuple(out), dtype, "normal"))
    return specs, params, True


def _conv_struct(draw, name, dtype):
    """A convolution over 1-2 spatial axes with strides, padding (negative too), both dilations, groups and
    the three layouts drawn; every output axis non-empty."""
    nd = draw(st.integers(1, 2))
    g = draw(st.integers(1, 2))
    n, ci, co = draw(st.integers(1, 2)), g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    sp, ks, strides, pad, ld, rd = [], [], [], [], [], []
    for _ in range(nd):
        size, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        s, a, r = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        lo, hi = draw(st.integers(-1, 2)), draw(st.integers(-1, 2))
        if (size - 1) * a + 1 + lo + hi < (k - 1) * r + 1:
            k, r, lo, hi = 1, 1, max(lo, 0), max(hi, 0)
        sp.append(size), ks.append(k), strides.append(s), pad.append((lo, hi)), ld.append(a), rd.append(r)
    specs = tuple(tuple(draw(st.permutations(list(range(nd + 2))))) for _ in range(3))
    lhs_c, rhs_c = (n, ci, *sp), (co, ci // g, *ks)

    def laid_out(canonical, spec):       # the shape whose transpose by ``spec`` is ``canonical``
        shape = [0] * len(spec)
        for i, ax in enumerate(spec):
            shape[ax] = canonical[i]
        return tuple(shape)
    params = dict(window_strides=tuple(strides), padding=tuple(pad), lhs_dilation=tuple(ld),
                  rhs_dilation=tuple(rd), dimension_numbers=specs, feature_group_count=g)
    return [(laid_out(lhs_c, specs[0]), dtype, "normal"), (laid_out(rhs_c, specs[1]), dtype, "normal")], params, True


STRUCTS = {
    **{n: _unary_struct for n in UNARY}, **{n: _binary_struct for n in BINARY}, **{n: _reduce_struct for n in REDUCE},
    "argmax": _arg_struct, "argmin": _arg_struct, "argsort": _argsort_struct, "cumsum": _cumsum_struct,
    "dot_general": _dot_struct, "transpose": _transpose_struct, "reshape": _reshape_struct,
    "squeeze": _squeeze_struct, "expand_dims": _expand_struct, "slice": _slice_struct, "pad": _pad_struct,
    "concatenate": _concat_struct, "rev": _rev_struct, "gather": _gather_struct, "scatter_add": _gather_struct,
    "broadcast_in_dim": _bid_struct, "select": _select_struct, "convert_element_type": _convert_struct,
    "full_like": _full_like_struct, "eye": _eye_struct, "iota": _iota_struct, "integer_pow": _integer_pow_struct,
    "solve": _matrix_struct, "det": _matrix_struct, "slogdet": _matrix_struct, "cholesky": _matrix_struct,
    "conv_general_dilated": _conv_struct, "reduce_window_sum": _window_struct, "reduce_window_max": _window_struct,
    "window_select": _window_struct, "window_scatter": _window_struct,
}


def _matrix(draw, shape, dtype, kind):
    """Square matrices from a drawn seed: well conditioned, ill conditioned (condition ~1e8), singular
    (rank n - 1) or symmetric positive definite (and an ill-conditioned one)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n = shape[-1]
    m = rng.standard_normal(shape)
    if kind == "wellcond":
        return (m + 3 * np.eye(n)).astype(dtype)
    u, _, vt = np.linalg.svd(m)
    s = np.logspace(0, -8, n) if kind in ("ill", "spd_ill") else np.linspace(2, 1, n)
    if kind == "singular":
        s[-1] = 0.0
    if kind.startswith("spd"):
        return ((u * s[..., None, :]) @ np.swapaxes(u, -1, -2) + (0 if kind == "spd_ill" else 0.5) * np.eye(n)
                ).astype(dtype)
    return ((u * s[..., None, :]) @ vt).astype(dtype)


def fill(draw, specs, special=False):
    out = []
    for shape, dtype, kind in specs:
        dtype = np.dtype(dtype)
        if kind.startswith("index"):
            n = int(kind[5:])
            out.append(draw(hnp.arrays(dtype, shape, elements=st.integers(0, n - 1))) if n else np.zeros(shape, dtype))
        elif kind in ("wellcond", "ill", "singular", "spd", "spd_ill"):
            out.append(_matrix(draw, shape, dtype, kind))
        elif kind == "unique":      # distinct by at least 0.05: the extremum stays put under finite differences
            grid = draw(hnp.arrays(np.int64, shape, elements=st.integers(-40, 40), unique=dtype.kind == "f"))
            out.append((grid / 20.0).astype(dtype) if dtype.kind == "f" else values(draw, shape, dtype))
        elif kind == "distinct":    # distinct in every dtype (integers too), 0.05 apart in floats
            grid = draw(hnp.arrays(np.int64, shape, elements=st.integers(-40, 40), unique=True))
            out.append((grid / 20.0).astype(dtype) if dtype.kind == "f" else grid.astype(dtype))
        elif kind == "bool":
            out.append(values(draw, shape, BOOL))
        elif kind == "quotient":
            out.append(values(draw, shape, dtype, "nonint"))
        else:
            out.append(values(draw, shape, dtype, kind, special=special and dtype.kind == "f"))
    if specs and specs[0][2] == "quotient":
        out[0] = (out[0].astype(np.float64) * out[1].astype(np.float64)).astype(out[0].dtype)
    return out


# ---------------------------------------------------------------- the checks
# Known bugs of a backend's kernels that these tests found: each is pinned by a strict xfail in the op
# table's conformance tests (a fix shows there as XPASS); here the inputs that hit it are left out
# (hypothesis.assume), so the rest of the row stays under test.  Remove both when the fix lands.
KNOWN_BUGS = {
    ("torch", "sign"): lambda args, params: not any(np.isnan(a).any() for a in args if a.dtype.kind == "f"),
    ("torch", "reduce_prod"): lambda args, params: all(a.size for a in args),
}

# IEEE hard points in the forward pass; not for sums (the order of summation decides inf - inf or 1e300
# overflow, and NumPy and torch sum in different orders) nor floor division (NumPy's own rules at inf)
SPECIAL_FORWARD = (set(UNARY) | set(BINARY) | {"reduce_max", "reduce_min", "select"}) - {"pow", "floor_div", "rem"}
# derivatives are drawn away from singular and ill-conditioned matrices (finite differences are
# meaningless there); det's derivative at a singular matrix has its own test
DERIV_KIND = {"ill": "wellcond", "singular": "wellcond", "spd_ill": "spd"}
MATRIX_TOL = {"ill": 1e-6, "singular": 1e-8, "spd_ill": 1e-6}


def _on(backend, arrays):
    return [backend.asarray(np.asarray(a), dtype=np.asarray(a).dtype) for a in arrays]


def _check_forward(backend, case, args, params, specs):
    got = case.fn(*_on(backend, args), **params)
    with np.errstate(all="ignore"):
        want = np.asarray(case.ref(*args, **params))
    g = to_numpy(got)
    what = f"{case.name}{[np.shape(a) for a in args]} {params} on {backend.name} vs NumPy"
    assert g.shape == want.shape, f"{what}: shape {g.shape}, NumPy {want.shape}"
    assert g.dtype == want.dtype, f"{what}: dtype {g.dtype}, NumPy {want.dtype}"
    if want.dtype.kind in "fc":
        rtol, atol = tolerance(want.dtype, case.tol)
        kinds = [k for _, _, k in specs]
        for k in kinds:                       # ill-conditioned input: the answer is only so exact
            if k in MATRIX_TOL:
                rtol, atol = max(rtol, 1e-3 if want.dtype == F32 else MATRIX_TOL[k]), max(atol, 1e-6)
        if case.name == "reduce_sum" or case.name == "cumsum" or case.name == "dot_general":
            atol = max(atol, rtol * float(np.max(np.abs(np.asarray(args[0], np.float64)), initial=1)) * 10)
        _assert_close(g, want, rtol, atol, what)
    else:
        np.testing.assert_array_equal(g, want, err_msg=what)
    return g.dtype


def _check_derivatives(backend, case, args, params, smooth):
    diff = [i for i in case.diff_args if i < len(args)]
    on = _on(backend, args)

    def f(*d):
        full = list(on)
        for i, v in zip(diff, d):
            full[i] = v
        return case.fn(*full, **params)
    order = case.grad_order if smooth else 1
    kw = {}
    if case.grad_tol is not None:
        kw["rtol"], kw["atol"] = case.grad_tol
    if case.grad_eps is not None:
        kw["eps"] = case.grad_eps
    check_grads(f, [on[i] for i in diff], order=order, modes=("fwd", "rev"), **kw)


def _check_vmap(backend, case, draw, specs, params, generic):
    nb = 2
    calls = [fill(draw, specs) for _ in range(nb)]
    dims = []
    for j, (shape, _, _) in enumerate(specs):
        dims.append(draw(st.sampled_from([None] + list(range(len(shape) + 1)))))
    if all(d is None for d in dims):
        dims[0] = 0
    batched = []
    for j, d in enumerate(dims):
        if d is None:
            batched.append(calls[0][j])
        else:
            batched.append(np.stack([c[j] for c in calls], axis=d))
    loop = []
    for b in range(nb):
        args = [calls[b if d is not None else 0][j] for j, d in enumerate(dims)]
        loop.append(to_numpy(case.fn(*_on(backend, args), **params)))
    want = np.stack(loop)
    fn = lambda *a: case.fn(*a, **params)  # noqa: E731
    if generic:
        with generic_batch_rules():
            got = to_numpy(pf.vmap(fn, in_dims=tuple(dims))(*_on(backend, batched)))
    else:
        got = to_numpy(pf.vmap(fn, in_dims=tuple(dims))(*_on(backend, batched)))
    what = f"vmap({case.name}) in_dims={tuple(dims)} {params}{' generic rules' if generic else ''} vs a loop"
    assert got.shape == want.shape and got.dtype == want.dtype, \
        f"{what}: {got.dtype}{list(got.shape)}, expected {want.dtype}{list(want.shape)}"
    if want.dtype.kind in "fc":
        _assert_close(got, want, *tolerance(want.dtype, case.tol), what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


PROPERTY_CASES = [c for c in OP_CASES if c.name not in EXCLUDED_PRIMITIVES]


def test_every_op_table_row_has_a_property_generator():
    missing = sorted(c.name for c in PROPERTY_CASES if c.name not in STRUCTS)
    assert not missing, f"op-table rows without a structure generator in tests/test_properties.py: {missing}"


def _examples(n_ci):
    """Examples per test: the profile's max_examples scaled for a test that does n_ci times the work."""
    return max(3, settings.default.max_examples // n_ci)


@pytest.mark.parametrize("name", [c.name for c in PROPERTY_CASES])
def test_op_properties(backend, name):
    case = CASES[name]
    avoid = KNOWN_BUGS.get((backend.name, name))

    # dask computes with NumPy's kernels, but each example pays for building and optimising task graphs
    # (tens of milliseconds per check): a quarter of the examples there keeps CI within its budget
    @settings(max_examples=_examples(8 if backend.name == "dask" else 2), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(data=st.data())
    def prop(data):
        draw = data.draw
        dtype = np.dtype(draw(st.sampled_from(case.dtypes), label="dtype"))
        specs, params, smooth = STRUCTS[name](draw, name, dtype)
        # forward, with IEEE hard points where the function takes them
        special = draw(st.booleans(), label="special values") and name in SPECIAL_FORWARD
        args = fill(draw, specs, special=special)
        if avoid is not None:
            assume(avoid(args, params))
        out_dtype = _check_forward(backend, case, args, params, specs)
        # derivatives, in float64 away from inf/nan, where the function is differentiable
        if case.differentiable and F64 in case.dtypes and out_dtype.kind == "f" \
                and draw(st.booleans(), label="derivatives"):
            dspecs = [(s, F64 if np.dtype(dt).kind == "f" else dt, DERIV_KIND.get(k, k)) for s, dt, k in specs]
            if any(np.dtype(dspecs[i][1]).kind != "f" for i in case.diff_args if i < len(dspecs)):
                return          # an integer input of convert_element_type: nothing to differentiate
            _check_derivatives(backend, case, fill(draw, dspecs), params, smooth)
        # vmap of independently drawn calls, with the backends' batching rules on or off
        if case.batchable and specs:
            _check_vmap(backend, case, draw, specs, params, generic=draw(st.booleans(), label="generic rules"))
    prop()


# ---------------------------------------------------------------- ties of reduce_max / reduce_min
# Central differences cannot check a reduction at a tie (a k-way tie gives (max v - min v) / 2 over
# the tied entries, not a derivative), so test_op_properties draws distinct values for them.  The
# convention polyfunc shares with JAX and torch's amax/amin -- a tie shares the tangent evenly -- is
# checked here against its closed form, on values drawn from a few integers so ties are everywhere.
@pytest.mark.parametrize("which", ["max", "min"])
def test_reduce_max_min_share_tied_tangents_evenly(backend, which):
    prim = pf.ops.reduce_max if which == "max" else pf.ops.reduce_min
    pick = np.max if which == "max" else np.min

    @settings(max_examples=_examples(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def prop(data):
        shape = data.draw(nonempty_shape_st.filter(lambda s: len(s) >= 1), label="shape")
        axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1), label="axes")))
        x = np.asarray(data.draw(hnp.arrays(F64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])), label="x"))
        v = np.asarray(data.draw(hnp.arrays(F64, shape, elements=st.floats(-2, 2, width=64)), label="v"))
        w = np.asarray(data.draw(hnp.arrays(F64, _kept(shape, axes), elements=st.floats(-2, 2, width=64)), label="w"))
        hit = (x == pick(x, axis=axes, keepdims=True)).astype(F64)
        count = hit.sum(axis=axes, keepdims=True)
        want_t = (v * hit / count).sum(axis=axes)                       # each output's mean tangent over its ties
        want_g = np.expand_dims(w, axes) * hit / count                 # each tied entry gets w / (number of ties)
        on = backend.asarray
        _, t = pf.jvp(lambda a: prim(a, axes), (on(x),), (on(v),))
        _assert_close(to_numpy(t), want_t, 1e-12, 1e-12, f"jvp of reduce_{which} at ties")
        g = pf.grad(lambda a: (prim(a, axes) * on(w)).sum())(on(x))
        _assert_close(to_numpy(g), want_g, 1e-12, 1e-12, f"grad of reduce_{which} at ties")
        gv = pf.vmap(pf.grad(lambda a: (prim(a, axes) * on(w)).sum()))(on(np.stack([x, -x])))
        want_neg = np.expand_dims(w, axes) * (-x == pick(-x, axis=axes, keepdims=True)) / \
            (-x == pick(-x, axis=axes, keepdims=True)).sum(axis=axes, keepdims=True)
        _assert_close(to_numpy(gv), np.stack([want_g, want_neg]), 1e-12, 1e-12, f"vmap of grad of reduce_{which}")
    prop()


def _kept(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def test_reduce_max_ties_agree_with_torch_amax():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    want = torch.func.grad(lambda a: torch.amax(a, dim=1).sum())(torch.tensor(x)).numpy()
    np.testing.assert_allclose(to_numpy(pf.grad(lambda a: pf.ops.reduce_max(a, (1,)).sum())(x)), want)
    np.testing.assert_allclose(want, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
