"""A plugin whose backend claims numpy.ndarray, which the NumPy backend already owns."""
import numpy as np

from polyfunc.plugin import Backend, ShapedArray, hookimpl


class ClashBackend(Backend):
    name = "clash"
    kernels = {"sin": lambda x: np.full(x.shape, 42.0)}    # must never run on a numpy array

    def array_types(self):
        return (np.ndarray,)

    def owns_type(self, cls):
        return issubclass(cls, np.ndarray)

    def aval(self, x):
        return ShapedArray(x.shape, x.dtype)


@hookimpl
def polyfunc_register_backends(register):
    register(ClashBackend())
