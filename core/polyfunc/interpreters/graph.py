"""Graph capture.  A GraphTrace records the primitives bound on its tracers
into a Graph; a primitive whose inputs hold none of its tracers is evaluated
on the parent right away (constant folding), unless it is effectful and the
trace stages effects (make_graph and jit do; linearisation does not), so a
random draw happens on every replay."""
from __future__ import annotations

from typing import Any

from ..avals import get_aval
from ..backends import backend_of
from ..registry import abstract_eval_rules
from ..trace import ShapedArray, Trace, Tracer
from .eval import _current

__all__ = ["Graph", "GraphTrace", "GraphTracer", "Eqn", "eval_graph", "plan_of"]


class GraphTracer(Tracer):
    __slots__ = ("_aval",)
    _trace: GraphTrace

    def __init__(self, trace, aval: ShapedArray):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self):
        return self._aval

    def _backend(self):
        return self._trace.backend


class Eqn:
    __slots__ = ("prim", "inputs", "params", "out")

    def __init__(self, prim, inputs, params, out):
        self.prim, self.inputs, self.params, self.out = prim, inputs, params, out


class GraphTrace(Trace):
    transform = "make_graph"
    parent: Trace               # a graph level always has the level below it (EVAL at the bottom)

    def __init__(self, parent, backend=None, stage_effects=False, transform="make_graph", like=None):
        self.parent = parent
        self._backend_obj = backend
        self._like = like            # a value whose backend is this graph's, resolved on demand
        self.stage_effects = stage_effects
        self.transform = transform
        self.eqns: list[Eqn] = []

    @property
    def backend(self):
        if self._backend_obj is None and self._like is not None:
            self._backend_obj = backend_of(self._like)
        return self._backend_obj

    def new_var(self, aval: ShapedArray) -> GraphTracer:
        # a variable is never weak (a Python scalar input becomes a typed variable)
        return GraphTracer(self, ShapedArray(aval.shape, aval.dtype) if aval.weak else aval)

    def process(self, prim, args, params):
        for a in args:
            if a.__class__ is GraphTracer and a._trace is self:
                break
        else:
            if not (self.stage_effects and prim.effectful):
                return self.parent.process(prim, args, params)
        rule = abstract_eval_rules.get(prim)
        if rule is None and prim.impl is not None:
            # call-like primitives are inlined: their body is recorded instead
            token = _current.set(self)
            try:
                return prim.impl(*args, **params)
            finally:
                _current.reset(token)
        if rule is None:
            raise NotImplementedError(f"`{self.transform}`: primitive {prim.name!r} has no abstract "
                                      f"evaluation rule, so it cannot be captured in a graph.")
        aval = rule(*[a._aval if a.__class__ is GraphTracer else get_aval(a) for a in args],
                    **params)                                   # shape logic only: binds nothing
        out: GraphTracer | list[GraphTracer]
        if prim.multiple_results:
            out = [GraphTracer(self, a) for a in aval]
        else:
            out = GraphTracer(self, aval)
        self.eqns.append(Eqn(prim, args, params, out))
        return out


class Graph:
    """A captured function: input variables, equations, output variables.

    Inputs of an equation that are not variables are constants (arrays of a
    backend, Python scalars, or values of an enclosing transform).
    """

    def __init__(self, invars: list, eqns: list[Eqn], outvars: list, backend: Any = None,
                 trace: GraphTrace | None = None) -> None:
        self.invars = invars
        self.eqns = eqns
        self.outvars = outvars
        self._trace = trace        # the GraphTrace whose tracers are this graph's variables
        self.backend = backend
        self._plan: Any = None      # the flat plan eval_graph runs, made on first use

    def __call__(self, *args: Any) -> list:
        return eval_graph(self, *args)

    def _pretty(self) -> str:
        names: dict[int, str] = {}
        consts: list = []

        def name(v):
            if isinstance(v, GraphTracer):
                if id(v) not in names:
                    names[id(v)] = _varname(len(names))
                return names[id(v)]
            if isinstance(v, (int, float, bool)):
                return repr(v)
            consts.append(v)
            return f"c{len(consts) - 1}:{get_aval(v).str_short()}"

        ins = ", ".join(f"{name(v)}:{v.aval.str_short()}" for v in self.invars)
        lines = [f"{{ lambda {ins} ."]
        for e in self.eqns:
            args = " ".join(name(a) for a in e.inputs)
            ps = ", ".join(f"{k}={_fmt(v)}" for k, v in e.params.items())
            outs_e = e.out if isinstance(e.out, list) else [e.out]
            lhs = " ".join(f"{name(o)}:{o.aval.str_short()}" for o in outs_e)
            lines.append(f"    {lhs} = {e.prim.name}"
                         f"{'[' + ps + ']' if ps else ''} {args}")
        outs = ", ".join(name(v) if isinstance(v, GraphTracer) else repr(v) for v in self.outvars)
        lines.append(f"  in ({outs}) }}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._pretty()

    __str__ = __repr__


def _fmt(v):
    if isinstance(v, type) or hasattr(v, "kind"):
        return str(v)
    if callable(v):
        return getattr(v, "__name__", "fn")
    return repr(v)


def _varname(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s


def _compile(graph: Graph):
    """Turn the graph into a flat plan of (prim, input slots, params, output slot)."""
    slot: dict[int, int] = {}
    for i, v in enumerate(graph.invars):
        slot[id(v)] = i
    n = len(graph.invars)
    consts: list = []
    plan: list[tuple[Any, tuple[int, ...], dict, int | tuple[int, ...]]] = []
    for e in graph.eqns:
        ins = []
        for a in e.inputs:
            if isinstance(a, GraphTracer) and id(a) in slot:
                ins.append(slot[id(a)])
            else:
                consts.append(a)
                ins.append(-len(consts))
        if e.prim.multiple_results:
            outs_e = tuple(range(n, n + len(e.out)))
            for v, k in zip(e.out, outs_e):
                slot[id(v)] = k
            plan.append((e.prim, tuple(ins), e.params, outs_e))
            n += len(e.out)
        else:
            slot[id(e.out)] = n
            plan.append((e.prim, tuple(ins), e.params, n))
            n += 1
    outs = []
    for v in graph.outvars:
        if isinstance(v, GraphTracer) and id(v) in slot:
            outs.append(slot[id(v)])
        else:
            consts.append(v)
            outs.append(-len(consts))
    return n, consts, plan, outs


def plan_of(graph: Graph):
    """The graph's flat plan (``_compile``), made once and kept on the graph."""
    if graph._plan is None:
        graph._plan = _compile(graph)
    return graph._plan


def eval_graph(graph: Graph, *args: Any) -> list:
    """Run ``graph`` on ``args`` through the current trace (kernels directly at top level)."""
    n, consts, plan, outs = plan_of(graph)
    env: list = list(args) + [None] * (n - len(args))
    trace = _current.get()
    for prim, ins, params, o in plan:
        vals = [env[i] if i >= 0 else consts[-i - 1] for i in ins]
        if o.__class__ is tuple:
            for k, r in zip(o, trace.process(prim, vals, params)):
                env[k] = r
        else:
            env[o] = trace.process(prim, vals, params)
    return [env[i] if i >= 0 else consts[-i - 1] for i in outs]
