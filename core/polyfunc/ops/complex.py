"""Complex-number primitives: ``real``, ``imag``, ``conj``, ``angle``, ``abs`` and
``sign`` (``abs`` and ``sign`` live here because their complex derivatives are
written with ``real`` and ``conj``).

Derivative convention (JAX's and HIPS autograd's): a complex number is a pair
of reals, a JVP is the real-linear map of tangents, and a VJP is its transpose
under the bilinear pairing ``<a, b> = Re(sum(a * b))`` -- no conjugation.  So
multiplication by ``c`` transposes to multiplication by ``c``; ``real``
transposes to "as complex", ``imag`` to "times -1j" and ``conj`` to ``conj``.
The gradient of a real function of a complex ``z`` is ``df/dx - i df/dy``, the
conjugate of torch's convention.
"""
from __future__ import annotations

import numpy as np  # dtypes only

from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..typing import Array, DTypeLike
from ..interpreters.batching import ElementwiseBatchRule
from .elementwise import _ae_elementwise, add, convert_element_type, div, eq, mul, select, sub
from .structural import dtype_of, full_like, shape_of

__all__ = ["real", "imag", "conj", "angle", "abs", "complex_from_parts", "real_dtype", "complex_dtype",
           "is_complex_dtype", "sign", "real_p", "imag_p", "conj_p", "angle_p", "abs_p", "sign_p"]

_REAL: dict[np.dtype, np.dtype] = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX: dict[np.dtype, np.dtype] = {np.dtype(np.float16): np.dtype(np.complex64), np.dtype(np.float32): np.dtype(np.complex64),
            np.dtype(np.float64): np.dtype(np.complex128)}


def is_complex_dtype(dt: DTypeLike) -> bool:
    return np.dtype(dt).kind == "c"


def real_dtype(dt: DTypeLike) -> np.dtype:
    """The real dtype of a complex one (float32 for complex64); a real dtype is its own."""
    d = np.dtype(dt)
    return _REAL.get(d, d)



def complex_dtype(dt: DTypeLike) -> np.dtype:
    """The complex dtype holding a real one (complex64 for float32 and float16, else complex128)."""
    dt = np.dtype(dt)
    return dt if dt.kind == "c" else _COMPLEX.get(dt, np.dtype(np.complex128))


def _unary_to_real(name):
    """A one-input elementwise primitive whose output is the real dtype of its input's."""
    p = Primitive(name)
    AE[p] = lambda x, **kw: ShapedArray(x.shape, real_dtype(x.dtype))
    BR[p] = ElementwiseBatchRule(lambda v, d, **kw: (p.bind(v[0], **kw), d[0]))
    return p


def _as_complex(ct, dt):
    """A real cotangent as an array of complex dtype ``dt`` (imaginary part zero)."""
    return convert_element_type(ct, dt) if dtype_of(ct) != dt else ct


# ------------------------------------------------------------------ real
real_p = _unary_to_real("real")


def real(x: Array) -> Array:
    """The real part (a real array for complex input; real input is returned as it is)."""
    return real_p.bind(x) if is_complex_dtype(dtype_of(x)) else x


JR[real_p] = lambda pr, t: (real_p.bind(pr[0]), real_p.bind(t[0]))
# <ct, Re t> = ct Re(t) = Re(ct t) for real ct: the transpose is ct itself, as complex
TR[real_p] = lambda ct, x: [_as_complex(ct, x.aval.dtype)]

# ------------------------------------------------------------------ imag
imag_p = _unary_to_real("imag")


def imag(x: Array) -> Array:
    """The imaginary part (zeros of x's dtype for real input)."""
    if is_complex_dtype(dtype_of(x)):
        return imag_p.bind(x)
    return full_like(x, 0, shape_of(x), dtype_of(x))


JR[imag_p] = lambda pr, t: (imag_p.bind(pr[0]), imag_p.bind(t[0]))
# ct Im(t) = Re((-i ct) t): the transpose is -i ct
TR[imag_p] = lambda ct, x: [mul(_as_complex(ct, x.aval.dtype), -1j)]

# ------------------------------------------------------------------ conj
conj_p = Primitive("conj")


def conj(x: Array) -> Array:
    """The complex conjugate (real input is returned as it is)."""
    return conj_p.bind(x) if is_complex_dtype(dtype_of(x)) else x


AE[conj_p] = lambda x: x
BR[conj_p] = ElementwiseBatchRule(lambda v, d: (conj_p.bind(v[0]), d[0]))
JR[conj_p] = lambda pr, t: (conj_p.bind(pr[0]), conj_p.bind(t[0]))
# Re(a conj(t)) = Re(conj(a) t): conj transposes to conj
TR[conj_p] = lambda ct, x: [conj_p.bind(ct)]


def complex_from_parts(re: Array, im: Array) -> Array:

    """``re + 1j * im`` from two real arrays of one dtype."""
    dt = complex_dtype(dtype_of(re))
    return add(convert_element_type(re, dt), mul(convert_element_type(im, dt), 1j))


# ------------------------------------------------------------------ angle
angle_p = _unary_to_real("angle")


# the ops are their primitives' binds (one call frame fewer on every use, as in elementwise.py):
# angle: the argument of a complex number in radians (pi for negative reals, else 0)
angle = angle_p.bind


def _angle_jvp(pr, t):
    z = pr[0]
    out = angle_p.bind(z)
    if not is_complex_dtype(dtype_of(z)):
        return out, None          # piecewise constant on the reals
    # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2) = Im(conj(z) t) / |z|^2
    a = abs_p.bind(z)
    return out, div(imag_p.bind(mul(conj_p.bind(z), t[0])), mul(a, a))


JR[angle_p] = _angle_jvp

# ------------------------------------------------------------------ abs
abs_p = _unary_to_real("abs")


abs = abs_p.bind      # the absolute value (the modulus, a real array, for complex input)


def _abs_jvp(pr, t):
    x = pr[0]
    out = abs_p.bind(x)
    if is_complex_dtype(dtype_of(x)):
        # d|z| = Re(conj(z) t) / |z|; at z == 0 there is no direction, and we take 0 (as for sign(0))
        at0 = eq(out, 0)
        safe = select(at0, full_like(out, 1, shape_of(out), dtype_of(out)), out)
        d = div(real_p.bind(mul(conj_p.bind(x), t[0])), safe)
        return out, select(at0, full_like(out, 0, shape_of(out), dtype_of(out)), d)
    return out, mul(t[0], sign_p.bind(x))


JR[abs_p] = _abs_jvp


# ------------------------------------------------------------------ sign
sign_p = Primitive("sign")


sign = sign_p.bind    # -1, 0 or 1 for real numbers (NaN stays NaN); z / |z| (0 at 0) for complex ones


def _sign_jvp(pr, t):
    x = pr[0]
    out = sign_p.bind(x)
    if not is_complex_dtype(dtype_of(x)):
        return out, None                 # piecewise constant on the reals
    # s = z/|z| moves only along the circle: ds = (t - s Re(conj(s) t)) / |z|, and 0 at z == 0
    a = abs_p.bind(x)
    at0 = eq(a, 0)
    safe = select(at0, full_like(a, 1, shape_of(a), dtype_of(a)), a)
    along = mul(out, convert_element_type(real_p.bind(mul(conj_p.bind(out), t[0])), dtype_of(x)))
    d = div(sub(t[0], along), convert_element_type(safe, dtype_of(x)))
    return out, select(at0, full_like(x, 0, shape_of(x), dtype_of(x)), d)


AE[sign_p] = _ae_elementwise("sign")
BR[sign_p] = ElementwiseBatchRule(lambda v, d: (sign_p.bind(v[0]), d[0]))
JR[sign_p] = _sign_jvp
