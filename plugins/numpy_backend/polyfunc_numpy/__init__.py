"""polyfunc's NumPy backend (CPU, the default), registered as a plugin like any other."""
from polyfunc.plugin import hookimpl

# the hooks pluggy calls through the polyfunc.plugins entry point
__all__ = ["polyfunc_register_backends", "polyfunc_native_functions"]


@hookimpl
def polyfunc_register_backends(register):
    from .backend import NumpyBackend
    register(NumpyBackend())


@hookimpl
def polyfunc_native_functions(register):
    from .native import register_all
    register_all(register)
