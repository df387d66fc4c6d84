"""pluggy hook specifications: the contract between polyfunc and a backend plugin."""
import pluggy

__all__ = ["hookspec", "hookimpl", "polyfunc_register_backends", "polyfunc_register_primitives",
           "polyfunc_graph_compiler", "polyfunc_native_functions", "polyfunc_conformance_gaps"]

hookspec = pluggy.HookspecMarker("polyfunc")
hookimpl = pluggy.HookimplMarker("polyfunc")


@hookspec
def polyfunc_register_backends(register):
    """Register backends by calling ``register(backend)`` once per Backend object."""


@hookspec
def polyfunc_register_primitives(register):
    """Add primitives: define them with their rules, then call ``register(primitive)`` for each."""


@hookspec(firstresult=True)
def polyfunc_graph_compiler(backend, graph):
    """Return a callable that runs ``graph`` on ``backend`` faster than interpreting it, or None."""


@hookspec
def polyfunc_native_functions(register):
    """Map native library functions to polyfunc callables by calling ``register(native_fn, fn)``."""


@hookspec
def polyfunc_conformance_gaps(backend):
    """Return {test or primitive name: reason} for the conformance checks ``backend`` is known to fail."""
