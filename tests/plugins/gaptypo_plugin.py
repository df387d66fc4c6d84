"""A working backend whose conformance gaps mix real keys with typos: a primitive (``tanhh``), a
``check:primitive`` (``jvp:sinn``) and a test function (``test_reflected_operator``).  The typos are
reported when plugins load; the backend and the real gaps keep working."""
import numpy as np

from polyfunc.plugin import Backend, ShapedArray, hookimpl


class GapArray:
    def __init__(self, data):
        self.data = np.asarray(data)


class GapTypoBackend(Backend):
    name = "gaptypo"
    kernels = {
        "sin": lambda x: GapArray(np.sin(x.data)),
        "cos": lambda x: GapArray(np.cos(x.data)),
    }

    def array_types(self):
        return (GapArray,)

    def owns_type(self, cls):
        return issubclass(cls, GapArray)

    def aval(self, x):
        return ShapedArray(x.data.shape, x.data.dtype)

    def asarray(self, obj, dtype=None):
        return GapArray(np.asarray(getattr(obj, "data", obj), dtype))

    def to_numpy(self, x):
        return x.data


REAL = {"sin": "a real primitive", "jvp:cos": "a real check:primitive",
        "test_forward[cos-float32-0]": "one real test, by its id", "test_random_randint": "a real test function"}
TYPOS = {"tanhh": "typo of tanh", "jvp:sinn": "typo of jvp:sin", "test_reflected_operator": "typo of the test"}


@hookimpl
def polyfunc_register_backends(register):
    register(GapTypoBackend())


@hookimpl
def polyfunc_conformance_gaps(backend):
    if backend.name not in ("gaptypo", "gaptypo-late"):     # the second: a test registers it at run time
        return None
    return {**REAL, **TYPOS}
