"""pluggy hook specifications: the contract between polyfunc and a backend plugin."""
from typing import Any, Callable

import pluggy

__all__ = ["hookspec", "hookimpl", "polyfunc_register_backends", "polyfunc_register_primitives",
           "polyfunc_graph_compiler", "polyfunc_native_functions", "polyfunc_conformance_gaps"]

hookspec = pluggy.HookspecMarker("polyfunc")
hookimpl = pluggy.HookimplMarker("polyfunc")


@hookspec
def polyfunc_register_backends(register: Callable[[Any], None]) -> None:
    """Register backends by calling ``register(backend)`` once per Backend object."""


@hookspec
def polyfunc_register_primitives(register: Callable[[Any], None]) -> None:
    """Add primitives: define them with their rules, then call ``register(primitive)`` for each."""


@hookspec(firstresult=True)
def polyfunc_graph_compiler(backend: Any, graph: Any) -> Callable | None:
    """Return a callable that runs ``graph`` on ``backend`` faster than interpreting it, or None."""


@hookspec
def polyfunc_native_functions(register: Callable[[Any, Callable], None]) -> None:
    """Map native library functions to polyfunc callables by calling ``register(native_fn, fn)``."""


@hookspec
def polyfunc_conformance_gaps(backend: Any) -> dict[str, str] | None:
    """Return {test or primitive name: reason} for the conformance checks ``backend`` is known to fail."""
