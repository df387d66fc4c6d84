"""The conformance checks the Dask backend is known not to pass, each with the reason.

None at present: every primitive of the op table has a lazy dask kernel and passes
forward, jvp, vjp, vmap and second-order checks on dask.  Data-dependent shapes
never reach a kernel: a constant boolean mask (one not computed from traced values,
such as ``v > 2`` under ``grad``) is computed (a dask compute) while tracing and
replaced by the integer positions of its True entries, so the selection has a known
shape; a mask computed from traced values (under ``jit`` or ``vmap``) is refused by
polyfunc.numpy on every backend, naming ``where``; and a dask array whose chunk
lengths dask does not know is refused by ``DaskBackend.aval`` with a pointer to
``compute_chunk_sizes()``.  A gap added here
is ``{test or primitive name: reason}`` (see polyfunc.testing.pytest_plugin).
"""
from __future__ import annotations

CONFORMANCE_GAPS: dict[str, str] = {}
