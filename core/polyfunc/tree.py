"""Pytrees: a thin layer over optree.  Tuples, lists, dicts, namedtuples,
``None`` (an empty node) and registered classes nest freely; dataclass
instances are registered the first time they are met."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import optree

NAMESPACE = "polyfunc"
_registered_dataclasses: set = set()

__all__ = ["flatten", "unflatten", "tree_map", "structure", "leaves", "register_pytree_node", "PyTreeSpec"]

PyTreeSpec = optree.PyTreeSpec


def register_pytree_node(cls: type, flatten_fn: Callable, unflatten_fn: Callable) -> None:
    """Register ``cls``: ``flatten_fn(obj) -> (children, aux)``, ``unflatten_fn(aux, children) -> obj``."""
    optree.register_pytree_node(cls, flatten_fn, unflatten_fn, namespace=NAMESPACE)


def _register_dataclass(cls: type) -> None:
    names = tuple(f.name for f in dataclasses.fields(cls))
    optree.register_pytree_node(
        cls, lambda o: ([getattr(o, n) for n in names], None, names),
        lambda aux, children: cls(**dict(zip(names, children))), namespace=NAMESPACE)
    _registered_dataclasses.add(cls)


_plain_types: set = set()   # leaf types known not to be dataclasses (the common case, checked once)


def _unregistered_dataclass(x: Any) -> bool:
    cls = x.__class__
    if cls in _plain_types:
        return False
    if dataclasses.is_dataclass(x) and not isinstance(x, type) and cls not in _registered_dataclasses:
        return True
    if not dataclasses.is_dataclass(cls):
        _plain_types.add(cls)
    return False


def flatten(tree: Any) -> tuple[list, PyTreeSpec]:
    leaves_, spec = optree.tree_flatten(tree, namespace=NAMESPACE)
    if _plain_types.issuperset(map(type, leaves_)):     # the common case, checked in C
        return leaves_, spec
    if any(_unregistered_dataclass(x) for x in leaves_):
        for x in leaves_:
            if _unregistered_dataclass(x):
                _register_dataclass(type(x))
        return flatten(tree)
    return leaves_, spec


def unflatten(spec: PyTreeSpec, leaves_: list) -> Any:
    return optree.tree_unflatten(spec, leaves_)


def leaves(tree: Any) -> list:
    return flatten(tree)[0]


def structure(tree: Any) -> PyTreeSpec:
    return flatten(tree)[1]


def tree_map(fn: Callable, tree: Any, *rest: Any) -> Any:
    lv, spec = flatten(tree)
    others = [spec.flatten_up_to(r) for r in rest]
    return unflatten(spec, [fn(x, *xs) for x, *xs in zip(lv, *others)])
