"""The primitive reference: what a backend's kernel for each primitive must do.

``render()`` writes it as Markdown from the op table (``polyfunc.testing.optable``):
operands and parameters (with the values the conformance suite uses), the dtypes
tested and the result dtype the abstract evaluation gives for each, where Python
scalars arrive, and the NumPy reference the suite compares with; the one-line
meanings are kept here, next to the generator.  ``tools/primitive_reference.py``
writes ``docs/primitives.md``; a test keeps that file up to date.
"""
from __future__ import annotations

import ast
import inspect

import numpy as np

from ..registry import abstract_eval_rules, primitives
from ..trace import ShapedArray
from .optable import OP_CASES, OpCase

__all__ = ["MEANINGS", "SCALAR_OPERANDS", "OPERAND_NAMES", "REFERENCES", "render"]

# where the core passes Python scalars (bool, int, float) straight to a kernel instead of arrays
_BINARY_SCALARS = "either operand, or both (a weak scalar: it takes the dtype of the array it meets)"
SCALAR_OPERANDS: dict[str, str] = {
    **{n: _BINARY_SCALARS for n in (
        "add", "sub", "mul", "div", "pow", "max", "min", "atan2", "floor_div", "rem", "eq", "ne", "lt", "le",
        "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor")},
    "select": "`on_true`, `on_false` or both (weak, like the binary operators); `pred` is always an array",
    "broadcast_in_dim": "the operand `x` may be a Python scalar (with `broadcast_dimensions=()`)",
    "stop_gradient": "the operand may be a Python scalar, returned as it is",
}

OPERAND_NAMES: dict[str, tuple] = {
    "gather": ("x", "indices"), "scatter_add": ("x", "indices", "updates"), "select": ("pred", "on_true", "on_false"),
    "full_like": ("like",), "eye": ("like",), "concatenate": ("*xs",), "solve": ("a", "b"),
    "window_select": ("operand", "t"), "window_scatter": ("operand", "source"),
}

MEANINGS: dict[str, str] = {
    "full_like": "An array of `shape` and `dtype` filled with `fill_value`; `like` only says which backend (and device).",
    "iota": "Integers 0, 1, ... along axis `dimension`, broadcast to `shape`, in `dtype`.",
    "eye": "A `shape[0]` x `shape[1]` matrix with ones on diagonal `offset` (positive: above), in `dtype`.",
    "broadcast_in_dim": "`x` broadcast to `shape`; operand axis i becomes result axis `broadcast_dimensions[i]`.",
    "reshape": "`x` with shape `new_sizes` (same size, C order).",
    "transpose": "`x` with its axes permuted: result axis i is operand axis `permutation[i]`.",
    "squeeze": "`x` without the axes `dimensions` (each of length 1).",
    "expand_dims": "`x` with new axes of length 1 at the result positions `dimensions`.",
    "slice": "`x[start:limit:stride]` on every axis (static, positive strides).",
    "pad": "`x` padded per axis by `(lo, hi, interior)`: `lo` before, `hi` after, `interior` between elements, with "
           "`padding_value`; negative `lo`/`hi` crop.",
    "concatenate": "The operands joined along axis `dimension`.",
    "rev": "`x` reversed along the axes `dimensions`.",
    "gather": "`take(x, indices, axis)`: the result's shape is `x.shape[:axis] + indices.shape + x.shape[axis+1:]`; "
              "indices are in range (the core has normalised negatives).",
    "scatter_add": "A copy of `x` with `updates` added at `indices` along `axis`, repeats adding up; `updates` has "
                   "shape `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.",
    "neg": "-x.", "add": "x + y.", "sub": "x - y.", "mul": "x * y.", "div": "x / y (true division; floats only).",
    "pow": "x ** y, elementwise (both of one dtype).", "floor_div": "floor(x / y), as NumPy's floor_divide.",
    "rem": "x - floor(x / y) * y: the remainder with the divisor's sign, as NumPy's remainder.",
    "atan2": "The angle of the point (y=x, x=y): arctan2(x, y), in (-pi, pi].",
    "max": "Elementwise maximum (NaN-propagating); for bool, logical or.",
    "min": "Elementwise minimum (NaN-propagating); for bool, logical and.",
    "integer_pow": "x ** y for a static Python integer `y` (negative only for floats).",
    "exp": "e ** x.", "log": "Natural logarithm.", "log1p": "log(1 + x), accurate near 0.",
    "expm1": "exp(x) - 1, accurate near 0.", "sin": "Sine.", "cos": "Cosine.", "tan": "Tangent.",
    "tanh": "Hyperbolic tangent.", "erf": "The error function.", "erfc": "1 - erf(x), accurate where erf(x) is near 1.",
    "logistic": "1 / (1 + exp(-x)), without overflow for large |x|.", "sqrt": "Square root.",
    "rsqrt": "1 / sqrt(x).", "asin": "Arcsine.", "acos": "Arccosine.", "atan": "Arctangent.",
    "sinh": "Hyperbolic sine.", "cosh": "Hyperbolic cosine.", "abs": "|x|.",
    "sign": "-1, 0 or 1 by the sign of x (NaN stays NaN).", "floor": "Largest integer <= x (integers unchanged).",
    "ceil": "Smallest integer >= x (integers unchanged).", "round": "Nearest integer, halves to even.",
    "isnan": "Whether x is NaN (bool result).", "stop_gradient": "x itself (the transforms treat it as a constant).",
    "eq": "x == y (bool result).", "ne": "x != y (bool result).", "lt": "x < y (bool result).",
    "le": "x <= y (bool result).", "gt": "x > y (bool result).", "ge": "x >= y (bool result).",
    "logical_and": "Logical and of the truth values (nonzero is true; bool result).",
    "logical_or": "Logical or of the truth values (bool result).",
    "logical_xor": "Logical exclusive or of the truth values (bool result).",
    "logical_not": "Logical not of the truth value (bool result).",
    "bitwise_and": "Bitwise and (logical and for bool).", "bitwise_or": "Bitwise or (logical or for bool).",
    "bitwise_xor": "Bitwise exclusive or.", "bitwise_not": "Bitwise complement (logical not for bool).",
    "select": "`on_true` where `pred` holds, else `on_false` (NumPy's where; all three broadcast).",
    "convert_element_type": "`x` cast to `new_dtype` (floats to integers truncate; nonzero to bool is true).",
    "reduce_sum": "Sum over `axes`, in x's dtype (int32 stays int32); `axes=()` returns x.",
    "reduce_max": "Maximum over `axes` (for bool: any).", "reduce_min": "Minimum over `axes` (for bool: all).",
    "reduce_prod": "Product over `axes`, in x's dtype.",
    "argmax": "Index of the first maximum along `axis`, as `index_dtype`.",
    "argmin": "Index of the first minimum along `axis`, as `index_dtype`.",
    "argsort": "Indices that sort along `axis`, stable (ties keep their order, also when `descending`).",
    "cumsum": "Running sum along `axis` (from the end when `reverse`), in x's dtype.",
    "dot_general": "Contract `x` and `y` over `dimension_numbers = ((x_contract, y_contract), (x_batch, y_batch))`; "
                   "result axes: batch, then x's free axes, then y's free axes.",
    "solve": "The x with a @ x = b (`b` a vector or a matrix of columns; batched over leading axes).",
    "det": "Determinant of each square matrix.",
    "slogdet": "(sign, log|det|) of each square matrix: two results.",
    "cholesky": "Lower-triangular L with L @ L.T = a, for symmetric positive definite a.",
    "random_normal": "Standard normal numbers of `shape` and `dtype` from the backend's generator.",
    "random_uniform": "Uniform numbers in [0, 1) of `shape` and `dtype`.",
    "random_randint": "Integers in [`low`, `high`) of `shape` and `dtype`.",
    "real": "The real part of a complex x, in the real dtype of its precision.",
    "imag": "The imaginary part of a complex x, in the real dtype of its precision.",
    "conj": "The complex conjugate of x.",
    "angle": "The argument of x, atan2(imag, real), in the real dtype (a real x: 0, or pi where x < 0 or x is -0.0).",
    "conv_general_dilated": "Convolution (cross-correlation, no kernel flip) of `lhs` with `rhs`: `window_strides`, "
                            "(lo, hi) `padding` per spatial axis (negative crops), `lhs_dilation` (zeros between "
                            "input elements: a transposed convolution), `rhs_dilation` (zeros between kernel "
                            "elements), `feature_group_count` groups; `dimension_numbers = (lhs, rhs, out)` are the "
                            "permutations that bring each operand to (batch, feature, *spatial) order.",
    "reduce_window_sum": "Sum over each window of `window_dimensions` placed every `window_strides` over x padded "
                         "by `padding` with zeros, with `window_dilation`; one window per output element.",
    "reduce_window_max": "Maximum over each window (as `reduce_window_sum`), padding with the dtype's lowest value.",
    "window_select": "For each window of `operand` (as `reduce_window_max`), the element of `t` at the window's "
                     "first arg-max: the tangent of max pooling.",
    "window_scatter": "Adds each element of `source` (one per window) at its window's first arg-max in `operand`; "
                      "the result has operand's shape: the transpose of `window_select`.",
}

# The NumPy reference in words, for the rows whose reference is a helper function of the op table:
# the reader gets what the suite computes, in public NumPy terms, not the name of a private helper
# (render() refuses a row whose reference would show one)
REFERENCES: dict[str, str] = {
    "gather": "`np.take(x, indices, axis=axis)`",
    "select": "`np.where(pred, on_true, on_false)`",
    "broadcast_in_dim": "`np.broadcast_to(np.reshape(x, s), shape)`, where `s` has `x.shape[i]` at position "
                        "`broadcast_dimensions[i]` and 1 elsewhere",
    "pad": "`np.full(padded_shape, padding_value, dtype=x.dtype)` with `x` written from position `lo` every "
           "`interior + 1` elements on each axis (negative `lo`/`hi` crop)",
    "scatter_add": "a copy of `x`, then for each position `p` of `indices`: "
                   "`out[(slice(None),) * axis + (indices[p],)] += updates[(slice(None),) * axis + p]`",
    "integer_pow": "`np.power(x, y)` in x's dtype (for a negative `y`, computed in float64 and cast back)",
    "logistic": "`1 / (1 + np.exp(-x))` computed in float64 and cast back to x's dtype",
    "rsqrt": "`1 / np.sqrt(x)` computed in float64 and cast back to x's dtype",
    "round": "`numpy.round` (halves to even)",
    "argsort": "Python's stable `sorted` of each 1-d slice along `axis` (of the negated values when "
               "`descending`), as `index_dtype`: independent of any kernel",
    "cumsum": "`np.cumsum(x, axis=axis, dtype=x.dtype)`; when `reverse`, "
              "`np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)`",
    "dot_general": "`np.einsum` over the contracting and batch axes, result axes batch, x's free, y's free, in "
                   "x's dtype (bool: through int64, nonzero is true)",
    "conv_general_dilated": "a direct convolution: operands transposed by `dimension_numbers`, `lhs` dilated with "
                            "zeros and padded with `np.pad`, then one `np.einsum` product-sum per kernel offset "
                            "and feature group, accumulated in float64",
    "reduce_window_sum": "every window of x (padded with zeros by `np.pad`, negative padding crops) gathered by "
                         "loops, then `.sum(axis=-1, dtype=x.dtype)`",
    "reduce_window_max": "every window of x (padded with the dtype's lowest value) gathered by loops, then "
                         "`.max(axis=-1)`",
    "window_select": "the windows of `operand` and of `t` gathered alike; for each window, `t`'s element at "
                     "`np.argmax` of `operand`'s window (`np.take_along_axis`)",
    "window_scatter": "`np.add.at` of each `source` element at its window's first `np.argmax` in the padded "
                      "`operand`, padding cropped off, in operand's dtype",
}

_OPTABLE_SOURCE: list = []


def _lambda_source(fn) -> str | None:
    """The source of a lambda in the op table (the one on its line whose arguments match)."""
    if not _OPTABLE_SOURCE:
        path = inspect.getsourcefile(OpCase)
        assert path is not None, "the op table is read from its source file"
        with open(path, encoding="utf-8") as f:
            text = f.read()
        _OPTABLE_SOURCE[:] = [text, ast.parse(text)]
    text, tree = _OPTABLE_SOURCE
    code = fn.__code__
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno:
            args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            if tuple(args) == tuple(names):
                found = node
    if found is None:
        return None
    segment = ast.get_source_segment(text, found.body)
    return None if segment is None else " ".join(segment.split())


def _describe(fn) -> str:
    for mod, prefix in ((np, "numpy."), (np.linalg, "numpy.linalg.")):
        name = getattr(fn, "__name__", None)
        if name and getattr(mod, name, None) is fn:
            return f"`{prefix}{name}`"
    if getattr(fn, "__module__", "") == "math":
        return f"`math.{fn.__name__}` element by element"
    if isinstance(fn, np.ufunc):             # np.frompyfunc over a math function
        return f"`math.{fn.__name__.split()[0]}` element by element"
    if not inspect.isfunction(fn):
        return f"`{fn!r}`"
    inner = {k: v for k, v in inspect.getclosurevars(fn).nonlocals.items() if callable(v)}
    if fn.__name__ == "<lambda>":
        if inner:
            return " ".join(_describe(v) for v in inner.values())
        src = _lambda_source(fn)
        return f"`{src.replace('( ', '(')}`" if src else "a lambda in the op table"
    if inner:
        return " ".join(_describe(v) for v in inner.values())
    raise ValueError(f"the NumPy reference {fn.__module__}.{fn.__qualname__} is a helper function, not public "
                     f"NumPy: describe it in polyfunc.testing.primitive_reference.REFERENCES")


def _reference(case: OpCase) -> str:
    if case.name in REFERENCES:
        return REFERENCES[case.name]
    try:
        return _describe(case.ref)
    except ValueError as e:
        raise ValueError(f"primitive {case.name!r}: {e}") from None


def _operands(case: OpCase) -> str:
    if case.name in OPERAND_NAMES:
        names = OPERAND_NAMES[case.name]
    else:
        sig = inspect.signature(case.fn)
        names = tuple(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name for p in sig.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) and p.name != "_p")
    return ", ".join(f"`{n}`" for n in names) if names else "(none)"


def _params(case: OpCase) -> list[str]:
    seen: dict = {}
    for s in case.samples(case.dtypes[0]):
        for k, v in s.params.items():
            seen.setdefault(k, [])
            r = str(v) if isinstance(v, np.dtype) else repr(v)
            if r not in seen[k] and len(seen[k]) < 3:
                seen[k].append(r)
    return [f"`{k}` (e.g. {', '.join(f'`{v}`' for v in vals)})" for k, vals in seen.items()]


def _result_dtypes(case: OpCase) -> str:
    """'float32 -> float32, int32 -> bool', from the abstract evaluation of the first sample per dtype."""
    rule = abstract_eval_rules[primitives[case.name]]
    parts = []
    for dt in case.dtypes:
        s = case.samples(dt)[0]
        avals = [ShapedArray(np.shape(a), np.asarray(a).dtype) for a in s.args]
        try:
            out = rule(*avals, **s.params)
        except Exception as e:     # pragma: no cover - the conformance suite would fail first
            out = f"error {type(e).__name__}"
        if isinstance(out, (list, tuple)):
            out = ", ".join(str(o.dtype) for o in out)
        else:
            out = str(getattr(out, "dtype", out))
        parts.append(f"{dt} → {out}")
    return ", ".join(parts)


def _section(case: OpCase) -> str:
    lines = [f"### `{case.name}`", "", MEANINGS.get(case.name, "(no description yet)"), ""]
    lines.append(f"- operands: {_operands(case)}")
    params = _params(case)
    lines.append(f"- parameters: {'; '.join(params) if params else '(none)'}")
    lines.append(f"- dtypes (operand → result): {_result_dtypes(case)}")
    lines.append(f"- Python scalars: {SCALAR_OPERANDS.get(case.name, 'never (arrays only)')}")
    lines.append(f"- NumPy reference: {_reference(case)}")
    lines.append(f"- differentiable operands: {', '.join(map(str, case.diff_args)) or 'none'}")
    return "\n".join(lines)


_RANDOM = ("random_normal", "random_uniform", "random_randint")


def render() -> str:
    """The whole reference as Markdown."""
    head = [
        "# Primitive reference",
        "",
        "<!-- generated by tools/primitive_reference.py from polyfunc/testing/optable.py; do not edit -->",
        "",
        "What a backend's kernel for each primitive receives and must return. A kernel is called as",
        "`kernel(*operands, **parameters)`: operands are the backend's arrays (or Python scalars where",
        "listed), parameters are Python values and NumPy dtypes. It returns one array of its own",
        "backend (a list for `slogdet`) whose shape and dtype are what the primitive's abstract",
        "evaluation gives; `POLYFUNC_CHECK_KERNELS=1` checks that on every call. The conformance suite",
        "(`pytest --pyargs polyfunc.testing.conformance --polyfunc-backend=NAME`) compares every",
        "kernel with the NumPy reference below, on the dtypes listed.",
        "",
        f"{len(OP_CASES) + len(_RANDOM)} primitives.",
        "",
    ]
    body = [_section(c) for c in OP_CASES]
    rand = ["## Random numbers", "",
            "No operands; the backend's generator (`seed`, `rng_state`, `set_rng_state`) supplies the numbers. "
            "The conformance suite checks shape, dtype, that one seed gives one stream, and the moments.", ""]
    for n in _RANDOM:
        extra = "; `low`, `high` (Python ints)" if n == "random_randint" else ""
        rand += [f"### `{n}`", "", MEANINGS[n], "", f"- parameters: `shape` (tuple), `dtype` (NumPy dtype){extra}",
                 "- Python scalars: never", ""]
    return "\n".join(head + ["## Primitives", ""] + [b + "\n" for b in body] + rand).rstrip() + "\n"
