"""The torch backend object (kernels land with the torch backend issue)."""
from polyfunc.backends import Backend


class TorchBackend(Backend):
    name = "torch"

    def is_available(self):
        return False, "the torch backend's kernels are not written yet (issue: the PyTorch backend)"
