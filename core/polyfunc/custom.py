"""User-defined derivative rules: ``custom_jvp`` and ``custom_vjp``."""
from __future__ import annotations

import functools
from typing import Any, Callable

from .api import match_aval
from .errors import TransformError
from .ops.custom import custom_jvp_call_p, custom_vjp_call_p
from .tree import flatten, unflatten


def _no_kwargs(kind: str, name: str, kwargs: dict) -> None:
    if kwargs:
        raise TransformError(f"{kind} function {name!r} takes positional arguments only, got keyword(s) "
                             f"{sorted(kwargs)}; pass them positionally or close over them (functools.partial).")


def _check_like(kind: str, name: str, what: str, got: Any, want: Any) -> None:
    """``got`` (a rule's output leaf) must have ``want``'s shape and dtype."""
    match_aval(got, want, f"{kind} rule of {name!r}: {what}", "the value it stands for")


__all__ = ["custom_jvp", "custom_vjp"]


def _flat_fun(f: Callable, spec: Any) -> tuple[Callable, list]:
    """``f`` over flat leaves (arguments of structure ``spec``) returning flat leaves; the list it
    returns receives the output's structure once ``fun`` has run (both custom rules need it)."""
    out_spec: list = []

    def fun(*xs: Any) -> list:
        lv, s = flatten(f(*unflatten(spec, list(xs))))
        out_spec[:] = [s]
        return lv
    return fun, out_spec


class custom_jvp:
    """A function with its own forward-mode rule (reverse mode follows from it).

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> @pf.custom_jvp
    ... def f(x):
    ...     return pnp.sin(x)
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), 2.0 * t          # a deliberately different rule
    >>> float(pf.grad(f)(pnp.asarray(0.3)))
    2.0
    """

    __name__: str

    def __init__(self, fun: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (out, tangent_out)``; returns it."""
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _no_kwargs("custom_jvp", self.__name__, kwargs)
        if self.jvp is None:
            raise TransformError(f"custom_jvp function {self.__name__!r} has no rule; define one with "
                                 f"@{self.__name__}.defjvp.")
        rule = self.jvp
        leaves, spec = flatten(args)
        fun, out_spec = _flat_fun(self.fun, spec)

        def jvp(primals: list, tangents: list) -> tuple[list, list]:
            res = rule(tuple(unflatten(spec, list(primals))), tuple(unflatten(spec, list(tangents))))
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                raise TransformError(f"custom_jvp rule of {self.__name__!r} must return a pair "
                                     f"(primal_out, tangent_out), got {type(res).__name__}.")
            out, tout = res
            lv, s = flatten(out)
            tl, ts = flatten(tout)
            if ts != s:
                raise TransformError(f"custom_jvp rule of {self.__name__!r}: the tangent has structure {ts} but "
                                     f"the output has structure {s}; return one tangent per output.")
            for t, o in zip(tl, lv):
                _check_like("custom_jvp", self.__name__, "a tangent", t, o)
            out_spec[:] = [s]
            return lv, tl
        outs = custom_jvp_call_p.bind(*leaves, fun=fun, jvp=jvp)
        return unflatten(out_spec[0], outs)


class custom_vjp:
    """A function with its own reverse-mode rule.

    ``defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)``,
    ``bwd(residuals, cotangent) -> tuple with one cotangent per argument``.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> @pf.custom_vjp
    ... def clip_grad(x):
    ...     return x
    >>> clip_grad.defvjp(lambda x: (x, None), lambda res, g: (pnp.clip(g, -1.0, 1.0),))
    >>> float(pf.grad(lambda x: 5.0 * clip_grad(x))(pnp.asarray(2.0)))
    1.0
    """

    __name__: str

    def __init__(self, fun: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set the forward pass ``fwd(*args) -> (out, residuals)`` and ``bwd(residuals, ct) -> cts``."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _no_kwargs("custom_vjp", self.__name__, kwargs)
        if self.fwd is None:
            raise TransformError(f"custom_vjp function {self.__name__!r} has no rule; define one with "
                                 f"{self.__name__}.defvjp(fwd, bwd).")
        forward, backward = self.fwd, self.bwd
        leaves, spec = flatten(args)
        fun, out_spec = _flat_fun(self.fun, spec)

        def fwd(*xs: Any) -> tuple[list, Any]:
            pair = forward(*unflatten(spec, list(xs)))
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                got = (f"a {type(pair).__name__} of length {len(pair)}" if isinstance(pair, (tuple, list))
                       else f"a value of type {type(pair).__name__}")
                raise TransformError(f"custom_vjp rule of {self.__name__!r}: fwd must return a pair (output, "
                                     f"residuals), but it returned {got}. Put several residuals in one "
                                     f"tuple: return out, (r1, r2).")
            out, res = pair
            lv, s = flatten(out)
            out_spec[:] = [s]
            return lv, res

        def bwd(res: Any, cts: list) -> list:
            assert backward is not None    # defvjp sets both
            ct = unflatten(out_spec[0], list(cts))
            grads = backward(res, ct)
            if not isinstance(grads, (tuple, list)) or len(grads) != len(args):
                got = f"{len(grads)} value(s)" if isinstance(grads, (tuple, list)) else type(grads).__name__
                raise TransformError(f"custom_vjp rule of {self.__name__!r}: bwd must return a tuple with one "
                                     f"cotangent per argument ({len(args)}), got {got}.")
            gl: list = []
            for k, (g, a) in enumerate(zip(grads, args)):
                sub, s = flatten(a)
                if g is None:
                    gl.extend([None] * len(sub))
                    continue
                gs, gspec = flatten(g)
                if gspec != s:
                    raise TransformError(f"custom_vjp rule of {self.__name__!r}: the cotangent for argument {k} "
                                         f"has structure {gspec}, the argument has {s}.")
                for gg, aa in zip(gs, sub):
                    _check_like("custom_vjp", self.__name__, f"the cotangent for argument {k}", gg, aa)
                gl.extend(gs)
            return gl
        outs = custom_vjp_call_p.bind(*leaves, fun=fun, fwd=fwd, bwd=bwd)
        return unflatten(out_spec[0], outs)
