"""Reverse mode's interpreter: ``backward_pass`` walks a linear graph backwards
with the transpose rules.

Reverse mode is JVP + partial evaluation + transpose (``api._linearize_flat``
makes the linear graph).  Transposing needs no trace of its own: each
equation's rule runs at the current trace, so the cotangents it makes are
themselves differentiable and batchable.  Cotangents that meet are summed
with the ``add`` primitive, and a rule sees its linear inputs as
``LinearArg``, so this module sits above the ops (the other interpreters sit
below them).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..ops.elementwise import add
from ..ops.structural import LinearArg
from ..registry import transpose_rules
from .graph import Graph, GraphTracer

__all__ = ["backward_pass"]


def backward_pass(graph: Graph, cts_out: Sequence) -> list:
    """Transpose the linear ``graph``: output cotangents in, input cotangents out (None = zero).

    Every variable of a linearised graph is linear (primal work was folded away),
    so "linear" means "a variable of this graph's trace"."""
    trace = graph._trace
    env: dict[int, Any] = {}
    for v, ct in zip(graph.outvars, cts_out):
        if ct is not None and v.__class__ is GraphTracer and v._trace is trace:
            k = id(v)
            prev = env.get(k)
            env[k] = ct if prev is None else add(prev, ct)
    for e in reversed(graph.eqns):
        if e.prim.multiple_results:
            ct = [env.pop(id(o), None) for o in e.out]
            if all(c is None for c in ct):
                continue
        else:
            ct = env.pop(id(e.out), None)
            if ct is None:
                continue
        rule = transpose_rules.get(e.prim)
        if rule is None:
            raise NotImplementedError(f"reverse-mode differentiation met primitive {e.prim.name!r}, which has "
                                      f"no transpose rule; it is not linear in its tangent input.")
        args = [LinearArg(a._aval) if a.__class__ is GraphTracer and a._trace is trace else a for a in e.inputs]
        for a, orig, c in zip(args, e.inputs, rule(ct, *args, **e.params)):
            if c is not None and a.__class__ is LinearArg:
                k = id(orig)
                prev = env.get(k)
                env[k] = c if prev is None else add(prev, c)
    return [env.get(id(v)) for v in graph.invars]


