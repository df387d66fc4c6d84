"""Kernels for complex tensors: the complex-number primitives (real, imag, conj, angle) and
complex-aware versions of the kernels whose torch function refuses complex input or
does something else with it than NumPy does:

- comparisons, maximum/minimum and argmax/argmin order complex numbers lexicographically
  (real part, then imaginary), as NumPy does; torch refuses to compare them;
- sign of a complex number is ``z / |z|`` (torch.sgn; torch.sign refuses complex);
- converting complex to real keeps the real part, without torch's warning;
Each wrapper hands real input to the kernel it wraps unchanged.  (A Python complex operand is a
weak scalar like a Python float: kernels.py counts complex among the Python scalars.)"""
from __future__ import annotations

import math

import torch


def _is_complex(v) -> bool:
    return v.__class__ is complex or (isinstance(v, torch.Tensor) and v.is_complex())


def _tensors(x, y):
    """Both operands as tensors of one complex dtype on one device (Python scalars take the
    tensor's dtype)."""
    like = x if isinstance(x, torch.Tensor) else y
    dt = like.dtype if like.is_complex() else (torch.complex64 if like.dtype in (torch.float32, torch.float16)
                                               else torch.complex128)
    x = torch.as_tensor(x, dtype=dt, device=like.device) if not isinstance(x, torch.Tensor) else x.to(dt)
    y = torch.as_tensor(y, dtype=dt, device=like.device) if not isinstance(y, torch.Tensor) else y.to(dt)
    return x, y


def _lex_less(x, y, strict: bool):
    """Lexicographic ``x < y`` (``x <= y`` when not strict) of complex tensors."""
    xr, yr, xi, yi = x.real, y.real, x.imag, y.imag
    tie = (xi < yi) if strict else (xi <= yi)
    return (xr < yr) | ((xr == yr) & tie)


# Real input must not pay for complex support: these kernels call torch's first, which refuses
# complex tensors with an error, and only then look at the dtypes.
_REFUSALS = (RuntimeError, TypeError, NotImplementedError)


def _compare(real_kernel, flip: bool, strict: bool):
    def kernel(x, y):
        try:
            return real_kernel(x, y)
        except _REFUSALS:
            if not (_is_complex(x) or _is_complex(y)):
                raise
        x, y = _tensors(x, y)
        return _lex_less(y, x, strict) if flip else _lex_less(x, y, strict)
    return kernel


def _extremum(real_kernel, want_max: bool):
    def kernel(x, y):
        try:
            return real_kernel(x, y)
        except _REFUSALS:
            if not (_is_complex(x) or _is_complex(y)):
                raise
        x, y = _tensors(x, y)
        x_wins = _lex_less(y, x, True) if want_max else _lex_less(x, y, True)
        nan = torch.isnan(x.real) | torch.isnan(x.imag)     # NaN propagates, as in NumPy
        return torch.where(x_wins | nan, x, y)
    return kernel


def _reduce_extremum(real_kernel, want_max: bool):
    """max/min over ``axes`` of a complex tensor by NumPy's lexicographic order."""
    def kernel(x, *, axes):
        try:
            return real_kernel(x, axes=axes)
        except _REFUSALS:
            if not x.is_complex():
                raise
        keep = [d for d in range(x.dim()) if d not in axes]
        flat = x.permute(keep + list(axes)).reshape([x.shape[d] for d in keep] + [-1])
        # stable sorts by the imaginary part and then the real part: the lexicographic order
        by_imag = torch.argsort(flat.imag, dim=-1, stable=True)
        re = torch.gather(flat.real, -1, by_imag)
        order = torch.gather(by_imag, -1, torch.argsort(re, dim=-1, stable=True))
        pick = order[..., -1:] if want_max else order[..., :1]
        return torch.gather(flat, -1, pick).squeeze(-1)
    return kernel


def _arg_extremum(real_kernel, first_max, want_max: bool):
    """argmax/argmin along ``axis`` of a complex tensor by NumPy's lexicographic order: the
    first index of the extreme value, and the first index holding a NaN (in either part)
    wherever one is present, as NumPy's argmax/argmin do."""
    def kernel(x, *, axis, index_dtype):
        try:
            return real_kernel(x, axis=axis, index_dtype=index_dtype)
        except _REFUSALS:
            if not x.is_complex():
                raise
        pick = torch.amax if want_max else torch.amin
        worst = -math.inf if want_max else math.inf
        re, im = x.real, x.imag
        # candidates: the extreme real part; among them, the extreme imaginary part
        cand = re == pick(re, axis, keepdim=True)
        im = torch.where(cand, im, torch.full_like(im, worst))
        hit = cand & (im == pick(im, axis, keepdim=True))
        nan = torch.isnan(re) | torch.isnan(x.imag)
        hit = torch.where(nan.any(axis, keepdim=True), nan, hit)
        # the real argmax kernel returns the first of equal maxima: the first hit
        return first_max(hit.to(torch.uint8), axis=axis, index_dtype=index_dtype)
    return kernel


def _sign(real_kernel):
    def kernel(x):
        try:
            return real_kernel(x)
        except _REFUSALS:
            if not x.is_complex():
                raise
        return torch.sgn(x)
    return kernel


def _convert(real_kernel):
    def kernel(x, *, new_dtype):
        if new_dtype.kind != "c" and (x.__class__ is complex or (x.__class__ is not bool and x.is_complex())):
            x = x.real
        return real_kernel(x, new_dtype=new_dtype)
    return kernel


def _angle(x):
    # torch.angle gives 0 at -0.0 where NumPy gives pi (the sign bit decides, as for any negative)
    if x.is_complex() or not x.is_floating_point():
        return torch.angle(x)
    out = torch.where(torch.signbit(x), torch.full_like(x, math.pi), torch.zeros_like(x))
    return torch.where(torch.isnan(x), x, out)


def _imag(x):
    return x.imag if x.is_complex() else torch.zeros_like(x)


def complex_kernels(k: dict) -> dict:
    """Replacements and additions for the kernel table ``k`` (the real-only kernels)."""
    return {
        "real": lambda x: x.real, "imag": _imag,
        "conj": lambda x: torch.conj(x).resolve_conj(),   # a materialised conjugate, not torch's lazy bit
        "angle": _angle,
        "sign": _sign(k["sign"]),
        "convert_element_type": _convert(k["convert_element_type"]),
        "lt": _compare(k["lt"], False, True), "le": _compare(k["le"], False, False),
        "gt": _compare(k["gt"], True, True), "ge": _compare(k["ge"], True, False),
        "max": _extremum(k["max"], True), "min": _extremum(k["min"], False),
        "reduce_max": _reduce_extremum(k["reduce_max"], True),
        "reduce_min": _reduce_extremum(k["reduce_min"], False),
        "argmax": _arg_extremum(k["argmax"], k["argmax"], True),
        "argmin": _arg_extremum(k["argmin"], k["argmax"], False),
    }


