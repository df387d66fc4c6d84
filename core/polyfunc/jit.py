"""Graph capture (``make_graph``) and ``jit``: capture once per input
signature, then replay the graph without tracers."""
from __future__ import annotations

import warnings
from typing import Any, Callable, Generic, ParamSpec, Sequence, TypeVar, overload

from .avals import get_aval
from .backends import backend_of, graph_compiler
from .errors import TransformError
from .interpreters.eval import EVAL, current_trace, set_trace
from .interpreters.codegen import straight_line
from .interpreters.graph import Graph, GraphTrace, GraphTracer, eval_graph
from .scopes import call_in_scopes
from .trace import Tracer
from .tree import flatten, unflatten

__all__ = ["make_graph", "jit"]

P = ParamSpec("P")
R = TypeVar("R")


_PY_SCALARS = frozenset((bool, int, float, complex))
_SCALAR_RETRACE_WARNING = 32   # warn once a jitted function has retraced this often for scalar values


def _is_py_scalar(x) -> bool:
    return x.__class__ in _PY_SCALARS


def _scalar_key(x):
    """A cache key for a Python scalar that tells apart what == does not: 2 from 2.0 from True,
    -0.0 from 0.0, and finds NaN again (float('nan') != itself)."""
    if isinstance(x, float):
        return float, x.hex()
    if isinstance(x, complex):
        return complex, x.real.hex(), x.imag.hex()
    return type(x), x


def _capture(func, args, kwargs, transform, stage_effects):
    leaves, spec = flatten(args)
    # Python scalars are constants of the graph, not typed inputs: they stay weak (float32 * 2.0 is
    # float32, a torch tensor times 2.0 stays on torch), exactly as in eager mode
    arrays = [x for x in leaves if not _is_py_scalar(x)]
    backend = backend_of(*arrays) if arrays else None
    g = GraphTrace(current_trace(), backend=backend, stage_effects=stage_effects, transform=transform)
    invars = [g.new_var(get_aval(x)) for x in arrays]
    it = iter(invars)
    with set_trace(g):
        out = call_in_scopes(func, *unflatten(spec, [x if _is_py_scalar(x) else next(it) for x in leaves]), **kwargs)
    out_leaves, out_spec = flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tracer) and not _is_py_scalar(o) and not _is_array(o):
            raise TypeError(f"{transform}: the function returned a value of type {type(o).__module__}."
                            f"{type(o).__qualname__}, which is neither an array nor a pytree of arrays. Return "
                            f"arrays in tuples, lists, dicts or namedtuples, or register the type with "
                            f"polyfunc.tree.register_pytree_node.")
    return Graph(invars, g.eqns, out_leaves, backend=backend, trace=g), out_spec


def _is_array(x: Any) -> bool:
    try:
        get_aval(x)
    except TypeError:
        return False
    return True


def make_graph(func: Callable[P, Any]) -> Callable[P, Graph]:
    """``make_graph(f)(*args)`` returns the Graph of primitives ``f`` binds (printable).

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> print(pf.make_graph(lambda x: pnp.sin(x) * 2.0)(pnp.ones(3)))
    { lambda a:float64[3] .
        b:float64[3] = sin a
        c:float64[3] = mul b 2.0
      in (c) }
    """
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Graph:
        return _capture(func, args, kwargs, "make_graph", stage_effects=True)[0]
    return wrapped


class _Jitted(Generic[P, R]):
    def __init__(self, func: Callable[P, R], static_argnums: tuple[int, ...]) -> None:
        self.func = func
        self.static_argnums = static_argnums
        self.cache: dict = {}
        self.scalar_traces = 0     # captures made for a new value of a Python scalar argument
        self.__name__ = f"jit({getattr(func, '__name__', 'f')})"
        self.__doc__ = getattr(func, "__doc__", None)
        self.__wrapped__ = func

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        n = len(args)
        for i in self.static_argnums:
            if not -n <= i < n:
                raise TransformError(f"jit: static_argnums names argument {i}, but the function was called with "
                                     f"{n} positional argument(s); use an index in [{-n}, {n}).")
        static = tuple(sorted(i % n for i in self.static_argnums)) if self.static_argnums else ()
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, spec = flatten(dyn)
        if not _PY_SCALARS.isdisjoint(map(type, leaves)):
            # a Python scalar is traced as a constant, so the graph is specialised on its value
            scalars = tuple(_scalar_key(x) if _is_py_scalar(x) else None for x in leaves)
            leaves = [x for x in leaves if not _is_py_scalar(x)]
        else:
            scalars = None
        try:
            # values *and* types: 2, 2.0 and True are equal in Python but may trace differently
            key = (spec, scalars, tuple(get_aval(x) for x in leaves), backend_of(*leaves).name if leaves else None,
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
                return self.func(*full, **kwargs)  # type: ignore[arg-type]    # the caller's arguments, reassembled
            graph, out_spec = _capture(f, dyn, {}, "jit", stage_effects=True)
            # a value of an enclosing transform baked into the graph (an input of an equation or an
            # output) belongs to this call only: such a graph is used once and not cached
            baked = [a for e in graph.eqns for a in e.inputs] + list(graph.outvars)
            # (a graph variable of an enclosing jit counts too: it is an escaped tracer once that
            # jit returns, so a later call must retrace rather than replay it)
            cacheable = not any(isinstance(a, Tracer) and not (isinstance(a, GraphTracer) and a._trace is graph._trace)
                                for a in baked)
            runner = _compiled(graph)
            entry = (graph, out_spec, runner)
            if cacheable:
                self.cache[key] = entry
            if scalars is not None:
                self.scalar_traces += 1
                if self.scalar_traces == _SCALAR_RETRACE_WARNING:
                    warnings.warn(
                        f"{self.__name__} has traced {self.scalar_traces} times for new values of Python scalar "
                        f"arguments (each value is a constant of its graph). Pass a value that changes from call "
                        f"to call as an array (e.g. polyfunc.numpy.asarray(v, dtype=x.dtype) or a 0-d tensor) to "
                        f"trace once.", RuntimeWarning, stacklevel=2)
        graph, out_spec, runner = entry
        if current_trace() is EVAL and runner is not None:
            outs = runner(*leaves)
        else:
            outs = eval_graph(graph, *leaves)
        return unflatten(out_spec, outs)


def _compiled(graph: Graph) -> Callable | None:
    """A backend's own compiler for the graph, if a plugin offers one (the graph_compiler hook),
    else straight-line Python that calls the backend's kernels (codegen.py)."""
    if graph.backend is None:
        return None
    return graph_compiler(graph.backend, graph) or straight_line(graph)


@overload
def jit(func: Callable[P, R], *, static_argnums: int | Sequence[int] = ()) -> Callable[P, R]: ...
@overload
def jit(func: None = None, *, static_argnums: int | Sequence[int] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def jit(func: Callable[P, R] | None = None, *, static_argnums: int | Sequence[int] = ()) -> Any:
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
