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


@hookimpl
def polyfunc_register_primitives(register):
    """A third-party primitive with all its rules, added through the hook."""
    from polyfunc.primitive import (Primitive, abstract_eval_rules, batch_rules, jvp_rules, primitives,
                                    transpose_rules)
    if "mini_triple" in primitives:
        register(primitives["mini_triple"])
        return
    from polyfunc import ops
    # impl: a definition through other primitives, so every backend can run it without a kernel
    p = Primitive("mini_triple", impl=lambda x: ops.mul(x, 3))
    abstract_eval_rules[p] = lambda x: x
    jvp_rules[p] = lambda primals, tangents: (p.bind(primals[0]), p.bind(tangents[0]))
    transpose_rules[p] = lambda ct, x: [p.bind(ct)]
    batch_rules[p] = lambda vals, dims: (p.bind(vals[0]), dims[0])
    register(p)
