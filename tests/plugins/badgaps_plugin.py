"""A plugin whose conformance-gaps hook raises: the other plugins' gaps and the collection of the
conformance tests must survive it."""
from polyfunc.plugin import hookimpl


@hookimpl
def polyfunc_conformance_gaps(backend):
    raise RuntimeError("gaps hook crashed on purpose")
