"""polyfunc's PyTorch backend (CPU and CUDA).  torch is imported only when the backend is first used.

``functional_call`` and ``stack_module_state`` (torch.func's semantics, on polyfunc
transforms) are imported lazily from ``polyfunc_torch.modules``.
"""
from polyfunc.hookspecs import hookimpl

__all__ = ["functional_call", "stack_module_state", "TorchBackend"]


@hookimpl
def polyfunc_register_backends(register):
    from .backend import TorchBackend
    register(TorchBackend())


@hookimpl
def polyfunc_native_functions(register):
    import sys
    # the map is keyed by torch's own function objects; before torch is imported
    # no tensor (and so no torch function call on a tracer) can exist, so there
    # is nothing to map yet and importing torch here would make discovery slow.
    if "torch" not in sys.modules:
        _pending.append(register)
        return
    from .native import register_all
    register_all(register)


_pending: list = []


def _register_pending() -> None:
    """Fill the native map once torch is imported (called by the backend on first use)."""
    from .native import register_all
    while _pending:
        register_all(_pending.pop())


def __getattr__(name):
    if name in ("functional_call", "stack_module_state"):
        from . import modules
        return getattr(modules, name)
    if name == "TorchBackend":
        from .backend import TorchBackend
        return TorchBackend
    raise AttributeError(f"module 'polyfunc_torch' has no attribute {name!r}")
