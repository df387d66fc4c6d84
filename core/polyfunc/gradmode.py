"""A library's own grad mode (torch.no_grad, inference_mode, set_grad_enabled) under
polyfunc's autodiff transforms, with torch.func's meaning.

A backend whose library has a grad-mode switch registers it (``set_grad_mode_source``).
Then every reverse-mode level (the JVP trace under grad, vjp, jacrev, hessian, linearize;
forward mode, jvp and jacfwd, ignores a grad mode, as torch's forward AD does)

- runs its function with the library's grad mode on, inside the plugins' transform scopes, whatever it was outside, so
  ``grad`` called under an outer ``no_grad`` still differentiates its own function;
- remembers the mode it found on entry: a level entered while the mode was off blocks
  every level entered outside it for as long as it runs (the region it sits in is
  constant to them);
- differentiates an operation only while the mode is on and no level inside it blocks
  it; otherwise it hands the operation's primals to the trace below, as a constant.

No source registered (NumPy alone): nothing is entered and the check is one list test.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Callable, Iterator

from .scopes import transform_scopes

__all__ = ["set_grad_mode_source", "autodiff_level", "differentiating"]

# [(is_enabled() -> bool, set_enabled(bool) -> None)]; at most one source
_source: list[tuple[Callable[[], bool], Callable[[bool], None]]] = []
_running: ContextVar[tuple] = ContextVar("polyfunc_autodiff_levels", default=())


def set_grad_mode_source(is_enabled: Callable[[], bool], set_enabled: Callable[[bool], None]) -> None:
    """Make autodiff transforms follow the grad mode read by ``is_enabled`` (set with ``set_enabled``)."""
    _source[:] = [(is_enabled, set_enabled)]


@contextlib.contextmanager
def _level(trace: Any) -> Iterator[None]:
    is_enabled, set_enabled = _source[0]
    prev = is_enabled()
    outer = _running.get()
    if not prev:
        for t in outer:
            t.blocked += 1
    token = _running.set(outer + (trace,))
    trace.grad_mode = True
    set_enabled(True)
    try:
        with contextlib.ExitStack() as stack:     # the plugins' scopes (torch: autograd.Function routing)
            for factory in transform_scopes:
                stack.enter_context(factory())
            yield
    finally:
        set_enabled(prev)
        _running.reset(token)
        if not prev:
            for t in outer:
                t.blocked -= 1


_NULL = contextlib.nullcontext()


def autodiff_level(trace: Any) -> contextlib.AbstractContextManager:
    """The context a reverse-mode transform runs its function in (nothing without a source)."""
    return _level(trace) if _source else _NULL


def differentiating(trace: Any) -> bool:
    """Whether reverse-mode level ``trace`` differentiates an operation run now."""
    return not trace.blocked and _source[0][0]()
