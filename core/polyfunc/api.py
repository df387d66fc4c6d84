"""The autodiff transforms users call: grad, grad_and_value, vjp, jvp,
linearize, jacrev, jacfwd, hessian.

Reverse mode is JVP + partial evaluation + transpose: the function runs under
a JVP trace whose tangents are variables of a graph trace; primal work has no
graph variable in it and is computed right away, so the graph holds only the
linear tangent computation, which ``backward_pass`` walks backwards with the
transpose rules.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, ParamSpec, Sequence

from numpy import generic as _np_generic

from . import ops
from .avals import get_aval
from .errors import TransformError
from .gradmode import autodiff_level
from .scopes import call_in_scopes
from .interpreters.eval import EvalTrace, _current
from .interpreters.batching import Randomness
from .interpreters.graph import Graph, GraphTrace, eval_graph
from .interpreters.jvp import JVPTrace, JVPTracer
from .interpreters.reverse import backward_pass
from .ops.structural import full_like_p, is_float_dtype
from .registry import aval_of_type as _aval_of_type, type_owner as _type_owner
from .trace import Tracer, base_value
from .tree import flatten, structure as tree_structure, unflatten
from .vmap import map_rows, vmap

P = ParamSpec("P")
ArgNums = int | Sequence[int]   # which positional arguments to differentiate

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "stop_gradient", "backward_pass"]  # backward_pass: interpreters.reverse


# ------------------------------------------------------------------ helpers
_argnums_cache: dict = {}


def _argnums(argnums, nargs: int, transform: str) -> tuple[tuple[int, ...], bool]:
    # only exact ints are cached: (0, 1.0) == (0, 1) as a key, but 1.0 is not a valid argnum
    t = argnums.__class__
    key = (argnums, nargs) if t is int or (t is tuple and all(a.__class__ is int for a in argnums)) else None
    hit = _argnums_cache.get(key) if key is not None else None
    if hit is not None:
        return hit
    res = _argnums_check(argnums, nargs, transform)
    if key is not None:
        _argnums_cache[key] = res
    return res


def _argnums_check(argnums, nargs: int, transform: str) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums) if isinstance(argnums, (tuple, list)) else None
    if nums is None or not all(isinstance(a, int) for a in nums):
        raise TransformError(f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}.")
    if not nums:
        raise TransformError(f"{transform}: argnums is empty; name at least one argument to differentiate, "
                             f"e.g. argnums=0.")
    norm = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise TransformError(f"{transform}: argnums={argnums!r} names argument {a}, but the function was "
                                 f"called with {nargs} positional argument(s). Use an index in "
                                 f"[{-nargs}, {nargs}).")
        norm.append(a % nargs)
    if len(set(norm)) != len(norm):
        raise TransformError(f"{transform}: argnums={argnums!r} repeats an argument; list each one once.")
    return tuple(norm), single


def _check_diff_leaves(leaves, transform: str, what: str = "argument") -> list:
    """The leaves' avals, after checking each is floating point."""
    if len(leaves) == 1:                # the common case
        a = get_aval(leaves[0])
        if a.dtype.kind in "fc":
            return [a]
    avals = [get_aval(x) for x in leaves]
    for x, a in zip(leaves, avals):
        if a.dtype.kind not in "fc" and not is_float_dtype(a.dtype):
            if a.weak:
                fix = f"write it as a float (e.g. {float(x)!r})"
            else:
                fix = "convert it with polyfunc.numpy.asarray(x, dtype='float64') (x.float() on a torch tensor)"
            raise TransformError(
                f"{transform}: only floating-point inputs can be differentiated, but a differentiated "
                f"{what} has dtype {a.dtype}{' (a Python ' + type(x).__name__ + ')' if a.weak else ''}. "
                f"To differentiate it, {fix}; otherwise leave it out of argnums.")
    return avals


def match_aval(got, want, what: str, whose: str = "the value it stands for") -> None:
    """``got`` must have ``want``'s shape and dtype (a Python scalar matches any dtype)."""
    ga, wa = get_aval(got), get_aval(want)
    if ga.shape != wa.shape or (not ga.weak and not wa.weak and ga.dtype != wa.dtype):
        raise TransformError(f"{what} has shape {ga.shape} and dtype {ga.dtype}, but {whose} has shape "
                             f"{wa.shape} and dtype {wa.dtype}; they must match (reshape it, or cast it with "
                             f"polyfunc.numpy.astype).")


def _split_aux(out, has_aux: bool, transform: str):
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        if isinstance(out, (tuple, list)):
            what = f"a {type(out).__name__} of length {len(out)}"
        elif isinstance(out, Tracer) or _is_leaf_array(out):
            what = f"a single array (shape {tuple(get_aval(out).shape)})"
        else:
            what = f"a value of type {type(out).__name__}"
        raise TransformError(f"{transform}: has_aux=True needs the function to return a pair (output, aux), "
                             f"but it returned {what}. Return (output, aux), or drop has_aux=True.")
    return out[0], out[1]


def _check_outputs(leaves, transform: str) -> None:
    """Each output leaf must be an array, a tracer or a Python number: say so, naming the output."""
    for o in leaves:
        if o.__class__ in _aval_of_type or isinstance(o, Tracer):
            continue
        try:
            get_aval(o)
        except TypeError:
            raise TransformError(
                f"{transform}: the function's output (not an argument) contains a value of type "
                f"{type(o).__module__}.{type(o).__qualname__}, which is not an array. Return arrays or "
                f"Python numbers (in tuples, lists or dicts); pass other values out with has_aux=True.") from None


def _lower(tree, trace):
    """Strip this trace's tracers from ``tree`` (aux outputs are not differentiated)."""
    lv, spec = flatten(tree)
    return unflatten(spec, [x.primal if isinstance(x, JVPTracer) and x._trace is trace else x for x in lv])


def _zeros_like(x):
    if x.__class__ in (int, float, bool, complex):
        return x.__class__(0)
    a = get_aval(x)     # an array, or a tracer (a tracer of a Python scalar too: weak, but no Python type)
    return ops.full_like(x, 0, a.shape, a.dtype)


def _as_cotangent(c, out, what: str):
    """``c`` as a 0-d array on ``out``'s backend with ``out``'s dtype when it is a Python or NumPy
    scalar (vjp_fn(1.0) for a 0-d output); arrays pass through to be checked against ``out``."""
    if c.__class__ in (int, float, bool, complex) or isinstance(c, _np_generic):
        oa = get_aval(out)
        if oa.shape != ():
            raise TransformError(f"{what} is the scalar {c!r}, but its output has shape {oa.shape}; pass an "
                                 f"array of that shape.")
        if oa.weak:
            return c
        if isinstance(c, complex) and oa.dtype.kind != "c":
            raise TransformError(f"{what} is the complex {c!r}, but its output has the real dtype {oa.dtype}.")
        return ops.full_like(out, c.item() if hasattr(c, "item") else c, (), oa.dtype)
    return c


def _check_real_output(oa, transform: str, holomorphic: bool) -> None:
    if oa.dtype.kind == "c" and not holomorphic:
        raise TransformError(
            f"{transform}: the function's output has the complex dtype {oa.dtype}. {transform} differentiates "
            f"real-valued functions; for a holomorphic (complex-differentiable) function pass "
            f"holomorphic=True, and for any other complex output use vjp with the cotangent you want.")


def _check_holomorphic_inputs(avals, transform: str) -> None:
    for a in avals:
        if a.dtype.kind != "c":
            raise TransformError(
                f"{transform}: holomorphic=True needs complex inputs, but a differentiated argument has dtype "
                f"{a.dtype}; convert it with polyfunc.numpy.asarray(x, dtype='complex128'), or drop "
                f"holomorphic=True for a real function.")


def _seed(out, dtype):
    """A 0-d one on ``out``'s backend.  It is a constant to every transform, so it is made by the
    root trace from the concrete array under ``out``'s tracers, not passed down through each one."""
    base = base_value(out)
    if isinstance(base, Tracer):        # a graph variable (under jit): no concrete array to copy from
        return ops.full_like(out, 1, (), dtype)
    owner = _type_owner.get(base.__class__)
    kernel = owner.kernels.get("full_like") if owner is not None else None
    if kernel is not None:              # the backend is known: its kernel directly
        return kernel(base, fill_value=1, shape=(), dtype=dtype)
    return _ROOT.process(full_like_p, (base,), {"fill_value": 1, "shape": (), "dtype": dtype})


def _is_leaf_array(x) -> bool:
    """An array or tracer (a pytree leaf), told apart from containers without a tree walk."""
    return x.__class__ in _aval_of_type and x.__class__ not in (int, float, bool, complex)


_LEAF_SPEC = tree_structure(0)
_ROOT = EvalTrace()



def _with_args(args, nums, replaced):
    new = list(args)
    for i, v in zip(nums, replaced):
        new[i] = v
    return new


# ------------------------------------------------------------------ linearize + transpose
def _linearize_flat(fun: Callable, primals: list, transform: str, has_aux: bool = False, avals=None):
    """Run ``fun(list_of_leaves)`` under jvp with graph-variable tangents.

    Returns (out leaves, out spec, linear Graph from input tangents to output tangents, aux).
    """
    g = GraphTrace(_current.get(), None, False, transform, primals[0] if primals else None)
    j = JVPTrace(g, transform)
    if avals is None:
        avals = [get_aval(p) for p in primals]
    new_var = g.new_var
    tvars = [new_var(a) for a in avals]
    token = _current.set(j)
    try:
        with autodiff_level(j):
            out = fun([JVPTracer(j, p, t, a) for p, t, a in zip(primals, tvars, avals)])
    finally:
        _current.reset(token)
    if has_aux:
        out, aux = _split_aux(out, has_aux, transform)
        aux = _lower(aux, j)
    else:
        aux = None
    if out.__class__ is JVPTracer and out._trace is j:     # one array output: no tree walk
        return [out.primal], _LEAF_SPEC, Graph(tvars, g.eqns, [out.tangent], None, g), aux
    lv, spec = ([out], _LEAF_SPEC) if _is_leaf_array(out) else flatten(out)
    _check_outputs(lv, transform)
    primal_out, tangent_out = [], []
    for o in lv:
        if isinstance(o, JVPTracer) and o._trace is j:
            primal_out.append(o.primal)
            tangent_out.append(o.tangent)
        else:
            primal_out.append(o)
            tangent_out.append(None)
    graph = Graph(tvars, g.eqns, tangent_out, None, g)
    return primal_out, spec, graph, aux


# ------------------------------------------------------------------ vjp / grad
def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(out, vjp_fn[, aux])``; ``vjp_fn(cotangents)`` returns a tuple with one entry per primal.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> out, vjp_fn = pf.vjp(pnp.sin, pnp.asarray([0.0, 1.0]))
    >>> vjp_fn(pnp.ones(2))[0].round(3).tolist()
    [1.0, 0.54]
    """
    leaves, spec = flatten(primals)
    _check_diff_leaves(leaves, "vjp", "primal")

    def fun(xs: list) -> Any:
        return func(*unflatten(spec, xs))
    outs, out_spec, graph, aux = _linearize_flat(fun, leaves, "vjp", has_aux)
    out_tree = unflatten(out_spec, outs)

    def vjp_fn(*cotangents: Any) -> tuple:
        ct = cotangents[0] if len(cotangents) == 1 else cotangents
        ct_leaves, ct_spec = flatten(ct)
        if ct_spec != out_spec:
            raise TransformError(f"vjp_fn: the cotangent has structure {ct_spec}, but the function's output has "
                                 f"structure {out_spec}; pass one cotangent per output, shaped like it.")
        ct_leaves = [_as_cotangent(c, o, "vjp_fn: a cotangent") for c, o in zip(ct_leaves, outs)]
        for c, o in zip(ct_leaves, outs):
            match_aval(c, o, "vjp_fn: a cotangent", "its output")
        cts = backward_pass(graph, ct_leaves)
        grads = [c if c is not None else _zeros_like(p) for c, p in zip(cts, leaves)]
        return tuple(unflatten(spec, grads))

    return (out_tree, vjp_fn, aux) if has_aux else (out_tree, vjp_fn)


def _grad_call(func, argnums, has_aux: bool, args, kwargs, holomorphic: bool = False):
    """``(gradient, value, aux)`` of ``func(*args, **kwargs)``: the work behind grad and grad_and_value."""
    nums, single = _argnums(argnums, len(args), "grad")
    if single and _is_leaf_array(args[nums[0]]):
        # the common case, one array argument: no pytree to flatten or rebuild
        i = nums[0]
        leaves, spec = [args[i]], None

        def fun(xs):
            new = list(args)
            new[i] = xs[0]
            return func(*new, **kwargs)
    else:
        leaves, spec = flatten([args[i] for i in nums])

        def fun(xs):
            return func(*_with_args(args, nums, unflatten(spec, xs)), **kwargs)
    avals = _check_diff_leaves(leaves, "grad")
    if holomorphic:
        _check_holomorphic_inputs(avals, "grad")
    outs, out_spec, graph, aux = _linearize_flat(fun, leaves, "grad", has_aux, avals)
    if len(outs) != 1 or (out_spec is not _LEAF_SPEC and out_spec.num_nodes != 1):
        raise TransformError(f"grad: the function must return a single scalar, but it returned "
                             f"{unflatten(out_spec, [get_aval(o) for o in outs])}. Use vjp or jacrev "
                             f"for non-scalar outputs, or reduce the output (e.g. .sum()).")
    out = outs[0]
    oa = get_aval(out)
    if oa.shape != ():
        raise TransformError(f"grad: the function must return a scalar (a 0-d array), but it returned an "
                             f"array of shape {oa.shape}. Use vjp or jacrev for non-scalar outputs, or "
                             f"reduce the output first (e.g. .sum() or .mean()).")
    if oa.dtype.kind not in "fc" and not is_float_dtype(oa.dtype):
        raise TransformError(f"grad: the function's output has dtype {oa.dtype}; grad needs a "
                             f"floating-point scalar output.")
    _check_real_output(oa, "grad", holomorphic)
    cts = backward_pass(graph, [1.0 if oa.weak else _seed(out, oa.dtype)])
    if spec is None:
        c = cts[0]
        return (c if c is not None else _zeros_like(leaves[0])), out, aux
    g = unflatten(spec, [c if c is not None else _zeros_like(p) for c, p in zip(cts, leaves)])
    return (g[0] if single else tuple(g)), out, aux


def grad_and_value(func: Callable[P, Any], argnums: ArgNums = 0, has_aux: bool = False, *,
                   holomorphic: bool = False) -> Callable[P, Any]:
    """Like ``grad`` but also returns the value: ``(grad, value)`` or ``(grad, (value, aux))``.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> g, v = pf.grad_and_value(lambda x: (x ** 2).sum())(pnp.asarray([1.0, 2.0]))
    >>> g.tolist(), float(v)
    ([2.0, 4.0], 5.0)
    """
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        g, v, aux = _grad_call(func, argnums, has_aux, args, kwargs, holomorphic)
        return (g, (v, aux)) if has_aux else (g, v)
    _name(wrapped, func, "grad_and_value")
    return wrapped


def grad(func: Callable[P, Any], argnums: ArgNums = 0, has_aux: bool = False, *,
         holomorphic: bool = False) -> Callable[P, Any]:
    """The gradient of a scalar function with respect to argument(s) ``argnums``.

    The output must be real; a complex input gets ``df/dx - i df/dy`` (the conjugate of torch's
    convention).  ``holomorphic=True`` differentiates a complex function of complex inputs: the
    result is the complex derivative ``f'(z)``.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> float(pf.grad(pnp.sin)(pnp.asarray(0.0)))
    1.0
    """
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        g, _, aux = _grad_call(func, argnums, has_aux, args, kwargs, holomorphic)
        return (g, aux) if has_aux else g
    _name(wrapped, func, "grad")
    return wrapped


def _name(wrapped: Any, func: Any, prefix: str) -> None:
    # as functools.wraps (torch.func and JAX do the same): the transformed function keeps f's name,
    # qualname, module and docstring, so logs, profilers and pickling-by-name see f
    functools.update_wrapper(wrapped, func, updated=())


# ------------------------------------------------------------------ jvp / linearize
def _check_tangents(primals, tangents, transform):
    if not isinstance(primals, (tuple, list)):
        raise TransformError(f"{transform}: primals must be a tuple of the function's arguments, got "
                             f"{type(primals).__name__}; write {transform}(f, (x,), (t,)).")
    if not isinstance(tangents, (tuple, list)):
        raise TransformError(f"{transform}: tangents must be a tuple shaped like primals, got "
                             f"{type(tangents).__name__}.")
    pl, ps = flatten(tuple(primals))
    tl, ts = flatten(tuple(tangents))
    if ps != ts:
        raise TransformError(f"{transform}: tangents have structure {ts} but primals have structure {ps}; "
                             f"give one tangent per primal, shaped like it.")
    tl = [_as_cotangent(t, p, f"{transform}: a tangent") for p, t in zip(pl, tl)]
    for p, t in zip(pl, tl):
        match_aval(t, p, f"{transform}: a tangent", "its primal")
    return pl, ps, tl


def _jvp_flat(fun: Callable, primals: list, tangents: list, avals: list, has_aux: bool, transform: str,
              strict: bool = False):
    """``fun(list_of_leaves)`` pushed forward: (output tree, tangent tree, aux)."""
    j = JVPTrace(_current.get(), transform)
    token = _current.set(j)
    try:      # in the plugins' scopes: torch's autograd.Function routing must see a jvp's function too
        out = call_in_scopes(fun, [JVPTracer(j, p, t, a) for p, t, a in zip(primals, tangents, avals)])
    finally:
        _current.reset(token)
    out, aux = _split_aux(out, has_aux, transform) if has_aux else (out, None)
    if out.__class__ is JVPTracer and out._trace is j:      # one array output: no tree walk
        return out.primal, out.tangent, (_lower(aux, j) if has_aux else None)
    lv, spec = flatten(out)
    _check_outputs(lv, transform)
    po, to = [], []
    for o in lv:
        if isinstance(o, JVPTracer) and o._trace is j:
            po.append(o.primal)
            to.append(o.tangent)
        else:
            if strict:          # torch.func's strict: an output that does not depend on the inputs
                raise TransformError(f"{transform}(strict=True): an output of the function does not depend on "
                                     f"its inputs, so it has no tangent; drop strict=True to get zeros for it.")
            po.append(o)
            to.append(_zeros_like(o))
    return unflatten(spec, po), unflatten(spec, to), (_lower(aux, j) if has_aux else None)


def jvp(func: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Forward mode: ``(func(*primals), J @ tangents[, aux])``.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> x = pnp.asarray([1.0, 2.0])
    >>> pf.jvp(lambda x: x * x, (x,), (pnp.ones(2),))[1].tolist()
    [2.0, 4.0]
    """
    pl, ps, tl = _check_tangents(primals, tangents, "jvp")
    avals = _check_diff_leaves(pl, "jvp", "primal")
    out, tout, aux = _jvp_flat(lambda xs: func(*unflatten(ps, xs)), pl, tl, avals, has_aux, "jvp", strict)
    return (out, tout, aux) if has_aux else (out, tout)


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(out, jvp_fn)``: ``jvp_fn(*tangents)`` evaluates the linearised function
    without re-running the primal computation.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> out, f_jvp = pf.linearize(pnp.sin, pnp.asarray([0.0]))
    >>> f_jvp(pnp.asarray([2.0])).tolist()
    [2.0]
    """
    leaves, spec = flatten(primals)
    _check_diff_leaves(leaves, "linearize", "primal")

    def fun(xs: list) -> Any:
        return func(*unflatten(spec, xs))
    outs, out_spec, graph, _ = _linearize_flat(fun, leaves, "linearize")

    def jvp_fn(*tangents: Any) -> Any:
        _, _, tl = _check_tangents(primals, tangents, "linearize's jvp_fn")
        res = eval_graph(graph, *tl)
        return unflatten(out_spec, [r if r is not None else _zeros_like(o) for r, o in zip(res, outs)])
    return unflatten(out_spec, outs), jvp_fn


def stop_gradient(x: Any) -> Any:
    """``x`` with no derivative flowing through it (works on pytrees)."""
    lv, spec = flatten(x)
    return unflatten(spec, [ops.stop_gradient(v) if not isinstance(v, (int, float)) else v for v in lv])


# ------------------------------------------------------------------ Jacobians
def _split_rows(v, sizes, shapes, axis=0):
    """Cut ``v`` along ``axis`` into pieces of ``sizes`` and reshape each to shape (in place of that axis)."""
    vs = ops.shape_of(v)
    if len(sizes) == 1:    # one piece: no slicing, just the shape
        return [ops.reshape(v, vs[:axis] + tuple(shapes[0]) + vs[axis + 1:])]
    out, start = [], 0
    for n, s in zip(sizes, shapes):
        lo, hi = [0] * len(vs), list(vs)
        lo[axis], hi[axis] = start, start + n
        piece = ops.slice(v, lo, hi)
        out.append(ops.reshape(piece, vs[:axis] + tuple(s) + vs[axis + 1:]))
        start += n
    return out


def jacrev(func: Callable[P, Any], argnums: ArgNums = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, holomorphic: bool = False) -> Callable[P, Any]:
    """The Jacobian by reverse mode (vmap of vjp over the output basis): shape ``out.shape + in.shape``.

    ``chunk_size=k`` computes k rows at a time to bound memory; 1 is a plain loop.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> pf.jacrev(pnp.sin)(pnp.zeros(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise TransformError(f"jacrev: chunk_size must be a positive int or None, got {chunk_size!r}.")

    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        nums, single = _argnums(argnums, len(args), "jacrev")
        leaves, spec = flatten([args[i] for i in nums])
        avals = _check_diff_leaves(leaves, "jacrev")
        if holomorphic:
            _check_holomorphic_inputs(avals, "jacrev")

        def fun(xs):
            return func(*_with_args(args, nums, unflatten(spec, xs)), **kwargs)
        outs, out_spec, graph, aux = _linearize_flat(fun, leaves, "jacrev", has_aux, avals)
        oavals = [get_aval(o) for o in outs]
        for a in oavals:
            _check_real_output(a, "jacrev", holomorphic)
        sizes = [a.size for a in oavals]
        shapes = [a.shape for a in oavals]
        m = sum(sizes)
        ref = next((o for o, a in zip(outs, oavals) if not a.weak), None)
        if ref is None:
            raise TransformError("jacrev: the function returned no array output.")
        basis_dtype = oavals[0].dtype

        def pull(row):
            cts = _split_rows(row, sizes, shapes)
            if len(oavals) > 1 or oavals[0].dtype != basis_dtype:
                cts = [ops.convert_element_type(c, a.dtype) if ops.dtype_of(c) != a.dtype else c
                       for c, a in zip(cts, oavals)]
            res = backward_pass(graph, cts)
            return [r if r is not None else _zeros_like(p) for r, p in zip(res, leaves)]

        def rows_from(start, k):   # basis rows [start, start + k) pulled back: per input (k,) + in.shape
            return map_rows(pull, ops.eye_like(ref, m, basis_dtype, rows=k, offset=start), "jacrev")
        if chunk_size is None or chunk_size >= m:
            rows = rows_from(0, m)
        else:   # bounded memory: the basis and the pulled-back rows exist one chunk at a time
            parts = [rows_from(s, min(chunk_size, m - s)) for s in range(0, m, chunk_size)]
            rows = [ops.concatenate([p[j] for p in parts], 0) for j in range(len(leaves))]
        if len(rows) == 1 and len(outs) == 1 and spec.num_leaves == 1:
            # one input, one output: the Jacobian is the pulled-back rows, reshaped
            jac = unflatten(spec, [ops.reshape(rows[0], shapes[0] + avals[0].shape)])  # the input's container
            jac = unflatten(out_spec, [jac[0] if single else tuple(jac)])
            return (jac, aux) if has_aux else jac
        blocks = [_split_rows(r, sizes, shapes) for r in rows]  # [input][output]
        per_out = [unflatten(spec, [blocks[j][i] for j in range(len(leaves))]) for i in range(len(outs))]
        per_out = [p[0] if single else tuple(p) for p in per_out]
        jac = unflatten(out_spec, per_out)
        return (jac, aux) if has_aux else jac
    _name(wrapped, func, "jacrev")
    return wrapped


def jacfwd(func: Callable[P, Any], argnums: ArgNums = 0, has_aux: bool = False, *,
           randomness: Randomness = "error", holomorphic: bool = False) -> Callable[P, Any]:
    """The Jacobian by forward mode (vmap of jvp over the input basis): shape ``out.shape + in.shape``.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> pf.jacfwd(pnp.sin)(pnp.zeros(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        nums, single = _argnums(argnums, len(args), "jacfwd")
        leaves, spec = flatten([args[i] for i in nums])
        avals = _check_diff_leaves(leaves, "jacfwd")
        if holomorphic:
            _check_holomorphic_inputs(avals, "jacfwd")
        elif any(a.dtype.kind == "c" for a in avals):
            raise TransformError("jacfwd: a differentiated argument is complex; jacfwd pushes forward a real "
                                 "basis, so for a holomorphic function pass holomorphic=True, and otherwise "
                                 "use jacrev (real outputs) or jvp with the tangents you want.")
        sizes = [a.size for a in avals]
        shapes = [a.shape for a in avals]
        basis = ops.eye_like(leaves[0], sum(sizes), avals[0].dtype)

        def fun(xs):
            return func(*_with_args(args, nums, unflatten(spec, xs)), **kwargs)

        def push(row):
            ts = _split_rows(row, sizes, shapes)
            ts = [ops.convert_element_type(t, a.dtype) if ops.dtype_of(t) != a.dtype else t
                  for t, a in zip(ts, avals)]
            _, tout, aux = _jvp_flat(fun, leaves, ts, avals, has_aux, "jacfwd")
            return (tout, aux) if has_aux else tout
        if has_aux:
            tans, aux = vmap(push, out_dims=(-1, None), randomness=randomness)(basis)
        else:
            tans, aux = vmap(push, out_dims=-1, randomness=randomness)(basis), None
        t_leaves, out_spec = flatten(tans)
        per_out = []
        for t in t_leaves:
            if ops.dtype_of(t).kind not in "fc":
                # an integer or bool output is piecewise constant: its Jacobian is zeros of the
                # input's dtype, as jacrev gives it (its cotangents are the inputs' dtype)
                t = ops.convert_element_type(t, avals[0].dtype)
            blocks = _split_rows(t, sizes, shapes, axis=len(ops.shape_of(t)) - 1)
            p = unflatten(spec, blocks)
            per_out.append(p[0] if single else tuple(p))
        jac = unflatten(out_spec, per_out)
        return (jac, aux) if has_aux else jac
    _name(wrapped, func, "jacfwd")
    return wrapped


def hessian(func: Callable[P, Any], argnums: ArgNums = 0, *, holomorphic: bool = False) -> Callable[P, Any]:
    """``jacfwd(jacrev(func))``: second derivatives, shape ``out.shape + in.shape + in.shape``.

    ``holomorphic=True`` is passed to both: the complex second derivative of a holomorphic
    function of complex inputs (without it a complex output is refused, as by jacrev).

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> pf.hessian(lambda x: (x ** 3).sum())(pnp.asarray([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    h = jacfwd(jacrev(func, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)
    _name(h, func, "hessian")
    return h
