"""A plugin whose graph compiler raises: jit must keep working on every backend."""
from polyfunc.plugin import hookimpl


@hookimpl
def polyfunc_graph_compiler(backend, graph):
    raise RuntimeError("compiler crashed on purpose")
