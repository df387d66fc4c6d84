"""vmap's last resort for a primitive without a batching rule: one call per batch
element, the results stacked.  It is written with primitives, so it lives here and
is handed to the batching interpreter, which sits below the ops and cannot import them."""
from __future__ import annotations

from typing import Any

from ..interpreters.batching import register_loop_rule
from .structural import index_in_dim, stack

__all__: list[str] = []


def _loop_rule(prim: Any, vals: list, dims: list, params: dict, axis_size: int) -> tuple[Any, Any]:
    outs = []
    for i in range(axis_size):
        args_i = [v if d is None else index_in_dim(v, i, d) for v, d in zip(vals, dims)]
        outs.append(prim.bind(*args_i, **params))
    if prim.multiple_results:
        return [stack(list(r), 0) for r in zip(*outs)], [0] * len(outs[0])
    return stack(outs, 0), 0


register_loop_rule(_loop_rule)
