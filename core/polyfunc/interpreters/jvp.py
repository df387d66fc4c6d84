"""Forward mode.  A JVPTracer carries a primal and a tangent; a tangent of
``None`` is a symbolic zero and is never materialised.  A primitive none of
whose inputs carries a tangent of this trace is handed to the parent as is."""
from __future__ import annotations

from typing import Any, Callable

from ..avals import get_aval
from ..backends import backend_of
from ..gradmode import differentiating
from ..registry import jvp_rules
from ..trace import Trace, Tracer
from .eval import _current, inline

__all__ = ["JVPTrace", "JVPTracer", "linear_jvp"]


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent", "_aval")
    _wraps = "primal"

    def __init__(self, trace, primal, tangent, aval=None):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._aval = aval

    @property
    def aval(self):
        a = self._aval
        if a is None:                    # computed once: the primal never changes
            a = self._aval = get_aval(self.primal)
        return a

    def concrete(self):
        p = self.primal
        return p.concrete() if isinstance(p, Tracer) else p

    def _backend(self) -> Any:
        return backend_of(self.primal)


def linear_jvp(prim: Any) -> Callable:
    """The jvp rule of a primitive that is linear in its one array input: apply it to the tangent."""
    return lambda primals, tangents, **kw: (prim.bind(primals[0], **kw), prim.bind(tangents[0], **kw))


class JVPTrace(Trace):
    transform = "jvp"
    grad_mode = False           # True: a reverse-mode level following a library's grad mode (gradmode)
    parent: Trace               # a jvp level always has the level below it (EVAL at the bottom)

    def __init__(self, parent, transform="jvp"):
        self.parent = parent
        self.transform = transform
        self.blocked = 0        # reverse levels entered inside this one with the grad mode off (gradmode)

    def process(self, prim, args, params):
        primals: tuple | list
        tangents: tuple | list
        if len(args) == 1:       # the common unary case without the general loop
            a = args[0]
            if a.__class__ is not JVPTracer or a._trace is not self:
                return self.parent.process(prim, args, params)
            primals, tangents = (a.primal,), (a.tangent,)
        elif len(args) == 2:     # binary: unrolled
            a, b = args
            if a.__class__ is JVPTracer and a._trace is self:
                if b.__class__ is JVPTracer and b._trace is self:
                    primals, tangents = (a.primal, b.primal), (a.tangent, b.tangent)
                else:
                    primals, tangents = (a.primal, b), (a.tangent, None)
            elif b.__class__ is JVPTracer and b._trace is self:
                primals, tangents = (a, b.primal), (None, b.tangent)
            else:
                return self.parent.process(prim, args, params)
        else:
            primals = []
            tangents = []
            own = False
            for a in args:
                if a.__class__ is JVPTracer and a._trace is self:
                    primals.append(a.primal)
                    tangents.append(a.tangent)
                    own = True
                else:
                    primals.append(a)
                    tangents.append(None)
            if not own:
                return self.parent.process(prim, args, params)
        if self.grad_mode and not differentiating(self):     # under torch.no_grad: a constant to this level
            return self.parent.process(prim, list(primals), params)
        rule = jvp_rules.get(prim)
        if rule is None and prim.impl is not None:
            return inline(self, prim, args, params)
        if rule is None:
            raise NotImplementedError(
                f"`{self.transform}`: primitive {prim.name!r} has no differentiation (jvp) rule; "
                f"wrap the computation in polyfunc.custom_jvp or add a rule to its ops module.")
        token = _current.set(self.parent)
        try:
            out, tout = rule(primals, tangents, **params)
        finally:
            _current.reset(token)
        if prim.multiple_results:
            return [o if t is None else JVPTracer(self, o, t) for o, t in zip(out, tout)]
        if tout is None:
            return out
        return JVPTracer(self, out, tout)
