"""The NumPy backend object: dtypes, conversion, random state, kernels."""
from __future__ import annotations

import numpy as np

from polyfunc.errors import DTypeError
from polyfunc.plugin import Backend, ShapedArray

from .kernels import make_kernels
from .batching import batch_rules

SUPPORTED_KINDS = "biuf"


class NumpyBackend(Backend):
    name = "numpy"
    version = np.__version__

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.kernels = make_kernels(self, np)
        self.batch_rules = batch_rules

    def array_types(self):
        return (np.ndarray, np.generic)

    def owns_type(self, cls):
        return issubclass(cls, (np.ndarray, np.generic))

    def aval(self, x):
        return ShapedArray(x.shape, x.dtype)

    def asarray(self, obj, dtype=None):
        a = np.asarray(obj, dtype=dtype)
        if a.dtype.kind not in SUPPORTED_KINDS:
            raise DTypeError(f"dtype {a.dtype} is not supported by polyfunc (use bool, integer or "
                             f"floating arrays)")
        return a

    def to_numpy(self, x):
        return np.asarray(x)

    def seed(self, n):
        self.rng = np.random.default_rng(n)

    def rng_state(self):
        return self.rng.bit_generator.state

    def set_rng_state(self, state):
        self.rng.bit_generator.state = state
