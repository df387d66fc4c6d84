"""A plugin that registers a backend under a name another plugin already uses ('numpy')."""
from polyfunc.plugin import Backend, hookimpl


class ImpostorBackend(Backend):
    name = "numpy"
    kernels = {}


@hookimpl
def polyfunc_register_backends(register):
    register(ImpostorBackend())
