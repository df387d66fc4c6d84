"""Primitives, `bind`, and the rule tables that every transform reads.

A primitive is a named operation.  Arrays are passed positionally and
parameters by keyword: ``bind(reduce_sum_p, x, axes=(0,))``.  Each transform
keeps one table keyed by primitive; an ops module fills every table for its
primitives in one block, so adding a primitive never touches an interpreter.
"""
from __future__ import annotations

from typing import Any, Callable

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


# name -> Primitive, for lookups by backends and the op table
primitives: dict[str, Primitive] = {}

# One table per transform, keyed by primitive.
abstract_eval_rules: dict[Primitive, Callable] = {}   # (*avals, **params) -> ShapedArray (a list if multiple_results)
jvp_rules: dict[Primitive, Callable] = {}             # (primals, tangents, **params) -> (out, tangent | None)
transpose_rules: dict[Primitive, Callable] = {}       # (ct, *args, **params) -> [ct per arg]; linear args are LinearArg
batch_rules: dict[Primitive, Callable] = {}           # (vals, dims, **params) -> (out, out_dim | None)

from .trace import _current  # noqa: E402  (trace imports nothing from here at import time)


def bind(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Hand ``prim(*args, **params)`` to the current trace."""
    return _current.get().process(prim, args, params)
