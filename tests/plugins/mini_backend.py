"""A tiny third-party backend for the tests: its own array type, a few kernels."""
import numpy as np

from polyfunc.backends import Backend
from polyfunc.hookspecs import hookimpl
from polyfunc.trace import ShapedArray


class MiniArray:
    """An array type no other backend owns."""
    def __init__(self, data):
        self.data = np.asarray(data)


class MiniBackend(Backend):
    name = "mini"
    version = "0.0"

    def __init__(self):
        self.kernels = {
            "sin": lambda x: MiniArray(np.sin(x.data)),
            "add": lambda x, y: MiniArray(np.add(getattr(x, "data", x), getattr(y, "data", y))),
            "full_like": lambda like, *, fill_value, shape, dtype: MiniArray(np.full(shape, fill_value, dtype)),
        }

    def array_types(self):
        return (MiniArray,)

    def owns_type(self, cls):
        return issubclass(cls, MiniArray)

    def aval(self, x):
        return ShapedArray(x.data.shape, x.data.dtype)

    def asarray(self, obj, dtype=None):
        return obj if isinstance(obj, MiniArray) and dtype is None else MiniArray(np.asarray(getattr(obj, "data", obj), dtype))

    def to_numpy(self, x):
        return x.data


class UnavailableBackend(Backend):
    name = "needsgpu"

    def is_available(self):
        return False, "no GPU on this machine"


@hookimpl
def polyfunc_register_backends(register):
    register(MiniBackend())
    register(UnavailableBackend())
