"""Primitives, `bind`, and the rule tables that every transform reads.

A primitive is a named operation.  Arrays are passed positionally and
parameters by keyword: ``bind(reduce_sum_p, x, axes=(0,))``.  Each transform
keeps one table keyed by primitive; an ops module fills every table for its
primitives in one block, so adding a primitive never touches an interpreter.
"""
from __future__ import annotations

from typing import Any, Callable

from .interpreters.eval import _current
from .registry import abstract_eval_rules, batch_rules, jvp_rules, primitives, transpose_rules

__all__ = [
    "Primitive", "bind", "abstract_eval_rules", "jvp_rules", "transpose_rules",
    "batch_rules", "primitives",
]


class Primitive:
    """A named operation; its behaviour lives in the rule tables below.

    ``effectful`` primitives (random number draws) are always staged into a
    captured graph, never constant-folded.  ``random`` marks the primitives
    that vmap's ``randomness`` mode governs.  ``multiple_results`` primitives
    return a list.
    """

    __slots__ = ("name", "effectful", "random", "multiple_results", "impl")

    def __init__(self, name: str, *, effectful: bool = False, random: bool = False,
                 multiple_results: bool = False, impl: Callable | None = None):
        self.name = name
        self.effectful = effectful or random
        self.random = random
        self.multiple_results = multiple_results
        # impl: a backend-independent definition in terms of other primitives
        # (call-like primitives such as custom_jvp_call); used where no kernel exists.
        self.impl = impl
        if name in primitives:
            raise ValueError(f"a primitive named {name!r} is already registered")
        primitives[name] = self

    def __repr__(self) -> str:
        return self.name

    def bind(self, *args: Any, **params: Any) -> Any:
        return _current.get().process(self, args, params)


# The tables (primitives by name, and one rule table per transform keyed by primitive) live in
# polyfunc.registry, which the interpreters read; they are re-exported here, where rules are written.


def bind(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Hand ``prim(*args, **params)`` to the current trace."""
    return _current.get().process(prim, args, params)
