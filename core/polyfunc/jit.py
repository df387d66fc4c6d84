"""Graph capture (``make_graph``) and ``jit``: capture once per input
signature, then replay the graph without tracers."""
from __future__ import annotations

from typing import Any, Callable

from .avals import get_aval
from .backends import backend_of, plugin_manager
from .errors import TransformError
from .interpreters.eval import EVAL, current_trace, set_trace
from .interpreters.graph import Graph, GraphTrace, GraphTracer, eval_graph
from .scopes import call_in_scopes
from .trace import Tracer
from .tree import flatten, unflatten

__all__ = ["make_graph", "jit"]


def _capture(func, args, kwargs, transform, stage_effects):
    leaves, spec = flatten(args)
    backend = backend_of(*leaves) if leaves else None
    g = GraphTrace(current_trace(), backend=backend, stage_effects=stage_effects, transform=transform)
    invars = [g.new_var(get_aval(x)) for x in leaves]
    with set_trace(g):
        out = call_in_scopes(func, *unflatten(spec, invars), **kwargs)
    out_leaves, out_spec = flatten(out)
    return Graph(invars, g.eqns, out_leaves, backend=backend, trace=g), out_spec


def make_graph(func: Callable) -> Callable:
    """``make_graph(f)(*args)`` returns the Graph of primitives ``f`` binds (printable).

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> print(pf.make_graph(lambda x: pnp.sin(x) * 2.0)(pnp.ones(3)))
    { lambda a:float64[3] .
        b:float64[3] = sin a
        c:float64[3] = mul b 2.0
      in (c) }
    """
    def wrapped(*args, **kwargs):
        return _capture(func, args, kwargs, "make_graph", stage_effects=True)[0]
    return wrapped


class _Jitted:
    def __init__(self, func, static_argnums):
        self.func = func
        self.static_argnums = static_argnums
        self.cache: dict = {}
        self.__name__ = f"jit({getattr(func, '__name__', 'f')})"
        self.__doc__ = getattr(func, "__doc__", None)
        self.__wrapped__ = func

    def __call__(self, *args, **kwargs):
        n = len(args)
        for i in self.static_argnums:
            if not -n <= i < n:
                raise TransformError(f"jit: static_argnums names argument {i}, but the function was called with "
                                     f"{n} positional argument(s); use an index in [{-n}, {n}).")
        static = tuple(sorted(i % n for i in self.static_argnums)) if self.static_argnums else ()
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, spec = flatten(dyn)
        try:
            # values *and* types: 2, 2.0 and True are equal in Python but may trace differently
            key = (spec, tuple(get_aval(x) for x in leaves), backend_of(*leaves).name if leaves else None,
                   tuple((type(args[i]), args[i]) for i in static),
                   tuple((k, type(v), v) for k, v in sorted(kwargs.items())))
            hash(key)
        except TypeError as e:
            raise TransformError(f"jit: static arguments and keyword arguments must be hashable ({e}); "
                                 f"pass arrays positionally and list static ones in static_argnums.") from None
        entry = self.cache.get(key)
        if entry is None:
            def f(*dyn_args):
                it = iter(dyn_args)
                full = [args[i] if i in static else next(it) for i in range(n)]
                return self.func(*full, **kwargs)
            graph, out_spec = _capture(f, dyn, {}, "jit", stage_effects=True)
            # a value of an enclosing transform baked into the graph (an input of an equation or an
            # output) belongs to this call only: such a graph is used once and not cached
            baked = [a for e in graph.eqns for a in e.inputs] + list(graph.outvars)
            cacheable = not any(isinstance(a, Tracer) and not isinstance(a, GraphTracer) for a in baked)
            runner = _compiled(graph)
            entry = (graph, out_spec, runner)
            if cacheable:
                self.cache[key] = entry
        graph, out_spec, runner = entry
        if current_trace() is EVAL and runner is not None:
            outs = runner(*leaves)
        else:
            outs = eval_graph(graph, *leaves)
        return unflatten(out_spec, outs)


def _compiled(graph: Graph):
    """A backend's own compiler for the graph, if it offers one (the graph_compiler hook)."""
    if graph.backend is None:
        return None
    return plugin_manager().hook.polyfunc_graph_compiler(backend=graph.backend, graph=graph)


def jit(func: Callable | None = None, *, static_argnums=()) -> Any:
    """Capture ``func`` once per input signature and replay the captured graph.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> f = pf.jit(lambda x: (pnp.sin(x) ** 2).sum())
    >>> round(float(f(pnp.ones(3))), 4)
    2.1242
    """
    if func is None:
        return lambda f: jit(f, static_argnums=static_argnums)
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    return _Jitted(func, tuple(static_argnums))
