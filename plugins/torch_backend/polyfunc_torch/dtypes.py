"""The map between polyfunc's dtypes (numpy dtypes) and torch's."""
from __future__ import annotations

import numpy as np
import torch

from polyfunc.errors import DTypeError

_PAIRS = [(np.bool_, torch.bool), (np.int8, torch.int8), (np.int16, torch.int16), (np.int32, torch.int32),
          (np.int64, torch.int64), (np.uint8, torch.uint8), (np.float16, torch.float16),
          (np.float32, torch.float32), (np.float64, torch.float64), (np.complex64, torch.complex64),
          (np.complex128, torch.complex128)]
for _n, _t in (("uint16", "uint16"), ("uint32", "uint32"), ("uint64", "uint64")):
    if hasattr(torch, _t):
        _PAIRS.append((getattr(np, _n), getattr(torch, _t)))

try:    # torch's bfloat16 has a NumPy dtype only through ml_dtypes (a dependency of polyfunc[torch])
    import ml_dtypes as _ml_dtypes
    _PAIRS.append((_ml_dtypes.bfloat16, torch.bfloat16))
except ImportError:
    pass
NP_TO_TORCH: dict = {np.dtype(n): t for n, t in _PAIRS}
TORCH_TO_NP: dict = {t: np.dtype(n) for n, t in _PAIRS}
# the kinds polyfunc supports on every backend (the NumPy backend's rule)
SUPPORTED_KINDS = "biufc"


def _unsupported(what) -> DTypeError:
    return DTypeError(
        f"dtype {what} has no polyfunc counterpart, so the torch backend cannot use it. Supported: "
        f"bool, int8/16/32/64, uint8 (and uint16/32/64 where torch has them), float16/32/64, "
        f"bfloat16 (with the ml_dtypes package installed), complex64/128; "
        f"convert first, e.g. x.to(torch.float32).")


def np_dtype_of_torch(td) -> np.dtype:
    """The numpy dtype of a torch dtype, or a DTypeError naming it."""
    nd = TORCH_TO_NP.get(td)
    if nd is None:
        raise _unsupported(td)
    return nd


def to_torch_dtype(dtype):
    """A torch dtype from a numpy dtype, a numpy type, a string or a torch dtype."""
    if isinstance(dtype, torch.dtype):
        np_dtype_of_torch(dtype)
        return dtype
    try:
        nd = np.dtype(dtype)
    except TypeError:
        raise _unsupported(repr(dtype)) from None
    td = NP_TO_TORCH.get(nd)
    if td is None or (nd.kind not in SUPPORTED_KINDS and td is not torch.bfloat16):
        raise _unsupported(nd)
    return td


def to_np_dtype(dtype) -> np.dtype:
    """A numpy dtype from a torch dtype or anything np.dtype accepts."""
    if isinstance(dtype, torch.dtype):
        return np_dtype_of_torch(dtype)
    return np.dtype(dtype)
