"""A working backend with typos: a kernel key that names no primitive, gap keys that match no
conformance test, and a misspelled hook (unmarked, so only the naming rule finds it)."""
import numpy as np

from polyfunc.plugin import Backend, ShapedArray, hookimpl


class TypoArray:
    def __init__(self, data):
        self.data = np.asarray(data)


class TypoBackend(Backend):
    name = "typo"
    kernels = {
        "sin": lambda x: TypoArray(np.sin(x.data)),
        "tanhh": lambda x: TypoArray(np.tanh(x.data)),
    }

    def array_types(self):
        return (TypoArray,)

    def owns_type(self, cls):
        return issubclass(cls, TypoArray)

    def aval(self, x):
        return ShapedArray(x.data.shape, x.data.dtype)

    def asarray(self, obj, dtype=None):
        return TypoArray(np.asarray(getattr(obj, "data", obj), dtype))

    def to_numpy(self, x):
        return x.data


@hookimpl
def polyfunc_register_backends(register):
    register(TypoBackend())


@hookimpl
def polyfunc_conformance_gaps(backend):
    if backend.name != "typo":
        return None
    return {"sin": "fine: a real case", "jpv:sin": "typo of jvp:sin", "test_forwrd": "typo of test_forward",
            "vmap:cos": "fine"}


def polyfunc_register_primitive(register):     # misspelled: the hook is polyfunc_register_primitives
    raise AssertionError("never called")
