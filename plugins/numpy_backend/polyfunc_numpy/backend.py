"""The NumPy backend object: dtypes, conversion, random state, kernels."""
from __future__ import annotations

import numpy as np

from polyfunc.errors import DTypeError
from polyfunc.plugin import Backend, ShapedArray

from .kernels import make_kernels
from .batching import batch_rules

SUPPORTED_KINDS = "biufc"
# kernels that make arrays of a dtype named by a parameter (the others keep their inputs' dtypes)
_DTYPE_KERNELS = {"full_like": "dtype", "iota": "dtype", "eye": "dtype", "convert_element_type": "new_dtype",
                  "random_normal": "dtype", "random_uniform": "dtype", "random_randint": "dtype"}


def _no_bfloat16(dt) -> None:
    if dt.kind not in SUPPORTED_KINDS:
        raise DTypeError(f"dtype {dt} is not supported by polyfunc's NumPy backend"
                         + (" (NumPy has no bfloat16 of its own: use float16 or float32 here, or the torch backend, "
                            "where bfloat16 is supported: backend='torch')" if dt.name == "bfloat16" else ""))


def _checked(kernel, param):
    def k(*args, **params):
        _no_bfloat16(params[param])
        return kernel(*args, **params)
    return k


class NumpyBackend(Backend):
    name = "numpy"
    version = np.__version__

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.kernels = make_kernels(self, np)
        for name, param in _DTYPE_KERNELS.items():
            self.kernels[name] = _checked(self.kernels[name], param)
        self.batch_rules = batch_rules

    def array_types(self):
        return (np.ndarray, np.generic)

    def owns_type(self, cls):
        return issubclass(cls, (np.ndarray, np.generic))

    def aval(self, x):
        return ShapedArray(x.shape, x.dtype)

    def asarray(self, obj, dtype=None):
        a = np.asarray(obj, dtype=dtype)
        _no_bfloat16(a.dtype)
        return a

    def to_numpy(self, x):
        return np.asarray(x)

    def seed(self, n):
        self.rng = np.random.default_rng(n)

    def rng_state(self):
        return self.rng.bit_generator.state

    def set_rng_state(self, state):
        self.rng.bit_generator.state = state
