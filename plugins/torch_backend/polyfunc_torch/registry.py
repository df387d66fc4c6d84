"""The torch map's registry: ``@implements(torch.sin, method="sin")`` beside each definition.

Every topic module (``elementwise``, ``reductions``, ``nn.losses``, ...) registers the
torch callables it implements where it defines them, NumPy NEP 18's ``implements``
idiom: the decorator records ``torch object -> polyfunc callable`` in ``REGISTRY`` and
returns the function unchanged, so other modules may call it.  ``torch_map`` imports
the topic modules and hands the filled registry to polyfunc.

Keys are what ``Tracer.__torch_function__`` receives (a function of ``torch``,
``torch.nn.functional``, ``torch.special``, ``torch.linalg`` or a ``torch.Tensor``
method), plus ``("method", name)`` for a method called on a tracer (``x.relu()``: a
tracer is no ``torch.Tensor``, so torch never dispatches its methods) and
``("property", name)`` for an attribute read on one (``x.device``).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, TypeVar

import torch

from .promotion import torch_promoted

F = TypeVar("F", bound=Callable[..., Any])

REGISTRY: dict[Any, Callable[..., Any]] = {}


def no_out(out: Any, name: str) -> None:
    """Refuse a real ``out=`` (an in-place write a transform cannot trace)."""
    if out is not None:
        raise TypeError(f"torch.{name}(..., out=...) writes in place, which a transform cannot trace; "
                        f"drop out= and use the returned value.")


def _accepting_out(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` taking (and refusing a real) ``out=``: torch forwards ``out=None`` through
    ``handle_torch_function`` for many functions."""
    name = getattr(fn, "__name__", "function")

    @functools.wraps(fn)
    def w(*args, **kwargs):
        if "out" in kwargs:
            no_out(kwargs.pop("out"), name)
        return fn(*args, **kwargs)
    return w


def _swapped(fn: Callable[..., Any]) -> Callable[..., Any]:
    def w(self, other):
        return fn(other, self)
    w.__name__ = "r" + getattr(fn, "__name__", "op")
    return w


def _put(key: Any, fn: Callable[..., Any]) -> None:
    prev = REGISTRY.get(key)
    if prev is not None and getattr(prev, "__wrapped__", prev) is not getattr(fn, "__wrapped__", fn):
        raise ValueError(f"polyfunc_torch: {key!r} is registered twice ({getattr(prev, '__wrapped__', prev)} "
                         f"and {getattr(fn, '__wrapped__', fn)}); keep one registration")
    REGISTRY[key] = fn


def implements(*torch_objects: Any, method: str | Iterable[str] | None = None, promote: bool | str = False,
               swap: bool = False) -> Callable[[F], F]:
    """Register the decorated function for ``torch_objects`` and the Tensor method(s) ``method``.

    ``method="add"`` registers ``torch.Tensor.add`` (for a real tensor meeting a tracer)
    and the tracer method ``x.add(...)``.  ``promote=True`` casts the first two operands
    to the dtype torch would compute in (``"true_div"``: int / int gives the default
    float), see ``promotion``; ``swap=True`` exchanges them (reflected operators).
    Objects this torch build lacks may be passed as None and are skipped."""
    methods = () if method is None else (method,) if isinstance(method, str) else tuple(method)

    def decorate(fn: F) -> F:
        impl: Callable[..., Any] = fn
        if promote:
            impl = torch_promoted(impl, true_div=promote == "true_div")
        if swap:
            impl = _swapped(impl)
        impl = _accepting_out(impl)
        for obj in torch_objects:
            if obj is not None:
                _put(obj, impl)
        for name in methods:
            tensor_method = getattr(torch.Tensor, name, None)
            if tensor_method is not None:
                _put(tensor_method, impl)
                _put(("method", name), impl)
        return fn
    return decorate


def tensor_property(name: str) -> Callable[[F], F]:
    """Register ``fn(tracer)`` as the attribute ``name`` of traced torch tensors (``x.device``)."""
    def decorate(fn: F) -> F:
        _put(("property", name), fn)
        return fn
    return decorate
