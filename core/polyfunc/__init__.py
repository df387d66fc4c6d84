"""polyfunc: composable function transforms over pluggable array backends.

>>> import polyfunc as pf, polyfunc.numpy as pnp
>>> float(pf.grad(lambda x: pnp.sin(x) * x)(pnp.asarray(0.0)))
0.0
"""
from . import ops  # noqa: F401  (fills the rule tables first)
from .api import (backward_pass, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize,  # noqa: F401
                  stop_gradient, vjp)
from .backends import (Backend, current_backend, failed_plugins, get_backend,  # noqa: F401
                       register_backend, use_backend)
from .custom import custom_jvp, custom_vjp  # noqa: F401
from .errors import *  # noqa: F401,F403
from .interpreters.batching import vmap_fallback  # noqa: F401
from .interpreters.graph import Graph  # noqa: F401
from .jit import jit, make_graph  # noqa: F401
from .primitive import Primitive, bind  # noqa: F401
from .trace import ShapedArray, Tracer  # noqa: F401
from .vmap import vmap  # noqa: F401
from . import random  # noqa: F401
from . import tree  # noqa: F401
from . import backends  # noqa: F401  (the module is callable: pf.backends() lists them)

__version__ = "0.1.0"


def __getattr__(name):
    # polyfunc.numpy is imported on first use so `import polyfunc` stays light
    if name == "numpy":
        import importlib
        return importlib.import_module(".numpy", __name__)
    raise AttributeError(f"module 'polyfunc' has no attribute {name!r}")
