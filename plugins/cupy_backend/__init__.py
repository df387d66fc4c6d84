"""polyfunc's CuPy backend (CUDA).  cupy is imported only when the backend is first used."""
from polyfunc.hookspecs import hookimpl


@hookimpl
def polyfunc_register_backends(register):
    from .backend import CupyBackend
    register(CupyBackend())


@hookimpl
def polyfunc_native_functions(register):
    # cupy's ufuncs and functions dispatch through __array_ufunc__/__array_function__
    # like NumPy's; a tracer reaching them is routed by the numpy plugin's map where the
    # function objects are NumPy's, and cupy's own objects are mapped here by name.
    import sys
    if "cupy" not in sys.modules:
        return
    import cupy
    import polyfunc.numpy as pnp
    from polyfunc_numpy.native import _FUNCTIONS, _RENAMES, _UFUNCS
    for name in _UFUNCS + _FUNCTIONS:
        obj = getattr(cupy, name, None)
        target = getattr(pnp, _RENAMES.get(name, name), None)
        if obj is not None and target is not None:
            register(obj, target)
