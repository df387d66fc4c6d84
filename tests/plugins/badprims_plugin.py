"""A plugin that fails while registering its primitives: recorded, and the backends keep working."""
from polyfunc.plugin import hookimpl


@hookimpl
def polyfunc_register_primitives(register):
    raise RuntimeError("primitive table corrupt on purpose")
