"""polyfunc's Dask backend: the same transforms over ``dask.array``, lazy until
the user computes, scheduled by dask (threads, processes, or a
``dask.distributed`` cluster).  dask is imported only when the backend is first used."""
from polyfunc.plugin import hookimpl

from .gaps import CONFORMANCE_GAPS

# the hooks pluggy calls through the polyfunc.plugins entry point
__all__ = ["polyfunc_register_backends", "polyfunc_conformance_gaps", "CONFORMANCE_GAPS"]


@hookimpl
def polyfunc_register_backends(register):
    from .backend import DaskBackend
    register(DaskBackend())


@hookimpl
def polyfunc_conformance_gaps(backend):
    if backend.name == "dask":
        return dict(CONFORMANCE_GAPS)
    return None
