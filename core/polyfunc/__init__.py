"""polyfunc: composable function transforms over pluggable array backends.

>>> import polyfunc as pf, polyfunc.numpy as pnp
>>> float(pf.grad(lambda x: pnp.sin(x) * x)(pnp.asarray(0.0)))
0.0
"""
from . import ops  # noqa: F401  (fills the rule tables first)
from . import numpy  # noqa: F401  (installs the tracers' array methods; polyfunc.numpy is public)
from .api import (backward_pass, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize,
                  stop_gradient, vjp)
from .backends import Backend, current_backend, failed_plugins, get_backend, register_backend, use_backend
from .custom import custom_jvp, custom_vjp
from .errors import (BackendError, ConcretizationError, DTypeError, EscapedTracerError, KernelError,
                     MissingBatchRuleError, MissingKernelError, PolyfuncError, ShapeError, TransformError)
from .interpreters.batching import vmap_fallback
from .interpreters.graph import Graph
from .jit import jit, make_graph
from .primitive import Primitive, bind
from .trace import ShapedArray, Tracer
from .vmap import vmap
from . import random  # noqa: F401
from . import tree  # noqa: F401
from . import backends  # noqa: F401  (the module is callable: pf.backends() lists them)

__version__ = "0.1.0"

__all__ = [
    # transforms
    "grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap", "jit",
    "make_graph", "custom_jvp", "custom_vjp", "stop_gradient", "vmap_fallback",
    # backends
    "Backend", "current_backend", "get_backend", "use_backend", "register_backend", "failed_plugins",
    # the machinery users meet
    "Graph", "Primitive", "bind", "backward_pass", "ShapedArray", "Tracer",
    # errors
    "PolyfuncError", "BackendError", "MissingKernelError", "TransformError", "EscapedTracerError",
    "ConcretizationError", "ShapeError", "DTypeError", "MissingBatchRuleError", "KernelError",
]

# Submodules meant to be used as ``pf.<name>`` (``pf.backends()`` lists the backends).  They are
# not in __all__, so ``from polyfunc import *`` does not shadow the user's own numpy or random.
_PUBLIC_SUBMODULES = ["numpy", "random", "tree", "backends", "ops", "errors"]


def __dir__() -> list[str]:
    # the user namespace: the internal modules (api, trace, memo, hookspecs, interpreters, ...) stay
    # importable by path (polyfunc.trace.ShapedArray, polyfunc.hookspecs.hookimpl) but are not listed
    return sorted(__all__ + _PUBLIC_SUBMODULES + ["__version__"])
