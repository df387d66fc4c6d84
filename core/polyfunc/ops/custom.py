"""Call-like primitives for user-defined derivative rules.

``custom_jvp_call`` and ``custom_vjp_call`` hold the user's function and
rules as parameters.  Where no transform needs the rule they are inlined
(``Primitive.impl``).  Under vmap they stay calls, with the function and the
rules vmapped, so an enclosing grad still sees the user's rule.
``custom_lin`` is the linear stand-in a custom_vjp leaves in a linearised
graph: transposing it runs the user's backward function.
"""
from __future__ import annotations

from typing import Any

from ..avals import get_aval
from ..errors import TransformError
from ..interpreters.batching import batch_call
from ..interpreters.eval import _current
from ..interpreters.graph import GraphTrace
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from ..trace import ShapedArray
from ..tree import flatten, unflatten
from .reductions import reduce_sum
from .structural import broadcast_in_dim, full_like, instantiate, moveaxis, shape_of

__all__ = ["custom_jvp_call_p", "custom_vjp_call_p", "custom_lin_p"]


def _inline(*args, fun, **_):
    return list(fun(*args))


custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True, impl=_inline)
custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True, impl=_inline)


def _custom_jvp_jvp(primals, tangents, *, fun, jvp):
    tangents = [instantiate(t, p) for p, t in zip(primals, tangents)]
    outs, touts = jvp(list(primals), tangents)
    return list(outs), list(touts)


def _vmapped(f, in_dims):
    """``f`` (arrays in, a flat list out) mapped over axis ``in_dims[i]`` of its i-th input (None:
    not mapped), every output batched along axis 0: the batched form of a user's function or
    rule, made with the batching interpreter (ops never call the user-level vmap)."""
    in_dims = list(in_dims)

    def mapped(*xs):
        size = next(shape_of(x)[d] for x, d in zip(xs, in_dims) if d is not None)
        outs, out_dims = batch_call(lambda *a: list(f(*a)), list(xs), in_dims, size)
        return [_batch_axis_first(o, d, size, xs) for o, d in zip(outs, out_dims)]
    return mapped


def _batch_axis_first(o, d, size, inputs):
    """An output with its batch axis in front; one that is the same for every element is broadcast."""
    if d is not None:
        return moveaxis(o, d, 0)
    if o is None:
        return None
    if isinstance(o, (int, float, bool)):   # a Python number: a 0-d array on the inputs' backend
        o = full_like(inputs[0], o, (), get_aval(o).dtype)
    s = shape_of(o)
    return broadcast_in_dim(o, (size,) + s, tuple(range(1, len(s) + 1)))


def _custom_jvp_batch(vals, dims, *, fun, jvp):
    bfun = _vmapped(fun, dims)

    def bjvp(primals, tangents):
        n = len(primals)
        flat = _vmapped(lambda *a: (lambda o, t: list(o) + list(t))(*jvp(list(a[:n]), list(a[n:]))),
                        list(dims) + list(dims))(*primals, *tangents)
        half = len(flat) // 2
        return flat[:half], flat[half:]
    outs = custom_jvp_call_p.bind(*vals, fun=bfun, jvp=bjvp)
    return outs, [0] * len(outs)


def _call_avals(*avals, fun, **_):
    """Output avals of a call-like primitive: its function traced on abstract inputs.

    With this rule a graph capture (jit) stages the call itself, so a transform
    of the replayed graph still meets the user's rule."""
    g = GraphTrace(_current.get(), transform="custom rule")
    token = _current.set(g)
    try:
        outs = fun(*[g.new_var(a) for a in avals])
    finally:
        _current.reset(token)
    return [ShapedArray(a.shape, a.dtype) for a in map(get_aval, outs)]


AE[custom_jvp_call_p] = _call_avals
AE[custom_vjp_call_p] = _call_avals
JR[custom_jvp_call_p] = _custom_jvp_jvp
BR[custom_jvp_call_p] = _custom_jvp_batch

# ------------------------------------------------------------------ custom_vjp
custom_lin_p = Primitive("custom_lin", multiple_results=True)


def _custom_vjp_jvp(primals, tangents, *, fun, fwd, bwd):
    outs, res = fwd(*primals)
    outs = list(outs)
    tangents = [instantiate(t, p) for p, t in zip(primals, tangents)]
    touts = custom_lin_p.bind(*tangents, bwd=bwd, res=res, out_avals=tuple(get_aval(o) for o in outs),
                              in_avals=tuple(get_aval(p) for p in primals))
    return outs, touts


def _custom_lin_transpose(cts, *args, bwd, res, out_avals, in_avals):
    ref = next(c for c in cts if c is not None)
    cts = [c if c is not None else full_like(ref, 0, a.shape, a.dtype) for c, a in zip(cts, out_avals)]
    grads = bwd(res, cts)
    if len(grads) != len(args):
        raise TransformError(f"custom_vjp: the backward function returned {len(grads)} cotangent(s) but the "
                             f"function has {len(args)} input(s); return one per input (None for zero).")
    return list(grads)


def _custom_lin_no_forward(*args, **params):
    raise TransformError("custom_vjp: a function with a custom_vjp rule supports reverse mode only (grad, vjp, "
                         "jacrev); forward mode (jvp, jacfwd, linearize's jvp_fn) needs a custom_jvp rule.")


def _custom_vjp_batch(vals, dims, *, fun, fwd, bwd):
    bfun = _vmapped(fun, dims)

    def bfwd(*xs):
        n_out: Any = None       # both set by flat_fwd, which runs before they are read
        res_spec: Any = None

        def flat_fwd(*a):   # outputs, then the residuals' leaves
            nonlocal n_out, res_spec
            o, r = fwd(*a)
            r_leaves, res_spec = flatten(r)
            n_out = len(o)
            return list(o) + r_leaves
        flat = _vmapped(flat_fwd, dims)(*xs)
        return flat[:n_out], unflatten(res_spec, flat[n_out:])

    def bbwd(res, cts):
        r_leaves, res_spec = flatten(res)
        k = len(r_leaves)
        grads = _vmapped(lambda *a: list(bwd(unflatten(res_spec, list(a[:k])), list(a[k:]))),
                         [0] * (k + len(cts)))(*r_leaves, *cts)
        out: list = []
        for g, d in zip(grads, dims):
            if g is None:
                out.append(None)
            elif d is None:
                out.append(reduce_sum(g, (0,)))   # an unbatched input collects every element's cotangent
            else:
                out.append(moveaxis(g, 0, d))
        return out
    outs = custom_vjp_call_p.bind(*vals, fun=bfun, fwd=bfwd, bwd=bbwd)
    return outs, [0] * len(outs)


JR[custom_vjp_call_p] = _custom_vjp_jvp
BR[custom_vjp_call_p] = _custom_vjp_batch
AE[custom_lin_p] = lambda *avals, out_avals, **kw: list(out_avals)
TR[custom_lin_p] = _custom_lin_transpose
custom_lin_p.impl = _custom_lin_no_forward
JR[custom_lin_p] = lambda p, t, **kw: _custom_lin_no_forward()
BR[custom_lin_p] = lambda v, d, **kw: _custom_lin_no_forward()   # jacfwd batches it: same answer, no loop warning
