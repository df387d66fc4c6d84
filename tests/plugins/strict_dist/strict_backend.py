"""polyfunc on array_api_strict, written as a third party would: the whole plugin."""
from polyfunc.plugin import ArrayAPIBackend


class StrictBackend(ArrayAPIBackend):
    name = "strict"
    module = "array_api_strict"


def polyfunc_register_backends(register):
    register(StrictBackend())


def polyfunc_conformance_gaps(backend):
    if backend.name != "strict":
        return None
    return {"test_reflected_operators": (
        "array_api_strict's operators raise TypeError for an operand that is neither its Array nor a Python "
        "scalar (instead of returning NotImplemented), so `W @ x` with W concrete and x traced cannot reach "
        "polyfunc: write pnp.matmul(W, x), or put the traced value first")}
