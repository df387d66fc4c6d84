"""torch's autograd switches under polyfunc's transforms, with torch.func's meaning.

- Grad modes: ``torch.no_grad()``, ``inference_mode()``, ``enable_grad()`` and
  ``set_grad_enabled()`` are torch's thread-local grad mode; ``install`` makes it
  polyfunc's grad-mode source (``polyfunc.plugin.set_grad_mode_source``), so a region run
  with it off is constant to the autodiff transforms entered outside it, and each
  transform runs its own function with it on.
- ``torch.autograd.Function`` subclasses with ``setup_context`` become polyfunc custom
  rules: ``backward`` is the vjp (``pf.custom_vjp``); a Function with only ``jvp`` gets
  it as its forward rule (``pf.custom_jvp``).  ``Function.apply`` meets no tracer (it
  calls ``forward`` directly), so ``interception`` routes it here while a transform runs.
"""
from __future__ import annotations

from typing import Any

import torch

import polyfunc as pf
from polyfunc.plugin import Tracer, in_vmap, set_grad_mode_source

_Function = torch.autograd.Function


def install() -> None:
    """Make torch's grad mode the one polyfunc's autodiff transforms follow."""
    set_grad_mode_source(torch.is_grad_enabled, torch._C._set_grad_enabled)


# ------------------------------------------------------------------ autograd.Function
class FunctionCtx:
    """The ``ctx`` a Function's ``setup_context``, ``backward`` and ``jvp`` see.  A pytree
    (its tensors are leaves) so that polyfunc can keep it as the rule's residuals and batch it."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.non_differentiable: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        self.non_differentiable = tuple(id(o) for o in outputs)

    def mark_dirty(self, *tensors: Any) -> None:
        raise NotImplementedError("torch.autograd.Function: ctx.mark_dirty (an in-place forward) is not "
                                  "supported under polyfunc transforms; return a new tensor instead.")

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


def _is_array(x: Any) -> bool:
    return isinstance(x, (torch.Tensor, Tracer))


def _ctx_flatten(ctx: FunctionCtx):
    names = sorted(ctx.__dict__)
    arrays = [n for n in names if _is_array(ctx.__dict__[n])]
    static = {n: v for n, v in ctx.__dict__.items() if n not in arrays and n != "saved_tensors"}
    saved = ctx.saved_tensors
    kinds = tuple(_is_array(s) for s in saved)
    children = [ctx.__dict__[n] for n in arrays] + [s for s in saved if _is_array(s)]
    return children, (tuple(arrays), kinds, tuple(s for s in saved if not _is_array(s)), tuple(static.items()))


def _ctx_unflatten(aux, children) -> FunctionCtx:
    arrays, kinds, other_saved, static = aux
    ctx = FunctionCtx.__new__(FunctionCtx)
    ctx.__dict__.update(dict(static))
    children = list(children)
    for n in arrays:
        ctx.__dict__[n] = children.pop(0)
    rest = iter(other_saved)
    ctx.saved_tensors = tuple(children.pop(0) if k else next(rest) for k in kinds)
    return ctx


pf.tree.register_pytree_node(FunctionCtx, _ctx_flatten, _ctx_unflatten)


def _overrides(cls: type[_Function], name: str) -> bool:
    return getattr(cls, name) is not getattr(_Function, name)


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, tuple) else [out]


def apply(cls: type[_Function], *args: Any, **kwargs: Any) -> Any:
    """``cls.apply(*args)`` under polyfunc's transforms: the Function as a custom rule."""
    name = cls.__name__
    if kwargs:
        raise TypeError(f"torch.autograd.Function {name}.apply: pass its inputs positionally under polyfunc "
                        f"transforms (got keyword(s) {sorted(kwargs)}).")
    if not _overrides(cls, "setup_context"):
        raise RuntimeError(
            f"torch.autograd.Function {name}: under polyfunc transforms (as under torch.func's) a Function must "
            f"override the setup_context staticmethod, with a forward that takes no ctx: move the ctx work of "
            f"forward(ctx, ...) into setup_context(ctx, inputs, output).")
    if in_vmap() and not (_overrides(cls, "vmap") or getattr(cls, "generate_vmap_rule", False)):
        raise RuntimeError(
            f"torch.autograd.Function {name} under vmap: set generate_vmap_rule = True on the class, or "
            f"override its vmap staticmethod, as torch.func requires.")
    where = [i for i, a in enumerate(args) if _is_array(a)]
    needs = tuple(_is_array(a) for a in args)

    def full(xs):
        new = list(args)
        for i, x in zip(where, xs):
            new[i] = x
        return tuple(new)

    def forward_with_ctx(xs):
        inputs = full(xs)
        out = cls.forward(*inputs)
        ctx = FunctionCtx(needs)
        cls.setup_context(ctx, inputs, out)
        return out, ctx

    rule: pf.custom_vjp | pf.custom_jvp
    if _overrides(cls, "backward"):
        def bwd(ctx, ct):
            cts = _outputs(ct)
            outs = _outputs(ctx._out_ids) if hasattr(ctx, "_out_ids") else []
            if ctx.non_differentiable and outs:
                cts = [torch.zeros_like(c) if i in ctx.non_differentiable else c for c, i in zip(cts, outs)]
            grads = cls.backward(ctx, *cts)
            grads = _outputs(grads)
            if len(grads) != len(args):
                raise RuntimeError(f"torch.autograd.Function {name}.backward returned {len(grads)} gradient(s) "
                                   f"but forward takes {len(args)} input(s); return one per input (None for "
                                   f"inputs without a gradient).")
            return tuple(grads[i] for i in where)

        def fwd(*xs):
            out, ctx = forward_with_ctx(xs)
            if ctx.non_differentiable:
                ctx._out_ids = tuple(id(o) for o in _outputs(out))
            return out, ctx

        rule = pf.custom_vjp(lambda *xs: cls.forward(*full(xs)))
        rule.defvjp(fwd, bwd)
    elif _overrides(cls, "jvp"):
        rule = pf.custom_jvp(lambda *xs: cls.forward(*full(xs)))

        @rule.defjvp
        def _jvp(primals, tangents):
            out, ctx = forward_with_ctx(primals)
            tfull = [None] * len(args)
            for i, t in zip(where, tangents):
                tfull[i] = t
            return out, cls.jvp(ctx, *tfull)
    else:
        raise RuntimeError(f"torch.autograd.Function {name} defines neither backward nor jvp; define backward "
                           f"(reverse mode) or jvp (forward mode).")
    return rule(*[args[i] for i in where])
