"""A plugin whose native-function map raises while registering."""
from polyfunc.hookspecs import hookimpl


@hookimpl
def polyfunc_native_functions(register):
    raise RuntimeError("native map is broken")
