"""The CuPy backend (CUDA).  Its kernels come from the same factory as the
NumPy backend's, over the ``cupy`` module; cupy is imported on first use, and
any CUDA runtime error while probing means "not available here"."""
from __future__ import annotations

import sys

import numpy as np

from polyfunc.errors import BackendError, DTypeError
from polyfunc.plugin import Backend, ShapedArray

SUPPORTED_KINDS = "biufc"


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self, device: int | None = None):
        self._device_id = device
        self.device = f"cuda:{device}" if device is not None else None
        self._kernels = None
        self._rng = None

    def _cupy(self):
        import cupy
        return cupy

    # Backend declares version and kernels as plain attributes; here they are computed on first
    # use (cupy is imported only when the backend is used)
    @property
    def version(self):  # type: ignore[override]
        try:
            return self._cupy().__version__
        except Exception:
            return ""

    def is_available(self):
        try:
            cupy = self._cupy()
        except Exception as e:  # ImportError, or a CUDA library that fails to load
            return False, f"cupy cannot be imported ({type(e).__name__}: {e})"
        try:
            if not cupy.is_available():
                return False, "cupy is installed but finds no CUDA device"
            cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDARuntimeError and friends mean: not here
            return False, f"CUDA is not usable here ({type(e).__name__}: {e})"
        return True, ""

    @property
    def kernels(self):  # type: ignore[override]
        if self._kernels is None:
            from polyfunc_numpy.kernels import make_kernels
            self._kernels = make_kernels(self, self._cupy())
        return self._kernels

    batch_rules: dict = {}   # no CuPy-specific batching rule yet; the generic ones apply

    @property
    def rng(self):
        if self._rng is None:
            self._rng = self._cupy().random.default_rng(0)
        return self._rng

    def array_types(self):
        return (self._cupy().ndarray,)

    def owns_type(self, cls):
        # decide without importing cupy: only a class from cupy's own modules can be its array
        if not cls.__module__.startswith("cupy"):
            return False
        return issubclass(cls, self._cupy().ndarray)

    def aval(self, x):
        return ShapedArray(x.shape, np.dtype(x.dtype))

    def asarray(self, obj, dtype=None):
        cupy = self._cupy()
        with self._device_ctx():
            a = cupy.asarray(obj, dtype=dtype)
        if a.dtype.kind not in SUPPORTED_KINDS:
            raise DTypeError(f"dtype {a.dtype} is not supported by polyfunc (use bool, integer, floating or complex arrays)")
        return a

    def to_numpy(self, x):
        return self._cupy().asnumpy(x)

    def seed(self, n):
        self._rng = self._cupy().random.default_rng(n)

    def devices(self):
        try:
            return [f"cuda:{i}" for i in range(self._cupy().cuda.runtime.getDeviceCount())]
        except Exception:
            return []

    def with_device(self, device):
        name = device.lower()
        if name in ("cuda", "gpu"):
            return CupyBackend(0)
        if name.startswith("cuda:") and name[5:].isdigit():
            i = int(name[5:])
            if f"cuda:{i}" not in self.devices():
                raise BackendError(f"cupy has no device {device!r}; it sees {self.devices() or 'no CUDA devices'}.")
            return CupyBackend(i)
        raise BackendError(f"cupy runs on CUDA devices ('cupy:cuda:0', ...), not {device!r}.")

    def _device_ctx(self):
        import contextlib
        if self._device_id is None:
            return contextlib.nullcontext()
        return self._cupy().cuda.Device(self._device_id)

    def synchronize(self):
        if "cupy" in sys.modules:
            self._cupy().cuda.get_current_stream().synchronize()
