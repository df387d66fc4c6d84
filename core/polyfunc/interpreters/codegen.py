"""Straight-line Python for a captured graph: one line per equation that calls the backend's
kernel with its inputs and parameters, no tracers, no interpreter.

``jit`` replays a graph through ``eval_graph``, which asks for every equation which backend owns
its inputs and looks up that backend's kernel.  Inside one graph the answer never changes, so
this module asks once, when the graph is compiled, and writes the answers into the source of a
function::

    def run(a, b):
        c = k0(a, b, dimension_numbers=p0_0)
        del a, b
        d = k1(c)
        return [d]

Each variable is deleted after its last use, so a long graph holds only what it still needs
(``eval_graph`` keeps every intermediate until it returns).  An equation no kernel can run
directly (an input list of Python scalars only, a primitive without a kernel of this backend)
goes through the eval interpreter, as ``eval_graph`` would run it.  If the function raises, the
graph runs again through ``eval_graph``, whose error says what was wrong in polyfunc's words.
"""
from __future__ import annotations

import keyword
from typing import Any, Callable

from ..avals import get_aval
from ..errors import PolyfuncError
from ..kernel_check import unchecked
from ..trace import Tracer
from .eval import EVAL
from .graph import Graph, eval_graph, plan_of

__all__ = ["straight_line"]


def straight_line(graph: Graph, backend: Any = None) -> Callable[..., list] | None:
    """A Python function equivalent to ``eval_graph(graph, *args)`` at top level (no transform
    running) that calls ``backend``'s kernels directly; None when the graph holds values of an
    enclosing transform (it then runs once, through that transform) or has no backend."""
    backend = graph.backend if backend is None else backend
    if backend is None:
        return None
    n_in = len(graph.invars)
    n, consts, plan, outs = plan_of(graph)      # the interpreter's plan, shared
    if any(isinstance(c, Tracer) for c in consts):
        return None
    kernels = backend.kernels
    names = [f"v{i}" for i in range(n)]
    ns: dict[str, Any] = {"_eval": EVAL.process}
    for i, c in enumerate(consts):
        ns[f"c{i}"] = c

    def ref(i: int) -> str:
        return names[i] if i >= 0 else f"c{-i - 1}"

    last_use: dict[int, int] = {}
    for line, (_, ins, _, _) in enumerate(plan):
        for i in ins:
            if i >= 0:
                last_use[i] = line
    keep = {i for i in outs if i >= 0}
    for line, (_, _, _, o) in enumerate(plan):
        if not isinstance(o, tuple) and o not in last_use and o not in keep:
            last_use[o] = line           # computed for its effect only (a staged random draw)
    dead_after: dict[int, list[int]] = {}
    for i, line in last_use.items():
        if i not in keep:
            dead_after.setdefault(line, []).append(i)

    body: list[str] = []
    for line, (prim, ins, params, o) in enumerate(plan):
        args = ", ".join(ref(i) for i in ins)
        kernel = unchecked(kernels.get(prim.name))   # not the one-shot owner check of eager first calls
        direct = kernel is not None and all(k.isidentifier() and not keyword.iskeyword(k) for k in params) \
            and any(i >= 0 or _is_array(consts[-i - 1]) for i in ins)
        if direct:
            ns[f"k{line}"] = kernel
            kw = []
            for j, (k, v) in enumerate(params.items()):
                ns[f"p{line}_{j}"] = v
                kw.append(f"{k}=p{line}_{j}")
            call = f"k{line}({', '.join(filter(None, [args, ', '.join(kw)]))})"
        else:
            # no kernel (the primitive's own impl), scalars only, or parameter names Python cannot
            # spell as keywords: the eval interpreter decides, as it does in eval_graph
            ns[f"q{line}"], ns[f"p{line}"] = prim, params
            call = f"_eval(q{line}, [{args}], p{line})"
        if isinstance(o, tuple):      # only the results that are used are kept (slogdet's sign)
            body.append(f"r = {call}")
            body += [f"{names[k]} = r[{j}]" for j, k in enumerate(o) if k in last_use or k in keep]
        else:
            body.append(f"{names[o]} = {call}")
        dead = dead_after.get(line)
        if dead:
            body.append("del " + ", ".join(names[i] for i in sorted(dead)))
    body.append(f"return [{', '.join(ref(i) for i in outs)}]")
    params_src = ", ".join(names[:n_in])
    src = f"def run({params_src}):\n" + "".join(f"    {s}\n" for s in body)
    exec(compile(src, f"<polyfunc straight-line graph of {len(plan)} equations>", "exec"), ns)
    fn = ns["run"]

    def run(*args: Any) -> list:
        try:
            return fn(*args)
        except PolyfuncError:
            raise
        except Exception:
            # a kernel's own error: the interpreter runs the graph again and explains it
            return eval_graph(graph, *args)
    run.source = src   # type: ignore[attr-defined]
    run.__wrapped__ = fn   # type: ignore[attr-defined]    # the bare function (a compiler's input)
    return run


def _is_array(x: Any) -> bool:
    """Whether a constant is an array (a kernel takes it), not a Python scalar (a kernel may not)."""
    if isinstance(x, (bool, int, float, complex)):
        return False
    try:
        get_aval(x)
    except Exception:
        return False
    return True
