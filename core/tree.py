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


def broadcast_prefix(prefix: Any, tree: Any, *, what: str, transform: str) -> list:
    """Expand ``prefix`` (e.g. in_dims) to one entry per leaf of ``tree``.

    A leaf of the prefix (an int or None) applies to a whole subtree.
    """
    out: list = []
    spec = structure(tree)
    try:
        full = optree.tree_broadcast_prefix(prefix, tree, none_is_leaf=True, namespace=NAMESPACE)
    except (ValueError, TypeError) as e:
        pspec = optree.tree_structure(prefix, none_is_leaf=True, namespace=NAMESPACE)
        raise _prefix_error(what, transform, pspec, spec, e) from None
    out = optree.tree_leaves(full, none_is_leaf=True, namespace=NAMESPACE)
    # optree gives one entry per leaf of tree (None counts as a leaf with none_is_leaf=True)
    return out


def _prefix_error(what, transform, pspec, spec, e):
    from .errors import TransformError
    return TransformError(
        f"{transform}: {what} has structure {pspec} which is not a prefix of the arguments' structure "
        f"{spec}. Give one entry per positional argument (a tuple as long as the arguments), each an "
        f"int, None, or a nested structure matching that argument.")
