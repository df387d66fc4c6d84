"""A plugin that imports fine but fails while registering its backend."""
from polyfunc.hookspecs import hookimpl


@hookimpl
def polyfunc_register_backends(register):
    raise RuntimeError("device driver missing")
