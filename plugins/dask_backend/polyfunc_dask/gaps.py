"""The conformance checks the Dask backend is known not to pass, each with the reason.

None at present: every primitive of the op table has a lazy dask kernel and passes
forward, jvp, vjp, vmap and second-order checks on dask.  Data-dependent shapes
never reach a kernel: boolean-mask indexing is refused by polyfunc.numpy on every
backend, and a dask array whose chunk lengths dask does not know is refused by
``DaskBackend.aval`` with a pointer to ``compute_chunk_sizes()``.  A gap added here
is ``{test or primitive name: reason}`` (see polyfunc.testing.pytest_plugin).
"""
from __future__ import annotations

CONFORMANCE_GAPS: dict[str, str] = {}
