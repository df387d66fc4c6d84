"""The root interpreter and the current-trace context.

``EVAL`` runs the kernel of the backend that owns the arguments.  It is the
default of the context variable that holds the current trace, so code outside
every transform evaluates right away; a transform makes its own trace current
for the extent of the user's function (``set_trace``).
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Iterator

from ..avals import get_aval
from ..backends import current_backend, owner_of
from ..errors import BackendError, MissingKernelError, PolyfuncError
from ..registry import UNKNOWN, abstract_eval_rules, type_owner
from ..trace import Trace

__all__ = ["EvalTrace", "EVAL", "current_trace", "set_trace", "inline"]

_type_owner_get = type_owner.get   # the registry's dict is never rebound: bound once for the hot path


class EvalTrace(Trace):
    """The root trace: runs the kernel of the backend that owns the arguments."""

    transform = "eval"

    def __init__(self) -> None:
        self.parent = None

    def process(self, prim: Any, args: Any, params: dict) -> Any:
        owner = None
        for a in args:
            b = _type_owner_get(a.__class__, UNKNOWN)
            if b is not owner:
                if b is UNKNOWN:
                    b = owner_of(a, prim)
                    if b is None or b is owner:
                        continue
                elif b is None:      # a Python scalar
                    continue
                if owner is not None:
                    raise BackendError(
                        f"{prim.name}: arrays of two backends meet in one operation: "
                        f"{owner.name!r} and {b.name!r}. polyfunc never copies between "
                        f"backends silently; convert one side first, e.g. "
                        f"polyfunc.numpy.asarray(x, backend={owner.name!r}).")
                owner = b
        if owner is None:
            owner = current_backend()
            # only Python scalars (a derivative of f at a Python float): arrays of the current backend,
            # since not every backend's kernels take bare scalars (torch.sin(0.3) is an error)
            args = tuple(owner.asarray(a) for a in args)
        kernel = owner.kernels.get(prim.name)
        if kernel is None:
            if prim.impl is not None:
                return prim.impl(*args, **params)
            raise MissingKernelError(
                f"backend {owner.name!r} has no kernel for primitive {prim.name!r}. "
                f"Use another backend (polyfunc.use_backend(...)) or register a kernel "
                f"for it in the backend plugin.")
        try:
            return kernel(*args, **params)
        except Exception as e:
            # eager mode skips shape checks for speed; on failure, let the abstract
            # rule explain what was wrong in our words, else surface the kernel's error
            _explain(prim, args, params, e)
            raise


def _explain(prim: Any, args: Any, params: dict, err: Exception) -> None:
    rule = abstract_eval_rules.get(prim)
    if rule is None or isinstance(err, PolyfuncError):
        return
    try:
        rule(*[get_aval(a) for a in args], **params)
    except PolyfuncError as ours:
        raise ours from err
    except Exception:
        return


EVAL = EvalTrace()
_current: ContextVar[Trace] = ContextVar("polyfunc_current_trace", default=EVAL)


def current_trace() -> Trace:
    """The trace that handles a primitive bound now (``EVAL`` outside every transform)."""
    return _current.get()


@contextlib.contextmanager
def set_trace(trace: Trace) -> Iterator[Trace]:
    """Make ``trace`` current for the extent of the block."""
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def inline(trace: Trace, prim: Any, args: Any, params: dict) -> Any:
    """A primitive defined through others (``impl``) and with no rule in ``trace``: trace its body."""
    token = _current.set(trace)
    try:
        return prim.impl(*args, **params)
    finally:
        _current.reset(token)
