"""The map from NumPy's functions and ufuncs to polyfunc.numpy, so plain
``np.sin(x)`` inside a transformed function binds polyfunc primitives."""
from __future__ import annotations

import numpy as np

# numpy name -> polyfunc.numpy name, where they differ
_RENAMES = {"absolute": "abs", "amax": "max", "amin": "min", "around": "round", "mod": "remainder",
            "concat": "concatenate", "permute_dims": "transpose", "pow": "power"}

# submodules whose functions are mapped too (``np.linalg.solve`` -> ``polyfunc.numpy.linalg.solve``)
_SUBMODULES = ("linalg",)


def _pairs(xp_ns, pnp_ns):
    """(native, polyfunc) for every ufunc and public function of ``xp_ns`` that ``pnp_ns`` has
    under the same name (or its rename).  Types (dtypes, finfo) and the objects polyfunc.numpy
    takes from NumPy unchanged (issubdtype, ...) are not functions of arrays and are left out."""
    out = []
    for name in dir(xp_ns):
        if name.startswith("_"):
            continue
        obj = getattr(xp_ns, name, None)
        target = getattr(pnp_ns, _RENAMES.get(name, name), None)
        if obj is None or target is None or target is obj or isinstance(obj, type) or isinstance(target, type):
            continue
        if not callable(obj) or not callable(target):
            continue
        out.append((obj, target))
    return out


def mapped_pairs(xp=np):
    """Every (native function, polyfunc.numpy function) pair the plugin registers for ``xp``."""
    import polyfunc.numpy as pnp
    pairs = _pairs(xp, pnp)
    for sub in _SUBMODULES:
        xs, ps = getattr(xp, sub, None), getattr(pnp, sub, None)
        if xs is not None and ps is not None:
            pairs += _pairs(xs, ps)
    return pairs


def register_all(register, xp=np):
    """Map ``xp``'s functions and ufuncs (NumPy's, or CuPy's, which mirror them) to the
    polyfunc.numpy functions of the same name: every one polyfunc.numpy has is mapped."""
    for native, target in mapped_pairs(xp):
        register(native, target)
