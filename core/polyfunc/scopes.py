"""Contexts a plugin enters around the user's function while a transform runs it.

A backend whose library has state of its own that must follow a transform while the
user's code runs (torch's random factories must follow vmap's ``randomness``) adds a
factory with ``polyfunc.plugin.add_transform_scope``; ``vmap`` enters each factory's
context around the call of the function it maps, and ``jit`` around the trace.  None
registered: nothing is entered (one list test per call)."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager

__all__ = ["add_transform_scope", "call_in_scopes", "transform_scopes"]

transform_scopes: list[Callable[[], ContextManager[Any]]] = []


def add_transform_scope(factory: Callable[[], ContextManager[Any]]) -> None:
    """Enter ``factory()`` around the user's function under vmap and jit (added once)."""
    if factory not in transform_scopes:
        transform_scopes.append(factory)


def call_in_scopes(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` inside every registered scope."""
    if len(transform_scopes) == 1:          # the common case, without an ExitStack
        with transform_scopes[0]():
            return func(*args, **kwargs)
    with contextlib.ExitStack() as stack:
        for factory in transform_scopes:
            stack.enter_context(factory())
        return func(*args, **kwargs)
