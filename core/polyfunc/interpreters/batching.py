"""vmap's interpreter.  A BatchTracer holds a value and the position of its
batch dimension; a value without one is never wrapped.  A primitive whose
inputs carry no batch dimension of this trace goes to the parent untouched.
Random primitives are the exception: ``randomness`` decides what they do."""
from __future__ import annotations

import contextlib
import os
import warnings
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Literal

from ..avals import get_aval
from ..backends import backend_of
from ..errors import ConcretizationError, MissingBatchRuleError, TransformError
from ..registry import aval_of_type as _aval_of_type, batch_rule_names as _backend_rule_names, batch_rules, type_owner
from ..trace import ShapedArray, Trace, Tracer
from .eval import _current, inline

__all__ = ["BatchTrace", "BatchTracer", "ElementwiseBatchRule", "vmap_fallback", "register_loop_rule", "batch_call",
           "Randomness"]

Randomness = Literal["error", "different", "same"]


class ElementwiseBatchRule:
    """The batching rule of an elementwise primitive.  The batch trace recognises it: when
    every batched operand has the same batch dim and rank (or the other one is a Python
    scalar) the primitive maps itself, so the trace binds it on the values directly,
    skipping the rule call (the hot path of vmap)."""
    __slots__ = ("rule",)

    def __init__(self, rule: Callable) -> None:
        self.rule = rule

    def __call__(self, vals: Any, dims: Any, **params: Any) -> Any:
        return self.rule(vals, dims, **params)




class BatchTracer(Tracer):
    __slots__ = ("val", "bdim", "_aval")
    _wraps = "val"

    def __init__(self, trace: BatchTrace, val: Any, bdim: int) -> None:
        self._trace = trace
        self.val = val
        self.bdim = bdim
        self._aval: ShapedArray | None = None

    @property
    def aval(self):
        a = self._aval
        if a is None:                    # computed once: the value never changes
            val = self.val
            fn = _aval_of_type.get(val.__class__)
            v = fn(val) if fn is not None else get_aval(val)
            s, b = v.shape, self.bdim
            a = self._aval = ShapedArray(s[:b] + s[b + 1:], v.dtype)
        return a

    def concrete(self) -> Any:
        raise ConcretizationError(
            f"this value is batched by `{self._trace.transform}` (one value per batch element), "
            f"so Python control flow (if/while, bool(), float(), int(), .item()) cannot use it. "
            f"Use polyfunc.numpy.where(cond, a, b) to select per element instead.")

    def _backend(self) -> Any:
        return backend_of(self.val)


_fallback_mode: ContextVar[str | None] = ContextVar("polyfunc_vmap_fallback", default=None)
_warned: set = set()


@contextlib.contextmanager
def vmap_fallback(mode: Literal["warn", "error"]) -> Iterator[None]:
    """``with vmap_fallback("error"):`` makes a missing batching rule an error ('warn' to loop)."""
    if mode not in ("warn", "error"):
        raise ValueError(f"vmap_fallback mode must be 'warn' or 'error', not {mode!r}")
    token = _fallback_mode.set(mode)
    try:
        yield
    finally:
        _fallback_mode.reset(token)


def _fallback_is_error() -> bool:
    mode = _fallback_mode.get() or os.environ.get("POLYFUNC_VMAP_FALLBACK", "warn")
    return mode == "error"


class BatchTrace(Trace):
    transform = "vmap"
    parent: Trace

    def __init__(self, parent: Trace, axis_size: int, randomness: Randomness = "error", transform: str = "vmap") -> None:
        self.parent = parent
        self.axis_size = axis_size
        self.randomness = randomness
        self.transform = transform

    def process(self, prim: Any, args: Any, params: dict) -> Any:
        vals: Any      # declarations only: no code on the hot path
        dims: Any
        n = len(args)
        if n == 1 and not prim.random:          # the common unary case without the general loop
            a = args[0]
            if a.__class__ is not BatchTracer or a._trace is not self:
                return self.parent.process(prim, args, params)
            vals, dims = (a.val,), (a.bdim,)
        elif n == 2 and not prim.random:        # binary: unrolled
            a, b = args
            if a.__class__ is BatchTracer and a._trace is self:
                if b.__class__ is BatchTracer and b._trace is self:
                    vals, dims = (a.val, b.val), (a.bdim, b.bdim)
                else:
                    vals, dims = (a.val, b), (a.bdim, None)
            elif b.__class__ is BatchTracer and b._trace is self:
                vals, dims = (a, b.val), (None, b.bdim)
            else:
                return self.parent.process(prim, args, params)
        else:
            vals = []
            dims = []
            own = False
            for a in args:
                if a.__class__ is BatchTracer and a._trace is self:
                    vals.append(a.val)
                    dims.append(a.bdim)
                    own = True
                else:
                    vals.append(a)
                    dims.append(None)
            if prim.random:
                return self._random(prim, vals, dims, params)
            if not own:
                return self.parent.process(prim, args, params)
        rule = batch_rules.get(prim)
        if rule.__class__ is ElementwiseBatchRule and (n == 1 or n == 2 and _aligned(vals, dims)) \
                and prim.name not in _backend_rule_names:
            # an elementwise primitive on operands batched alike maps itself: bind it one level up
            return BatchTracer(self, self.parent.process(prim, vals, params), dims[0] if dims[0] is not None else dims[1])
        if rule is None and prim.impl is not None:
            return inline(self, prim, args, params)   # batch its body rather than loop
        if prim.name in _backend_rule_names:
            rule = _backend_rule(prim, vals) or rule      # a backend has its own rule for this one
        token = _current.set(self.parent)
        try:
            if rule is None:
                out, d = self._loop(prim, list(vals), list(dims), params)
            else:
                out, d = rule(vals, dims, **params)
        finally:
            _current.reset(token)
        if prim.multiple_results:
            return [o if k is None else BatchTracer(self, o, k) for o, k in zip(out, d)]
        if d is None:
            return out
        return BatchTracer(self, out, d)

    def _random(self, prim, vals, dims, params):
        if self.randomness == "error":
            raise TransformError(
                f"`{self.transform}`: random primitive {prim.name!r} was called under vmap with "
                f"randomness='error'. Pass randomness='different' (each batch element draws its own "
                f"numbers) or randomness='same' (one draw shared by the batch).")
        token = _current.set(self.parent)
        try:
            rule = batch_rules[prim]
            out, d = rule(vals, dims, axis_size=self.axis_size,
                          different=self.randomness == "different", **params)
        finally:
            _current.reset(token)
        return out if d is None else BatchTracer(self, out, d)

    def _loop(self, prim, vals, dims, params):
        if _fallback_is_error():
            raise MissingBatchRuleError(
                f"`{self.transform}`: primitive {prim.name!r} has no batching rule and the loop "
                f"fallback is off (POLYFUNC_VMAP_FALLBACK=error). Add a batching rule for it, or "
                f"allow the slow loop with polyfunc.vmap_fallback('warn').")
        if prim.name not in _warned:
            _warned.add(prim.name)
            warnings.warn(
                f"vmap: primitive {prim.name!r} has no batching rule; falling back to a Python "
                f"loop over the batch ({self.axis_size} calls), which is slow. Register a batching "
                f"rule for it (set POLYFUNC_VMAP_FALLBACK=error to make this an error).",
                RuntimeWarning, stacklevel=4)
        if _loop_rule is None:
            raise MissingBatchRuleError(f"`{self.transform}`: primitive {prim.name!r} has no batching rule and "
                                        f"no loop fallback is registered (polyfunc.ops registers it).")
        return _loop_rule(prim, vals, dims, params, self.axis_size)


# vmap's last resort, (prim, vals, dims, params, axis_size) -> (out, 0): one call per batch element,
# stacked.  It slices and stacks with primitives, so polyfunc.ops registers it (this module sits
# below ops and cannot import them).
_loop_rule: Callable | None = None


def register_loop_rule(rule: Callable) -> None:
    """Set the rule a primitive without a batching rule is batched with (a loop over the batch)."""
    global _loop_rule
    _loop_rule = rule


_SCALARS = (int, float, bool)


def _aligned(vals, dims) -> bool:
    """Two operands batched at the same dim with equal ranks, or one batched next to a Python scalar."""
    dx, dy = dims
    if dx == dy:
        x, y = vals
        return x.__class__ is y.__class__ and x.ndim == y.ndim if x.__class__ not in _SCALARS else False
    return (dy is None and vals[1].__class__ in _SCALARS) or (dx is None and vals[0].__class__ in _SCALARS)


# Tests turn backends' own batching rules off (polyfunc.testing.generic_batch_rules, or
# POLYFUNC_GENERIC_BATCH_RULES=1) so the core's generic rules are exercised on every backend:
# otherwise a rule that a plugin overrides runs only under nested transforms and can be wrong unseen.
_generic_only: ContextVar[bool] = ContextVar("polyfunc_generic_batch_rules",
                                             default=os.environ.get("POLYFUNC_GENERIC_BATCH_RULES", "") == "1")


@contextlib.contextmanager
def generic_batch_rules(on: bool = True) -> Iterator[None]:
    """``with generic_batch_rules():`` ignores backends' own batching rules (the core's run instead)."""
    token = _generic_only.set(bool(on))
    try:
        yield
    finally:
        _generic_only.reset(token)


def _backend_rule(prim, vals):
    """A backend's own batching rule, used when every input is a concrete array of it."""
    if _generic_only.get():
        return None
    owner = None
    for v in vals:
        if isinstance(v, Tracer):
            return None
        b = type_owner.get(v.__class__)
        if b is not None:
            owner = b
    if owner is None or not owner.batch_rules:
        return None
    return owner.batch_rules.get(prim.name)


def batch_call(fun: Callable, vals: list, dims: list, axis_size: int,
               transform: str = "vmap") -> tuple[list, list]:
    """``fun(*vals)`` (a flat list out) with each value at a dim of ``dims`` batched along it
    (None: not batched): the outputs and their batch dims, None for an output that is the
    same for every element (or is None).  The flat core of vmap, for rules that batch a
    user's function (custom_jvp, custom_vjp) without the user-level vmap."""
    trace = BatchTrace(_current.get(), axis_size, "error", transform)
    ins = [v if d is None else BatchTracer(trace, v, d) for v, d in zip(vals, dims)]
    token = _current.set(trace)
    try:
        outs = fun(*ins)
    finally:
        _current.reset(token)
    res: list = []
    out_dims: list[int | None] = []
    for o in outs:
        if o.__class__ is BatchTracer and o._trace is trace:
            res.append(o.val)
            out_dims.append(o.bdim)
        else:
            res.append(o)
            out_dims.append(None)
    return res, out_dims
