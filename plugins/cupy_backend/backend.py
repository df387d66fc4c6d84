"""The CuPy backend object."""
from polyfunc.backends import Backend


class CupyBackend(Backend):
    name = "cupy"

    def is_available(self):
        try:
            import cupy
        except Exception as e:  # ImportError, or a CUDA library that fails to load
            return False, f"cupy cannot be imported ({type(e).__name__}: {e})"
        try:
            if not cupy.is_available():
                return False, "cupy is installed but finds no CUDA device"
        except Exception as e:  # CUDARuntimeError and friends mean: not here
            return False, f"CUDA is not usable here ({type(e).__name__}: {e})"
        return False, "the cupy backend's kernels are not written yet"
