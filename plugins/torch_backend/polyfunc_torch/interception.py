"""torch's random factories and attention-mask helpers, intercepted only while a polyfunc
transform runs the user's code.

``torch.randn(3)`` inside ``pf.vmap`` meets no tracer, so no ``__torch_function__``
sees it; left alone it would draw once and silently ignore vmap's ``randomness``.  And
``F._canonical_mask`` / ``F._none_or_dtype`` (called by nn.MultiheadAttention and the
Transformer layers) are plain Python functions that fill a mask in place or accept only
real tensors.  ``SCOPE`` is the context the core enters around the user's function
under vmap and jit (``polyfunc.plugin.add_transform_scope``): on the outermost entry it
puts routing forms of these in torch's namespace and on the last exit puts torch's own
back, so a process that never transforms, and every process between transforms, sees
torch unchanged.  The routing forms send a call to polyfunc only from code running
under vmap (or, for the mask helpers, with a traced mask); any other call, another
thread's included, goes straight to torch's function.

Why not a ``torch.overrides.TorchFunctionMode``: a mode sees every torch call and
attribute read while it is active, the kernels' too; measured here it made
``vmap(grad(torch.sin))`` about 1.5x and ``vmap(grad(x @ w))`` about 1.8x slower; this
scope costs about 2 us per outermost vmap call.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

import torch
import torch.nn.functional as F

from polyfunc.plugin import Tracer, in_vmap

from . import autograd
from .nn.attention import MASK_HELPERS
from .random import FACTORIES, NN_FACTORIES


def _routed(original: Callable[..., Any], route: Callable[..., Any]) -> Callable[..., Any]:
    # A traced argument routes too: torch's own function would hand it to ``__torch_function__``
    # under its module-level name, which is this routing form while the scope is in (not a
    # registered key), e.g. ``F.dropout(tracer)`` under ``grad``.
    @functools.wraps(original)
    def routed(*args, **kwargs):
        if in_vmap() or _has_tracer(args) or _has_tracer(kwargs.values()):
            return route(*args, **kwargs)
        return original(*args, **kwargs)
    return routed


def _has_tracer(args: Any) -> bool:
    for a in args:
        if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and _has_tracer(a)):
            return True
    return False


def _routed_apply(original: Any) -> Any:
    """``torch.autograd.Function.apply`` (a classmethod): to ``autograd.apply`` when a traced value is passed."""
    plain = original.__func__

    @functools.wraps(plain)
    def apply(cls, *args, **kwargs):
        if _has_tracer(args) or _has_tracer(kwargs.values()):
            return autograd.apply(cls, *args, **kwargs)
        return plain(cls, *args, **kwargs)
    return classmethod(apply)


_TARGETS: list[tuple[Any, str, Callable[[Any], Any]]] = (
    [(torch, original.__name__, lambda orig, route=route: _routed(orig, route)) for original, route in FACTORIES.items()]
    + [(F, original.__name__, lambda orig, route=route: _routed(orig, route))
       for original, route in NN_FACTORIES.items()]
    + [(F, name, make) for name, make in MASK_HELPERS.items() if hasattr(F, name)]
    + [(torch.autograd.Function, "apply", _routed_apply)])


def _attr(ns: Any, name: str) -> Any:
    """What ``setattr`` puts back: a class's own attribute as stored (the classmethod object)."""
    return vars(ns)[name] if isinstance(ns, type) else getattr(ns, name)


def _pairs() -> list[tuple[Any, str, Any, Any]]:
    """(namespace, name, the function there now, its routing form) for every intercepted name."""
    return [(ns, name, _attr(ns, name), make(_attr(ns, name))) for ns, name, make in _TARGETS]


_lock = threading.Lock()
_depth = 0
_pairs_now = _pairs()


class _Scope:
    """Refcounted: nested and concurrent transforms install once and restore once."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _depth, _pairs_now
        with _lock:
            _depth += 1
            if _depth == 1:
                for ns, name, orig, _routed_fn in _pairs_now:
                    if _attr(ns, name) is not orig:     # someone else replaced it since: wrap theirs
                        _pairs_now = _pairs()
                        break
                for ns, name, _orig, routed in _pairs_now:
                    setattr(ns, name, routed)

    def __exit__(self, *exc: Any) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                for ns, name, orig, _routed_fn in _pairs_now:
                    setattr(ns, name, orig)


SCOPE = _Scope()
