"""vmap: map a function over a batch dimension of its arguments."""
from __future__ import annotations

import functools
from typing import Any, Callable, ParamSpec, TypeVar

import optree

from . import ops
from .avals import get_aval
from .backends import backend_of, current_backend
from .errors import TransformError
from .interpreters.batching import BatchTrace, BatchTracer, Randomness
from .interpreters.eval import _current
from .registry import type_owner
from .numpy import asarray
from .scopes import call_in_scopes, transform_scopes
from .trace import Tracer
from .tree import NAMESPACE, flatten, unflatten

__all__ = ["vmap", "map_rows"]

P = ParamSpec("P")
R = TypeVar("R")

_RANDOMNESS = ("error", "different", "same")


def _prefix_leaves(prefix, tree, what, transform="vmap", n_leaves=None):
    """One entry of ``prefix`` per leaf of ``tree`` (a leaf of prefix covers a subtree)."""
    if n_leaves is not None and (prefix is None or isinstance(prefix, int)):
        return [prefix] * n_leaves          # the common case needs no tree walk
    try:
        full = optree.tree_broadcast_prefix(prefix, tree, none_is_leaf=True, namespace=NAMESPACE)
    except (ValueError, TypeError):
        ps = optree.tree_structure(prefix, none_is_leaf=True, namespace=NAMESPACE)
        ts = optree.tree_structure(tree, namespace=NAMESPACE)
        raise TransformError(
            f"{transform}: {what} has structure {ps}, which does not match the structure of the "
            f"arguments, {ts}. Give an int or None for each argument, or a nested tuple/list/dict shaped "
            f"like that argument.") from None
    dims = optree.tree_leaves(full, none_is_leaf=True, namespace=NAMESPACE)
    args_n = optree.tree_leaves(tree, none_is_leaf=True, namespace=NAMESPACE)
    # drop the entries that stand for None nodes of the tree (they are not leaves for us)
    return [d for d, a in zip(dims, args_n) if a is not None]


def vmap(func: Callable[P, R], in_dims: Any = 0, out_dims: Any = 0, randomness: Randomness = "error", *,
         chunk_size: int | None = None) -> Callable[P, R]:
    """Map ``func`` over dimension ``in_dims`` of its positional arguments.

    ``in_dims``: an int, None (not batched), or a pytree prefix of the positional
    arguments; ``out_dims`` likewise for the outputs.  ``randomness`` is
    'error', 'different' or 'same'.  ``chunk_size=k`` runs k elements at a time.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> pf.vmap(lambda x, w: x @ w, in_dims=(0, None))(pnp.ones((3, 2)), pnp.ones(2)).tolist()
    [2.0, 2.0, 2.0]
    """
    if randomness not in _RANDOMNESS:
        raise TransformError(f"vmap: randomness must be one of {_RANDOMNESS}, got {randomness!r}.")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise TransformError(f"vmap: chunk_size must be a positive int or None, got {chunk_size!r}.")
    if not isinstance(in_dims, (int, tuple, list, dict)) and in_dims is not None:
        raise TransformError(f"vmap: in_dims must be an int, None, or a tuple of those (one per positional "
                             f"argument), got {type(in_dims).__name__}.")

    # lists are accepted for tuples; normalised once here, not on every call
    dims_prefix = tuple(in_dims) if isinstance(in_dims, list) else in_dims
    out_prefix = tuple(out_dims) if isinstance(out_dims, list) else out_dims

    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        if not args:
            raise TransformError("vmap: the function was called with no positional arguments, so there is "
                                 "nothing to map over. Pass the batched arrays positionally.")
        if isinstance(dims_prefix, tuple) and len(dims_prefix) != len(args):
            raise TransformError(
                f"vmap: in_dims={in_dims!r} has {len(dims_prefix)} entries but the function got {len(args)} "
                f"positional argument(s); give one entry (int or None) per argument.")
        leaves, spec = flatten(args)
        if dims_prefix is None or isinstance(dims_prefix, int):
            dims = [dims_prefix] * len(leaves)      # one dim for every leaf: no tree walk needed
        elif (len(leaves) == len(args) and all(a is b for a, b in zip(leaves, args))
              and all(d is None or d.__class__ is int for d in dims_prefix)):
            dims = list(dims_prefix)                # one array per argument, one dim each
        else:
            dims = _prefix_leaves(dims_prefix, args, "in_dims")
        size = _batch_size(leaves, dims, args, spec)
        if chunk_size is not None and chunk_size < size:
            return _chunked(func, leaves, spec, dims, size, kwargs)
        return _run(func, leaves, spec, dims, size, kwargs)

    def _rng_snapshot(leaves: list) -> list | None:
        """(backend, generator state) of every backend a draw may come from: the current one, the
        inputs' own (torch code outside use_backend draws on torch) and every backend whose arrays
        were seen; None if one of them cannot save its state."""
        cands = [current_backend()]
        for x in leaves:
            if not isinstance(x, (int, float, bool, complex)):
                cands.append(backend_of(x))
        cands.extend(b for b in list(type_owner.values()) if b is not None)
        snap, seen = [], set()
        for b in cands:
            if id(b) in seen:
                continue
            seen.add(id(b))
            state = b.rng_state()
            if state is None:
                return None
            snap.append((b, state))
        return snap

    functools.update_wrapper(wrapped, func, updated=())     # keeps f's name, as torch.func and JAX do

    def _run(func, leaves, spec, dims, size, kwargs):
        trace = BatchTrace(_current.get(), size, randomness)
        ins = [x if d is None else BatchTracer(trace, x, d) for x, d in zip(leaves, dims)]
        token = _current.set(trace)
        try:
            if transform_scopes:      # a plugin's context around the user's code (see scopes)
                out = call_in_scopes(func, *unflatten(spec, ins), **kwargs)
            else:
                out = func(*unflatten(spec, ins), **kwargs)
        finally:
            _current.reset(token)
        return _place_outputs(out, trace, size, leaves)

    def _chunked(func, leaves, spec, dims, size, kwargs):
        assert chunk_size is not None     # (only called when a chunk size was given)
        pieces = []
        # randomness="same": every chunk must draw what the first drew, so the generator is
        # rewound before each chunk (a backend that cannot save its state runs unchunked)
        rewind = None
        if randomness == "same":
            rewind = _rng_snapshot(leaves)
            if rewind is None:
                return _run(func, leaves, spec, dims, size, kwargs)
        for start in range(0, size, chunk_size):
            stop = min(start + chunk_size, size)
            if rewind is not None and start:
                for b, state in rewind:
                    b.set_rng_state(state)
            part = [x if d is None else _slice_axis(x, d, start, stop) for x, d in zip(leaves, dims)]
            pieces.append(_run(func, part, spec, dims, stop - start, kwargs))
        first_leaves, out_spec = flatten(pieces[0])
        od = _prefix_leaves(out_prefix, pieces[0], "out_dims")
        cols = [flatten(p)[0] for p in pieces]
        joined = []
        for k, d in enumerate(od):
            vals = [c[k] for c in cols]
            if d is None:
                joined.append(vals[0])
            else:
                nd = len(get_aval(vals[0]).shape)
                joined.append(ops.concatenate(vals, d % nd))
        return unflatten(out_spec, joined)

    def _place_outputs(out, trace, size, inputs):
        prefix = out_prefix
        if isinstance(prefix, tuple) and len(prefix) == 1 and not isinstance(out, (tuple, list)):
            prefix = prefix[0]           # out_dims=(d,) for a single output, as torch.func accepts
        lv, out_spec = flatten(out)
        if (isinstance(prefix, tuple) and isinstance(out, tuple) and len(out) == len(prefix) == len(lv)
                and all(a is b for a, b in zip(lv, out))):
            od = list(prefix)            # a flat tuple of outputs with one out_dim each: no tree walk
        else:
            od = _prefix_leaves(prefix, out, "out_dims", n_leaves=len(lv))
        res = []
        for o, d in zip(lv, od):
            if d is None and not isinstance(o, BatchTracer):
                res.append(o)            # out_dims=None passes any unbatched value through, as torch.func does
                continue
            if not _is_array(o) and not isinstance(o, (int, float, bool)):
                raise TransformError(f"vmap: the function returned a {type(o).__name__} ({o!r:.40}); outputs must "
                                     f"be arrays, Python numbers, or pytrees (tuples, lists, dicts) of them.")
            batched = isinstance(o, BatchTracer) and o._trace is trace
            if d is None:
                if batched:
                    raise TransformError(
                        "vmap: an output was given out_dims=None but it depends on the batched inputs (it has "
                        "a batch dimension). Give it an int out_dim, or return a value that does not vary "
                        "over the batch.")
                res.append(o)
                continue
            if not isinstance(d, int):
                raise TransformError(f"vmap: out_dims entries must be ints or None, got {d!r}.")
            val, bd = _with_batch_axis(o, trace, size, inputs)
            nd = len(get_aval(val).shape)
            if not -nd <= d < nd:
                raise TransformError(f"vmap: out_dims={d} is out of range for an output with {nd - 1} "
                                     f"dimension(s) (plus the batch dimension).")
            res.append(ops.moveaxis(val, bd, d % nd))
        return unflatten(out_spec, res)

    return wrapped


def map_rows(func: Callable[[Any], list], x: Any, transform: str = "vmap") -> list:
    """``vmap(func)(x)`` for one array mapped along axis 0 and ``func`` returning a list of
    arrays; every result has its batch dimension first.  jacrev's inner loop: no argument
    trees or in/out_dims to resolve."""
    size = get_aval(x).shape[0]
    trace = BatchTrace(_current.get(), size, "error", transform)
    token = _current.set(trace)
    try:
        outs = func(BatchTracer(trace, x, 0))
    finally:
        _current.reset(token)
    return [_batch_axis_first(o, trace, size, x) for o in outs]


def _batch_axis_first(o: Any, trace: BatchTrace, size: int, x: Any) -> Any:
    val, bd = _with_batch_axis(o, trace, size, [x])
    return ops.moveaxis(val, bd, 0)


def _with_batch_axis(o, trace, size, inputs):
    """(value, batch axis) of an output: a batched one as it is; one that is the same for every
    element (an array or a Python number) broadcast along a new leading axis."""
    if o.__class__ is BatchTracer and o._trace is trace:
        return o.val, o.bdim
    v = _scalar_array(o, inputs) if isinstance(o, (int, float, bool)) else o
    a = get_aval(v)
    return ops.broadcast_in_dim(v, (size,) + a.shape, tuple(range(1, len(a.shape) + 1))), 0


def _scalar_array(v, inputs):
    """A Python scalar output as a 0-d array on the inputs' backend (the inputs live one level up,
    so they are valid here, unlike this vmap's own tracers)."""
    ref = next((x for x in inputs if not isinstance(x, (int, float, bool))), None)
    return asarray(v) if ref is None else ops.full_like(ref, v, (), get_aval(v).dtype)


def _slice_axis(x, axis, start, stop):
    s = get_aval(x).shape
    lo, hi = [0] * len(s), list(s)
    lo[axis], hi[axis] = start, stop
    return ops.slice(x, lo, hi)


def _batch_size(leaves, dims, args, spec) -> int:
    sizes = []
    for i, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(d, int):
            raise TransformError(f"vmap: in_dims entries must be ints or None, got {d!r}.")
        try:
            if isinstance(x, (int, float, bool, complex)):     # NumPy's float64 subclasses float
                raise TypeError
            shape = get_aval(x).shape
        except TypeError:
            raise TransformError(
                f"vmap: in_dim {d} was given for an argument that is not an array ({type(x).__name__} "
                f"{x!r}); only arrays can be mapped over. Use None in in_dims for this argument.") from None
        nd = len(shape)
        if not -nd <= d < nd:
            raise TransformError(f"vmap: in_dim {d} is out of range for an argument of shape "
                                 f"{tuple(shape)} ({nd} dimension(s)); use a dim in [{-nd}, {nd}).")
        if d < 0:
            d %= nd
            dims[i] = d
        sizes.append((shape[d], i))
    if not sizes:
        raise TransformError("vmap: no argument is batched (every in_dim is None, or there are no arrays). "
                             "Give at least one array argument an integer in_dim.")
    size = sizes[0][0]
    if any(s != size for s, _ in sizes):
        listing = ", ".join(f"leaf {i}: {s}" for s, i in sizes)
        raise TransformError(f"vmap: the batched arguments have different sizes along their mapped dimensions "
                             f"({listing}); they must all be the same size.")
    return size


def _is_array(x) -> bool:
    if isinstance(x, Tracer):
        return True
    try:
        get_aval(x)
        return True
    except TypeError:
        return False
