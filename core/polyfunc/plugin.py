"""The public plugin API: everything a backend plugin may import from polyfunc.

Built-in plugins (NumPy, torch, CuPy) import only this module, ``polyfunc.errors``,
``polyfunc.ops`` and the user-level API, so a third-party backend can do
everything they do.  A minimal plugin::

    from polyfunc.plugin import Backend, hookimpl

    class MyBackend(Backend):
        name = "mine"
        ...

    @hookimpl
    def polyfunc_register_backends(register):
        register(MyBackend())

and an entry point ``[project.entry-points."polyfunc.plugins"] mine = "my_module"``.
"""
from __future__ import annotations

from typing import Any, Callable

from .avals import get_aval
from .backends import ArrayAPIBackend, Backend, backend_of
from .gradmode import set_grad_mode_source
from .hookspecs import hookimpl
from .interpreters.batching import BatchTrace
from .interpreters.codegen import straight_line
from .interpreters.eval import EVAL, current_trace
from .memo import remembered
from .native import method as native_method
from .native import register_native
from .numpy import _getitem
from .primitive import Primitive
from .registry import abstract_eval_rules, batch_rules, primitives
from .scopes import add_transform_scope
from .trace import ShapedArray, Trace, Tracer, base_value

__all__ = ["Backend", "ArrayAPIBackend", "hookimpl", "ShapedArray", "Tracer", "Primitive", "backend_of", "base_value",
           "get_aval", "in_vmap", "under_transform", "generic_batch_rule", "native_method",
           "remembered", "abstract_eval", "register_native", "getitem",
           "add_transform_scope", "set_grad_mode_source", "straight_line"]


def under_transform() -> bool:
    """Whether any polyfunc transform (grad, vmap, jit, ...) is running in this context."""
    return current_trace() is not EVAL


def in_vmap() -> bool:
    """Whether code runs inside ``vmap`` at any depth (so random draws must follow ``randomness``)."""
    t: Trace | None = current_trace()
    while t is not None:
        if isinstance(t, BatchTrace):
            return True
        t = t.parent
    return False


def getitem(x: Any, idx: Any) -> Any:
    """``x[idx]`` by NumPy's indexing rules on any array or tracer: for a native array
    (a torch tensor) indexed by a traced value, where the array's own indexing cannot."""
    return _getitem(x, idx)


def generic_batch_rule(name: str) -> Callable[..., Any]:
    """The core's batching rule for primitive ``name``, for a backend rule to fall back on."""
    return batch_rules[primitives[name]]


def abstract_eval(name: str, *avals: ShapedArray, **params: Any) -> Any:
    """The shape and dtype primitive ``name`` gives for operands of these avals (nothing computed)."""
    return abstract_eval_rules[primitives[name]](*avals, **params)
