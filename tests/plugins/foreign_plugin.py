"""A NumPy-based backend whose kernels return other things than its own arrays: a torch tensor
(another installed backend's array), a plain list, and a pair with one foreign half.  Without
POLYFUNC_CHECK_KERNELS the first call of each kernel still names the plugin as the culprit."""
import numpy as np

from polyfunc.plugin import Backend, ShapedArray


class ForeignArray:
    def __init__(self, data):
        self.data = np.asarray(data)


def _torch_sin(x):
    import torch
    return torch.from_numpy(np.sin(x.data))                  # torch's array, not a ForeignArray


def _slogdet(a):
    sign, logdet = np.linalg.slogdet(a.data)
    return ForeignArray(sign), logdet                        # the second result is a bare NumPy scalar


class ForeignBackend(Backend):
    name = "foreign"
    kernels = {
        "sin": _torch_sin,
        "cos": lambda x: np.cos(x.data).tolist(),             # a list
        "slogdet": _slogdet,
        "neg": lambda x: ForeignArray(-x.data),               # right
        "mul": lambda x, y: ForeignArray(getattr(x, "data", x) * getattr(y, "data", y)),   # right
        "exp": lambda x: ForeignArray(np.exp(x.data)),        # right
    }

    def array_types(self):
        return (ForeignArray,)

    def owns_type(self, cls):
        return issubclass(cls, ForeignArray)

    def aval(self, x):
        return ShapedArray(x.data.shape, x.data.dtype)

    def asarray(self, obj, dtype=None):
        return ForeignArray(np.asarray(getattr(obj, "data", obj), dtype))

    def to_numpy(self, x):
        return x.data


def polyfunc_register_backends(register):
    register(ForeignBackend())
