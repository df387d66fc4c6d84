"""Dtypes, NumPy 2 (NEP 50) type promotion, and turning operands into arrays.

The dtype rules are NumPy's own: a ufunc's ``resolve_dtypes`` answers which
loop NumPy would run for given input dtypes (Python scalar types stand for
weak scalars), without touching any data.  Answers are cached per ufunc and
dtypes, so after the first call the promotion costs one dict lookup.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np  # dtypes only

from .. import backends as _backends
from .. import ops
from ..avals import get_aval
from ..backends import backend_of, current_backend, get_backend, owner_of, use_backend
from ..errors import DTypeError, ShapeError
from ..trace import Tracer
from ..typing import Array, ArrayLike, BackendLike, DTypeLike

bool_ = np.dtype(bool)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)
try:   # bfloat16 has no NumPy dtype of its own; ml_dtypes (installed with the torch extra) gives it one
    import ml_dtypes as _ml_dtypes
    bfloat16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:
    bfloat16 = None
# floating dtypes NumPy files under another kind ('V'): the backends that have them say so
EXTRA_FLOATS = frozenset({bfloat16} - {None})
DEFAULT_INT, DEFAULT_FLOAT, DEFAULT_COMPLEX = int64, float64, complex128

SUPPORTED_KINDS = "biufc"                  # bool, signed, unsigned, float, complex; no object or strings
PY_SCALARS = (bool, int, float, complex)   # weak operands: they take the dtype of the array they meet
_PY_SCALAR_SET = frozenset(PY_SCALARS)
# which dtype kinds a weak Python scalar can join without changing the array's dtype
_SCALAR_FITS = {bool: "biufcV", int: "iufcV", float: "fcV", complex: "c"}   # V: bfloat16, a float

# Classes whose instances are arrays or tracers (they have a reliable ``.dtype``);
# filled as classes are met, so the hot paths test membership in a set.
ARRAY_TYPES: set = set()
_NOT_ARRAY: set = set(_PY_SCALAR_SET) | {list, tuple, str, bytes, type(None)}


def is_array(x) -> bool:
    """Whether ``x`` is an array of some backend or a tracer."""
    cls = x.__class__
    if cls in ARRAY_TYPES:
        return True
    if cls in _NOT_ARRAY:
        return False
    if issubclass(cls, Tracer):
        ARRAY_TYPES.add(cls)
        return True
    try:
        owner = owner_of(x, None)
    except TypeError:
        owner = None
    if owner is None:
        _NOT_ARRAY.add(cls)
        return False
    ARRAY_TYPES.add(cls)
    return True


_dtype_cache: dict = {}


def canonical_dtype(d, name: str = "dtype") -> np.dtype:
    """``np.dtype(d)``, refusing dtypes polyfunc does not support (DTypeError)."""
    key = (d.__class__, d)          # by class first: a library's dtype never meets NumPy's in ==
    try:
        return _dtype_cache[key]
    except (KeyError, TypeError):
        pass
    try:
        dt = np.dtype(d)
    except TypeError:
        if d == "bfloat16" or getattr(d, "__name__", None) == "bfloat16":
            raise DTypeError(f"{name}: bfloat16 needs the ml_dtypes package (pip install ml_dtypes, or "
                             f"polyfunc[torch]), and then the torch backend; polyfunc's NumPy backend has no "
                             f"bfloat16 (use float16 or float32 there).") from None
        aval_dt = getattr(d, "dtype", None)  # a backend's own dtype object
        if aval_dt is None:
            raise DTypeError(f"{name}: {d!r} is not a dtype; use e.g. polyfunc.numpy.float32 or 'float64'.")
        dt = np.dtype(aval_dt)
    check_kind(dt, name)
    try:
        _dtype_cache[key] = dt
    except TypeError:  # unhashable dtype-like
        pass
    return dt


def check_kind(dt: np.dtype, name: str) -> None:
    if dt.kind not in SUPPORTED_KINDS and dt not in EXTRA_FLOATS:
        if dt.name == "bfloat16":
            raise DTypeError(f"{name}: bfloat16 is not a NumPy dtype; polyfunc's NumPy backend has no "
                             f"bfloat16 (use float16 or float32 there, or the torch backend, where bfloat16 "
                             f"is supported: polyfunc.numpy.asarray(x, backend='torch')).")
        raise DTypeError(f"{name}: dtype {dt} is not supported; polyfunc arrays are bool, integer, "
                         f"floating point or complex (e.g. float32, float64, complex128, int64, bool).")


def backend_for(x):
    """The backend an array or tracer computes on (the current one for tracers of no backend)."""
    if isinstance(x, Tracer):
        f = getattr(x, "_backend", None)
        b = f() if f is not None else None
        return b if b is not None else current_backend()
    return backend_of(x)


def to_array(x, partner=None, dtype=None):
    """``x`` as an array: arrays and tracers pass through, anything else (Python
    scalars, lists, numpy scalars) is built on ``partner``'s backend."""
    if is_array(x):
        return x
    if partner is not None and is_array(partner):
        return asarray(x, dtype=dtype, backend=backend_for(partner))
    return asarray(x, dtype=dtype)


_resolve_cache: dict = {}


def resolve(name: str, ufunc, dtypes: tuple) -> tuple:
    """The loop dtypes (inputs..., output) NumPy's ``ufunc`` uses for ``dtypes``
    (numpy dtypes, or Python types for weak scalars)."""
    key = (ufunc, dtypes)
    r = _resolve_cache.get(key)
    if r is not None:
        return r
    for d in dtypes:
        if isinstance(d, np.dtype):
            check_kind(d, name)
    # a Python bool promotes like a bool array (bool is the lowest kind); NumPy
    # takes only int, float and complex as weak scalar types
    query = tuple(bool_ if d is bool else d for d in dtypes)
    try:
        r = ufunc.resolve_dtypes(query + (None,) * ufunc.nout)
    except (TypeError, ValueError) as e:
        shown = ", ".join(str(d) if isinstance(d, np.dtype) else f"Python {d.__name__}" for d in dtypes)
        raise DTypeError(f"{name} is not defined for dtype{'s' if len(dtypes) > 1 else ''} {shown} "
                         f"(NumPy has no such loop: {e}). Convert with astype first.") from None
    for d in r:
        check_kind(d, name)
    _resolve_cache[key] = r
    return r


def scalar_fits(value, dt: np.dtype) -> bool:
    """Whether a Python scalar can stay weak next to an array of ``dt``."""
    return dt.kind in _SCALAR_FITS[value.__class__]


def scalar_dtype(value) -> np.dtype:
    """The dtype NumPy gives a lone Python scalar."""
    cls = value.__class__
    if cls is bool:
        return bool_
    if cls is int:
        return DEFAULT_INT
    if cls is float:
        return DEFAULT_FLOAT
    if cls is complex:
        return DEFAULT_COMPLEX
    raise DTypeError(f"{value!r} of type {cls.__name__} is not a supported scalar.")


def convert(x, aval_dtype, dt):
    """``x`` converted to ``dt`` (no primitive when it already has it)."""
    return x if aval_dtype == dt else ops.convert_element_type(x, dt)


def scalar_array(value, like, dt):
    """A 0-d array holding ``value`` with dtype ``dt`` on ``like``'s backend."""
    return ops.full_like(like, value, (), dt)


def result_type(*args: ArrayLike | DTypeLike) -> np.dtype:

    """The dtype NumPy 2 gives an operation on ``args`` (arrays, scalars or dtypes)."""
    parts: list = []
    for a in args:
        if a.__class__ in _PY_SCALAR_SET:
            parts.append(a)
        elif is_array(a):
            parts.append(get_aval(a).dtype)
        elif isinstance(a, (list, tuple)):
            parts.append(get_aval(to_array(a)).dtype)
        else:
            parts.append(canonical_dtype(a, "result_type"))
    if not parts:
        raise ValueError("result_type needs at least one array, scalar or dtype")
    if all(p.__class__ in _PY_SCALAR_SET for p in parts):
        parts[0] = scalar_dtype(parts[0])
    dt = np.result_type(*parts)
    check_kind(dt, "result_type")
    return dt


def promote_arrays(name: str, args: list) -> tuple[list, np.dtype]:
    """Arrays of one dtype (NumPy 2 promotion, Python scalars weak) from ``args``;
    Python scalars become 0-d arrays on the first array's backend."""
    partner = next((a for a in args if is_array(a)), None)
    conv = []
    for a in args:
        if a.__class__ in _PY_SCALAR_SET:
            conv.append(a)
        else:
            conv.append(to_array(a, partner))
            if partner is None:
                partner = conv[-1]
    dt = result_type(*conv)
    out = []
    for a in conv:
        if a.__class__ in _PY_SCALAR_SET:
            if partner is None:
                out.append(asarray(a, dtype=dt))
            else:
                out.append(scalar_array(a, partner, dt))
        else:
            out.append(convert(a, get_aval(a).dtype, dt))
    return out, dt


# ---------------------------------------------------------------- turning operands into arrays
def _pick_backend(backend=None, like=None):
    """Explicit ``backend=`` first, then ``like``'s backend, then the current one."""
    if backend is not None:
        return get_backend(backend)
    if like is not None:
        return backend_for(like)
    return current_backend()


def _on(backend):
    """A context that makes ``backend`` current for primitives that take no array (iota)."""
    if backend is current_backend():
        return contextlib.nullcontext()
    return use_backend(backend)


def _contains_arrays(obj) -> bool:
    for e in obj:
        if isinstance(e, (list, tuple)):
            if _contains_arrays(e):
                return True
        elif e.__class__ not in PY_SCALARS and is_array(e):
            return True
    return False


def _selected_backend():
    """The backend chosen by ``use_backend`` or ``POLYFUNC_BACKEND``; None when neither chose one
    (then the NumPy default does not claim arrays of other backends)."""
    b = _backends._selected.get()     # the use_backend context variable (read, never set, here)
    if b is None and os.environ.get("POLYFUNC_BACKEND"):
        b = current_backend()
    return b


def foreign_target(obj, backend=None, like=None):
    """The backend a creation function moves the concrete array ``obj`` to, or None to keep it:
    the explicit ``backend=``, else ``like``'s, else the selected one, as torch.as_tensor and
    jnp.asarray produce their own arrays.  Tracers stay what they are."""
    if isinstance(obj, Tracer):
        return None
    if backend is not None:
        target = get_backend(backend)
    elif like is not None:
        target = backend_for(like)
    else:
        target = _selected_backend()
        if target is None:
            return None
    return None if backend_for(obj) is target else target


def asarray(obj: ArrayLike, dtype: DTypeLike = None, backend: BackendLike = None, like: ArrayLike | None = None,
            copy: bool | None = None) -> Array:
    """``obj`` as an array (arrays and tracers are returned as they are, converted to ``dtype`` if given).

    A concrete array of another backend than the one chosen (``backend=``, ``like=``'s backend, or
    the one selected by ``use_backend``/``POLYFUNC_BACKEND``) is converted to that backend."""
    dt = None if dtype is None else canonical_dtype(dtype, "asarray")
    if is_array(obj):
        target = foreign_target(obj, backend, like)
        if target is not None:
            src = backend_for(obj)
            if src is not target:  # a creation request: the one place arrays move between backends
                obj = target.asarray(src.to_numpy(obj))
        a = get_aval(obj)
        check_kind(a.dtype, "asarray")
        if dt is not None and a.dtype != dt:
            return ops.convert_element_type(obj, dt)
        return obj
    if isinstance(obj, (list, tuple)) and _contains_arrays(obj):
        # a nested sequence holding arrays or tracers: stack its elements
        out = _stack_new_axis([asarray(e, backend=backend, like=like) for e in obj])
        return out if dt is None else asarray(out, dt)
    if obj.__class__ is complex:
        raise DTypeError("asarray: complex numbers are not supported.")
    b = _pick_backend(backend, like)
    out = b.asarray(obj, dt)
    check_kind(get_aval(out).dtype, "asarray")
    return out


def _stack_new_axis(arrays: list):
    """Arrays of one shape (promoted to one dtype) stacked along a new leading axis: a nested
    sequence of arrays given to asarray."""
    arrays, _ = promote_arrays("asarray", arrays)
    shapes = [get_aval(a).shape for a in arrays]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"asarray: the nested arrays must all have the same shape, got {shapes}")
    return ops.concatenate([ops.expand_dims(a, (0,)) for a in arrays], 0)
