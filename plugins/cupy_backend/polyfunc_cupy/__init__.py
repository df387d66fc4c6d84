"""polyfunc's CuPy backend (CUDA).  cupy is imported only when the backend is first used."""
from polyfunc.plugin import hookimpl

# the hooks pluggy calls through the polyfunc.plugins entry point
__all__ = ["polyfunc_register_backends", "polyfunc_native_functions"]


@hookimpl
def polyfunc_register_backends(register):
    from .backend import CupyBackend
    register(CupyBackend())


@hookimpl
def polyfunc_native_functions(register):
    # cupy's ufuncs and functions reach a tracer through __array_ufunc__/__array_function__
    # with cupy's own function objects; map them like NumPy's.  Without cupy imported no
    # cupy array (so no such call) can exist yet.
    import sys
    if "cupy" not in sys.modules:
        return
    from polyfunc_numpy.native import register_all
    register_all(register, sys.modules["cupy"])
