"""A backend whose kernels break the contract: the wrong shape, the wrong dtype, another library's array."""
import numpy as np

from polyfunc.plugin import Backend, ShapedArray


class BadArray:
    def __init__(self, data):
        self.data = np.asarray(data)


class BadKernelsBackend(Backend):
    name = "badkernels"
    kernels = {
        "sin": lambda x: BadArray(np.sin(x.data).ravel()[:1]),            # wrong shape
        "exp": lambda x: BadArray(np.exp(x.data).astype(np.float32)),      # wrong dtype
        "cos": lambda x: np.cos(x.data),                                   # a NumPy array, not a BadArray
        "neg": lambda x: BadArray(-x.data),                                # right
    }

    def array_types(self):
        return (BadArray,)

    def owns_type(self, cls):
        return issubclass(cls, BadArray)

    def aval(self, x):
        return ShapedArray(x.data.shape, x.data.dtype)

    def asarray(self, obj, dtype=None):
        return BadArray(np.asarray(getattr(obj, "data", obj), dtype))

    def to_numpy(self, x):
        return x.data


def polyfunc_register_backends(register):
    register(BadKernelsBackend())
