"""Native code on tracers: NumPy's ``__array_ufunc__``/``__array_function__`` and
torch's ``__torch_function__`` land here.  The map from a library's functions
to polyfunc callables is contributed by that library's backend plugin through
the ``polyfunc_native_functions`` hook."""
from __future__ import annotations

from typing import Any, Callable

from .backends import plugin_manager
from .registry import native_map, register_native

__all__ = ["native_map", "register_native", "method", "dispatch_ufunc", "dispatch_function"]


def method(name: str) -> Callable | None:
    """The callable a plugin registered for the method ``name`` of tracers, or None."""
    if not native_map:
        plugin_manager()     # the maps come with the plugins, loaded on first use
    return native_map.get(("method", name))


def _lookup(fn: Any) -> Callable:
    if not native_map:
        plugin_manager()
    impl = native_map.get(fn)
    if impl is None:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
        mod = getattr(fn, "__module__", None) or ""
        raise NotImplementedError(
            f"{mod + '.' if mod else ''}{name} has no polyfunc mapping, so it cannot run on a traced "
            f"value. Use the polyfunc.numpy equivalent, or register a mapping through the "
            f"polyfunc_native_functions hook.")
    return impl


def dispatch_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    if method != "__call__":
        raise NotImplementedError(f"numpy.{ufunc.__name__}.{method} is not supported on traced values; "
                                  f"use the polyfunc.numpy function instead.")
    out = kwargs.pop("out", None)
    if out is not None:
        raise TypeError(f"numpy.{ufunc.__name__}(..., out=...) writes in place, which a transform "
                        f"cannot trace; drop out= and use the returned value.")
    return _lookup(ufunc)(*inputs, **kwargs)


def dispatch_function(func: Any, args: tuple, kwargs: dict) -> Any:
    return _lookup(func)(*args, **kwargs)
