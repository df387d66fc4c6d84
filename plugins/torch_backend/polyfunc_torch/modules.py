"""``functional_call`` and ``stack_module_state`` for real ``torch.nn.Module``s,
with torch.func's semantics, on polyfunc's transforms.

The parameters and buffers handed in may be polyfunc tracers, which are not
``torch.Tensor``s, so they are swapped into the module's ``_parameters`` /
``_buffers`` dicts directly (bypassing ``nn.Parameter``'s type checks) for the
duration of the call, and the originals are restored in a ``finally``.

A module is one shared object, so two threads swapping values into it at once
would each see the other's values and restore the other's (escaped) tracers as
"originals".  Calls are therefore serialised by one re-entrant lock (one for
all modules, so nested calls on different modules cannot deadlock).
"""
from __future__ import annotations

import threading
from typing import Mapping

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()
_swap_lock = threading.RLock()


def _merge(params_and_buffers) -> dict:
    if isinstance(params_and_buffers, Mapping):
        return dict(params_and_buffers)
    if isinstance(params_and_buffers, (tuple, list)):
        out: dict = {}
        dup = []
        for d in params_and_buffers:
            if not isinstance(d, Mapping):
                raise TypeError(f"functional_call: params_and_buffers must be a dict or a tuple of dicts, "
                                f"got an element of type {type(d).__name__}")
            for k, v in d.items():
                if k in out:
                    dup.append(k)
                out[k] = v
        if dup:
            raise ValueError(f"functional_call: {sorted(set(dup))} appear in more than one of the dicts in "
                             f"params_and_buffers; each name may be given once.")
        return out
    raise TypeError(f"functional_call: params_and_buffers must be a dict or a tuple of dicts, "
                    f"got {type(params_and_buffers).__name__}")


def _tied_groups(module) -> list[list[str]]:
    """Names that share one tensor in ``module`` (tied weights), in groups of two or more."""
    by_id: dict = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        by_id.setdefault(id(t), []).append(name)
    return [names for names in by_id.values() if len(names) > 1]


def _untie(module, values: dict, tie_weights: bool) -> dict:
    if not tie_weights:
        return values
    groups = _tied_groups(module)
    if not groups:
        return values
    values = dict(values)
    for names in groups:
        given = [n for n in names if n in values]
        if not given:
            continue
        first = values[given[0]]
        for n in given[1:]:
            if values[n] is not first:
                raise ValueError(
                    f"functional_call: {given} are tied in the module (one tensor) but different values were "
                    f"passed for them; pass one value (or the same object) for all of them, or pass "
                    f"tie_weights=False to untie them.")
        for n in names:
            values.setdefault(n, first)
    return values


def _resolve(module, name: str):
    *path, leaf = name.split(".")
    sub = module
    for i, p in enumerate(path):
        nxt = sub._modules.get(p) if hasattr(sub, "_modules") else None
        if nxt is None:
            raise AttributeError(f"functional_call: {name!r} names no submodule of "
                                 f"{type(module).__name__} ({'.'.join(path[:i + 1])!r} does not exist)")
        sub = nxt
    return sub, leaf


def _module_keys(module) -> set:
    return {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
        {n for n, _ in module.named_buffers(remove_duplicate=False)}


def functional_call(module, params_and_buffers, args=(), kwargs=None, *, tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced.

    ``params_and_buffers`` maps names (as in ``module.named_parameters()``)
    to values, which may be tensors or polyfunc tracers; a tuple of dicts is
    merged.  Names not given keep the module's own tensors (unless
    ``strict=True``, which requires exactly the module's names).  With
    ``tie_weights`` a value given for one of several tied names is used for
    all of them.  The module itself is left unchanged.
    """
    values = _merge(params_and_buffers)
    keys = _module_keys(module)
    if strict:
        missing = sorted(keys - set(values))
        unexpected = sorted(set(values) - keys)
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing key(s): {missing}")
            if unexpected:
                parts.append(f"unexpected key(s): {unexpected}")
            raise RuntimeError(f"functional_call(strict=True) on {type(module).__name__}: "
                               + "; ".join(parts) + ". Pass exactly the names of module.named_parameters() "
                               "and module.named_buffers(), or strict=False.")
    values = _untie(module, values, tie_weights)
    if kwargs is None:
        kwargs = {}
    if not isinstance(args, tuple):
        args = (args,)

    with _swap_lock:
        return _call_swapped(module, values, args, kwargs)


def _call_swapped(module, values, args, kwargs):
    """``module(*args, **kwargs)`` with ``values`` swapped in; the originals are put back whatever
    happens (an exception, or a KeyboardInterrupt, in the swap or the call)."""
    saved = []   # (dict or None, owner, leaf, old value or _MISSING)
    try:
        for name, value in values.items():
            sub, leaf = _resolve(module, name)
            if leaf in sub._parameters:
                saved.append((sub._parameters, None, leaf, sub._parameters[leaf]))
                sub._parameters[leaf] = value
            elif leaf in sub._buffers:
                saved.append((sub._buffers, None, leaf, sub._buffers[leaf]))
                sub._buffers[leaf] = value
            else:
                # not a parameter or buffer of the module: a plain attribute for the call
                old = sub.__dict__.get(leaf, _MISSING)
                saved.append((None, sub, leaf, old))
                object.__setattr__(sub, leaf, value)
        return module(*args, **kwargs)
    finally:
        for d, owner, leaf, old in reversed(saved):
            if d is not None:
                d[leaf] = old
            elif old is _MISSING:
                try:
                    object.__delattr__(owner, leaf)
                except AttributeError:
                    pass
            else:
                object.__setattr__(owner, leaf, old)


def stack_module_state(models) -> tuple[dict, dict]:
    """Stack the parameters and buffers of same-class models along a new leading axis.

    Returns ``(params, buffers)``, two dicts of tensors whose first axis runs over
    the models, ready for ``vmap(lambda p, b, x: functional_call(models[0], (p, b), (x,)))``.
    """
    import torch
    models = list(models)
    if not models:
        raise ValueError("stack_module_state: expected at least one model, got an empty list.")
    classes = {type(m) for m in models}
    if len(classes) > 1:
        raise ValueError(f"stack_module_state: all models must be of one class, got "
                         f"{sorted(c.__name__ for c in classes)}; stack models built the same way.")
    modes = [m.training for m in models]
    if any(modes) and not all(modes):
        train = [i for i, t in enumerate(modes) if t]
        ev = [i for i, t in enumerate(modes) if not t]
        raise ValueError(f"stack_module_state: models must all be in training mode or all in eval mode; "
                         f"models {train} are training and {ev} are in eval mode. Call .train() or .eval() "
                         f"on all of them first.")

    def stack(named_lists, what):
        names = [n for n, _ in named_lists[0]]
        for i, lst in enumerate(named_lists[1:], 1):
            other = [n for n, _ in lst]
            if other != names:
                raise ValueError(f"stack_module_state: model {i} has {what} {other}, model 0 has {names}")
        out = {}
        for j, n in enumerate(names):
            ts = [lst[j][1] for lst in named_lists]
            shapes = {tuple(t.shape) for t in ts}
            if len(shapes) > 1:
                raise ValueError(f"stack_module_state: {what[:-1]} {n!r} has different shapes across the "
                                 f"models: {sorted(shapes)}")
            out[n] = torch.stack([t.detach() for t in ts])
        return out

    params = stack([list(m.named_parameters()) for m in models], "parameters")
    buffers = stack([list(m.named_buffers()) for m in models], "buffers")
    return params, buffers
