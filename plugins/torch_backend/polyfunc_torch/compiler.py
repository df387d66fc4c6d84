"""jit's graphs through ``torch.compile``, on request.

``POLYFUNC_TORCH_COMPILE=1`` (or ``inductor``, or any other name ``torch.compile`` knows as a
backend, e.g. ``aot_eager``, ``eager``) hands the straight-line function of each jitted graph
(``polyfunc.plugin.straight_line``: one torch kernel call per equation, no tracers) to
``torch.compile``.  Compiling takes seconds per graph, once per input signature, so it pays for a
function called many times; the default (unset) keeps the straight-line function as it is.
"""
from __future__ import annotations

from typing import Any, Callable

from polyfunc.plugin import straight_line

__all__ = ["compile_graph"]


def compile_graph(backend: Any, graph: Any, choice: str) -> Callable[..., list] | None:
    """``torch.compile`` of the graph's straight-line function with the backend ``choice``
    names ("1" and "inductor": torch's default)."""
    import torch
    run = straight_line(graph, backend)
    if run is None:
        return None
    # codegen sets __wrapped__ (the bare function, a compiler's input) on the function it makes
    compiled = torch.compile(run.__wrapped__,  # type: ignore[attr-defined]
                             backend="inductor" if choice in ("1", "inductor") else choice, dynamic=False)
    compiled.source = run.source  # type: ignore[attr-defined]
    return compiled
