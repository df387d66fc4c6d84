"""polyfunc's PyTorch backend (CPU and CUDA).  torch is imported only when the backend is first used."""
from polyfunc.hookspecs import hookimpl


@hookimpl
def polyfunc_register_backends(register):
    from .backend import TorchBackend
    register(TorchBackend())
