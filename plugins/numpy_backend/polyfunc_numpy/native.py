"""The map from NumPy's functions and ufuncs to polyfunc.numpy, so plain
``np.sin(x)`` inside a transformed function binds polyfunc primitives."""
from __future__ import annotations

import numpy as np

# numpy name -> polyfunc.numpy name, where they differ
_RENAMES = {"absolute": "abs", "amax": "max", "amin": "min", "around": "round", "mod": "remainder",
            "concat": "concatenate", "permute_dims": "transpose", "pow": "power"}

_UFUNCS = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "negative", "positive",
           "power", "square", "sqrt", "reciprocal", "exp", "expm1", "exp2", "log", "log1p", "log2", "log10",
           "sin", "cos", "tan", "tanh", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "absolute",
           "sign", "floor", "ceil", "maximum", "minimum", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "logical_and", "logical_or", "logical_not", "logical_xor",
           "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "isnan", "matmul", "remainder", "mod",
           "logaddexp"]

_FUNCTIONS = ["sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "cumsum",
              "dot", "vdot", "tensordot", "einsum", "outer", "inner", "reshape", "ravel", "transpose",
              "moveaxis", "swapaxes", "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack",
              "split", "take", "flip", "roll", "tile", "repeat", "triu", "tril", "diag", "diagonal", "trace",
              "where", "clip", "round", "around", "abs", "zeros_like", "ones_like", "full_like", "shape",
              "ndim", "size", "hstack", "vstack", "broadcast_arrays", "atleast_1d", "atleast_2d", "sort", "argsort", "cumprod",
              "take_along_axis", "linalg.norm", "linalg.solve", "linalg.inv", "linalg.det", "linalg.slogdet",
              "linalg.cholesky"]


def register_all(register, xp=np):
    """Map ``xp``'s functions (NumPy's, or CuPy's, which mirror them) to polyfunc.numpy."""
    import polyfunc.numpy as pnp   # on registration: importing the plugin stays light
    for name in _UFUNCS + _FUNCTIONS:
        obj = xp
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        target = pnp
        for part in _RENAMES.get(name, name).split("."):
            target = getattr(target, part, None)
            if target is None:
                break
        if obj is not None and target is not None:
            register(obj, target)
