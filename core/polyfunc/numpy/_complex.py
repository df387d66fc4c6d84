"""Complex numbers: real and imaginary parts, conjugate, angle (NumPy's names)."""
from __future__ import annotations

import math

import numpy as np  # dtypes only

from .. import ops
from ..avals import get_aval
from ..typing import Array, ArrayLike
from ._dtypes import check_kind, complex64, complex128, to_array  # noqa: F401

__all__ = ["real", "imag", "conj", "conjugate", "angle", "real_if_close", "iscomplexobj", "isrealobj",
           "iscomplex", "isreal", "complex64", "complex128", "complexfloating", "cdouble", "csingle"]

complexfloating = np.complexfloating
cdouble, csingle = complex128, complex64


def real(val: ArrayLike) -> Array:
    """The real part (real input is returned as it is)."""
    return ops.real(to_array(val))


def imag(val: ArrayLike) -> Array:
    """The imaginary part (zeros for real input)."""
    return ops.imag(to_array(val))


def conj(x: ArrayLike) -> Array:
    """The complex conjugate, elementwise (real input is returned as it is)."""
    x = to_array(x)
    check_kind(get_aval(x).dtype, "conj")
    return ops.conj(x)


conjugate = conj


def angle(z: ArrayLike, deg: bool = False) -> Array:
    """The counterclockwise angle from the positive real axis (radians, or degrees with ``deg``).
    Integer input computes in float64, as NumPy does."""
    z = to_array(z)
    d = get_aval(z).dtype
    if d.kind not in "fc":
        check_kind(d, "angle")
        z = ops.convert_element_type(z, np.float64)
    out = ops.angle(z)
    return ops.mul(out, 180.0 / math.pi) if deg else out


def real_if_close(a: ArrayLike, tol: float = 100) -> Array:
    """The real part when every imaginary part is within ``tol`` machine epsilons of zero, else ``a``.
    The choice reads the values, so under a transform it is made from the concrete values."""
    a = to_array(a)
    d = get_aval(a).dtype
    if d.kind != "c":
        return a
    eps = np.finfo(d).eps
    limit = tol * eps if tol > 1 else tol
    if bool(ops.reduce_max(ops.abs(ops.imag(a)), tuple(range(len(get_aval(a).shape)))) <= limit) \
            if get_aval(a).shape else bool(ops.abs(ops.imag(a)) <= limit):
        return ops.real(a)
    return a


def iscomplexobj(x: ArrayLike) -> bool:
    """Whether ``x`` has a complex dtype (a Python complex counts)."""
    if isinstance(x, complex):
        return True
    return get_aval(to_array(x)).dtype.kind == "c"


def isrealobj(x: ArrayLike) -> bool:
    """Whether ``x`` has no complex dtype."""
    return not iscomplexobj(x)


def iscomplex(x: ArrayLike) -> Array:
    """Elementwise: whether the imaginary part is nonzero."""
    x = to_array(x)
    return ops.ne(ops.imag(x), 0)


def isreal(x: ArrayLike) -> Array:

    """Elementwise: whether the imaginary part is zero."""
    x = to_array(x)
    return ops.eq(ops.imag(x), 0)
