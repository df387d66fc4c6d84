"""polyfunc's CuPy backend (CUDA).  cupy is imported only when the backend is first used."""
from polyfunc.hookspecs import hookimpl


@hookimpl
def polyfunc_register_backends(register):
    from .backend import CupyBackend
    register(CupyBackend())
