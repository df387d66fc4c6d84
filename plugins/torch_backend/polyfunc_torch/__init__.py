"""polyfunc's PyTorch backend (CPU and CUDA).  torch is imported only when the backend is first used.

Package map: ``backend`` (the Backend object), ``dtypes``, ``kernels`` (one torch kernel
per primitive), ``batching`` (torch batching rules), ``modules`` (``functional_call``,
``stack_module_state``); the torch map, by topic, each function registered beside its
definition with ``registry.implements``: ``elementwise``, ``reductions``, ``sorting``,
``shapes``, ``indexing``, ``linalg``, ``creation``, ``conversion``, ``random``,
``inplace``, ``nn/`` (``activations``, ``losses``, ``convolution`` (with pooling),
``resampling``, ``normalization``, ``attention``, ``recurrent``, ``embedding``,
``distances``), with ``arguments`` and ``promotion`` as their helpers and ``torch_map``
importing them all; ``compiler`` (jit's graphs through ``torch.compile``); ``interception`` (torch's random factories and mask helpers while a
transform runs).
"""
from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from typing import Any, Callable, ContextManager

from polyfunc.plugin import add_transform_scope, hookimpl

__all__ = ["functional_call", "stack_module_state", "replace_all_batch_norm_modules_", "functionalize",
           "debug_unwrap", "TorchBackend"]


@hookimpl
def polyfunc_register_backends(register):
    from .backend import TorchBackend
    register(TorchBackend())
    add_transform_scope(transform_scope)


@hookimpl
def polyfunc_native_functions(register):
    # the map is keyed by torch's own function objects; before torch is imported no tensor
    # (and so no torch function call on a tracer) can exist, and importing torch here would
    # make discovery slow: the backend installs the map on first use instead (backend.py)
    if "torch" in sys.modules:
        from .torch_map import register_all
        register_all(register)


@hookimpl
def polyfunc_graph_compiler(backend, graph):
    # jit's graphs go to torch.compile when POLYFUNC_TORCH_COMPILE asks for it (compiler.py)
    if backend.name != "torch" or not os.environ.get("POLYFUNC_TORCH_COMPILE"):
        return None
    from .compiler import compile_graph
    return compile_graph(backend, graph, os.environ["POLYFUNC_TORCH_COMPILE"])


_NULL = nullcontext()
_scope: list = []      # interception.SCOPE once torch is imported


def transform_scope() -> ContextManager[Any]:
    """The context around the user's code under vmap and jit (see ``interception``); nothing
    to do while torch is not imported."""
    if _scope:
        return _scope[0]
    if "torch" not in sys.modules:
        return _NULL
    from .interception import SCOPE
    _scope.append(SCOPE)
    return SCOPE


def __getattr__(name: str) -> Callable[..., Any] | type:
    if name in ("functional_call", "stack_module_state", "replace_all_batch_norm_modules_", "functionalize",
                "debug_unwrap"):
        from . import modules
        return getattr(modules, name)
    if name == "TorchBackend":
        from .backend import TorchBackend
        return TorchBackend
    raise AttributeError(f"module 'polyfunc_torch' has no attribute {name!r}")
