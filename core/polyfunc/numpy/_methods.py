"""What makes a tracer behave like an array: operators, ``.shape``/``.dtype``/``.size``,
indexing, the common methods and NumPy's and torch's override protocols.

``polyfunc.numpy`` installs ``TRACER_METHODS`` on ``Tracer`` when it is imported
(``trace.install_methods``), so the trace module knows no user-level module.  Each
method has NumPy's semantics unless the array under the tracer belongs to a backend
with its own method semantics (torch: ``x.sum(dim=0)``, ``x.size(0)``); then the
callable its plugin registered for ``("method", name)`` runs instead.
"""
from __future__ import annotations

from typing import Any, Callable

from ..backends import Backend, _escaped, backend_of
from ..interpreters.eval import _current
from ..native import dispatch_function, dispatch_ufunc, method as native_method
from ..registry import UNKNOWN, native_backends, native_map, type_owner
from ..trace import Trace, Tracer
from ._elementwise import (abs, add, bitwise_and, bitwise_or, bitwise_xor, clip, divide, equal, floor_divide, greater,
                           greater_equal, invert, less, less_equal, multiply, negative, not_equal, power, remainder,
                           round, subtract)
from ._complex import conj, imag, real
from ._indexing import _getitem
from ._products import dot, matmul
from ._reductions import argmax, argmin, argsort, cumprod, cumsum, mean, std, var
from ._reductions import max as _max, min as _min, prod as _prod, sum as _sum
from ._shape import astype, ravel, reshape, squeeze, swapaxes, transpose

__all__ = ["TRACER_METHODS", "native_backend"]

_NOT_SET = object()
_type_owner_get = type_owner.get


def native_backend(x: Tracer) -> Backend | None:
    """``x``'s backend if its library has its own method semantics (torch), else None."""
    if not native_backends:      # no such library in use: the cheap answer
        return None
    # the concrete array under this tracer's chain names the backend (one dict lookup a level)
    name, v = x._wraps, x
    while name is not None:
        v = getattr(v, name)
        b = _type_owner_get(v.__class__, None)
        if b is not None and b is not UNKNOWN:
            return b if b.native_methods else None
        name = getattr(v.__class__, "_wraps", None)
    t = x._trace
    cached = t.__dict__.get("_native_backend", _NOT_SET)   # one answer per trace: all its
    if cached is not _NOT_SET:                              # values live on one backend
        return cached
    try:
        b = backend_of(x)
    except Exception:
        return None
    t.__dict__["_native_backend"] = nb = b if b.native_methods else None
    return nb


def _native_method(x: Tracer, name: str) -> Callable | None:
    """The plugin's method ``name`` when ``x``'s library has its own method semantics."""
    if native_backend(x) is None:
        return None
    return native_method(name)


def _numpy_or_native(name: str, numpy_impl: Callable) -> Callable:
    """A tracer method with NumPy's semantics, unless the array's library has its own (torch)."""
    def method(self: Tracer, *args: Any, **kwargs: Any) -> Any:
        if native_backends:      # only then can the library's own method apply
            fn = _native_method(self, name)
            if fn is not None:
                return fn(self, *args, **kwargs)
        return numpy_impl(self, *args, **kwargs)
    method.__name__ = name
    return method


class _Size(int):
    """``x.size``: an int (NumPy's attribute) that can also be called (torch's ``x.size(dim)``)."""

    _shape: Any

    def __new__(cls, n: int, shape: Any) -> _Size:
        obj = super().__new__(cls, n)
        obj._shape = shape
        return obj

    def __call__(self, dim: int | None = None) -> Any:
        return self._shape if dim is None else self._shape[dim]


def _inplace_sort(*args: Any, **kwargs: Any) -> None:
    raise TypeError("ndarray.sort() sorts in place, which a traced array cannot do; use "
                    "polyfunc.numpy.sort(x, axis) (it returns the sorted copy).")


def _shape(self: Tracer) -> Any:
    b = native_backend(self)
    return self.aval.shape if b is None else b.native_shape(self.aval.shape)


def _dtype(self: Tracer) -> Any:
    dt = self.aval.dtype
    if not native_backends:      # the common case, without a call
        return dt
    b = native_backend(self)
    return dt if b is None else b.native_dtype(dt)


def _size(self: Tracer) -> _Size:
    return _Size(self.aval.size, self.shape)


def _no_attribute(name: str) -> AttributeError:
    return AttributeError(f"a traced array has no method or attribute {name!r}; use the "
                          f"polyfunc.numpy function of that name if there is one.")


def _getattr(self: Tracer, name: str) -> Any:
    # methods of a native array type (torch's x.relu(), x.dim()), contributed by its plugin;
    # a tracer of a NumPy-like array has only NumPy's methods, even when torch is loaded
    if name.startswith("__") or name in ("_trace", "primal", "tangent", "val", "bdim", "_aval"):
        raise AttributeError(name)
    if native_backend(self) is None:
        raise _no_attribute(name)
    prop = native_map.get(("property", name))    # a plugin's attribute (torch's x.device)
    if prop is not None:
        return prop(self)
    fn = native_method(name)
    if fn is None:
        raise _no_attribute(name)
    return lambda *args, **kwargs: fn(self, *args, **kwargs)


def _len(self: Tracer) -> int:
    if not self.shape:
        hint = ""
        if native_backend(self) is not None:
            # torch.tensor(x) and torch.as_tensor(x) read a non-tensor element by element, and a
            # tracer is not a tensor to them: this len() is their probe
            hint = (" If this came from torch.tensor(x) or torch.as_tensor(x) of a traced value x, use x "
                    "itself (x.clone(), x.to(dtype), x.detach() where no gradient is wanted): those "
                    "functions copy data and cannot trace through it.")
        raise TypeError(f"len() of a 0-d array: a value traced by `{self._trace.transform}` with shape () "
                        f"has no length.{hint}")
    return self.shape[0]


def _live_concrete(self: Tracer) -> Any:
    """``concrete()``, after checking this tracer's transform is still running: a tracer saved
    and read after its transform returned raises instead of handing out its value."""
    mine = self._trace
    t: Trace | None = _current.get()
    while t is not None:
        if t is mine:
            return self.concrete()
        t = t.parent
    raise _escaped(mine, self, "")


def _item(self: Tracer) -> Any:
    return _live_concrete(self).item()


def _tolist(self: Tracer) -> Any:
    return _live_concrete(self).tolist()


def _no_out(name: str) -> Any:
    raise TypeError(f"ndarray.{name}(..., out=...) writes in place, which a traced array cannot do; drop out= "
                    f"and use the returned value.")


def _reshape(self: Tracer, *shape: Any) -> Any:
    return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)


def _transpose(self: Tracer, *axes: Any) -> Any:
    return transpose(self, (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes) or None)


def _torch_function(cls: type, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    impl = native_map.get(func)     # every torch call on a tracer lands here: the map first, no detour
    if impl is not None:
        return impl(*args, **kwargs) if kwargs else impl(*args)
    return dispatch_function(func, args, kwargs or {})


_NUMPY_OR_NATIVE: dict[str, Callable] = {
    # operators
    "__neg__": negative, "__abs__": abs, "__invert__": invert,
    "__add__": add, "__radd__": lambda self, o: add(o, self),
    "__sub__": subtract, "__rsub__": lambda self, o: subtract(o, self),
    "__mul__": multiply, "__rmul__": lambda self, o: multiply(o, self),
    "__truediv__": divide, "__rtruediv__": lambda self, o: divide(o, self),
    "__floordiv__": floor_divide, "__rfloordiv__": lambda self, o: floor_divide(o, self),
    "__mod__": remainder, "__rmod__": lambda self, o: remainder(o, self),
    "__pow__": power, "__rpow__": lambda self, o: power(o, self),
    "__matmul__": matmul, "__rmatmul__": lambda self, o: matmul(o, self),
    "__and__": bitwise_and, "__rand__": lambda self, o: bitwise_and(o, self),
    "__or__": bitwise_or, "__ror__": lambda self, o: bitwise_or(o, self),
    "__xor__": bitwise_xor, "__rxor__": lambda self, o: bitwise_xor(o, self),
    "__eq__": equal, "__ne__": not_equal, "__lt__": less, "__le__": less_equal,
    "__gt__": greater, "__ge__": greater_equal,
    # methods
    "sum": lambda self, axis=None, keepdims=False, dtype=None: _sum(self, axis=axis, keepdims=keepdims, dtype=dtype),
    "mean": lambda self, axis=None, keepdims=False: mean(self, axis=axis, keepdims=keepdims),
    "var": lambda self, axis=None, ddof=0, keepdims=False: var(self, axis=axis, ddof=ddof, keepdims=keepdims),
    "std": lambda self, axis=None, ddof=0, keepdims=False: std(self, axis=axis, ddof=ddof, keepdims=keepdims),
    "prod": lambda self, axis=None, keepdims=False: _prod(self, axis=axis, keepdims=keepdims),
    "max": lambda self, axis=None, keepdims=False: _max(self, axis=axis, keepdims=keepdims),
    "min": lambda self, axis=None, keepdims=False: _min(self, axis=axis, keepdims=keepdims),
    "argmax": lambda self, axis=None: argmax(self, axis=axis),
    "argmin": lambda self, axis=None: argmin(self, axis=axis),
    "cumsum": lambda self, axis=None, dtype=None: cumsum(self, axis=axis, dtype=dtype),
    "cumprod": lambda self, axis=None, dtype=None: cumprod(self, axis=axis, dtype=dtype),
    "argsort": lambda self, axis=-1, kind=None, order=None, *, stable=None: argsort(self, axis=axis, kind=kind,
                                                                                    order=order),
    "sort": _inplace_sort,
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": lambda self, a, b: swapaxes(self, a, b),
    "squeeze": lambda self, axis=None: squeeze(self, axis=axis),
    "ravel": lambda self: ravel(self),
    "flatten": lambda self: ravel(self),
    "astype": lambda self, dtype: astype(self, dtype),
    "dot": lambda self, o: dot(self, o),
    "clip": lambda self, a_min=None, a_max=None: clip(self, a_min, a_max),
    "round": lambda self, decimals=0, out=None: round(self, decimals) if out is None else _no_out("round"),
    "copy": lambda self: self,
    "conj": lambda self: conj(self),
    "conjugate": lambda self: conj(self),
}

# name -> what Tracer gets: functions become methods, properties attributes
TRACER_METHODS: dict[str, Any] = {name: _numpy_or_native(name, impl) for name, impl in _NUMPY_OR_NATIVE.items()}
TRACER_METHODS.update({
    "__pos__": lambda self: self,
    "__len__": _len,
    # reading a value out: only while the tracer's transform runs (else EscapedTracerError)
    "__bool__": lambda self: bool(_live_concrete(self)),
    "__float__": lambda self: float(_live_concrete(self)),
    "__int__": lambda self: int(_live_concrete(self)),
    "__index__": lambda self: int(_live_concrete(self)),
    "__complex__": lambda self: complex(_live_concrete(self)),
    "item": _item,
    "tolist": _tolist,
    "__getitem__": lambda self, idx: _getitem(self, idx),
    "__getattr__": _getattr,
    "shape": property(_shape),
    "dtype": property(_dtype),
    "size": property(_size),
    "T": property(lambda self: transpose(self)),
    "mT": property(lambda self: swapaxes(self, -1, -2)),
    # complex parts: the same attributes in NumPy and torch
    "real": property(lambda self: real(self)),
    "imag": property(lambda self: imag(self)),
    # NumPy's and torch's override protocols; the map comes from backend plugins
    "__array_ufunc__": lambda self, ufunc, method, *inputs, **kwargs: dispatch_ufunc(ufunc, method, inputs, kwargs),
    "__array_function__": lambda self, func, types, args, kwargs: dispatch_function(func, args, kwargs),
    "__torch_function__": classmethod(_torch_function),
})
