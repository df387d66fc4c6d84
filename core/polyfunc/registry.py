"""The tables the traces, the interpreters and the backend registry share.

This module imports nothing from polyfunc, so every other module can import it:
it holds data, not behaviour.  ``primitive`` fills the rule tables' keys,
``ops`` fills the rules, ``backends`` fills what it learns about array types,
and the interpreters read all of it on their hot paths (each table is one
object for the life of the process: it is cleared, never rebound, so a name
bound to it at import stays valid).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # annotations only: backends imports this module
    from .backends import Backend
    from .primitive import Primitive
    from .trace import ShapedArray

__all__ = [
    "primitives", "abstract_eval_rules", "jvp_rules", "transpose_rules", "batch_rules",
    "type_owner", "UNKNOWN", "batch_rule_names", "native_backends", "aval_of_type",
    "native_map", "register_native",
]

# ---------------------------------------------------------------- primitives and their rules
# name -> Primitive, for lookups by backends and the op table
primitives: dict[str, Primitive] = {}

# One table per transform, keyed by primitive.
abstract_eval_rules: dict[Primitive, Callable] = {}   # (*avals, **params) -> ShapedArray (a list if multiple_results)
jvp_rules: dict[Primitive, Callable] = {}             # (primals, tangents, **params) -> (out, tangent | None)
transpose_rules: dict[Primitive, Callable] = {}       # (ct, *args, **params) -> [ct per arg]; linear args are LinearArg
batch_rules: dict[Primitive, Callable] = {}           # (vals, dims, **params) -> (out, out_dim | None)

# ---------------------------------------------------------------- what backends learn about array types
# array class -> the backend that owns it (None for Python scalars); filled by backends.owner_of
type_owner: dict[type, Backend | None] = {}
# what type_owner.get returns for a class not seen yet (None means "a Python scalar")
UNKNOWN: Any = object()
# names of the primitives some backend has its own batching rule for (vmap's hot path asks)
batch_rule_names: set[str] = set()
# the backends with native method semantics (torch) whose arrays have been seen; while it is
# empty a tracer's methods are NumPy's without asking which backend it lives on
native_backends: set[Backend] = set()
# array class -> function(x) -> ShapedArray; get_aval's hot path is one lookup here
aval_of_type: dict[type, Callable[[Any], ShapedArray]] = {}

# ---------------------------------------------------------------- native functions on tracers
# a library's function (numpy.sin, torch.relu) -> the polyfunc callable that runs it on tracers;
# keys ("method", name) and ("property", name) give tracers methods and attributes (torch's x.relu())
native_map: dict[Any, Callable] = {}


def register_native(native_fn: Any, fn: Callable) -> None:
    """Map ``native_fn`` to ``fn``.  A key ``("method", name)`` offers ``fn`` as a method of
    tracers (``x.relu()``), for libraries whose own methods never reach a tracer; a key
    ``("property", name)`` offers ``fn(tracer)`` as an attribute (``x.device``)."""
    native_map[native_fn] = fn
